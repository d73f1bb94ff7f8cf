"""autograder.zip grades through its own entry point (run_otter.py) in a Gradescope-shaped folder."""

import json
import os

import pytest

from kit import catalogue, preflight
from kit.grading import gradescope, runner, status
from kit.layout import ROOT, Layout
from tests.leftovers import decoy_tree, plant_decoy
from tests.hidden_tests import hidden_test_lines

LAYOUT = Layout()
NAMES = LAYOUT.assignment_names()
NO_TRAINING = "lstm_parameters"  # its cases grade in seconds
HOSTILE = ROOT / "tests" / "hostile"
# The zip's path differs from make grade's only before the runner (the upload unpacked in a
# Gradescope-shaped folder). So every attack on the upload itself runs here, as does every attack of
# the assignment that trains nothing; sequential_mnist's attacks from inside the kernel, which train
# a model each, are proven through the same runner by test_catalogue.
TAMPER_CASES = [(name, case_name) for name in NAMES
                for case_name, case in catalogue.load_cases(Layout().catalogue(name)).items()
                if case_name.startswith("tamper_") and (name == NO_TRAINING or case.get("file", "").endswith(".zip"))]


def run_like_gradescope(name, upload, tmp_path):
    """The zip's own entry point on upload, in a Gradescope-shaped folder; (results, its output)."""
    results, completed = preflight.run_entry_point(LAYOUT.autograder_zip(name), upload, tmp_path / "autograder")
    assert completed.returncode == 0 and results is not None, completed.stderr[-3000:]
    return results, completed.stdout + completed.stderr


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
    case = catalogue.load_cases(Layout().catalogue(name))[case_name]
    (upload,) = catalogue.main(assignment=name, cases={case_name: case}, out=tmp_path / "in")
    results, log = run_like_gradescope(name, upload, tmp_path)
    possible = {test["name"]: test["max_score"] for test in results["tests"] if "max_score" in test}
    expected = catalogue.expected_scores(case, possible)
    assert question_scores(results) == pytest.approx(expected), results
    output = json.dumps(results) + log
    for line in hidden_test_lines(name):
        assert line not in output, f"a hidden test line reached the output: {line}"


def test_a_grading_the_grader_failed_fails_loudly_rather_than_posting_0(tmp_path, monkeypatch):
    """Gradescope posts whatever results.json says: the entry point tries again, then writes none and exits
    non-zero, which Gradescope shows the instructor as an autograder failure to rerun."""
    for folder in ("source", "submission", "results"):
        (tmp_path / folder).mkdir()
    (tmp_path / "source" / gradescope.SETTINGS_FILE).write_text('{"timeout": 42}')
    budgets = []

    def failing_grade(*, upload, source, timeout, limits):
        budgets.append(timeout)
        return runner.failed_report_for({"q": 1}, status.NotGraded("the kernel did not start"))

    monkeypatch.setattr(runner, "grade", failing_grade)
    monkeypatch.setattr(runner, "limit_judge_memory", lambda: None)  # not this test process's memory
    with pytest.raises(SystemExit, match="could not grade this submission .not graded: the kernel did not start"):
        gradescope.main(root=tmp_path)
    assert budgets == [42] * gradescope.ATTEMPTS, "each attempt gets the zip's own timeout"
    assert not (tmp_path / "results" / "results.json").exists()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the kernel runs as a user id of its own only as root")
def test_the_judge_follows_no_link_the_kernel_plants_through_the_zip(tmp_path):
    """The hostile swap of the judge's folder, through the zip's entry point: full marks, the decoy untouched."""
    case = catalogue.load_cases(HOSTILE)["swaps_the_judge_folder"]
    (upload,) = catalogue.main(assignment=NO_TRAINING, cases={"swaps_the_judge_folder": case}, out=tmp_path / "in")
    plant_decoy()
    results, _ = run_like_gradescope(NO_TRAINING, upload, tmp_path)
    assert all(test["score"] == test["max_score"] for test in results["tests"] if "max_score" in test), results
    assert decoy_tree() == [("q5", 0), ("q5/secret", 0), ("q5/sub", 0)]
