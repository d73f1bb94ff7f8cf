"""The notebook's own export cell writes the zip students submit, and it grades as the notebook does; run
in Jupyter, the solution passes every grader.check and no cell shows TensorFlow's or Jupyter's noise."""

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from kit.batch import grade
from kit.settings import Settings
from kit.layout import Layout
from kit.grading.status import Completed

LAYOUT = Layout()


@pytest.mark.slow
@pytest.mark.parametrize("name", LAYOUT.assignment_names())
def test_exported_zip_grades_like_the_notebook(name, tmp_path):
    student_folder = tmp_path / "student"
    shutil.copytree(LAYOUT.assignment / name, student_folder)
    notebook_path = student_folder / f"{name}.ipynb"
    notebook = finished_student_notebook(name)
    nbformat.write(notebook, notebook_path)
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(student_folder)}}).execute()
    assert_quiet_and_passing(notebook)
    (export,) = student_folder.glob(f"{name}_*.zip")
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(export, submissions / "exported.zip")
    shutil.copy(notebook_path, submissions / "notebook.ipynb")
    table = grade.main(assignment=name, submissions=submissions, out=tmp_path / "graded", settings=Settings(timeout=600))
    rows = table.set_index("file")
    assert (rows["grading_status"].iloc[1:] == Completed().text).all(), rows["grading_status"]
    assert rows.loc["exported.zip"].equals(rows.loc["notebook.ipynb"])
    assert rows.loc["exported.zip", "percent_correct"] == 1


def finished_student_notebook(name):
    """The solution's cells under the release's metadata, which carries the public tests only, as a
    student's finished, saved notebook does."""
    notebook = nbformat.read(LAYOUT.solution_notebook(name), as_version=4)
    notebook.metadata = nbformat.read(LAYOUT.release_notebook(name), as_version=4).metadata
    return notebook


def assert_quiet_and_passing(notebook):
    """Every public check passed in Jupyter itself, and nothing reached stderr (start-up logs, warnings)."""
    checks = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("grader.check(")]
    assert checks
    for cell in checks:
        shown = "".join(output.get("data", {}).get("text/plain", "") for output in cell.outputs)
        assert "All test cases passed" in shown, f"{cell.source}: {shown}"
    noise = [output.text for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
             if output.output_type == "stream" and output.name == "stderr"]
    assert not noise, noise
