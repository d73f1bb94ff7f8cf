"""What each student gets back: points per question, the checks passed, and failed checks' messages only."""

import html
import re
import shutil

from .outfolder import is_plain_file_name
from .page import document, element, join, points, table

FEEDBACK_CSS = ("ul.checks { list-style: none; padding-left: 0; } ul.checks li { margin: .2rem 0; } "
                "table { width: auto; min-width: 24rem; }")
# Markdown's inline syntax: escaped so that a message shows as written, never as a link, an image or markup.
MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]|~])")
BLOCK_START = re.compile(r"^(\d*)([#+=.)-])")  # a heading, list or rule at the start: its marker gets escaped


def write_all(batch, folder):
    """feedback/<file>.md and .html for every submission whose name is a plain file name (anew each time)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for submission in batch.submissions:
        if is_plain_file_name(submission.file):
            (folder / f"{submission.file}.md").write_text(markdown(batch, submission), encoding="utf-8")
            (folder / f"{submission.file}.html").write_text(html_page(batch, submission), encoding="utf-8")


def questions(batch, submission):
    """(question, points earned, points possible, its checks) in the assignment's order."""
    checks = submission.checks or []
    return [(question, submission.points[question], possible, [check for check in checks if check.question == question])
            for question, possible in batch.possible.items()]


def notes(batch, submission):
    """Sentences about the whole submission: a grading that did not finish, the model's accuracy, missing detail."""
    sentences = []
    if not submission.graded:
        sentences.append(f"Your submission has not been graded yet: the grader failed, not your work "
                         f"({submission.status}). It will be graded again; no points were given or taken.")
    elif submission.outcome != "completed":
        sentences.append(f"Grading status: {submission.status}. Questions that could not be graded score 0; "
                         "ask your instructor if this looks wrong.")
    if submission.accuracy is not None:
        threshold = "" if submission.threshold is None else f" (the check passes at {submission.threshold:g} or more)"
        sentences.append(f"Your trained model's test accuracy: {submission.accuracy:.4f}{threshold}.")
    if submission.checks is None and submission.outcome == "completed":
        sentences.append("The checks behind these points were not recorded.")
    return sentences


def check_text(check):
    """'passed' or 'failed', and for a failed check its points and message (never the test's code)."""
    if check.passed:
        return "passed", ""
    kind = "hidden check" if check.hidden else "public check"
    return "failed", f"{kind}, {points(check.points)} points: {check.message or 'no message'}"


def markdown(batch, submission):
    lines = [f"# {markdown_code(batch.assignment)}: your results", "",
             f"Submission: {markdown_code(submission.file)}  ",
             f"Points: **{points(submission.total)} of {points(batch.total_possible)}**", ""]
    lines += [f"{markdown_text(sentence)}\n" for sentence in notes(batch, submission)]
    lines += ["| question | points | possible |", "|---|---:|---:|"]
    lines += [f"| {markdown_code(question)} | {points(earned)} | {points(possible)} |"
              for question, earned, possible, _ in questions(batch, submission)]
    for question, earned, possible, checks in questions(batch, submission):
        if checks:
            lines += ["", f"## {markdown_code(question)}: {points(earned)} of {points(possible)}", ""]
            lines += [markdown_check(check) for check in checks]
    return "\n".join(lines) + "\n"


def markdown_check(check):
    outcome, detail = check_text(check)
    return f"- {outcome}: {markdown_code(check.name)}" + (f" ({markdown_text(detail)})" if detail else "")


def markdown_text(value):
    """value as Markdown that shows as written, on one line: line breaks (which could start a heading, a code
    block or a paragraph of the student's making) become spaces, HTML's special characters entities, inline
    syntax and a block marker at its start escaped."""
    text = MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(" ".join(str(value).split()), quote=False))
    return BLOCK_START.sub(r"\1\\\2", text)


def markdown_code(value):
    """value as a Markdown code span, shown literally: fenced by more backticks than it holds in a row.

    A table cell's pipe stays escaped, as GitHub's tables need even inside code.
    """
    value = str(value).replace("|", "\\|")
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", value)), default=0))
    padding = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{padding}{value}{padding}{fence}"


def html_page(batch, submission):
    title = f"{batch.assignment}: your results"
    summary = join(element("h1", title), element("p", join("Submission: ", element("code", submission.file))),
                   element("p", join("Points: ", element("strong", f"{points(submission.total)} of "
                                                                   f"{points(batch.total_possible)}"))),
                   *(element("p", sentence) for sentence in notes(batch, submission)))
    rows = [(element("code", question), points(earned), points(possible))
            for question, earned, possible, _ in questions(batch, submission)]
    details = [join(element("h2", join(element("code", question), f": {points(earned)} of {points(possible)}")),
                    element("ul", join(*(html_check(check) for check in checks)), class_="checks"))
               for question, earned, possible, checks in questions(batch, submission) if checks]
    return document(title, join(summary, table(["question", "points", "possible"], rows, numeric={1, 2}), *details),
                    FEEDBACK_CSS)


def html_check(check):
    outcome, detail = check_text(check)
    mark = "✓" if check.passed else "✗"
    return element("li", join(element("span", f"{mark} {outcome}", class_=outcome), ": ", element("code", check.name),
                              f" ({detail})" if detail else ""))
