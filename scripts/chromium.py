"""Headless Chromium driven over its DevTools pipe (no driver, no Python package): load a page, photograph it, and
collect what its console reported."""

import base64
import json
import os
import shutil
import subprocess
import tempfile

LOAD_SECONDS = 30
# Chromium reads DevTools commands from file descriptor 3 and writes replies and events to 4, each ended by NUL.
COMMANDS_FD, REPLIES_FD = 3, 4


def executable():
    """Debian's chromium, or None."""
    return shutil.which("chromium")


class Browser:
    def __init__(self, width=1100):
        self.profile = tempfile.TemporaryDirectory()
        commands_read, self.commands = os.pipe()
        self.replies, replies_write = os.pipe()
        self.process = subprocess.Popen(
            [executable(), "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             f"--user-data-dir={self.profile.name}", f"--window-size={width},800", "about:blank"],
            preexec_fn=lambda: place_pipes(commands_read, replies_write), close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(replies_write)
        self.buffer, self.events, self.last_id = b"", [], 0
        page = next(target for target in self.send("Target.getTargets")["targetInfos"] if target["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=self.session)
        self.width = width

    def send(self, method, session=None, **params):
        """Send a command and wait for its reply, keeping the events that arrive meanwhile."""
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def receive(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def open(self, url):
        """Load url and wait for its load event."""
        self.send("Page.navigate", session=self.session, url=url)
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(self.receive())

    def evaluate(self, expression):
        return self.send("Runtime.evaluate", session=self.session, expression=expression,
                         returnByValue=True)["result"].get("value")

    def console_errors(self):
        """Errors and warnings the page logged, threw, or met loading something (a blocked fetch, say)."""
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                errors.append(" ".join(str(argument.get("value", argument.get("description")))
                                       for argument in params["args"]))
            elif event.get("method") == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                errors.append(params["entry"]["text"])
        return errors

    def screenshot(self, media="screen", image_format="png", quality=None):
        """The whole page, as it shows on screen or as it prints (media="print"), as PNG (or "webp", "jpeg")."""
        self.send("Emulation.setEmulatedMedia", session=self.session, media=media)
        height = self.evaluate("document.documentElement.scrollHeight")
        self.send("Emulation.setDeviceMetricsOverride", session=self.session, width=self.width, height=height,
                  deviceScaleFactor=1, mobile=False)
        options = {"quality": quality} if quality else {}
        shot = self.send("Page.captureScreenshot", session=self.session, format=image_format,
                         captureBeyondViewport=True, **options)
        return base64.b64decode(shot["data"])

    def pdf(self):
        """The page printed to A4, as the browser's print dialog would (print media, whatever screenshot() set)."""
        self.send("Emulation.setEmulatedMedia", session=self.session, media="print")
        printed = self.send("Page.printToPDF", session=self.session, paperWidth=8.27, paperHeight=11.69,
                            preferCSSPageSize=True)
        return base64.b64decode(printed["data"])

    def close(self):
        try:
            self.send("Browser.close")
        except (EOFError, OSError):
            pass
        self.process.wait(timeout=10)
        os.close(self.commands)
        os.close(self.replies)
        self.profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def place_pipes(commands_read, replies_write):
    """In the child: put the pipes where Chromium looks for them (duplicated first: one may already sit on 3 or 4)."""
    commands, replies = os.dup(commands_read), os.dup(replies_write)
    os.dup2(commands, COMMANDS_FD)
    os.dup2(replies, REPLIES_FD)
