"""make report: from a graded OUT folder, the instructor's report.html, each student's feedback and grades_lms.csv."""

import pathlib
import sys

from . import canvas, feedback, outfolder, report_page

REPORT_HTML = "report.html"
FEEDBACK = "feedback"
GRADEBOOK_CSV = "grades_lms.csv"


def main(*, out, student_pattern=None):
    """Read out (final_grades.csv, grading_settings.json, results/) and write the three outputs into it.

    Nothing is graded again. student_pattern reads students' IDs from file names (kit/canvas.py); returns
    the paths written.
    """
    rule = canvas.student_rule(student_pattern)
    out = pathlib.Path(out)
    batch = outfolder.read(out)
    (out / REPORT_HTML).write_text(report_page.render(batch), encoding="utf-8")
    feedback.write_all(batch, out / FEEDBACK)
    for warning in canvas.write(batch, out / GRADEBOOK_CSV, rule):
        print(warning, file=sys.stderr)
    return [out / REPORT_HTML, out / FEEDBACK, out / GRADEBOOK_CSV]
