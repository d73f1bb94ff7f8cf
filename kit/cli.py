"""Command line for the kit: `python -m kit build|grade|report|preflight|demo`."""

import argparse
import os
import pathlib
import sys

from . import build, demo, preflight, report, settings
from .batch import executors, grade, node


USAGE_EXIT = 2  # nothing was done: the command or the machine does not allow it
NOT_GRADED_EXIT = 3  # the batch ran, but some rows are not grades


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kit", description="Build and grade the RNN course kit.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="regenerate assignment/ and autograder/ from solutions/")
    build_parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    grade_parser = commands.add_parser("grade", help="grade a folder of submissions without Docker")
    grade_parser.add_argument("--assignment", required=True)
    grade_parser.add_argument("--submissions", required=True, help="folder of .ipynb and export .zip files")
    grade_parser.add_argument("--out", required=True, help="folder for final_grades.csv and results")
    settings.add_arguments(grade_parser)
    report_parser = commands.add_parser("report", help="rebuild report.html, feedback/ and grades_lms.csv of a "
                                                       "graded folder, without grading")
    report_parser.add_argument("--out", required=True, help="a folder `grade` wrote")
    settings.add_arguments(report_parser, names={"student_pattern"})
    preflight_parser = commands.add_parser("preflight", help="grade examples through the zip under container limits")
    preflight_parser.add_argument("--assignment", required=True)
    # MEMORY and CPUS here size the whole container the zip runs in, not one kernel as in make grade.
    preflight_parser.add_argument("--memory", default=None, help="the container's memory, e.g. 768M "
                                                                 "(default: try Gradescope's sizes)")
    preflight_parser.add_argument("--cpus", type=float, default=None, help="the container's CPUs, e.g. 0.5")
    worker_parser = commands.add_parser("worker", help="start a Dask worker that grades for a scheduler")
    worker_parser.add_argument("--scheduler", required=True, help="the scheduler's address (tls:// unless local)")
    worker_parser.add_argument("--memory", default=None, help="memory this machine gives grading, e.g. 30G: the "
                                                               "MEMORY resource submissions take from (default: "
                                                               f"{node.MEMORY_SHARE * 100:.0f}%% of this machine's)")
    worker_parser.add_argument("--slots", type=int, default=os.cpu_count(), help="submissions at once at most "
                                                                                "(default: one per CPU)")
    demo_parser = commands.add_parser("demo", help="build, then grade the bundled example submissions")
    demo_parser.add_argument("--out", default="graded/demo")
    return parser.parse_args(argv)


def run(argv=None):
    arguments = parse_arguments(argv)
    try:
        dispatch(arguments)
    except (ValueError, FileNotFoundError, NotADirectoryError) as error:  # a user's mistake: no traceback
        sys.exit(f"error: {error}")
    except (grade.SandboxRefused, executors.RefusedCluster) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(USAGE_EXIT)


def dispatch(arguments):
    if arguments.command == "build":
        build.main(names=arguments.names or None)
    elif arguments.command == "grade":
        table = grade.main(assignment=arguments.assignment, submissions=arguments.submissions, out=arguments.out,
                           settings=settings.from_arguments(arguments))
        print(table.to_string(index=False))
        print(f"report: {pathlib.Path(arguments.out) / report.REPORT_HTML}")
        not_graded = table["total_points_earned"].isna().sum()
        if not_graded:
            print(f"error: {not_graded} submission(s) could not be graded (the grader failed, not the student; "
                  "their points are left blank): see the top of the report, then run make grade again",
                  file=sys.stderr)
            sys.exit(NOT_GRADED_EXIT)
    elif arguments.command == "report":
        for path in report.main(out=arguments.out, student_pattern=arguments.student_pattern):
            print(path)
    elif arguments.command == "preflight":
        preflight.main(assignment=arguments.assignment, memory=arguments.memory, cpus=arguments.cpus)
    elif arguments.command == "worker":
        executors.check_address(arguments.scheduler)
        sys.exit(node.main(scheduler=arguments.scheduler, memory=arguments.memory, slots=arguments.slots))
    else:
        demo.main(out=arguments.out)
