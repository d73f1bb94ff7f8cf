"""What the jail is told: the kernel's command and its sandbox, written by the grader, read inside the namespaces."""

import dataclasses
import json
import pathlib


@dataclasses.dataclass(frozen=True)
class JailSpec:
    """Everything jail.main needs to set up one kernel's sandbox and become the kernel, as plain data."""

    command: list[str]  # the kernel's command line
    environment: dict[str, str]  # the kernel's whole environment
    workspace: str  # its folder and working directory
    uid: int | None  # the user id it runs as; None: the grader's own
    gid: int | None
    cgroup_procs: list[str]  # cgroup.procs files the jail joins before it starts anything
    namespaces: bool  # whether the jail runs in fresh namespaces; without them nothing below is mounted
    hidden: list[str]  # top-level folders and files covered, empty and read-only
    keep: list[str]  # paths inside covered folders bound back: the Python environment, the workspace
    read_only: list[str]  # bound again read-only: the Python installation
    writable_for_all: list[str]  # world-writable folders (/tmp, /dev/shm, ...), each its own tmpfs
    tmp_bytes: int  # the size of each of those
    file_bytes: int  # the largest file the kernel may write (RLIMIT_FSIZE)

    def write(self, path):
        """Write the spec as JSON to path, for the grader's user only."""
        path = pathlib.Path(path)
        path.write_text(json.dumps(dataclasses.asdict(self)))
        path.chmod(0o600)

    @classmethod
    def read(cls, path):
        return cls(**json.loads(pathlib.Path(path).read_text()))
