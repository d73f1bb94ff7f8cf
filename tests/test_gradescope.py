"""autograder.zip grades through its own entry point (run_otter.py) in a Gradescope-shaped folder."""

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from kit.layout import Layout
from tests.test_build import hidden_test_functions

LAYOUT = Layout()
NAMES = LAYOUT.assignment_names()


def run_like_gradescope(name, submission, tmp_path):
    """Lay out source/, submission/ and results/ as Gradescope does and run the zip's run_otter.py."""
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(LAYOUT.autograder_zip(name)) as archive:
        archive.extractall(root / "source")
    shutil.copy(submission, root / "submission")
    (root / "submission_metadata.json").write_text("{}")
    entry_point = (root / "source" / "run_otter.py").read_text()
    assert '"/autograder"' in entry_point, "run_otter.py grades the folder /autograder"
    script = entry_point.replace('"/autograder"', repr(str(root)))
    subprocess.run([sys.executable, "-c", script], cwd=root / "source", check=True, capture_output=True)
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_full_marks_and_hides_hidden_tests(name, tmp_path):
    results = run_like_gradescope(name, LAYOUT.solution_notebook(name), tmp_path)
    questions = [test for test in results["tests"] if "max_score" in test]
    assert questions and all(test["score"] == test["max_score"] for test in questions), questions
    assert all(test["visibility"] == "after_published" for test in questions), "scores show once grades are published"
    assert results.get("stdout_visibility", "hidden") != "visible", "the grading log stays private"
    visible_now = "\n".join(test.get("output", "") for test in results["tests"] if test.get("visibility") == "visible")
    for function_name, last_statement in hidden_test_functions(name):
        assert function_name not in visible_now and last_statement not in visible_now


@pytest.mark.slow
def test_a_mistake_loses_points_on_its_question_only(tmp_path):
    from kit import submissions
    cases = submissions.load_cases(submissions.CATALOGUE / "lstm_parameters")
    (notebook,) = submissions.main(assignment="lstm_parameters", cases={"gates": cases["gates_in_wrong_order"]},
                                  out=tmp_path / "in")
    results = run_like_gradescope("lstm_parameters", notebook, tmp_path)
    scores = {test["name"]: test["score"] for test in results["tests"] if "max_score" in test}
    assert scores["lstm_step"] == 1 and scores["lstm_params"] == 2
