"""OUT/results/: what a batch has graded already, each result written once and whole, and every row read back.

A row's results.json records its grading key (worker.Job.key). Grading into an existing OUT grades only
what is new, changed (another key), missing, unreadable or not graded, or what REGRADE names; every
other row is kept as it is, a row whose file is gone included.
"""

import json
import os
import pathlib
import tempfile

from ..grading import runner, status
from ..outfolder import RESULTS_JSON

GRADING_LOG = "grading.log"
ALL = "all"  # REGRADE=all


def reason_to_grade(folder, job, forced):
    """Why the submission in results folder `folder` must be graded ("new", "changed", ...), or None when
    its row stands: a grade made with the same key."""
    if forced:
        return "forced"
    if not folder.is_dir():
        return "new"
    try:
        results = json.loads((folder / RESULTS_JSON).read_text(encoding="utf-8"))
        outcome = status.from_json(results["extra_data"]["outcome"])
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, KeyError, TypeError):
        return "unreadable"
    if not status.is_grade(outcome):
        return "not graded"
    return None if results["extra_data"].get("grading_key") == job.key else "changed"


def plan(results_folder, jobs, regrade=None):
    """({visible name: reason} to grade, [names kept as they are]) for jobs ({visible name: Job})."""
    if regrade not in (None, ALL) and regrade not in jobs:
        raise ValueError(f"REGRADE={regrade}: no submission of that name (use a file name as the report shows it, "
                         f"or {ALL})")
    reasons = {name: reason_to_grade(results_folder / name, job, regrade in (ALL, name)) for name, job in jobs.items()}
    return ({name: reason for name, reason in reasons.items() if reason},
            [name for name, reason in reasons.items() if not reason])


def write(folder, job, graded, points):
    """A submission's results.json (with its key, what graded it, and where) and grading.log, each whole."""
    results = graded.results or runner.failed_report_for(points, graded.outcome)
    results["extra_data"].update(grading_key=job.key, graded_with=job.graded_with, worker_host=graded.host)
    folder.mkdir(parents=True, exist_ok=True)
    write_whole(folder / GRADING_LOG, graded.log)
    runner.write_results(results, folder)


def write_whole(path, text):
    """path holds text, or its old contents: written beside it, then renamed over it."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     encoding="utf-8") as partial:
        partial.write(text)
    os.replace(partial.name, path)


def read_all(results_folder, points):
    """[(visible name, results.json dict)] for every row OUT/results holds; one that cannot be read
    is a row that is not graded (a rerun grades it again)."""
    rows = []
    for folder in sorted(pathlib.Path(results_folder).iterdir()) if results_folder.is_dir() else []:
        if folder.is_dir():
            rows.append((folder.name, read_one(folder, points)))
    return rows


def read_one(folder, points):
    try:
        results = json.loads((folder / RESULTS_JSON).read_text(encoding="utf-8"))
        status.from_json(results["extra_data"]["outcome"])
        return results
    except (OSError, ValueError, KeyError, TypeError):
        return runner.failed_report_for(points, status.NotGraded("its results.json is missing or unreadable"))
