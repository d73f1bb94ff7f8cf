"""grades_lms.csv: the batch's points in Canvas's gradebook import layout, one row per submission file.

Students are told apart by a regular expression searched in each file's name, whose named groups fill Canvas's
columns: `name` the Student column, `id` Canvas's user ID, `sis_user_id` and `sis_login_id` the SIS columns. The
default reads the names of Canvas's "Download Submissions" zip. A name the expression does not match keeps its row,
with the file's stem (Otter's export timestamp dropped) as the Student and the ID columns left empty.
"""

import collections
import csv
import pathlib
import re

from .page import points

# lastfirst_[LATE_]<user id>_<submission id>_<uploaded file name>, as Canvas names downloaded submissions
DEFAULT_STUDENT_PATTERN = r"^(?P<name>[^_]+)_(?:LATE_)?(?P<id>\d+)_\d+_"
ID_COLUMNS = {"id": "ID", "sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID"}
STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
# A spreadsheet runs a cell that starts with one of these as a formula; file names come from students.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The timestamp otter.Notebook.export puts after the notebook's name: _%Y_%m_%dT%H_%M_%S_%f
EXPORT_TIMESTAMP = re.compile(r"_\d{4}_\d{2}_\d{2}T\d{2}_\d{2}_\d{2}_\d{6}$")


def student_rule(pattern=None):
    """The compiled pattern (default: Canvas's download names); a clear ValueError when it cannot serve."""
    source = DEFAULT_STUDENT_PATTERN if pattern is None else pattern
    try:
        rule = re.compile(source, re.ASCII)  # \d is 0-9 only: an ID of other digits is not an ID
    except re.error as error:
        raise ValueError(f"student pattern {source!r} is not a regular expression: {error}") from None
    if not set(ID_COLUMNS) & set(rule.groupindex):
        raise ValueError(f"student pattern {source!r} needs a named group for the student: "
                         f"{', '.join(f'(?P<{group}>...)' for group in ID_COLUMNS)}")
    return rule


def student_columns(file_name, rule):
    """Canvas's student columns for one submission file."""
    match = rule.search(file_name)
    groups = {name: value for name, value in (match.groupdict() if match else {}).items() if value}
    columns = dict.fromkeys(STUDENT_COLUMNS, "")
    columns.update({column: groups[group] for group, column in ID_COLUMNS.items() if group in groups})
    columns["Student"] = groups.get("name") or stem(file_name)
    return {column: inert(value) for column, value in columns.items()}


def inert(cell):
    """The cell as text a spreadsheet shows rather than evaluates."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def stem(file_name):
    """The file name without its extension and without Otter's export timestamp."""
    return EXPORT_TIMESTAMP.sub("", pathlib.PurePath(file_name).stem)


def write(batch, path, rule):
    """Write the CSV; return warnings about students that more than one file claims (each file keeps its row)."""
    score_columns = [batch.assignment, *(f"{batch.assignment}: {question}" for question in batch.possible)]
    rows = [{**student_columns(submission.file, rule),
             **dict(zip(score_columns, map(grade_cell, [submission.total, *submission.points.values()])))}
            for submission in batch.submissions]
    possible = {"Student": POINTS_POSSIBLE,
                **dict(zip(score_columns, map(points, [batch.total_possible, *batch.possible.values()])))}
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=STUDENT_COLUMNS + score_columns, restval="")
        writer.writeheader()
        writer.writerows([possible, *rows])
    return shared_students(batch, rows)


def grade_cell(value):
    """Points, or an empty cell for a submission that was not graded: Canvas reads a blank as "no change",
    where a 0 would be a grade."""
    return "" if value is None else points(value)


def shared_students(batch, rows):
    claims = collections.defaultdict(list)
    for submission, row in zip(batch.submissions, rows):
        claims[student_key(row)].append(submission.file)
    return [f"warning: {len(files)} files name the same student in grades_lms.csv: {', '.join(files)}"
            for files in claims.values() if len(files) > 1]


def student_key(row):
    """The IDs Canvas matches a row by; the Student column when there are none."""
    ids = tuple(row[column] for column in ID_COLUMNS.values())
    return ids if any(ids) else row["Student"]
