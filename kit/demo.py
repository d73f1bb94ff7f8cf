"""Build both assignments, grade the bundled example submissions and print the grades."""

import pathlib

from . import build, grade, report, submissions
from .layout import Layout


def main(*, out, jobs=2, timeout=600):
    """Grade each assignment's demo cases into out/<assignment>/; returns {assignment: table}."""
    layout = Layout()
    build.main()
    out = pathlib.Path(out)
    tables = {}
    for assignment in layout.assignment_names():
        catalogue = submissions.load_cases(submissions.CATALOGUE / assignment)
        cases = {name: case for name, case in catalogue.items() if case.get("demo")}
        folder = out / assignment
        submissions.main(assignment=assignment, cases=cases, out=folder / "submissions")
        tables[assignment] = grade.main(assignment=assignment, submissions=folder / "submissions", out=folder,
                                        timeout=timeout, jobs=jobs)
        # make grade wrote the batch's report.html, feedback and gradebook; this page adds what each example shows
        (folder / "examples.md").write_text(examples_page(assignment, cases, tables[assignment]))
        print(f"\n{assignment}  ({folder / 'final_grades.csv'}, {folder / report.REPORT_HTML})\n"
              f"{tables[assignment].to_string(index=False)}")
    return tables


def examples_page(assignment, cases, table):
    """A Markdown page: each example, what it shows, and the grade it got."""
    lines = [f"# {assignment}: example submissions", "", "| file | what it shows | points | status |",
             "|---|---|---|---|"]
    graded = table.set_index("file")
    for name, case in cases.items():
        file_name = case.get("file", f"{name}.ipynb")
        row = graded.loc[file_name]
        lines.append(f"| {file_name} | {case['description']} | {row['total_points_earned']:g} | {row['grading_status']} |")
    return "\n".join(lines) + "\n"
