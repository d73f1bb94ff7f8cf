"""Generate assignment/ and autograder/ from the master notebooks in solutions/ with otter assign."""

import hashlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

import nbformat

from .layout import Layout, assignment_config

# Zip entries get this timestamp so that an unchanged source rebuilds to identical bytes.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        stage = stage_master(layout, name, scratch / "source")
        dist = scratch / "dist"
        run_otter_assign(stage / f"{name}.ipynb", dist)
        publish_release(dist / "student", layout.assignment / name)
        publish_autograder(dist / "autograder", layout.autograder / name, name)


def stage_master(layout, name, stage):
    """Put the master notebook beside the files its config names, as otter assign expects."""
    master = layout.master(name)
    config = assignment_config(master)
    stage.mkdir(parents=True)
    shutil.copy(master, stage)
    if config.get("requirements"):
        shutil.copy(layout.requirements, stage / config["requirements"])
    for relative in config.get("files", []):
        target = stage / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(layout.root / relative, target)
    return stage


def run_otter_assign(master, dist):
    """otter assign also grades the solution notebook and fails unless it scores 100 %."""
    command = [sys.executable, "-m", "otter", "assign", master.name, str(dist)]
    completed = subprocess.run(command, cwd=master.parent, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"otter assign failed for {master.name}:\n{completed.stdout}{completed.stderr}")


def publish_release(student_dir, release_dir):
    shutil.rmtree(release_dir, ignore_errors=True)
    shutil.copytree(student_dir, release_dir)
    for notebook in release_dir.glob("*.ipynb"):
        give_stable_cell_ids(notebook)


def publish_autograder(dist_dir, autograder_dir, name):
    """Keep only what instructors use: the zip under a stable name and the solution notebook."""
    shutil.rmtree(autograder_dir, ignore_errors=True)
    autograder_dir.mkdir(parents=True)
    (otter_zip,) = dist_dir.glob(f"{name}-autograder_*.zip")
    write_reproducible_zip(otter_zip, autograder_dir / "autograder.zip")
    shutil.copy(dist_dir / f"{name}.ipynb", autograder_dir)
    give_stable_cell_ids(autograder_dir / f"{name}.ipynb")


def give_stable_cell_ids(path):
    """otter assign gives the cells it adds random ids; derive every id from the cell instead."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        cell.id = hashlib.sha1(f"{index}{cell.cell_type}{cell.source}".encode()).hexdigest()[:8]
    nbformat.write(notebook, path)


def write_reproducible_zip(source, target):
    """Copy a zip with sorted entries, fixed timestamps and plain file modes."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in sorted(original.infolist(), key=lambda entry: entry.filename):
            entry = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            executable = (info.external_attr >> 16) & 0o111
            entry.external_attr = (0o100755 if executable else 0o100644) << 16  # not the checkout's umask
            entry.compress_type = zipfile.ZIP_DEFLATED
            copy.writestr(entry, original.read(info))
