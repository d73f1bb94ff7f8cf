"""make grade: every submission in a folder, each graded sealed by a worker of its own; then the report.

find (names.py) -> plan what OUT lacks (results.py) -> grade on Dask (executors.py runs worker.grade,
each result written as it arrives) -> final_grades.csv (table.py) and grading_settings.json from all of
OUT -> report, feedback and gradebook (kit/report.py). The last steps run even when grading is cut short,
so that a rerun finishes the batch.
"""

import hashlib
import json
import pathlib
import sys

from .. import assignments, canvas, report
from ..grading.sandbox import namespaces_work, parse_size
from ..layout import Layout
from ..outfolder import FINAL_GRADES_CSV, SETTINGS_JSON
from ..settings import WEAK, Settings
from . import executors, names, node, results, table, worker

WEAK_SANDBOX_MESSAGE = (
    "refusing to grade: kernels would run here without mount and PID namespaces (as root without "
    "CAP_SYS_ADMIN, inside a Docker container say, or without root where unprivileged user namespaces are "
    "off), so a notebook could read the hidden tests, the solutions and other students' submissions. Grade "
    "on a machine that allows namespaces, or set SANDBOX=weak to grade anyway: the report and "
    "grading_settings.json will then say that the sandbox was weak.")


class SandboxRefused(RuntimeError):
    """Kernels would run without mount and PID namespaces here, and the instructor did not opt in."""


def main(*, assignment, submissions, out, settings=Settings(), root=None):
    """Grade what out lacks of the .ipynb and .zip files in submissions; rebuild out/final_grades.csv from
    every row out holds and return its table.

    Each submission is graded by worker.grade on Dask (a LocalCluster of settings.jobs workers, or the
    cluster at settings.scheduler), its kernel in a sandbox (kit/grading/sandbox.py) within settings'
    limits; memory defaults to the assignment's profile. Then the report, feedback and gradebook CSV are
    made (kit/report.py). Where the sandbox would be weak (no mount and PID namespaces) nothing is graded
    unless settings.sandbox is WEAK.
    """
    canvas.student_rule(settings.student_pattern)  # a pattern that cannot serve fails now, not after the batch
    if settings.scheduler:
        executors.check_address(settings.scheduler)
    elif settings.sandbox != WEAK and not namespaces_work():
        raise SandboxRefused(WEAK_SANDBOX_MESSAGE)
    profile = assignments.profile(assignment, root)
    settings = settings.with_memory_default(profile.memory)
    autograder_path = Layout(root).autograder_zip(assignment)
    if not autograder_path.is_file():
        raise FileNotFoundError(f"{autograder_path} is missing: run `make build` first")
    paths = names.submission_paths(pathlib.Path(submissions))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    autograder = autograder_path.read_bytes()
    jobs = batch_jobs(paths, hashlib.sha256(autograder).hexdigest(), settings, out)
    to_grade, kept = results.plan(out / "results", jobs, settings.regrade)
    points = table.points_per_question(autograder_path)
    print(f"{assignment}: {len(jobs)} submissions; to grade {len(to_grade)}{counts(to_grade.values())}, "
          f"kept as graded {len(kept)}", file=sys.stderr)
    try:
        if to_grade:
            grade_on_cluster({name: jobs[name] for name in to_grade}, autograder, settings, out, points, assignment)
    finally:
        grades = rebuild(out, assignment, profile, settings, points, present=set(jobs))
    return grades


def batch_jobs(paths, autograder_sha256, settings, out):
    """{visible name: worker.Job} for every submission file."""
    version = node.kit_version()
    return {name: worker.Job(suffix=path.suffix, submission=path.read_bytes(), autograder_sha256=autograder_sha256,
                             timeout=settings.timeout, memory=settings.memory, cpus=settings.cpus,
                             kit_version=version, hidden=(str(out.resolve()),), strict=settings.sandbox != WEAK)
            for path, name in zip(paths, names.visible_names(paths))}


def grade_on_cluster(jobs, autograder, settings, out, points, assignment):
    """Grade jobs on the batch's cluster, each row written to OUT as its result arrives."""
    endings = []

    def write(name, graded):
        results.write(out / "results" / name, jobs[name], graded, points)
        endings.append(graded)

    # A cluster's workers hand out MEMORY, so that none takes more submissions than it can hold.
    memory = parse_size(settings.memory) if settings.scheduler else None
    with executors.cluster(settings.scheduler, settings.jobs) as client:
        executors.grade_all(client, worker.grade, jobs, autograder, write, f"grading {assignment}", memory)
    retried = sum(graded.attempts > 1 for graded in endings)
    print(f"graded {len(endings)}{counts(graded.outcome.kind for graded in endings)}, retried {retried}",
          file=sys.stderr)


def rebuild(out, assignment, profile, settings, points, present):
    """final_grades.csv, grading_settings.json and the report from every row OUT holds (present: the
    submissions still in SUBMISSIONS; the others keep their rows and are listed as gone)."""
    rows = results.read_all(out / "results", points)
    grades = table.grades_table(points, rows)
    results.write_whole(out / FINAL_GRADES_CSV, grades.to_csv(index=False))
    gone = sorted(name for name, _ in rows if name not in present)
    write_settings(out / SETTINGS_JSON, assignment, profile, settings, rows, gone)
    report.main(out=out, student_pattern=settings.student_pattern)
    return grades


def counts(reasons):
    """' (new 3, changed 1)': how many of each reason, or nothing."""
    tally = {}
    for reason in reasons:
        tally[reason] = tally.get(reason, 0) + 1
    return f" ({', '.join(f'{reason} {number}' for reason, number in sorted(tally.items()))})" if tally else ""


def write_settings(path, assignment, profile, settings, rows, gone):
    """grading_settings.json: this run's settings, what each row was graded with where it differs, files gone."""
    recorded = [each for _, each in rows]
    levels = sorted({each["extra_data"]["isolation"] for each in recorded if "isolation" in each["extra_data"]})
    current = {"kit_version": node.kit_version(), "timeout": settings.timeout, "memory": settings.memory,
               "cpus": settings.cpus}
    graded_with = {name: each["extra_data"].get("graded_with") for name, each in rows}
    differing = {name: used for name, used in graded_with.items()
                 if used and {key: used.get(key) for key in current} != current}
    results.write_whole(path, json.dumps({
        "assignment": assignment, **enforced_settings(settings, recorded), "jobs": settings.jobs,
        "scheduler": settings.scheduler, "sandbox": settings.sandbox, "isolation": levels,
        "measures_accuracy": profile.measures_accuracy, "kit_version": current["kit_version"],
        "rows_graded_otherwise": differing, "files_gone": gone}, indent=2))


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
