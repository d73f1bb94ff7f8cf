"""make grade: Otter's final_grades.csv layout, points from the autograder, a row for every file."""

import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import time
import zipfile

import pandas as pd
import psutil
import pytest

from kit import cli, outfolder, report
from kit.batch import grade, names, worker
from kit.batch.table import grades_table, points_per_question
from kit.settings import Settings
from kit.grading import kernel_users, runner, status
from kit.layout import ROOT, Layout

LAYOUT = Layout()
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="kernel user ids and capsh need root")


def test_points_per_question_come_from_the_autograder_zip():
    points = points_per_question(LAYOUT.autograder_zip("sequential_mnist"))
    assert points == {"build_model": 3, "prepare_data": 2, "return_sequences": 2, "sequence_views": 2, "train_model": 3}


def test_table_has_otter_columns_and_a_points_row():
    points = {"a_question": 2, "b_question": 3}
    table = grades_table(points, [("late.ipynb", runner.failed_report_for(points, status.TimedOut(5)))])
    assert list(table.columns) == ["file", "a_question", "b_question", "total_points_earned", "percent_correct",
                                   "grading_status"]
    assert table.iloc[0].to_dict() == {"file": "points-per-question", "a_question": 2, "b_question": 3,
                                       "total_points_earned": 5, "percent_correct": 1, "grading_status": "--"}
    assert table.iloc[1].to_dict() == {"file": "late.ipynb", "a_question": 0, "b_question": 0,
                                       "total_points_earned": 0, "percent_correct": 0,
                                       "grading_status": "Timed out after 5 s"}


def test_a_row_not_graded_has_no_points(tmp_path):
    """The grader's failure is not a grade: its cells stay empty in final_grades.csv and read back as None."""
    points = {"a_question": 2, "b_question": 3}
    failed = runner.failed_report_for(points, status.NotGraded("the kernel did not start"))
    table = grades_table(points, [("unlucky.ipynb", failed)])
    table.to_csv(tmp_path / outfolder.FINAL_GRADES_CSV, index=False)
    line = (tmp_path / outfolder.FINAL_GRADES_CSV).read_text().splitlines()[2]
    assert line == "unlucky.ipynb,,,,,not graded: the kernel did not start"
    _, (submission,) = outfolder.read_final_grades(tmp_path / outfolder.FINAL_GRADES_CSV)
    assert not submission.graded and submission.outcome == "not graded"
    assert submission.points == {"a_question": None, "b_question": None}


def test_only_notebooks_and_zips_are_submissions(tmp_path):
    for name in ("b.ipynb", "a.zip", "notes.txt", ".hidden.ipynb~"):
        (tmp_path / name).write_text("x")
    assert [path.name for path in names.submission_paths(tmp_path)] == ["a.zip", "b.ipynb"]


def test_missing_folder_and_missing_build_are_clear(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a folder of submissions"):
        grade.main(assignment="sequential_mnist", submissions=tmp_path / "nowhere", out=tmp_path / "out")
    with pytest.raises(ValueError, match="choose one of lstm_parameters, sequential_mnist"):
        grade.main(assignment="no_such_assignment", submissions=tmp_path, out=tmp_path / "out")
    unbuilt = tmp_path / "unbuilt"
    (unbuilt / "solutions").mkdir(parents=True)
    shutil.copy(LAYOUT.master("sequential_mnist"), unbuilt / "solutions")
    with pytest.raises(FileNotFoundError, match="make build"):
        grade.main(assignment="sequential_mnist", submissions=tmp_path, out=tmp_path / "out", root=unbuilt)


def test_unreadable_uploads_keep_their_rows(tmp_path):
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "empty.ipynb").write_text("")
    (submissions / "not_a_zip.zip").write_text("plain text")
    table = grade.main(assignment="sequential_mnist", submissions=submissions, out=tmp_path / "out", settings=Settings(timeout=120))
    rows = table.set_index("file")
    assert list(rows.index) == ["points-per-question", "empty.ipynb", "not_a_zip.zip"]
    assert rows.loc["empty.ipynb", "grading_status"].startswith("Grading failed: NotJSONError")
    assert rows.loc["not_a_zip.zip", "grading_status"].startswith("Grading failed: BadZipFile")
    assert (rows.loc[["empty.ipynb", "not_a_zip.zip"], "total_points_earned"] == 0).all()
    assert (tmp_path / "out" / "results" / "empty.ipynb" / "results.json").is_file()


def test_a_name_cannot_pass_for_another(tmp_path):
    """A carriage return in a file name once ended its CSV line, so the row read back as the next
    student's: it took that student's results and feedback. Hidden characters are now written out."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "honest.zip").write_text("plain text")
    with zipfile.ZipFile(submissions / "\rhonest.zip", "w"):
        pass  # an empty zip: a different failure from the victim's
    out = tmp_path / "out"
    grade.main(assignment="lstm_parameters", submissions=submissions, out=out, settings=Settings(timeout=120))
    batch = outfolder.read(out)  # final_grades.csv read back as the report reads it
    statuses = {submission.file: submission.status for submission in batch.submissions}
    assert set(statuses) == {"honest.zip", "[U+000D]honest.zip"}
    assert statuses["honest.zip"].startswith("Grading failed: BadZipFile")
    assert not statuses["[U+000D]honest.zip"].startswith("Grading failed: BadZipFile")
    assert {path.name for path in (out / "feedback").glob("*.md")} == {"honest.zip.md", "[U+000D]honest.zip.md"}


def grade_command(submissions, out, *options):
    return [sys.executable, "-m", "kit", "grade", "--assignment", "lstm_parameters", "--submissions", str(submissions),
            "--out", str(out), "--timeout", "300", *options]


def one_solution(tmp_path, name="honest.ipynb"):
    submissions = tmp_path / "in"
    submissions.mkdir()
    shutil.copy(LAYOUT.solution_notebook("lstm_parameters"), submissions / name)
    return submissions


def kill_the_first_worker_once_its_kernel_runs(out, timeout=120):
    """SIGKILL the first worker process writing into out as soon as it has started its sandbox; its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in psutil.process_iter(["cmdline"]):
            command = process.info["cmdline"] or []
            if "kit.batch.worker" in command and str(out) in " ".join(command) and process.children():
                process.kill()
                return process.pid
        time.sleep(0.1)
    raise AssertionError("no worker started")


@pytest.mark.slow
@root_only
def test_a_worker_killed_from_outside_is_graded_again_and_leaves_nothing(tmp_path):
    submissions, out, scratch = one_solution(tmp_path), tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    batch = subprocess.Popen(grade_command(submissions, out, "--jobs", "1"), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    kill_the_first_worker_once_its_kernel_runs(out)
    _, errors = batch.communicate(timeout=600)
    assert batch.returncode == 0, errors[-2000:]
    row = pd.read_csv(out / outfolder.FINAL_GRADES_CSV).set_index("file").loc["honest.ipynb"]
    assert row["grading_status"] == "Completed" and row["percent_correct"] == 1
    log = (out / "results" / "honest.ipynb" / "grading.log").read_text()
    assert "attempt 1: not graded: the grading process ended with exit code -9" in log
    assert "attempt 2: Completed" in log
    assert not list(scratch.iterdir()), "the killed worker's unpacked autograder stayed"
    assert not any(kernel_users.processes_of(uid) for uid in kernel_users.KERNEL_UIDS), "the killed worker's kernel lives on"


@pytest.mark.slow
def test_a_fault_that_persists_is_not_a_grade(tmp_path, monkeypatch, capsys):
    """An autograder the kit cannot use (its otter_config.json is gone): every attempt fails, so the row is
    not graded: blank in both CSVs, first in the report, a log that says why, and the command exits 3."""
    broken = tmp_path / "kit"
    (broken / "solutions").mkdir(parents=True)
    shutil.copy(LAYOUT.master("lstm_parameters"), broken / "solutions")
    zip_path = broken / "autograder" / "lstm_parameters" / "autograder.zip"
    zip_path.parent.mkdir(parents=True)
    with zipfile.ZipFile(LAYOUT.autograder_zip("lstm_parameters")) as original, zipfile.ZipFile(zip_path, "w") as copy:
        for entry in original.infolist():
            if entry.filename != "otter_config.json":
                copy.writestr(entry, original.read(entry))
    monkeypatch.setattr(grade, "Layout", lambda root=None: Layout(broken))
    submissions, out = one_solution(tmp_path), tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        cli.run(grade_command(submissions, out)[3:])
    assert exit_info.value.code == cli.NOT_GRADED_EXIT
    assert "could not be graded" in capsys.readouterr().err
    assert (out / outfolder.FINAL_GRADES_CSV).read_text().splitlines()[2].startswith("honest.ipynb,,,,,,,,,not graded: ")
    assert (out / "grades_lms.csv").read_text().splitlines()[2] == "honest,,,,,,,,,,,"
    assert "Not graded (1)" in (out / report.REPORT_HTML).read_text()
    log = (out / "results" / "honest.ipynb" / "grading.log").read_text()
    assert log.count("not graded: the grading process ended with exit code 1") == worker.GRADER_ATTEMPTS
    assert "otter_config.json" in log  # the worker's own account of what went wrong


@pytest.mark.slow
@root_only
def test_a_weak_sandbox_is_refused_unless_asked_for(tmp_path):
    """As root without CAP_SYS_ADMIN (a Docker container's privileges) kernels get no namespaces."""
    submissions = one_solution(tmp_path)

    def without_sys_admin(out, *options):
        shell = " ".join(shlex.quote(part) for part in grade_command(submissions, out, *options))
        return subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", shell], cwd=ROOT, capture_output=True,
                              text=True)

    refused = without_sys_admin(tmp_path / "refused")
    assert refused.returncode == cli.USAGE_EXIT, refused.stderr[-2000:]
    assert "SANDBOX=weak" in refused.stderr and not (tmp_path / "refused" / outfolder.FINAL_GRADES_CSV).exists()
    weak = without_sys_admin(tmp_path / "weak", "--sandbox", "weak")
    assert weak.returncode == 0, weak.stderr[-2000:]
    settings = json.loads((tmp_path / "weak" / outfolder.SETTINGS_JSON).read_text())
    assert settings["sandbox"] == "weak" and all("no namespaces" in level for level in settings["isolation"])
    assert "Weak sandbox" in (tmp_path / "weak" / report.REPORT_HTML).read_text()
    assert pd.read_csv(tmp_path / "weak" / outfolder.FINAL_GRADES_CSV)["percent_correct"].tolist() == [1, 1]


def test_invisible_characters_are_written_out_and_equal_names_told_apart():
    paths = [pathlib.Path(name) for name in ["col[U+200B].ipynb", "col\u200b.ipynb", "honest\u034f.ipynb",
                                             "honest.ipynb", "digit\ufe0f.zip"]]
    assert names.visible_names(paths) == ["col[U+200B].ipynb", "col[U+200B].ipynb~2", "honest[U+034F].ipynb",
                                          "honest.ipynb", "digit[U+FE0F].zip"]


@pytest.mark.slow
def test_names_that_collide_after_writing_out_get_rows_of_their_own(tmp_path):
    """A solution named col\\u200b.ipynb and the untouched release named col[U+200B].ipynb once shared one
    row, one results folder and one feedback (both 0, or both 10)."""
    submissions = tmp_path / "in"
    submissions.mkdir()
    shutil.copy(LAYOUT.solution_notebook("lstm_parameters"), submissions / "col\u200b.ipynb")
    shutil.copy(LAYOUT.release_notebook("lstm_parameters"), submissions / "col[U+200B].ipynb")
    out = tmp_path / "out"
    table = grade.main(assignment="lstm_parameters", submissions=submissions, out=out, settings=Settings(timeout=300))
    totals = table.set_index("file")["total_points_earned"].to_dict()
    assert totals == {"points-per-question": 10, "col[U+200B].ipynb": 0, "col[U+200B].ipynb~2": 10}
    assert {path.name for path in (out / "feedback").glob("*.md")} == {"col[U+200B].ipynb.md",
                                                                       "col[U+200B].ipynb~2.md"}
    assert "Names that look alike (1)" in (out / report.REPORT_HTML).read_text()
