"""make build: the committed releases match solutions/, and no hidden test reaches students."""

import filecmp
import json
import pathlib
import shutil
import zipfile

import pytest

from kit import build
from kit.layout import Layout
from tests.hidden_tests import hidden_test_functions

LAYOUT = Layout()
NAMES = LAYOUT.assignment_names()
SOURCES = ("solutions", "data", "images", "requirements.txt", "check_helpers.py")


def release_texts(name):
    """Each text file of a release; a notebook as all its strings, JSON escapes undone."""
    for path in (LAYOUT.assignment / name).rglob("*"):
        if path.suffix == ".ipynb":
            yield path, "\n".join(json_strings(json.loads(path.read_text())))
        elif path.is_file() and path.suffix in {".py", ".md", ".txt", ".json", ".yaml"}:
            yield path, path.read_text()


def json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


@pytest.mark.parametrize("name", NAMES)
def test_release_and_autograder_exist(name):
    assert LAYOUT.release_notebook(name).is_file()
    assert LAYOUT.solution_notebook(name).is_file()
    with zipfile.ZipFile(LAYOUT.autograder_zip(name)) as archive:
        names = set(archive.namelist())
    assert {"run_autograder", "setup.sh", "otter_config.json"} <= names
    assert any(entry.startswith("tests/") for entry in names)


@pytest.mark.parametrize("name", NAMES)
def test_no_hidden_test_reaches_the_release(name):
    hidden = hidden_test_functions(name)
    assert hidden, "every assignment has hidden tests"
    for path, text in release_texts(name):
        for function_name, last_statement in hidden:
            assert f"def {function_name}(" not in text, f"{function_name} leaks into {path}"
            assert last_statement not in text, f"{function_name}'s body leaks into {path}"


@pytest.mark.slow
def test_committed_build_matches_a_fresh_build(tmp_path):
    for source in SOURCES:
        original = LAYOUT.root / source
        if original.is_dir():
            shutil.copytree(original, tmp_path / source)
        elif original.exists():
            shutil.copy(original, tmp_path / source)
    build.main(root=tmp_path, quiet=True)
    for stage in ("assignment", "autograder"):
        assert_same_tree(LAYOUT.root / stage, tmp_path / stage)


def assert_same_tree(committed, fresh):
    comparison = filecmp.dircmp(committed, fresh)
    stale = comparison.left_only + comparison.right_only + comparison.diff_files + comparison.funny_files
    assert not stale, f"{committed} is stale against solutions/ ({stale}): run `make build` and commit"
    _, mismatch, errors = filecmp.cmpfiles(committed, fresh, comparison.common_files, shallow=False)
    assert not mismatch and not errors, f"{committed}: {mismatch + errors} differ: run `make build`"
    for sub in comparison.common_dirs:
        assert_same_tree(pathlib.Path(committed) / sub, pathlib.Path(fresh) / sub)
