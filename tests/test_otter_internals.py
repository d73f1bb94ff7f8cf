"""Every piece of Otter the kit relies on beyond Otter's documented use, one test each, so that an
Otter upgrade that changes one fails here, by name, before a grading goes wrong.

Only requirements.txt's pin guards these otherwise: the judge subclasses ExceptionTestFile and
overrides a private method, the runner prepares cells with GradingPreprocessor methods outside
otter.execute's __all__, the kernel's prelude replaces Notebook methods, and the Canvas CSV reads
the export zip's name. Fast: nothing here starts a kernel.
"""

import dataclasses
import inspect

import nbformat
import otter
from otter.execute import Checker
from otter.execute.preprocessor import GradingPreprocessor
from otter.nbmeta_config import NBMetadataConfig
from otter.run.run_autograder.autograder_config import AutograderConfig
from otter.test_files import GradingResults
from otter.test_files import abstract_test  # as a module: pytest would collect its Test* classes
from otter.test_files.exception_test import ExceptionTestFile, test_case

from kit.canvas import EXPORT_TIMESTAMP
from kit.grading import judge

TEST_FILE = '''from otter.test_files import test_case

name = "q1"
points = 2

@test_case(points=None, hidden=False)
def test_passes(x):
    assert x == 1

@test_case(points=None, hidden=True)
def test_fails(x, y):
    assert y == 2, "y should be 2"
'''


def parameters(function):
    return list(inspect.signature(function).parameters)


def run_test_file(environment):
    test_file = judge.SealedTestFile.from_string(TEST_FILE, path="q1.py")
    test_file.run(environment)
    return test_file


def test_the_judges_error_message_replaces_the_one_otter_generates():
    """judge.SealedTestFile overrides the private _generate_error_message, which run() must still call for
    every failure; judge.test_case_records reads the message after the one line Otter puts first."""
    assert parameters(ExceptionTestFile._generate_error_message) == ["self", "excp", "context"]
    (_, failed) = run_test_file({"x": 1, "y": 3}).test_case_results
    assert not failed.passed and failed.message.partition("\n")[2] == "y should be 2"


def test_a_test_file_reads_and_runs_as_the_judge_uses_it():
    """judge.test_files, run_tests and points_per_question: from_file, run, score, possible, update_score,
    the results' test_case, passed and message, and source (which the judge's messages may not quote)."""
    assert parameters(ExceptionTestFile.from_file) == ["path"]
    assert parameters(ExceptionTestFile.run) == ["self", "global_environment"]
    assert parameters(ExceptionTestFile.update_score) == ["self", "new_score"]
    test_file = run_test_file({"x": 1, "y": 2})
    assert (test_file.name, test_file.score, test_file.possible, test_file.source) == ("q1", 2, 2, TEST_FILE)
    assert all(isinstance(result, abstract_test.TestCaseResult) and result.passed for result in test_file.test_case_results)
    test_file.update_score(1)
    assert test_file.score == 1


def test_a_test_case_gets_each_argument_through_the_environments_get():
    """judge.Environment fetches a notebook name from the kernel when Otter asks for it with get()."""

    class Recording(dict):
        asked = []

        def get(self, name, default=None):
            self.asked.append(name)
            return {"x": 1, "y": 2}[name]

    assert run_test_file(Recording()).passed_all
    assert Recording.asked == ["x", "x", "y"]


def test_a_test_case_carries_what_the_judges_records_read():
    """judge.test_case_records and check_name: a TestCase's name, body (the decorator, whose test_func is
    the function), hidden and points."""
    assert {"name", "body", "hidden", "points"} <= {field.name for field in dataclasses.fields(abstract_test.TestCase)}
    (passed, _) = run_test_file({"x": 1, "y": 2}).test_case_results
    assert isinstance(passed.test_case.body, test_case) and passed.test_case.body.test_func.__name__ == "test_passes"
    assert passed.test_case.hidden is False and passed.test_case.points == 1


def test_grading_results_are_built_from_test_files_and_written_for_gradescope():
    """judge.run_tests and gradescope_results: GradingResults(test files), its results by name, and
    to_gradescope_dict under an AutograderConfig made from otter_config.json's dict."""
    assert parameters(GradingResults.__init__)[:2] == ["self", "test_files"]
    results = GradingResults([run_test_file({"x": 1, "y": 2})])
    assert list(results.results) == ["q1"]
    report = results.to_gradescope_dict(AutograderConfig({"assignment_name": "a"}))
    scored = [(test["name"], test["score"], test["max_score"]) for test in report["tests"] if "max_score" in test]
    assert scored == [("q1", 2, 2)]


def test_the_preprocessor_prepares_cells_as_the_runner_calls_it():
    """runner.notebook_cells: GradingPreprocessor(seed=, seed_variable=), filter_ignored_cells and add_seeds,
    neither in otter.execute's __all__."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1"),
                                               nbformat.v4.new_code_cell("b = 2", metadata={"tags": ["otter_ignore"]})])
    preprocessor = GradingPreprocessor(seed=7, seed_variable="seed")
    assert parameters(preprocessor.filter_ignored_cells) == parameters(preprocessor.add_seeds) == ["nb"]
    preprocessor.filter_ignored_cells(notebook)
    preprocessor.add_seeds(notebook)
    assert [cell.source for cell in notebook.cells] == ["seed = 7\na = 1"]


def test_a_notebooks_assignment_name_is_read_from_its_metadata():
    """submission.read_notebook checks the upload's assignment with NBMetadataConfig.from_notebook."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["otter"] = {"assignment_name": "lstm_parameters"}
    assert NBMetadataConfig.from_notebook(notebook).assignment_name == "lstm_parameters"


def test_the_kernels_prelude_replaces_what_it_means_to(monkeypatch):
    """runner.PRELUDE calls Notebook.init_grading_mode(tests_dir), which turns export off, and replaces
    check(self, question, global_env=None) and check_all(self) with lambdas of the same parameters."""
    for owner, name in ((otter.Notebook, "_grading_mode"), (otter.Notebook, "_tests_dir_override"),
                        (Checker, "_track_results"), (Checker, "_test_files")):
        monkeypatch.setattr(owner, name, getattr(owner, name))  # put back after the test
    assert parameters(otter.Notebook.check) == ["self", "question", "global_env"]
    assert parameters(otter.Notebook.check_all) == ["self"]
    otter.Notebook.init_grading_mode("no-tests-in-the-kernel")
    assert otter.Notebook.__new__(otter.Notebook).export() is None  # without a notebook: it did nothing


def test_an_export_zip_is_named_with_the_timestamp_the_canvas_csv_strips():
    """canvas.EXPORT_TIMESTAMP matches the time Notebook.export puts after the notebook's name."""
    source = inspect.getsource(otter.Notebook.export)
    assert 'strftime("%Y_%m_%dT%H_%M_%S_%f")' in source and '+ "_" + timestamp + ".zip"' in source
    assert EXPORT_TIMESTAMP.search("lstm_parameters_2026_12_03T06_30_00_123456")
