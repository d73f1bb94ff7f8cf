"""The student's kernel: a Jupyter kernel started in a workspace of its own, driven cell by cell."""

import queue
import time

from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from . import sandbox


class DeadKernelError(RuntimeError):
    """The kernel process ended while a cell or a question was running (nbclient's name for it)."""


class KernelTimeout(RuntimeError):
    """A cell or a question ran past its deadline."""


class Kernel:
    """An IPython kernel started in `box` (a sandbox.Sandbox), talked to over Unix sockets in its workspace.

    Unix sockets rather than TCP, so that the kernel can live in a network namespace of its own.
    """

    def __init__(self, box, environment):
        self.box = box
        connection_file = str(box.workspace / ".kernel.json")
        write_connection_file(connection_file, transport="ipc", ip=str(box.workspace / ".kernel"))
        box.give(connection_file)
        command = [sandbox.python(), "-m", "ipykernel_launcher", "-f", connection_file, "--HistoryManager.enabled=False"]
        self.process = box.launch(command, environment)
        self.client = BlockingKernelClient(connection_file=connection_file)
        self.client.load_connection_file()
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=120)
        except RuntimeError as error:
            self.close()
            raise DeadKernelError(f"the kernel did not start: {error}") from None

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

    def give(self, folder):
        """Hand a folder the judge made to the kernel's user, so that the kernel can write its answer there."""
        self.box.give(folder)

    def interrupt(self):
        """Stop what the kernel is running (a student function that never returns), keep the kernel."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def close(self):
        self.client.stop_channels()
