"""Where a batch's gradings run: Dask distributed, on a LocalCluster of this machine (the default: nothing
to start by hand) or on a cluster the instructor already runs (SCHEDULER=<address>). One code path for both.

Dask runs a task at least once (a lost worker's tasks run again; a worker that hangs past worker-ttl
and wakes can finish one twice), so each task is named by its grading's key, the first result per key
wins, and each result is released as soon as it is handed over (a finished result kept on a worker
that then dies would be computed again).
"""

import contextlib
import hashlib
import sys
import tempfile
import urllib.parse
import warnings

import dask
from distributed import Client, KilledWorker, LocalCluster, as_completed
from tqdm import tqdm

from ..grading import status
from . import node
from .worker import Graded

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# A submission whose grading ended its worker process this many times is the submission's doing (Dask then
# gives up on it with KilledWorker); a worker lost for any other reason costs its task nothing.
ALLOWED_FAILURES = 3

# A grading worker only waits on its grading process: Dask's sampling profiler (100 times a second) and GIL
# monitor would take CPU from the kernels beside it and tell nothing.
QUIET_WORKERS = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False}


class RefusedCluster(RuntimeError):
    """The cluster may not grade: an address anyone could reach, or workers unlike this client."""


def check_address(address):
    """Dask's protocol runs code for anyone who can connect: beyond this machine only TLS will do."""
    parsed = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}")
    if parsed.scheme != "tls" and parsed.hostname not in LOOPBACK:
        raise RefusedCluster(f"SCHEDULER={address}: a scheduler on another machine must be reached over tls:// "
                             "(Dask's own TLS settings and certificates); plain tcp:// lets anyone who can "
                             "connect run code on the workers")


@contextlib.contextmanager
def cluster(scheduler=None, jobs=2):
    """A Client on the batch's cluster: a LocalCluster of `jobs` one-thread workers bound to 127.0.0.1 with
    no dashboard, or the scheduler at address `scheduler` (its workers checked against this client)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES, **QUIET_WORKERS}):
        if scheduler is None:
            # The workers' scratch space in a folder of the batch's own, removed with it (Dask's default stays).
            with tempfile.TemporaryDirectory(prefix="kit-dask-") as scratch, \
                    dask.config.set({"temporary-directory": scratch}), \
                    LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, host="127.0.0.1",
                                 dashboard_address=None, memory_limit=0) as local, \
                    Client(local) as client:
                yield client
            return
        check_address(scheduler)
        with Client(scheduler) as client:
            check_workers(client)
            yield client


def check_workers(client):
    """Every worker must run this kit, these requirements and this Python, and offer the MEMORY resource
    that make worker gives it; otherwise grades would depend on which worker took a submission."""
    mine = node.facts()
    theirs = client.run(node.facts)
    if not theirs:
        raise RefusedCluster("the scheduler has no workers: start some with make worker SCHEDULER=...")
    unlike = {worker: facts for worker, facts in theirs.items() if facts != mine}
    if unlike:
        raise RefusedCluster(f"workers unlike this client ({mine}): {unlike}")
    missing = [worker for worker, info in client.scheduler_info()["workers"].items()
               if "MEMORY" not in info.get("resources", {})]
    if missing:
        raise RefusedCluster(f"workers without the MEMORY resource (start them with make worker): {missing}")


def grade_all(client, function, jobs, autograder, on_result, description, memory_bytes=None):
    """Run function(job, autograder) for each of jobs ({name: Job}) on the client's cluster; on_result(name,
    result) for each name, once per key, as results arrive. A job whose task ended its worker ALLOWED_FAILURES times gets a
    student failure. memory_bytes, where given, is the MEMORY resource each task holds on its worker."""
    # The zip as a task named by its sha256, not scattered data: a worker fetches it once from a peer, and
    # where every worker holding it is lost the scheduler makes it again rather than cancel what needs it.
    with warnings.catch_warnings():  # Dask warns of large data in a graph: here it is one task, on purpose
        warnings.filterwarnings("ignore", message="(Large object of size|Sending large graph)")
        shared = client.submit(same, autograder, key=f"kit-autograder-{hashlib.sha256(autograder).hexdigest()}")
    options = {"resources": {"MEMORY": memory_bytes}} if memory_bytes else {}
    by_key = {}
    for name, job in jobs.items():
        by_key.setdefault(job.key, []).append(name)
    futures = {client.submit(function, jobs[same[0]], shared, key=f"kit-grade-{key}", **options): key
               for key, same in by_key.items()}
    done = set()
    with tqdm(total=len(jobs), desc=description, unit="submission", file=sys.stderr) as progress:
        for future in as_completed(futures):
            key = futures[future]
            result = outcome_of(future)
            future.release()
            if key in done:
                continue
            done.add(key)
            for name in by_key[key]:
                on_result(name, result)
                progress.update()


def same(data):
    return data


def outcome_of(future):
    """The task's Graded; a student failure for a submission that kept ending its worker; not graded
    (a rerun grades it) when the cluster lost it otherwise."""
    try:
        return future.result()
    except KilledWorker as error:
        ending = status.StudentFailure("KilledWorker", f"its grading ended the grading worker {ALLOWED_FAILURES} "
                                                       "times")
        return Graded(None, ending, f"{ending.text}\n{error}\n", "unknown")
    except Exception as error:  # the cluster's failure (a cancelled task, a lost connection), not the student's
        ending = status.NotGraded(f"the cluster lost its grading: {type(error).__name__}: {error}")
        return Graded(None, ending, f"{ending.text}\n", "unknown")
