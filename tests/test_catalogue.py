"""Every catalogue submission earns exactly its expected points per question through make grade."""

import pytest

from kit import grade, submissions
from kit.layout import Layout
ASSIGNMENTS = Layout().assignment_names()
GRADING_TIMEOUT = 300  # seconds; far above the slowest fair submission, see the README's timings


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade an assignment's whole catalogue once; cases with a timeout of their own form their own batch."""
    assignment = request.param
    cases = submissions.load_cases(submissions.CATALOGUE / assignment)
    rows = {}
    for timeout in sorted({case.get("timeout", GRADING_TIMEOUT) for case in cases.values()}):
        batch = {name: case for name, case in cases.items() if case.get("timeout", GRADING_TIMEOUT) == timeout}
        folder = tmp_path_factory.mktemp(f"{assignment}-{timeout}")
        submissions.main(assignment=assignment, cases=batch, out=folder / "in")
        table = grade.main(assignment=assignment, submissions=folder / "in", out=folder / "out", timeout=timeout)
        rows.update(table.set_index("file").to_dict(orient="index"))
    return assignment, cases, rows


@pytest.mark.slow
def test_each_case_earns_its_expected_points(graded):
    assignment, cases, rows = graded
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
