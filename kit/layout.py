"""Where the kit keeps each stage of the pipeline, and how an assignment's files are named."""

import pathlib

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Layout:
    """The kit's folders under one root: sources, generated releases and shared inputs."""

    def __init__(self, root=None):
        self.root = pathlib.Path(root or ROOT)
        self.solutions = self.root / "solutions"
        self.assignment = self.root / "assignment"
        self.autograder = self.root / "autograder"
        self.catalogues = self.root / "catalogue"
        self.requirements = self.root / "requirements.txt"

    def assignment_names(self):
        return sorted(path.stem for path in self.solutions.glob("*.ipynb"))

    def master(self, name):
        return self.solutions / f"{name}.ipynb"

    def references_script(self, name):
        """Computes, with Keras, the reference values the judge compares answers with (optional)."""
        return self.solutions / f"{name}_references.py"

    def release_notebook(self, name):
        return self.assignment / name / f"{name}.ipynb"

    def solution_notebook(self, name):
        """The solution as otter assign writes it: a gradable submission worth full marks."""
        return self.autograder / name / f"{name}.ipynb"

    def catalogue(self, name):
        """The assignment's catalogue of realistic submissions (kit/catalogue.py)."""
        return self.catalogues / name

    def autograder_zip(self, name):
        return self.autograder / name / "autograder.zip"


def assignment_config(master_path):
    """The YAML of a master notebook's ASSIGNMENT CONFIG cell, as a dict."""
    return yaml.safe_load(config_cell(nbformat.read(master_path, as_version=4), master_path).source) or {}


def config_cell(notebook, where):
    """A master notebook's ASSIGNMENT CONFIG cell (where names the notebook in the error)."""
    for cell in notebook.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# ASSIGNMENT CONFIG"):
            return cell
    raise ValueError(f"{where} has no ASSIGNMENT CONFIG cell")
