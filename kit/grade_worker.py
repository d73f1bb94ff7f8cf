"""Grade one submission for `make grade`, in a process of its own: unpack the autograder privately, run it sealed."""

import argparse
import pathlib
import shutil
import tempfile
import zipfile

from .grading import isolation, runner


def main(*, submission, autograder, out, timeout=None):
    """Write out/results.json for one submission; returns the report."""
    source = pathlib.Path(tempfile.mkdtemp(prefix="kit-autograder-"))
    try:
        isolation.close_to_others(source)
        with zipfile.ZipFile(autograder) as archive:
            archive.extractall(source)
        report = runner.grade(upload=submission, source=source, timeout=timeout)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    runner.write_results(report, out)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("submission")
    parser.add_argument("autograder")
    parser.add_argument("out")
    parser.add_argument("--timeout", type=float, default=None)
    arguments = parser.parse_args()
    main(submission=arguments.submission, autograder=arguments.autograder, out=arguments.out,
         timeout=arguments.timeout)
