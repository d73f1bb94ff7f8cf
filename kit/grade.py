"""Grade a folder of submissions without Docker: Otter's engine per submission, in parallel, with timeouts."""

import concurrent.futures
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import dill
import pandas as pd
import psutil
from tqdm import tqdm

from .grade_worker import RESULTS_JSON, RESULTS_PICKLE, write_error_json
from .layout import ROOT, Layout

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
POINTS_ROW = "points-per-question"  # the labels and column names of Otter's final_grades.csv
COMPLETED = "Completed"


def main(*, assignment, submissions, out, timeout=None, jobs=2, root=None):
    """Grade every .ipynb and .zip in submissions; write out/final_grades.csv and return its table."""
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
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_one, path, autograder, out / "results" / path.name, timeout) for path in paths]
        for _ in tqdm(concurrent.futures.as_completed(futures), total=len(futures), desc=f"grading {assignment}",
                      unit="submission", file=sys.stderr):
            pass
    table = grades_table(points, [(path.name, outcome(future)) for path, future in zip(paths, futures)])
    table.to_csv(out / "final_grades.csv", index=False)
    return table


def outcome(future):
    """A worker's GradingResults or status; an error in the kit itself still leaves the row."""
    try:
        return future.result()
    except Exception as error:
        return f"Grading failed: {type(error).__name__}: {error}"


def submission_paths(folder):
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of submissions")
    return sorted(path for path in folder.iterdir() if path.is_file() and path.suffix in SUBMISSION_SUFFIXES)


def points_per_question(autograder):
    """{question: points possible}, read from the test files inside the autograder zip."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(autograder) as archive:
        tests = [name for name in archive.namelist() if name.startswith("tests/") and name.endswith(".py")]
        archive.extractall(scratch, members=tests)
        files = [create_test_file(str(pathlib.Path(scratch) / name), NBMetadataConfig()) for name in tests]
    return {test_file.name: test_file.possible for test_file in sorted(files, key=lambda f: f.name)}


def grade_one(submission, autograder, result_dir, timeout):
    """Run the worker on one submission; return Otter's GradingResults or a status string."""
    result_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kit.grade_worker", str(submission.resolve()), str(autograder.resolve()),
               str(result_dir.resolve())]
    with open(result_dir / "grading.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=ROOT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            status = f"Timed out after {timeout:g} s"
            write_error_json(result_dir / RESULTS_JSON, TimeoutError(status))
            return status
    pickle_path = result_dir / RESULTS_PICKLE
    if not pickle_path.exists():
        status = f"Grader process died (exit code {process.returncode}); see grading.log"
        write_error_json(result_dir / RESULTS_JSON, RuntimeError(status))
        return status
    with open(pickle_path, "rb") as handle:
        return dill.load(handle)


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
    """Scores per question and a readable status; a failed submission scores 0 everywhere."""
    zeros = dict.fromkeys(questions, 0)
    if isinstance(outcome, str):
        return zeros, outcome
    if outcome.has_catastrophic_failure():
        error = outcome.catastrophic_error
        return zeros, f"Grading failed: {type(error).__name__}: {error}".strip()
    return {question: outcome.get_score(question) if question in outcome.results else 0 for question in questions}, COMPLETED

