"""images/: the committed pictures are what draw.py draws, and every picture a release shows is in it."""

import importlib.util
import re

import nbformat
import pytest

from kit.layout import ROOT, Layout

LAYOUT = Layout()
PICTURE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]+src=\"([^\"]+)\"")


def pictures_shown(notebook_path):
    notebook = nbformat.read(notebook_path, as_version=4)
    return {link for cell in notebook.cells if cell.cell_type == "markdown"
            for match in PICTURE_LINK.finditer(cell.source) for link in match.groups() if link}


@pytest.mark.parametrize("name", LAYOUT.assignment_names())
def test_every_picture_shown_is_in_the_release(name):
    notebook = LAYOUT.release_notebook(name)
    shown = pictures_shown(notebook)
    assert shown, f"{name} shows the lesson's pictures"
    for link in shown:
        assert not link.startswith(("/", "http", "..")), f"{link}: a release must use paths inside its folder"
        assert (notebook.parent / link).is_file(), f"{link} is shown by {name} but missing from its release"


def test_committed_pictures_match_the_script(tmp_path):
    spec = importlib.util.spec_from_file_location("draw", ROOT / "images" / "draw.py")
    draw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draw)
    draw.main(out=tmp_path)
    drawn = sorted(path.name for path in tmp_path.glob("*.png"))
    assert drawn == sorted(path.name for path in (ROOT / "images").glob("*.png")), "run `make images`"
    for name in drawn:
        assert (tmp_path / name).read_bytes() == (ROOT / "images" / name).read_bytes(), f"{name}: run `make images`"
