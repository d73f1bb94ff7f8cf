"""Train the sequential_mnist solution under many seeds and report its test accuracy against the threshold.

Runs the generated solution notebook (autograder/sequential_mnist/sequential_mnist.ipynb) exactly as
students have it, with the seed variable set the way Otter sets it, then measures the trained
model's accuracy on the 10,000 test images and on the 12,000 held-out training images
x_train[48000:] (the part that validation_split=0.2 holds back, which the lesson's model never trains
on), and the gap between the two, test minus held-out, which the hidden test bounds. Prints Markdown
tables for the README.

With --trained-on-test it runs the same notebook, at the grading seed, with its training cell
replaced by models fitted to the test images (instead of the training images, or after them), to
show the gap such training leaves.

    .venv/bin/python -m benchmarks.seed_accuracy [--seeds 20] [--first 0] [--trained-on-test]
"""

import argparse
import json
import pathlib
import re
import statistics
import sys
import tempfile
import time
import zipfile

import nbformat
from nbclient import NotebookClient

from kit.layout import ROOT, Layout

ASSIGNMENT = "sequential_mnist"
SOLUTION = Layout().solution_notebook(ASSIGNMENT)
AUTOGRADER = Layout().autograder_zip(ASSIGNMENT)
GRADING_SEED = 2024
MEASURE = """
import json
def _accuracy(images, labels):
    return float(mnist_model.evaluate(images, labels, verbose=0, return_dict=True)["accuracy"])
print(json.dumps({"test": _accuracy(x_test, y_test), "held_out": _accuracy(x_train[48000:], y_train[48000:])}))
"""
TRAINING_CELL = "history = mnist_model.fit("
LESSON_FIT = "mnist_model.fit(x_train, y_train, epochs=3, batch_size=128, validation_split=0.2, verbose=0)"
TRAINED_ON_TEST = {  # what a training cell fitted to the test images can look like
    "untrained": "",
    "x_test for x_train, 3 epochs, validation_split=0.2":
        "mnist_model.fit(x_test, y_test, epochs=3, batch_size=128, validation_split=0.2, verbose=0)",
    **{f"x_test for x_train, {epochs} epochs":
       f"mnist_model.fit(x_test, y_test, epochs={epochs}, batch_size=128, verbose=0)" for epochs in (3, 10, 20)},
    **{f"the lesson's training, then {epochs} epoch{'s' * (epochs > 1)} on x_test":
       f"{LESSON_FIT}\nmnist_model.fit(x_test, y_test, epochs={epochs}, batch_size=128, verbose=0)" for epochs in (1, 3, 5)},
}


def settings():
    """The hidden test's accuracy threshold and gap margin, read from the test in the autograder zip."""
    with zipfile.ZipFile(AUTOGRADER) as archive:
        source = archive.read("tests/train_model.py").decode()
    return {name: float(re.search(rf"{name} = ([0-9.]+)", source).group(1)) for name in ("threshold", "gap_margin")}


def accuracies(seed, training=None):
    """{"test": ..., "held_out": ...} of the solution trained under seed, or with training as its training cell."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    cells = [cell for cell in notebook.cells if "grader" not in cell.source]
    if training is not None:  # the cells up to training are all that measuring needs (an untrained run has no history)
        end = next(index for index, cell in enumerate(cells) if TRAINING_CELL in cell.source)
        cells = cells[:end] + [nbformat.v4.new_code_cell(
            f"keras.utils.set_random_seed(training_seed)\nmnist_model = build_lstm_model(nb_units)\n{training}")]
    for cell in cells:  # what Otter's seed variable does: the variable set before every cell
        if cell.cell_type == "code":
            cell.source = f"training_seed = {seed}\n{cell.source}"
    notebook.cells = cells
    notebook.cells.append(nbformat.v4.new_code_cell(MEASURE))
    with tempfile.TemporaryDirectory() as scratch:
        (pathlib.Path(scratch) / "data").symlink_to(ROOT / "data")
        NotebookClient(notebook, timeout=1800, resources={"metadata": {"path": scratch}}).execute()
    output = notebook.cells[-1].outputs[-1]["text"]
    return json.loads(output.strip().splitlines()[-1])


def seed_table(seeds, first, bars):
    rows = []
    for seed in range(first, first + seeds):
        started = time.perf_counter()
        rows.append((seed, accuracies(seed), time.perf_counter() - started))
        print(f"seed {seed}: {rows[-1][1]} ({rows[-1][2]:.0f} s)", file=sys.stderr)
    print("| seed | test accuracy | above threshold by | held-out accuracy | gap (test − held-out) |\n"
          "|---:|---:|---:|---:|---:|")
    for seed, scores, _ in rows:
        print(f"| {seed} | {scores['test']:.4f} | {scores['test'] - bars['threshold']:+.4f} | "
              f"{scores['held_out']:.4f} | {scores['test'] - scores['held_out']:+.4f} |")
    print(f"\n{len(rows)} seeds: {summary('test accuracy', [s['test'] for _, s, _ in rows])}; "
          f"{summary('held-out accuracy', [s['held_out'] for _, s, _ in rows])}; "
          f"{summary('gap', [s['test'] - s['held_out'] for _, s, _ in rows])}; "
          f"threshold {bars['threshold']}, gap margin {bars['gap_margin']}; passing "
          f"{sum(s['test'] >= bars['threshold'] and s['test'] - s['held_out'] <= bars['gap_margin'] for _, s, _ in rows)}"
          f"/{len(rows)}; mean time per run {statistics.mean(t for _, _, t in rows):.0f} s")


def summary(name, values):
    return (f"{name} min {min(values):.4f}, mean {statistics.mean(values):.4f}, max {max(values):.4f}, "
            f"sd {statistics.stdev(values):.4f}")


def trained_on_test_table(bars):
    print(f"| training cell (seed {GRADING_SEED}) | test accuracy | held-out accuracy | gap (test − held-out) |\n"
          "|---|---:|---:|---:|")
    for name, training in TRAINED_ON_TEST.items():
        scores = accuracies(GRADING_SEED, training)
        print(f"| {name} | {scores['test']:.4f} | {scores['held_out']:.4f} | {scores['test'] - scores['held_out']:+.4f} |",
              flush=True)
    print(f"\nthreshold {bars['threshold']}, gap margin {bars['gap_margin']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--trained-on-test", action="store_true", help="the gap of models fitted to the test images")
    arguments = parser.parse_args()
    if arguments.trained_on_test:
        trained_on_test_table(settings())
    else:
        seed_table(arguments.seeds, arguments.first, settings())
