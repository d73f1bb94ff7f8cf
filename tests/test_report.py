"""make report: the instructor's page, students' feedback and the gradebook CSV, from a graded folder alone.

tests/report/out is a small graded folder of sequential_mnist: full marks, partial marks (one with a hostile
failure message), a timeout, a failed grading, a worker that left no results.json, a truncated results.json and
results from a kit that did not yet record test cases. tests/report/grades_lms.csv is its expected gradebook.
"""

import html.parser
import os
import pathlib
import re
import shutil
import statistics
import subprocess

import mistune
import pandas as pd
import pytest

from kit import canvas, feedback, outfolder, report
from kit.layout import ROOT
from scripts import chromium
from tests.hidden_tests import hidden_test_lines

FIXTURE = pathlib.Path(__file__).parent / "report"
HOSTILE = "<script>alert(1)</script>"
PLANTED = "def test_planted_secret"  # a message results.json gives a passed check: never shown


@pytest.fixture
def out(tmp_path):
    """A fresh copy of the graded folder, report made."""
    folder = tmp_path / "out"
    shutil.copytree(FIXTURE / "out", folder)
    report.main(out=folder)
    return folder


class Cells(html.parser.HTMLParser):
    """Every table row's cells as text, and every data-figure's text."""

    def __init__(self, page):
        super().__init__()
        self.rows, self.figures, self.row, self.cell, self.figure = [], {}, None, None, None
        self.feed(page)

    def handle_starttag(self, tag, attributes):
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
        elif dict(attributes).get("data-figure"):
            self.figure = dict(attributes)["data-figure"]
            self.figures[self.figure] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr":
            self.rows.append(self.row)
        elif tag == "dd":
            self.figure = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.figure is not None:
            self.figures[self.figure] += data

    def row_starting(self, first, cells=None):
        """The first row whose first cell is first (and that has so many cells, when given)."""
        return next(row for row in self.rows if row and row[0] == first and cells in (None, len(row)))


def page_of(out):
    return Cells((out / report.REPORT_HTML).read_text())


def grades_csv():
    table = pd.read_csv(FIXTURE / "out" / outfolder.FINAL_GRADES_CSV)
    return table.iloc[0], table.iloc[1:]


def test_summary_figures_match_final_grades_csv(out):
    """Every row is counted; the statistics are of the grades, never of a row the grader failed at (blank points)."""
    possible, rows = grades_csv()
    figures = page_of(out).figures
    assert int(figures["count"]) == len(rows) == 8
    grades = rows[rows.total_points_earned.notna()]
    assert len(grades) == 7
    assert figures["mean"] == f"{grades.total_points_earned.mean():.2f}"
    assert figures["median"] == f"{statistics.median(grades.total_points_earned):g}"
    full = (grades.total_points_earned == possible.total_points_earned).sum()
    assert figures["full-marks"] == f"{full} ({full / len(grades):.0%})".replace("%", " %")
    statuses = rows.grading_status
    assert int(figures["completed"]) == (statuses == "Completed").sum() == 5
    assert int(figures["timed-out"]) == statuses.str.startswith("Timed out").sum() == 1
    assert int(figures["failed"]) == 1
    assert int(figures["not-graded"]) == 1


def test_question_shares_match_final_grades_csv(out):
    possible, rows = grades_csv()
    cells = page_of(out)
    for question in ["build_model", "prepare_data", "return_sequences", "train_model"]:
        points = rows[question]
        expected = [(points == possible[question]).sum(), ((points > 0) & (points < possible[question])).sum(),
                    (points == 0).sum()]
        shown = cells.row_starting(question)[2:5]
        assert [int(cell.split()[0]) for cell in shown] == expected, question


def test_statuses_name_their_files_and_unreadable_results_keep_their_rows(out):
    cells = page_of(out)
    assert cells.row_starting("whitebob_123458_7890003_late_notebook.ipynb")[1] == "Timed out after 600 s"
    failed = cells.row_starting("greenann_123459_7890004_sequential_mnist.zip")
    assert failed[1].startswith("Grading failed: MemoryError")
    corrupt = cells.row_starting("corrupt.zip", cells=3)  # the table of results that could not be read
    assert corrupt[1].startswith("results.json is not valid JSON") and corrupt[2] == "Completed"
    assert cells.row_starting("vanished.ipynb")[1] == ("not graded: the grading process ended with exit code -9 "
                                                       "and left no results")
    assert [row for row in cells.rows if len(row) == 3 and row[1] == "no results.json"] == []  # its status says so
    assert (out / "feedback" / "corrupt.zip.md").is_file()


@pytest.mark.parametrize("content, problem", [
    (b"[]", "has no extra_data"), (b'{"extra_data": 1}', "has no extra_data"),
    (b'{"extra_data": {"test_cases": "all passed"}}', "test_cases is not a list"),
    (b'{"extra_data": {"test_cases": [{"question": "q", "name": "t", "hidden": 0, "points": 1, "passed": true}]}}',
     "test case 1 is malformed"),
    (b"[" * 100_000, "not valid JSON"), (b"\xff\xfe", "not valid JSON"),
])
def test_a_malformed_results_json_is_named_and_the_rest_goes_on(out, content, problem):
    (out / "results" / "corrupt.zip" / outfolder.RESULTS_JSON).write_bytes(content)
    report.main(out=out)
    assert problem in page_of(out).row_starting("corrupt.zip", cells=3)[1]
    assert (out / "feedback" / "smithjane_123456_7890001_sequential_mnist_2026_11_29T10_00_00_000000.zip.md").is_file()


def test_a_completed_row_without_results_json_is_named(out):
    name = "smithjane_123456_7890001_sequential_mnist_2026_11_29T10_00_00_000000.zip"
    (out / "results" / name / outfolder.RESULTS_JSON).unlink()
    report.main(out=out)
    assert page_of(out).row_starting(name, cells=3)[1:] == ["no results.json", "Completed"]


def test_failed_checks_most_frequent_first_with_the_messages_seen(out):
    failures = [row for row in page_of(out).rows if row and " · test_" in row[0]]
    assert failures[0][0].startswith("prepare_data · test_images_match_the_data_file")
    assert failures[0][2] == "2 of 3"  # only the three results that record their checks count
    assert "x_train is not the images in order, divided by 255" in failures[0][3] and "x_train range" in failures[0][3]
    assert [int(row[2].split()[0]) for row in failures] == sorted((int(row[2].split()[0]) for row in failures),
                                                                   reverse=True)
    assert not any(PLANTED in cell for row in failures for cell in row)


def test_accuracy_against_the_threshold(out):
    figures = page_of(out).figures
    assert figures["measured"] == "3"
    assert figures["threshold"] == "0.93"
    assert figures["passing"] == "2 (67 %)"
    assert (figures["lowest"], figures["highest"]) == ("0.9121", "0.9512")
    assert "threshold 0.93" in (out / report.REPORT_HTML).read_text()


def test_settings_and_slowest_first(out):
    cells = page_of(out)
    times = [row for row in cells.rows if len(row) == 5 and row[1].endswith(" s")]
    assert [row[0] for row in times[:2]] == ["whitebob_123458_7890003_late_notebook.ipynb",
                                             "greenann_123459_7890004_sequential_mnist.zip"]
    assert cells.figures["timeout"] == "600 s" and cells.figures["memory-cap"] == "2G"
    assert cells.figures["kit-version"] == "c6d3b3c"
    assert cells.figures["isolation"] == "separate user, namespaces (mount, pid, net), cgroup limits"


def test_feedback_holds_messages_but_no_test_source(out):
    feedback = sorted((out / "feedback").iterdir())
    assert len(feedback) == 2 * 8
    hidden_lines = hidden_test_lines("sequential_mnist")
    assert hidden_lines
    for path in feedback:
        text = path.read_text()
        assert "def test_" not in text and PLANTED not in text, path.name
        assert not [line for line in hidden_lines if line in text], path.name
    student = (out / "feedback" / "doejohn_LATE_123457_7890002_sequential_mnist.zip.md").read_text()
    assert "Points: **7.625 of 10**" in student
    assert "| `prepare_data` | 1.125 | 2 |" in student
    assert "pixel values should be scaled into the range \\[0, 1\\]" in student
    assert "test accuracy 0.9121 is under 0.93" in student and "test accuracy: 0.9121" in student
    assert "passed: `test_three_epochs`" in student
    timed_out = (out / "feedback" / "whitebob_123458_7890003_late_notebook.ipynb.html").read_text()
    assert "Grading status: Timed out after 600 s" in timed_out


def test_a_hostile_message_is_shown_as_text(out):
    name = "jsmith_sequential_mnist_2026_11_29T11_12_13_456789.zip"
    for path in [out / report.REPORT_HTML, out / "feedback" / f"{name}.html", out / "feedback" / f"{name}.md"]:
        text = path.read_text()
        assert HOSTILE not in text and "<script" not in text, path.name
        assert "ValueError: &lt;script&gt;alert(1)&lt;/script&gt;" in text, path.name


def test_a_message_becomes_one_plain_line():
    message = "InvalidArgumentError: \x1b[1mDimensions must be equal\x1b[0m,\n  but are 28 and 784" + "!" * 600
    line = outfolder.one_line(message)
    assert line.startswith("InvalidArgumentError: Dimensions must be equal, but are 28 and 784!")
    assert len(line) == outfolder.MESSAGE_CHARACTERS and line.endswith("…")


def test_gradebook_is_canvas_import_layout(out):
    assert (out / report.GRADEBOOK_CSV).read_text() == (FIXTURE / "grades_lms.csv").read_text()


@pytest.mark.parametrize("file_name, pattern, expected", [
    ("smithjane_123456_7890001_sequential_mnist_2026_11_29T10_00_00_000000.zip", None,
     {"Student": "smithjane", "ID": "123456"}),
    ("doejohn_LATE_123457_7890002_sequential_mnist.zip", None, {"Student": "doejohn", "ID": "123457"}),
    ("jsmith_sequential_mnist_2026_11_29T11_12_13_456789.zip", None, {"Student": "jsmith_sequential_mnist"}),
    ("late_notebook.ipynb", None, {"Student": "late_notebook"}),
    ("=HYPERLINK(1).ipynb", None, {"Student": "'=HYPERLINK(1)"}),
    ("eve_\u0661\u0662\u0663_4_sequential_mnist.zip", None, {"Student": "eve_\u0661\u0662\u0663_4_sequential_mnist"}),  # not an ID
    ("jsmith_sequential_mnist_2026_11_29T11_12_13_456789.zip", r"^(?P<sis_login_id>[a-z]+)_",
     {"Student": "jsmith_sequential_mnist", "SIS Login ID": "jsmith"}),
])
def test_student_rule(file_name, pattern, expected):
    columns = canvas.student_columns(file_name, canvas.student_rule(pattern))
    assert columns == {**dict.fromkeys(canvas.STUDENT_COLUMNS, ""), **expected}


@pytest.mark.parametrize("pattern, message", [("(", "not a regular expression"),
                                              (r"^(?P<student>\w+)_", "needs a named group")])
def test_a_pattern_that_cannot_serve_is_refused(pattern, message):
    with pytest.raises(ValueError, match=message):
        canvas.student_rule(pattern)


def test_two_files_of_one_student_both_keep_their_rows(out, capsys):
    second = "smithjane_123456_7890009_sequential_mnist.zip"
    with open(out / outfolder.FINAL_GRADES_CSV, "a") as grades:
        grades.write(f"{second},3,2,2,0,7,0.7,Completed\n")
    report.main(out=out)
    assert "2 files name the same student" in capsys.readouterr().err
    rows = (out / report.GRADEBOOK_CSV).read_text().splitlines()
    assert len([row for row in rows if row.startswith("smithjane,123456,")]) == 2


def test_a_file_name_that_leaves_the_folder_is_not_followed(out):
    with open(out / outfolder.FINAL_GRADES_CSV, "a") as grades:
        grades.write("../../escaped.ipynb,0,0,0,0,0,0,Completed\n")
    report.main(out=out)
    assert not list(out.parent.parent.glob("escaped*")) and not list(out.parent.glob("escaped*"))
    assert "not a plain file name" in (out / report.REPORT_HTML).read_text()
    assert "escaped," in (out / report.GRADEBOOK_CSV).read_text()


def test_missing_folder_or_grades_are_clear(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a folder of grading output"):
        report.main(out=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="final_grades.csv is missing: run `make grade`"):
        report.main(out=tmp_path)


def test_make_report_recreates_the_outputs(tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(FIXTURE / "out", folder)
    made = subprocess.run(["make", "--no-print-directory", "report", f"OUT={folder}",
                           r"STUDENT_PATTERN=^(?P<sis_login_id>[a-z]+)_sequential_mnist_[0-9_T]+\.zip$"],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert (folder / report.REPORT_HTML).is_file() and len(list((folder / "feedback").iterdir())) == 16
    assert "jsmith_sequential_mnist,,,jsmith," in (folder / report.GRADEBOOK_CSV).read_text()
    missing = subprocess.run(["make", "--no-print-directory", "report", f"OUT={tmp_path / 'nowhere'}"], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "not a folder of grading output" in missing.stderr


def test_chromium_renders_the_report(out):
    if chromium.executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with chromium.Browser() as browser:
        browser.open((out / report.REPORT_HTML).as_uri())
        shot = browser.screenshot()
        printed = browser.pdf()
        assert browser.console_errors() == []
        assert browser.evaluate("document.scripts.length") == 0
        assert browser.evaluate("performance.getEntriesByType('resource').length") == 0  # nothing fetched
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 2
    assert shot.startswith(b"\x89PNG") and len(shot) > 50_000
    assert printed.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", printed)) >= 2


def test_a_row_not_graded_comes_first_and_its_feedback_says_so(out):
    html = (out / report.REPORT_HTML).read_text()
    assert html.index("Not graded (1)") < html.index("<h2>Scores</h2>")
    feedback = (out / "feedback" / "vanished.ipynb.md").read_text()
    assert "has not been graded yet" in feedback and "Points: **– of 10**" in feedback


def test_student_text_stays_text_in_markdown_feedback(out):
    """A status carries the notebook's own assignment name: its line breaks once started a heading, a code
    block and a paragraph of raw HTML in the student's .md feedback."""
    forged = ("Grading failed: OtterRuntimeError: Received submission for assignment 'x\n\n<h1>Points: 10 of 10 "
              "(regraded)</h1>\n\n    a code block\n# a heading\n1. a list' (this is assignment 'sequential_mnist')")
    batch = outfolder.read(out)
    submission = next(submission for submission in batch.submissions if submission.outcome == "failed")
    submission.status = forged
    rendered = mistune.html(feedback.markdown(batch, submission))
    for markup in ("<h1>Points", "<pre>", "<h1>a heading", "<ol>"):
        assert markup not in rendered
    assert "&lt;h1&gt;Points: 10 of 10 (regraded)&lt;/h1&gt; a code block # a heading 1. a list" in rendered
