"""An assignment's catalogue: realistic submissions, each a YAML case (a release notebook with some cells
rewritten), validated against SCHEMA and written out as the files students would submit.

Each assignment's cases are in catalogue/<assignment>/ (Layout.catalogue); the tests grade every one,
`make demo` the cases marked demo, `make preflight` those its profile names.
"""

import pathlib
import zipfile

import nbformat
import yaml

from .layout import Layout

# Each case's keys: {key: (the types its value may have, what it means)}. Only description is required.
SCHEMA = {
    "description": (str, "what the student did, in a sentence"),
    "base": (str, '"solution" (default) or "student": the notebook the edits start from'),
    "assignment": (str, "take the base notebook from another assignment (default: the case's own)"),
    "cells": (list, "edits, in order: {find: text, source: code} replaces the first code cell holding the text"),
    "text": (str, "instead of a notebook, the file's raw contents (a broken upload)"),
    "file": (str, 'the file name (default: the case name + ".ipynb"); a ".zip" name is an Otter export zip'),
    "extra_files": (dict, "{path: text} written into that zip beside the notebook (files grading must ignore)"),
    "expected": (dict, "points per question that differ from the base's (full marks for a solution base, none "
                       "for a student base), and optionally the grading status"),
    "public": (dict, 'what grader.check shows per question where it differs from the base\'s: "pass", "fail", '
                     "or a text that one failing public test's message must contain"),
    "timeout": ((int, float), "seconds to grade it under, in the catalogue test (default: that test's own)"),
    "demo": (bool, "true to include the case in `make demo`"),
}
BASES = ("solution", "student")


class CaseError(ValueError):
    """A catalogue case that does not follow SCHEMA; the message names its file and what is wrong."""


def load_cases(folder):
    """{case name: case dict} for every YAML file in folder, each checked against SCHEMA."""
    return {path.stem: checked_case(path) for path in sorted(pathlib.Path(folder).glob("*.yaml"))}


def checked_case(path):
    case = yaml.safe_load(path.read_text())
    if not isinstance(case, dict):
        raise CaseError(f"{path}: a case is a mapping of keys ({', '.join(SCHEMA)})")
    problems = [*(f"unknown key {key!r}" for key in case if key not in SCHEMA),
                *(f"{key} should be {' or '.join(kind.__name__ for kind in kinds(key))}"
                  for key, value in case.items() if key in SCHEMA and not isinstance(value, SCHEMA[key][0])),
                *(["description is missing"] if "description" not in case else []),
                *([f"base should be one of {', '.join(BASES)}"] if case.get("base", "solution") not in BASES else []),
                *(f"edit {number} needs find and source" for number, edit in enumerate(case.get("cells") or [], 1)
                  if not (isinstance(edit, dict) and {"find", "source"} <= set(edit)))]
    if problems:
        raise CaseError(f"{path}: {'; '.join(problems)}")
    return case


def kinds(key):
    kind = SCHEMA[key][0]
    return kind if isinstance(kind, tuple) else (kind,)


def main(*, assignment, cases, out, root=None):
    """Write each case in cases ({name: case}, from load_cases) into out; return the written paths."""
    layout = Layout(root)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [write_case(layout, assignment, name, case, out) for name, case in cases.items()]


def write_case(layout, assignment, name, case, out):
    path = out / case.get("file", f"{name}.ipynb")
    if "text" in case:
        path.write_text(case["text"])
        return path
    notebook = edited_notebook(layout, case.get("assignment", assignment), case)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"{assignment}.ipynb", nbformat.writes(notebook))
            for name, text in case.get("extra_files", {}).items():
                archive.writestr(name, text)
    else:
        nbformat.write(notebook, path)
    return path


def edited_notebook(layout, assignment, case):
    base = case.get("base", "solution")
    source = {"solution": layout.solution_notebook, "student": layout.release_notebook}[base](assignment)
    notebook = nbformat.read(source, as_version=4)
    for edit in case.get("cells", []):
        find_code_cell(notebook, edit["find"]).source = edit["source"]
    return notebook


def find_code_cell(notebook, text):
    for cell in notebook.cells:
        if cell.cell_type == "code" and text in cell.source:
            return cell
    raise LookupError(f"no code cell contains {text!r}")


def expected_public_checks(case, questions):
    """{question: "pass" | "fail" | text of a failure message} that grader.check should show."""
    default = "pass" if case.get("base", "solution") == "solution" else "fail"
    return {question: case.get("public", {}).get(question, default) for question in questions}


def expected_scores(case, points):
    """{question: points} the case should earn, given the points possible per question."""
    completes = case.get("expected", {}).get("status", "Completed") == "Completed"
    full_marks = case.get("base", "solution") == "solution" and "text" not in case and completes
    expected = {question: (possible if full_marks else 0) for question, possible in points.items()}
    expected.update({key: value for key, value in case.get("expected", {}).items() if key in points})
    return expected
