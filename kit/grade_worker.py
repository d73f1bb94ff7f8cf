"""Grade one submission for `make grade`, in a process of its own: unpack the autograder privately, run it sealed."""

import argparse
import pathlib
import shutil
import tempfile
import zipfile

from .grading import runner, sandbox


def main(*, submission, autograder, out, timeout=None, memory=None, cpus=None, hidden=(), scratch=None):
    """Write out/results.json for one submission; returns the report.

    memory ('1.5G', '768M') and cpus (0.5) limit the kernel where the sandbox can; hidden folders
    (the batch's output) are covered from the kernel's view, besides those the runner always hides.
    The autograder is unpacked into scratch (an empty folder the caller removes, so that nothing
    of it outlives a worker killed from outside), else into a temporary folder of its own.
    """
    limits = sandbox.Limits(memory_bytes=sandbox.parse_size(memory) if memory else None, cpus=cpus)
    source = pathlib.Path(scratch or tempfile.mkdtemp(prefix="kit-autograder-"))
    try:
        sandbox.close_to_others(source)
        with zipfile.ZipFile(autograder) as archive:
            archive.extractall(source)
        report = runner.grade(upload=submission, source=source, timeout=timeout, limits=limits, hidden=hidden)
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
    parser.add_argument("--memory", default=None)
    parser.add_argument("--cpus", type=float, default=None)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--scratch", default=None)
    arguments = parser.parse_args()
    runner.limit_judge_memory()
    main(submission=arguments.submission, autograder=arguments.autograder, out=arguments.out,
         timeout=arguments.timeout, memory=arguments.memory, cpus=arguments.cpus, hidden=arguments.hide,
         scratch=arguments.scratch)
