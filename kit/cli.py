"""Command line for the kit: `python -m kit build|grade|demo`."""

import argparse
import sys

from . import build, demo, grade


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kit", description="Build and grade the RNN course kit.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="regenerate assignment/ and autograder/ from solutions/")
    build_parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    grade_parser = commands.add_parser("grade", help="grade a folder of submissions without Docker")
    grade_parser.add_argument("--assignment", required=True)
    grade_parser.add_argument("--submissions", required=True, help="folder of .ipynb and export .zip files")
    grade_parser.add_argument("--out", required=True, help="folder for final_grades.csv and results")
    grade_parser.add_argument("--timeout", type=float, default=None, help="seconds per submission")
    grade_parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    demo_parser = commands.add_parser("demo", help="build, then grade the bundled example submissions")
    demo_parser.add_argument("--out", default="graded/demo")
    return parser.parse_args(argv)


def run(argv=None):
    arguments = parse_arguments(argv)
    try:
        dispatch(arguments)
    except (ValueError, FileNotFoundError, NotADirectoryError) as error:  # a user's mistake: no traceback
        sys.exit(f"error: {error}")


def dispatch(arguments):
    if arguments.command == "build":
        build.main(names=arguments.names or None)
    elif arguments.command == "grade":
        table = grade.main(assignment=arguments.assignment, submissions=arguments.submissions, out=arguments.out,
                           timeout=arguments.timeout, jobs=arguments.jobs)
        print(table.to_string(index=False))
    else:
        demo.main(out=arguments.out)
