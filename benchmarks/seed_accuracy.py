"""Train the sequential_mnist solution under many seeds and report its test accuracy against the threshold.

Runs the generated solution notebook (autograder/sequential_mnist/sequential_mnist.ipynb) exactly as
students have it, with the seed variable set the way Otter sets it, then measures the trained
model's accuracy on the 10,000 test images. Prints a Markdown table for the README.

    .venv/bin/python -m benchmarks.seed_accuracy [--seeds 20] [--first 0]
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
MEASURE = """
import json
print(json.dumps({"accuracy": float(mnist_model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"])}))
"""


def threshold():
    """The accuracy threshold, read from the hidden test in the autograder zip."""
    with zipfile.ZipFile(AUTOGRADER) as archive:
        source = archive.read("tests/train_model.py").decode()
    return float(re.search(r"threshold = ([0-9.]+)", source).group(1))


def accuracy_for_seed(seed):
    notebook = nbformat.read(SOLUTION, as_version=4)
    notebook.cells = [cell for cell in notebook.cells if "grader" not in cell.source]
    for cell in notebook.cells:  # what Otter's seed variable does: the variable set before every cell
        if cell.cell_type == "code":
            cell.source = f"training_seed = {seed}\n{cell.source}"
    notebook.cells.append(nbformat.v4.new_code_cell(MEASURE))
    with tempfile.TemporaryDirectory() as scratch:
        (pathlib.Path(scratch) / "data").symlink_to(ROOT / "data")
        NotebookClient(notebook, timeout=900, resources={"metadata": {"path": scratch}}).execute()
    output = notebook.cells[-1].outputs[-1]["text"]
    return json.loads(output.strip().splitlines()[-1])["accuracy"]


def main(*, seeds, first):
    bar = threshold()
    rows = []
    for seed in range(first, first + seeds):
        started = time.perf_counter()
        accuracy = accuracy_for_seed(seed)
        rows.append((seed, accuracy, time.perf_counter() - started))
        print(f"seed {seed}: {accuracy:.4f} ({rows[-1][2]:.0f} s)", file=sys.stderr)
    print("| seed | test accuracy | above threshold by |\n|---:|---:|---:|")
    for seed, accuracy, _ in rows:
        print(f"| {seed} | {accuracy:.4f} | {accuracy - bar:+.4f} |")
    accuracies = [accuracy for _, accuracy, _ in rows]
    print(f"\n{len(rows)} seeds: min {min(accuracies):.4f}, mean {statistics.mean(accuracies):.4f}, "
          f"max {max(accuracies):.4f}, sd {statistics.stdev(accuracies):.4f}; threshold {bar}; "
          f"passing {sum(a >= bar for a in accuracies)}/{len(rows)}; "
          f"mean time per run {statistics.mean(t for _, _, t in rows):.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    arguments = parser.parse_args()
    main(seeds=arguments.seeds, first=arguments.first)
