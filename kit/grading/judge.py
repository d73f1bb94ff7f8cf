"""Run the autograder's Otter test files against stand-ins for the notebook's names, outside the kernel."""

import contextlib
import json
import pathlib
import sys

from otter.run.run_autograder.autograder_config import AutograderConfig
from otter.test_files import GradingResults
from otter.test_files.exception_test import ExceptionTestFile

from .exchange import AnswerRefused, StudentError
from .kernel import DeadKernelError, KernelTimeout
from .standins.layers import UnsupportedLayer

MESSAGE_CHARACTERS = 300
REFERENCES_FILE = "references.json"  # built by `make build`: values the tests compare answers with


class SealedTestFile(ExceptionTestFile):
    """Otter's exception-based test file, whose failure messages never quote the test's source."""

    def _generate_error_message(self, excp, context=0):
        return withhold_test_source(failure_message(excp), self.source)


def withhold_test_source(message, source):
    """A message that quotes a line of the test file (student text that found its way to the tests) is withheld."""
    quoted = [line.strip() for line in source.splitlines()
              if len(line.strip()) >= 20 and not line.strip().startswith(("import ", "from "))]
    if any(line in message for line in quoted):
        return "the message of this failure is withheld: it quotes the grader's tests"
    return message


def failure_message(error):
    """One line for a failed test case: the assertion's own message, or what went wrong, never test code."""
    if isinstance(error, AssertionError):
        text = str(error) or "a check in this test failed"
    elif isinstance(error, StudentError):
        text = f"your code raised {error}"
    elif isinstance(error, (AnswerRefused, UnsupportedLayer, DeadKernelError, KernelTimeout)):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CHARACTERS else text[:MESSAGE_CHARACTERS - 1] + "…"


class Environment(dict):
    """What the tests see: the notebook's names, each fetched from the kernel when a test first asks."""

    def __init__(self, decoder, extras):
        super().__init__(extras)
        self.decoder = decoder

    def get(self, name, default=None):
        if name not in self:
            self[name] = self.decoder.fetch(name)
        return self[name]


def load_references(source):
    path = pathlib.Path(source) / REFERENCES_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def test_files(source):
    return [SealedTestFile.from_file(str(path)) for path in sorted((pathlib.Path(source) / "tests").glob("*.py"))]


def points_per_question(source):
    """{question: points possible}, from the autograder's test files."""
    return {test_file.name: test_file.possible for test_file in sorted(test_files(source), key=lambda f: f.name)}


def run_tests(source, decoder, measurements, cells):
    """Run every tests/*.py of the autograder in `source`; returns Otter's GradingResults.

    Tests that take a `measurements` argument record figures in that dict (the trained model's test
    accuracy, say), so that reports can show them as data. A test's `In`, the cells run (IPython's
    name for them), is the list the runner sent, not the kernel's, which student code can rewrite.
    """
    environment = Environment(decoder, {"references": load_references(source), "measurements": measurements,
                                        "In": list(cells)})
    files = test_files(source)
    release = pathlib.Path(source) / "files"  # the autograder's copy of the release folder: data/, check_helpers.py
    with contextlib.chdir(release), importable(release):  # tests read and import its files as the notebook does
        for test_file in files:
            test_file.run(environment)
            if test_file.score > test_file.possible:  # cannot happen with Otter's scoring; the cap holds anyway
                test_file.update_score(test_file.possible)
    return GradingResults(files)


@contextlib.contextmanager
def importable(folder):
    """folder on sys.path, after everything installed, while the tests run: a test's `from check_helpers import
    kinds` finds the autograder's copy, as it finds the release's beside the notebook in the kernel. The
    modules imported from folder are forgotten with it."""
    folder = pathlib.Path(folder).absolute()
    sys.path.append(str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name, module in list(sys.modules.items()):
            if pathlib.Path(getattr(module, "__file__", None) or "/").is_relative_to(folder):
                del sys.modules[name]


def test_case_records(results):
    """One plain record per test case: its question, name, visibility, points, outcome and message."""
    return [{"question": test_file.name, "name": check_name(result.test_case), "hidden": bool(result.test_case.hidden),
             "points": result.test_case.points, "passed": bool(result.passed),
             "message": None if result.passed else result.message.partition("\n")[2]}
            for test_file in results.results.values() for result in test_file.test_case_results]


def check_name(test_case):
    """The test function's name ("test_loss_for_one_hot_labels"), which says more than Otter's "build_model - 3"."""
    return getattr(getattr(test_case.body, "test_func", None), "__name__", test_case.name)


def gradescope_results(results, source):
    """Otter's results.json (Gradescope's format) under the autograder's own settings."""
    config = json.loads((pathlib.Path(source) / "otter_config.json").read_text())
    return results.to_gradescope_dict(AutograderConfig(config))
