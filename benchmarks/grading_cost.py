"""Measure what grading one submission costs: wall time and peak memory, under /usr/bin/time -v.

For each assignment it times the kit's worker process (`python -m kit.batch.worker`, what `make grade`
runs per submission: the sealed runner, its kernel in the sandbox and the judge) on the solution and on the
untouched release notebook and, for comparison, a plain `jupyter nbconvert --execute` of the solution.
Prints a Markdown table for the README.

    .venv/bin/python -m benchmarks.grading_cost [--one-core]
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from kit.layout import ROOT, Layout

BIN = pathlib.Path(sys.executable).parent
LAYOUT = Layout()


def measure(command, cwd, one_core):
    """(wall seconds, peak RSS in MB) of a command; peak RSS is its largest single process."""
    prefix = ["taskset", "-c", "0"] if one_core else []
    completed = subprocess.run(["/usr/bin/time", "-v", *prefix, *command], cwd=cwd, capture_output=True, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if completed.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{completed.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", completed.stderr)
    hours, minutes, seconds = (float(part) if part else 0.0 for part in wall.groups())
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr).group(1))
    return hours * 3600 + minutes * 60 + seconds, rss_kb / 1024


def rows(assignment, one_core):
    autograder = LAYOUT.autograder_zip(assignment)
    solution = LAYOUT.solution_notebook(assignment)
    untouched = LAYOUT.release_notebook(assignment)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for label, notebook in (("solution", solution), ("untouched release", untouched)):
            out = scratch / label.replace(" ", "_")
            out.mkdir()
            command = [str(BIN / "python"), "-m", "kit.batch.worker", str(notebook), str(autograder), str(out)]
            yield assignment, f"make grade worker, {label}", *measure(command, ROOT, one_core)
        release = scratch / "release"
        shutil.copytree(untouched.parent, release)
        shutil.copy(solution, release / "solution.ipynb")
        command = [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", "executed",
                   "solution.ipynb"]
        yield assignment, "jupyter nbconvert --execute, solution", *measure(command, release, one_core)


def main(*, one_core):
    print(f"| assignment | run ({'1 core' if one_core else 'all cores'}) | wall time | peak RSS |\n|---|---|---:|---:|")
    for assignment in LAYOUT.assignment_names():
        for name, run, seconds, megabytes in rows(assignment, one_core):
            print(f"| {name} | {run} | {seconds:.1f} s | {megabytes:,.0f} MB |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one-core", action="store_true", help="pin every process to core 0 (taskset -c 0)")
    main(one_core=parser.parse_args().one_core)
