"""step-gradient-mismatch (BPD108): the cases its mutation run showed no test telling apart.

The words for a factor are checked on either side of every 3 % band (1, -1, the batch size,
one over it, 2 and 0.5). Real scripts are replayed in this process, as in
`tests/test_step_gradient_findings.py` (whose tanh/sigmoid script is reused), for: every update
scaled by one factor (a warning naming the learning rate it amounts to), a gradient that is no
multiple of the true one (alone and two on one line), one within 3 % of it, two parameters the
forward pass never reads, and a dict of parameters the forward pass only reads through a copy.
Every line number is found in the script's text; every number in the evidence is read from the
replay the finding came from.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from backprop_doctor.checks import step_gradient_mismatch
from backprop_doctor.checks.step_gradient_mismatch import _factor, _factor_words, _names
from backprop_doctor.context import CheckContext
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options
from backprop_doctor.replay import replay_file
from test_step_gradient_findings import SCRIPT

NOT = ("wrong-derivative", "not the gradient of your loss", "")
CLOSE = ("wrong-derivative", "close to, but not, the gradient of your loss", "")
FLIPPED = ("sign-flipped", "the gradient of your loss with its sign flipped", "negate it")
TWO = "look for a missing or extra factor 2 (the derivative of a square)"


def scaled(factor: str) -> tuple[str, str, str]:
    return "scaled", f"{factor} × the gradient of your loss", "remove the constant factor"


@pytest.mark.parametrize(
    "factor, proportional, batch_sizes, words",
    [
        (None, True, (), NOT),
        (3.0, False, (), NOT),
        (1.02, True, (), CLOSE),
        (0.98, True, (), CLOSE),
        (1.04, True, (), scaled("1.04")),
        (0.96, True, (), scaled("0.96")),
        (-1.02, True, (), FLIPPED),
        (-0.98, True, (), FLIPPED),
        (-1.04, True, (), ("sign-flipped", "-1.04 × the gradient of your loss: its sign is flipped",
                           "negate it and check its scale")),
        (48 * 1.02, True, (48,), ("scaled-by-batch-size", "48 × the gradient of your loss (48 is the batch size)",
                                  "divide it by the batch size (48)")),
        (48 * 0.98, True, (48,), ("scaled-by-batch-size", "48 × the gradient of your loss (48 is the batch size)",
                                  "divide it by the batch size (48)")),
        (48 * 1.04, True, (48,), scaled("49.9")),
        (1.02 / 48, True, (48,), ("scaled-by-batch-size", "1/48 of the gradient of your loss (48 is the batch size)",
                                  "divide by the batch size (48) only once")),
        (1.04 / 48, True, (48,), scaled("0.0217")),
        (48.0, True, (5, 48), ("scaled-by-batch-size", "48 × the gradient of your loss (48 is the batch size)",
                               "divide it by the batch size (48)")),
        (2.04, True, (), ("factor-of-two", "2.04 × the gradient of your loss", TWO)),
        (1.96, True, (), ("factor-of-two", "1.96 × the gradient of your loss", TWO)),
        (2.08, True, (), scaled("2.08")),
        (0.51, True, (), ("factor-of-two", "0.51 × the gradient of your loss", TWO)),
        (0.49, True, (), ("factor-of-two", "0.49 × the gradient of your loss", TWO)),
        (0.52, True, (), scaled("0.52")),
        (1.5, True, (), scaled("1.5")),
        (0.7, True, (), scaled("0.7")),
        (0.0, True, (), scaled("0")),
        (-3.0, True, (), ("sign-flipped", "-3 × the gradient of your loss: its sign is flipped",
                          "negate it and check its scale")),
    ],
)  # fmt: skip
def test_the_words_for_a_factor_on_either_side_of_each_three_percent_band(factor, proportional, batch_sizes, words):
    assert _factor_words(factor, proportional, batch_sizes) == words


def test_names_are_listed_with_commas_and_a_final_and():
    assert (_names(["W"]), _names(["W", "b"]), _names(["W1", "b1", "W2"])) == (
        "`W`", "`W` and `b`", "`W1`, `b1` and `W2`"
    )


def test_under_clipping_a_gradient_is_compared_with_the_clipped_one():
    clipped, plain = SimpleNamespace(clipped=True), SimpleNamespace(clipped=False)
    assert _factor(clipped, SimpleNamespace(factor=3.0, scale=0.5)) == 6.0
    assert _factor(plain, SimpleNamespace(factor=3.0, scale=0.5)) == 3.0
    assert _factor(clipped, SimpleNamespace(factor=3.0, scale=None)) == 3.0
    assert _factor(clipped, SimpleNamespace(factor=None, scale=0.5)) is None


# --------------------------------------------------------------------------- replayed scripts


@pytest.fixture(autouse=True)
def numpy_state_kept():
    state = np.random.get_state()  # the replayed scripts seed NumPy's global generator
    yield
    np.random.set_state(state)


def replayed(tmp_path: Path, text: str, *edits: tuple[str, str]):
    """(text, the replay's results, the findings), the script edited first (every edit must apply)."""
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    source, _ = read_source(str(path))
    context = CheckContext(options=Options(training=False), source=source)
    context.extras["replay"] = results = replay_file(source, 10.0, seed=0, curve=False, measure=True)
    context.findings = []
    return text, results, list(step_gradient_mismatch.run(context))


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


LINEAR = """\
import numpy as np

np.random.seed(2)
X = np.random.randn(40, 3)
y = X @ np.array([[1.0], [-2.0], [0.5]])
W1 = np.random.randn(3, 4) * 0.5
W2 = np.random.randn(4, 1) * 0.5
lr = 0.01
for epoch in range(50):
    h = X @ W1
    pred = h @ W2
    loss = np.mean((pred - y) ** 2)
    dW2 = h.T @ (2 * (pred - y) / len(X))
    dW1 = X.T @ ((2 * (pred - y) / len(X)) @ W2.T)
    W2 -= lr * dW2
    W1 -= lr * dW1
"""

ERROR = "2 * (pred - y) / len(X)"  # written twice, once per gradient: an edit changes both


def test_the_correct_linear_script_gets_nothing(tmp_path):
    assert replayed(tmp_path, LINEAR)[2] == []


@pytest.mark.parametrize(
    "error, factor, pattern, words",
    [
        ("2 * (pred - y)", 40, "scaled-by-batch-size",
         "40 × the gradient of your loss (40 is the batch size), `loss` (line 12): training works as if the learning "
         "rate were multiplied by 40; divide it by the batch size (40)"),
        ("(pred - y) / len(X)", 0.5, "factor-of-two",
         "0.5 × the gradient of your loss, `loss` (line 12): training works as if the learning rate were multiplied "
         "by 0.5; " + TWO),
        ("14 * (pred - y) / len(X)", 7, "scaled",
         "7 × the gradient of your loss, `loss` (line 12): training works as if the learning rate were multiplied by 7; "
         "remove the constant factor"),
    ],
)  # fmt: skip
def test_every_update_scaled_by_one_factor_is_a_warning_at_the_first_update(tmp_path, error, factor, pattern, words):
    text, [result], [finding] = replayed(tmp_path, LINEAR, (ERROR, error))
    update = line_of(text, "W2 -= lr")
    assert line_of(text, "loss = np.mean") == 12
    assert (finding.severity, finding.param, finding.file, finding.line, finding.pattern) == (
        "warning", "W2", str(tmp_path / "train.py"), update, pattern
    )
    assert finding.measured == result.wrong[0][1].factor == pytest.approx(factor, rel=1e-6)
    assert finding.message == (
        f"every update of your training step (`W2`, `W1`, line {update}) follows {words}, "
        "or compute the loss the gradients belong to"
    )
    rows = dict(finding.evidence)
    assert rows["replayed"] == (
        f"your first training step (loop at line {line_of(text, 'for epoch')}), replayed from the program's "
        f"own state: loss {result.loss_value:.6g}; your program computed {result.program_loss:.6g} at that step"
    )
    assert [name for name, _ in finding.evidence] == ["replayed", "W2", "W1"]
    for name, (_, measured) in zip(("W2", "W1"), result.parameters):
        along = measured.directions[0]
        assert rows[name] == f"wrong: d loss along the update: numerical {along.numerical:.6g}, yours {along.analytic:.6g}"


BIAS = (
    ("W2 = np.random.randn(4, 1) * 0.5\n", "W2 = np.random.randn(4, 1) * 0.5\nb = np.zeros((1, 1))\n"),
    ("pred = h @ W2\n", "pred = h @ W2 + b\n"),
    ("    W2 -= lr * dW2\n", "    db = np.sum(2 * (pred - y) / len(X), axis=0, keepdims=True)\n    W2 -= lr * dW2\n"),
    ("    W1 -= lr * dW1\n", "    W1 -= lr * dW1\n    b -= lr * db\n"),
)


@pytest.mark.parametrize(
    "scaled, words",
    [
        ("* len(X)", "40 × the gradient of your loss (40 is the batch size): divide it by the batch size (40)"),
        ("/ len(X)", "1/40 of the gradient of your loss (40 is the batch size): divide by the batch size (40) only once"),
        ("* 7", "not the gradient of your loss: recompute it as the derivative of `loss` (line {loss}) with respect to `b`"),
    ],
)  # fmt: skip
def test_a_one_number_bias_off_by_the_batch_size_is_named_so(tmp_path, scaled, words):
    """A `(1, 1)` bias has one factor, which says nothing alone (any number is "proportional" to
    one number) unless it is a known one: the batch size, or one over it, is; 7 is not."""
    text, [result], [finding] = replayed(
        tmp_path, LINEAR, *BIAS, ("keepdims=True)\n", f"keepdims=True) {scaled}\n")
    )  # fmt: skip
    line, update = line_of(text, "db = np.sum("), line_of(text, "b -= lr * db")
    assert [m.name for _, m in result.wrong] == ["b"] and result.wrong[0][1].single
    assert (finding.param, finding.line, finding.highlight) == ("b", line, (line, update))
    assert finding.pattern == ("scaled-by-batch-size" if "batch size" in words else "wrong-derivative")
    assert finding.message == (
        f"the update of `b` in your training step (line {update}) uses `db`, computed at line {line}, which is "
        + words.format(loss=line_of(text, "loss = np.mean"))
    )


def test_only_one_number_at_the_batch_size_is_proportional_by_its_factor_alone():
    """A gradient of several numbers says whether it is proportional along its random direction;
    one number at a sign or a factor 2 already is; one number at the batch size, or one over it, is too."""
    result = SimpleNamespace(batch_sizes=(40,))

    def measured(proportional: bool, single: bool) -> SimpleNamespace:
        return SimpleNamespace(proportional=proportional, single=single)

    proportional = step_gradient_mismatch._proportional
    assert [proportional(result, measured(False, True), f) for f in (40.0, 1 / 40, 7.0, None)] == [True, True, False, False]
    assert proportional(result, measured(False, False), 40.0) is False  # not proportional along the random direction
    assert proportional(result, measured(True, True), 2.0) is True
    assert proportional(result, measured(True, False), 7.0) is True


def test_a_gradient_that_is_no_multiple_is_recomputed_as_the_derivative(tmp_path):
    text, _, [finding] = replayed(tmp_path, SCRIPT, ("dW1 = X.T @ dz1", "dW1 = X.T @ dz1 + 0.1"))
    line, update = line_of(text, "dW1 = "), line_of(text, "W1 -= lr")
    assert (finding.severity, finding.param, finding.line, finding.highlight, finding.pattern) == (
        "error", "W1", line, (line, update), "wrong-derivative"
    )
    assert finding.message == (
        f"the update of `W1` in your training step (line {update}) uses `dW1`, computed at line {line}, which is not "
        f"the gradient of your loss, although `dz1` (line {line - 1}), which line {line} computes it from, is right: "
        f"re-derive line {line} as the derivative of `loss` (line 16) with respect to `W1`"
    )


def test_two_gradients_that_are_no_multiple_on_one_line_are_recomputed_together(tmp_path):
    text, _, [finding] = replayed(
        tmp_path, SCRIPT,
        ("dW1 = X.T @ dz1\n    db1 = dz1.sum(axis=0)", "dW1, db1 = X.T @ dz1 + 0.1, dz1.sum(axis=0) + 0.1"),
    )  # fmt: skip
    line = line_of(text, "dW1, db1 = ")
    updates = (line_of(text, "W1 -= lr"), line_of(text, "b1 -= lr"))
    assert (finding.param, finding.line, finding.highlight) == ("W1", line, (line, *updates))
    assert finding.message == (
        f"the updates of `W1` and `b1` in your training step (lines {updates[0]}, {updates[1]}) use `dW1` and `db1`, "
        f"computed at line {line}, which are not the gradients of your loss, although `dz1` (line {line - 1}), which "
        f"line {line} computes them from, is right: re-derive line {line} as the derivative of `loss` (line 16) with "
        "respect to `W1` and `b1`"
    )


def test_a_gradient_one_percent_off_is_close_to_but_not_the_gradient(tmp_path):
    text, _, [finding] = replayed(tmp_path, SCRIPT, ("dW1 = X.T @ dz1", "dW1 = 1.01 * X.T @ dz1"))
    line, update = line_of(text, "dW1 = "), line_of(text, "W1 -= lr")
    assert (finding.line, finding.pattern) == (line, "wrong-derivative")
    assert finding.message == (
        f"the update of `W1` in your training step (line {update}) uses `dW1`, computed at line {line}, which is "
        f"close to, but not, the gradient of your loss, although `dz1` (line {line - 1}), which line {line} computes "
        f"it from, is right: re-derive line {line} as the derivative of `loss` (line 16) with respect to `W1`"
    )


def test_two_parameters_the_forward_pass_never_reads_are_named_together(tmp_path):
    text, [result], [finding] = replayed(
        tmp_path, SCRIPT,
        ("z1 = X @ W1 + b1", "z1 = X @ V1 + c1"),
        ("lr = 0.2", "lr = 0.2\nV1, c1 = W1.copy(), b1.copy()"),
        ("dW1 = X.T @ dz1\n    db1 = dz1.sum(axis=0)", "dW1, db1 = X.T @ dz1, dz1.sum(axis=0)"),
    )  # fmt: skip
    line = line_of(text, "dW1, db1 = ")
    updates = (line_of(text, "W1 -= lr"), line_of(text, "b1 -= lr"))
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == ("W1", line, (line, *updates), "not-used")
    assert finding.message == (
        f"the updates of your training step (lines {updates[0]}, {updates[1]}) move `W1` and `b1`, but `loss` "
        f"(line {line_of(text, 'loss = np.mean')}) does not change when they do: your training step never reads "
        "`W1` and `b1` before updating them; look for another weight typed in its place in the forward pass"
    )
    rows = dict(finding.evidence)
    measured = {m.name: m for _, m in result.parameters}
    for name in ("W1", "b1"):
        along = measured[name].directions[0]
        assert rows[name] == f"unused: d loss along the update: numerical {along.numerical:.6g}, yours {along.analytic:.6g}"
    assert rows["W2"].startswith("ok: ")


DICT = {
    "W1 = np.random.randn(3, 6) * 0.5\nb1 = np.zeros(6)\nW2 = np.random.randn(6, 1) * 0.5\nb2 = np.zeros(1)":
        "params = {'W1': np.random.randn(3, 6) * 0.5, 'b1': np.zeros(6), 'W2': np.random.randn(6, 1) * 0.5, "
        "'b2': np.zeros(1)}\nP = {k: v.copy() for k, v in params.items()}",
    "X @ W1 + b1": "X @ P['W1'] + P['b1']",
    "a1 @ W2 + b2": "a1 @ params['W2'] + params['b2']",
    "dz2 @ W2.T": "dz2 @ params['W2'].T",
    "    W2 -= lr * dW2\n    b2 -= lr * db2\n    W1 -= lr * dW1\n    b1 -= lr * db1\n":
        "    grads = {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}\n    for k in params:\n        params[k] -= lr * grads[k]\n",
}  # fmt: skip


def test_a_parameter_the_forward_pass_reads_only_through_a_copy_is_updated_in_vain(tmp_path):
    text, _, found = replayed(tmp_path, SCRIPT, *DICT.items())
    update = line_of(text, "params[k] -= lr")
    assert [(f.param, f.line, f.highlight, f.pattern) for f in found] == [
        ("params['W1']", line_of(text, "dW1 = "), (line_of(text, "dW1 = "), update), "not-used"),
        ("params['b1']", line_of(text, "db1 = "), (line_of(text, "db1 = "), update), "not-used"),
    ]
    assert found[0].message == (
        f"the update of your training step (line {update}) moves `params['W1']`, but `loss` (line "
        f"{line_of(text, 'loss = np.mean')}) does not change when it does: the forward pass computes with another "
        "array (a copy made before training, or a rebound name); update the array the forward pass uses, in place"
    )


def test_the_dict_script_reading_its_parameters_themselves_gets_nothing(tmp_path):
    edits = dict(DICT)
    edits["X @ W1 + b1"] = "X @ params['W1'] + params['b1']"
    assert replayed(tmp_path, SCRIPT, *edits.items())[2] == []


# --------------------------------------------------------------------------- backwards through time


def rnn_texts():
    from test_replay_through_time import LSTM, RNN

    return RNN, LSTM


def test_a_gradient_carried_to_the_step_before_through_a_transposed_weight_is_blamed_where_it_is_carried(tmp_path):
    rnn, _ = rnn_texts()
    text, [result], [finding] = replayed(tmp_path, rnn, ("dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)"))
    carried, dh = line_of(text, "dhnext = np.dot(Whh, dhraw)"), line_of(text, "dh = np.dot(Why.T, dy)")
    loss, update = line_of(text, "= lossFun("), line_of(text, "param += -learning_rate")
    assert (finding.severity, finding.param, finding.file, finding.line, finding.highlight, finding.pattern) == (
        "error", "dh", str(tmp_path / "train.py"), carried, (dh, carried, update), "through-time"
    )
    assert finding.measured == pytest.approx(result.first_wrong_adjoint[1].error)
    assert finding.evidence[0][0] == "replayed"
    factor = result.first_wrong_adjoint[1].factor
    assert finding.evidence[-1] == ("dh", f"wrong (× {factor:.3g}) as the gradient with respect to `hs[7]` (line {carried})")
    assert finding.message == (
        f"`dh` (line {dh}) is wrong first at time step 7 of 0..8 — the hidden state, although every gradient of "
        f"time step 8 is right: `dhnext` (line {carried}), which carries the gradient from step 8 back to step 7, is "
        f"not the gradient of `loss` (line {loss}) with respect to `hs[7]` through the next step, so the updates of "
        "`Wxh`, `Whh`, `bh` in your training step do not follow the gradient: re-derive `dhnext` as the derivative "
        "of the next step's computation with respect to its input from this step (check for a transposed or missing "
        "term)"
    )


def test_a_wrong_tanh_derivative_is_named_at_the_last_time_step_after_the_right_ones(tmp_path):
    rnn, _ = rnn_texts()
    text, [result], [finding] = replayed(tmp_path, rnn, ("dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = (1 - hs[t]) * dh"))
    line, loss = line_of(text, "dhraw = (1 - hs[t]) * dh"), line_of(text, "= lossFun(")
    assert (finding.file, finding.measured) == (str(tmp_path / "train.py"), pytest.approx(result.first_wrong_adjoint[1].error))
    assert [name for name, _ in finding.evidence][:1] == ["replayed"]
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == (
        "dhraw", line, (line, line_of(text, "param += -learning_rate")), "wrong-derivative"
    )
    assert finding.message == (
        f"at time step 8 (the last one, where the backward pass starts), `dhraw` (line {line}) is not the gradient "
        f"of `loss` (line {loss}) with respect to `hs[8]`, the hidden state, nor to its pre-activation, although "
        "`dy` and `dh` at that step are right, so the updates of `Wxh`, `Whh`, `bh` in your training step do not "
        f"follow the gradient: re-derive `dhraw` from the forward statement of `hs[t]` (line {line_of(text, 'hs[t] = np.tanh')})"
    )


def test_an_lstm_gate_is_named_with_its_step(tmp_path):
    _, lstm = rnn_texts()
    text, _, [finding] = replayed(
        tmp_path, lstm, ("df_in = dc * c_states[t - 1] * f_states[t]", "df_in = dc * c_states[t] * f_states[t]")
    )
    line, loss = line_of(text, "df_in = dc * c_states[t] * f_states[t]"), line_of(text, "loss, grads, h, c = ")
    assert (finding.param, finding.line, finding.highlight) == ("df_in", line, (line, line_of(text, "params[k] -= lr")))
    assert finding.message == (
        f"at time step 6 (the last one, where the backward pass starts), `df_in` (line {line}) is not the gradient "
        f"of `loss` (line {loss}) with respect to `f_states[6]`, the forget gate, nor to its pre-activation, although "
        "`dscores`, `dh` and `dc` at that step are right, so the updates of `Wf`, `Wi`, `Wo`, `Wg`, `bf`, `bi`, `bo`, `bg` in "
        "your training step do not follow the gradient: re-derive `df_in` from the forward statement of "
        f"`f_states[t]` (line {line_of(text, 'f_states[t] = sigmoid(')})"
    )


def test_an_output_gradient_no_stored_value_can_measure_is_named_as_a_possible_cause(tmp_path):
    rnn, _ = rnn_texts()
    stored = "ys[t] = np.dot(Why, hs[t]) + by\n        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))"
    unstored = "ps[t] = np.exp(np.dot(Why, hs[t]) + by) / np.sum(np.exp(np.dot(Why, hs[t]) + by))"
    text, _, [finding] = replayed(tmp_path, rnn, (stored, unstored), ("dy[targets[t]] -= 1", "dy[targets[t]] -= 0.5"))
    line, loss = line_of(text, "dh = np.dot(Why.T, dy)"), line_of(text, "= lossFun(")
    assert (finding.param, finding.line) == ("dh", line)
    assert finding.message == (
        f"at time step 8 (the last one, where the backward pass starts), `dh` (line {line}) is not the gradient of "
        f"`loss` (line {loss}) with respect to `hs[8]`, the hidden state, nor to its pre-activation, so the updates "
        "of `Wxh`, `Whh`, `Why`, `bh`, `by` in your training step do not follow the gradient: re-derive `dh` from the "
        f"forward statement of `hs[t]` (line {line_of(text, 'hs[t] = np.tanh')}); it is computed from `dy` (line "
        f"{line_of(text, 'dy[targets[t]] -= 0.5')}), which no stored forward value lets backprop-doctor measure on its "
        "own: the mistake may be there"
    )



# --------------------------------------------------------------------------- a loss the program's objects compute


DROPOUT_NET = """\
import numpy as np


class Net:
    def __init__(self):
        rng = np.random.default_rng(4)
        self.W1 = rng.standard_normal((3, 8)) * 0.5
        self.W2 = rng.standard_normal((8, 1)) * 0.5

    def forward(self, X, train):
        self.h = np.maximum(0, X @ self.W1)
        if train:
            self.mask = (np.random.rand(*self.h.shape) > 0.5) / 0.5
            self.h = self.h * self.mask
        return self.h @ self.W2

    def loss(self, X, y):
        return np.mean((self.forward(X, train=False) - y) ** 2)

    def gradient(self, X, y):
        pred = self.forward(X, train=True)
        dpred = 2 * (pred - y) / len(X)
        dW2 = self.h.T @ dpred
        dh = dpred @ self.W2.T * self.mask * (self.h > 0)
        dW1 = X.T @ dh
        return dW1, dW2


np.random.seed(0)
X = np.random.randn(32, 3)
y = X @ np.array([[1.0], [2.0], [-1.0]])
net = Net()
for epoch in range(20):
    loss = net.loss(X, y)
    dW1, dW2 = net.gradient(X, y)
    net.W1 -= 0.05 * dW1
    net.W2 -= 0.05 * dW2
"""


@pytest.mark.parametrize(
    "loss", ["net.loss(X, y)", "models['net'].loss(X, y)", "np.mean(np.square(net.forward(X, train=False) - y))"]
)
def test_a_loss_computed_by_the_networks_own_methods_in_another_mode_is_not_blamed_on_the_gradients(tmp_path, loss):
    """`net.loss` runs without dropout while `net.gradient` trains with it: every update is off by
    an unrelated factor, which says the two are not one function, not that the gradients are wrong: a
    note, no error."""
    _, [result], found = replayed(
        tmp_path, DROPOUT_NET, ("net = Net()", "net = Net()\nmodels = {'net': net}"), ("net.loss(X, y)", loss)
    )
    assert [m.wrong for _, m in result.parameters] == [True, True]
    assert [(f.severity, f.pattern, f.param) for f in found] == [("info", "another-function", "net.W1")]


@pytest.mark.parametrize(
    "arithmetic", ["np.mean((pred - y) ** 2)", "np.linalg.norm(pred - y) ** 2 / len(X)", "np.square(pred - y).mean()"]
)
def test_the_same_loss_written_as_the_programs_own_arithmetic_is_taken_at_its_word(tmp_path, arithmetic):
    """NumPy's own functions (`np.linalg.norm`, a method of `np.square(...)`) are arithmetic, not
    the program's objects."""
    text, _, found = replayed(
        tmp_path, DROPOUT_NET, ("loss = net.loss(X, y)", f"pred = net.forward(X, train=False)\n    loss = {arithmetic}")
    )
    loss = line_of(text, f"loss = {arithmetic}")
    # both wrong gradients are computed from `dpred`, which no forward value of the step lets the walk measure: one finding there
    assert [(f.param, f.line, f.pattern) for f in found] == [("net.W1", line_of(text, "dpred = 2 * (pred - y) / len(X)"), "wrong-derivative")]
    assert found[0].message == (
        f"the updates of `net.W1` and `net.W2` in your training step do not follow the gradient of `loss` (line {loss}), and every "
        f"one of them is computed from `dpred` (lines {line_of(text, 'dW2 = self.h.T @ dpred')}, {line_of(text, 'dW1 = X.T @ dh')}): "
        f"look first at line {line_of(text, 'dpred = 2 * (pred - y) / len(X)')}, where `dpred` is computed (`dpred = 2 * (pred - y) / len(X)`); re-derive it"
    )



# --------------------------------------------------------------------------- the first wrong adjoint, not computed from the right ones


def test_an_adjoint_that_skips_the_one_before_it_names_the_right_one_in_the_singular(tmp_path):
    """`b2` keeps its right gradient, so the factor is not every update's (a scale) but `dz2`'s mistake."""
    edits = ("dz2 = dp * p * (1 - p)", "dz2 = (p - y) * p * (1 - p)"), ("db2 = dz2.sum(axis=0)", "db2 = (dp * p * (1 - p)).sum(axis=0)")
    text, _, [finding] = replayed(tmp_path, SCRIPT, *edits)
    line = line_of(text, "dz2 = (p - y)")
    assert (finding.param, finding.line, finding.pattern) == ("dz2", line, "scaled")
    assert finding.message == (
        f"`dz2` (line {line}) is 24 × the gradient of your loss with respect to `z2`, the first wrong one from the "
        "loss backwards (`dp` is right), so the updates of `W2`, `W1`, `b1` in your training step do not "
        "follow the gradient of `loss` (line 16): remove the constant factor"
    )


def test_the_same_factor_in_every_update_with_a_one_number_bias_is_the_programs_scale(tmp_path):
    """`b2` has one entry: at the weights' factor it shares it, and a factor every update carries is a
    scale while the loss is not seen to rise with it (a warning at the first update, not an adjoint error)."""
    text, _, [finding] = replayed(tmp_path, SCRIPT, ("dz2 = dp * p * (1 - p)", "dz2 = (p - y) * p * (1 - p)"))
    assert (finding.severity, finding.line) == ("warning", line_of(text, "dz2 = (p - y)"))
    assert finding.message.startswith(f"every update of your training step (`W2`, `b2`, `W1`, `b1`, line {line_of(text, 'W2 -= lr * dW2')})")
    assert "training works as if the learning rate were multiplied by 24" in finding.message


def test_with_parameters_in_a_dict_the_right_adjoints_are_named_and_no_parameter_gradient_among_them(tmp_path):
    edits = dict(DICT)
    edits["X @ W1 + b1"] = "X @ params['W1'] + params['b1']"
    edits["dz2 @ W2.T"] = "(p - y) @ params['W2'].T"
    text, _, [finding] = replayed(tmp_path, SCRIPT, *edits.items())
    line = line_of(text, "da1 = (p - y)")
    assert (finding.param, finding.line, finding.highlight) == ("da1", line, (line, line_of(text, "params[k] -= lr")))
    assert finding.message == (
        f"`da1` (line {line}) is not the gradient of your loss with respect to `a1`, the first wrong one from the "
        "loss backwards (`dp` and `dz2` are right), so the updates of `params['W1']`, `params['b1']` in your "
        f"training step do not follow the gradient of `loss` (line {line_of(text, 'loss = np.mean')}): `a1` feeds "
        f"`z2` (line {line_of(text, 'z2 = a1 @')}), so `da1` must be `dz2` × ∂`z2`/∂`a1`"
    )


def test_an_adjoint_whose_forward_value_also_feeds_the_loss_is_re_derived_from_the_loss(tmp_path):
    """`a1` feeds `z2` and the loss itself (an activation penalty): no chain of adjoints covers the
    penalty, so the advice is to re-derive `da1` from the loss."""
    text, _, [finding] = replayed(
        tmp_path, SCRIPT, ("loss = np.mean((p - y) ** 2)", "loss = np.mean((p - y) ** 2) + 0.01 * np.mean(a1 ** 2)")
    )
    line = line_of(text, "da1 = dz2")
    assert (finding.param, finding.line, finding.pattern) == ("da1", line, "wrong-derivative")
    assert finding.message == (
        f"`da1` (line {line}) is not the gradient of your loss with respect to `a1`, although `dz2`, which it is "
        "computed from, is right, so the updates of `W1`, `b1` in your training step do not follow the gradient of "
        "`loss` (line 16): re-derive it as the derivative of `loss` (line 16) with respect to `a1`"
    )


# --------------------------------------------------------------------------- the evidence rows


def test_the_evidence_has_a_row_per_measured_parameter_and_adjoint_with_its_verdict():
    """Built by hand: a replay whose program printed no loss of its own, a parameter measured
    along no direction (no row), one at a kink, one unused, one wrong and adjoints right and wrong."""
    along = SimpleNamespace(numerical=0.25, analytic=0.5)

    def measured(name, **verdict):
        flags = {"unused": False, "wrong": False, "inconclusive": False, **verdict}
        return None, SimpleNamespace(name=name, directions=[along], **flags)

    result = SimpleNamespace(
        loss=SimpleNamespace(name="loss"), loss_value=1.5, program_loss=None, runs=12,
        step=SimpleNamespace(loop_line=9, place="loop at line 9"),
        parameters=[
            (None, SimpleNamespace(name="W0", directions=[], unused=False, wrong=False, inconclusive=False)),
            measured("W1", inconclusive=True), measured("W2", unused=True), measured("W3", wrong=True),
            measured("W4"),
        ],
        adjoints=[
            (SimpleNamespace(name="dz", forward="z", line=20), SimpleNamespace(wrong=True, factor=2.0)),
            (SimpleNamespace(name="dh", forward="h", line=21), SimpleNamespace(wrong=True, factor=None)),
            (SimpleNamespace(name="da", forward="a", line=22), SimpleNamespace(wrong=False, factor=3.0)),
        ],
    )  # fmt: skip
    assert step_gradient_mismatch._evidence(result) == (
        ("replayed", "your first training step (loop at line 9), replayed from the program's own state: loss 1.5"),
        ("W1", "kink: d loss along the update: numerical 0.25, yours 0.5"),
        ("W2", "unused: d loss along the update: numerical 0.25, yours 0.5"),
        ("W3", "wrong: d loss along the update: numerical 0.25, yours 0.5"),
        ("W4", "ok: d loss along the update: numerical 0.25, yours 0.5"),
        ("dz", "wrong (× 2) as the gradient with respect to `z` (line 20)"),
        ("dh", "wrong as the gradient with respect to `h` (line 21)"),
        ("da", "ok as the gradient with respect to `a` (line 22)"),
    )
    assert step_gradient_mismatch._evidence(SimpleNamespace(**{**vars(result), "loss": None, "parameters": [], "adjoints": []})) == ()


def test_a_hidden_gradient_that_drops_what_the_next_step_carries_is_named_with_the_carry(tmp_path):
    """`dh` forgets `+ dhnext`: at the last step there is nothing to carry, so it is first wrong at
    the step before; `dhnext`, set at each step's end and never read, says what is missing."""
    rnn, _ = rnn_texts()
    text, _, [finding] = replayed(tmp_path, rnn, ("dh = np.dot(Why.T, dy) + dhnext", "dh = np.dot(Why.T, dy)"))
    line, carry = line_of(text, "dh = np.dot(Why.T, dy)"), line_of(text, "dhnext = np.dot(")
    assert (finding.param, finding.line, finding.pattern) == ("dh", line, "through-time")
    assert finding.message == (
        f"`dhnext` (line {carry}) is the gradient each time step sends back to the one before it, but the loop never adds it "
        "to that step's upstream gradient, so the updates of `Wxh`, `Whh`, `bh` in your training step do not follow the "
        "gradient: write `dh = np.dot(Why.T, dy) + dhnext`"
    )


def test_a_wrong_output_gradient_is_named_with_the_output_scores(tmp_path):
    rnn, _ = rnn_texts()
    text, _, [finding] = replayed(tmp_path, rnn, ("dy[targets[t]] -= 1", "dy[targets[t]] -= 0.5"))
    line, loss = line_of(text, "dy[targets[t]] -= 0.5"), line_of(text, "= lossFun(")
    assert finding.message == (
        f"at time step 8 (the last one, where the backward pass starts), `dy` (line {line}) is not the gradient of "
        f"`loss` (line {loss}) with respect to `ys[8]`, the output scores, nor to its pre-activation, so the updates "
        "of `Wxh`, `Whh`, `Why`, `bh`, `by` in your training step do not follow the gradient: re-derive `dy` from the "
        f"forward statement of `ys[t]` (line {line_of(text, 'ys[t] = np.dot(Why')})"
    )


# --------------------------------------------------------------------------- an update function in another file


SGD = """\
def sgd(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
"""


def test_an_update_made_in_an_imported_function_is_named_by_that_files_name_and_line(tmp_path, monkeypatch):
    import sys

    (tmp_path / "sgd.py").write_text(SGD, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))  # the program imports its helper from its own folder
    edits = dict(DICT)
    edits["X @ W1 + b1"] = "X @ params['W1'] + params['b1']"
    edits["    for k in params:\n        params[k] -= lr * grads[k]\n"] = "    sgd(params, grads, lr)\n"
    edits["import numpy as np\n"] = "import numpy as np\nfrom sgd import sgd\n"
    edits["dW1 = X.T @ dz1"] = "dW1 = 2 * X.T @ dz1"
    before = set(sys.modules)
    try:
        text, _, [finding] = replayed(tmp_path, SCRIPT, *edits.items())
    finally:
        for name in set(sys.modules) - before:
            if name == "sgd":
                del sys.modules[name]
    line = line_of(text, "dW1 = 2 * X.T")
    assert (finding.param, finding.file, finding.line, finding.highlight, finding.pattern) == (
        "params['W1']", str(tmp_path / "train.py"), line, (line,), "factor-of-two"
    )
    assert finding.message == (
        f"the update of `params['W1']` in your training step (sgd.py line {line_of(SGD, 'params[k] -= ')}) uses "
        f"`dW1`, computed at line {line}, which is 2 × the gradient of your loss: look for a missing or extra "
        "factor 2 (the derivative of a square)"
    )


# --------------------------------------------------------------------------- a gradient summed over the whole array


@pytest.mark.parametrize(
    "own, shape, plural, size, how",
    [
        ((), (6,), False, "one number, where the parameter has shape (6,)", "axis=0"),
        ((), (1,), False, "one number, where the parameter has shape (1,)", "axis=0"),
        ((1, 1), (6, 1), True, "one number, where the parameters have shape (6, 1)", "axis=1, keepdims=True"),
        ((), (1, 6), False, "one number, where the parameter has shape (1, 6)", "axis=0, keepdims=True"),
        ((1, 6), (3, 6), False, "of shape (1, 6), where the parameter has shape (3, 6)", "the batch axis"),
        ((1, 1, 1), (1, 6, 1), True, "one number, where the parameters have shape (1, 6, 1)", "axis=(0, 2), keepdims=True"),
    ],
)  # fmt: skip
def test_a_gradient_smaller_than_its_parameter_is_summed_over_the_samples_only(own, shape, plural, size, how):
    assert step_gradient_mismatch._broadcast_words(own, shape, plural) == (
        f"{size}, so the update moves all its entries by the same amount",
        f"each entry has a gradient of its own, so sum over the samples only ({how}), not over the whole array",
    )


def test_a_bias_gradient_summed_to_one_number_is_a_broadcast_gradient(tmp_path):
    text, [result], [finding] = replayed(tmp_path, SCRIPT, ("db1 = dz1.sum(axis=0)", "db1 = dz1.sum()"))
    line, update = line_of(text, "db1 = dz1.sum()"), line_of(text, "b1 -= lr")
    (measured,) = [m for _, m in result.wrong]
    assert measured.broadcast == ()
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == ("b1", line, (line, update), "broadcast-gradient")
    assert finding.measured == pytest.approx(measured.error)
    assert finding.message == (
        f"the update of `b1` in your training step (line {update}) uses `db1`, computed at line {line}, which is one "
        "number, where the parameter has shape (6,), so the update moves all its entries by the same amount: each "
        "entry has a gradient of its own, so sum over the samples only (axis=0), not over the whole array"
    )


# --------------------------------------------------------------------------- the chain rule's terms


RESIDUAL = """\
import numpy as np

np.random.seed(5)
X = np.random.randn(48, 3)
y = np.sin(X[:, :1]) + X[:, 1:2]
W1 = np.random.randn(3, 6) * 0.5
W2 = np.random.randn(6, 6) * 0.5
W3 = np.random.randn(6, 1) * 0.5
lr = 0.05
for it in range(30):
    z1 = X @ W1
    a1 = np.tanh(z1)
    z2 = a1 @ W2
    a2 = np.tanh(z2) + a1
    p = a2 @ W3
    loss = np.mean((p - y) ** 2)
    dp = 2 * (p - y) / len(X)
    dW3 = a2.T @ dp
    da2 = dp @ W3.T
    dz2 = da2 * (1 - np.tanh(z2) ** 2)
    dW2 = a1.T @ dz2
    da1 = dz2 @ W2.T + da2
    dz1 = da1 * (1 - a1 ** 2)
    dW1 = X.T @ dz1
    W3 -= lr * dW3
    W2 -= lr * dW2
    W1 -= lr * dW1
"""


def test_the_correct_residual_script_gets_nothing(tmp_path):
    assert replayed(tmp_path, RESIDUAL)[2] == []


def test_an_adjoint_of_a_value_feeding_two_statements_must_sum_both_terms(tmp_path):
    """`a1` feeds `z2` and, through the skip connection, `a2`: `da1` half-forgets the second term,
    although both adjoints it is computed from are right. The tanh's slope, computed from `a1` after
    `da1`, is no term of it."""
    text, [result], [finding] = replayed(
        tmp_path, RESIDUAL, ("da1 = dz2 @ W2.T + da2", "da1 = dz2 @ W2.T + 0.5 * da2"),
        ("dz1 = da1 * (1 - a1 ** 2)", "slope = 1 - a1 ** 2\n    dz1 = da1 * slope"),
    )  # fmt: skip
    line, loss = line_of(text, "da1 = "), line_of(text, "loss = np.mean")
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == (
        "da1", line, (line, line_of(text, "W1 -= lr")), "wrong-derivative"
    )
    assert finding.measured == pytest.approx(result.first_wrong_adjoint[1].error)
    assert finding.message == (
        f"`da1` (line {line}) is not the gradient of your loss with respect to `a1`, although `da2` and `dz2`, which "
        f"it is computed from, are right, so the updates of `W1` in your training step do not follow the gradient of "
        f"`loss` (line {loss}): `a1` feeds `z2` and `a2` (lines {line_of(text, 'z2 = a1 @')}, "
        f"{line_of(text, 'a2 = np.tanh')}), so `da1` must be `dz2` × ∂`z2`/∂`a1` + `da2` × ∂`a2`/∂`a1`"
    )


# --------------------------------------------------------------------------- adjoints inside the program's own methods


INNER = """\
import numpy as np


class Net:
    def __init__(self):
        rng = np.random.default_rng(4)
        self.params = {'W1': rng.standard_normal((3, 8)) * 0.5, 'W2': rng.standard_normal((8, 1)) * 0.5}

    def loss_and_gradient(self, X, y):
        W1, W2 = self.params['W1'], self.params['W2']
        h = np.tanh(X @ W1)
        pred = h @ W2
        loss = np.mean((pred - y) ** 2)
        dpred = 2 * (pred - y) / len(X)
        dW2 = h.T @ dpred
        dh = (pred - y) ** 2 @ W2.T
        dz = dh * (1 - h ** 2)
        dW1 = X.T @ dz
        return loss, {'W1': dW1, 'W2': dW2}


np.random.seed(0)
X = np.random.randn(32, 3)
y = np.sin(X @ np.array([[1.0], [2.0], [-1.0]]))
net = Net()
for epoch in range(20):
    loss, grads = net.loss_and_gradient(X, y)
    for k in net.params:
        net.params[k] -= 0.05 * grads[k]
"""

ATTRIBUTES = (
    ("self.params = {'W1': rng.standard_normal((3, 8)) * 0.5, 'W2': rng.standard_normal((8, 1)) * 0.5}",
     "self.W1, self.W2 = rng.standard_normal((3, 8)) * 0.5, rng.standard_normal((8, 1)) * 0.5"),
    ("self.params['W1'], self.params['W2']", "self.W1, self.W2"),
    ("    for k in net.params:\n        net.params[k] -= 0.05 * grads[k]\n",
     "    net.W1 -= 0.05 * grads['W1']\n    net.W2 -= 0.05 * grads['W2']\n"),
)  # fmt: skip


@pytest.mark.parametrize("held, edits", [("net.params['W1']", ()), ("net.W1", ATTRIBUTES)])
def test_a_wrong_adjoint_inside_a_method_names_the_right_ones_but_no_parameter_gradient(tmp_path, held, edits):
    """`dW2` is measured right inside the method, but it is `W2`'s gradient (a parameter's, held as
    `net.params['W2']` or `net.W2`), not one of the adjoints the chain runs through."""
    text, [result], [finding] = replayed(tmp_path, INNER, *edits)
    assert [a.name for a, _ in result.adjoints] == ["dpred", "dW2", "dh"]
    line, loss = line_of(text, "dh = "), line_of(text, "loss, grads = ")
    assert (finding.param, finding.line, finding.pattern) == ("dh", line, "wrong-derivative")
    assert finding.message == (
        f"`dh` (line {line}) is not the gradient of your loss with respect to `h`, the first wrong one from the "
        f"loss backwards (`dpred` is right), so the updates of `{held}` in your training step do not follow the "
        f"gradient of `loss` (line {loss}): `h` feeds `pred` (line {line_of(text, 'pred = h @ W2')}), so `dh` must "
        "be `dpred` × ∂`pred`/∂`h`"
    )


def test_an_ascent_whose_inner_adjoint_is_wrong_is_told_against_the_negated_log_likelihood(tmp_path):
    from test_replay_functions import ASCENT

    text, [result], [finding] = replayed(tmp_path, ASCENT, ("dZ = (T - Y).dot(W2.T) * Z * (1 - Z)", "dZ = (T - Y).dot(W2.T) * Z"))
    line, cost = line_of(text, "dZ = (T - Y)"), line_of(text, "c = cost(T, output)")
    assert result.maximised
    assert (finding.param, finding.line, finding.pattern) == ("dZ", line, "wrong-derivative")
    climbed = f"−`c` (line {cost}: your loop climbs `c`)"
    assert finding.message == (
        f"`dZ` (line {line}) is not the gradient of your loss with respect to `Z`, so the updates of `W1` in your "
        f"training step do not follow the gradient of {climbed}: re-derive it as the derivative of {climbed} with "
        "respect to `Z`"
    )


# --------------------------------------------------------------------------- one factor for every update


def test_updates_off_by_nearly_one_factor_are_told_the_first_ones(tmp_path):
    """7 and 7.1 are one factor (within 3 %): the warning names the first update's, 7."""
    text, [result], [finding] = replayed(
        tmp_path, LINEAR,
        ("dW2 = h.T @ (2 * (pred - y) / len(X))", "dW2 = h.T @ (14 * (pred - y) / len(X))"),
        ("dW1 = X.T @ ((2 * (pred - y) / len(X))", "dW1 = X.T @ ((14.2 * (pred - y) / len(X))"),
    )  # fmt: skip
    assert [round(m.factor, 6) for _, m in result.wrong] == [7.0, 7.1]
    assert finding.measured == pytest.approx(7.0)
    assert finding.message.startswith(
        f"every update of your training step (`W2`, `W1`, line {line_of(text, 'W2 -= lr')}) follows 7 × the gradient "
        "of your loss, `loss` (line 12): training works as if the learning rate were multiplied by 7; "
    )


def test_updates_two_percent_off_are_close_to_the_gradient_and_the_factor_is_to_be_removed(tmp_path):
    text, _, [finding] = replayed(tmp_path, LINEAR, (ERROR, "2.04 * (pred - y) / len(X)"))
    assert (finding.severity, finding.pattern) == ("warning", "wrong-derivative")
    assert finding.message == (
        f"every update of your training step (`W2`, `W1`, line {line_of(text, 'W2 -= lr')}) follows close to, but "
        "not, the gradient of your loss, `loss` (line 12): training works as if the learning rate were multiplied "
        "by 1.02; remove the factor, or compute the loss the gradients belong to"
    )


def with_methods(methods: str) -> str:
    """DROPOUT_NET with other methods after its `__init__` (the data and the loop kept)."""
    start, end = DROPOUT_NET.index("    def forward"), DROPOUT_NET.index("\n\nnp.random.seed(0)")
    return DROPOUT_NET[:start] + methods + DROPOUT_NET[end:]


METHOD_LOSS = with_methods("""\
    def loss(self, X, y):
        return np.mean((np.maximum(0, X @ self.W1) @ self.W2 - y) ** 2)

    def gradient(self, X, y):
        h = np.maximum(0, X @ self.W1)
        pred = h @ self.W2
        return X.T @ (2 * (pred - y) / len(X) @ self.W2.T * (h > 0)) * -3.0, h.T @ (2 * (pred - y) / len(X)) * -3.05
""")


def test_a_method_loss_whose_updates_share_one_negative_factor_is_reported(tmp_path):
    """-3 and -3.05 are one factor (1.7 % apart): the gradients, not two modes of one network, are wrong."""
    text, [result], [finding] = replayed(tmp_path, METHOD_LOSS)
    assert [round(m.factor, 6) for _, m in result.wrong] == [-3.0, -3.05] and result.common_factor is None
    line, updates = line_of(text, "dW1, dW2 = "), (line_of(text, "net.W1 -= "), line_of(text, "net.W2 -= "))
    assert (finding.param, finding.line, finding.highlight, finding.pattern) == ("net.W1", line, (line, *updates), "sign-flipped")
    assert finding.message == (
        f"the updates of `net.W1` and `net.W2` in your training step (lines {updates[0]}, {updates[1]}) use `dW1` and "
        f"`dW2`, computed at line {line}, which are -3 × the gradients of your loss: their sign is flipped: negate them "
        "and check their scale"
    )


def test_two_gradients_on_one_line_off_by_the_batch_size_are_divided_together(tmp_path):
    text, _, [finding] = replayed(
        tmp_path, SCRIPT,
        ("dW1 = X.T @ dz1\n    db1 = dz1.sum(axis=0)", "dW1, db1 = len(X) * X.T @ dz1, len(X) * dz1.sum(axis=0)"),
    )  # fmt: skip
    line, updates = line_of(text, "dW1, db1 = "), (line_of(text, "W1 -= lr"), line_of(text, "b1 -= lr"))
    assert (finding.param, finding.line, finding.pattern) == ("W1", line, "scaled-by-batch-size")
    assert finding.message == (
        f"the updates of `W1` and `b1` in your training step (lines {updates[0]}, {updates[1]}) use `dW1` and `db1`, "
        f"computed at line {line}, which are 48 × the gradients of your loss (48 is the batch size): divide them by "
        "the batch size (48)"
    )


def test_a_method_loss_whose_updates_are_off_by_unrelated_factors_is_not_blamed_on_the_gradients(tmp_path):
    """Two functions (a mode, other samples), not wrong gradients: a note that says so, never an error, and
    never nothing beside the measured disagreement."""
    text, [result], found = replayed(tmp_path, METHOD_LOSS, ("* -3.0,", "* 2.0,"), ("* -3.05\n", "* 5.0\n"))
    assert [round(m.factor, 6) for _, m in result.wrong] == [2.0, 5.0] and all(m.proportional for _, m in result.wrong)
    (note,) = found
    updates = (line_of(text, "net.W1 -= "), line_of(text, "net.W2 -= "))
    assert (note.severity, note.pattern, note.param, note.line, note.highlight) == ("info", "another-function", "net.W1", updates[0], updates)
    assert note.message.startswith(
        f"the updates of `net.W1` and `net.W2` in your training step (lines {updates[0]}, {updates[1]}) do not follow "
    )
    assert "each by a factor of its own (2, 5): read as your loss method computing otherwise than your gradients" in note.message


def test_a_method_loss_whose_every_update_climbs_it_is_blamed_on_the_gradients(tmp_path):
    """-2 and -5: unrelated factors, but another mode or other samples still leave a gradient that points downhill."""
    _, [result], found = replayed(tmp_path, METHOD_LOSS, ("* -3.0,", "* -2.0,"), ("* -3.05\n", "* -5.0\n"))
    assert [round(m.factor, 6) for _, m in result.wrong] == [-2.0, -5.0]
    assert found and {f.severity for f in found} == {"error"}


# --------------------------------------------------------------------------- a program that computes no loss


NO_LOSS = (("    loss = np.mean((pred - y) ** 2)\n", "    err = pred - y\n"),)


def test_a_wrong_gradient_is_told_against_the_loss_the_output_error_implies(tmp_path):
    text, [result], [finding] = replayed(
        tmp_path, LINEAR, *NO_LOSS,
        ("dW2 = h.T @ (2 * (pred - y) / len(X))", "dW2 = h.T @ err"),
        ("dW1 = X.T @ ((2 * (pred - y) / len(X)) @ W2.T)", "dW1 = X.T @ (err @ W2.T) + 0.1"),
    )  # fmt: skip
    line, update, error = line_of(text, "dW1 = "), line_of(text, "W1 -= lr"), line_of(text, "err = pred - y")
    assert result.loss.implied == "squared error"
    assert (finding.param, finding.line, finding.pattern) == ("W1", line, "wrong-derivative")
    assert finding.message == (
        f"the update of `W1` in your training step (line {update}) uses `dW1`, computed at line {line}, which is not "
        "the gradient of your loss: recompute it as the derivative of squared error 0.5·Σ(pred − y)², the loss your "
        f"output error at line {error} implies (your program computes none) with respect to `W1`"
    )


def test_updates_that_fit_none_of_the_implied_losses_are_a_warning_at_the_first_update(tmp_path):
    """The sign of the error is the gradient of an absolute error, none of the usual losses."""
    text, [result], [finding] = replayed(
        tmp_path, LINEAR, *NO_LOSS,
        ("dW2 = h.T @ (2 * (pred - y) / len(X))", "dW2 = h.T @ np.sign(err)"),
        ("dW1 = X.T @ ((2 * (pred - y) / len(X)) @ W2.T)", "dW1 = X.T @ (np.sign(err) @ W2.T)"),
    )  # fmt: skip
    update, error = line_of(text, "W2 -= lr"), line_of(text, "err = pred - y")
    assert (result.unfitted, result.parameters) == (["W2", "W1"], [])
    assert (finding.severity, finding.param, finding.file, finding.line, finding.highlight, finding.pattern) == (
        "warning", "W2", str(tmp_path / "train.py"), update, (error, update), "no-usual-loss"
    )
    assert finding.message == (
        f"your program computes no loss, and the updates of `W2` and `W1` in your training step (line {update}) "
        f"follow none of the losses its output error (line {error}) implies (squared error, binary cross-entropy, "
        "cross-entropy): a gradient of the step is wrong, or its loss is an unusual one; compute the loss in the "
        "loop so backprop-doctor can tell which"
    )


# --------------------------------------------------------------------------- two training loops


WRONG_TANH = ("dz1 = da1 * (1 - a1 ** 2)", "dz1 = da1 * (1 - a1)")


def second_loop(*edits: tuple[str, str]) -> str:
    """LINEAR's loop, then the tanh/sigmoid script's, the second with a wrong tanh derivative."""
    first = LINEAR
    for old, new in edits:
        first = first.replace(old, new)
    return first + SCRIPT.replace("import numpy as np\n", "").replace(*WRONG_TANH)


def test_a_second_training_loop_is_checked_after_a_first_one_that_is_right(tmp_path):
    """Each loop's batch is its own: the first loop's 40-row arrays (`h`, `pred`), still in the
    namespace, are no batch of the second (48 rows)."""
    text, results, [finding] = replayed(tmp_path, second_loop())
    assert [bool(r.wrong) for r in results] == [False, True]
    assert [r.batch_sizes for r in results] == [(40,), (48,)]
    assert (finding.param, finding.line) == ("dz1", line_of(text, WRONG_TANH[1]))


def test_a_known_gradient_error_silences_a_loop_without_a_culprit_but_not_the_next_loops_culprit(tmp_path):
    """An error of the gradient engine already says a gradient is wrong: the first loop (every update
    3 ×, no adjoint to blame) adds nothing, the second names its wrong adjoint all the same."""
    from backprop_doctor.rules import rule

    text = second_loop((ERROR, "6 * (pred - y) / len(X)"))
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    source, _ = read_source(str(path))
    context = CheckContext(options=Options(training=False), source=source)
    context.extras["replay"] = results = replay_file(source, 10.0, seed=0, curve=False, measure=True)
    # the known error sits in code the first loop runs (a wrong gradient that never runs in a loop explains none of it)
    known = line_of(text, "6 * (pred - y) / len(X)")
    context.findings = [rule("gradient-mismatch").finding("a layer's gradient is wrong", severity="error", file=str(path), line=known)]
    assert [r.first_wrong_adjoint is None for r in results] == [True, False]
    [finding] = step_gradient_mismatch.run(context)
    assert (finding.param, finding.line) == ("dz1", line_of(text, WRONG_TANH[1]))


# --------------------------------------------------------------------------- a series no gate is named after


def gateless(*edits: tuple[str, str]) -> str:
    """The RNN with its hidden state stored as `qs` and its gradients `dq`, `dqraw`, `dqnext`: no gate's name."""
    import re

    rnn, _ = rnn_texts()
    for old, new in edits:
        assert old in rnn, old
        rnn = rnn.replace(old, new)
    rnn = re.sub(r"\bhs\b", "qs", rnn)
    return re.sub(r"\bdh(raw|next)?\b", lambda m: "dq" + (m.group(1) or ""), rnn)


def test_a_wrong_derivative_of_a_series_with_no_gate_name_names_no_gate(tmp_path):
    text, _, [finding] = replayed(tmp_path, gateless(("dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = (1 - hs[t]) * dh")))
    line = line_of(text, "dqraw = (1 - qs[t]) * dq")
    assert finding.message.startswith(
        f"at time step 8 (the last one, where the backward pass starts), `dqraw` (line {line}) is not the gradient "
        f"of `loss` (line {line_of(text, '= lossFun(')}) with respect to `qs[8]` nor to its pre-activation, although "
        "`dy` and `dq` at that step are right, "
    )


def test_a_carried_gradient_of_a_series_with_no_gate_name_names_no_gate(tmp_path):
    text, _, [finding] = replayed(tmp_path, gateless(("dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)")))
    assert finding.pattern == "through-time"
    assert finding.message.startswith(
        f"`dq` (line {line_of(text, 'dq = np.dot(Why.T, dy)')}) is wrong first at time step 7 of 0..8, although every "
        f"gradient of time step 8 is right: `dqnext` (line {line_of(text, 'dqnext = np.dot(Whh, dqraw)')}), "
    )


# --------------------------------------------------------------------------- a series named after no adjoint


def renamed(series: str, *edits: tuple[str, str]) -> str:
    """The RNN with its hidden states stored as `series` (its gradients still `dh`, `dhraw`, `dhnext`)."""
    import re

    rnn, _ = rnn_texts()
    for old, new in edits:
        assert old in rnn, old
        rnn = rnn.replace(old, new)
    return re.sub(r"\bhs\b", series, rnn)


@pytest.mark.parametrize("series", ["states", "memory"])
def test_a_wrong_derivative_is_found_through_time_whatever_the_series_is_called(tmp_path, series):
    """`dh` pairs with `hs` by name; stored as `states`, the series is paired by use (`dhraw` reads
    `states[t]` and `dh` in one statement) and shape, and the walk backwards through time still runs."""
    text, [result], [finding] = replayed(tmp_path, renamed(series, ("dhraw = (1 - hs[t] * hs[t]) * dh", "dhraw = (1 - hs[t]) * dh")))
    line = line_of(text, f"dhraw = (1 - {series}[t]) * dh")
    assert [(a.name, a.adjoint.series) for a, _ in result.adjoints] == [("dy", "ys"), ("dh", series), ("dhraw", series)]
    assert (finding.param, finding.line, finding.pattern) == ("dhraw", line, "wrong-derivative")
    assert finding.message == (
        f"at time step 8 (the last one, where the backward pass starts), `dhraw` (line {line}) is not the gradient "
        f"of `loss` (line {line_of(text, '= lossFun(')}) with respect to `{series}[8]`, the hidden state, nor to its "
        "pre-activation, although `dy` and `dh` at that step are right, so the updates of `Wxh`, `Whh`, `bh` in "
        f"your training step do not follow the gradient: re-derive `dhraw` from the forward statement of "
        f"`{series}[t]` (line {line_of(text, f'{series}[t] = np.tanh')})"
    )


def test_a_transposed_carried_gradient_is_found_through_time_with_the_series_called_states(tmp_path):
    """`xs[t]` is read beside `dhraw` too (in `dWxh`'s statement): that pairing is dropped by its
    shape, and every gradient is measured once a step."""
    text, [result], [finding] = replayed(tmp_path, renamed("states", ("dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)")))
    assert [(a.name, a.step) for a, _ in result.adjoints] == [("dy", 8), ("dh", 8), ("dhraw", 8), ("dy", 7), ("dh", 7)]
    assert (finding.param, finding.line, finding.pattern) == ("dh", line_of(text, "dhnext = np.dot(Whh, dhraw)"), "through-time")
    assert "with respect to `states[7]` through the next step" in finding.message


def test_the_correct_rnn_with_its_series_called_states_gets_nothing(tmp_path):
    assert replayed(tmp_path, renamed("states"))[2] == []
