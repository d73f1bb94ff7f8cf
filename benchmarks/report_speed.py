"""How long `make report` takes on a large batch: synthetic graded submissions, each step of the report timed.

Writes a graded folder as `make grade` would (final_grades.csv through the kit's own writer, grading_settings.json,
results/<file>/results.json) with varied scores, statuses, failure messages and accuracies, in a temporary folder,
then times the report's steps and the whole of `make report`'s code. Prints a Markdown table.

    .venv/bin/python -m benchmarks.report_speed [--submissions 300]
"""

import argparse
import json
import pathlib
import random
import tempfile
import time

from kit import canvas, feedback, outfolder, report, report_page
from kit.batch import table

# sequential_mnist's test cases: (question, name, hidden, points, messages a failure may show)
CASES = [
    ("build_model", "test_returns_a_model", False, 0.5, ["the model needs an LSTM layer"]),
    ("build_model", "test_output_is_ten_probabilities", False, 0.5,
     ["the model maps 2 images to (2, 28, 50); it should give 10 numbers per image"]),
    ("build_model", "test_layers_and_parameters", True, 0.75, ["exactly one LSTM layer", "parameter count"]),
    ("build_model", "test_softmax_output", True, 0.5, ["softmax rows sum to 1", "NameError: name 'nb_units' is "
                                                                                "not defined"]),
    ("build_model", "test_compiled_for_one_hot_labels", True, 0.75, ["the loss should be categorical cross-entropy"]),
    ("prepare_data", "test_sequence_shapes", False, 0.25,
     ["got (60000, 784) and (10000, 784): each image should be 28 time steps of 28 features"]),
    ("prepare_data", "test_pixels_scaled", False, 0.25, ["pixel values should be scaled into the range [0, 1]"]),
    ("prepare_data", "test_labels_one_hot", False, 0.25, ["labels should be one-hot: one row of 10 numbers per image"]),
    ("prepare_data", "test_images_match_the_data_file", True, 0.625, ["x_train range", "x_test is not floating point"]),
    ("prepare_data", "test_labels_match_the_data_file", True, 0.625, ["y_train is not the labels in order"]),
    ("return_sequences", "test_one_output_per_step", False, 0.5,
     ["output shape (None, 50): return_sequences=True keeps all 28 steps"]),
    ("return_sequences", "test_sequence_model_layers", True, 1.5, ["nothing after the LSTM", "one LSTM(nb_units)"]),
    ("train_model", "test_three_epochs", False, 0.5, ["train for 3 epochs"]),
    ("train_model", "test_lesson_training_settings", True, 1.0, ["batch size 128 on 80 % of 60,000 images"]),
    ("train_model", "test_test_set_accuracy", True, 1.5, []),  # its message names the model's own accuracy
]
THRESHOLD = 0.93
ISOLATION = "separate user, namespaces (mount, pid, net), cgroup limits"


def points_possible():
    possible = {}
    for question, _, _, points, _ in CASES:
        possible[question] = possible.get(question, 0) + points
    return possible


def synthetic_results(chance):
    """One submission's results.json, or a status string for one whose worker left none."""
    roll = chance.random()
    if roll < 0.03:
        return f"Grader process died (exit code -9); see {chance.choice(['grading.log', 'the log'])}"
    if roll < 0.10:
        status = chance.choice(["Timed out after 600 s", "Grading failed: MemoryError: the notebook needed more "
                                "than 2,048 MB", "Grading failed: NotJSONError: Notebook does not appear to be JSON"])
        return results_json([], status, {}, chance.uniform(5, 600))
    skill = chance.random()
    accuracy = round(min(0.99, chance.gauss(0.95, 0.01) if skill > 0.2 else chance.uniform(0.1, 0.93)), 4)
    cases = [case_record(case, chance, skill, accuracy) for case in CASES]
    return results_json(cases, "Completed", {"test_accuracy": accuracy, "accuracy_threshold": THRESHOLD},
                        chance.uniform(20, 60))


def case_record(case, chance, skill, accuracy):
    question, name, hidden, points, messages = case
    passed = accuracy >= THRESHOLD if name == "test_test_set_accuracy" else chance.random() < 0.6 + 0.4 * skill
    message = None if passed else (chance.choice(messages) if messages else
                                   f"test accuracy {accuracy:.4f} is under {THRESHOLD}")
    return {"question": question, "name": name, "hidden": hidden, "points": points, "passed": passed,
            "message": message}


def results_json(cases, status, measurements, seconds):
    possible = points_possible()
    earned = {question: sum(case["points"] for case in cases if case["question"] == question and case["passed"])
              for question in possible}
    tests = [{"name": question, "score": earned[question], "max_score": points, "visibility": "after_published",
              "output": ""} for question, points in possible.items()]
    return {"score": sum(earned.values()), "tests": tests,
            "extra_data": {"status": status, "isolation": ISOLATION, "peak_memory_mb": 1100,
                           "phases": {"total": round(seconds, 3)}, "test_cases": cases, "measurements": measurements}}


def write_batch(out, count, seed=0):
    """A graded folder of count synthetic submissions, named as Canvas names its downloads."""
    chance = random.Random(seed)
    outcomes = []
    for number in range(count):
        file_name = f"student{number:04d}_{100000 + number}_{7000000 + number}_sequential_mnist.zip"
        outcome = synthetic_results(chance)
        if isinstance(outcome, dict):
            folder = out / "results" / file_name
            folder.mkdir(parents=True)
            (folder / outfolder.RESULTS_JSON).write_text(json.dumps(outcome, indent=2))
        outcomes.append((file_name, outcome))
    table.grades_table(points_possible(), outcomes).to_csv(out / outfolder.FINAL_GRADES_CSV, index=False)
    (out / outfolder.SETTINGS_JSON).write_text(json.dumps({"assignment": "sequential_mnist", "timeout": 600.0,
                                                        "memory": "2G", "cpus": None, "jobs": 2,
                                                        "isolation": [ISOLATION], "kit_version": "benchmark"}))


def timed(action):
    begun = time.perf_counter()
    result = action()
    return time.perf_counter() - begun, result


def main(*, submissions=300):
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch)
        write_batch(out, submissions)
        rule = canvas.student_rule()
        steps = {}
        steps["read the folder (outfolder.read)"], batch = timed(lambda: outfolder.read(out))
        steps["render report.html"], page = timed(lambda: report_page.render(batch))
        steps["write feedback/ (.md and .html each)"], _ = timed(lambda: feedback.write_all(batch, out / "feedback"))
        steps["write grades_lms.csv"], _ = timed(lambda: canvas.write(batch, out / report.GRADEBOOK_CSV, rule))
        steps["all of make report (report.main)"], _ = timed(lambda: report.main(out=out))
        size = (out / report.REPORT_HTML).stat().st_size
    print(f"{submissions} synthetic submissions; report.html {size / 1024:,.0f} KB\n")
    print("| step | seconds |\n|---|---:|")
    for step, seconds in steps.items():
        print(f"| {step} | {seconds:.3f} |")
    return steps


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    main(submissions=parser.parse_args().submissions)
