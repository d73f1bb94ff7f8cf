"""The user ids kernels run as where the grader is root: a pool, each id claimed by a lock, swept of processes.

A kernel of its own user id cannot signal the grader or read the grader's 0700 folders. The ids
need no /etc/passwd entry; a lock file per id in STATE says which are in use, so that concurrent
gradings (make grade's workers) never share one.
"""

import fcntl
import os
import pathlib
import signal
import time

from . import watchdog

KERNEL_UIDS = range(64_100, 64_164)  # unlikely to belong to anyone; no /etc/passwd entry needed
STATE = pathlib.Path("/run/kit-kernels")  # as root: the user ids' locks and the workspaces


def claim():
    """(uid, lock): a user id of the pool no other grading holds, and the open lock file that holds it
    until closed. The id may still own processes and files of a grading killed from outside."""
    STATE.mkdir(parents=True, exist_ok=True)
    STATE.chmod(0o711)  # kernels may pass through to their workspaces, not list them
    for uid in KERNEL_UIDS:
        lock = open(STATE / f"{uid}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return uid, lock
    raise RuntimeError(f"all {len(KERNEL_UIDS)} kernel user ids are busy")


def sweep_user(uid):
    """Kill every process of a user id: a child that takes on the id calls kill(-1, SIGKILL)."""
    for _ in range(20):
        child = os.fork()
        if child == 0:  # pragma: no cover - the child only drops its privileges and signals
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        if not processes_of(uid):
            return
        time.sleep(0.05)  # SIGKILL is delivered at once, but dying (a namespace's teardown) takes a moment
    raise RuntimeError(f"processes of user id {uid} survived the sweep")


def processes_of(uid):
    """Live processes of a user id (a zombie is already dead: it only waits for its parent)."""
    return [pid for pid, entry in watchdog.process_table().items() if entry["uid"] == uid and entry["state"] != "Z"]
