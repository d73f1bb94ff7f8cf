"""make grade: every submission in a folder, each graded sealed by a worker process of its own; then the report.

find (names.py) -> run (an executor of worker.grade jobs) -> final_grades.csv (table.py) -> grading_settings.json
-> report, feedback and gradebook (kit/report.py).
"""

import json
import pathlib
import subprocess

from .. import assignments, canvas, report
from ..grading import runner
from ..grading.sandbox import namespaces_work
from ..layout import ROOT, Layout
from ..outfolder import FINAL_GRADES_CSV, SETTINGS_JSON
from ..settings import WEAK, Settings
from . import executors, names, table, worker

WEAK_SANDBOX_MESSAGE = (
    "refusing to grade: kernels would run here without mount and PID namespaces (as root without "
    "CAP_SYS_ADMIN, inside a Docker container say, or without root where unprivileged user namespaces are "
    "off), so a notebook could read the hidden tests, the solutions and other students' submissions. Grade "
    "on a machine that allows namespaces, or set SANDBOX=weak to grade anyway: the report and "
    "grading_settings.json will then say that the sandbox was weak.")


class SandboxRefused(RuntimeError):
    """Kernels would run without mount and PID namespaces here, and the instructor did not opt in."""


def main(*, assignment, submissions, out, settings=Settings(), root=None, executor=None):
    """Grade every .ipynb and .zip in submissions; write out/final_grades.csv and return its table.

    Each submission is graded by worker.grade on the executor (default: settings.jobs local processes),
    its kernel in a sandbox (kit/grading/sandbox.py) within settings' limits; memory defaults to the
    assignment's profile. Then the report, feedback and gradebook CSV are made (kit/report.py).
    Where the sandbox would be weak (no mount and PID namespaces) nothing is graded unless settings.sandbox is WEAK.
    """
    canvas.student_rule(settings.student_pattern)  # a pattern that cannot serve fails now, not after the batch
    if settings.sandbox != WEAK and not namespaces_work():
        raise SandboxRefused(WEAK_SANDBOX_MESSAGE)
    profile = assignments.profile(assignment, root)
    settings = settings.with_memory_default(profile.memory)
    autograder = Layout(root).autograder_zip(assignment)
    if not autograder.is_file():
        raise FileNotFoundError(f"{autograder} is missing: run `make build` first")
    paths = names.submission_paths(pathlib.Path(submissions))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [worker.Job(path, autograder, settings.timeout, settings.memory, settings.cpus, hidden=(str(out.resolve()),))
            for path in paths]
    executor = executor or executors.LocalProcesses(settings.jobs)
    graded = executor.map(worker.grade, jobs, description=f"grading {assignment}")
    outcomes = list(zip(names.visible_names(paths), graded))
    for name, each in outcomes:
        write_graded(each, out / "results" / name)
    grades = table.grades_table(table.points_per_question(autograder), [(name, each.results) for name, each in outcomes])
    grades.to_csv(out / FINAL_GRADES_CSV, index=False)
    write_settings(out / SETTINGS_JSON, assignment, profile, settings, [each.results for _, each in outcomes])
    report.main(out=out, student_pattern=settings.student_pattern)
    return grades


def write_graded(graded, folder):
    """A submission's results.json and grading.log in its results folder."""
    runner.write_results(graded.results, folder)
    (folder / "grading.log").write_text(graded.log)


def write_settings(path, assignment, profile, settings, results):
    levels = sorted({each["extra_data"]["isolation"] for each in results if "isolation" in each["extra_data"]})
    path.write_text(json.dumps({"assignment": assignment, **enforced_settings(settings, results),
                                "jobs": settings.jobs, "sandbox": settings.sandbox, "isolation": levels,
                                "measures_accuracy": profile.measures_accuracy, "kit_version": kit_version()},
                               indent=2))


def enforced_settings(settings, results):
    """The limits as grading_settings.json records them: only those every sandbox enforced (memory as asked
    for, the CPUs each kernel really had), and the list of what enforced them (results.json's extra_data.limits)."""
    enforced = [result["extra_data"]["limits"] for result in results if "limits" in result["extra_data"]]
    recorded = {"timeout": settings.timeout}
    if enforced and all("memory" in each for each in enforced):
        recorded["memory"] = settings.memory
    cpus = {each["cpus"]["value"] for each in enforced if "cpus" in each}
    if enforced and all("cpus" in each for each in enforced) and len(cpus) == 1:
        recorded["cpus"] = cpus.pop()
    recorded["limits"] = [each for number, each in enumerate(enforced) if each not in enforced[:number]]
    return recorded


def kit_version():
    """`git describe --always --dirty` of the kit's checkout, so that grades say which kit made them; else "unknown"."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return described.stdout.strip() if described.returncode == 0 and described.stdout.strip() else "unknown"


