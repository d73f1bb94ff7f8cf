"""A graded OUT folder: the names of its files, and reading them, as untrusted data, into a small model."""

import csv
import dataclasses
import json
import math
import pathlib
import re

from .grading import status

FINAL_GRADES_CSV = "final_grades.csv"
POINTS_ROW = "points-per-question"  # the labels and column names of Otter's final_grades.csv
RESULTS_JSON = "results.json"
SETTINGS_JSON = "grading_settings.json"  # beside final_grades.csv: the limits and the sandbox level used
OUTCOME_OF_KIND = {status.Completed.kind: "completed", status.TimedOut.kind: "timed out",
                   status.StudentFailure.kind: "failed", status.NotGraded.kind: "not graded"}
MESSAGE_CHARACTERS = 500  # a longer failure message is cut: the report lists every distinct one
# Terminal colour codes (an error from TensorFlow carries some) and other control characters, but for whitespace
CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class Check:
    """One test case's outcome for one submission, as results.json's extra_data.test_cases records it."""
    question: str
    name: str
    hidden: bool
    points: float
    passed: bool
    message: str | None


@dataclasses.dataclass
class Submission:
    """One row of final_grades.csv (the record of points and status) and what its results.json adds.

    A submission the grader failed at (not graded) has no points: points' values and total are None."""
    file: str
    points: dict[str, float | None]
    total: float | None
    status: str
    checks: list[Check] | None = None  # None: not recorded (an older kit) or results.json unreadable
    accuracy: float | None = None
    threshold: float | None = None
    seconds: float | None = None
    peak_memory_mb: float | None = None
    problem: str | None = None  # why results.json could not be read, shown beside the row
    kind: str | None = None  # the status's kind as results.json records it (status.py); None if it does not

    @property
    def graded(self):
        return self.total is not None

    @property
    def outcome(self):
        """"completed", "timed out", "failed" or "not graded"."""
        if not self.graded or self.kind == status.NotGraded.kind:
            return "not graded"
        if self.kind is not None:
            return OUTCOME_OF_KIND[self.kind]
        return "completed" if self.status == status.Completed().text else "failed"  # a results.json that says nothing


@dataclasses.dataclass
class Batch:
    out: pathlib.Path
    assignment: str
    possible: dict[str, float]  # points per question
    submissions: list[Submission]
    settings: dict
    problems: list[str]  # about the batch as a whole (its settings file)

    @property
    def total_possible(self):
        return sum(self.possible.values())

    @property
    def grades(self):
        """The submissions that have a grade: the ones the statistics count."""
        return [submission for submission in self.submissions if submission.graded]

    @property
    def not_graded(self):
        return [submission for submission in self.submissions if not submission.graded]

    @property
    def isolation(self):
        levels = self.settings.get("isolation")
        return [str(level) for level in levels] if isinstance(levels, list) else []

    @property
    def files_gone(self):
        """Rows graded into OUT earlier whose files the last run's SUBMISSIONS no longer held."""
        gone = self.settings.get("files_gone")
        return [str(name) for name in gone] if isinstance(gone, list) else []

    @property
    def weak_sandbox(self):
        """Graded with SANDBOX=weak: kernels without mount and PID namespaces."""
        return self.settings.get("sandbox") == "weak"


class ResultsError(ValueError):
    """A results.json that cannot be used; the message says why, for the report."""


def read(out):
    """The Batch of a graded OUT folder; a missing folder or final_grades.csv is an error, a bad results.json is not."""
    out = pathlib.Path(out)
    if not out.is_dir():
        raise NotADirectoryError(f"{out} is not a folder of grading output")
    grades = out / FINAL_GRADES_CSV
    if not grades.is_file():
        raise FileNotFoundError(f"{grades} is missing: run `make grade` into {out} first")
    possible, submissions = read_final_grades(grades)
    for submission in submissions:
        add_results(submission, out / "results")
    settings, problems = read_settings(out / SETTINGS_JSON)
    assignment = settings.get("assignment") if isinstance(settings.get("assignment"), str) else out.name
    return Batch(out, assignment, possible, submissions, settings, problems)


def read_final_grades(path):
    """({question: points possible}, [Submission]) from Otter's layout: file, questions..., total, percent, status."""
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        columns = reader.fieldnames or []
        rows = list(reader)
    if columns[:1] != ["file"] or not {"total_points_earned", "grading_status"} <= set(columns):
        raise ValueError(f"{path} does not have final_grades.csv's columns (file, questions..., "
                         "total_points_earned, percent_correct, grading_status)")
    questions = columns[1:columns.index("total_points_earned")]
    if not rows or rows[0]["file"] != POINTS_ROW:
        raise ValueError(f"{path} does not start with the {POINTS_ROW} row")
    possible = {question: cell_number(path, rows[0], question) for question in questions}
    return possible, [submission_of_row(path, row, questions) for row in rows[1:]]


def submission_of_row(path, row, questions):
    """A row's Submission; a row whose points are all empty is one the grader failed at (not graded)."""
    columns = [*questions, "total_points_earned"]
    if all((row.get(column) or "") == "" for column in columns):
        return Submission(file=row["file"], total=None, points=dict.fromkeys(questions), status=row["grading_status"] or "")
    return Submission(file=row["file"], total=cell_number(path, row, "total_points_earned"),
                      points={question: cell_number(path, row, question) for question in questions},
                      status=row["grading_status"] or "")


def cell_number(path, row, column):
    number = finite_number(text_to_number(row.get(column)))
    if number is None:
        raise ValueError(f"{path}: {row['file']!r} has no number in column {column!r}")
    return number


def text_to_number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def finite_number(value):
    """value as a float when it is a real, finite number (JSON allows NaN; booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def add_results(submission, results_folder):
    """Fill in what the submission's results.json tells beyond its row; note the problem when it can't."""
    if not is_plain_file_name(submission.file):
        submission.problem = "its name is not a plain file name, so its results are not read"
        return
    path = results_folder / submission.file / RESULTS_JSON
    if not path.is_file() and submission.outcome != "completed":
        return  # an older kit's worker that timed out or died left none, and its status says so
    try:
        extra = read_extra_data(path)
        submission.checks = read_checks(extra.get("test_cases"))
        submission.kind = read_kind(extra.get("outcome"))
    except ResultsError as error:
        submission.problem = str(error)
        return
    measurements = extra.get("measurements") if isinstance(extra.get("measurements"), dict) else {}
    submission.accuracy = share(measurements.get("test_accuracy"))
    submission.threshold = share(measurements.get("accuracy_threshold"))
    phases = extra.get("phases") if isinstance(extra.get("phases"), dict) else {}
    submission.seconds = finite_number(phases.get("total"))
    submission.peak_memory_mb = finite_number(extra.get("peak_memory_mb"))


def share(value):
    """value when it is a number from 0 to 1 (an accuracy), else None."""
    number = finite_number(value)
    return number if number is not None and 0 <= number <= 1 else None


def is_plain_file_name(name):
    """A name that stays inside the folder it is joined to (final_grades.csv is data, not a path to follow)."""
    return name not in ("", ".", "..") and not any(character in name for character in "/\\\0")


def read_extra_data(path):
    if not path.is_file():
        raise ResultsError("no results.json")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ResultsError(f"results.json cannot be read ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ResultsError(f"results.json is not valid JSON ({error})") from None
    extra = results.get("extra_data") if isinstance(results, dict) else None
    if not isinstance(extra, dict):
        raise ResultsError("results.json has no extra_data")
    return extra


def read_kind(outcome):
    """The status's kind results.json records; None when it predates statuses as data."""
    if outcome is None:
        return None
    try:
        return status.from_json(outcome).kind
    except ValueError:
        raise ResultsError("results.json: its status is malformed") from None


def read_checks(records):
    """The test cases as Checks; None when results.json predates them; ResultsError when they are malformed."""
    if records is None:
        return None
    if not isinstance(records, list):
        raise ResultsError("results.json: test_cases is not a list")
    return [read_check(number, record) for number, record in enumerate(records, start=1)]


def read_check(number, record):
    fields = record if isinstance(record, dict) else {}
    question, name, hidden, passed, message = (fields.get(key)
                                               for key in ("question", "name", "hidden", "passed", "message"))
    points = finite_number(fields.get("points"))
    if not (isinstance(question, str) and isinstance(name, str) and isinstance(hidden, bool)
            and isinstance(passed, bool) and points is not None and (message is None or isinstance(message, str))):
        raise ResultsError(f"results.json: test case {number} is malformed")
    return Check(question, name, hidden, points, passed, None if passed else one_line(message))


def one_line(message):
    """The message as one line of at most MESSAGE_CHARACTERS, without terminal colour codes; None when empty."""
    text = " ".join(CONTROL.sub("", message or "").split())
    if len(text) > MESSAGE_CHARACTERS:
        text = text[:MESSAGE_CHARACTERS - 1] + "…"
    return text or None


def read_settings(path):
    """(grading_settings.json's dict, problems); a missing or unreadable file leaves the settings unknown."""
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [f"{SETTINGS_JSON} is missing: the settings used are unknown"]
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return {}, [f"{SETTINGS_JSON} is not valid JSON ({error})"]
    if not isinstance(settings, dict):
        return {}, [f"{SETTINGS_JSON} is not a JSON object"]
    return settings, []
