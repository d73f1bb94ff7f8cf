"""make grade SCHEDULER=tls://... on a cluster of separate processes, as an instructor's would be: a
scheduler and two `make worker`s on 127.0.0.1 with TLS (certificates made for the test). One worker is
SIGKILLed and the other SIGSTOPped past worker-ttl, then resumed, mid-batch: every row once, with the
catalogue's points, the same rows as the local cluster's; and a kernel cannot reach the scheduler."""

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from kit import catalogue
from kit.layout import ROOT
from tests.test_batch import ASSIGNMENT, expected_rows, graded_rows, no_partial_files, write_cases

WORKER_TTL = "6s"
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="make worker grades in the full sandbox, as root")


def certificates(folder):
    """A CA and one certificate for 127.0.0.1 that it signed (every role uses it): {name: path}."""
    paths = {name: folder / f"{name}.pem" for name in ("ca", "ca-key", "cert", "key")}
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run([*openssl, "-keyout", paths["ca-key"], "-out", paths["ca"], "-subj", "/CN=kit test CA"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-CA", paths["ca"],
                    "-CAkey", paths["ca-key"], "-keyout", paths["key"], "-out", paths["cert"], "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return paths


def tls_environment(paths):
    """Dask's own TLS settings, for every role, as environment variables."""
    environment = {**os.environ, "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
                   "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(paths["ca"]),
                   "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": WORKER_TTL}
    for role in ("SCHEDULER", "WORKER", "CLIENT"):
        environment[f"DASK_DISTRIBUTED__COMM__TLS__{role}__CERT"] = str(paths["cert"])
        environment[f"DASK_DISTRIBUTED__COMM__TLS__{role}__KEY"] = str(paths["key"])
    return environment


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reaching_case(port):
    """The solution, except that a kernel that reaches the scheduler's port answers lstm_param_count wrongly."""
    return {"description": "tries the scheduler's port from the kernel", "cells": [{
        "find": "def lstm_param_count(",
        "source": ("import socket\n\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=5).close()\n"
                   "    reached = True\nexcept OSError:\n    reached = False\n\n\ndef lstm_param_count(d, h):\n"
                   "    return 0 if reached else 4 * d * h + 4 * h * h + 4 * h\n") % port}]}


def grading_processes_under(worker):
    return [child for child in worker.children(recursive=True)
            if "kit.batch.worker" in (child.cmdline() or [])]


@pytest.fixture
def tls_cluster(tmp_path):
    environment = tls_environment(certificates(tmp_path))
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    started = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                 "--port", str(port), "--protocol", "tls", "--no-dashboard"], env=environment,
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    time.sleep(3)
    for _ in range(2):
        started.append(subprocess.Popen([sys.executable, "-m", "kit", "worker", "--scheduler", address, "--memory", "1G",
                                         "--slots", "1"], env=environment, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True))
    time.sleep(8)
    yield address, port, environment, [psutil.Process(process.pid) for process in started[1:]]
    for process in started:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
@root_only
def test_a_tls_cluster_grades_every_row_once_through_a_killed_and_a_frozen_worker(tmp_path, tls_cluster):
    address, port, environment, workers = tls_cluster
    submissions, out = tmp_path / "in", tmp_path / "out"
    write_cases(submissions)
    catalogue.main(assignment=ASSIGNMENT, cases={"reaches_the_scheduler": reaching_case(port)}, out=submissions)
    command = [sys.executable, "-m", "kit", "grade", "--assignment", ASSIGNMENT, "--submissions", str(submissions),
               "--out", str(out), "--timeout", "300", "--scheduler", address]
    batch = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    killed, frozen = workers
    deadline = time.monotonic() + 300
    while not (grading_processes_under(killed) and grading_processes_under(frozen)) and time.monotonic() < deadline:
        time.sleep(0.2)
    grading_processes_under(killed)[0].parent().send_signal(signal.SIGKILL)  # its Dask worker, mid-grading
    frozen_family = [frozen, *frozen.children(recursive=True)]
    for process in frozen_family:
        process.send_signal(signal.SIGSTOP)
    time.sleep(float(WORKER_TTL.rstrip("s")) * 2)  # past worker-ttl: the scheduler gives its task to another
    for process in frozen_family:
        process.send_signal(signal.SIGCONT)
    _, errors = batch.communicate(timeout=900)
    assert batch.returncode == 0, errors[-3000:]
    rows = graded_rows(out)
    assert rows.pop("reaches_the_scheduler.ipynb") == expected_rows(["solution"])["solution.ipynb"], \
        "the kernel reached the scheduler's port"
    assert rows == expected_rows()
    assert not no_partial_files(out)

