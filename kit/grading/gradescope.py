"""The autograder zip's entry point (Gradescope, `otter grade`): grade /autograder/submission, sealed."""

import pathlib

from . import runner, sandbox


def main(*, root="/autograder"):
    """Grade root/submission with the autograder in root/source; write root/results/results.json."""
    root = pathlib.Path(root)
    sandbox.close_to_others(root / "source", root / "submission")
    report = runner.grade(upload=root / "submission", source=root / "source")
    runner.write_results(report, root / "results")
    return report
