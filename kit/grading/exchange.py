"""Judge side of the conversation with the kernel: ask a question, read the answer as plain data.

The questions' folder lives in the kernel's workspace, which the kernel may rename or fill with
links at any moment, so the judge never resolves a path there: it opens the folder once, before the
kernel starts (Outbox), and makes, fills, reads and removes every question's folder through file
descriptors, each step without following links. Whatever the kernel moves, the judge's writes,
reads and removals stay in the folders it made itself.

Every answer file is read the same careful way: opened without following links, required to be
a regular file under a size cap, and read once into the judge's memory (what the kernel does to
the file afterwards changes nothing). JSON is parsed with a depth limit; arrays are .npy files of
plain numeric types, never pickles. Big arrays do not cross whole: the kernel keeps them and the
judge reads them by rows (see standins/remote.py), so grading never holds two copies of the
training images.
"""

import contextlib
import dataclasses
import functools
import itertools
import json
import os
import pathlib
import shutil
import stat
import time

import numpy as np

from .kernel import KernelTimeout

MAX_JSON_BYTES = 16 * 2**20
MAX_ARRAY_BYTES = 64 * 2**20  # one answer's array; bigger ones stay in the kernel and are read by rows
# What the judge reads in all, so that its memory stays bounded whatever the answers name: a file
# named many times is read once. An honest grading reads far less (see the README's figures).
MAX_ANSWER_BYTES = 256 * 2**20
MAX_GRADING_BYTES = 1024 * 2**20
MAX_DEPTH = 32
PLAIN_DTYPES = "biuf"


class AnswerRefused(ValueError):
    """What the kernel wrote is not plain data within the caps."""


class StudentError(Exception):
    """The student's code raised this (type and first line of the message) when the judge called it."""


FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class Outbox:
    """The folder the judge's questions go out in, held open from before the kernel starts.

    owner: the (uid, gid) the kernel runs as, or None where it runs as the judge's own user. The
    folder and each question's folder are the judge's until filled, then handed to the owner, so
    that the kernel can write its answer there and nowhere else in the folder.
    """

    def __init__(self, path, owner):
        self.path = pathlib.Path(path)
        self.owner = owner
        self.path.mkdir(mode=0o711)  # the kernel may pass through to its questions, not add or rename any
        self.descriptor = os.open(self.path, FOLDER_FLAGS)

    def post(self, name, files):
        """A new question folder holding files ({name: function writing to a binary handle}), given to the kernel."""
        os.mkdir(name, mode=0o700, dir_fd=self.descriptor)
        question = Question(self.path / name, os.open(name, FOLDER_FLAGS, dir_fd=self.descriptor))
        for filename, write in files.items():
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(filename, flags, 0o600, dir_fd=question.descriptor), "wb") as handle:
                write(handle)
                self.hand_over(handle.fileno())
        self.hand_over(question.descriptor)  # last: until now the kernel could not write in the folder
        return question

    def hand_over(self, descriptor):
        if self.owner is not None:
            os.fchown(descriptor, *self.owner)

    def discard(self, question):
        """Remove a question's folder, never crossing a link the kernel put in it."""
        os.close(question.descriptor)
        shutil.rmtree(question.path.name, ignore_errors=True, dir_fd=self.descriptor)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.descriptor)


@dataclasses.dataclass(frozen=True)
class Question:
    path: pathlib.Path  # what the kernel is told; the judge uses only the descriptor
    descriptor: int


class Exchange:
    """Questions go to the kernel as folders in `outbox` (an Outbox inside the kernel's workspace)."""

    def __init__(self, kernel, outbox, call_seconds, deadline):
        self.kernel = kernel
        self.outbox = outbox
        self.call_seconds = call_seconds
        self.deadline = deadline  # the grading's budget: no question outlives it
        self.counter = itertools.count()
        self.bytes_read = 0

    def ask(self, request, arrays=()):
        """Send request (JSON) and arrays (written as the .npy files it names); return (answer tree, Question)."""
        files = {name: functools.partial(save_array, array=array) for name, array in arrays}
        files["request.json"] = lambda handle: handle.write(json.dumps(request).encode())
        question = self.outbox.post(f"q{next(self.counter)}", files)
        try:
            return self.answer_to(question), question
        except BaseException:
            self.outbox.discard(question)
            raise

    def answer_to(self, question):
        deadline = min(time.monotonic() + self.call_seconds, self.deadline)
        try:
            ok, error_name = self.kernel.run(f"_kit_probe.answer({str(question.path)!r})", deadline,
                                             store_history=False)
        except KernelTimeout:
            if deadline == self.deadline:
                raise
            self.kernel.interrupt()
            self.kernel.run("pass", time.monotonic() + 30, store_history=False)
            raise StudentError(f"TimeoutError: no answer within {self.call_seconds:g} s") from None
        if not ok:
            raise AnswerRefused(f"the kernel failed to answer the grader ({error_name})")
        with open_regular("answer.json", MAX_JSON_BYTES, question.descriptor) as handle:
            text = handle.read(MAX_JSON_BYTES).decode("utf-8", errors="replace")
        self.count_bytes(len(text))
        try:
            tree = json.loads(text)
        except (ValueError, RecursionError):
            raise AnswerRefused("the answer is not JSON the grader can read") from None
        check_depth(tree)
        return tree

    def array_reader(self, question):
        """A function name -> array for one answer's .npy files: each file read once however often the
        answer names it, within the caps per answer and per grading."""
        arrays, budget = {}, [MAX_ANSWER_BYTES]

        def read(name):
            if name not in arrays:
                arrays[name] = self.read_array(question, name, budget)
            return arrays[name]
        return read

    def read_array(self, question, name, budget):
        """One .npy file an answer names, read into memory; budget[0] is what the answer may still read."""
        if not isinstance(name, str) or not name.endswith(".npy") or "/" in name or name.startswith("."):
            raise AnswerRefused(f"bad array file name {name!r}")
        with open_regular(name, MAX_ARRAY_BYTES, question.descriptor) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > budget[0]:
                raise AnswerRefused(f"the answer's arrays are over the grader's cap of {MAX_ANSWER_BYTES // 2**20} MB")
            budget[0] -= size
            self.count_bytes(size)
            return read_plain_npy(handle)

    def count_bytes(self, size):
        self.bytes_read += size
        if self.bytes_read > MAX_GRADING_BYTES:
            raise AnswerRefused(f"the answers are over the grader's cap of {MAX_GRADING_BYTES // 2**20} MB "
                                "for one submission")

    def discard(self, question):
        """Remove a question's folder once its answer is read."""
        self.outbox.discard(question)


@contextlib.contextmanager
def open_regular(path, cap, folder=None):
    """A regular file (not a link, a pipe or a device) of at most cap bytes, open for reading; a
    relative path is taken in the folder open as descriptor `folder`."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        raise AnswerRefused(f"{pathlib.Path(path).name}: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise AnswerRefused(f"{pathlib.Path(path).name} is not a regular file")
        if info.st_size > cap:
            raise AnswerRefused(f"{pathlib.Path(path).name} is {info.st_size:,} bytes, over the grader's cap")
        yield handle


def save_array(handle, array):
    np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def read_plain_npy(handle):
    """The array of an open .npy file, if it holds plain numbers; anything else is refused."""
    try:
        version = np.lib.format.read_magic(handle)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(handle, max_header_size=10_000)
    except (ValueError, SyntaxError) as error:
        raise AnswerRefused(f"not a .npy file: {error}") from None
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in PLAIN_DTYPES or dtype.subdtype:
        raise AnswerRefused(f"arrays of {dtype} are not plain numbers")
    count = int(np.prod(shape, dtype=np.int64))
    data = np.fromfile(handle, dtype=dtype, count=count)
    if data.size != count or handle.read(1):
        raise AnswerRefused("the .npy file's size does not match its header")
    return data.reshape(shape, order="F" if fortran else "C")


def check_depth(tree, depth=0):
    if depth > MAX_DEPTH:
        raise AnswerRefused("the answer is nested too deeply")
    if isinstance(tree, dict):
        for value in tree.values():
            check_depth(value, depth + 1)
    elif isinstance(tree, list):
        for value in tree:
            check_depth(value, depth + 1)
