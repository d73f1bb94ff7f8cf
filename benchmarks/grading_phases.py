"""Where the time of grading one export zip goes, before (Otter's in-kernel tests) and after (sealed).

"Before" runs Otter's own engine (`otter run`) with an autograder zip from before the sealed
runner, and reads the executed notebook's cell timestamps: Otter's added cells (its set-up, each
`grader.check`, the final test run) are the tests, run inside the kernel. "After" runs the sealed
runner on the current zip and reads the phases it records in results.json. Prints a Markdown table.

    git show f64d9b3:autograder/sequential_mnist/autograder.zip > /tmp/old.zip
    .venv/bin/python -m benchmarks.grading_phases --assignment sequential_mnist --before-zip /tmp/old.zip
"""

import argparse
import datetime
import pathlib
import tempfile
import time

from benchmarks.grading_budget import export_zip
from kit.batch import worker
from kit.layout import ROOT, Layout


def seconds_between(start, end):
    return (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()


def before_phases(submission, autograder):
    """{phase: seconds} of Otter's in-kernel grading, from the executed notebook's timing metadata."""
    from otter.run import main as otter_run

    with tempfile.TemporaryDirectory() as out:
        begun = time.monotonic()
        results = otter_run(str(submission), autograder=str(autograder), output_dir=out, no_logo=True)
        total = time.monotonic() - begun
    phases, number = {}, 0
    cells = [cell for cell in results.notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(cells):
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" not in timing:
            continue
        spent = seconds_between(timing["iopub.execute_input"], timing["shell.execute_reply"])
        if index == 0 or cell.source.startswith("import sys\nsys.path.append("):  # Otter's added set-up cells
            phases["Otter's set-up cells"] = phases.get("Otter's set-up cells", 0) + spent
        elif index == len(cells) - 1 or "grader.check(" in cell.source or ".check(\"" in cell.source:
            phases["tests in the kernel (Otter's cells)"] = phases.get("tests in the kernel (Otter's cells)", 0) + spent
        else:
            number += 1
            phases[f"cell {number}"] = spent
    phases["kernel start and the rest"] = total - sum(phases.values())
    phases["total"] = total
    return phases


def after_phases(submission, assignment):
    with tempfile.TemporaryDirectory() as out:
        report = worker.main(submission=submission, autograder=Layout().autograder_zip(assignment), out=out)
    return report["extra_data"]["phases"]


def main(*, assignment, before_zip, submission=None):
    with tempfile.TemporaryDirectory() as scratch:
        submission = submission or export_zip(ROOT, assignment, pathlib.Path(scratch))
        before = before_phases(submission, before_zip)
        after = after_phases(submission, assignment)
    names = [name for name in after if name.startswith("kernel") or name == "prelude"]
    names += [name for name in after if name.startswith("cell ")]
    names += [name for name in before if name not in names and name not in ("total",)]
    names += [name for name in after if name not in names and name != "total"] + ["total"]
    print(f"| {assignment}: phase | before (s) | after (s) |\n|---|---:|---:|")
    for name in names:
        cells = [f"{table[name]:.2f}" if name in table else "" for table in (before, after)]
        print(f"| {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--before-zip", required=True, type=pathlib.Path, help="an autograder.zip from before")
    parser.add_argument("--submission", type=pathlib.Path, help="an export zip (default: the solution's, made here)")
    arguments = parser.parse_args()
    main(assignment=arguments.assignment, before_zip=arguments.before_zip, submission=arguments.submission)
