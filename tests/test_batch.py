"""make grade on Dask: every row exactly once on an engine that runs tasks at least once, and an OUT that
grows by what is new (incremental, resumable)."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest

from kit import catalogue, outfolder
from kit.batch import executors, grade, node, results, worker
from kit.batch.table import points_per_question
from kit.grading import status
from kit.layout import ROOT, Layout
from kit.settings import Settings

LAYOUT = Layout()
ASSIGNMENT = "lstm_parameters"  # 7 s a grading: the batch's mechanics, not the model, are under test
CASES = ("solution", "formula_without_bias", "untouched")  # full marks, part marks, none


def write_cases(folder, names=CASES):
    cases = catalogue.load_cases(LAYOUT.catalogue(ASSIGNMENT))
    return catalogue.main(assignment=ASSIGNMENT, cases={name: cases[name] for name in names}, out=folder)


def expected_rows(names=CASES):
    cases = catalogue.load_cases(LAYOUT.catalogue(ASSIGNMENT))
    possible = points_per_question(LAYOUT.autograder_zip(ASSIGNMENT))
    return {f"{name}.ipynb": catalogue.expected_scores(cases[name], possible) for name in names}


def graded_rows(out):
    table = pd.read_csv(out / outfolder.FINAL_GRADES_CSV).set_index("file").drop(outfolder.POINTS_ROW)
    assert table.index.is_unique, "a submission has two rows"
    questions = list(points_per_question(LAYOUT.autograder_zip(ASSIGNMENT)))
    return {file: {question: float(row[question]) for question in questions} for file, row in table.iterrows()}


def stamps(out):
    """{row: when its results.json was written}: a row graded again gets a new stamp."""
    return {folder.name: (folder / outfolder.RESULTS_JSON).stat().st_mtime_ns for folder in (out / "results").iterdir()}


def no_partial_files(out):
    return [path for path in out.rglob("*") if path.name.startswith(".") or path.name.endswith(".partial")]


# --- fast: the rules

@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "10.0.0.5:8786", "ws://grader.example:8786"])
def test_a_scheduler_on_another_machine_needs_tls(address):
    with pytest.raises(executors.RefusedCluster, match="tls://"):
        executors.check_address(address)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "localhost:8786", "tls://grader.example:8786"])
def test_a_local_or_tls_scheduler_is_accepted(address):
    executors.check_address(address)


def job(**changes):
    fields = dict(suffix=".ipynb", submission=b"{}", autograder_sha256="a" * 64, timeout=600.0, memory="1G",
                  cpus=None, kit_version="v1")
    return worker.Job(**{**fields, **changes})


def test_a_grading_key_changes_with_everything_that_decides_the_grade():
    keys = {job().key, job(submission=b"{ }").key, job(autograder_sha256="b" * 64).key, job(kit_version="v2").key,
            job(timeout=60.0).key, job(memory="2G").key, job(cpus=0.5).key, job(strict=False).key}
    assert len(keys) == 8
    assert job().key == job(hidden=("/elsewhere",)).key  # where the batch writes is not part of the grade
    assert job().key == job(timeout=600, memory="1024M").key  # limits as numbers, however they were written


def test_a_row_stands_only_when_graded_with_the_same_key(tmp_path):
    points = {"q": 1}
    graded = worker.Graded({"tests": [], "extra_data": {"outcome": status.to_json(status.Completed())}},
                           status.Completed(), "log\n", "here")
    results.write(tmp_path / "kept.ipynb", job(), graded, points)
    results.write(tmp_path / "lost.ipynb", job(), worker.Graded(None, status.NotGraded("x"), "", ""),
                  points)
    (tmp_path / "empty.ipynb").mkdir()
    (tmp_path / "broken.ipynb").mkdir()
    (tmp_path / "broken.ipynb" / outfolder.RESULTS_JSON).write_text("{")
    jobs = {name: job() for name in ("kept.ipynb", "lost.ipynb", "empty.ipynb", "broken.ipynb", "fresh.ipynb")}
    jobs["changed.ipynb"] = job(kit_version="v2")
    results.write(tmp_path / "changed.ipynb", job(), graded, points)
    to_grade, kept = results.plan(tmp_path, jobs)
    assert kept == ["kept.ipynb"]
    assert to_grade == {"lost.ipynb": "not graded", "empty.ipynb": "missing", "broken.ipynb": "unreadable",
                        "fresh.ipynb": "new", "changed.ipynb": "changed"}
    assert results.plan(tmp_path, jobs, regrade="kept.ipynb")[0]["kept.ipynb"] == "forced"
    assert len(results.plan(tmp_path, jobs, regrade="all")[0]) == len(jobs)
    with pytest.raises(ValueError, match="REGRADE=nobody.ipynb"):
        results.plan(tmp_path, jobs, regrade="nobody.ipynb")
    assert not no_partial_files(tmp_path)


def test_every_worker_must_run_this_kit_these_requirements_and_this_python():
    mine = node.facts()
    assert set(mine) == {"kit_version", "requirements_sha256", "python"} and all(mine.values())


# --- slow: real gradings

@pytest.mark.slow
def test_an_out_folder_grows_by_what_is_new(tmp_path, monkeypatch):
    """Graded once; a rerun grades nothing; a changed file, REGRADE and a new kit version grade again
    exactly what they should; one new file graded into the batch keeps every row."""
    submissions, out = tmp_path / "in", tmp_path / "out"
    write_cases(submissions)
    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out, settings=Settings(timeout=300))
    assert graded_rows(out) == expected_rows()
    first = stamps(out)

    begun = time.monotonic()
    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out, settings=Settings(timeout=300))
    print(f"rerun of a complete OUT of {len(first)}: {time.monotonic() - begun:.1f} s")
    assert stamps(out) == first, "a rerun graded again what OUT already held"

    touched = submissions / "untouched.ipynb"
    touched.write_text(touched.read_text() + "\n")  # another file's bytes, the same notebook
    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out, settings=Settings(timeout=300))
    second = stamps(out)
    assert [name for name in first if second[name] != first[name]] == ["untouched.ipynb"]

    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out,
               settings=Settings(timeout=300, regrade="solution.ipynb"))
    third = stamps(out)
    assert [name for name in first if third[name] != second[name]] == ["solution.ipynb"]

    monkeypatch.setattr(node, "kit_version", lambda: "another-kit")
    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out, settings=Settings(timeout=300))
    fourth = stamps(out)
    assert all(fourth[name] != third[name] for name in first), "a new kit version must grade every row again"

    one_file = tmp_path / "late"
    (late,) = write_cases(one_file, ["formula_without_bias"])
    late.rename(one_file / "late_formula.ipynb")
    grade.main(assignment=ASSIGNMENT, submissions=one_file, out=out, settings=Settings(timeout=300))
    rows = graded_rows(out)
    assert set(rows) == {*expected_rows(), "late_formula.ipynb"}
    assert rows["late_formula.ipynb"] == expected_rows()["formula_without_bias.ipynb"]
    settings = json.loads((out / outfolder.SETTINGS_JSON).read_text())
    assert settings["files_gone"] == sorted(expected_rows()), "rows whose files are not in SUBMISSIONS are listed"
    assert f"Rows whose file is gone ({len(CASES)})" in (out / "report.html").read_text()
    assert not no_partial_files(out)


def dask_workers_grading(out):
    """Dask worker processes whose grading process is writing into out (the worker, not the grading)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "kit.batch.worker" in command and any(str(out) in part for part in command):
            try:
                found.append(process.parent())
            except psutil.NoSuchProcess:
                pass
    return [each for each in found if each is not None]


@pytest.mark.slow
def test_a_dask_worker_killed_mid_batch_costs_no_row(tmp_path):
    """Two workers; the first one seen grading is SIGKILLed. Its task runs again elsewhere: every row once,
    with the points the catalogue expects, nothing partial in OUT and no unpacked autograder left."""
    submissions, out, scratch = tmp_path / "in", tmp_path / "out", tmp_path / "scratch"
    write_cases(submissions)
    scratch.mkdir()
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--timeout", "300", "--jobs", "2"]
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "TMPDIR": str(scratch)})
    deadline = time.monotonic() + 300
    while not (victims := dask_workers_grading(out)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victims, "no Dask worker was seen grading"
    victims[0].send_signal(signal.SIGKILL)
    _, errors = batch.communicate(timeout=900)
    assert batch.returncode == 0, errors[-3000:]
    assert graded_rows(out) == expected_rows()
    assert not no_partial_files(out)
    deadline = time.monotonic() + 60  # the orphaned grading process removes its scratch once it has started
    while list(scratch.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not list(scratch.iterdir()), f"left behind: {list(scratch.iterdir())}"


@pytest.mark.slow
def test_the_client_killed_mid_batch_then_rerun_finishes_the_batch(tmp_path):
    submissions, out = tmp_path / "in", tmp_path / "out"
    write_cases(submissions)
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--timeout", "300", "--jobs", "1"]
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((out / "results").glob(f"*/{outfolder.RESULTS_JSON}")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(batch.pid, signal.SIGKILL)  # the client and the cluster it started, as a lost machine would
    batch.wait()
    done = stamps(out)
    assert 0 < len(done) < len(CASES)
    grade.main(assignment=ASSIGNMENT, submissions=submissions, out=out, settings=Settings(timeout=300))
    assert graded_rows(out) == expected_rows()
    assert {name: stamp for name, stamp in stamps(out).items() if name in done} == done, "finished rows regraded"
    assert not no_partial_files(out)


def test_make_worker_offers_its_memory_as_a_resource_and_a_thread_per_slot():
    command = node.worker_command("tls://scheduler.example:8786", "30G", 15)
    assert command[command.index("--resources") + 1] == f"MEMORY={30 * 2**30}"
    assert command[command.index("--nthreads") + 1] == "15" and "--no-dashboard" in command
    default = node.worker_command("tls://scheduler.example:8786", None, 1)
    offered = int(default[default.index("--resources") + 1].split("=")[1])
    assert 0 < offered < psutil.virtual_memory().total


def ends_its_worker(job, autograder):
    """A task standing in for a grading that takes its Dask worker down every time it runs."""
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.slow
def test_a_grading_that_keeps_ending_its_worker_is_the_submissions_failure():
    """Dask retries a task whose worker died; after ALLOWED_FAILURES deaths the row is a student failure,
    a 0 with its reason, and the batch goes on."""
    written = {}
    with executors.cluster(None, 1) as client:
        executors.grade_all(client, ends_its_worker, {"crash.ipynb": job()}, b"zip",
                            lambda name, graded: written.setdefault(name, []).append(graded), "test")
    (graded,) = written["crash.ipynb"]
    assert graded.results is None and graded.outcome.kind == status.StudentFailure.kind
    assert graded.outcome.error == "KilledWorker" and status.is_grade(graded.outcome)
