"""A Keras model as data, and what comes with one: its optimizer, the History of its training."""

import numpy as np

from .remote import evaluate_in_kernel

# A model runs on this many inputs at a time: the judge's memory for the layers' intermediate values
# stays that of 2,000 images however many the test passes (12,000 held-out training images, say).
CALL_ROWS = 2000


class ModelStandIn:
    """A Keras model as data. Calling it runs its layers in order, in NumPy (float32)."""

    @property
    def weights(self):
        return [weights for layer in self.layers for weights in layer.weights]

    def get_weights(self):
        return list(self.weights)

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def __call__(self, inputs):
        inputs = np.asarray(inputs, dtype=np.float32)
        if inputs.ndim == 0 or len(inputs) <= CALL_ROWS:
            return self.forward(inputs)
        return np.concatenate([self.forward(inputs[start:start + CALL_ROWS])
                               for start in range(0, len(inputs), CALL_ROWS)])

    def forward(self, values):
        for layer in self.layers:
            values = np.asarray(layer.forward(values), dtype=np.float32)
        return values

    def predict(self, inputs, verbose=0):
        return self(inputs)

    def evaluate(self, inputs, labels, verbose=0, return_dict=True):
        """keras.Model.evaluate run in the kernel on the judge's data: {metric name: value}."""
        return evaluate_in_kernel(self.decoder, self.handle, inputs, labels)


class OptimizerStandIn:
    iterations = 0


class HistoryStandIn:
    history, params, model = None, None, None
