"""Stand-ins that ask the kernel: a student function, a big array, a model's evaluate.

Each holds a handle to an object the kernel keeps (probe._OBJECTS) and a decoder to ask through;
what comes back is decoded as any answer is, so a remote call gives plain data or stand-ins, never
a live object of the student's.
"""

import numpy as np

from ..exchange import AnswerRefused


class RemoteFunction:
    """A student function: each call runs it in the kernel on the judge's arguments."""

    def __init__(self, decoder, handle, name):
        self.decoder, self.handle, self.__name__ = decoder, handle, name

    def __call__(self, *args):
        arrays = []
        request = {"op": "call", "handle": self.handle, "args": [encode_argument(value, arrays) for value in args]}
        return self.decoder.ask(request, arrays)

    def __repr__(self):
        return f"<function {self.__name__} from the notebook>"


def encode_argument(value, arrays):
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"kind": "tuple", "items": [encode_argument(item, arrays) for item in value]}
    if isinstance(value, list):
        return [encode_argument(item, arrays) for item in value]
    if isinstance(value, np.ndarray):
        name = f"arg{len(arrays)}.npy"
        arrays.append((name, value))
        return {"kind": "array", "file": name}
    raise TypeError(f"the judge cannot send a {type(value).__name__} to the kernel")


def evaluate_in_kernel(decoder, handle, inputs, labels):
    """keras.Model.evaluate run in the kernel on the judge's data, for the model of handle: {metric name: value}."""
    arrays = [("x.npy", np.asarray(inputs)), ("y.npy", np.asarray(labels))]
    request = {"op": "evaluate", "handle": handle,
               "args": [{"kind": "array", "file": "x.npy"}, {"kind": "array", "file": "y.npy"}]}
    scores = decoder.ask(request, arrays)
    if not isinstance(scores, dict) or not all(isinstance(value, float) for value in scores.values()):
        raise AnswerRefused("evaluate did not give a dict of numbers")
    return scores


class RemoteArray:
    """A big array that stays in the kernel: shape and dtype known, rows read a chunk at a time.

    It answers what tests ask of the training images: `shape`, `dtype`, `len()`, `min()`,
    `max()` and row slices `x[start:stop]` (returned as NumPy arrays); a whole copy is never made.
    """

    CHUNK_BYTES = 16 * 2**20

    def __init__(self, decoder, handle, shape, dtype):
        self.decoder, self.handle, self.shape, self.dtype = decoder, handle, shape, dtype
        if not shape or None in shape:
            raise AnswerRefused("a big array needs a full shape")
        self.ndim = len(shape)
        self.size = int(np.prod(shape, dtype=np.int64))
        self.range = None

    def __len__(self):
        return self.shape[0]

    def rows(self, start, stop):
        request = {"op": "rows", "handle": self.handle, "start": start, "stop": stop}
        rows = self.decoder.ask(request)
        expected = (max(0, min(stop, len(self)) - start), *self.shape[1:])
        if not isinstance(rows, np.ndarray) or rows.shape != expected or rows.dtype != self.dtype:
            raise AnswerRefused("the kernel's rows do not match the array it described")
        return rows

    def chunks(self):
        row_bytes = self.size // len(self) * self.dtype.itemsize
        step = max(1, self.CHUNK_BYTES // max(1, row_bytes))
        for start in range(0, len(self), step):
            yield self.rows(start, start + step)

    def __getitem__(self, key):
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, slice) and first.step in (None, 1):
            start, stop, _ = first.indices(len(self))
            rows = self.rows(start, max(start, stop))
        elif isinstance(first, (int, np.integer)):
            index = range(len(self))[first]
            rows = self.rows(index, index + 1)[0]
        else:
            raise TypeError("the grader reads a big array by rows: index it with an int or a slice")
        return rows[rest] if rest else rows

    def min(self):
        return self.value_range()[0]

    def max(self):
        return self.value_range()[1]

    def value_range(self):
        if self.range is None:
            lows, highs = zip(*((chunk.min(), chunk.max()) for chunk in self.chunks()))
            self.range = (min(lows), max(highs))
        return self.range

    def __repr__(self):
        return f"<array {self.shape} of {self.dtype} in the notebook's kernel>"
