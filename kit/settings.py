"""make grade's settings, each declared once with its default and its help: to and from the command line and JSON.

The Makefile passes a variable on only when it is set, so the defaults here are the only ones.
"""

import dataclasses

from .grading.runner import DEFAULT_TIMEOUT
from .grading.sandbox import DEFAULT_CPUS, parse_size

STRICT, WEAK = "strict", "weak"  # SANDBOX: refuse a weak sandbox (the default), or grade in one and say so


def setting(default, help, **argparse_options):
    """A field of Settings: its default, and what `--<name>` says and accepts on the command line."""
    return dataclasses.field(default=default, metadata={"help": help, **argparse_options})


@dataclasses.dataclass(frozen=True)
class Settings:
    """How one batch is graded: each submission's limits, how many at once, and what the sandbox must be."""

    timeout: float = setting(DEFAULT_TIMEOUT, "wall-clock seconds per submission: kernel start, cells, every "
                                              "call into the kernel and the judge", type=float)
    memory: str | None = setting(None, "memory cap per submission, e.g. 1.5G (default: the assignment's "
                                       "profile, what make preflight measured plus room)")
    cpus: float | None = setting(None, f"CPUs per submission, e.g. 0.5 (default: {DEFAULT_CPUS:g}, so that "
                                       "no submission starves the ones graded beside it)", type=float)
    jobs: int = setting(2, "submissions graded at once", type=int)
    sandbox: str = setting(STRICT, "weak: grade even where kernels cannot get mount and PID namespaces (the "
                                   "report says so); by default grading is refused there", choices=(STRICT, WEAK))
    scheduler: str | None = setting(None, "a Dask scheduler to grade on (tls:// unless on this machine); "
                                          "default: a local cluster of JOBS workers")
    regrade: str | None = setting(None, "grade this submission again (its file name as the report shows it), "
                                        "or all; by default what OUT already holds graded is kept")
    student_pattern: str | None = setting(None, "regular expression whose named groups (name, id, sis_user_id, "
                                                "sis_login_id) read a student from a file name (default: "
                                                "Canvas's download names)")

    def __post_init__(self):
        if self.sandbox not in (STRICT, WEAK):
            raise ValueError(f"SANDBOX={self.sandbox!r}: leave it unset, or set it to {WEAK!r}")
        if self.memory is not None:
            parse_size(self.memory)  # a size that cannot be read fails now, not in every worker
        if self.jobs < 1:
            raise ValueError(f"JOBS={self.jobs}: grade at least one submission at a time")

    def with_memory_default(self, memory):
        """These settings, with memory filled in where none was given (the assignment profile's)."""
        return self if self.memory else dataclasses.replace(self, memory=memory)


def add_arguments(parser, names=None):
    """Add `--<name>` for each setting (or only those named) to an argparse parser, with its default and help."""
    for field in dataclasses.fields(Settings):
        if names is None or field.name in names:
            options = {key: value for key, value in field.metadata.items()}
            parser.add_argument(f"--{field.name.replace('_', '-')}", default=field.default, **options)


def from_arguments(arguments):
    """The Settings an argparse namespace holds (built by a parser that add_arguments filled)."""
    return Settings(**{field.name: getattr(arguments, field.name) for field in dataclasses.fields(Settings)
                       if hasattr(arguments, field.name)})

