"""Keras' own answers for the lstm_parameters hidden tests; `make build` prints them into references.json.

The judge that grades never imports Keras, so every value a test compares with a real layer comes
from here: shapes and parameter counts of layers built for sizes the notebook never shows, and an
LSTM layer's states on fixed random weights.
"""

import json

import keras
import numpy as np

SHAPE_CASES = [(7, 3, 2), (1, 16, 5), (40, 9, 1)]  # (timesteps, units, features)
COUNT_CASES = [(3, 7), (1, 1), (17, 2), (2, 33), (64, 128)]  # (d, h)
WEIGHT_CASES = [(3, 7), (28, 50), (1, 1), (9, 2)]
SEQUENCE_CASES = [(3, 5, 4, 6), (1, 2, 3, 9)]  # (d, h, batch, steps)


def built(layer, steps, features):
    keras.Sequential([keras.Input(shape=(steps, features)), layer])
    return layer


def output_shapes():
    return [{"timesteps": steps, "units": units, "return_sequences": flag,
             "shape": list(keras.Sequential([keras.Input(shape=(steps, features)),
                                             keras.layers.LSTM(units, return_sequences=flag)]).output_shape)}
            for steps, units, features in SHAPE_CASES for flag in (True, False)]


def counts(layer_class, cases):
    return [{"d": d, "h": h, "count": built(layer_class(h), 4, d).count_params()} for d, h in cases]


def weight_shapes():
    return [{"d": d, "h": h, "shapes": [list(weights.shape) for weights in built(keras.layers.LSTM(h), 4, d).get_weights()]}
            for d, h in WEIGHT_CASES]


def lstm_sequences():
    """Inputs and weights rounded to 3 decimals (exact in JSON), and the states Keras computes from them."""
    rng = np.random.default_rng(2024)
    cases = []
    for d, h, batch, steps in SEQUENCE_CASES:
        layer = built(keras.layers.LSTM(h, return_sequences=True, return_state=True), steps, d)
        inputs = rng.normal(size=(batch, steps, d)).round(3).astype("float32")
        weights = [rng.normal(scale=0.6, size=w.shape).round(3).astype("float32") for w in layer.get_weights()]
        layer.set_weights(weights)
        sequence, _, last_c = (np.asarray(part) for part in layer(inputs))
        cases.append({"inputs": inputs.astype(float).round(3).tolist(),
                      "weights": [w.astype(float).round(3).tolist() for w in weights],
                      "hidden_states": sequence.astype(float).round(6).tolist(),
                      "last_cell_state": last_c.astype(float).round(6).tolist()})
    return cases


if __name__ == "__main__":
    print(json.dumps({
        "lstm_output_shapes": output_shapes(),
        "lstm_counts": counts(keras.layers.LSTM, COUNT_CASES),
        "simple_rnn_counts": counts(keras.layers.SimpleRNN, COUNT_CASES[:4]),
        "gru_counts": counts(keras.layers.GRU, COUNT_CASES[:4]),
        "lstm_weight_shapes": weight_shapes(),
        "lstm_sequences": lstm_sequences(),
    }))
