"""Measure grading one solution *export zip* (what students submit) on both grading paths.

For each assignment it executes the solution notebook in a copy of its release folder, so that the
notebook's own export cell writes the zip, then grades that zip
  * with `python -m kit grade` (what `make grade` runs), and
  * through the autograder zip's own entry point in a Gradescope-shaped folder,
each inside a fresh cgroup where one is writable (kit/grading/cgroups.py: v1 or v2), under
/usr/bin/time -v. It prints a Markdown table: wall time, the largest single process' peak RSS, and
the peak of all the processes together (the cgroup's peak, what a container limit counts).

Run it against any checkout, so that a change is measured before and after in one run:

    .venv/bin/python -m benchmarks.grading_budget --checkout /tmp/before --checkout . [--runs 2]
        [--assignment sequential_mnist] [--cpus 2]

--cpus gives every checkout's `make grade` the same CPU quota (a kit whose default share is one
CPU is otherwise compared with one that had no quota).
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import nbformat
from nbclient import NotebookClient

from kit.grading import cgroups
from kit.layout import ROOT, Layout

PYTHON = pathlib.Path(sys.executable)


def export_zip(checkout, assignment, scratch):
    """The zip the solution notebook's own export cell writes, run from a copy of the release."""
    folder = scratch / f"export-{assignment}"
    shutil.copytree(checkout / "assignment" / assignment, folder)
    notebook_path = folder / f"{assignment}.ipynb"
    shutil.copy(checkout / "autograder" / assignment / f"{assignment}.ipynb", notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(notebook, timeout=900, resources={"metadata": {"path": str(folder)}}).execute()
    (exported,) = folder.glob(f"{assignment}_*.zip")
    return exported


def in_cgroup(command):
    """Prefix that runs command inside a new cgroup (where one is writable), and the cgroups.Group."""
    try:
        group = cgroups.Group.create(f"kit-budget-{uuid.uuid4().hex[:8]}")
    except OSError:
        return command, None
    return group.wrap(command), group


def measure(command, cwd):
    """(wall s, largest process MB, all processes MB or None, exit code) of one command."""
    command, group = in_cgroup(["/usr/bin/time", "-v", *command])
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", completed.stderr)
    hours, minutes, seconds = (float(part) if part else 0.0 for part in wall.groups())
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr).group(1))
    total = None
    if group is not None:
        peak = group.peak_memory()
        total = peak / 2**20 if peak else None
        group.remove()
    if completed.returncode != 0:
        print(completed.stdout[-3000:], completed.stderr[-3000:], file=sys.stderr)
    return hours * 3600 + minutes * 60 + seconds, rss_kb / 1024, total, completed.returncode


def kit_grade(checkout, assignment, submission, scratch, cpus=None):
    folder = scratch / f"in-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    shutil.copy(submission, folder)
    out = scratch / f"out-{uuid.uuid4().hex[:6]}"
    command = [str(PYTHON), "-m", "kit", "grade", "--assignment", assignment, "--submissions", str(folder),
               "--out", str(out), "--jobs", "1", "--timeout", "900", *(["--cpus", str(cpus)] if cpus else [])]
    cost = measure(command, checkout)
    with open(out / "final_grades.csv") as table:
        header, _, row = (line.rstrip("\n").split(",") for line in table.readlines()[:3])
    return *cost, float(dict(zip(header, row))["total_points_earned"])


def gradescope_entry_point(checkout, assignment, submission, scratch, cpus=None):
    """The autograder's run_otter.py in a Gradescope-shaped folder (kit.preflight lays it out)."""
    root = scratch / f"autograder-{uuid.uuid4().hex[:6]}"
    command = [str(PYTHON), "-c", "import sys; from kit import preflight; "
               "preflight.run_entry_point(*sys.argv[1:4])", str(checkout / "autograder" / assignment / "autograder.zip"),
               str(submission), str(root)]
    cost = measure(command, ROOT)
    results = json.loads((root / "results" / "results.json").read_text())
    # Otter leaves "score" out when Gradescope should add up the questions' scores itself.
    return *cost, float(results.get("score", sum(test.get("score", 0) for test in results["tests"])))


def main(*, checkouts, runs, assignments, cpus):
    print("| checkout | assignment | path | wall time | largest process | all processes | score |")
    print("|---|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for assignment in assignments:
            # One export zip for every checkout, so that only the grading differs.
            submission = export_zip(checkouts[-1], assignment, scratch)
            for _ in range(runs):
                for checkout in checkouts:
                    for label, path in (("make grade", kit_grade), ("Gradescope entry point", gradescope_entry_point)):
                        wall, largest, total, code, score = path(checkout, assignment, submission, scratch, cpus)
                        total_text = f"{total:,.0f} MB" if total is not None else "n/a"
                        status = "" if code == 0 else f" (exit {code})"
                        print(f"| {checkout.name or checkout} | {assignment} | {label} | {wall:.1f} s | "
                              f"{largest:,.0f} MB | {total_text} | {score:g}{status} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", action="append", type=pathlib.Path, required=True,
                        help="a checkout with built autograder zips (repeat to compare)")
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement")
    parser.add_argument("--assignment", action="append", help="measure only these (default: every assignment)")
    parser.add_argument("--cpus", type=float, default=None, help="CPUS for every checkout's make grade")
    arguments = parser.parse_args()
    main(checkouts=[path.resolve() for path in arguments.checkout], runs=arguments.runs,
         assignments=arguments.assignment or Layout().assignment_names(), cpus=arguments.cpus)
