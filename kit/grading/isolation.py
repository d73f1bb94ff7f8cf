"""Who the student's kernel runs as, and which folders it may read.

As root (CI, Gradescope's containers) the kernel runs as an unprivileged user id of its own, taken
from a small pool under a lock so that two gradings at once never share one, and the grader's
own folders (hidden tests, references, the uploaded file) are closed to it. Without root the
kernel runs as the grader's own user: the judge still decides every score, but the kernel can
read what that user can. The level reached is written into every result.
"""

import fcntl
import os
import pathlib
import signal
import stat
import sys
from dataclasses import dataclass

KERNEL_UIDS = range(64_100, 64_164)  # unlikely to belong to anyone; no /etc/passwd entry needed
LOCK_FOLDER = pathlib.Path("/tmp/kit-kernel-users")
SEPARATE_USER = "separate user"
SAME_USER = "same user (not root)"


@dataclass
class Identity:
    uid: int
    gid: int
    lock: object

    def release(self):
        self.lock.close()


def claim_identity():
    """A free kernel user id when running as root, else None."""
    if os.geteuid() != 0:
        return None
    LOCK_FOLDER.mkdir(mode=0o700, exist_ok=True)
    for uid in KERNEL_UIDS:
        lock = open(LOCK_FOLDER / str(uid), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        identity = Identity(uid=uid, gid=uid, lock=lock)
        sweep(identity)  # a grading killed from outside may have left processes under this id
        return identity
    raise RuntimeError(f"all {len(KERNEL_UIDS)} kernel user ids are busy")


def level(identity):
    return SEPARATE_USER if identity is not None else SAME_USER


def close_to_others(*folders):
    """Only the grader's own user may read these (hidden tests, references, the upload)."""
    for folder in folders:
        os.chmod(folder, 0o700)


def give_to(identity, folder):
    """The kernel's workspace belongs to the kernel's user."""
    if identity is None:
        return
    for path in [folder, *pathlib.Path(folder).rglob("*")]:
        os.chown(path, identity.uid, identity.gid, follow_symlinks=False)


def open_python_to(identity):
    """Let the kernel's user reach this Python: add search (x) permission to the folders above it.

    Only the traverse bit is added, on folders owned by root that lack it (a root-owned /root,
    where pyenv and miniforge live, is 0700); nothing becomes listable or readable by this.
    Returns the folders changed, for the grading log.
    """
    if identity is None:
        return []
    changed = []
    for target in {pathlib.Path(sys.executable).resolve(), pathlib.Path(sys.prefix).resolve(),
                   pathlib.Path(os.__file__).resolve()}:
        for folder in reversed(target.parents):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, mode | stat.S_IXOTH)
                changed.append(str(folder))
    return changed


def sweep(identity):
    """Kill every process of the kernel's user id: the kernel, and any daemon it left behind.

    A child that takes on that user id calls kill(-1, SIGKILL), which reaches every process of
    the user at once (a fork loop cannot outrun it); /proc then confirms that none is left.
    """
    if identity is None:
        return
    for _ in range(20):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child only drops its privileges and signals
            try:
                os.setgid(identity.gid)
                os.setuid(identity.uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        if not processes_of(identity.uid):
            return
    raise RuntimeError(f"processes of user id {identity.uid} survived the sweep")


def processes_of(uid):
    """Live processes of a user id (a zombie is already dead: it only waits for its parent)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return found
