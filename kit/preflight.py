"""make preflight: will the autograder zip grade inside a container of this size? Measured, not guessed.

For each example (the solution and the lesson-style fair variant from the catalogue, both as the
export zips students submit) it runs the zip's own entry point, run_otter.py, in a
Gradescope-shaped folder, inside a memory and CPU cgroup of the given size (the way a container
limits it), and prints the peak memory, the time and whether every point was earned. Without
MEMORY and CPUS it tries Gradescope's container sizes from the smallest up.
"""

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

from . import assignments, catalogue
from .grading import cgroups, sandbox, status
from .layout import Layout

# (CPUs, memory) of Gradescope's autograder containers, smallest first; the first is its default.
GRADESCOPE_SIZES = [(0.5, "768M"), (1.0, "1.5G"), (2.0, "3G"), (4.0, "6G")]


def main(*, assignment, memory=None, cpus=None, root=None):
    """Print one row per example and size; returns the rows as dicts."""
    layout = Layout(root)
    sizes = [(cpus, memory)] if memory or cpus else GRADESCOPE_SIZES
    enforced = cgroups.available()
    if not enforced:
        print("note: limits cannot be enforced here (no writable cgroup v1 or v2 hierarchy); peaks are not measured")
    print(f"| {assignment} example | CPUs | memory | peak memory | time | result |\n|---|---:|---:|---:|---:|---|")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        cases = example_cases(layout, assignments.profile(assignment, root))
        uploads = catalogue.main(assignment=assignment, cases=cases, out=scratch / "uploads", root=root)
        for size_cpus, size_memory in sizes:
            for upload in uploads:
                row = run_limited(layout.autograder_zip(assignment), upload, scratch / uuid.uuid4().hex,
                                  size_cpus, size_memory, limited=bool(enforced))
                row.update(example=upload.stem, cpus=size_cpus, memory=size_memory)
                rows.append(row)
                peak = f"{row['peak_mb']:,.0f} MB" if row["peak_mb"] else "n/a"
                print(f"| {row['example']} | {size_cpus or '-'} | {size_memory or '-'} | {peak} | "
                      f"{row['seconds']:.0f} s | {row['result']} |", flush=True)
            if not memory and not cpus and all(row["passed"] for row in rows[-len(uploads):]):
                print(f"\nsmallest size that grades every example: {size_cpus} CPU, {size_memory}")
                break
    return rows


def example_cases(layout, profile):
    """The catalogue cases the assignment's profile names for preflight, as export zips."""
    cases = catalogue.load_cases(layout.catalogue(profile.name))
    missing = [name for name in profile.preflight if name not in cases]
    if missing:
        raise ValueError(f"the {profile.name} profile's preflight names {', '.join(missing)}, which "
                         f"{layout.catalogue(profile.name)} does not hold")
    return {name: {**cases[name], "file": f"{name}.zip"} for name in profile.preflight}


def run_limited(autograder, upload, folder, cpus, memory, limited=True):
    """Run the zip's entry point on upload in a cgroup of (cpus, memory) (none unless limited); the result as a dict."""
    group = container_cgroup(cpus, memory) if limited else None
    begun = time.monotonic()
    try:
        results, completed = run_entry_point(autograder, upload, folder, group)
        peak_bytes = group.peak_memory() if group else None
        peak = peak_bytes / 2**20 if peak_bytes else None
        killed = bool(group and group.oom_kills())
    finally:
        if group:
            group.remove()
    seconds = time.monotonic() - begun
    if results is None:
        result = "out of memory" if killed else f"failed (exit {completed.returncode})"
        return {"passed": False, "result": result, "peak_mb": peak, "seconds": seconds}
    scores = [(test["score"], test["max_score"]) for test in results["tests"] if "max_score" in test]
    earned, possible = sum(score for score, _ in scores), sum(most for _, most in scores)
    outcome = status.from_json(results["extra_data"]["outcome"])
    completed = isinstance(outcome, status.Completed)
    passed = earned == possible and completed
    if killed or (isinstance(outcome, status.StudentFailure) and outcome.error == "MemoryError"):
        result = "out of memory"
    else:
        result = f"{earned:g}/{possible:g}" + ("" if completed else f" ({outcome.text})")
    return {"passed": passed, "result": result, "peak_mb": peak, "seconds": seconds}


def run_entry_point(autograder, upload, root, group=None):
    """Lay out source/, submission/ and results/ as Gradescope does, run the zip's run_otter.py (in group, if given).

    Gradescope unpacks an uploaded zip into submission/; a notebook is copied there as it is.
    Returns (results.json as a dict, or None when it wrote none; the CompletedProcess).
    """
    root = pathlib.Path(root)
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
    if pathlib.Path(upload).suffix == ".zip":
        with zipfile.ZipFile(upload) as archive:
            archive.extractall(root / "submission")
    else:
        shutil.copy(upload, root / "submission")
    (root / "submission_metadata.json").write_text("{}")
    entry_point = (root / "source" / "run_otter.py").read_text()
    if entry_point.count('"/autograder"') != 1:
        raise ValueError("run_otter.py should name the folder /autograder exactly once")
    (root / "source" / "run_here.py").write_text(entry_point.replace('"/autograder"', repr(str(root))))
    command = [sys.executable, "run_here.py"]
    command = group.wrap(command) if group else command
    completed = subprocess.run(command, cwd=root / "source", capture_output=True, text=True)
    results = root / "results" / "results.json"
    return (json.loads(results.read_text()) if results.exists() else None), completed


def container_cgroup(cpus, memory):
    """A cgroup shaped like a container of this size (cgroups.py: v1 or v2, whichever is here)."""
    return cgroups.Group.create(f"kit-preflight-{uuid.uuid4().hex[:8]}", cpus=cpus,
                                memory_bytes=sandbox.parse_size(memory) if memory else None)
