"""kit/grading: what crosses from the kernel to the judge is plain data under caps, and uploads give up only their notebook."""

import os
import pickle
import subprocess
import sys
import zipfile

import nbformat
import numpy as np
import pytest

from check_helpers import is_array, kinds
from kit.grading import exchange, judge, kernel_users, probe, runner, sandbox, submission
from kit.grading.standins import activations, decode, layers, remote
from kit.grading.standins.model import CALL_ROWS

ASSIGNMENT = "lstm_parameters"


def notebook_text(assignment=ASSIGNMENT):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    notebook.metadata["otter"] = {"assignment_name": assignment}
    return nbformat.writes(notebook)


def read_npy(path):
    with open(path, "rb") as handle:
        return exchange.read_plain_npy(handle)


def probe_in_kernel():
    """The probe as the runner loads it into a kernel: its source, with what it reads of each layer."""
    namespace = {}
    exec(runner.probe_loader(), namespace)
    return namespace["_kit_probe"]


def test_plain_arrays_are_read_and_pickles_refused(tmp_path):
    np.save(tmp_path / "plain.npy", np.arange(6, dtype="float32").reshape(2, 3))
    assert read_npy(tmp_path / "plain.npy").tolist() == [[0, 1, 2], [3, 4, 5]]
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(exchange.AnswerRefused, match="not plain numbers"):
        read_npy(tmp_path / "pickled.npy")
    np.save(tmp_path / "structured.npy", np.zeros(2, dtype=[("a", "i4"), ("b", "f4")]))
    with pytest.raises(exchange.AnswerRefused):
        read_npy(tmp_path / "structured.npy")
    for name, data in (("short.npy", (tmp_path / "plain.npy").read_bytes()[:-4]),
                       ("long.npy", (tmp_path / "plain.npy").read_bytes() + b"extra")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(exchange.AnswerRefused, match="size"):
            read_npy(tmp_path / name)


def test_answers_are_read_without_links_devices_or_excess(tmp_path):
    secret = tmp_path / "hidden_test.py"
    secret.write_text("def test_hidden(): ...")
    (tmp_path / "answer.json").symlink_to(secret)
    with pytest.raises(exchange.AnswerRefused):
        with exchange.open_regular(tmp_path / "answer.json", cap=1000):
            pass
    os.mkfifo(tmp_path / "pipe.npy")
    with pytest.raises(exchange.AnswerRefused, match="not a regular file"):
        with exchange.open_regular(tmp_path / "pipe.npy", cap=1000):
            pass
    (tmp_path / "big.json").write_text("0" * 2000)
    with pytest.raises(exchange.AnswerRefused, match="over the grader's cap"):
        with exchange.open_regular(tmp_path / "big.json", cap=1000):
            pass


def test_the_outbox_never_follows_a_link_the_kernel_plants(tmp_path):
    """The kernel owns its workspace: it renamed the judge's folder and put a link to a grader-side
    folder in its place, and the judge once wrote into that folder and removed a folder of it."""
    workspace, decoy = tmp_path / "workspace", tmp_path / "grader"
    workspace.mkdir()
    (decoy / "q0" / "sub").mkdir(parents=True)
    (decoy / "q0" / "secret").write_text("the grader's")
    with exchange.Outbox(workspace / ".judge", owner=None) as outbox:
        first = outbox.post("q0", {"request.json": lambda handle: handle.write(b"{}")})
        (workspace / ".judge").rename(workspace / "moved")  # what a thread in the kernel does
        (workspace / ".judge").symlink_to(decoy)
        (workspace / "moved" / "q0" / "answer.json").write_text('{"kind": "value", "value": 1}')
        with exchange.open_regular("answer.json", 1000, first.descriptor) as handle:
            assert handle.read() == b'{"kind": "value", "value": 1}'  # read from the folder the judge made
        (workspace / "moved" / "q0" / "link").symlink_to(decoy / "q0", target_is_directory=True)
        outbox.discard(first)
        second = outbox.post("q1", {"request.json": lambda handle: handle.write(b"{}")})
        outbox.discard(second)
    assert sorted(str(path.relative_to(decoy)) for path in decoy.rglob("*")) == ["q0", "q0/secret", "q0/sub"]
    assert not list((workspace / "moved").iterdir()), "each question's folder is removed once answered"


class RowsDecoder:
    """Answers RemoteArray's row questions from an array held here, counting the rows sent."""

    def __init__(self, array):
        self.array, self.rows_sent, self.largest = array, 0, 0

    def ask(self, request):
        rows = self.array[request["start"]:request["stop"]]
        self.rows_sent += len(rows)
        self.largest = max(self.largest, rows.nbytes)
        return rows


def test_a_big_array_is_read_by_rows_never_whole():
    array = np.random.default_rng(0).uniform(size=(300, 28, 28)).astype("float32")
    decoder = RowsDecoder(array)
    big = decode.kind_of(remote.RemoteArray, ["ndarray"])(decoder, 0, array.shape, array.dtype)
    big.CHUNK_BYTES = 100 * 28 * 28 * 4
    assert is_array(big) and len(big) == 300
    assert big.min() == array.min() and big.max() == array.max()
    assert np.array_equal(big[10:20], array[10:20]) and np.array_equal(big[-1, 3], array[-1, 3])
    assert decoder.largest <= big.CHUNK_BYTES
    with pytest.raises(TypeError, match="by rows"):
        big[array > 0.5]


def test_deeply_nested_answers_are_refused():
    nested = []
    for _ in range(exchange.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(exchange.AnswerRefused, match="nested"):
        exchange.check_depth(nested)


def test_an_export_zip_gives_only_its_notebook(tmp_path):
    upload = tmp_path / "export.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr(f"{ASSIGNMENT}.ipynb", notebook_text())
        archive.writestr("data/mnist.npz", "forged")
        archive.writestr(".OTTER_LOG", pickle.dumps(print))
    notebook = submission.read_notebook(upload, ASSIGNMENT)
    assert [cell.source for cell in notebook.cells] == ["x = 1"]


def test_a_zip_bomb_is_not_unpacked(tmp_path):
    upload = tmp_path / "bomb.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{ASSIGNMENT}.ipynb", b"{" + b" " * (submission.MAX_NOTEBOOK_BYTES + 10))
    assert upload.stat().st_size < 200_000
    with pytest.raises(submission.SubmissionError, match="FileTooLarge"):
        submission.read_notebook(upload, ASSIGNMENT)


def test_bad_uploads_say_what_is_wrong_without_quoting_them(tmp_path):
    (tmp_path / "secret.ipynb").write_text("assert hidden_value == 42")
    with pytest.raises(submission.SubmissionError, match="NotJSONError") as caught:
        submission.read_notebook(tmp_path / "secret.ipynb", ASSIGNMENT)
    assert "hidden_value" not in str(caught.value)
    folder = tmp_path / "unpacked"
    folder.mkdir()
    (folder / "notebook.ipynb").symlink_to(tmp_path / "secret.ipynb")
    with pytest.raises(submission.SubmissionError, match="cannot open"):
        submission.read_notebook(folder, ASSIGNMENT)
    (tmp_path / "other.ipynb").write_text(notebook_text("sequential_mnist"))
    with pytest.raises(submission.SubmissionError, match="Received submission for assignment 'sequential_mnist'"):
        submission.read_notebook(tmp_path / "other.ipynb", ASSIGNMENT)


def test_failure_messages_never_quote_the_tests():
    source = "def test_hidden(x):\n    assert x == secret_expected_value_123, 'x is wrong'\n"
    try:
        raise AssertionError("x is wrong")
    except AssertionError as error:
        assert judge.withhold_test_source(judge.failure_message(error), source) == "x is wrong"
    quoting = exchange.StudentError("ValueError: assert x == secret_expected_value_123, 'x is wrong'")
    assert "secret" not in judge.withhold_test_source(judge.failure_message(quoting), source)
    assert len(judge.failure_message(RuntimeError("y" * 5000))) <= judge.MESSAGE_CHARACTERS


def test_activations_are_recognised_by_what_they_compute():
    numbers = probe.ACTIVATION_PROBE.astype(np.float64)
    assert activations.identify_activation(np.tanh(numbers)) is np.tanh
    assert activations.identify_activation(activations.softmax(numbers)) is activations.softmax
    assert activations.identify_activation(numbers ** 3) is None


def test_an_unknown_activation_is_refused_with_every_known_one_named():
    layer = decode.kind_of(layers.LayerStandIn, ["Dense", "Layer"])()
    layer.name, layer.weights, layer.functions = "dense", [np.ones((2, 1), np.float32)], {"activation": None}
    with pytest.raises(layers.UnsupportedLayer) as refused:
        layer.forward(np.ones((1, 2), np.float32))
    assert all(name in str(refused.value) for name in activations.KNOWN_ACTIVATIONS), refused.value


def test_the_tests_import_from_the_release_folder_only_while_they_run(tmp_path):
    (tmp_path / "kit_test_helper_module.py").write_text("ANSWER = 42\n")
    with judge.importable(tmp_path):
        from kit_test_helper_module import ANSWER
    assert ANSWER == 42
    assert "kit_test_helper_module" not in sys.modules and str(tmp_path) not in sys.path


@pytest.mark.skipif(os.geteuid() != 0, reason="a separate kernel user needs root")
def test_a_sweep_ends_every_process_of_the_kernel_user():
    uid = kernel_users.KERNEL_UIDS[-1]
    daemon = subprocess.Popen(["sleep", "300"], user=uid, group=uid, start_new_session=True)
    assert kernel_users.processes_of(uid)
    kernel_users.sweep_user(uid)
    daemon.wait(timeout=10)
    assert not kernel_users.processes_of(uid)


def test_sizes_read_as_instructors_write_them():
    assert sandbox.parse_size("768M") == 768 * 2**20
    assert sandbox.parse_size("1.5G") == int(1.5 * 2**30)
    assert sandbox.parse_size("2048") == 2048 * 2**20


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_layers_run_in_numpy_as_in_keras(tmp_path, kind, return_sequences):
    """The judge runs a student's recurrent layer from its weights: SimpleRNN and GRU too, since a
    build_model slip that picks one must not cost the accuracy test as well."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6, 4)), getattr(keras.layers, kind)(5, return_sequences=return_sequences)])
    tree = probe_in_kernel()._Writer(str(tmp_path)).encode(model)
    stand_in = decode.Decoder(None).decode(tree, lambda name: read_npy(tmp_path / name))
    inputs = np.random.default_rng(4).uniform(-1, 1, size=(3, 6, 4)).astype("float32")
    np.testing.assert_allclose(stand_in(inputs), np.asarray(model(inputs)), atol=1e-5)


def test_a_model_runs_on_many_inputs_a_chunk_at_a_time_with_the_same_result(tmp_path):
    """The judge runs 12,000 held-out images through a model: in chunks, so that its memory does not grow
    with them, and with the outputs a single pass would give."""
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((6, 4)), keras.layers.LSTM(5), keras.layers.Dense(3, activation="softmax")])
    stand_in = decode.Decoder(None).decode(probe_in_kernel()._Writer(str(tmp_path)).encode(model),
                                            lambda name: read_npy(tmp_path / name))
    inputs = np.random.default_rng(6).uniform(-1, 1, size=(CALL_ROWS * 2 + 7, 6, 4)).astype("float32")
    chunked = stand_in(inputs)
    assert chunked.shape == (len(inputs), 3)
    np.testing.assert_allclose(chunked, stand_in.forward(inputs), atol=1e-6)
    np.testing.assert_allclose(chunked[:50], np.asarray(model(inputs[:50])), atol=1e-5)


def test_every_kind_of_layer_in_the_table_runs_in_numpy_as_in_keras(tmp_path):
    """A model with a layer of each kind the judge runs (standins/layers.py's LAYERS) gives Keras' outputs,
    its activations (hard_sigmoid, sigmoid, relu) known by what they compute."""
    import keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input((6, 4))
    outputs = inputs
    for layer in (keras.layers.GRU(5, return_sequences=True), keras.layers.Dropout(0.5),
                  keras.layers.SimpleRNN(4, return_sequences=True, activation="hard_sigmoid"), keras.layers.LSTM(3),
                  keras.layers.Dense(3, activation="sigmoid"), keras.layers.Activation("relu"), keras.layers.Softmax()):
        outputs = layer(outputs)
    model = keras.Model(inputs, outputs)
    stand_in = decode.Decoder(None).decode(probe_in_kernel()._Writer(str(tmp_path)).encode(model),
                                            lambda name: read_npy(tmp_path / name))
    assert set(layers.LAYERS) <= set().union(*(kinds(layer) for layer in stand_in.layers))
    images = np.random.default_rng(8).uniform(-1, 1, size=(3, 6, 4)).astype("float32")
    np.testing.assert_allclose(stand_in(images), np.asarray(model(images)), atol=1e-5)
