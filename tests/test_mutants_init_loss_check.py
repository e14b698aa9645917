"""init-loss (BPD502): the cases its mutation run showed no test telling apart.

The book-style network of `tests/test_init_loss_findings.py`, varied one way at a time and
checked in-process by `check_file`: a large weight decay added to `loss()` (only the data term
counts), a loss layer that keeps its probabilities in a tuple (the batch-wide softmax is
blamed although no softmax finding names it), weights that are a fixed array (no constructor
argument to blame), a loss formula three times too large (its evidence) and three networks in
one script (one without a cross-entropy, one fine, one with large weights: only the last is
reported). Every line is found in the file's text; every number is read from the finding.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from test_init_loss_findings import LN3, NET, PER_ROW, initial_loss, line_of, spread_of

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "init-loss"
BASE = NET.format(axis=PER_ROW, std=0.01)


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def edited(*edits: tuple[str, str]) -> str:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def findings(tmp_path: Path, text: str):
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, Options(training=False))
    assert "internal_errors" not in report.extras, report.extras.get("internal_errors")
    return str(path), report.by_name(RULE)


LOSS = "return self.lastLayer.forward(self.predict(x), t)\n"


@pytest.mark.parametrize("decay", ["1e4", "0.0"])
def test_only_the_data_term_of_the_loss_counts_a_weight_decay_does_not(tmp_path, decay):
    """`loss()` adds 0.5 · 1e4 · Σ W² (about 12 with these weights): the loss layer alone starts
    at ln 3, so nothing is reported, as without the decay."""
    text = edited((LOSS, f"return self.lastLayer.forward(self.predict(x), t) + 0.5 * {decay} * np.sum(self.params['W'] ** 2)\n"))
    assert findings(tmp_path, text)[1] == []


TUPLE = (
    "        self.y, self.t = softmax(x), t\n        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]",
    "        e = np.exp(x - np.max(x))\n        p = e / np.sum(e)\n        self.cache = (p, t)\n"
    "        return -np.sum(t * np.log(p + 1e-7)) / x.shape[0]",
)
TUPLE_BACKWARD = (
    "        return dout * (self.y - self.t) / self.t.shape[0]",
    "        p, t = self.cache\n        return dout * (p - t) / t.shape[0]",
)


def test_a_loss_near_ln_n_c_blames_the_softmax_even_when_no_softmax_finding_names_it(tmp_path):
    """The probabilities live in a tuple (`self.cache`), which the softmax check does not read:
    the loss alone, about ln(5·3), says the softmax runs over the whole batch. The finding points
    at the loss layer's own normalisation (its sum), highlights its max too, and rewrites both."""
    text = edited(TUPLE, TUPLE_BACKWARD)
    path, [finding] = findings(tmp_path, text)
    loss = LN3 + finding.measured
    shift, total = line_of(text, "e = np.exp(x - np.max(x))"), line_of(text, "p = e / np.sum(e)")
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("Net", path, total, (shift, total))
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes (line {total}): "
        f"{loss:.2f} ≈ ln(N·C) = ln(5·3) = {math.log(15):.2f}, the loss of a softmax over the whole batch; "
        "normalise each row in the softmax, not the whole batch"
    )
    assert finding.fix == "e = np.exp(x - np.max(x, axis=1, keepdims=True))\np = e / np.sum(e, axis=1, keepdims=True)"
    assert finding.evidence == (
        ("initial loss", initial_loss(text, loss, 5, std=0.01)),
        ("scores", f"standard deviation of the scores at initialisation: {spread_of(finding):.3g}"),
    )


def test_a_batch_wide_loss_with_no_reduction_to_rewrite_points_at_the_loss_layers_forward(tmp_path):
    """The loss layer's forward divides by a sum its helper computes (`total(e)`, not softmax-named):
    nothing in the forward itself to rewrite, so its `def` line and the generic fix."""
    helper = "def total(a):\n    return np.sum(a)\n\n\nclass SoftmaxWithLoss:"
    text = edited(
        TUPLE, TUPLE_BACKWARD, ("class SoftmaxWithLoss:", helper), ("p = e / np.sum(e)", "p = e / total(e)"),
        ("np.exp(x - np.max(x))", "np.exp(x)"),
    )  # fmt: skip
    path, [finding] = findings(tmp_path, text)
    forward = line_of(text, "def forward(self, x, t):")
    assert (finding.file, finding.line, finding.highlight) == (path, forward, (forward,))
    assert f"for 3 classes (line {forward}): " in finding.message
    assert finding.fix == "exp_x / np.sum(exp_x, axis=-1, keepdims=True)"


def test_weights_that_are_a_fixed_array_are_blamed_without_naming_the_constructor_argument(tmp_path):
    """`weight_init_std` is not used to make these weights: naming it (it is already 0.01) would
    change nothing, so the fix is a small random initialisation."""
    fixed = "'W': np.linspace(-40.0, 40.0, input_size * output_size).reshape(input_size, output_size)"
    text = edited(("'W': weight_init_std * np.random.randn(input_size, output_size)", fixed))
    path, [finding] = findings(tmp_path, text)
    loss, init = LN3 + finding.measured, line_of(text, "def __init__(self, input_size, output_size")
    assert (finding.file, finding.line, finding.highlight) == (path, init, (init,))
    assert finding.message == (
        f"the loss at initialisation is {loss:.2f}, expected about ln 3 = 1.10 for 3 classes: the scores have "
        f"standard deviation {spread_of(finding):.3g}, so the softmax is already confident, and wrong, before "
        "training; start from smaller weights in `Net.__init__`"
    )
    assert finding.fix == "W = 0.01 * np.random.randn(n_in, n_out)"


def test_a_loss_formula_too_large_has_the_initial_loss_and_the_scores_as_evidence(tmp_path):
    text = edited(("return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]", "return -np.sum(t * np.log(self.y + 1e-7)) * 3.0"))
    _, [finding] = findings(tmp_path, text)
    loss = LN3 + finding.measured
    assert finding.evidence == (
        ("initial loss", initial_loss(text, loss, 5, std=0.01)),
        ("scores", f"standard deviation of the scores at initialisation: {spread_of(finding):.3g}"),
    )
    assert (finding.measured, finding.threshold) == (pytest.approx(abs(loss - LN3)), pytest.approx(LN3))


OTHERS = '''

class SquaredLoss:
    def forward(self, x, t):
        self.diff = x - t
        return 0.5 * np.sum(self.diff ** 2) / x.shape[0]

    def backward(self, dout=1):
        return dout * self.diff / self.diff.shape[0]


class Regressor(Net):
    def __init__(self, input_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, output_size, weight_init_std)
        self.lastLayer = SquaredLoss()


class BigNet(Net):
    pass
'''


def test_of_three_networks_only_the_one_with_large_weights_is_reported(tmp_path):
    """A regressor (which `check_file` does not build as a network: a network without a
    cross-entropy is tested on its own below), a well-started `Net` and a `BigNet` drawn with
    `weight_init_std=10.0`, in that order: none stops the others being checked."""
    script = "    net = Net(input_size=8, output_size=3, weight_init_std=0.01)\n"
    text = edited(
        ("\n\nif __name__ == '__main__':", OTHERS + "\n\nif __name__ == '__main__':"),
        (script, "    reg = Regressor(input_size=8, output_size=3, weight_init_std=10.0)\n" + script
         + "    big = BigNet(input_size=8, output_size=3, weight_init_std=10.0)\n"),
    )  # fmt: skip
    path, [finding] = findings(tmp_path, text)
    line = line_of(text, "'W': weight_init_std * np.random.randn")
    assert (finding.layer, finding.file, finding.line) == ("BigNet", path, line)
    assert finding.message.endswith(
        f"(line {line}; `weight_init_std` is 10.0, try 0.01): the scores have standard deviation "
        f"{spread_of(finding):.3g}, so the softmax is already confident, and wrong, before training; start from "
        "smaller weights in `BigNet.__init__`"
    )
    assert finding.fix == "BigNet(..., weight_init_std=0.01)"


def test_only_a_network_ending_in_a_cross_entropy_is_measured():
    """The loss of a network ending in a squared error (or in nothing) says nothing about ln C."""
    from types import SimpleNamespace

    from backprop_doctor.checks.init_loss import _cross_entropy

    def ending_in(layer):
        return SimpleNamespace(last_layer=lambda: None if layer is None else ("lastLayer", layer))

    class SoftmaxWithLoss:
        pass

    class SquaredLoss:
        pass

    assert [_cross_entropy(ending_in(layer)) for layer in (SoftmaxWithLoss(), SquaredLoss(), None)] == [True, False, False]
