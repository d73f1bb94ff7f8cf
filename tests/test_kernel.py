"""The kernel's start does not depend on load: a kernel the machine starves still starts, and a failed start is retried."""

import os
import signal
import threading
import time

import psutil
import pytest
from jupyter_client import BlockingKernelClient

from kit.grading import kernel, runner, sandbox

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a kernel's processes run as another user: root only")
STUTTER_SECONDS = 12  # long enough to cover a kernel's start
STOPPED, RUNNING = 2.0, 0.3  # a machine at load ~8: the kernel gets the CPU a seventh of the time


def stutter(box, until):
    """Stop and continue every process of the sandbox in turn, as a machine that starves them would."""
    while time.monotonic() < until:
        family = sandbox_processes(box)
        for process in family:
            signal_quietly(process, signal.SIGSTOP)
        time.sleep(STOPPED)
        for process in family:
            signal_quietly(process, signal.SIGCONT)
        time.sleep(RUNNING)
    for process in sandbox_processes(box):
        signal_quietly(process, signal.SIGCONT)


def sandbox_processes(box):
    try:
        first = psutil.Process(box.process.pid)
        return [first, *first.children(recursive=True)]
    except (psutil.NoSuchProcess, AttributeError):
        return []


def signal_quietly(process, signal_number):
    try:
        process.send_signal(signal_number)
    except psutil.NoSuchProcess:
        pass


def starving(box):
    thread = threading.Thread(target=stutter, args=(box, time.monotonic() + STUTTER_SECONDS), daemon=True)
    thread.start()
    return thread


def started_with_heartbeat(box, environment):
    """jupyter_client's own start, as the runner did before: a one-second heartbeat decides life or death."""
    connection_file = str(box.workspace / ".kernel.json")
    kernel.write_connection_file(connection_file, transport="ipc", ip=str(box.workspace / ".kernel"))
    box.give(connection_file)
    box.launch(kernel.kernel_command(connection_file), environment)
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    thread = starving(box)
    try:
        client.wait_for_ready(timeout=60)
    finally:
        client.stop_channels()
        thread.join()


@pytest.mark.slow
@root_only
def test_a_starved_kernel_starts_and_runs():
    with sandbox.Sandbox(sandbox.Limits()) as box:
        environment = runner.kernel_environment(box.workspace)
        with pytest.raises(RuntimeError, match="Kernel died before replying to kernel_info"):
            started_with_heartbeat(box, environment)  # the old start calls the starved kernel dead
        box.stop_kernel()
        os.unlink(box.workspace / ".kernel.json")
        deadline = time.monotonic() + 120
        started = kernel.Kernel(box, environment)
        thread = starving(box)
        try:
            started.wait_until_ready(deadline)
            assert started.run("x = 6 * 7", deadline) == (True, None)
        finally:
            started.close()
            thread.join()


@pytest.mark.slow
@root_only
def test_a_kernel_that_dies_at_start_is_started_again(monkeypatch):
    """The first start's process ends at once (as a kernel killed while starting would); the second serves."""
    starts = []
    real_command = kernel.kernel_command

    def failing_once(connection_file):
        starts.append(connection_file)
        return ["/bin/false"] if len(starts) == 1 else real_command(connection_file)

    monkeypatch.setattr(kernel, "kernel_command", failing_once)
    with sandbox.Sandbox(sandbox.Limits()) as box:
        log = []
        started = kernel.start_kernel(box, runner.kernel_environment(box.workspace), time.monotonic() + 120, log)
        try:
            assert started.run("1 + 1", time.monotonic() + 60) == (True, None)
        finally:
            started.close()
    assert len(starts) == 2
    assert log == ["kernel start attempt 1 of 3 failed: its process ended with exit code 1"]


def test_a_kernel_that_never_starts_is_not_a_grade(monkeypatch, tmp_path):
    """Every attempt fails: KernelStartError, which the runner turns into NotGraded, never a student's 0."""
    class DeadBox:
        workspace = tmp_path
        process = None

        def give(self, path):
            pass

        def launch(self, command, environment):
            self.process = psutil.Popen(["/bin/false"])
            self.process.wait()
            return self.process

        def stop_kernel(self):
            pass

    with pytest.raises(kernel.KernelStartError, match="did not start in 3 attempts"):
        kernel.start_kernel(DeadBox(), {}, time.monotonic() + 30, [])
