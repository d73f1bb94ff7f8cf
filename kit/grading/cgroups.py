"""Memory, CPU and process-count limits through Linux cgroups, v1 or v2, behind one small API.

    group = Group.create("kit-kernel-64100", memory_bytes=2 * 2**30, cpus=1.0, processes=512)
    # the child writes its own pid to each of group.procs_files first thing (or: group.join(pid))
    group.peak_memory(), group.oom_kills()   # what it measured
    group.limits                             # what it enforces: {"memory": bytes, "cpus": 1.0, ...}
    group.remove()                           # kills what is left in it (sweep), removes its folders

A group nests inside this process's own cgroup (read from /proc/self/cgroup), so that the limits
a container (or make preflight) puts on the grader still hold for what runs in the group.

cgroup v1 (a hierarchy per controller: /sys/fs/cgroup/memory, .../cpu, .../pids) gives a group a
folder in each. cgroup v2 (one unified hierarchy: /sys/fs/cgroup holds cgroup.controllers) gives it
one folder, and its parent must first list the controllers in cgroup.subtree_control. v2 lets a
cgroup other than the root do that only while it holds no process ("no internal processes"), and
the grader sits in the very cgroup that the groups nest in. So, the standard way (systemd's rule
for a delegated subtree, what container entry points do): every process of that cgroup first
moves into a leaf child, LEAF, and the groups are made beside it. The moved processes keep every
limit they had (the leaf is inside the same cgroup and has no limit of its own). A process that is
already in such a leaf (a second grader worker) makes its groups beside that leaf, not in a leaf
of its own. The root of a hierarchy (it has no cgroup.type) is exempt from the rule: nothing moves
there. A dedicated sub-tree (<own>/kit/<group>) would not spare the move: a controller reaches a
child only through the subtree_control of every ancestor, the grader's own cgroup included.

KIT_CGROUPS=off (read in enabled() alone) turns cgroups off, as on a host where none is writable:
the sandbox then caps memory with its watchdog (watchdog.py).
"""

import errno
import os
import pathlib
import shlex
import signal
import time

ROOT = pathlib.Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "cpu", "pids")
CONTROLLER_OF = {"memory": "memory", "cpus": "cpu", "processes": "pids"}  # limit: the controller enforcing it
LEAF = "kit-grader"  # v2: where the grader's processes move so that their cgroup may hand controllers down
PERIOD_US = 100_000  # the scheduler period a CPU quota is counted in (v1 and v2 alike)
SWAP_FILES = {"memory.memsw.limit_in_bytes", "memory.swap.max"}  # exist only where swap is accounted
SWEEP_TRIES = 50


class Unavailable(OSError):
    """No cgroup hierarchy this process can use (none mounted, no controller, or KIT_CGROUPS=off)."""


def read_proc_self_cgroup():
    return pathlib.Path("/proc/self/cgroup").read_text()


def enabled():
    return os.environ.get("KIT_CGROUPS", "on").strip().lower() != "off"


def available(root=ROOT, read_own=read_proc_self_cgroup):
    """The mechanism ("cgroup v1" or "cgroup v2") if a group can be made here now, else None.

    On v2 the probe, like any first group, moves the grader's processes into their leaf (LEAF)."""
    try:
        probe = Group.create(f"kit-probe-{os.getpid()}", root=root, read_own=read_own)
    except OSError:
        return None
    probe.remove()
    return probe.mechanism


class Group:
    """One cgroup (a folder per v1 controller, one v2 folder); Group.create or Group.named make one."""

    mechanism = PEAK_FILE = OOM_FILE = None  # set by V1Group and V2Group

    def __init__(self, name, root=ROOT, read_own=read_proc_self_cgroup):
        self.name = name
        self.folders = self.locate(pathlib.Path(root), read_own(), name)  # controller: folder
        self.limits = {}  # limit ("memory", "cpus", "processes"): the value written

    @staticmethod
    def named(name, root=ROOT, read_own=read_proc_self_cgroup):
        """The group of that name in this process's cgroup (made or not) in the hierarchy at root."""
        if not enabled():
            raise Unavailable("cgroups are turned off (KIT_CGROUPS=off)")
        root = pathlib.Path(root)
        if (root / "cgroup.controllers").exists():
            return V2Group(name, root, read_own)
        if any((root / controller / "cgroup.procs").exists() for controller in CONTROLLERS):
            return V1Group(name, root, read_own)
        raise Unavailable(f"no cgroup hierarchy at {root}")

    @staticmethod
    def create(name, *, memory_bytes=None, cpus=None, processes=None, root=ROOT, read_own=read_proc_self_cgroup):
        """Make the group with these limits (None: not limited, only measured); raises OSError."""
        group = Group.named(name, root, read_own)
        if not group.folders:
            raise Unavailable("none of the memory, cpu and pids controllers is available")
        try:
            group.make()
            group.apply({"memory": memory_bytes, "cpus": cpus, "processes": processes})
        except OSError:  # a folder that could not be made or a limit that did not take: none of it stays
            group.remove()
            raise
        return group

    @property
    def unique_folders(self):
        return list(dict.fromkeys(self.folders.values()))

    @property
    def procs_files(self):
        """The files a process writes its pid to, to join the group."""
        return [folder / "cgroup.procs" for folder in self.unique_folders]

    def make(self):
        for folder in self.unique_folders:
            folder.mkdir()

    def apply(self, limits):
        for limit, value in limits.items():
            folder = self.folders.get(CONTROLLER_OF[limit])
            if value is None or folder is None:
                continue
            for file, setting in self.files_for(limit, value):
                if file not in SWAP_FILES or (folder / file).exists():
                    (folder / file).write_text(str(setting))
            self.limits[limit] = value

    def enforced(self):
        """The limits it holds, as the sandbox reports them: {"memory": {"bytes": N, "by": "cgroup v2"}, ...}."""
        return {limit: {"bytes" if limit == "memory" else "value": value, "by": self.mechanism}
                for limit, value in self.limits.items()}

    def join(self, pid):
        for path in self.procs_files:
            path.write_text(str(pid))

    def wrap(self, command):
        """command, made to join the group before it starts (its shell writes its pid, then becomes it)."""
        joins = "".join(f"echo $$ > {shlex.quote(str(path))} && " for path in self.procs_files)
        return ["sh", "-c", f'{joins}exec "$@"', "sh", *command]

    def peak_memory(self):
        """The most memory the group has used, in bytes; None where the kernel does not say."""
        path = self.memory_file(self.PEAK_FILE)
        return int(path.read_text()) if path and path.exists() else None

    def oom_kills(self):
        """How many of the group's processes the kernel's OOM killer took."""
        path = self.memory_file(self.OOM_FILE)
        if not path or not path.exists():
            return 0
        fields = dict(line.split() for line in path.read_text().splitlines() if line.strip())
        return int(fields.get("oom_kill", 0))

    def memory_file(self, name):
        return self.folders["memory"] / name if "memory" in self.folders else None

    def pids(self):
        """The processes in the group and in any group below it."""
        return {int(pid) for folder in self.unique_folders if folder.exists()
                for procs in folder.rglob("cgroup.procs") for pid in procs.read_text().split()}

    def sweep(self):
        """Kill every process in the group; returns once none is left."""
        for _ in range(SWEEP_TRIES):
            pids = self.pids()
            if not pids:
                return
            self.kill(pids)
            time.sleep(0.05)  # SIGKILL is delivered at once; leaving the group takes a moment
        raise RuntimeError(f"processes in cgroup {self.name} survived the sweep")

    def kill(self, pids):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self):
        """Sweep the group, then remove its folders, the groups below them first (a nested grader's)."""
        self.sweep()
        for folder in self.unique_folders:
            if folder.exists():
                below = [path for path in folder.rglob("*") if path.is_dir()]
                for path in sorted(below, key=lambda path: len(path.parts), reverse=True):
                    path.rmdir()
                folder.rmdir()


class V1Group(Group):
    mechanism = "cgroup v1"
    PEAK_FILE = "memory.max_usage_in_bytes"
    OOM_FILE = "memory.oom_control"

    @staticmethod
    def locate(root, own_text, name):
        own = {}
        for line in own_text.splitlines():
            _, controllers, path = line.split(":", 2)
            own.update(dict.fromkeys(controllers.split(","), path.lstrip("/")))
        return {controller: root / controller / own.get(controller, "") / name
                for controller in CONTROLLERS if (root / controller / "cgroup.procs").exists()}

    @staticmethod
    def files_for(limit, value):
        if limit == "memory":  # memsw (memory + swap) after the plain limit: it may never be the lower
            return [("memory.limit_in_bytes", value), ("memory.memsw.limit_in_bytes", value)]
        if limit == "cpus":
            return [("cpu.cfs_period_us", PERIOD_US), ("cpu.cfs_quota_us", quota_us(value))]
        return [("pids.max", value)]


class V2Group(Group):
    mechanism = "cgroup v2"
    PEAK_FILE = "memory.peak"  # kernels since 5.19; before, the peak is unknown
    OOM_FILE = "memory.events"

    @staticmethod
    def locate(root, own_text, name):
        (path,) = [line[3:] for line in own_text.splitlines() if line.startswith("0::")]
        parent = root / path.lstrip("/")
        if parent.name == LEAF:  # a grader already moved out of its cgroup: its groups go beside it
            parent = parent.parent
        controllers = (parent / "cgroup.controllers").read_text().split()
        return {controller: parent / name for controller in CONTROLLERS if controller in controllers}

    @staticmethod
    def files_for(limit, value):
        if limit == "memory":  # no swap either, so that swapping cannot stretch the cap
            return [("memory.max", value), ("memory.swap.max", 0)]
        if limit == "cpus":
            return [("cpu.max", f"{quota_us(value)} {PERIOD_US}")]
        return [("pids.max", value)]

    def make(self):
        (folder,) = self.unique_folders
        enable_controllers(folder.parent, list(self.folders))
        folder.mkdir()

    def kill(self, pids):
        kill_file = self.unique_folders[0] / "cgroup.kill"  # kernels since 5.14: the whole group at once
        if kill_file.exists():
            kill_file.write_text("1")
        else:
            super().kill(pids)


def enable_controllers(parent, controllers, tries=3):
    """Let parent's children use these controllers (v2), moving parent's processes out first.

    A process that lands in parent between the move and the write (one forked meanwhile) makes the
    write fail with EBUSY: then both are tried again.
    """
    subtree_control = parent / "cgroup.subtree_control"
    missing = [name for name in controllers if name not in subtree_control.read_text().replace("+", "").split()]
    for attempt in range(tries):
        if not missing:
            return
        if (parent / "cgroup.type").exists():  # not the root: "no internal processes" holds
            move_processes(parent, parent / LEAF)
        try:
            subtree_control.write_text(" ".join(f"+{name}" for name in missing))
            return
        except OSError as error:
            if error.errno != errno.EBUSY or attempt == tries - 1:
                raise


def move_processes(source, leaf):
    leaf.mkdir(exist_ok=True)
    for pid in (source / "cgroup.procs").read_text().split():
        try:
            (leaf / "cgroup.procs").write_text(pid)
        except ProcessLookupError:  # it ended meanwhile
            pass


def quota_us(cpus):
    return max(1000, int(cpus * PERIOD_US))  # 1 ms: the smallest quota the kernel takes
