"""Every catalogue submission earns exactly its expected points per question through make grade, its
public checks say what the case expects, and no grading output (results.json, grading.log) holds a
line of a hidden test."""

import pytest

from kit import catalogue, outfolder
from kit.batch import grade
from kit.batch.table import points_per_question
from kit.settings import Settings
from kit.layout import Layout
from kit.grading.status import Completed
from tests.hidden_tests import hidden_test_lines

ASSIGNMENTS = Layout().assignment_names()
GRADING_TIMEOUT = 300  # seconds; far above the slowest fair submission, see the README's timings


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade an assignment's whole catalogue once; cases with a timeout of their own form their own batch."""
    assignment = request.param
    cases = catalogue.load_cases(Layout().catalogue(assignment))
    rows, checks, outputs = {}, {}, []
    for timeout in sorted({case.get("timeout", GRADING_TIMEOUT) for case in cases.values()}):
        batch = {name: case for name, case in cases.items() if case.get("timeout", GRADING_TIMEOUT) == timeout}
        folder = tmp_path_factory.mktemp(f"{assignment}-{timeout}")
        catalogue.main(assignment=assignment, cases=batch, out=folder / "in")
        table = grade.main(assignment=assignment, submissions=folder / "in", out=folder / "out", settings=Settings(timeout=timeout))
        rows.update(table.set_index("file").to_dict(orient="index"))
        checks.update({row.file: row.checks for row in outfolder.read(folder / "out").submissions})
        outputs += [path for path in (folder / "out").rglob("*") if path.is_file()]
    return assignment, cases, rows, checks, outputs


@pytest.mark.slow
def test_each_case_earns_its_expected_points(graded):
    assignment, cases, rows, _, _ = graded
    possible = points_per_question(Layout().autograder_zip(assignment))
    wrong = {}
    for name, case in cases.items():
        row = rows[case.get("file", f"{name}.ipynb")]
        expected = catalogue.expected_scores(case, possible)
        got = {question: row[question] for question in possible}
        status = case.get("expected", {}).get("status", Completed().text)
        if any(abs(got[q] - expected[q]) > 1e-6 for q in possible) or not row["grading_status"].startswith(status):
            wrong[name] = {"expected": expected, "got": got, "status": row["grading_status"]}
    assert not wrong, wrong


@pytest.mark.slow
def test_each_case_gets_its_expected_public_checks(graded):
    """The public tests are judged in the same run as the hidden ones (results.json's test_cases, read
    as the report reads them), so what grader.check shows a student is asserted for every case that
    completes."""
    assignment, cases, rows, checks, _ = graded
    questions = list(points_per_question(Layout().autograder_zip(assignment)))
    wrong = {}
    for name, case in cases.items():
        file_name = case.get("file", f"{name}.ipynb")
        if not rows[file_name]["grading_status"].startswith(Completed().text):
            continue
        assert checks[file_name] is not None, f"{name}: its results record no test cases"
        shown = public_failures(checks[file_name])
        for question, expected in catalogue.expected_public_checks(case, questions).items():
            failures = shown.get(question, [])
            if not public_check_agrees(expected, failures):
                wrong[f"{name}: {question}"] = {"expected": expected, "failures": failures}
    assert not wrong, wrong


def public_failures(checks):
    """{question: messages of its failing public test cases}."""
    failures = {}
    for check in checks:
        if not check.hidden and not check.passed:
            failures.setdefault(check.question, []).append(check.message)
    return failures


def public_check_agrees(expected, failures):
    if expected == "pass":
        return not failures
    if expected == "fail":
        return bool(failures)
    return any(expected in message for message in failures)


@pytest.mark.slow
def test_no_hidden_test_line_in_any_output(graded):
    assignment, _, _, _, outputs = graded
    hidden = hidden_test_lines(assignment)
    assert hidden and outputs
    for path in outputs:
        text = path.read_text(errors="replace")
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path} holds hidden test lines: {leaked[:3]}"
