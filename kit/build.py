"""Generate assignment/ and autograder/ from the master notebooks in solutions/ with otter assign."""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

import nbformat

from . import assignments
from .batch import worker
from .grading import gradescope, runner, status
from .layout import Layout, assignment_config, config_cell

# Zip entries get this timestamp so that an unchanged source rebuilds to identical bytes.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
KIT = pathlib.Path(__file__).resolve().parent
ZIP_ENDS = "# --- not in the autograder zip"  # requirements.txt's lines from here on stay out of the zip

# The zip's entry point, run by its run_autograder on Gradescope and under `otter grade`.
RUN_OTTER = '''"""Grade the submission in /autograder with the kit's sealed runner (kit/grading/ beside this file)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from kit.grading import gradescope  # noqa: E402

if __name__ == "__main__":
    gradescope.main(root="/autograder")
'''


def main(*, root=None, names=None, quiet=False):
    """Build each named assignment (all by default); returns the names built."""
    layout = Layout(root)
    names = names or layout.assignment_names()
    for name in names:
        if not quiet:
            print(f"building {name}", file=sys.stderr)
        build_assignment(layout, name)
    return names


def build_assignment(layout, name):
    assignments.profile(name, layout.root)  # a notebook without a valid kit: block fails before otter assign runs
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        stage = stage_master(layout, name, scratch / "source")
        dist = scratch / "dist"
        run_otter_assign(stage / f"{name}.ipynb", dist)
        publish_release(dist / "student", layout.assignment / name)
        publish_autograder(dist / "autograder", layout.autograder / name, name, compute_references(layout, name))
    require_full_marks(layout, name)


def stage_master(layout, name, stage):
    """Put the master notebook (its kit: block stripped) beside the files its config names, as otter assign expects."""
    master = layout.master(name)
    config = assignment_config(master)
    stage.mkdir(parents=True)
    notebook = nbformat.read(master, as_version=4)
    cell = config_cell(notebook, master)
    cell.source = assignments.without_kit_block(cell.source)
    nbformat.write(notebook, stage / master.name)
    if config.get("requirements"):
        (stage / config["requirements"]).write_text(zip_requirements(layout.requirements))
    for relative in config.get("files", []):
        target = stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(layout.root / relative, target)
    return stage


def zip_requirements(path):
    """requirements.txt up to its ZIP_ENDS line: what grading inside the zip needs (not the batch engine)."""
    text = path.read_text()
    return text[:text.index(ZIP_ENDS)] if ZIP_ENDS in text else text


def run_otter_assign(master, dist):
    """The master notebooks set run_tests: false; the sealed runner grades the solution instead (below)."""
    command = [sys.executable, "-m", "otter", "assign", master.name, str(dist)]
    completed = subprocess.run(command, cwd=master.parent, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master.name}:\n{completed.stdout}{completed.stderr}")


def publish_release(student_dir, release_dir):
    shutil.rmtree(release_dir, ignore_errors=True)
    shutil.copytree(student_dir, release_dir)
    for notebook in release_dir.glob("*.ipynb"):
        give_stable_cell_ids(notebook)


def compute_references(layout, name):
    """The JSON that solutions/<name>_references.py prints: Keras' own answers, computed here, once.

    The judge never imports Keras (it stays light beside the kernel), so what only Keras can tell
    (parameter counts of real layers, their outputs on fixed weights) is computed at build time
    and shipped in the zip as references.json.
    """
    script = layout.references_script(name)
    if not script.exists():
        return "{}"
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if completed.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{completed.stderr}")
    return json.dumps(json.loads(completed.stdout), indent=1, sort_keys=True) + "\n"


def publish_autograder(dist_dir, autograder_dir, name, references):
    """Keep only what instructors use: the zip under a stable name and the solution notebook.

    Otter's zip gains the kit's sealed runner (kit/grading/), its entry point run_otter.py, the
    references the judge compares answers with, and the grading's budget (kit_grading.json).
    """
    shutil.rmtree(autograder_dir, ignore_errors=True)
    autograder_dir.mkdir(parents=True)
    (otter_zip,) = dist_dir.glob(f"{name}-autograder_*.zip")
    runner_files = {f"kit/{path.relative_to(KIT)}": path.read_bytes()
                    for path in [KIT / "__init__.py", *sorted((KIT / "grading").rglob("*.py"))]}
    settings = json.dumps({"timeout": runner.DEFAULT_TIMEOUT}) + "\n"
    write_reproducible_zip(otter_zip, autograder_dir / "autograder.zip",
                           {**runner_files, "run_otter.py": RUN_OTTER.encode(), "references.json": references.encode(),
                            gradescope.SETTINGS_FILE: settings.encode()})
    shutil.copy(dist_dir / f"{name}.ipynb", autograder_dir)
    give_stable_cell_ids(autograder_dir / f"{name}.ipynb")


def require_full_marks(layout, name):
    """The solution notebook must score every point through the sealed runner, as students are graded."""
    with tempfile.TemporaryDirectory() as scratch:
        report = worker.main(submission=layout.solution_notebook(name), autograder=layout.autograder_zip(name),
                             out=scratch)
    lost = {test["name"]: test.get("output", "") for test in report["tests"]
            if "max_score" in test and test["score"] < test["max_score"]}
    if lost or not isinstance(status.from_json(report["extra_data"]["outcome"]), status.Completed):
        raise RuntimeError(f"the solution of {name} does not score full marks: {report['extra_data']['status']} {lost}")


def give_stable_cell_ids(path):
    """otter assign gives the cells it adds random ids; derive every id from the cell instead."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        cell.id = hashlib.sha1(f"{index}{cell.cell_type}{cell.source}".encode()).hexdigest()[:8]
    nbformat.write(notebook, path)


def write_reproducible_zip(source, target, extra):
    """Copy a zip, with extra {name: bytes} added or replacing entries: sorted, fixed times, plain modes."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        entries = {info.filename: (original.read(info), (info.external_attr >> 16) & 0o111)
                   for info in original.infolist()}
        entries.update({name: (data, 0) for name, data in extra.items()})
        for name, (data, executable) in sorted(entries.items()):
            entry = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
            entry.external_attr = (0o100755 if executable else 0o100644) << 16  # not the checkout's umask
            entry.compress_type = zipfile.ZIP_DEFLATED
            copy.writestr(entry, data)
