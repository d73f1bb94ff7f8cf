"""The activation functions the judge can run, each told apart by what it computes, never by its name.

The kernel reports what a layer's activation does to probe.ACTIVATION_PROBE; the judge takes the
known function that gives the same numbers. Keras' own names for a function change from version
to version (softmax_v2, say) and a student's own function may have any name at all.
"""

import numpy as np

from ..probe import ACTIVATION_PROBE


def softmax(values):
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def hard_sigmoid(values):
    return np.clip(values / 6 + 0.5, 0, 1)


KNOWN_ACTIVATIONS = {
    "linear": lambda values: values,
    "relu": lambda values: np.maximum(values, 0),
    "sigmoid": lambda values: 1 / (1 + np.exp(-values)),
    "hard_sigmoid": hard_sigmoid,
    "tanh": np.tanh,
    "softmax": softmax,
}


def identify_activation(output):
    """The known function that maps ACTIVATION_PROBE to output, or None."""
    if output.shape != ACTIVATION_PROBE.shape:
        return None
    for function in KNOWN_ACTIVATIONS.values():
        if np.allclose(function(ACTIVATION_PROBE.astype(np.float64)), output, atol=1e-5):
            return function
    return None
