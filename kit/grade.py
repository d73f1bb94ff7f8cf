"""Grade a folder of submissions without Docker: the sealed runner per submission, in parallel, with timeouts."""

import concurrent.futures
import functools
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

import pandas as pd
import psutil
from tqdm import tqdm

from . import gradebook, report
from .graded import FINAL_GRADES_CSV, POINTS_ROW, RESULTS_JSON, SETTINGS_JSON
from .grading import judge, runner, status
from .grading.sandbox import namespaces_work
from .layout import ROOT, Layout

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
HIDDEN_CHARACTERS = {"Cc", "Cf", "Zl", "Zp"}  # Unicode's control, format and line/paragraph separators
# Unicode's Default_Ignorable_Code_Point: drawn as nothing (a combining grapheme joiner, variation selectors,
# Hangul fillers), so a name holding one looks exactly like the name without it
INVISIBLE_CHARACTERS = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                                  "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
                                  "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
BACKSTOP_SECONDS = 60  # the worker enforces TIMEOUT itself; this kills a worker that cannot
GRADER_ATTEMPTS = 3  # a grading the grader failed (status.NotGraded) is tried this many times in all
DEFAULT_TIMEOUT = runner.DEFAULT_TIMEOUT
STRICT, WEAK = "strict", "weak"  # SANDBOX: refuse a weak sandbox (the default), or grade in one and say so
WEAK_SANDBOX_MESSAGE = (
    "refusing to grade: kernels would run here without mount and PID namespaces (as root without "
    "CAP_SYS_ADMIN, inside a Docker container say, or without root where unprivileged user namespaces are "
    "off), so a notebook could read the hidden tests, the solutions and other students' submissions. Grade "
    "on a machine that allows namespaces, or set SANDBOX=weak to grade anyway: the report and "
    "grading_settings.json will then say that the sandbox was weak.")
# The memory cap per submission when MEMORY is not given: the peak `make preflight` measured for
# the solution and the lesson-style float64 variant, with room to spare (see the README).
DEFAULT_MEMORY = {"sequential_mnist": "2G", "lstm_parameters": "1G"}


class SandboxRefused(RuntimeError):
    """Kernels would run without mount and PID namespaces here, and the instructor did not opt in."""


def main(*, assignment, submissions, out, timeout=DEFAULT_TIMEOUT, memory=None, cpus=None, jobs=2, root=None,
         student_pattern=None, sandbox=STRICT):
    """Grade every .ipynb and .zip in submissions; write out/final_grades.csv and return its table.

    Each submission is graded by a worker process, its kernel in a sandbox (kit/grading/sandbox.py)
    limited to timeout seconds, memory ('1.5G'; default DEFAULT_MEMORY) and cpus. Then the report,
    feedback and gradebook CSV are made (kit/report.py), students read from file names by student_pattern.
    Where the sandbox would be weak (no mount and PID namespaces) nothing is graded unless sandbox is WEAK.
    """
    gradebook.student_rule(student_pattern)  # a pattern that cannot serve fails now, not after the batch
    if sandbox not in (STRICT, WEAK):
        raise ValueError(f"SANDBOX={sandbox!r}: leave it unset, or set it to {WEAK!r}")
    if sandbox != WEAK and not namespaces_work():
        raise SandboxRefused(WEAK_SANDBOX_MESSAGE)
    layout = Layout(root)
    if assignment not in layout.assignment_names():
        raise ValueError(f"no assignment {assignment!r}: choose one of {', '.join(layout.assignment_names())}")
    autograder = layout.autograder_zip(assignment)
    if not autograder.is_file():
        raise FileNotFoundError(f"{autograder} is missing: run `make build` first")
    paths = submission_paths(pathlib.Path(submissions))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    points = points_per_question(autograder)
    limits = {"timeout": timeout, "memory": memory or DEFAULT_MEMORY.get(assignment), "cpus": cpus}
    names = visible_names(paths)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_one, path, autograder, out / "results" / name, limits, out)
                   for path, name in zip(paths, names)]
        for _ in tqdm(concurrent.futures.as_completed(futures), total=len(futures), desc=f"grading {assignment}",
                      unit="submission", file=sys.stderr):
            pass
    outcomes = [(name, outcome(future, autograder)) for name, future in zip(names, futures)]
    table = grades_table(points, outcomes)
    table.to_csv(out / FINAL_GRADES_CSV, index=False)
    results = [result for _, result in outcomes]
    levels = sorted({result["extra_data"]["isolation"] for result in results if "isolation" in result["extra_data"]})
    (out / SETTINGS_JSON).write_text(json.dumps({"assignment": assignment, **enforced_settings(limits, results),
                                                 "jobs": jobs, "sandbox": sandbox, "isolation": levels,
                                                 "kit_version": kit_version()}, indent=2))
    report.main(out=out, student_pattern=student_pattern)
    return table


def enforced_settings(limits, results):
    """The limits as grading_settings.json records them: only those every sandbox enforced (memory as asked
    for, the CPUs each kernel really had), and the list of what enforced them (results.json's extra_data.limits)."""
    enforced = [result["extra_data"]["limits"] for result in results if "limits" in result["extra_data"]]
    settings = {"timeout": limits["timeout"]}
    if enforced and all("memory" in each for each in enforced):
        settings["memory"] = limits["memory"]
    cpus = {each["cpus"]["value"] for each in enforced if "cpus" in each}
    if enforced and all("cpus" in each for each in enforced) and len(cpus) == 1:
        settings["cpus"] = cpus.pop()
    settings["limits"] = [each for number, each in enumerate(enforced) if each not in enforced[:number]]
    return settings


def kit_version():
    """`git describe --always --dirty` of the kit's checkout, so that grades say which kit made them; else "unknown"."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return described.stdout.strip() if described.returncode == 0 and described.stdout.strip() else "unknown"


def outcome(future, autograder):
    """A submission's results.json dict; an error in the kit itself still leaves the row, not graded."""
    try:
        return future.result()
    except Exception as error:
        return runner.failed_report_for(points_per_question(autograder),
                                        status.NotGraded(f"{type(error).__name__}: {error}"))


def visible_name(name):
    """A file name as its row, results folder, feedback and report show it: control, format, line-breaking
    and invisible (default-ignorable) characters written out as [U+000D], so that no name can end a CSV line,
    pass for another student's name (a carriage return before "honest.ipynb", "honest\u034f.ipynb") or
    turn the text around it (U+202E)."""
    return "".join(f"[U+{ord(character):04X}]" if is_hidden(character) else character for character in name)


def is_hidden(character):
    return unicodedata.category(character) in HIDDEN_CHARACTERS or INVISIBLE_CHARACTERS.fullmatch(character)


def visible_names(paths):
    """Each submission's visible name, one per submission: a name that an earlier one already shows
    ("col\u200b.ipynb" and a file named "col[U+200B].ipynb") gets "~2", "~3", ... (never a submission's
    own suffix, so never another file's name)."""
    names = []
    for path in paths:
        name = candidate = visible_name(path.name)
        copies = 1
        while candidate in names:
            copies += 1
            candidate = f"{name}~{copies}"
        names.append(candidate)
    return names


def submission_paths(folder):
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of submissions")
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix in SUBMISSION_SUFFIXES)


@functools.cache
def points_per_question(autograder):
    """{question: points possible}, read from the test files inside the autograder zip."""
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(autograder) as archive:
        archive.extractall(scratch, members=[name for name in archive.namelist() if name.startswith("tests/")])
        return judge.points_per_question(scratch)


def grade_one(submission, autograder, result_dir, limits, out):
    """Grade one submission; its results.json dict, always written to result_dir (a row whatever happened).

    What the grader failed at (status.NotGraded: a kernel that never started, a worker killed from
    outside, a fault of the kit) is tried again, up to GRADER_ATTEMPTS times in all; the student's own
    failures are grades and are not. grading.log says what each attempt did."""
    result_dir.mkdir(parents=True, exist_ok=True)
    log_path = result_dir / "grading.log"
    log_path.write_text("")
    for attempt in range(1, GRADER_ATTEMPTS + 1):
        with open(log_path, "a") as log:
            log.write(f"--- attempt {attempt} of {GRADER_ATTEMPTS}\n")
        results = run_worker(submission, autograder, result_dir, limits, out, log_path)
        ending = status.from_json(results["extra_data"]["outcome"])
        with open(log_path, "a") as log:
            log.write(f"--- attempt {attempt}: {ending.text}\n")
        if status.is_grade(ending):
            break
    runner.write_results(results, result_dir)
    return results


def run_worker(submission, autograder, result_dir, limits, out, log_path):
    """One attempt: the worker process on the submission; its results.json dict, or one that says why it left none.

    The worker unpacks the autograder into a scratch folder made here and removed here, so that a
    worker killed from outside leaves no hidden tests behind."""
    (result_dir / RESULTS_JSON).unlink(missing_ok=True)
    timeout = limits["timeout"]
    options = [f"--{name}={value}" for name, value in limits.items() if value]
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="kit-autograder-"))
    command = [sys.executable, "-m", "kit.grade_worker", str(submission.resolve()), str(autograder.resolve()),
               str(result_dir.resolve()), *options, f"--hide={out.resolve()}", f"--scratch={scratch}"]
    try:
        with open(log_path, "a") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                       cwd=ROOT)
            try:
                process.wait(timeout=timeout + BACKSTOP_SECONDS if timeout else None)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)
                return runner.failed_report_for(points_per_question(autograder), status.TimedOut(timeout))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    try:
        results = json.loads((result_dir / RESULTS_JSON).read_text())
        status.from_json(results["extra_data"]["outcome"])
        return results
    except (OSError, ValueError, KeyError, TypeError):
        reason = f"the grading process ended with exit code {process.returncode} and left no results"
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


def grades_table(points, graded):
    """Otter's final_grades.csv layout: the points row first, then one row per submission by file name.

    A submission that was not graded (status.NotGraded) has its points cells left empty: it has no grade."""
    questions = list(points)
    possible = sum(points.values())
    rows = [{"file": POINTS_ROW, **points, "total_points_earned": possible, "percent_correct": 1,
             "grading_status": "--"}]
    for file_name, results in sorted(graded):
        outcome = status.from_json(results["extra_data"]["outcome"])
        row = {"file": file_name, "grading_status": outcome.text}
        if status.is_grade(outcome):
            scores = question_scores(results, questions)
            total = sum(scores.values())
            row.update(scores, total_points_earned=total, percent_correct=round(total / possible, 4) if possible else 0)
        rows.append(row)
    return pd.DataFrame(rows, columns=["file", *questions, "total_points_earned", "percent_correct", "grading_status"])


def question_scores(results, questions):
    """Scores per question, each capped at its points (a failed grading has 0 everywhere)."""
    scores = {test["name"]: min(float(test["score"]), float(test["max_score"]))
              for test in results["tests"] if "max_score" in test}
    return {question: scores.get(question, 0) for question in questions}
