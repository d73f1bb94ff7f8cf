"""A grading machine: what it runs (checked alike on every worker of a cluster), and `make worker`, which
starts a Dask worker that grades for a scheduler."""

import hashlib
import os
import platform
import subprocess
import sys

import psutil

from ..grading.sandbox import namespaces_work, parse_size
from ..layout import ROOT

MEMORY_SHARE = 0.9  # of the machine's memory, for grading when MEMORY is not given: the rest for the system
WORKER_NOT_ROOT = ("make worker should run as root: only root gives every kernel the full sandbox (a user of "
                   "its own, mount, PID, network and IPC namespaces, cgroups)")


def kit_version():
    """`git describe --always --dirty` of the kit's checkout, so that grades say which kit made them; else "unknown"."""
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return described.stdout.strip() if described.returncode == 0 and described.stdout.strip() else "unknown"


def facts():
    """What must be alike on the client and every worker for a grade not to depend on where it was made."""
    requirements = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    return {"kit_version": kit_version(), "requirements_sha256": requirements, "python": platform.python_version()}


def worker_command(scheduler, memory, slots):
    """`dask worker` for this kit: one process, a thread per slot, the MEMORY resource it may hand out."""
    memory_bytes = parse_size(memory) if memory else int(psutil.virtual_memory().total * MEMORY_SHARE)
    return [sys.executable, "-m", "distributed.cli.dask_worker", scheduler, "--nworkers", "1",
            "--nthreads", str(slots), "--resources", f"MEMORY={memory_bytes}", "--memory-limit", "0",
            "--no-dashboard"]


def main(*, scheduler, memory, slots):
    """Start a grading worker (runs until stopped). Refuses where kernels would get a network of their own."""
    if not namespaces_work():
        raise RuntimeError("refusing to start a grading worker: kernels here would run without mount, PID and "
                           "network namespaces, so a notebook could reach the scheduler")
    if os.geteuid() != 0:
        print(f"warning: {WORKER_NOT_ROOT}", file=sys.stderr)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                   "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",  # as executors.QUIET_WORKERS, for the same
                   "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__GIL__ENABLED": "False"}  # reason
    return subprocess.call(worker_command(scheduler, memory, slots), cwd=ROOT, env=environment)
