"""Build both assignments, grade the bundled example submissions and print the grades."""

import pathlib

from . import build, catalogue, report
from .batch import grade
from .layout import Layout
from .settings import Settings


def main(*, out, settings=Settings()):
    """Grade each assignment's demo cases into out/<assignment>/; returns {assignment: table}."""
    layout = Layout()
    build.main()
    out = pathlib.Path(out)
    tables = {}
    for assignment in layout.assignment_names():
        cases = {name: case for name, case in catalogue.load_cases(layout.catalogue(assignment)).items()
                 if case.get("demo")}
        folder = out / assignment
        catalogue.main(assignment=assignment, cases=cases, out=folder / "submissions")
        tables[assignment] = grade.main(assignment=assignment, submissions=folder / "submissions", out=folder,
                                        settings=settings)
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
