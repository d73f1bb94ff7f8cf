"""Grade one submission in a process of its own: unpack the autograder privately, run it sealed.

`grade(job)` is what an executor runs: it starts this module as a process (`python -m kit.batch.worker`)
for each attempt, holds the attempt to its backstop, retries what the grader failed at, and returns the
results and the log as data (Graded); it writes nothing the batch reads.
"""

import argparse
import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import traceback
import zipfile

import psutil

from ..grading import runner, sandbox, status
from ..layout import ROOT
from ..outfolder import RESULTS_JSON
from .table import points_per_question

BACKSTOP_SECONDS = 60  # the process holds TIMEOUT itself (runner.py's one budget); this kills one that cannot
GRADER_ATTEMPTS = 3  # a grading the grader failed (status.NotGraded) is tried this many times in all


@dataclasses.dataclass(frozen=True)
class Job:
    """One submission to grade, and the limits of its kernel."""

    submission: pathlib.Path
    autograder: pathlib.Path
    timeout: float | None
    memory: str | None  # '1.5G', '768M'
    cpus: float | None
    hidden: tuple[str, ...] = ()  # folders covered from the kernel's view (the batch's output), besides the runner's


@dataclasses.dataclass(frozen=True)
class Graded:
    """What became of a job: its results.json dict and its grading.log text (never empty)."""

    results: dict
    log: str


def grade(job):
    """Grade job, trying again what the grader failed at (a kernel that never started, a process killed
    from outside, a fault of the kit) up to GRADER_ATTEMPTS times in all; the student's own failures are
    grades and are not retried. A fault here still gives a Graded: every submission has a row."""
    log = []
    try:
        for attempt in range(1, GRADER_ATTEMPTS + 1):
            log.append(f"--- attempt {attempt} of {GRADER_ATTEMPTS}\n")
            results, output = run_attempt(job)
            ending = status.from_json(results["extra_data"]["outcome"])
            log += [output, f"--- attempt {attempt}: {ending.text}\n"]
            if status.is_grade(ending):
                break
    except Exception as error:
        log.append(traceback.format_exc())
        results = runner.failed_report_for(points_per_question(job.autograder),
                                           status.NotGraded(f"{type(error).__name__}: {error}"))
    return Graded(results, "".join(log))


def run_attempt(job):
    """One attempt: (its results.json dict, or one that says why it left none; what the process printed).

    The process unpacks the autograder into a scratch folder made here and removed here, so that a
    process killed from outside leaves no hidden tests behind."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="kit-autograder-"))
    try:
        (scratch / "autograder").mkdir()
        limits = {"timeout": job.timeout, "memory": job.memory, "cpus": job.cpus}
        command = [sys.executable, "-m", "kit.batch.worker", str(job.submission.resolve()),
                   str(job.autograder.resolve()), str(scratch / "results"),
                   *(f"--{name}={value}" for name, value in limits.items() if value),
                   *(f"--hide={folder}" for folder in job.hidden), f"--scratch={scratch / 'autograder'}"]
        ended = run_with_backstop(command, scratch / "output.log", job.timeout)
        output = (scratch / "output.log").read_text(errors="replace")
        if ended is None:
            return runner.failed_report_for(points_per_question(job.autograder), status.TimedOut(job.timeout)), output
        return read_results(scratch / "results" / RESULTS_JSON, ended, job.autograder), output
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_with_backstop(command, output_path, timeout):
    """Run command with its output in output_path; its exit code, or None when the backstop had to kill it."""
    with open(output_path, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=ROOT)
        try:
            return process.wait(timeout=timeout + BACKSTOP_SECONDS if timeout else None)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            return None


def read_results(path, exit_code, autograder):
    try:
        results = json.loads(path.read_text())
        status.from_json(results["extra_data"]["outcome"])
        return results
    except (OSError, ValueError, KeyError, TypeError):
        reason = f"the grading process ended with exit code {exit_code} and left no results"
        return runner.failed_report_for(points_per_question(autograder), status.NotGraded(reason))


def kill_tree(pid):
    """Kill a process and everything it started, kernels included (they run in sessions of their own)."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = parent.children(recursive=True) + [parent]
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def main(*, submission, autograder, out, timeout=None, memory=None, cpus=None, hidden=(), scratch=None):
    """The process itself: write out/results.json for one submission; returns the report.

    memory ('1.5G', '768M') and cpus (0.5) limit the kernel where the sandbox can; hidden folders
    (the batch's output) are covered from the kernel's view, besides those the runner always hides.
    The autograder is unpacked into scratch (an empty folder the caller removes, so that nothing
    of it outlives a process killed from outside), else into a temporary folder of its own.
    """
    limits = sandbox.Limits(memory_bytes=sandbox.parse_size(memory) if memory else None, cpus=cpus)
    source = pathlib.Path(scratch or tempfile.mkdtemp(prefix="kit-autograder-"))
    try:
        sandbox.close_to_others(source)
        with zipfile.ZipFile(autograder) as archive:
            archive.extractall(source)
        report = runner.grade(upload=submission, source=source, timeout=timeout, limits=limits, hidden=hidden)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    runner.write_results(report, out)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("submission")
    parser.add_argument("autograder")
    parser.add_argument("out")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--memory", default=None)
    parser.add_argument("--cpus", type=float, default=None)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--scratch", default=None)
    arguments = parser.parse_args()
    runner.limit_judge_memory()
    main(submission=arguments.submission, autograder=arguments.autograder, out=arguments.out,
         timeout=arguments.timeout, memory=arguments.memory, cpus=arguments.cpus, hidden=arguments.hide,
         scratch=arguments.scratch)
