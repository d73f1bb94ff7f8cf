"""Judge side of the conversation with the kernel: ask a question, read the answer as plain data.

Every answer is read the same careful way: files are opened without following links, must be
regular files under a size cap, are copied into the judge's private folder before they are parsed
(the kernel cannot change them afterwards), JSON is parsed with a depth limit, and arrays are
.npy files of plain numeric types, read with allow_pickle=False and memory-mapped.
"""

import itertools
import json
import os
import shutil
import pathlib
import stat
import time

import numpy as np

from .kernel import KernelTimeout

MAX_JSON_BYTES = 16 * 2**20
MAX_ARRAY_BYTES = 512 * 2**20  # the training images as float64 are 376 MB
MAX_TOTAL_BYTES = 2 * 2**30  # everything one grading reads from its kernel
MAX_DEPTH = 32
PLAIN_DTYPES = "biuf"


class AnswerRefused(ValueError):
    """What the kernel wrote is not plain data within the caps."""


class StudentError(Exception):
    """The student's code raised this (type and first line of the message) when the judge called it."""


class Exchange:
    """Questions go to the kernel through `outbox` (the kernel's workspace); answers are copied to `private`."""

    def __init__(self, kernel, outbox, private, call_seconds):
        self.kernel = kernel
        self.outbox = pathlib.Path(outbox)
        self.private = pathlib.Path(private)
        self.call_seconds = call_seconds
        self.counter = itertools.count()
        self.bytes_read = 0

    def ask(self, request, arrays=()):
        """Send request (JSON) and arrays (written as .npy files it names); return the answer tree and its folder."""
        number = next(self.counter)
        folder = self.outbox / f"q{number}"
        folder.mkdir()
        for name, array in arrays:
            np.save(folder / name, np.ascontiguousarray(array), allow_pickle=False)
        (folder / "request.json").write_text(json.dumps(request))
        self.kernel.give(folder)
        deadline = time.monotonic() + self.call_seconds
        try:
            ok, error_name = self.kernel.run(f"_kit_probe.answer({str(folder)!r})", deadline, store_history=False)
        except KernelTimeout:
            self.kernel.interrupt()
            self.kernel.run("pass", time.monotonic() + 30, store_history=False)
            raise StudentError(f"TimeoutError: no answer within {self.call_seconds:g} s") from None
        if not ok:
            raise AnswerRefused(f"the kernel failed to answer the grader ({error_name})")
        copy = self.private / f"a{number}"
        copy.mkdir()
        text = self.copy_in(folder / "answer.json", copy, MAX_JSON_BYTES).read_text(errors="replace")
        try:
            tree = json.loads(text)
        except (ValueError, RecursionError):
            raise AnswerRefused("the answer is not JSON the grader can read") from None
        check_depth(tree)
        return tree, ArrayReader(self, folder, copy)

    def copy_in(self, source, target_folder, cap):
        """Copy one regular file (not a link, not a device) of at most cap bytes into the judge's folder."""
        try:
            descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            raise AnswerRefused(f"{source.name}: {error.strerror}") from None
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise AnswerRefused(f"{source.name} is not a regular file")
            if info.st_size > cap or self.bytes_read + info.st_size > MAX_TOTAL_BYTES:
                raise AnswerRefused(f"{source.name} is {info.st_size:,} bytes, over the grader's cap")
            target = target_folder / source.name
            with open(target, "wb") as copy:
                copied = _copy_at_most(handle, copy, cap)
        self.bytes_read += copied
        return target


def _copy_at_most(source, target, cap):
    copied = 0
    while chunk := source.read(min(2**22, cap + 1 - copied)):
        copied += len(chunk)
        if copied > cap:
            raise AnswerRefused("a file grew past the grader's cap while it was read")
        target.write(chunk)
    return copied


class ArrayReader:
    """Reads the .npy files an answer names, each once, through Exchange.copy_in."""

    def __init__(self, exchange, folder, copy):
        self.exchange, self.folder, self.copy = exchange, folder, copy

    def __call__(self, name):
        if not isinstance(name, str) or not name.endswith(".npy") or "/" in name or name.startswith("."):
            raise AnswerRefused(f"bad array file name {name!r}")
        path = self.exchange.copy_in(self.folder / name, self.copy, MAX_ARRAY_BYTES)
        return read_plain_npy(path)

    def discard(self):
        """Remove the kernel's files of this answer, so that big arrays do not sit in memory twice."""
        shutil.rmtree(self.folder, ignore_errors=True)


def read_plain_npy(path):
    """A memory-mapped, read-only array of a plain numeric dtype; anything else is refused."""
    with open(path, "rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(handle, max_header_size=10_000)
        except (ValueError, SyntaxError) as error:
            raise AnswerRefused(f"not a .npy file: {error}") from None
        offset = handle.tell()
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in PLAIN_DTYPES or dtype.subdtype:
        raise AnswerRefused(f"arrays of {dtype} are not plain numbers")
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if os.path.getsize(path) != expected:
        raise AnswerRefused("the .npy file's size does not match its header")
    if 0 in shape or not shape:
        return np.fromfile(path, dtype=dtype, offset=offset).reshape(shape)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape, order="F" if fortran else "C", offset=offset)


def check_depth(tree, depth=0):
    if depth > MAX_DEPTH:
        raise AnswerRefused("the answer is nested too deeply")
    if isinstance(tree, dict):
        for value in tree.values():
            check_depth(value, depth + 1)
    elif isinstance(tree, list):
        for value in tree:
            check_depth(value, depth + 1)
