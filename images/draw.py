"""Draw the lesson's pictures into images/ (run `make images`); the PNG files are generated, this is the source."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
MNIST = HERE.parent / "data" / "mnist.npz"
DPI = 150  # 150 dpi at these figure widths gives about 1,000-1,400 px: sharp at notebook width

# One palette for every picture: inputs, recurrent cells, states, outputs, gates.
INPUT, CELL, STATE, OUTPUT, GATE, INK = "#d9e8f5", "#fde6c8", "#e0efd8", "#f3d9e6", "#fff6c2", "#333333"
plt.rcParams.update({"font.size": 11, "font.family": "DejaVu Sans", "savefig.facecolor": "white"})


def canvas(width, height):
    """A figure whose data coordinates are its size in inches, with no axes drawn."""
    figure = plt.figure(figsize=(width, height))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.axis("off")
    return figure, axes


def box(axes, x, y, width, height, text, color, size=11, weight="normal"):
    """A rounded box centred on (x, y) with centred text."""
    axes.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.02,rounding_size=0.08",
                                  facecolor=color, edgecolor=INK, linewidth=1.2))
    axes.text(x, y, text, ha="center", va="center", fontsize=size, weight=weight, color=INK)


def arrow(axes, start, end, color=INK, style="-|>", width=1.4, curve=0.0):
    axes.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, linewidth=width,
                                   connectionstyle=f"arc3,rad={curve}", shrinkA=0, shrinkB=0))


def label(axes, x, y, text, size=10, color=INK, **options):
    axes.text(x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=3, **options)


def save(figure, path):
    figure.savefig(path, dpi=DPI)
    plt.close(figure)


def unrolled_chain(axes, steps, xs, y, hidden_outputs, cell_text="LSTM\ncell"):
    """Recurrent cells at xs reading steps (numbers), states passed to the right (an LSTM's cell state above
    its hidden state). Where the numbers jump (3, then 28) the chain is cut: the state leaving step 3 runs
    into an ellipsis, and the state entering step 28 comes out of it as h_27 (and c_27)."""
    carries_cell_state = cell_text.startswith("LSTM")
    lines = [(y - 0.15 if carries_cell_state else y, "h", "#2e7d32", -0.16)]  # (height, symbol, colour, label offset)
    if carries_cell_state:
        lines.append((y + 0.2, "c", "#b85c00", 0.16))
    for index, (x, step) in enumerate(zip(xs, steps)):
        box(axes, x, y, 1.0, 0.75, cell_text, CELL, size=10)
        box(axes, x, y - 1.25, 0.8, 0.45, f"$x_{{{step}}}$", INPUT, size=10)
        arrow(axes, (x, y - 1.02), (x, y - 0.38))
        if hidden_outputs == "all" or (hidden_outputs == "last" and index == len(xs) - 1):
            box(axes, x, y + 1.25, 0.8, 0.45, f"$h_{{{step}}}$", STATE, size=10)
            arrow(axes, (x, y + 0.38), (x, y + 1.02))
        if index + 1 == len(xs):
            continue
        start, end, following = x + 0.5, xs[index + 1] - 0.5, steps[index + 1]
        if following == step + 1:
            for line_y, symbol, color, offset in lines:
                arrow(axes, (start, line_y), (end, line_y), color=color, width=1.8)
                label(axes, (start + end) / 2, line_y + offset, f"${symbol}_{{{step}}}$", size=10, color=color)
            continue
        stub, resume = start + 0.4, end - 0.55  # a line into the ellipsis, an arrow out of it
        for line_y, symbol, color, offset in lines:
            arrow(axes, (start, line_y), (stub, line_y), color=color, width=1.8, style="-")
            label(axes, (start + stub) / 2, line_y + offset, f"${symbol}_{{{step}}}$", size=10, color=color)
            arrow(axes, (resume, line_y), (end, line_y), color=color, width=1.8)
            label(axes, (resume + end) / 2, line_y + offset, f"${symbol}_{{{following - 1}}}$", size=10, color=color)
        middle = (stub + resume) / 2
        label(axes, middle, (lines[0][0] + lines[-1][0]) / 2, "$\\cdots$", size=14)
        label(axes, middle, y - 1.25, "$\\cdots$", size=14)
        if hidden_outputs == "all":
            label(axes, middle, y + 1.25, "$\\cdots$", size=14)
    return xs


def draw_simple_rnn(out):
    figure, axes = canvas(9.5, 4.1)
    label(axes, 4.75, 3.85, "A recurrent network unrolled over time: one cell, reused at every step", size=12, weight="bold")
    box(axes, 0.9, 2.0, 1.0, 0.75, "RNN\ncell", CELL, size=10)
    box(axes, 0.9, 0.75, 0.8, 0.45, "$x_t$", INPUT)
    box(axes, 0.9, 3.25, 0.8, 0.45, "$h_t$", STATE)
    arrow(axes, (0.9, 0.98), (0.9, 1.62))
    arrow(axes, (0.9, 2.38), (0.9, 3.02))
    arrow(axes, (1.4, 2.15), (1.4, 1.8), color="#2e7d32", width=1.8, curve=-2.2)
    label(axes, 2.05, 2.0, "=", size=22)
    unrolled_chain(axes, [1, 2, 3, 28], [3.1, 4.6, 6.1, 8.6], 2.0, "all", cell_text="RNN\ncell")
    label(axes, 4.75, 0.2, "the memory passed along (green): $h_t = \\tanh(x_t W + h_{t-1} U + b)$, the same W, U, b at every step",
          size=10, color="#2e7d32")
    save(figure, out / "simple_rnn.png")


def draw_lstm_cell(out):
    figure, axes = canvas(9.5, 4.6)
    label(axes, 4.75, 4.35, "Inside an LSTM cell: three gates decide what the cell state forgets, stores and shows",
          size=12, weight="bold")
    axes.add_patch(FancyBboxPatch((1.2, 0.7), 6.8, 3.1, boxstyle="round,pad=0.02,rounding_size=0.15", facecolor="#fffaf3",
                                  edgecolor=INK, linewidth=1.2))
    arrow(axes, (0.3, 3.35), (8.9, 3.35), color="#b85c00", width=2.4)  # the cell state conveyor belt
    label(axes, 0.55, 3.6, "$c_{t-1}$", color="#b85c00")
    label(axes, 8.7, 3.6, "$c_t$", color="#b85c00")
    label(axes, 6.2, 3.58, "cell state", size=9, color="#b85c00")
    # Left to right in Keras' order i, f, c, o: input gate, forget gate, candidate, output gate.
    i, f, c, o = 1.95, 3.3, 4.65, 6.0
    gates = [(i, "input gate", "$i_t$", "$\\sigma$"), (f, "forget gate", "$f_t$", "$\\sigma$"),
             (c, "candidate", "$\\tilde c_t$", "tanh"), (o, "output gate", "$o_t$", "$\\sigma$")]
    arrow(axes, (0.3, 1.0), (o, 1.0), color="#2e7d32", width=1.8, style="-")
    label(axes, 0.55, 1.25, "$h_{t-1}$", color="#2e7d32")
    box(axes, 0.75, 0.35, 0.7, 0.4, "$x_t$", INPUT)
    arrow(axes, (1.1, 0.35), (1.7, 1.0), style="-")
    for x, name, symbol, function in gates:
        box(axes, x, 1.85, 1.15, 0.62, f"{name}\n{symbol}  ({function})", GATE, size=9.5)
        arrow(axes, (x, 1.0), (x, 1.54))
    # i_t and the candidate meet in a product; its line passes under the forget gate's (drawn later, with a gap).
    box(axes, c, 2.8, 0.42, 0.42, "×", "white", size=13)
    arrow(axes, (i, 2.16), (i, 2.8), style="-")
    arrow(axes, (i, 2.8), (c - 0.21, 2.8))
    arrow(axes, (c, 2.16), (c, 2.59))
    label(axes, c + 0.62, 2.8, "$i_t \\odot \\tilde c_t$", size=9)
    # f_t multiplies the old cell state, then i_t * candidate is added to it.
    for x, symbol in ((f, "×"), (c, "+")):
        box(axes, x, 3.35, 0.42, 0.42, symbol, "white", size=13)
    arrow(axes, (f, 2.68), (f, 2.92), color="#fffaf3", width=7, style="-")  # the gap where the lines cross
    arrow(axes, (f, 2.16), (f, 3.14))
    label(axes, (f + c) / 2, 3.58, "$f_t \\odot c_{t-1}$", size=9)
    arrow(axes, (c, 3.01), (c, 3.14))
    # h_t = o_t * tanh(c_t)
    box(axes, 7.2, 2.8, 0.55, 0.36, "tanh", GATE, size=9)
    arrow(axes, (7.2, 3.35), (7.2, 2.98))
    box(axes, 7.2, 1.85, 0.42, 0.42, "×", "white", size=13)
    arrow(axes, (7.2, 2.62), (7.2, 2.06))
    arrow(axes, (o + 0.58, 1.85), (6.99, 1.85))
    arrow(axes, (7.41, 1.85), (8.9, 1.85), color="#2e7d32", width=1.8)
    label(axes, 8.7, 2.1, "$h_t$", color="#2e7d32")
    label(axes, 4.75, 0.35, "each gate: $\\sigma(x_t W + h_{t-1} U + b)$, between 0 (block) and 1 (let through); "
          "the candidate uses tanh", size=9.5)
    save(figure, out / "lstm_cell.png")


def draw_mnist_sequence(out):
    with np.load(MNIST) as mnist:
        image, digit = mnist["x_train"][0], int(mnist["y_train"][0])
    figure = plt.figure(figsize=(9.5, 4.2))
    figure.suptitle(f"A digit read as a sequence: 28 time steps of 28 features (a real training image, label {digit})",
                    fontsize=12, weight="bold")
    whole = figure.add_axes((0.06, 0.08, 0.28, 0.78))
    whole.imshow(image, cmap="gray")
    whole.set_title("the image, 28 × 28 pixels", fontsize=10)
    for row in range(29):
        whole.axhline(row - 0.5, color="tab:orange", linewidth=0.4)
    whole.set_xticks([])
    whole.set_yticks([0, 27], ["row 1", "row 28"], fontsize=8)
    rows = figure.add_axes((0.39, 0.08, 0.6, 0.78))
    rows.set_xlim(0, 10)
    rows.set_ylim(0, 6)
    rows.axis("off")
    rows.set_title("the LSTM reads one row per step", fontsize=10)
    shown = [0, 6, 12, 19, 27]
    for position, row in enumerate(shown):
        x = 0.9 + position * 2.05
        strip = rows.inset_axes((x - 0.85, 0.4, 1.7, 0.45), transform=rows.transData)
        strip.imshow(image[row:row + 1], cmap="gray", aspect="auto", vmin=0, vmax=255)
        strip.set_xticks([])
        strip.set_yticks([])
        label(rows, x, 1.15, f"step t = {row + 1}\n$x_{{{row + 1}}}$: 28 numbers", size=8.5)
        box(rows, x, 3.0, 1.0, 0.8, "LSTM\ncell", CELL, size=9)
        arrow(rows, (x, 1.55), (x, 2.6))
        if position + 1 < len(shown):  # out of this step into an ellipsis, then the state entering the next shown step
            start, end, before_next = x + 0.5, x + 1.55, shown[position + 1]  # (row index = step - 1)
            for line_y, symbol, color, offset in ((2.8, "h", "#2e7d32", -0.28), (3.2, "c", "#b85c00", 0.28)):
                arrow(rows, (start, line_y), (start + 0.2, line_y), color=color, width=1.6, style="-")
                arrow(rows, (end - 0.55, line_y), (end, line_y), color=color, width=1.6)
                label(rows, end - 0.27, line_y + offset, f"${symbol}_{{{before_next}}}$", size=8.5, color=color)
            label(rows, start + 0.33, 3.0, "$\\cdots$", size=11)
    box(rows, 9.1, 4.8, 1.3, 0.55, "$h_{28}$", STATE, size=10)
    arrow(rows, (9.1, 3.4), (9.1, 4.52))
    label(rows, 6.6, 4.8, "after 28 steps, one summary\nof the whole digit", size=9)
    label(rows, 1.9, 4.8, "passed along: cell state $c_t$ (orange)\nand hidden state $h_t$ (green)", size=9)
    save(figure, out / "mnist_sequence.png")


def draw_return_sequences(out, return_all):
    figure, axes = canvas(9.5, 4.1)
    setting, shape = ("True", "(batch, 28, n)") if return_all else ("False", "(batch, n)")
    leaving = "$h_1 \\ldots h_{28}$" if return_all else "$h_{28}$"
    title = "every step's state leaves the layer" if return_all else "only the last state leaves the layer"
    label(axes, 4.75, 3.85, f"LSTM(units=n, return_sequences={setting}): {title}", size=12, weight="bold")
    xs = unrolled_chain(axes, [1, 2, 3, 28], [1.1, 2.65, 4.2, 6.75], 1.6, "all" if return_all else "last")
    box(axes, 8.45, 2.85, 1.6, 0.6, f"output {leaving}\n{shape}", OUTPUT, size=9.5)
    if return_all:  # a collector over all the states, into the output
        for x in xs:
            arrow(axes, (x, 3.075), (x, 3.4), style="-")
        arrow(axes, (xs[0], 3.4), (8.45, 3.4), style="-")
        arrow(axes, (8.45, 3.4), (8.45, 3.15))
    else:
        arrow(axes, (xs[-1] + 0.4, 2.85), (7.65, 2.85))
    save(figure, out / f"return_sequences_{setting.lower()}.png")


def draw_mnist_model(out):
    figure, axes = canvas(9.5, 3.0)
    label(axes, 4.75, 2.75, "The sequential MNIST model, with the shape after each layer (None = batch size)",
          size=12, weight="bold")
    stages = [(1.3, "Input\n28 steps × 28 features", "(None, 28, 28)", INPUT, "0 parameters"),
              (4.75, "LSTM(50)\nreturn_sequences=False", "(None, 50)", CELL, "4·(28·50 + 50·50 + 50)\n= 15,800 parameters"),
              (8.2, "Dense(10, softmax)\none probability per digit", "(None, 10)", OUTPUT, "50·10 + 10\n= 510 parameters")]
    for index, (x, name, shape, color, params) in enumerate(stages):
        box(axes, x, 1.75, 2.3, 0.8, name, color, size=10)
        label(axes, x, 1.05, shape, size=11, family="DejaVu Sans Mono", weight="bold")
        label(axes, x, 0.45, params, size=9)
        if index + 1 < len(stages):
            arrow(axes, (x + 1.18, 1.75), (stages[index + 1][0] - 1.18, 1.75), width=1.8)
    label(axes, 4.75, 0.05, "16,310 parameters in all", size=9.5, weight="bold")
    save(figure, out / "mnist_model.png")


def draw_lstm_equations(out):
    figure, axes = canvas(9.5, 4.4)
    label(axes, 4.75, 4.15, "The LSTM's equations: four W, four U and four b", size=12, weight="bold")
    lines = [("$i_t = \\sigma(x_t\\,W_i + h_{t-1}\\,U_i + b_i)$", "input gate"),
             ("$f_t = \\sigma(x_t\\,W_f + h_{t-1}\\,U_f + b_f)$", "forget gate"),
             ("$\\tilde c_t = \\tanh(x_t\\,W_c + h_{t-1}\\,U_c + b_c)$", "candidate"),
             ("$o_t = \\sigma(x_t\\,W_o + h_{t-1}\\,U_o + b_o)$", "output gate"),
             ("$c_t = f_t \\odot c_{t-1} + i_t \\odot \\tilde c_t$", "new cell state"),
             ("$h_t = o_t \\odot \\tanh(c_t)$", "new hidden state")]
    for row, (equation, meaning) in enumerate(lines):
        y = 3.55 - row * 0.45
        axes.text(0.5, y, equation, fontsize=13, va="center", color=INK)
        axes.text(4.6, y, meaning, fontsize=10, va="center", color="#666666")
    sizes = [("W: d × n each", "4dn", INPUT), ("U: n × n each", "4n²", STATE), ("b: n each", "4n", GATE)]
    for index, (what, count, color) in enumerate(sizes):
        box(axes, 7.7, 3.3 - index * 0.75, 2.4, 0.55, f"{what}  →  {count}", color, size=10)
    box(axes, 4.75, 0.45, 6.4, 0.55, "parameters = 4dn + 4n² + 4n = 4 (dn + n² + n)", OUTPUT, size=12, weight="bold")
    label(axes, 7.7, 1.05, "d input features per step, n units", size=9.5, color="#666666")
    save(figure, out / "lstm_equations.png")


def main(out=HERE):
    """Draw every picture into the folder out."""
    out = pathlib.Path(out)
    draw_simple_rnn(out)
    draw_lstm_cell(out)
    draw_mnist_sequence(out)
    draw_return_sequences(out, return_all=False)
    draw_return_sequences(out, return_all=True)
    draw_mnist_model(out)
    draw_lstm_equations(out)


if __name__ == "__main__":
    main()
