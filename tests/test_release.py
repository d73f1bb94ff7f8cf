"""What a student meets in the release before any grading: the notebook without its data, offline."""

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from kit.layout import Layout

LAYOUT = Layout()
UNREACHABLE_PROXY = "http://127.0.0.1:9"  # nothing listens there: every download fails at once


def cells_until(notebook, text):
    """The notebook cut after the first code cell holding text."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and text in cell.source:
            notebook.cells = notebook.cells[:index + 1]
            return notebook
    raise LookupError(text)


def shown_text(cell):
    return "".join(output.get("text", "") + "".join(output.get("traceback", [])) for output in cell.outputs)


@pytest.mark.slow
def test_missing_data_file_says_where_it_goes(tmp_path, monkeypatch):
    folder = tmp_path / "student"
    shutil.copytree(LAYOUT.assignment / "sequential_mnist", folder)
    shutil.rmtree(folder / "data")
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, UNREACHABLE_PROXY)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no cached download either
    notebook = cells_until(nbformat.read(LAYOUT.release_notebook("sequential_mnist"), as_version=4),
                           "show_digit_as_sequence(train_images")
    NotebookClient(notebook, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}).execute()
    *_, data_cell, later_cell = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "FileNotFoundError" in shown_text(data_cell)
    assert f"at {folder.resolve() / 'data' / 'mnist.npz'}" in shown_text(data_cell)
    later = shown_text(later_cell)
    assert "Not run: MNIST is missing" in later and "NameError" not in later, later
