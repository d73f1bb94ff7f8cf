"""The autograder zip's entry point (Gradescope, `otter grade`): grade /autograder/submission, sealed.

A grading the grader failed at (status.NotGraded) is tried again; if it still fails, no results.json
is written and the process exits non-zero, so that Gradescope shows an autograder failure (which the
instructor can rerun) instead of posting a 0 as the student's grade.
"""

import json
import os
import pathlib
import sys

from . import runner, sandbox, status

ATTEMPTS = 3
SETTINGS_FILE = "kit_grading.json"  # written into the zip by `make build`: the grading's budget


def main(*, root="/autograder"):
    """Grade root/submission with the autograder in root/source; write root/results/results.json."""
    root = pathlib.Path(root)
    sandbox.close_to_others(root / "source", root / "submission")
    runner.limit_judge_memory()
    timeout = json.loads((root / "source" / SETTINGS_FILE).read_text())["timeout"]
    # One submission per container: the kernel may use every CPU the container has (make grade's
    # default share of one CPU keeps a batch's kernels from starving each other; here there is none).
    limits = sandbox.Limits(cpus=float(len(os.sched_getaffinity(0))))
    for attempt in range(1, ATTEMPTS + 1):
        report = runner.grade(upload=root / "submission", source=root / "source", timeout=timeout, limits=limits)
        outcome = status.from_json(report["extra_data"]["outcome"])
        if status.is_grade(outcome):
            runner.write_results(report, root / "results")
            return report
        print(f"attempt {attempt} of {ATTEMPTS}: {outcome.text}", file=sys.stderr, flush=True)
    sys.exit(f"The autograder could not grade this submission ({outcome.text}); this is not the student's "
             "grade. Rerun the autograder on it.")
