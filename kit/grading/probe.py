"""Kernel side of sealed grading: answers the judge's questions about the notebook as plain data.

The runner sends this file's source into the student's kernel after the notebook's last cell and
then calls `answer(folder)` once per question. Nothing here is trusted: the student's code ran
first and may have changed anything this code uses. Whatever it writes is only the student's
answer, which the judge reads as JSON and pickle-free .npy files and compares with references of
its own. It imports nothing from the kit, so that it runs as the bare source it is sent as; what it
reads of a layer comes with it (LAYER_READS).
"""

import json
import os
import sys

import numpy as np

_OBJECTS = []  # objects the judge refers to by handle: student functions, models, big arrays
_MESSAGE_CHARACTERS = 300
_MAX_ITEMS = 10_000
BIG_ARRAY_BYTES = 16 * 2**20  # arrays above this stay here; the judge reads them by rows
# What is read of every layer: {"settings": [get_config() keys], "functions": [activation attributes]},
# from the judge's table of the layers it runs (standins/layers.py); set by runner.probe_loader.
LAYER_READS = None


def answer(folder):
    """Read folder/request.json, act on it, write folder/answer.json (and .npy files beside it)."""
    with open(os.path.join(folder, "request.json")) as handle:
        request = json.load(handle)
    writer = _Writer(folder)
    try:
        result = _OPERATIONS[request["op"]](request, folder)
        tree = writer.encode(result)
    except BaseException as error:  # a student's function may raise anything, even SystemExit
        tree = {"kind": "raised", "type": type(error).__name__, "message": _one_line(error)}
    with open(os.path.join(folder, "answer.json"), "w") as handle:
        json.dump(tree, handle)


def _one_line(error):
    text = " ".join(str(error).split())
    return text[:_MESSAGE_CHARACTERS]


def _global(request, folder):
    namespace = sys.modules["__main__"].__dict__
    if request["name"] not in namespace:
        return _Missing()
    return namespace[request["name"]]


def _call(request, folder):
    function = _OBJECTS[request["handle"]]
    args = [_decode_argument(value, folder) for value in request["args"]]
    return function(*args)


def _evaluate(request, folder):
    """keras.Model.evaluate on the judge's inputs, as the class defines it."""
    import keras

    model = _OBJECTS[request["handle"]]
    inputs, labels = (_decode_argument(value, folder) for value in request["args"])
    scores = keras.Model.evaluate(model, inputs, labels, verbose=0, return_dict=True)
    return {str(name): float(value) for name, value in scores.items()}


def _rows(request, folder):
    """Rows start:stop of a big array the judge holds a handle to, sent whole whatever their size."""
    rows = np.asarray(_OBJECTS[request["handle"]])[int(request["start"]):int(request["stop"])]
    return _Rows(rows)


_OPERATIONS = {"global": _global, "call": _call, "evaluate": _evaluate, "rows": _rows}


def _decode_argument(value, folder):
    """The judge's arguments: JSON values, tuples, and arrays it wrote as .npy files."""
    if isinstance(value, dict) and value.get("kind") == "array":
        return np.load(os.path.join(folder, value["file"]), allow_pickle=False)
    if isinstance(value, dict) and value.get("kind") == "tuple":
        return tuple(_decode_argument(item, folder) for item in value["items"])
    return value


class _Missing:
    """A name the notebook never defined."""


class _Rows:
    """Rows of a big array: written out as an array, however big."""

    def __init__(self, array):
        self.array = array


class _Writer:
    """Turn a value into a JSON tree; arrays go to numbered .npy files in the folder."""

    def __init__(self, folder):
        self.folder = folder
        self.files = 0

    def array(self, value):
        array = np.ascontiguousarray(np.asarray(value))
        if array.dtype.kind not in "biuf":
            return {"kind": "object", "type": f"array of {array.dtype}"}
        name = f"a{self.files}.npy"
        self.files += 1
        np.save(os.path.join(self.folder, name), array, allow_pickle=False)
        return {"kind": "array", "file": name}

    def encode(self, value, depth=0):
        if depth > 20:
            return {"kind": "object", "type": "nested too deep"}
        if value is None or isinstance(value, (bool, str)):
            return {"kind": "value", "value": value if not isinstance(value, str) else value[:100_000]}
        if isinstance(value, int):
            return {"kind": "value", "value": int(value)}
        if isinstance(value, float):
            return {"kind": "float", "value": repr(float(value))}
        if value is Ellipsis:
            return {"kind": "ellipsis"}
        if isinstance(value, _Missing):
            return {"kind": "missing"}
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"kind": "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, _Rows):
            return self.array(value.array)
        if isinstance(value, np.ndarray) and value.nbytes > BIG_ARRAY_BYTES and value.dtype.kind in "biuf":
            return {"kind": "big_array", "handle": _remember(value), "shape": list(value.shape),
                    "dtype": value.dtype.str, "classes": [cls.__name__ for cls in type(value).__mro__[:-1]]}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, (tuple, list)):
            items = [self.encode(item, depth + 1) for item in list(value)[:_MAX_ITEMS]]
            return {"kind": "tuple" if isinstance(value, tuple) else "list", "items": items}
        if isinstance(value, dict):
            pairs = list(value.items())[:_MAX_ITEMS]
            return {"kind": "dict", "items": [[str(key), self.encode(item, depth + 1)] for key, item in pairs]}
        keras_classes = _keras_classes(value)
        if "Model" in keras_classes:
            return self.model(value, keras_classes)
        if "History" in keras_classes:
            return self.history(value, keras_classes)
        if hasattr(value, "__array__") and not callable(value):
            try:
                return self.array(value)
            except Exception:
                pass
        if callable(value) and not isinstance(value, type):
            return {"kind": "function", "handle": _remember(value), "name": getattr(value, "__name__", "function")}
        return {"kind": "object", "type": type(value).__name__}

    def model(self, model, classes):
        import keras

        description = {"kind": "model", "handle": _remember(model), "classes": classes,
                       "input_shape": _attribute(model, "input_shape"), "output_shape": _attribute(model, "output_shape"),
                       "layers": [self.layer(layer) for layer in keras.Model.layers.fget(model)], "optimizer": None}
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            description["optimizer"] = {"classes": _keras_classes(optimizer),
                                        "iterations": int(np.asarray(getattr(optimizer, "iterations", 0)))}
        return description

    def layer(self, layer):
        import keras

        config = layer.get_config()
        settings = {key: config[key] for key in LAYER_READS["settings"] if key in config}
        return {"classes": _keras_classes(layer), "name": str(layer.name), "settings": settings,
                "weights": [self.array(weights) for weights in keras.layers.Layer.get_weights(layer)],
                "functions": {name: self.array(getattr(layer, name)(ACTIVATION_PROBE))
                              for name in LAYER_READS["functions"]
                              if callable(getattr(layer, name, None))}}

    def history(self, history, classes):
        return {"kind": "history", "classes": classes, "history": self.encode(history.history, 1),
                "params": self.encode(history.params, 1), "model": self.encode(getattr(history, "model", None), 1)}


# Activation functions are told apart by what they do to these numbers, not by their names.
ACTIVATION_PROBE = np.array([[-3.0, -1.0, -0.25, 0.0, 0.5, 2.0], [1.5, -2.0, 0.75, -0.5, 3.0, 0.1]], "float32")


def _remember(value):
    for handle, known in enumerate(_OBJECTS):
        if known is value:
            return handle
    _OBJECTS.append(value)
    return len(_OBJECTS) - 1


def _keras_classes(value):
    """Names of the Keras classes among value's types, most specific first."""
    return [cls.__name__ for cls in type(value).__mro__ if cls.__module__.split(".")[0] == "keras"]


def _attribute(model, name):
    try:
        shape = getattr(type(model), name).fget(model)
    except Exception:
        return None
    return [None if size is None else int(size) for size in shape] if isinstance(shape, (tuple, list)) else None
