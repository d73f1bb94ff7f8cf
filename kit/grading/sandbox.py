"""The sandbox a student's kernel runs in: the strongest this machine allows, and it says which.

What each level gives (every grading's results.json and log name the one reached):
  * user id: as root, the kernel runs as an unprivileged user id of its own (from a locked
    pool, kernel_users.py), so it cannot signal the grader or read the grader's 0700 folders;
  * namespaces: new mount, PID, network and IPC namespaces (through a user namespace when not
    root): the kernel sees no other process, has no network and shares no System V object or
    message queue; every top-level folder that is not the system's (/home, /root, /work, /opt, ...,
    so the kit, the submissions and the output too) is covered by an empty one, but for its Python
    environment (read-only) and its workspace; every world-writable folder of the system (/tmp,
    /var/tmp, /dev/shm, /run/lock, ...: shared_places.py finds them) is its own small tmpfs, gone
    when it ends (jail.py sets these up, from a JailSpec);
  * limits: memory, CPU and process count by a cgroup (v1 or v2, cgroups.py) as root where one is
    writable; elsewhere memory by a watchdog in the grader (watchdog.py); file size by rlimit;
    the workspace and /tmp by tmpfs sizes. enforced_limits() says which mechanism holds each.
A container without CAP_SYS_ADMIN (Gradescope's) gets the user id and what cgroups allow.
Whatever the level, every process the submission started is gone before close() returns: the
PID namespace dies with its first process, and the cgroup and the user id are swept; without
namespaces, what the user id left in world-writable folders and System V IPC is removed too.
"""

import dataclasses
import functools
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

from . import cgroups, jail, kernel_users, shared_places, watchdog
from .jail_spec import JailSpec
from .kernel_users import STATE

# Without CPUS each kernel gets a cgroup quota of one CPU. Fairness among kernels needs no setting
# (sibling cgroups share the CPU equally under contention); the quota bounds what one kernel
# (TensorFlow starts a thread per core) takes from the judges and everyone else on a shared machine,
# and keeps a kernel graded alone from running much faster than in a full batch, so that TIMEOUT
# means about the same for every row. Its cost: a kernel graded alone leaves idle cores idle.
DEFAULT_CPUS = 1.0
# Every other top-level entry (/home, /root, /work, /srv, /opt, ...) is covered in every sandbox:
# the kernel sees the system it runs on and nothing of anyone's files. These are never covered.
SYSTEM_TREES = {"/", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/run",
                "/var", "/boot"}


@dataclasses.dataclass
class Limits:
    """What one submission may use; memory_bytes of None means no limit, cpus of None DEFAULT_CPUS."""

    memory_bytes: int | None = None
    cpus: float | None = None
    processes: int = 512
    # tmpfs pages count as the kernel's memory, so these stay small beside memory_bytes
    workspace_bytes: int = 256 * 2**20  # the kernel's folder: the notebook, data/, the answers
    tmp_bytes: int = 64 * 2**20  # each of its own /tmp, /var/tmp and /dev/shm
    file_bytes: int = 128 * 2**20  # any one file it writes

    @property
    def cpu_share(self):
        return self.cpus or DEFAULT_CPUS


def parse_size(text):
    """'768M', '1.5G', '2048' (megabytes) -> bytes."""
    text = str(text).strip().upper().removesuffix("B")
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text) * 2**20)


def python_prefixes():
    """The folders of this Python environment and of the installation it is made from (links resolved)."""
    return sorted({str(pathlib.Path(prefix).resolve()) for prefix in (sys.prefix, sys.base_prefix)})


def python():
    """This Python, by a path that stays valid inside the sandbox (its environment's folder, links resolved)."""
    return str(pathlib.Path(sys.prefix).resolve() / "bin" / pathlib.Path(sys.executable).name)


@functools.cache
def namespaces_work():
    """Whether unshare can give the kernel mount, PID, network and IPC namespaces here."""
    try:
        return subprocess.run([*jail.unshare_command(os.geteuid() == 0), "true"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Sandbox:
    """One submission's sandbox. Use as a context manager; launch() starts the kernel inside it."""

    def __init__(self, limits, hidden=()):
        """hidden: folders the kernel must not see (when namespaces work), besides every top-level
        folder and file that is not part of the system (all of /work, /home, /root, /tmp, ...; the
        Python environment and the workspace inside them stay visible)."""
        self.limits = limits
        tops = [path for path in pathlib.Path("/").iterdir() if not path.is_symlink()]
        folders = {pathlib.Path(path).resolve() for path in hidden} | set(tops)
        self.hidden = sorted(str(path) for path in folders if str(path) not in SYSTEM_TREES)
        self.root = os.geteuid() == 0
        self.uid = self.gid = None
        self.lock = None
        self.group = None  # the kernel's cgroups.Group, where a hierarchy is writable
        self.watchdog = None  # the memory cap where the group cannot hold it
        self.enforced = {}  # what enforced_limits() says, settled on entering
        self.namespaces = namespaces_work()
        self.workspace = None
        self.process = None

    @property
    def level(self):
        """What this sandbox gives, in words (for results.json and the logs)."""
        parts = ["separate user" if self.root else "grader's own user"]
        parts.append("namespaces (mount, pid, net, ipc)" if self.namespaces else "no namespaces")
        # from what was enforced, which outlives the cgroup: results.json reads this after the grading
        mechanisms = dict.fromkeys(self.enforced[name]["by"] for name in ("processes", "cpus", "memory")
                                   if name in self.enforced)
        words = [f"limits by {by}" if by.startswith("cgroup") else f"memory by {by}" for by in mechanisms]
        return ", ".join(parts + (words or ["no memory, CPU or process limits"]))

    def enforced_limits(self):
        """Each limit really enforced, with what enforces it: {"memory": {"bytes": N, "by": "cgroup v1"}, ...}."""
        return {name: dict(limit) for name, limit in self.enforced.items()}

    def __enter__(self):
        mounted = False
        if self.root:
            self.claim_user_id()
            self.workspace = STATE / f"workspace-{self.uid}"
            self.workspace.mkdir(mode=0o700)
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.limits.workspace_bytes},mode=0700,"
                                      f"uid={self.uid},gid={self.gid}", "tmpfs", str(self.workspace)],
                                     capture_output=True).returncode == 0
            if not mounted:  # no mounting in this container: a plain folder of the kernel's
                os.chown(self.workspace, self.uid, self.gid)
            self.group = self.make_cgroup()
            open_python_to_others()
        else:
            self.workspace = pathlib.Path(tempfile.mkdtemp(prefix="kit-kernel-", dir=private_runtime_folder()))
        if self.limits.memory_bytes and "memory" not in (self.group.limits if self.group else {}):
            self.watchdog = watchdog.Watchdog(self.limits.memory_bytes, uid=self.uid)
        self.enforced = self.settle_enforced(mounted)
        return self

    def make_cgroup(self):
        """The kernel's cgroup (memory, CPU, processes), or None where no hierarchy is writable."""
        try:
            return cgroups.Group.create(self.cgroup_name, memory_bytes=self.limits.memory_bytes,
                                        cpus=self.limits.cpu_share, processes=self.limits.processes)
        except OSError:
            return None

    @property
    def cgroup_name(self):
        return f"kit-kernel-{self.uid}"

    def settle_enforced(self, workspace_mounted):
        enforced = {**(self.group.enforced() if self.group else {}), **(self.watchdog.enforced() if self.watchdog else {})}
        enforced["file_bytes"] = {"bytes": self.limits.file_bytes, "by": "rlimit"}  # the jail sets it everywhere
        if workspace_mounted:
            enforced["workspace_bytes"] = {"bytes": self.limits.workspace_bytes, "by": "tmpfs"}
        if self.namespaces:
            enforced["tmp_bytes"] = {"bytes": self.limits.tmp_bytes, "by": "tmpfs"}
        return enforced

    def claim_user_id(self):
        uid, self.lock = kernel_users.claim()
        self.uid = self.gid = uid
        self.remove_leftovers()  # a grading killed from outside may have left these behind

    @property
    def kernel_owner(self):
        """The (uid, gid) the kernel runs as, or None where it runs as the grader's own user."""
        return None if self.uid is None else (self.uid, self.gid)

    def give(self, path):
        """Hand a file or folder the grader made to the kernel's user, before the kernel starts (a path
        in the workspace is the grader's to resolve only until then: see exchange.Outbox)."""
        if self.uid is None:
            return
        for item in [pathlib.Path(path), *(pathlib.Path(path).rglob("*") if pathlib.Path(path).is_dir() else [])]:
            os.chown(item, self.uid, self.gid, follow_symlinks=False)

    def launch(self, command, environment):
        """Start command (the kernel) in the sandbox; returns its Popen (the outermost process)."""
        pythons = python_prefixes()
        spec = JailSpec(command=command, environment=environment, workspace=str(self.workspace),
                        uid=self.uid, gid=self.gid,
                        cgroup_procs=[str(path) for path in self.group.procs_files] if self.group else [],
                        namespaces=self.namespaces, hidden=self.hidden, keep=[*pythons, str(self.workspace)],
                        read_only=pythons, writable_for_all=self.world_writable_folders(),
                        tmp_bytes=self.limits.tmp_bytes, file_bytes=self.limits.file_bytes)
        self.process = jail.start(spec, self.workspace.parent / f"{self.workspace.name}.jail.json", self.root)
        if self.watchdog:
            self.watchdog.watch(self.process.pid)
        return self.process

    def peak_memory(self):
        """The kernel's peak memory in bytes (its cgroup's, else the watchdog's), or None where unknown."""
        if self.group and "memory" in self.group.folders:
            return self.group.peak_memory()
        return self.watchdog.peak if self.watchdog else None

    def hit_memory_limit(self):
        """Whether a process of the kernel was killed for memory (by its cgroup or by the watchdog)."""
        return bool(self.group and self.group.oom_kills()) or bool(self.watchdog and self.watchdog.killed)

    def stop_kernel(self):
        """End the kernel and everything it started: the PID namespace goes with its first process."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.root and not self.namespaces:
            kernel_users.sweep_user(self.uid)

    def __exit__(self, *exc):
        if self.watchdog:
            self.watchdog.stop()
        self.stop_kernel()
        if self.root:
            self.remove_leftovers()
            self.lock.close()
        else:
            shutil.rmtree(self.workspace, ignore_errors=True)

    def world_writable_folders(self):
        return shared_places.world_writable_folders(STATE if self.root else None)

    def remove_leftovers(self):
        """Kill every process of the user id and cgroup, unmount and remove the workspace and cgroup;
        without namespaces, remove what the user id left in the places every user can write to."""
        kernel_users.sweep_user(self.uid)
        if not self.namespaces:
            shared_places.remove_owned_by(self.uid, self.world_writable_folders())
        try:
            cgroups.Group.named(self.cgroup_name).remove()
        except cgroups.Unavailable:
            pass
        self.group = None
        workspace = STATE / f"workspace-{self.uid}"
        subprocess.run(["umount", "--lazy", str(workspace)], capture_output=True)
        shutil.rmtree(workspace, ignore_errors=True)
        (STATE / f"workspace-{self.uid}.jail.json").unlink(missing_ok=True)


def private_runtime_folder():
    """Without root: a folder of the grader's own, outside /tmp (which the kernel gets a fresh copy of)."""
    folder = pathlib.Path(os.environ.get("XDG_RUNTIME_DIR") or pathlib.Path.home() / ".cache") / "kit-kernels"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def close_to_others(*folders):
    """Only the grader's own user may read these (hidden tests, references, the upload)."""
    for folder in folders:
        os.chmod(folder, 0o700)


def open_python_to_others():
    """Let the kernel's user reach this Python: add search (x) permission to the folders above it.

    Only the traverse bit is added, on folders that lack it (a root-owned /root, where pyenv and
    miniforge live, is 0700); nothing becomes listable or readable by this.
    """
    for target in {pathlib.Path(sys.executable).resolve(), pathlib.Path(sys.prefix).resolve(),
                   pathlib.Path(os.__file__).resolve()}:
        for folder in reversed(target.parents):
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, mode | stat.S_IXOTH)
