"""The Keras layers the judge runs in NumPy, from the weights and settings the kernel reported.

LAYERS is the one table of them, keyed by Keras class name: how the judge runs each kind, and what
it needs to know of one (get_config() settings, activation functions). The probe reads all of
those off every layer (runner.probe_loader hands it kernel_reads()), and the decoder keeps no
other setting, so a kind of layer is declared here and nowhere else. A layer runs as the most
specific of its Keras classes that the table holds; a layer with none raises UnsupportedLayer.
"""

import dataclasses
from collections.abc import Callable

import numpy as np

from .activations import KNOWN_ACTIVATIONS, softmax


class UnsupportedLayer(TypeError):
    """The model holds a layer the judge cannot run from its weights."""


class LayerStandIn:
    """A layer: its settings (units, return_sequences, ...), weights, and activation functions by behaviour."""

    units = None
    return_sequences = False
    go_backwards = False
    use_bias = True

    def get_weights(self):
        return list(self.weights)

    def count_params(self):
        return sum(int(np.prod(weights.shape)) for weights in self.weights)

    def forward(self, inputs):
        return layer_kind(self).run(self, inputs)

    def function(self, name):
        function = self.functions.get(name)
        if function is None:
            raise UnsupportedLayer(f"layer {self.name}: its {name} is none the grader knows "
                                   f"({', '.join(KNOWN_ACTIVATIONS)})")
        return function


@dataclasses.dataclass(frozen=True)
class LayerKind:
    """One kind of Keras layer: how the judge runs it, and what the kernel reports of it."""

    run: Callable  # run(layer stand-in, inputs) -> outputs
    settings: tuple[str, ...] = ()  # get_config() entries its stand-in carries as attributes
    functions: tuple[str, ...] = ()  # its activation functions, sent as what they compute


def layer_kind(layer):
    for cls in type(layer).__mro__:
        if cls.__name__ in LAYERS:
            return LAYERS[cls.__name__]
    raise UnsupportedLayer(f"the grader cannot run a {type(layer).__name__} layer")


def kernel_reads():
    """What the probe reports of every layer, whatever its kind (a test may read the units of a layer the
    judge cannot run): {"settings": [...], "functions": [...]}, each kind's, in the table's order."""
    return {part: list(dict.fromkeys(name for kind in LAYERS.values() for name in getattr(kind, part)))
            for part in ("settings", "functions")}


def pass_through(layer, inputs):
    return inputs


def dense(layer, inputs):
    output = inputs @ layer.weights[0] + (layer.weights[1] if len(layer.weights) > 1 else 0)
    return layer.function("activation")(output)


def softmax_layer(layer, inputs):
    return softmax(inputs)


def activation_layer(layer, inputs):
    return layer.function("activation")(inputs)


@dataclasses.dataclass(frozen=True)
class Recurrent:
    """Runs a recurrent layer over the steps of its inputs from zero states, a step function per kind."""

    kind: str
    step: Callable  # step(layer, x_t, states, kernel, recurrent_kernel, bias) -> the new states, hidden first
    states: int = 1  # how many states it carries from step to step
    runs_weights: Callable = lambda weights: True  # whether the step function fits weights of this shape

    def __call__(self, layer, inputs):
        if layer.go_backwards or len(layer.weights) not in (2, 3) or not self.runs_weights(layer.weights):
            raise UnsupportedLayer(f"the grader cannot run {self.kind} {layer.name} with these settings")
        kernel, recurrent_kernel = layer.weights[:2]
        bias = layer.weights[2] if len(layer.weights) == 3 else np.float32(0)
        states = (np.zeros((len(inputs), recurrent_kernel.shape[0]), np.float32),) * self.states
        outputs = []  # every step's hidden state, kept only when the layer hands them all on
        for t in range(inputs.shape[1]):
            states = self.step(layer, inputs[:, t], states, kernel, recurrent_kernel, bias)
            if layer.return_sequences:
                outputs.append(states[0])
        return np.stack(outputs, axis=1) if layer.return_sequences else states[0]


def lstm_step(layer, x, states, kernel, recurrent_kernel, bias):
    """Keras' LSTM: gates i, f, c, o in the kernel's four blocks; returns (hidden, cell)."""
    (hidden, cell), gate, squash = states, layer.function("recurrent_activation"), layer.function("activation")
    i, f, c, o = np.split(x @ kernel + hidden @ recurrent_kernel + bias, 4, axis=-1)
    cell = gate(f) * cell + gate(i) * squash(c)
    return gate(o) * squash(cell), cell


def gru_step(layer, x, states, kernel, recurrent_kernel, bias):
    """Keras' default GRU (reset_after=True): blocks z, r, h; the reset gate scales the recurrent part."""
    (hidden,), gate, squash = states, layer.function("recurrent_activation"), layer.function("activation")
    x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
    h_z, h_r, h_h = np.split(hidden @ recurrent_kernel + bias[1], 3, axis=-1)
    update = gate(x_z + h_z)
    return (update * hidden + (1 - update) * squash(x_h + gate(x_r + h_r) * h_h),)


def has_two_biases(weights):
    """Keras' default GRU (reset_after=True), the only GRU run here, is the one with two biases, shape (2, 3h)."""
    return len(weights) == 3 and np.ndim(weights[2]) == 2


def simple_rnn_step(layer, x, states, kernel, recurrent_kernel, bias):
    (hidden,) = states
    return (layer.function("activation")(x @ kernel + hidden @ recurrent_kernel + bias),)


RECURRENT_SETTINGS = ("units", "return_sequences", "return_state", "go_backwards", "use_bias")
GATED_FUNCTIONS = ("activation", "recurrent_activation")

LAYERS = {
    "InputLayer": LayerKind(pass_through),
    "Dropout": LayerKind(pass_through, settings=("rate",)),  # Dropout does nothing outside training
    "LSTM": LayerKind(Recurrent("LSTM", lstm_step, states=2), RECURRENT_SETTINGS, GATED_FUNCTIONS),
    "GRU": LayerKind(Recurrent("GRU", gru_step, runs_weights=has_two_biases), RECURRENT_SETTINGS, GATED_FUNCTIONS),
    "SimpleRNN": LayerKind(Recurrent("SimpleRNN", simple_rnn_step), RECURRENT_SETTINGS, ("activation",)),
    "Dense": LayerKind(dense, settings=("units", "use_bias"), functions=("activation",)),
    "Softmax": LayerKind(softmax_layer, settings=("axis",)),
    "Activation": LayerKind(activation_layer, functions=("activation",)),
}
