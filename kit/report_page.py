"""The instructor's report of a graded batch as one HTML page that stands alone and prints."""

import datetime
import statistics

from . import report_figures as figures
from .page import document, element, join, points, table
from .report_charts import CHART_CSS, bar_chart, shares_bar

SLOWEST_SHOWN = 10  # the rest of the submissions by grading time fold away
MESSAGES_SHOWN = 5  # per failed check
REPORT_CSS = CHART_CSS + """
dl.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(7rem, 1fr)); gap: .5rem; margin: 1rem 0; }
dl.figures div { border: 1px solid var(--rule); border-radius: .4rem; padding: .4rem .7rem; }
dl.figures dt { font-size: .8rem; color: var(--muted); }
dl.figures dd { margin: 0; font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.settings div { display: contents; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; }
figure { margin: .5rem 0; }
td:first-child { min-width: 11rem; }
p.files { font-size: .85rem; overflow-wrap: anywhere; }
ul.messages { margin: 0; padding-left: 1rem; }
td.shares { width: 30%; vertical-align: middle; }
.problem { color: var(--bad); }
section.warning { border: 2px solid var(--bad); border-radius: .4rem; padding: 0 1rem; margin: 1rem 0; }
details > summary { cursor: pointer; color: var(--muted); margin: .3rem 0; }
@media print { dl.figures { grid-template-columns: repeat(4, 1fr); } dl.figures dd { font-size: 1.05rem; } }
"""


def render(batch, now=None):
    """The report page's HTML."""
    now = now or datetime.datetime.now()
    # What the teaching needs first; which submissions need a second look and how grading went after.
    # Before all: what is not a grade, and a sandbox that did not hold students apart.
    sections = [*warning_sections(batch), scores_section(batch), questions_section(batch), checks_section(batch)]
    # An assignment whose profile measures accuracy gets the section even when no result has one.
    if batch.settings.get("measures_accuracy") is True or any(submission.accuracy is not None
                                                       for submission in batch.submissions):
        sections.append(accuracy_section(batch))
    sections += [status_section(batch), time_section(batch), settings_section(batch, now)]
    title = f"{batch.assignment}: grading report"
    header = join(element("h1", title),
                  element("p", f"{len(batch.submissions)} submissions, graded by the kit at "
                               f"{batch.settings.get('kit_version', 'an unknown version')}; "
                               f"report made {now:%Y-%m-%d %H:%M} from {batch.out.name}/", class_="lead"))
    return document(title, join(header, *sections), REPORT_CSS)


def warning_sections(batch):
    sections = []
    if batch.not_graded:
        rows = [(element("code", submission.file), submission.status) for submission in batch.not_graded]
        sections.append(element("section", join(
            element("h2", f"Not graded ({len(batch.not_graded)})"),
            element("p", "The grader failed on these submissions (not the students): they were tried again and "
                         "still failed, so they have no points, their cells in grades_lms.csv are blank and no "
                         "figure below counts them. Run make grade again to grade them.", class_="problem"),
            table(["file", "status"], rows)), class_="warning"))
    look_alikes = figures.look_alike_names(batch)
    if look_alikes:
        sections.append(element("section", join(
            element("h2", f"Names that look alike ({len(look_alikes)})"),
            element("p", "These submissions' file names differ only by invisible characters (written out as "
                         "[U+200B]), by case, or were the same (a ~2 tells them apart): each has its own row, "
                         "but check which file is whose before handing back grades.", class_="problem"),
            table(["files"], [(", ".join(files),) for files in look_alikes])), class_="warning"))
    if batch.files_gone:
        sections.append(element("section", join(
            element("h2", f"Rows whose file is gone ({len(batch.files_gone)})"),
            element("p", "These rows were graded into this folder earlier, but their files were not in the "
                         "SUBMISSIONS of the last make grade: they keep their grades. Delete their results "
                         "folders and run make report if they should go.", class_="problem"),
            table(["file"], [(element("code", name),) for name in batch.files_gone])), class_="warning"))
    if batch.weak_sandbox:
        sections.append(element("section", join(
            element("h2", "Weak sandbox"),
            element("p", "This batch was graded with SANDBOX=weak: the kernels ran without mount and PID "
                         "namespaces, so a notebook could read files outside its own workspace (the hidden "
                         f"tests, other submissions). Isolation: {', '.join(batch.isolation) or 'unknown'}.",
                    class_="problem")), class_="warning"))
    return sections


def section(heading, *content):
    return element("section", join(element("h2", heading), *content))


def figure_list(items, css_class="figures"):
    """A <dl> of (label, value, data-figure name) whose values tests can find by name."""
    return element("dl", join(*(element("div", join(element("dt", label), element("dd", value, data_figure=name)))
                                for label, value, name in items)), class_=css_class)


def percent(count, total):
    return f"{count / total:.0%}".replace("%", " %") if total else "–"


def scores_section(batch):
    summary = figures.summary(batch)
    possible = points(batch.total_possible)
    outcomes = figures.by_outcome(batch)
    items = [("submissions", summary.count, "count"),
             (f"mean, of {possible}", "–" if summary.mean is None else f"{summary.mean:.2f}", "mean"),
             (f"median, of {possible}", "–" if summary.median is None else f"{summary.median:g}", "median"),
             ("full marks", f"{summary.full_marks} ({percent(summary.full_marks, len(batch.grades))})", "full-marks"),
             *((outcome, len(outcomes[outcome]), outcome.replace(" ", "-")) for outcome in figures.OUTCOMES)]
    chart = bar_chart(figures.score_bars(batch), title="Submissions by share of the points earned",
                      x_label=f"share of the {possible} points (the green bar: full marks)")
    return section("Scores", figure_list(items), element("figure", chart, class_="keep"))


def status_section(batch):
    outcomes = figures.by_outcome(batch)
    completed = ", ".join(submission.file for submission in outcomes["completed"]) or "none"
    parts = [element("h3", f"Completed ({len(outcomes['completed'])})"),
             collapsed(f"their {len(outcomes['completed'])} file names", element("p", completed, class_="files"))]
    for outcome in ("timed out", "failed", "not graded"):
        parts.append(element("h3", f"{outcome.capitalize()} ({len(outcomes[outcome])})"))
        rows = [(element("code", submission.file), submission.status) for submission in outcomes[outcome]]
        parts.append(table(["file", "status"], rows) if rows else element("p", "none", class_="files"))
    troubled = [submission for submission in batch.submissions if submission.problem]
    if troubled:
        parts += [element("h3", f"Results that could not be read ({len(troubled)})"),
                  element("p", "These rows keep their points and status from final_grades.csv; their checks, "
                               "time and accuracy are missing from the figures below.", class_="muted"),
                  table(["file", "problem", "status"], [(element("code", submission.file),
                                                         element("span", submission.problem, class_="problem"),
                                                         submission.status) for submission in troubled])]
    return section("Grading status", *parts)


def questions_section(batch):
    count = len(batch.grades)
    rows = []
    for shares in figures.question_shares(batch):
        split = [(shares.full, "full", f"full marks: {shares.full}"), (shares.partial, "partial",
                                                                          f"partial: {shares.partial}"),
                 (shares.zero, "zero", f"zero: {shares.zero}")]
        rows.append((element("code", shares.question), points(shares.possible),
                     *(f"{number} ({percent(number, count)})" for number, _, _ in split),
                     element("div", shares_bar(split), class_="shares")))
    return section("Questions", element("p", "How many submissions earned each question's full points, part of them, "
                                             "or none (green, amber, red).", class_="muted"),
                   table(["question", "points", "full", "partial", "zero", ""], rows, numeric={1, 2, 3, 4}))


def checks_section(batch):
    recorded = sum(submission.checks is not None for submission in batch.submissions)
    failures = figures.failed_checks(batch)
    note = element("p", f"Counted over the {recorded} of {len(batch.submissions)} submissions whose results record "
                        "their checks (a submission that could not be graded runs none). Messages are what the "
                        "students see.", class_="muted")
    if not failures:
        return section("Checks failed, most frequent first", note, element("p", "No check failed."))
    rows = [(check_label(failure.question, failure.name, failure.hidden), points(failure.points),
             f"{failure.failed} of {failure.ran}", message_list(failure.messages)) for failure in failures]
    return section("Checks failed, most frequent first", note,
                   table(["check", "points", "failed by", "messages seen (how many saw each)"], rows, numeric={1, 2}))


def check_label(question, name, hidden):
    """The check's name, after its question's unless it already starts with it (Otter's "q - 1")."""
    label = name if name.startswith(question) else f"{question} · {name}"
    return join(element("code", label), " ", element("span", "hidden" if hidden else "public", class_="tag"))


def message_list(messages):
    """The most frequent messages; the rest (a message that quotes each student's own figure, say) fold away."""
    shown = element("ul", join(*(message_item(message, count) for message, count in messages[:MESSAGES_SHOWN])),
                    class_="messages")
    if len(messages) <= MESSAGES_SHOWN:
        return shown
    rest = messages[MESSAGES_SHOWN:]
    return join(shown, collapsed(f"{len(rest)} other messages", element(
        "ul", join(*(message_item(message, count) for message, count in rest)), class_="messages")))


def message_item(message, count):
    return element("li", join(message or element("span", "(no message)", class_="muted"),
                              f" ×{count}" if count > 1 else ""))


def accuracy_section(batch):
    values, threshold = figures.accuracies(batch)
    heading = "Trained models' test accuracy"
    if not values:
        return section(heading, element("p", "No trained model was measured: the results come from a kit that did "
                                             "not record it, or no submission trained a model."))
    passing = "–" if threshold is None else sum(value >= threshold for value in values)
    items = [("models measured", len(values), "measured"),
             ("threshold", "unknown" if threshold is None else f"{threshold:g}", "threshold"),
             ("at or above it", passing if threshold is None else f"{passing} ({percent(passing, len(values))})",
              "passing"),
             ("lowest", f"{min(values):.4f}", "lowest"),
             ("median", f"{statistics.median(values):.4f}", "median-accuracy"),
             ("highest", f"{max(values):.4f}", "highest")]
    bars, edge = figures.accuracy_bars(values, threshold)
    marker = None if edge is None else (edge, f"threshold {threshold:g}")
    chart = bar_chart(bars, title="Trained models by test accuracy", labels_at_edges=True, marker=marker,
                      x_label="test accuracy, each bar from its left edge (green: at or above the threshold; "
                              "an unlabelled first bar: all lower accuracies)")
    return section(heading, figure_list(items), element("figure", chart, class_="keep"))


def collapsed(summary, content):
    """Content shown on a click: long lists that would bury the rest of the page (and of its printout)."""
    return element("details", join(element("summary", summary), content))


def time_section(batch):
    rows = [(element("code", submission.file), seconds(submission.seconds), megabytes(submission.peak_memory_mb),
             points(submission.total), submission.status) for submission in figures.slowest_first(batch)]
    headers = ["file", "time", "peak memory", "points", "status"]
    slowest = table(headers, rows[:SLOWEST_SHOWN], numeric={1, 2, 3})
    if len(rows) <= SLOWEST_SHOWN:
        return section("Grading time, slowest first", slowest)
    return section("Grading time, slowest first", slowest,
                   collapsed(f"the other {len(rows) - SLOWEST_SHOWN} submissions",
                             table(headers, rows[SLOWEST_SHOWN:], numeric={1, 2, 3})))


def seconds(value):
    return "–" if value is None else f"{value:,.1f} s"


def megabytes(value):
    return "–" if value is None else f"{value:,.0f} MB"


def settings_section(batch, now):
    settings = batch.settings
    isolation = settings.get("isolation")
    items = [("assignment", batch.assignment), ("timeout", setting(settings, "timeout", " s")),
             ("memory cap", setting(settings, "memory")), ("CPUs per submission", setting(settings, "cpus")),
             ("submissions at once", setting(settings, "jobs")), ("sandbox", setting(settings, "sandbox")),
             ("isolation", ", ".join(map(str, isolation)) if isinstance(isolation, list) and isolation else "unknown"),
             ("kit version", setting(settings, "kit_version")), ("report made", f"{now:%Y-%m-%d %H:%M}")]
    problems = [element("p", problem, class_="problem") for problem in batch.problems]
    return section("Settings used",
                   figure_list([(label, value, label.replace(" ", "-")) for label, value in items], "settings"),
                   *problems)


def setting(settings, key, unit=""):
    """A setting as written; 'not set' for a limit left off, 'unknown' when the file does not say."""
    if key not in settings:
        return "unknown"
    value = settings[key]
    if value in (None, ""):
        return "not set"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"

