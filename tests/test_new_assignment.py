"""A third assignment is one master notebook and its catalogue: built and graded with no edit under kit/.

The steps are the README's "Adding an assignment", on a copy of lstm_parameters under another name,
in a kit root of its own (the sources an assignment needs, nothing of the other two's).
"""

import json
import shutil

import nbformat
import pytest

from kit import assignments, build, catalogue, outfolder
from kit.batch import grade
from kit.batch.table import points_per_question
from kit.layout import ROOT, Layout, assignment_config
from kit.settings import Settings

TEMPLATE = "lstm_parameters"
NEW = "gates_review"
CASES = ("solution", "fair_numpy_variants", "formula_without_bias", "untouched")
NEW_MEMORY = "1536M"  # not the template's, so that the row proves which profile capped it


def new_master_notebook(layout):
    """The template's master notebook under the new name, with a kit: block of its own."""
    notebook = nbformat.read(Layout().master(TEMPLATE), as_version=4)
    (config_cell,) = [cell for cell in notebook.cells if cell.cell_type == "raw" and "ASSIGNMENT CONFIG" in cell.source]
    config = assignment_config(Layout().master(TEMPLATE))
    config_cell.source = (config_cell.source.replace(f"name: {TEMPLATE}", f"name: {NEW}")
                          .replace(f"memory: {config['kit']['memory']}", f"memory: {NEW_MEMORY}"))
    layout.solutions.mkdir(parents=True)
    nbformat.write(notebook, layout.master(NEW))


def new_kit_root(tmp_path):
    layout = Layout(tmp_path / "course")
    new_master_notebook(layout)
    shutil.copy(Layout().references_script(TEMPLATE), layout.references_script(NEW))
    shutil.copy(ROOT / "requirements.txt", layout.requirements)
    for relative in assignment_config(layout.master(NEW))["files"]:
        (layout.root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, layout.root / relative)
    layout.catalogue(NEW).mkdir(parents=True)
    for case in CASES:
        shutil.copy(Layout().catalogue(TEMPLATE) / f"{case}.yaml", layout.catalogue(NEW))
    return layout


@pytest.mark.slow
def test_a_third_assignment_is_one_notebook_and_its_catalogue(tmp_path):
    layout = new_kit_root(tmp_path)
    assert layout.assignment_names() == [NEW]
    build.main(root=layout.root, quiet=True)  # otter assign, then the solution must score full marks
    assert layout.release_notebook(NEW).is_file() and layout.autograder_zip(NEW).is_file()
    profile = assignments.profile(NEW, layout.root)
    assert profile.memory == NEW_MEMORY and set(profile.preflight) <= set(CASES)

    cases = catalogue.load_cases(layout.catalogue(NEW))
    catalogue.main(assignment=NEW, cases=cases, out=tmp_path / "in", root=layout.root)
    out = tmp_path / "out"
    table = grade.main(assignment=NEW, submissions=tmp_path / "in", out=out, root=layout.root,
                       settings=Settings(timeout=300)).set_index("file")
    possible = points_per_question(layout.autograder_zip(NEW))
    for name, case in cases.items():
        expected = catalogue.expected_scores(case, possible)
        assert table.loc[f"{name}.ipynb", list(possible)].to_dict() == expected, name
    recorded = json.loads((out / outfolder.SETTINGS_JSON).read_text())
    assert recorded["assignment"] == NEW and recorded.get("memory", NEW_MEMORY) == NEW_MEMORY
    assert (out / "report.html").is_file()


def test_nothing_under_kit_names_an_assignment():
    """Assignments are named in their master notebooks (and catalogues), never in the kit's code."""
    names = Layout().assignment_names()
    for path in sorted((ROOT / "kit").rglob("*.py")):
        text = path.read_text()
        assert not [name for name in names if name in text], path


def test_nothing_in_the_kit_imports_the_tests():
    for folder in ("kit", "scripts", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            assert "from tests" not in text and "import tests" not in text, path
