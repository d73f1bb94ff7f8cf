"""Write catalogue cases (a release notebook with some cells rewritten) out as submission files."""

import pathlib
import zipfile

import nbformat
import yaml

from .layout import ROOT, Layout

CATALOGUE = ROOT / "tests" / "submissions"  # one folder of case files per assignment

# Each case is a YAML file. Its keys:
#   description  what the student did, in a sentence
#   base         "solution" (default) or "student": the notebook the edits start from
#   assignment   take the base notebook from another assignment (default: the case's own)
#   cells        edits, in order: {find: text, source: code} replaces the first code cell holding
#                the text
#   text         instead of a notebook, the file's raw contents (a broken upload)
#   file         the submission's file name (default: the case name + ".ipynb"); ".zip" names
#                are written as an Otter export zip holding the notebook
#   extra_files  {path: text} written into that zip beside the notebook (files grading must ignore)
#   expected     points per question that differ from the base's (full marks for a solution
#                base, none for a student base), and optionally "status"
#   public       what grader.check shows per question, where it differs from the base's (every
#                public test passes on a solution base, some fail on a student base): "pass",
#                "fail", or a text that one failing public test's message must contain
#   timeout      seconds to grade it under, in the catalogue test (default: that test's own)
#   demo         true to include the case in `make demo`


def load_cases(cases_dir):
    """{case name: case dict} for every YAML file in cases_dir."""
    return {path.stem: yaml.safe_load(path.read_text()) for path in sorted(pathlib.Path(cases_dir).glob("*.yaml"))}


def main(*, assignment, cases, out, root=None):
    """Write each case in cases ({name: case}) into out; return the written paths."""
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
