"""Plain-data stand-ins for the notebook's objects, built by the judge from the kernel's answers.

Hidden tests run against these as they would against the real objects: a model has `layers`,
`input_shape`, `output_shape`, `count_params()`, `get_weights()`, `optimizer.iterations`, and
calling it runs its layers in NumPy from its weights; a history has `history`, `params` and
`model`; a student function is a `RemoteFunction` that runs in the kernel on the judge's
arguments. Each stand-in's type carries the names of the Keras classes of what it stands for, so
`check_helpers.kinds(x)` reads the same in the notebook and in the judge (docs/writing-hidden-tests.md).
Nothing here trusts a method of the student's objects: shapes, counts and outputs are computed
from the weights and layer settings the kernel reported.

    decode.py       answer trees -> values and stand-ins (Decoder)
    layers.py       the layers the judge runs in NumPy: one table, LAYERS, that the probe reads too
    activations.py  the activation functions, told apart by what they compute
    model.py        a model, its optimizer, its History
    remote.py       what asks the kernel: a student function, a big array, evaluate
"""
