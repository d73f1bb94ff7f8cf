"""Grade one submission with Otter's own non-container engine; run by grade.py in a child process."""

import argparse
import json
import pathlib
import traceback

import dill

RESULTS_PICKLE = "results.pkl"
RESULTS_JSON = "results.json"


def main(*, submission, autograder, out):
    """Write Otter's results.json and the pickled GradingResults into out, whatever happens."""
    from otter.run import main as otter_run
    from otter.test_files import GradingResults

    out = pathlib.Path(out)
    try:
        results = otter_run(str(submission), autograder=str(autograder), output_dir=str(out), no_logo=True)
    except Exception as error:  # any failure of one submission must still yield its row
        traceback.print_exc()
        results = GradingResults.without_results(error)
        write_error_json(out / RESULTS_JSON, error)
    with open(out / RESULTS_PICKLE, "wb") as handle:
        dill.dump(results, handle)


def write_error_json(path, error):
    """A results.json in Gradescope's shape, as Otter writes it for an autograder error."""
    report = {
        "score": 0,
        "stdout_visibility": "hidden",
        "tests": [{"name": "Autograder Error", "output": f"{type(error).__name__}: {error}"}],
    }
    path.write_text(json.dumps(report, indent=4))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("submission")
    parser.add_argument("autograder")
    parser.add_argument("out")
    arguments = parser.parse_args()
    main(submission=arguments.submission, autograder=arguments.autograder, out=arguments.out)
