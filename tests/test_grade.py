"""make grade: Otter's final_grades.csv layout, points from the autograder, a row for every file."""

import zipfile

import pytest

from kit import graded, grade
from kit.grading import runner, status
from kit.layout import Layout

LAYOUT = Layout()


def test_points_per_question_come_from_the_autograder_zip():
    points = grade.points_per_question(LAYOUT.autograder_zip("sequential_mnist"))
    assert points == {"build_model": 3, "prepare_data": 2, "return_sequences": 2, "sequence_views": 2, "train_model": 3}


def test_table_has_otter_columns_and_a_points_row():
    points = {"a_question": 2, "b_question": 3}
    table = grade.grades_table(points, [("late.ipynb", runner.failed_report_for(points, status.TimedOut(5)))])
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
    table = grade.grades_table(points, [("unlucky.ipynb", failed)])
    table.to_csv(tmp_path / graded.FINAL_GRADES_CSV, index=False)
    line = (tmp_path / graded.FINAL_GRADES_CSV).read_text().splitlines()[2]
    assert line == "unlucky.ipynb,,,,,not graded: the kernel did not start"
    _, (submission,) = graded.read_final_grades(tmp_path / graded.FINAL_GRADES_CSV)
    assert not submission.graded and submission.outcome == "not graded"
    assert submission.points == {"a_question": None, "b_question": None}


def test_only_notebooks_and_zips_are_submissions(tmp_path):
    for name in ("b.ipynb", "a.zip", "notes.txt", ".hidden.ipynb~"):
        (tmp_path / name).write_text("x")
    assert [path.name for path in grade.submission_paths(tmp_path)] == ["a.zip", "b.ipynb"]


def test_missing_folder_and_missing_build_are_clear(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a folder of submissions"):
        grade.main(assignment="sequential_mnist", submissions=tmp_path / "nowhere", out=tmp_path / "out")
    with pytest.raises(ValueError, match="choose one of lstm_parameters, sequential_mnist"):
        grade.main(assignment="no_such_assignment", submissions=tmp_path, out=tmp_path / "out")
    unbuilt = tmp_path / "unbuilt"
    (unbuilt / "solutions").mkdir(parents=True)
    (unbuilt / "solutions" / "sequential_mnist.ipynb").write_text("{}")
    with pytest.raises(FileNotFoundError, match="make build"):
        grade.main(assignment="sequential_mnist", submissions=tmp_path, out=tmp_path / "out", root=unbuilt)


def test_unreadable_uploads_keep_their_rows(tmp_path):
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "empty.ipynb").write_text("")
    (submissions / "not_a_zip.zip").write_text("plain text")
    table = grade.main(assignment="sequential_mnist", submissions=submissions, out=tmp_path / "out", timeout=120)
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
    grade.main(assignment="lstm_parameters", submissions=submissions, out=out, timeout=120)
    batch = graded.read(out)  # final_grades.csv read back as the report reads it
    statuses = {submission.file: submission.status for submission in batch.submissions}
    assert set(statuses) == {"honest.zip", "[U+000D]honest.zip"}
    assert statuses["honest.zip"].startswith("Grading failed: BadZipFile")
    assert not statuses["[U+000D]honest.zip"].startswith("Grading failed: BadZipFile")
    assert {path.name for path in (out / "feedback").glob("*.md")} == {"honest.zip.md", "[U+000D]honest.zip.md"}
