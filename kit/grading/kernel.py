"""The student's kernel: a Jupyter kernel started in a workspace of its own, driven cell by cell."""

import queue
import time

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from . import sandbox

START_ATTEMPTS = 3  # a kernel that fails to start is started again before anything is reported
INFO_SECONDS = 1.0  # how long one kernel_info request waits before it is sent again


class DeadKernelError(RuntimeError):
    """The kernel process ended while a cell or a question was running (nbclient's name for it)."""


class KernelStartError(RuntimeError):
    """The kernel never answered: the grader's failure (no student code has run yet), not a grade."""


class KernelTimeout(RuntimeError):
    """A cell or a question ran past its deadline."""


def kernel_command(connection_file):
    """The kernel as the jail runs it (a function, so that a test can make a kernel that is slow to start)."""
    return [sandbox.python(), "-m", "ipykernel_launcher", "-f", connection_file, "--HistoryManager.enabled=False"]


def start_kernel(box, environment, deadline, log, attempts=START_ATTEMPTS):
    """A Kernel that answered kernel_info; a failed start is retried (and logged), each attempt getting a fair
    share of the time left before deadline (the grading's one budget). Raises KernelStartError after the last."""
    reasons = []
    for attempt in range(attempts):
        attempt_deadline = time.monotonic() + (deadline - time.monotonic()) / (attempts - attempt)
        kernel = Kernel(box, environment)
        try:
            kernel.wait_until_ready(attempt_deadline)
            return kernel
        except KernelStartError as error:
            reasons.append(str(error))
            log.append(f"kernel start attempt {attempt + 1} of {attempts} failed: {error}")
            kernel.stop()
    raise KernelStartError(f"the kernel did not start in {attempts} attempts ({'; '.join(reasons)})")


class Kernel:
    """An IPython kernel started in `box` (a sandbox.Sandbox), talked to over Unix sockets in its workspace.

    Unix sockets rather than TCP, so that the kernel can live in a network namespace of its own.
    Whether the kernel is alive is read from its process, never from Jupyter's heartbeat: the
    heartbeat calls a kernel dead when it misses one second's ping, which a busy machine (or a
    container's half CPU) makes it do while the kernel is alive and starting.
    """

    def __init__(self, box, environment):
        self.box = box
        connection_file = str(box.workspace / ".kernel.json")
        write_connection_file(connection_file, transport="ipc", ip=str(box.workspace / ".kernel"))
        box.give(connection_file)
        self.process = box.launch(kernel_command(connection_file), environment)
        self.client = BlockingKernelClient(connection_file=connection_file)
        self.client.load_connection_file()
        self.client.start_channels(hb=False)

    def wait_until_ready(self, deadline):
        """Ask kernel_info until the kernel answers on shell and iopub; KernelStartError when its process
        ends first or the deadline passes."""
        while True:
            self.client.kernel_info()
            waited_until = min(deadline, time.monotonic() + INFO_SECONDS)
            while time.monotonic() < waited_until:
                if self.process.poll() is not None:
                    raise KernelStartError(f"its process ended with exit code {self.process.returncode}")
                try:
                    reply = self.client.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    continue
                if reply["msg_type"] == "kernel_info_reply" and self.iopub_connected():
                    return
            if time.monotonic() >= deadline:
                raise KernelStartError("no answer before its deadline")

    def iopub_connected(self):
        """Whether iopub delivers: the reply's status messages reach it once it is subscribed."""
        try:
            self.client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            return False
        return True

    def run(self, source, deadline, store_history=True):
        """Execute source; returns (True, None), or (False, the error's class name) when it raised.

        What the code prints is read and dropped: nothing the student's code writes reaches a
        result or a log. Raises DeadKernelError or KernelTimeout.
        """
        message_id = self.client.execute(source, store_history=store_history, allow_stdin=False, stop_on_error=False)
        error_name = None
        while True:
            message = self._next_iopub(deadline)
            if message["parent_header"].get("msg_id") != message_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                return error_name is None, error_name
            if kind == "error":
                error_name = "".join(ch for ch in str(content.get("ename"))[:60] if ch.isalnum() or ch in "_.")

    def _next_iopub(self, deadline):
        while True:
            if self.process.poll() is not None:
                raise DeadKernelError(f"the kernel died (exit code {self.process.returncode})")
            if time.monotonic() > deadline:
                raise KernelTimeout("ran past its time limit")
            try:
                return self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue

    def interrupt(self):
        """Stop what the kernel is running (a student function that never returns), keep the kernel."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def stop(self):
        """End a kernel that failed to start, so that another can be started in the same sandbox."""
        self.close()
        self.box.stop_kernel()

    def close(self):
        self.client.stop_channels()
