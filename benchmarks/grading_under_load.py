"""Grade honest work on a machine that is busy on purpose: every grading must score full marks.

Two measurements, each beside CPU hogs (busy loops, more than there are cores):
  * `make grade` of COPIES copies of each assignment's solution at JOBS at a time;
  * `make preflight ASSIGNMENT=lstm_parameters MEMORY=768M CPUS=0.5` (Gradescope's default
    container) PREFLIGHTS times in a row.
It prints a Markdown table: gradings, full marks, statuses, worker attempts and kernel start
retries (from grading.log), kernel start and total times.

    .venv/bin/python -m benchmarks.grading_under_load [--hogs 6] [--copies 8] [--jobs 4] [--preflights 10]
"""

import argparse
import collections
import contextlib
import json
import multiprocessing
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from kit.layout import ROOT, Layout


def busy_loop():
    while True:
        pass


@contextlib.contextmanager
def cpu_hogs(count):
    hogs = [multiprocessing.Process(target=busy_loop, daemon=True) for _ in range(count)]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()


def load_average():
    return os.getloadavg()[0]


def grade_batch(assignment, copies, jobs, scratch):
    """Grade copies of the solution; the batch's row for the table."""
    submissions, out = scratch / f"{assignment}-in", scratch / f"{assignment}-out"
    submissions.mkdir()
    for number in range(copies):
        shutil.copy(Layout().solution_notebook(assignment), submissions / f"copy{number}.ipynb")
    begun = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "kit", "grade", "--assignment", assignment, "--submissions",
                                str(submissions), "--out", str(out), "--jobs", str(jobs)], cwd=ROOT,
                               capture_output=True, text=True)
    seconds = time.monotonic() - begun
    results = [json.loads(path.read_text()) for path in sorted(out.glob("results/*/results.json"))]
    logs = [path.read_text() for path in sorted(out.glob("results/*/grading.log"))]
    full = sum(all(test["score"] == test["max_score"] for test in result["tests"] if "max_score" in test)
               for result in results)
    return {"what": f"make grade {assignment}, {copies} copies, JOBS={jobs}", "gradings": len(results),
            "full marks": full, "statuses": collections.Counter(r["extra_data"]["status"] for r in results),
            "worker attempts": sum(len(re.findall(r"^--- attempt \d+ of", log, re.M)) for log in logs),
            "kernel start retries": sum(log.count("kernel start attempt") for log in logs),
            "kernel start s": seconds_range([r["extra_data"]["phases"].get("kernel start") for r in results]),
            "grading s": seconds_range([r["extra_data"]["phases"].get("total") for r in results]),
            "batch s": f"{seconds:.0f}", "exit": completed.returncode}


def preflight_series(times):
    rows, begun = [], time.monotonic()
    for _ in range(times):
        completed = subprocess.run([sys.executable, "-m", "kit", "preflight", "--assignment", "lstm_parameters",
                                    "--memory", "768M", "--cpus", "0.5"], cwd=ROOT, capture_output=True, text=True)
        rows += [line for line in completed.stdout.splitlines() if line.startswith("| ") and "example" not in line]
    results = [line.split("|")[-2].strip() for line in rows]
    full = sum(re.fullmatch(r"(\d+(\.\d+)?)/\1", result) is not None for result in results)
    return {"what": f"make preflight lstm_parameters MEMORY=768M CPUS=0.5, {times} times", "gradings": len(results),
            "full marks": full, "statuses": collections.Counter(results), "worker attempts": "-",
            "kernel start retries": "-", "kernel start s": "-", "grading s": "-",
            "batch s": f"{time.monotonic() - begun:.0f}", "exit": 0}


def seconds_range(values):
    values = [value for value in values if value is not None]
    if not values:
        return "-"
    return f"{min(values):.1f}–{max(values):.1f} (median {statistics.median(values):.1f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hogs", type=int, default=6)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--preflights", type=int, default=10)
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch, cpu_hogs(arguments.hogs):
        scratch = pathlib.Path(scratch)
        for assignment in Layout().assignment_names():
            rows.append({**grade_batch(assignment, arguments.copies, arguments.jobs, scratch),
                         "load": f"{load_average():.1f}"})
        if arguments.preflights:
            rows.append({**preflight_series(arguments.preflights), "load": f"{load_average():.1f}"})
    columns = list(rows[0])
    print(f"{os.cpu_count()} cores, {arguments.hogs} CPU hogs beside the grading\n")
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[column]).replace("|", "/") for column in columns) + " |")


if __name__ == "__main__":
    main()
