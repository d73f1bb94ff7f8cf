"""Helpers for the notebooks' tests, public and hidden: what kind of thing a value is, read from its classes' names.

A public test runs in the student's kernel on the notebook's own objects; a hidden test runs in the
judge on stand-ins, whose classes carry the names of the Keras and NumPy classes of what they stand
for (kit/grading/standins/). Asked by name, the question reads the same in both places, where
`isinstance(layer, keras.layers.LSTM)` would need Keras (which the judge never imports) and
`isinstance(x_train, np.ndarray)` is False for the judge's stand-in of the training images.

Shipped beside each notebook (the `files:` of the master notebooks' ASSIGNMENT CONFIG) and so in
the autograder's files/, which the judge makes importable while the tests run. A test imports
it inside its own function: `from check_helpers import kinds`. See docs/writing-hidden-tests.md.
"""


def kinds(value):
    """The names of the classes value is an instance of: {"LSTM", "RNN", "Layer", ...}."""
    return {cls.__name__ for cls in type(value).__mro__}


def is_array(value):
    """Whether value is a NumPy array (in the judge: an array, or a big one that the kernel keeps)."""
    return "ndarray" in kinds(value)
