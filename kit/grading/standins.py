"""Plain-data stand-ins for the notebook's objects, built by the judge from the kernel's answers.

Hidden tests run against these as they would against the real objects: a model has `layers`,
`input_shape`, `output_shape`, `count_params()`, `get_weights()`, `optimizer.iterations`, and
calling it runs its layers in NumPy from its weights; a history has `history`, `params` and
`model`; a student function is a `RemoteFunction` that runs in the kernel on the judge's
arguments. Each stand-in's type carries the names of the Keras classes of what it stands for, so
`{cls.__name__ for cls in type(x).__mro__}` reads the same in the notebook and in the judge.
Nothing here trusts a method of the student's objects: shapes, counts and outputs are computed
from the weights and layer settings the kernel reported.
"""

import functools

import numpy as np

from .exchange import AnswerRefused, StudentError
from .probe import ACTIVATION_PROBE


class UnsupportedLayer(TypeError):
    """The model holds a layer the judge cannot run from its weights."""


class Decoder:
    """Turns answer trees into Python values and stand-ins; one per grading, so that `is` holds."""

    def __init__(self, exchange):
        self.exchange = exchange
        self.models = {}

    def fetch(self, name):
        """The notebook's final value of a global name, or None when it was never defined."""
        return self.ask({"op": "global", "name": name})

    def ask(self, request, arrays=()):
        """Ask the kernel and decode its answer; its files go once read."""
        tree, question = self.exchange.ask(request, arrays)
        try:
            return self.decode(tree, self.exchange.array_reader(question))
        finally:
            self.exchange.discard(question)

    def decode(self, tree, arrays):
        if not isinstance(tree, dict) or not isinstance(tree.get("kind"), str):
            raise AnswerRefused("malformed answer")
        kind = tree["kind"]
        if kind == "value" and (tree["value"] is None or type(tree["value"]) in (bool, int, str)):
            return tree["value"]
        if kind == "float":
            return float(tree["value"])
        if kind == "scalar" and type(tree["value"]) in (bool, int, float):
            return plain_dtype(tree["dtype"]).type(tree["value"])
        if kind == "array":
            return arrays(tree["file"])
        if kind == "big_array":
            return kind_of(RemoteArray, tree["classes"])(self, int(tree["handle"]), shape_or_none(tree["shape"]),
                                                          plain_dtype(tree["dtype"]))
        if kind in ("tuple", "list"):
            items = [self.decode(item, arrays) for item in tree["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {str(key): self.decode(value, arrays) for key, value in tree["items"]}
        if kind == "ellipsis":
            return Ellipsis
        if kind == "missing":
            return None
        if kind == "function":
            return RemoteFunction(self, int(tree["handle"]), str(tree.get("name", "function")))
        if kind == "model":
            return self.model(tree, arrays)
        if kind == "history":
            history = kind_of(HistoryStandIn, tree["classes"])()
            history.history = self.decode(tree["history"], arrays)
            history.params = self.decode(tree["params"], arrays)
            history.model = self.decode(tree["model"], arrays)
            return history
        if kind == "object":
            return Opaque(str(tree.get("type", "object")))
        if kind == "raised":
            raise StudentError(f"{str(tree.get('type'))[:80]}: {str(tree.get('message'))[:300]}")
        raise AnswerRefused(f"unknown kind of answer {kind!r}")

    def model(self, tree, arrays):
        handle = int(tree["handle"])
        if handle not in self.models:
            model = kind_of(ModelStandIn, tree["classes"])()
            model.input_shape = shape_or_none(tree.get("input_shape"))
            model.output_shape = shape_or_none(tree.get("output_shape"))
            model.layers = [self.layer(layer, arrays) for layer in tree["layers"]]
            model.optimizer = None
            if tree.get("optimizer"):
                model.optimizer = kind_of(OptimizerStandIn, tree["optimizer"]["classes"])()
                model.optimizer.iterations = int(tree["optimizer"]["iterations"])
            model.handle, model.decoder = handle, self
            self.models[handle] = model
        return self.models[handle]

    def layer(self, tree, arrays):
        layer = kind_of(LayerStandIn, tree["classes"])()
        layer.name = str(tree.get("name", ""))
        for key, value in tree.get("settings", {}).items():
            if type(value) in (bool, int, float) or value is None:
                setattr(layer, key, value)
        layer.weights = [arrays(item["file"]) for item in tree["weights"]]
        layer.functions = {name: identify_activation(np.asarray(arrays(item["file"])))
                           for name, item in tree.get("functions", {}).items() if item.get("kind") == "array"}
        return layer


def plain_dtype(text):
    dtype = np.dtype(str(text))
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise AnswerRefused(f"{dtype} is not a plain number type")
    return dtype


def shape_or_none(value):
    if not isinstance(value, list):
        return None
    return tuple(None if size is None else int(size) for size in value)


def kind_of(base, names):
    """A subclass of base whose class chain carries the Keras class names the kernel reported."""
    if not isinstance(names, list) or len(names) > 30:
        raise AnswerRefused("malformed class names")
    return class_chain(base, tuple(str(name)[:100] for name in names))


@functools.lru_cache(maxsize=None)
def class_chain(base, names):
    cls = base
    for name in reversed(names):
        cls = type(name, (cls,), {"__module__": "stand-in"})
    return cls


class Opaque:
    """A value the judge does not read (a string of its type only)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} from the notebook>"


class RemoteFunction:
    """A student function: each call runs it in the kernel on the judge's arguments."""

    def __init__(self, decoder, handle, name):
        self.decoder, self.handle, self.__name__ = decoder, handle, name

    def __call__(self, *args):
        arrays = []
        request = {"op": "call", "handle": self.handle, "args": [encode_argument(value, arrays) for value in args]}
        return self.decoder.ask(request, arrays)

    def __repr__(self):
        return f"<function {self.__name__} from the notebook>"


def encode_argument(value, arrays):
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"kind": "tuple", "items": [encode_argument(item, arrays) for item in value]}
    if isinstance(value, list):
        return [encode_argument(item, arrays) for item in value]
    if isinstance(value, np.ndarray):
        name = f"arg{len(arrays)}.npy"
        arrays.append((name, value))
        return {"kind": "array", "file": name}
    raise TypeError(f"the judge cannot send a {type(value).__name__} to the kernel")


class RemoteArray:
    """A big array that stays in the kernel: shape and dtype known, rows read a chunk at a time.

    It answers what tests ask of the training images: `shape`, `dtype`, `len()`, `min()`,
    `max()` and row slices `x[start:stop]` (returned as NumPy arrays); a whole copy is never made.
    """

    CHUNK_BYTES = 16 * 2**20

    def __init__(self, decoder, handle, shape, dtype):
        self.decoder, self.handle, self.shape, self.dtype = decoder, handle, shape, dtype
        if not shape or None in shape:
            raise AnswerRefused("a big array needs a full shape")
        self.ndim = len(shape)
        self.size = int(np.prod(shape, dtype=np.int64))
        self.range = None

    def __len__(self):
        return self.shape[0]

    def rows(self, start, stop):
        request = {"op": "rows", "handle": self.handle, "start": start, "stop": stop}
        rows = self.decoder.ask(request)
        expected = (max(0, min(stop, len(self)) - start), *self.shape[1:])
        if not isinstance(rows, np.ndarray) or rows.shape != expected or rows.dtype != self.dtype:
            raise AnswerRefused("the kernel's rows do not match the array it described")
        return rows

    def chunks(self):
        row_bytes = self.size // len(self) * self.dtype.itemsize
        step = max(1, self.CHUNK_BYTES // max(1, row_bytes))
        for start in range(0, len(self), step):
            yield self.rows(start, start + step)

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, slice) and first.step in (None, 1):
            start, stop, _ = first.indices(len(self))
            rows = self.rows(start, max(start, stop))
        elif isinstance(first, (int, np.integer)):
            index = range(len(self))[first]
            rows = self.rows(index, index + 1)[0]
        else:
            raise TypeError("the grader reads a big array by rows: index it with an int or a slice")
        return rows[rest] if rest else rows

    def min(self):
        return self.value_range()[0]

    def max(self):
        return self.value_range()[1]

    def value_range(self):
        if self.range is None:
            lows, highs = zip(*((chunk.min(), chunk.max()) for chunk in self.chunks()))
            self.range = (min(lows), max(highs))
        return self.range

    def __repr__(self):
        return f"<array {self.shape} of {self.dtype} in the notebook's kernel>"


class LayerStandIn:
    """A layer: its settings (units, return_sequences, ...), weights, and activation functions by behaviour."""

    units = None
    return_sequences = False
    go_backwards = False
    use_bias = True

    def get_weights(self):
        return list(self.weights)

    def count_params(self):
        return sum(int(np.prod(weights.shape)) for weights in self.weights)

    def forward(self, inputs):
        names = {cls.__name__ for cls in type(self).__mro__}
        if "InputLayer" in names or "Dropout" in names:
            return inputs
        for kind, step in (("LSTM", self.lstm_step), ("GRU", self.gru_step), ("SimpleRNN", self.simple_rnn_step)):
            if kind in names:
                return self.recurrent(inputs, kind, step)
        if "Dense" in names:
            output = inputs @ self.weights[0] + (self.weights[1] if len(self.weights) > 1 else 0)
            return self.function("activation")(output)
        if "Softmax" in names:
            return softmax(inputs)
        if "Activation" in names:
            return self.function("activation")(inputs)
        raise UnsupportedLayer(f"the grader cannot run a {type(self).__name__} layer")

    def function(self, name):
        function = self.functions.get(name)
        if function is None:
            raise UnsupportedLayer(f"layer {self.name}: its {name} is none the grader knows "
                                   "(linear, relu, sigmoid, tanh, softmax)")
        return function

    def recurrent(self, inputs, kind, step):
        """Run a recurrent layer over the steps of inputs from zero states; step(x_t, states, kernel, recurrent_kernel, bias)."""
        # Keras' default GRU (reset_after=True), the only GRU run here, is the one with two biases, shape (2, 3h)
        default_gru = kind != "GRU" or (len(self.weights) == 3 and np.ndim(self.weights[2]) == 2)
        if self.go_backwards or len(self.weights) not in (2, 3) or not default_gru:
            raise UnsupportedLayer(f"the grader cannot run {kind} {self.name} with these settings")
        kernel, recurrent_kernel = self.weights[:2]
        bias = self.weights[2] if len(self.weights) == 3 else np.float32(0)
        states = (np.zeros((len(inputs), recurrent_kernel.shape[0]), np.float32),) * (2 if kind == "LSTM" else 1)
        outputs = []  # every step's hidden state, kept only when the layer hands them all on
        for t in range(inputs.shape[1]):
            states = step(inputs[:, t], states, kernel, recurrent_kernel, bias)
            if self.return_sequences:
                outputs.append(states[0])
        return np.stack(outputs, axis=1) if self.return_sequences else states[0]

    def lstm_step(self, x, states, kernel, recurrent_kernel, bias):
        """Keras' LSTM: gates i, f, c, o in the kernel's four blocks; returns (hidden, cell)."""
        (hidden, cell), gate, squash = states, self.function("recurrent_activation"), self.function("activation")
        i, f, c, o = np.split(x @ kernel + hidden @ recurrent_kernel + bias, 4, axis=-1)
        cell = gate(f) * cell + gate(i) * squash(c)
        return gate(o) * squash(cell), cell

    def gru_step(self, x, states, kernel, recurrent_kernel, bias):
        """Keras' default GRU (reset_after=True): blocks z, r, h; the reset gate scales the recurrent part."""
        (hidden,), gate, squash = states, self.function("recurrent_activation"), self.function("activation")
        x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
        h_z, h_r, h_h = np.split(hidden @ recurrent_kernel + bias[1], 3, axis=-1)
        update = gate(x_z + h_z)
        return (update * hidden + (1 - update) * squash(x_h + gate(x_r + h_r) * h_h),)

    def simple_rnn_step(self, x, states, kernel, recurrent_kernel, bias):
        (hidden,) = states
        return (self.function("activation")(x @ kernel + hidden @ recurrent_kernel + bias),)


# A model runs on this many inputs at a time: the judge's memory for the layers' intermediate values
# stays that of 2,000 images however many the test passes (12,000 held-out training images, say).
CALL_ROWS = 2000


class ModelStandIn:
    """A Keras model as data. Calling it runs its layers in order, in NumPy (float32)."""

    @property
    def weights(self):
        return [weights for layer in self.layers for weights in layer.weights]

    def get_weights(self):
        return list(self.weights)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def __call__(self, inputs):
        inputs = np.asarray(inputs, dtype=np.float32)
        if inputs.ndim == 0 or len(inputs) <= CALL_ROWS:
            return self.forward(inputs)
        return np.concatenate([self.forward(inputs[start:start + CALL_ROWS])
                               for start in range(0, len(inputs), CALL_ROWS)])

    def forward(self, values):
        for layer in self.layers:
            values = np.asarray(layer.forward(values), dtype=np.float32)
        return values

    def predict(self, inputs, verbose=0):
        return self(inputs)

    def evaluate(self, inputs, labels, verbose=0, return_dict=True):
        """keras.Model.evaluate run in the kernel on the judge's data: {metric name: value}."""
        arrays = [("x.npy", np.asarray(inputs)), ("y.npy", np.asarray(labels))]
        request = {"op": "evaluate", "handle": self.handle,
                   "args": [{"kind": "array", "file": "x.npy"}, {"kind": "array", "file": "y.npy"}]}
        scores = self.decoder.ask(request, arrays)
        if not isinstance(scores, dict) or not all(isinstance(value, float) for value in scores.values()):
            raise AnswerRefused("evaluate did not give a dict of numbers")
        return scores


class OptimizerStandIn:
    iterations = 0


class HistoryStandIn:
    history, params, model = None, None, None


def softmax(values):
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def hard_sigmoid(values):
    return np.clip(values / 6 + 0.5, 0, 1)


KNOWN_ACTIVATIONS = {
    "linear": lambda values: values,
    "relu": lambda values: np.maximum(values, 0),
    "sigmoid": lambda values: 1 / (1 + np.exp(-values)),
    "hard_sigmoid": hard_sigmoid,
    "tanh": np.tanh,
    "softmax": softmax,
}


def identify_activation(output):
    """The known function that maps ACTIVATION_PROBE to output, or None."""
    if output.shape != ACTIVATION_PROBE.shape:
        return None
    for function in KNOWN_ACTIVATIONS.values():
        if np.allclose(function(ACTIVATION_PROBE.astype(np.float64)), output, atol=1e-5):
            return function
    return None
