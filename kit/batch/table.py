"""final_grades.csv in Otter's layout: the points row, then one row per submission."""

import functools
import tempfile
import zipfile

import pandas as pd

from ..grading import judge, status
from ..outfolder import POINTS_ROW


@functools.cache
def points_per_question(autograder):
    """{question: points possible}, read from the test files inside the autograder zip."""
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(autograder) as archive:
        archive.extractall(scratch, members=[name for name in archive.namelist() if name.startswith("tests/")])
        return judge.points_per_question(scratch)


def grades_table(points, graded):
    """Otter's final_grades.csv layout: the points row first, then one row per (file name, results.json dict).

    A submission that was not graded (status.NotGraded) has its points cells left empty: it has no grade."""
    questions = list(points)
    possible = sum(points.values())
    rows = [{"file": POINTS_ROW, **points, "total_points_earned": possible, "percent_correct": 1,
             "grading_status": "--"}]
    for file_name, results in sorted(graded):
        outcome = status.from_json(results["extra_data"]["outcome"])
        row = {"file": file_name, "grading_status": outcome.text}
        if status.is_grade(outcome):
            scores = question_scores(results, questions)
            total = sum(scores.values())
            row.update(scores, total_points_earned=total, percent_correct=round(total / possible, 4) if possible else 0)
        rows.append(row)
    return pd.DataFrame(rows, columns=["file", *questions, "total_points_earned", "percent_correct", "grading_status"])


def question_scores(results, questions):
    """Scores per question, each capped at its points (a failed grading has 0 everywhere)."""
    scores = {test["name"]: min(float(test["score"]), float(test["max_score"]))
              for test in results["tests"] if "max_score" in test}
    return {question: scores.get(question, 0) for question in questions}
