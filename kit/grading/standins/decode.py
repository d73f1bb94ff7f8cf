"""Answer trees (the kernel's JSON and .npy files) turned into Python values and stand-ins.

A value of a plain type is decoded as itself, a small array as a NumPy array; a model, a layer, a
history, a big array and a function become the stand-ins of this package. Every field is checked
for its type as it is read: the kernel, which ran the student's code, wrote the tree.
"""

import functools

import numpy as np

from ..exchange import AnswerRefused, StudentError
from .activations import identify_activation
from .layers import LayerStandIn, kernel_reads
from .model import HistoryStandIn, ModelStandIn, OptimizerStandIn
from .remote import RemoteArray, RemoteFunction

LAYER_SETTINGS = frozenset(kernel_reads()["settings"])  # a layer's stand-in takes no other setting as attribute


class Decoder:
    """Turns answer trees into Python values and stand-ins; one per grading, so that `is` holds."""

    def __init__(self, exchange):
        self.exchange = exchange
        self.models = {}

    def fetch(self, name):
        """The notebook's final value of a global name, or None when it was never defined."""
        return self.ask({"op": "global", "name": name})

    def ask(self, request, arrays=()):
        """Ask the kernel and decode its answer; its files go once read."""
        tree, question = self.exchange.ask(request, arrays)
        try:
            return self.decode(tree, self.exchange.array_reader(question))
        finally:
            self.exchange.discard(question)

    def decode(self, tree, arrays):
        if not isinstance(tree, dict) or not isinstance(tree.get("kind"), str):
            raise AnswerRefused("malformed answer")
        kind = tree["kind"]
        if kind == "value" and (tree["value"] is None or type(tree["value"]) in (bool, int, str)):
            return tree["value"]
        if kind == "float":
            return float(tree["value"])
        if kind == "scalar" and type(tree["value"]) in (bool, int, float):
            return plain_dtype(tree["dtype"]).type(tree["value"])
        if kind == "array":
            return arrays(tree["file"])
        if kind == "big_array":
            return kind_of(RemoteArray, tree["classes"])(self, int(tree["handle"]), shape_or_none(tree["shape"]),
                                                          plain_dtype(tree["dtype"]))
        if kind in ("tuple", "list"):
            items = [self.decode(item, arrays) for item in tree["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {str(key): self.decode(value, arrays) for key, value in tree["items"]}
        if kind == "ellipsis":
            return Ellipsis
        if kind == "missing":
            return None
        if kind == "function":
            return RemoteFunction(self, int(tree["handle"]), str(tree.get("name", "function")))
        if kind == "model":
            return self.model(tree, arrays)
        if kind == "history":
            history = kind_of(HistoryStandIn, tree["classes"])()
            history.history = self.decode(tree["history"], arrays)
            history.params = self.decode(tree["params"], arrays)
            history.model = self.decode(tree["model"], arrays)
            return history
        if kind == "object":
            return Opaque(str(tree.get("type", "object")))
        if kind == "raised":
            raise StudentError(f"{str(tree.get('type'))[:80]}: {str(tree.get('message'))[:300]}")
        raise AnswerRefused(f"unknown kind of answer {kind!r}")

    def model(self, tree, arrays):
        handle = int(tree["handle"])
        if handle not in self.models:
            model = kind_of(ModelStandIn, tree["classes"])()
            model.input_shape = shape_or_none(tree.get("input_shape"))
            model.output_shape = shape_or_none(tree.get("output_shape"))
            model.layers = [self.layer(layer, arrays) for layer in tree["layers"]]
            model.optimizer = None
            if tree.get("optimizer"):
                model.optimizer = kind_of(OptimizerStandIn, tree["optimizer"]["classes"])()
                model.optimizer.iterations = int(tree["optimizer"]["iterations"])
            model.handle, model.decoder = handle, self
            self.models[handle] = model
        return self.models[handle]

    def layer(self, tree, arrays):
        layer = kind_of(LayerStandIn, tree["classes"])()
        layer.name = str(tree.get("name", ""))
        for key, value in tree.get("settings", {}).items():
            if key in LAYER_SETTINGS and (type(value) in (bool, int, float) or value is None):
                setattr(layer, key, value)
        layer.weights = [arrays(item["file"]) for item in tree["weights"]]
        layer.functions = {name: identify_activation(np.asarray(arrays(item["file"])))
                           for name, item in tree.get("functions", {}).items() if item.get("kind") == "array"}
        return layer


def plain_dtype(text):
    dtype = np.dtype(str(text))
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise AnswerRefused(f"{dtype} is not a plain number type")
    return dtype


def shape_or_none(value):
    if not isinstance(value, list):
        return None
    return tuple(None if size is None else int(size) for size in value)


def kind_of(base, names):
    """A subclass of base whose class chain carries the Keras class names the kernel reported."""
    if not isinstance(names, list) or len(names) > 30:
        raise AnswerRefused("malformed class names")
    return class_chain(base, tuple(str(name)[:100] for name in names))


@functools.lru_cache(maxsize=None)
def class_chain(base, names):
    cls = base
    for name in reversed(names):
        cls = type(name, (cls,), {"__module__": "stand-in"})
    return cls


class Opaque:
    """A value the judge does not read (a string of its type only)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} from the notebook>"
