"""Grade one submission in a process of its own: unpack the autograder privately, run it sealed.

`grade(job, autograder)` is the task an executor runs, here or on another machine: everything it needs
travels with it (the submission's bytes in the Job, the autograder zip's bytes beside it) and it writes
nothing the batch reads. For each attempt it starts this module as a process (`python -m
kit.batch.worker`), holds it to its backstop, retries what the grader failed at, and returns the results
and the log as data (Graded).
"""

import argparse
import dataclasses
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile

import psutil

from ..grading import runner, sandbox, status
from ..layout import ROOT
from ..outfolder import RESULTS_JSON

BACKSTOP_SECONDS = 60  # the process holds TIMEOUT itself (runner.py's one budget); this kills one that cannot
GRADER_ATTEMPTS = 3  # a grading the grader failed (status.NotGraded) is tried this many times in all
NO_NETWORK_NAMESPACE = ("this worker cannot give kernels their own network (no mount, PID and network "
                        "namespaces here), so a notebook could reach the scheduler; it grades nothing")


@dataclasses.dataclass(frozen=True)
class Job:
    """One submission to grade, as it travels to a worker, and the limits of its kernel."""

    suffix: str  # ".ipynb" or ".zip": how the upload is read
    submission: bytes
    autograder_sha256: str  # of the zip that travels beside the job
    timeout: float | None
    memory: str | None  # '1.5G', '768M'
    cpus: float | None
    kit_version: str
    hidden: tuple[str, ...] = ()  # folders covered from the kernel's view (the batch's output), besides the runner's
    strict: bool = True  # grade only where kernels get namespaces (no network): SANDBOX is not weak

    @property
    def key(self):
        """The grading's identity: the same key always gives the same grade, so the first result per key wins."""
        # Limits as numbers, so that 300 and 300.0, 1G and 1024M are one key.
        limits = json.dumps([number(self.timeout), self.memory and sandbox.parse_size(self.memory),
                             number(self.cpus), self.strict])
        parts = [hashlib.sha256(self.submission).hexdigest(), self.autograder_sha256, self.kit_version, limits]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    @property
    def graded_with(self):
        """What besides the submission decided its grade, as results.json records it."""
        return {"kit_version": self.kit_version, "autograder_sha256": self.autograder_sha256,
                "timeout": self.timeout, "memory": self.memory, "cpus": self.cpus}


def number(value):
    return None if value is None else float(value)


@dataclasses.dataclass(frozen=True)
class Graded:
    """What became of a job: results.json's dict (None when no grading left one: outcome says why),
    the outcome, grading.log's text (never empty), the machine that graded it and how many attempts it took."""

    results: dict | None
    outcome: status.Status
    log: str
    host: str
    attempts: int = 1


def grade(job, autograder):
    """Grade job with autograder (the zip's bytes), trying again what the grader failed at (a kernel that
    never started, a process killed from outside, a fault of the kit) up to GRADER_ATTEMPTS times in all;
    the student's own failures are grades and are not retried. A fault here still gives a Graded."""
    log, results, attempt = [], None, 1
    try:
        if hashlib.sha256(autograder).hexdigest() != job.autograder_sha256:
            raise ValueError("the autograder zip that reached this worker is not the one the batch grades with")
        if job.strict and not sandbox.namespaces_work():
            return Graded(None, status.NotGraded(NO_NETWORK_NAMESPACE), NO_NETWORK_NAMESPACE + "\n", socket.gethostname())
        for attempt in range(1, GRADER_ATTEMPTS + 1):
            log.append(f"--- attempt {attempt} of {GRADER_ATTEMPTS}\n")
            results, outcome, output = run_attempt(job, autograder)
            log += [output, f"--- attempt {attempt}: {outcome.text}\n"]
            if status.is_grade(outcome):
                break
    except Exception as error:
        log.append(traceback.format_exc())
        results, outcome = None, status.NotGraded(f"{type(error).__name__}: {error}")
    return Graded(results, outcome, "".join(log), socket.gethostname(), attempt)


def run_attempt(job, autograder):
    """One attempt: (results.json's dict or None, the outcome, what the process printed).

    The process unpacks the autograder into a scratch folder made here and removed here, so that a
    process killed from outside leaves no hidden tests behind."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="kit-autograder-", dir=worker_directory()))
    try:
        (scratch / "autograder").mkdir()
        (scratch / "autograder.zip").write_bytes(autograder)
        upload = scratch / f"submission{job.suffix}"
        upload.write_bytes(job.submission)
        limits = {"timeout": job.timeout, "memory": job.memory, "cpus": job.cpus}
        command = [sys.executable, "-m", "kit.batch.worker", str(upload), str(scratch / "autograder.zip"),
                   str(scratch / "results"), *(f"--{name}={value}" for name, value in limits.items() if value),
                   *(f"--hide={folder}" for folder in job.hidden), f"--scratch={scratch / 'autograder'}",
                   f"--attempt={scratch}", f"--parent={os.getpid()}"]
        ended = run_with_backstop(command, scratch / "output.log", job.timeout)
        output = (scratch / "output.log").read_text(errors="replace")
        if ended is None:
            return None, status.TimedOut(job.timeout), output
        return (*read_results(scratch / "results" / RESULTS_JSON, ended), output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def worker_directory():
    """The Dask worker's own folder when this runs in one (Dask removes a dead worker's folder, and a local
    cluster's with it), else None: the system's temporary folder."""
    import distributed  # here, not above: the grading process this module also is never needs it (0.8 s)

    try:
        return distributed.get_worker().local_directory
    except ValueError:
        return None


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


def read_results(path, exit_code):
    """(results.json's dict, its status), or (None, NotGraded) when the process left none that reads."""
    try:
        results = json.loads(path.read_text())
        return results, status.from_json(results["extra_data"]["outcome"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, status.NotGraded(f"the grading process ended with exit code {exit_code} and left no results")


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


def end_with_parent(folder, parent, interval=0.5):
    """Remove folder (an attempt's scratch: the unpacked autograder, hidden tests inside) and end this
    process, its kernel with it, once the worker that started it (pid parent) is gone: no one else would.
    The pid comes from the worker, so that a worker that died while this process started is seen too."""

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


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
    parser.add_argument("--attempt", default=None, help="removed if this process outlives its parent")
    parser.add_argument("--parent", type=int, default=None, help="the pid of the worker that started this process")
    arguments = parser.parse_args()
    if arguments.attempt:
        end_with_parent(arguments.attempt, arguments.parent or os.getppid())
    runner.limit_judge_memory()
    main(submission=arguments.submission, autograder=arguments.autograder, out=arguments.out,
         timeout=arguments.timeout, memory=arguments.memory, cpus=arguments.cpus, hidden=arguments.hide,
         scratch=arguments.scratch)
