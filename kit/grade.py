"""Grade a folder of submissions without Docker: the sealed runner per submission, in parallel, with timeouts."""

import concurrent.futures
import pathlib
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

import json

import pandas as pd
import psutil
from tqdm import tqdm

from . import gradebook, report
from .graded import FINAL_GRADES_CSV, POINTS_ROW, RESULTS_JSON, SETTINGS_JSON
from .grading import judge
from .grading.runner import COMPLETED
from .layout import ROOT, Layout

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
HIDDEN_CHARACTERS = {"Cc", "Cf", "Zl", "Zp"}  # Unicode's control, format and line/paragraph separators
BACKSTOP_SECONDS = 60  # the worker enforces TIMEOUT itself; this kills a worker that cannot
DEFAULT_TIMEOUT = 600
# The memory cap per submission when MEMORY is not given: the peak `make preflight` measured for
# the solution and the lesson-style float64 variant, with room to spare (see the README).
DEFAULT_MEMORY = {"sequential_mnist": "2G", "lstm_parameters": "1G"}


def main(*, assignment, submissions, out, timeout=DEFAULT_TIMEOUT, memory=None, cpus=None, jobs=2, root=None,
         student_pattern=None):
    """Grade every .ipynb and .zip in submissions; write out/final_grades.csv and return its table.

    Each submission is graded by a worker process, its kernel in a sandbox (kit/grading/sandbox.py)
    limited to timeout seconds, memory ('1.5G'; default DEFAULT_MEMORY) and cpus. Then the report,
    feedback and gradebook CSV are made (kit/report.py), students read from file names by student_pattern.
    """
    gradebook.student_rule(student_pattern)  # a pattern that cannot serve fails now, not after the batch
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
    names = [visible_name(path.name) for path in paths]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_one, path, autograder, out / "results" / name, limits, out)
                   for path, name in zip(paths, names)]
        for _ in tqdm(concurrent.futures.as_completed(futures), total=len(futures), desc=f"grading {assignment}",
                      unit="submission", file=sys.stderr):
            pass
    outcomes = [(name, outcome(future)) for name, future in zip(names, futures)]
    table = grades_table(points, outcomes)
    table.to_csv(out / FINAL_GRADES_CSV, index=False)
    levels = sorted({result["extra_data"]["isolation"] for _, result in outcomes if isinstance(result, dict)})
    (out / SETTINGS_JSON).write_text(json.dumps({"assignment": assignment, **limits, "jobs": jobs,
                                                 "isolation": levels, "kit_version": kit_version()}, indent=2))
    report.main(out=out, student_pattern=student_pattern)
    return table


def kit_version():
    """`git describe --always --dirty` of the kit's checkout, so that grades say which kit made them; else "unknown"."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return described.stdout.strip() if described.returncode == 0 and described.stdout.strip() else "unknown"


def outcome(future):
    """A worker's results.json dict or a status; an error in the kit itself still leaves the row."""
    try:
        return future.result()
    except Exception as error:
        return f"Grading failed: {type(error).__name__}: {error}"


def visible_name(name):
    """A file name as its row, results folder, feedback and report show it: control, format and
    line-breaking characters written out as [U+000D], so that no name can end a CSV line, pass for
    another student's name (a carriage return before "honest.ipynb") or turn the text around it (U+202E)."""
    return "".join(f"[U+{ord(character):04X}]" if unicodedata.category(character) in HIDDEN_CHARACTERS else character
                   for character in name)


def submission_paths(folder):
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of submissions")
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix in SUBMISSION_SUFFIXES)


def points_per_question(autograder):
    """{question: points possible}, read from the test files inside the autograder zip."""
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(autograder) as archive:
        archive.extractall(scratch, members=[name for name in archive.namelist() if name.startswith("tests/")])
        return judge.points_per_question(scratch)


def grade_one(submission, autograder, result_dir, limits, out):
    """Run the worker on one submission; return its results.json dict, or a status when it left none."""
    result_dir.mkdir(parents=True, exist_ok=True)
    timeout = limits["timeout"]
    options = [f"--{name}={value}" for name, value in limits.items() if value]
    command = [sys.executable, "-m", "kit.grade_worker", str(submission.resolve()), str(autograder.resolve()),
               str(result_dir.resolve()), *options, f"--hide={out.resolve()}"]
    with open(result_dir / "grading.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=ROOT)
        try:
            process.wait(timeout=timeout + BACKSTOP_SECONDS if timeout else None)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            return f"Timed out after {timeout:g} s"
    results = result_dir / RESULTS_JSON
    if not results.exists():
        return f"Grader process died (exit code {process.returncode}); see grading.log"
    return json.loads(results.read_text())


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
    """Otter's final_grades.csv layout: the points row first, then one row per submission by file name."""
    questions = list(points)
    possible = sum(points.values())
    rows = [{"file": POINTS_ROW, **points, "total_points_earned": possible, "percent_correct": 1,
             "grading_status": "--"}]
    for file_name, outcome in sorted(graded):
        scores, status = question_scores(outcome, questions)
        total = sum(scores.values())
        rows.append({"file": file_name, **scores, "total_points_earned": total,
                     "percent_correct": round(total / possible, 4) if possible else 0, "grading_status": status})
    return pd.DataFrame(rows, columns=["file", *questions, "total_points_earned", "percent_correct", "grading_status"])


def question_scores(outcome, questions):
    """Scores per question (each capped at its points) and a readable status; a failure scores 0 everywhere."""
    if isinstance(outcome, str):
        return dict.fromkeys(questions, 0), outcome
    scores = {test["name"]: min(float(test["score"]), float(test["max_score"]))
              for test in outcome["tests"] if "max_score" in test}
    return {question: scores.get(question, 0) for question in questions}, outcome["extra_data"]["status"]

