"""The notebook's own export cell writes the zip students submit, and it grades as the notebook does."""

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from kit import grade
from kit.layout import Layout

LAYOUT = Layout()


@pytest.mark.slow
@pytest.mark.parametrize("name", LAYOUT.assignment_names())
def test_exported_zip_grades_like_the_notebook(name, tmp_path):
    student_folder = tmp_path / "student"
    shutil.copytree(LAYOUT.assignment / name, student_folder)
    notebook_path = student_folder / f"{name}.ipynb"
    shutil.copy(LAYOUT.solution_notebook(name), notebook_path)  # a student's finished, saved notebook
    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(student_folder)}}).execute()
    (export,) = student_folder.glob(f"{name}_*.zip")
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(export, submissions / "exported.zip")
    shutil.copy(notebook_path, submissions / "notebook.ipynb")
    table = grade.main(assignment=name, submissions=submissions, out=tmp_path / "graded", timeout=600)
    rows = table.set_index("file")
    assert (rows["grading_status"].iloc[1:] == grade.COMPLETED).all(), rows["grading_status"]
    assert rows.loc["exported.zip"].equals(rows.loc["notebook.ipynb"])
    assert rows.loc["exported.zip", "percent_correct"] == 1
