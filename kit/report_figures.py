"""The figures of a grading report, computed from a Batch: scores, statuses, questions, failed checks, accuracies."""

import collections
import dataclasses
import math
import statistics

OUTCOMES = ("completed", "timed out", "failed")
ACCURACY_BIN_WIDTHS = (0.005, 0.01, 0.02, 0.05, 0.1)  # the first that keeps the histogram under MAX_BARS bars
MAX_BARS = 30


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
    highlight: bool  # full marks, or at or above the accuracy threshold


def summary(batch):
    totals = [submission.total for submission in batch.submissions]
    return Summary(count=len(totals), mean=statistics.fmean(totals) if totals else None,
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
                                 for submission in batch.submissions)
    bars = [Bar(f"{decile * 10}–{decile * 10 + 9} %", counts[decile], False) for decile in range(10)]
    return bars + [Bar("100 %", counts[10], True)]


def score_decile(total, possible):
    """0 for under 10 % of the points, ..., 9 for 90 % up to but not including full marks, 10 for full marks."""
    if possible <= 0 or total >= possible:
        return 10
    return min(9, max(0, math.floor(10 * total / possible)))


def question_shares(batch):
    return [QuestionShares(question, possible,
                           full=sum(submission.points[question] >= possible for submission in batch.submissions),
                           partial=sum(0 < submission.points[question] < possible for submission in batch.submissions),
                           zero=sum(submission.points[question] <= 0 < possible for submission in batch.submissions))
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
    """A histogram of accuracies whose bin edges fall on the threshold, so each bar is wholly below or above it.

    Returns (bars, the index of the bar edge at the threshold, or None).
    """
    anchor = threshold if threshold is not None else 0.0
    low, high = min(values), max(values)
    for width in ACCURACY_BIN_WIDTHS:
        first = math.floor((low - anchor) / width + 1e-9)
        last = math.floor((high - anchor) / width + 1e-9)
        if last - first < MAX_BARS:
            break
    if threshold is not None:  # widen to show where the threshold sits, even when every model is on one side
        first, last = min(first, 0), max(last, 0)
    counts = collections.Counter(math.floor((value - anchor) / width + 1e-9) for value in values)
    bars = [Bar(f"{anchor + index * width:.3f}", counts[index], threshold is not None and index >= 0)
            for index in range(first, last + 1)]
    return bars, (-first if threshold is not None else None)


def slowest_first(batch):
    """The submissions by grading time, slowest first; those without a recorded time last."""
    return sorted(batch.submissions, key=lambda submission: (submission.seconds is None, -(submission.seconds or 0),
                                                             submission.file))
