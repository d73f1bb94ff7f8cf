"""A memory cap where no cgroup can hold one: sample the kernel's processes, kill them all past the cap.

Where no cgroup is writable (not root, a read-only /sys/fs/cgroup, KIT_CGROUPS=off), the sandbox
starts a Watchdog in the grader: a thread that every PERIOD seconds sums the resident memory (RSS)
of the kernel's processes and SIGKILLs them all when the sum passes the cap. It records that it
did, so that the grading reports "out of memory" as for a cgroup's OOM kill, and the largest sum
it saw (the peak memory of results.json). The kernel's processes are every process below its
outermost one, every process of its session (a daemon that left the tree), and, where the kernel
has a user id of its own, every process of that id (one that also left the session).

Unlike a cgroup it cannot refuse an allocation: memory grows between two samples (measured: see
the README's "Limits on every host"); it does not count page cache or files in tmpfs (the
sandbox's tmpfs sizes bound those); and it counts a page that two processes share twice (summed
RSS errs towards the kill, never past the cap).
"""

import os
import pathlib
import signal
import threading

PERIOD = 0.2  # seconds between samples: a process filling memory at 3 GB/s overshoots by < 0.6 GB
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class Watchdog:
    def __init__(self, cap_bytes, uid=None, period=PERIOD):
        self.cap_bytes = cap_bytes
        self.uid = uid  # the kernel's own user id, or None where it runs as the grader's
        self.period = period
        self.outermost = None
        self.killed = False
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="kit-memory-watchdog", daemon=True)

    def enforced(self):
        return {"memory": {"bytes": self.cap_bytes, "by": "watchdog"}}

    def watch(self, pid):
        """Watch the kernel whose outermost process is pid (a kernel started again replaces the last)."""
        self.outermost = pid
        if not self.thread.is_alive():
            self.thread.start()

    def stop(self):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def run(self):
        while not self.stopped.wait(self.period):
            self.check()

    def check(self):
        """One sample: the kernel's memory summed, and all its processes killed past the cap."""
        pids = kernel_processes(self.outermost, self.uid)
        total = sum(resident_bytes(pid) for pid in pids)
        self.peak = max(self.peak, total)
        if total > self.cap_bytes:
            for pid in pids:
                kill(pid)
            self.killed = True
        return total


def kernel_processes(outermost, uid=None):
    """Live processes below outermost (itself included), of its session, or of user id uid."""
    table = process_table()
    children = {}
    for pid, entry in table.items():
        children.setdefault(entry["ppid"], []).append(pid)
    found, todo = set(), [outermost] if outermost in table else []
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    found.update(pid for pid, entry in table.items()
                 if entry["session"] == outermost or (uid is not None and entry["uid"] == uid))
    return {pid for pid in found if table[pid]["state"] != "Z"}  # a zombie holds no memory


def process_table():
    """{pid: {"ppid", "session", "uid", "state"}} of every process, read from /proc."""
    table = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # after "(name)", which may hold spaces
            uid = entry.stat().st_uid
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # it ended while being read
        table[int(entry.name)] = {"state": fields[0], "ppid": int(fields[1]), "session": int(fields[3]), "uid": uid}
    return table


def resident_bytes(pid):
    try:
        return int(pathlib.Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
