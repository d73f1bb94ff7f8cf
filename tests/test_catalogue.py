"""Every catalogue submission earns exactly its expected points per question through make grade, and no
grading output (results.json, grading.log) holds a line of a hidden test."""

import pytest

from kit import grade, submissions
from kit.layout import Layout
from tests.test_build import hidden_test_lines

ASSIGNMENTS = Layout().assignment_names()
GRADING_TIMEOUT = 300  # seconds; far above the slowest fair submission, see the README's timings


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade an assignment's whole catalogue once; cases with a timeout of their own form their own batch."""
    assignment = request.param
    cases = submissions.load_cases(submissions.CATALOGUE / assignment)
    rows, outputs = {}, []
    for timeout in sorted({case.get("timeout", GRADING_TIMEOUT) for case in cases.values()}):
        batch = {name: case for name, case in cases.items() if case.get("timeout", GRADING_TIMEOUT) == timeout}
        folder = tmp_path_factory.mktemp(f"{assignment}-{timeout}")
        submissions.main(assignment=assignment, cases=batch, out=folder / "in")
        table = grade.main(assignment=assignment, submissions=folder / "in", out=folder / "out", timeout=timeout)
        rows.update(table.set_index("file").to_dict(orient="index"))
        outputs += [path for path in (folder / "out").rglob("*") if path.is_file()]
    return assignment, cases, rows, outputs


@pytest.mark.slow
def test_each_case_earns_its_expected_points(graded):
    assignment, cases, rows, _ = graded
    possible = grade.points_per_question(Layout().autograder_zip(assignment))
    wrong = {}
    for name, case in cases.items():
        row = rows[case.get("file", f"{name}.ipynb")]
        expected = submissions.expected_scores(case, possible)
        got = {question: row[question] for question in possible}
        status = case.get("expected", {}).get("status", grade.COMPLETED)
        if any(abs(got[q] - expected[q]) > 1e-6 for q in possible) or not row["grading_status"].startswith(status):
            wrong[name] = {"expected": expected, "got": got, "status": row["grading_status"]}
    assert not wrong, wrong


@pytest.mark.slow
def test_no_hidden_test_line_in_any_output(graded):
    assignment, _, _, outputs = graded
    hidden = hidden_test_lines(assignment)
    assert hidden and outputs
    for path in outputs:
        text = path.read_text(errors="replace")
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path} holds hidden test lines: {leaked[:3]}"
