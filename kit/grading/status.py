"""What became of one grading, as a type: written to results.json as data and read back the same way.

Two kinds of ending are kept apart everywhere:
  * a grade: Completed, TimedOut, StudentFailure (the notebook ran out of memory, killed its
    kernel, is not a notebook, is the other assignment): the student's result, 0 points when it failed;
  * NotGraded: the grader failed (a kernel that never started, a worker killed from outside, a
    fault of the kit). It is retried; if it still fails it is never a 0 in a gradebook, it is
    left out of the report's statistics, and `make grade` exits non-zero.

The sentence each status shows (`text`) is for people: nothing parses it back to decide anything.
"""

import dataclasses


class Status:
    """A status's sentence is its TEMPLATE filled with its fields: one rule for every kind."""

    kind = ""
    TEMPLATE = ""

    @property
    def text(self):
        return self.TEMPLATE.format(**dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Completed(Status):
    kind = "completed"
    TEMPLATE = "Completed"


@dataclasses.dataclass(frozen=True)
class TimedOut(Status):
    seconds: float
    kind = "timed_out"
    TEMPLATE = "Timed out after {seconds:g} s"


@dataclasses.dataclass(frozen=True)
class StudentFailure(Status):
    """The submission's own failure: error is a class name (MemoryError, DeadKernelError, NotJSONError, ...)."""

    error: str
    detail: str
    kind = "student_failure"
    TEMPLATE = "Grading failed: {error}: {detail}"


@dataclasses.dataclass(frozen=True)
class NotGraded(Status):
    """The grader's failure: not a grade."""

    reason: str
    kind = "not_graded"
    TEMPLATE = "not graded: {reason}"


STATUSES = {status.kind: status for status in (Completed, TimedOut, StudentFailure, NotGraded)}


def is_grade(status):
    return not isinstance(status, NotGraded)


def to_json(status):
    return {"kind": status.kind, **dataclasses.asdict(status)}


def from_json(data):
    """The status a results.json recorded; ValueError when it is not one this kit writes."""
    if not isinstance(data, dict) or data.get("kind") not in STATUSES:
        raise ValueError("not a grading status")
    status_type = STATUSES[data["kind"]]
    fields = {field.name: data.get(field.name) for field in dataclasses.fields(status_type)}
    expected = {field.name: field.type for field in dataclasses.fields(status_type)}
    for name, value in fields.items():
        if not isinstance(value, str if expected[name] is str else (int, float)) or isinstance(value, bool):
            raise ValueError(f"a {data['kind']} status needs {name}")
    return status_type(**fields)
