"""autograder.zip grades through its own entry point (run_otter.py) in a Gradescope-shaped folder."""

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from kit import submissions
from kit.layout import Layout
from tests.test_build import hidden_test_lines

LAYOUT = Layout()
NAMES = LAYOUT.assignment_names()
TAMPER_CASES = [(name, case) for name in NAMES
                for case in submissions.load_cases(submissions.CATALOGUE / name) if case.startswith("tamper_")]


def run_like_gradescope(name, upload, tmp_path):
    """Lay out source/, submission/ and results/ as Gradescope does and run the zip's run_otter.py.

    Gradescope unpacks an uploaded zip into submission/; a notebook is copied there as it is.
    """
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(LAYOUT.autograder_zip(name)) as archive:
        archive.extractall(root / "source")
    if upload.suffix == ".zip":
        with zipfile.ZipFile(upload) as archive:
            archive.extractall(root / "submission")
    else:
        shutil.copy(upload, root / "submission")
    (root / "submission_metadata.json").write_text("{}")
    entry_point = (root / "source" / "run_otter.py").read_text()
    assert entry_point.count('"/autograder"') == 1, "run_otter.py grades the folder /autograder"
    (root / "source" / "run_here.py").write_text(entry_point.replace('"/autograder"', repr(str(root))))
    completed = subprocess.run([sys.executable, "run_here.py"], cwd=root / "source", capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text()), completed.stdout + completed.stderr


def question_scores(results):
    return {test["name"]: test["score"] for test in results["tests"] if "max_score" in test}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_solution_scores_full_marks_and_hides_hidden_tests(name, tmp_path):
    results, _ = run_like_gradescope(name, LAYOUT.solution_notebook(name), tmp_path)
    questions = [test for test in results["tests"] if "max_score" in test]
    assert questions and all(test["score"] == test["max_score"] for test in questions), questions
    assert all(test["visibility"] == "after_published" for test in questions), "scores show once grades are published"
    assert results.get("stdout_visibility", "hidden") != "visible", "the grading log stays private"
    assert results["extra_data"]["status"] == "Completed"


@pytest.mark.slow
@pytest.mark.parametrize("name, case_name", TAMPER_CASES)
def test_tampering_gains_nothing_through_the_zip(name, case_name, tmp_path):
    """Each tamper case earns exactly its catalogue points through Gradescope's path too, and sees no hidden test."""
    case = submissions.load_cases(submissions.CATALOGUE / name)[case_name]
    (upload,) = submissions.main(assignment=name, cases={case_name: case}, out=tmp_path / "in")
    results, log = run_like_gradescope(name, upload, tmp_path)
    possible = {test["name"]: test["max_score"] for test in results["tests"] if "max_score" in test}
    expected = submissions.expected_scores(case, possible)
    assert question_scores(results) == pytest.approx(expected), results
    output = json.dumps(results) + log
    for line in hidden_test_lines(name):
        assert line not in output, f"a hidden test line reached the output: {line}"
