"""Measure make grade's batch engine on export zips: per-submission time with 1 and 2 workers against another
checkout's (e.g. the thread pool before Dask), and the rerun of a complete OUT of many submissions.

    .venv/bin/python -m benchmarks.batch_engine --before /tmp/before [--copies 8] [--rerun 300]

Prints a Markdown table. The copies are one export zip under different names (each made distinct by a
note file), graded with the default settings but for JOBS, so that only the engine differs.
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

from benchmarks.grading_budget import export_zip
from kit.layout import ROOT

ASSIGNMENT = "lstm_parameters"  # the shortest grading: the engine's overhead is the largest share of it


def grade(checkout, submissions, out, jobs):
    """Seconds that `python -m kit grade` took in checkout."""
    begun = time.monotonic()
    subprocess.run([sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(submissions),
                    "--out", str(out), "--jobs", str(jobs)], cwd=checkout, check=True, capture_output=True)
    return time.monotonic() - begun


def copies(zip_path, folder, count, distinct=True):
    """count copies of the export zip; distinct ones carry a note of their own (grading ignores it), so that
    each is its own grading: byte-identical files share one grading key and are graded once."""
    folder.mkdir()
    for number in range(count):
        copy = folder / f"student{number:04d}_{zip_path.name}"
        shutil.copy(zip_path, copy)
        if distinct:
            with zipfile.ZipFile(copy, "a") as archive:
                archive.writestr("note.txt", f"student {number}")
    return folder


def complete_out(submission_folder, scratch):
    """An OUT that holds every submission graded: one graded, its results folder copied for the others
    (the copies are the same bytes, so the same grading key)."""
    names = sorted(path.name for path in submission_folder.iterdir())
    first = scratch / "first"
    first.mkdir()
    shutil.copy(submission_folder / names[0], first)
    out = scratch / "complete"
    grade(ROOT, first, out, 1)
    for name in names[1:]:
        shutil.copytree(out / "results" / names[0], out / "results" / name)
    return out


def main(*, before, count, rerun):
    print("| checkout | what | submissions | JOBS | wall time | per submission |\n|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        submission = export_zip(ROOT, ASSIGNMENT, scratch)
        batch = copies(submission, scratch / "batch", count)
        for jobs in (1, 2):
            for checkout in (before, ROOT):
                seconds = grade(checkout, batch, scratch / f"out-{checkout.name}-{jobs}", jobs)
                print(f"| {checkout.name} | grade | {count} | {jobs} | {seconds:.1f} s | {seconds / count:.2f} s |",
                      flush=True)
        many = copies(submission, scratch / "many", rerun, distinct=False)
        out = complete_out(many, scratch)
        seconds = grade(ROOT, many, out, 2)
        print(f"| {ROOT.name} | rerun of a complete OUT | {rerun} | 2 | {seconds:.1f} s | {seconds / rerun:.3f} s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=pathlib.Path, required=True, help="a checkout to compare with")
    parser.add_argument("--copies", type=int, default=8, help="submissions per measured batch")
    parser.add_argument("--rerun", type=int, default=300, help="submissions in the complete OUT that is regraded")
    arguments = parser.parse_args()
    main(before=arguments.before.resolve(), count=arguments.copies, rerun=arguments.rerun)
