"""The figures of a grading report, computed from a Batch: scores, statuses, questions, failed checks, accuracies."""

import collections
import dataclasses
import math
import re
import statistics
import unicodedata

OUTCOMES = ("completed", "timed out", "failed", "not graded")
ACCURACY_BIN_WIDTHS = (0.005, 0.01, 0.02, 0.05, 0.1)  # the first that keeps the histogram under MAX_BARS bars
MAX_BARS = 30
# Accuracies just under the threshold get bars of their own; lower ones (an untrained model's 0.1) share one.
BARS_UNDER_THRESHOLD = 10
WRITTEN_OUT = re.compile(r"\[U\+[0-9A-F]{4,6}\]")  # a hidden character in a name, as make grade writes it
DUPLICATE_SUFFIX = re.compile(r"~\d+$")  # what make grade adds to a name that another submission shows already
EDGE_TOLERANCE = 1e-9  # an accuracy on a bin edge belongs above it, though 0.95 - 0.93 is 0.0199999... in floats


@dataclasses.dataclass(frozen=True)
class Summary:
    count: int
    mean: float | None
    median: float | None
    full_marks: int


@dataclasses.dataclass(frozen=True)
class QuestionShares:
    question: str
    possible: float
    full: int
    partial: int
    zero: int


@dataclasses.dataclass(frozen=True)
class FailedCheck:
    """A test case failed by at least one submission: how many failed it, of how many that ran it, and what they saw."""
    question: str
    name: str
    hidden: bool
    points: float
    failed: int
    ran: int
    messages: list[tuple[str | None, int]]  # most frequent first


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    count: int
    tone: str = "plain"  # "good": full marks, or at or above the threshold; "bad": under it
    tooltip: str = ""  # when the label alone does not say what the bar counts


def summary(batch):
    """count is every submission; the figures are of the grades only (a submission the grader failed at has none)."""
    totals = [submission.total for submission in batch.grades]
    return Summary(count=len(batch.submissions), mean=statistics.fmean(totals) if totals else None,
                   median=statistics.median(totals) if totals else None,
                   full_marks=sum(total >= batch.total_possible for total in totals))


def by_outcome(batch):
    """{"completed" | "timed out" | "failed": [Submission]}, every outcome present even when empty."""
    groups = {outcome: [] for outcome in OUTCOMES}
    for submission in batch.submissions:
        groups[submission.outcome].append(submission)
    return groups


def score_bars(batch):
    """Totals as shares of the points possible, in ten bars of 10 % and one of full marks."""
    counts = collections.Counter(score_decile(submission.total, batch.total_possible)
                                 for submission in batch.grades)
    bars = [Bar(f"{decile * 10}–{decile * 10 + 9} %", counts[decile]) for decile in range(10)]
    return bars + [Bar("100 %", counts[10], "good")]


def score_decile(total, possible):
    """0 for under 10 % of the points, ..., 9 for 90 % up to but not including full marks, 10 for full marks."""
    if possible <= 0 or total >= possible:
        return 10
    return min(9, max(0, math.floor(10 * total / possible)))


def question_shares(batch):
    grades = batch.grades
    return [QuestionShares(question, possible,
                           full=sum(submission.points[question] >= possible for submission in grades),
                           partial=sum(0 < submission.points[question] < possible for submission in grades),
                           zero=sum(submission.points[question] <= 0 < possible for submission in grades))
            for question, possible in batch.possible.items()]


def failed_checks(batch):
    """Every test case some submission failed, most failed first: the list that tells what to teach again."""
    runs = collections.defaultdict(list)
    for submission in batch.submissions:
        for check in submission.checks or ():
            runs[check.question, check.name].append(check)
    failures = [failed_check(checks) for checks in runs.values() if not all(check.passed for check in checks)]
    return sorted(failures, key=lambda failure: (-failure.failed, failure.question, failure.name))


def failed_check(checks):
    failed = [check for check in checks if not check.passed]
    messages = collections.Counter(check.message for check in failed)
    first = checks[0]
    return FailedCheck(first.question, first.name, first.hidden, first.points, failed=len(failed), ran=len(checks),
                       messages=sorted(messages.items(), key=lambda item: (-item[1], item[0] or "")))


def accuracies(batch):
    """(the trained models' test accuracies, the threshold most results name, or None)."""
    measured = [submission for submission in batch.submissions if submission.accuracy is not None]
    thresholds = collections.Counter(submission.threshold for submission in measured
                                     if submission.threshold is not None)
    threshold = thresholds.most_common(1)[0][0] if thresholds else None
    return [submission.accuracy for submission in measured], threshold


def accuracy_bars(values, threshold):
    """A histogram of accuracies whose bin edges fall on the threshold, so each bar is wholly under or above it.

    Bars are labelled by their lower edges; accuracies far under the threshold share a first, unlabelled bar.
    Returns (bars, the index of the bar whose left edge is the threshold, or None).
    """
    anchor = threshold if threshold is not None else min(values)
    for width in ACCURACY_BIN_WIDTHS:
        bins = [math.floor((value - anchor) / width + EDGE_TOLERANCE) for value in values]
        first, last = max(min(*bins, 0), -BARS_UNDER_THRESHOLD), max(*bins, 0)
        if last - first < MAX_BARS:
            break
    counts = collections.Counter(max(index, first - 1) for index in bins)  # first - 1: the shared bar
    shared = ([Bar("", counts[first - 1], accuracy_tone(first - 1, threshold), f"under {anchor + first * width:.3f}")]
              if counts[first - 1] else [])
    bars = shared + [Bar(f"{anchor + index * width:.3f}", counts[index], accuracy_tone(index, threshold))
                     for index in range(first, last + 1)]
    return bars, (None if threshold is None else len(shared) - first)


def accuracy_tone(index, threshold):
    if threshold is None:
        return "plain"
    return "good" if index >= 0 else "bad"


def look_alike_names(batch):
    """Groups of submissions whose names differ only by written-out invisible characters, a "~2" that told
    two equal names apart, case or Unicode compatibility forms: an instructor should check which is whose."""
    groups = collections.defaultdict(list)
    for submission in batch.submissions:
        groups[name_skeleton(submission.file)].append(submission.file)
    return [sorted(files) for files in groups.values() if len(files) > 1]


def name_skeleton(name):
    bare = DUPLICATE_SUFFIX.sub("", WRITTEN_OUT.sub("", name))
    return unicodedata.normalize("NFKC", bare).casefold()


def slowest_first(batch):
    """The submissions by grading time, slowest first; those without a recorded time last."""
    return sorted(batch.submissions, key=lambda submission: (submission.seconds is None, -(submission.seconds or 0),
                                                             submission.file))
