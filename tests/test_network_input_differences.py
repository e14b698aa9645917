"""The network's forward differences that move its input too (`engine.LayerCheck._clean_with_input`).

Two parts. The pure functions it is built of (`engine._part_sizes`, `engine._rounding_limited`,
`engine._input_step`) at their boundaries, with every expected value computed here from the
formula in their docstrings. Then `check_network` on small book-style networks written here: a
clean one whose first layer is settled by the network, first layers whose dx is wrong (by half,
by a thousandth, infinite, misshapen, of another dtype), a network whose loss moves by rounding,
inputs and parameters of very different sizes, and a first layer that writes into its input
only once the network's check has started.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import engine

EPS = float(np.finfo(np.float64).eps)

# ----------------------------------------------------------------------------------------------
# the pure functions


def array(name, values, grad, scale):
    a = engine._Array(name, np.asarray(values, dtype=np.float64), np.asarray(grad, dtype=np.float64))
    a.scale = scale
    return a


def test_part_sizes_are_each_parts_step_scale_times_its_gradients_norm():
    """sqrt(Σ scale²·|g|²) over the parameters, scale·|dx| for the input. Scales of 0.5 and 3 (where
    scale², 2·scale and scale³ all differ) and gradients of norms 5, 13 and 2 tell every term apart."""
    W = array("W", np.ones((2, 2)), [[3.0, 4.0], [0.0, 0.0]], 0.5)  # |g| = 5
    b = array("b", np.ones(2), [5.0, 12.0], 3.0)  # |g| = 13
    x = array("x", np.ones(3), [0.0, 2.0, 0.0], 0.25)  # |dx| = 2
    params, inputs = engine._part_sizes([W, b], x)
    assert params == pytest.approx(math.sqrt(0.5**2 * 25 + 3.0**2 * 169), rel=1e-15)
    assert inputs == pytest.approx(0.25 * 2.0, rel=1e-15)


def test_part_sizes_of_zero_gradients_are_zero():
    W = array("W", np.ones(2), np.zeros(2), 1.5)
    x = array("x", np.ones(2), np.zeros(2), 0.5)
    assert engine._part_sizes([W], x) == (0.0, 0.0)


# f0, h, spread, tol chosen as powers of two (and 10 · 2**-2, exact in binary) so the threshold
# 10·eps·|f0| / h = tol·spread is met exactly: 10 · 2**-52 · 2**40 / 2**-10 = 2.5 = 0.5 · 5
F0, H, SPREAD, TOL = 2.0**40, 2.0**-10, 5.0, 0.5


def test_rounding_limited_is_decided_at_ten_eps_f0_over_h_against_tol_times_spread():
    assert 10 * EPS * F0 / H == TOL * SPREAD  # the boundary itself: not limited (strictly greater is)
    assert not engine._rounding_limited(F0, H, SPREAD, TOL)
    assert not engine._rounding_limited(-F0, H, SPREAD, TOL)  # |f0|
    above = F0 * (1 + 2**-20)
    assert engine._rounding_limited(above, H, SPREAD, TOL)
    assert engine._rounding_limited(-above, H, SPREAD, TOL)
    assert not engine._rounding_limited(F0 * (1 - 2**-20), H, SPREAD, TOL)
    # 11·eps instead of 10 would be limited at 0.95·F0 (2.6125 > 2.5); a step multiplied in, or
    # |f0| divided, would not be at 1.2·F0
    assert not engine._rounding_limited(F0 * 0.95, H, SPREAD, TOL)
    assert engine._rounding_limited(F0 * 1.2, H, SPREAD, TOL)


def test_rounding_limited_scales_with_the_step_and_tol_times_spread():
    # a step 4 times larger, or tol·spread 4 times larger, moves the boundary to 4·F0
    assert not engine._rounding_limited(3.9 * F0, 4 * H, SPREAD, TOL)
    assert engine._rounding_limited(4.1 * F0, 4 * H, SPREAD, TOL)
    assert not engine._rounding_limited(3.9 * F0, H, 4 * SPREAD, TOL)
    assert engine._rounding_limited(4.1 * F0, H, SPREAD, 4 * TOL)
    # tol / spread (0.1 instead of 2.5) would call a loss of a twentieth of the boundary limited
    assert not engine._rounding_limited(F0 / 20, H, SPREAD, TOL)


def test_rounding_limited_at_a_zero_loss_a_zero_or_nan_spread_and_an_infinite_loss():
    assert not engine._rounding_limited(0.0, H, SPREAD, TOL)  # no rounding to speak of
    assert not engine._rounding_limited(0.0, H, 0.5, TOL)  # a spread below 1 is still a spread
    assert engine._rounding_limited(0.0, H, 0.0, TOL)  # no slope to resolve
    assert engine._rounding_limited(0.0, H, -1.0, TOL)
    assert engine._rounding_limited(0.0, H, float("nan"), TOL)
    assert engine._rounding_limited(float("inf"), H, SPREAD, TOL)
    # a tiny loss is not limited even for a tiny step (a loss divided in would be huge)
    assert not engine._rounding_limited(2.0**-40, 2.0**-30, 1.0, 1e-5)


def step(f0, h, spread, tol):
    """`_input_step`'s docstring: the step at which rounding, 100·eps·|f0| / step, is tol·spread,
    kept between h / INPUT_NARROWING and h."""
    return min(h, max(h / engine.INPUT_NARROWING, 100 * EPS * abs(f0) / (tol * spread)))


def test_the_input_step_is_where_rounding_is_a_hundredth_of_tol_times_spread_between_its_clamps():
    h, spread, tol = 1e-3, 4.0, 1e-5
    # rounding allows h / 4 here: f0 with 100·eps·|f0| / (tol·spread) = h / 4
    f0 = (h / 4) * tol * spread / (100 * EPS)
    assert engine._input_step(f0, h, spread, tol) == pytest.approx(h / 4, rel=1e-12)
    assert engine._input_step(-f0, h, spread, tol) == pytest.approx(h / 4, rel=1e-12)
    assert engine._input_step(f0, h, spread, tol) == pytest.approx(step(f0, h, spread, tol), rel=1e-15)
    assert engine.INPUT_NARROWING == 10


@pytest.mark.parametrize(
    ("f0", "expected"),
    [(0.0, "floor"), (1e-30, "floor"), (1e30, "h"), (float("inf"), "h")],
    ids=["zero loss", "tiny loss", "huge loss", "infinite loss"],
)
def test_the_input_step_is_clamped_to_a_tenth_of_h_and_to_h(f0, expected):
    h, spread, tol = 1e-3, 4.0, 1e-5
    assert engine._input_step(f0, h, spread, tol) == {"floor": h / engine.INPUT_NARROWING, "h": h}[expected]


def test_the_input_step_just_inside_each_clamp():
    h, spread, tol = 1e-3, 4.0, 1e-5
    at = (h / engine.INPUT_NARROWING) * tol * spread / (100 * EPS)  # the loss at which the floor is met
    assert engine._input_step(1.01 * at, h, spread, tol) == pytest.approx(1.01 * h / 10, rel=1e-12)
    assert engine._input_step(0.99 * at, h, spread, tol) == h / 10
    top = h * tol * spread / (100 * EPS)  # the loss at which h is met
    assert engine._input_step(0.99 * top, h, spread, tol) == pytest.approx(0.99 * h, rel=1e-12)
    assert engine._input_step(1.01 * top, h, spread, tol) == h


# ----------------------------------------------------------------------------------------------
# check_network on networks written here

NETWORK = '''\
from collections import OrderedDict

import numpy as np


class Affine:
    def __init__(self, W, b=None):
        self.W, self.b = W, b
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        out = x @ self.W
        return out if self.b is None else out + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        if self.b is not None:
            self.db = dout.sum(axis=0)
        return dout @ self.W.T


class HalfDx(Affine):
    def backward(self, dout):
        return 0.5 * super().backward(dout)  # half the first layer's dx


class SlightlyOffDx(Affine):
    def backward(self, dout):
        return 1.001 * super().backward(dout)  # a thousandth too large


class InfiniteDx(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        dx[0, 0] = np.inf  # one element of the input's gradient overflows
        return dx


class FlatDx(Affine):
    def backward(self, dout):
        return super().backward(dout).ravel()  # the input's gradient flattened


class Float32Dx(Affine):
    def backward(self, dout):
        return super().backward(dout).astype(np.float32)  # the input's gradient in float32


class CentresItsInputLater(Affine):
    calls = 0

    def forward(self, x):
        CentresItsInputLater.calls += 1
        if CentresItsInputLater.calls > 2:
            x -= x.mean(axis=0)  # centres the network's input in place from its third forward on
        return super().forward(x)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class SoftmaxWithLoss:
    def forward(self, x, t):
        z = x - x.max(axis=1, keepdims=True)
        self.y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.t = t
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class Net:
    """Affine1 (first), then (Relu, Affine) per hidden width, then softmax-with-loss; weights of
    `scale`, the first layer's divided by `width` (for inputs multiplied by it: the same loss)."""

    def __init__(self, first=Affine, inputs=6, hidden=(5,), scale=0.3, width=1.0, copy_input=False, seed=0):
        rng = np.random.default_rng(seed)
        sizes = [inputs, *hidden, 3]
        self.params = {}
        self.layers = OrderedDict()
        for i, (m, n) in enumerate(zip(sizes, sizes[1:]), 1):
            self.params[f"W{i}"] = scale * rng.standard_normal((m, n)) / (width if i == 1 else 1.0)
            self.params[f"b{i}"] = np.zeros(n)
            if i > 1:
                self.layers[f"Relu{i - 1}"] = Relu()
            self.layers[f"Affine{i}"] = (first if i == 1 else Affine)(self.params[f"W{i}"], self.params[f"b{i}"])
        self.lastLayer = SoftmaxWithLoss()
        self.copy_input = copy_input

    def loss(self, x, t):
        if self.copy_input:
            x = x.copy()
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.lastLayer.forward(x, t)

    def backpropagate(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)

    def gradient(self, x, t):
        self.backpropagate(x, t)
        grads = {}
        for i in range(1, len(self.params) // 2 + 1):
            grads[f"W{i}"], grads[f"b{i}"] = self.layers[f"Affine{i}"].dW, self.layers[f"Affine{i}"].db
        return grads


class DeadInput(Net):
    """A ReLU first, on inputs that are all negative, then an Affine without a bias: every
    gradient is zero and the loss is log 3 whatever the weights."""

    def __init__(self):
        self.params = {"W": 0.3 * np.random.default_rng(0).standard_normal((4, 3))}
        self.layers = OrderedDict(Relu=Relu(), Affine=Affine(self.params["W"]))
        self.lastLayer = SoftmaxWithLoss()
        self.copy_input = False

    def gradient(self, x, t):
        self.backpropagate(x, t)
        return {"W": self.layers["Affine"].dW}
'''


@pytest.fixture
def user(tmp_path, monkeypatch):
    """The user's network module, written to a file and imported (its lines are real lines)."""
    path = tmp_path / "input_network.py"
    path.write_text(NETWORK, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("input_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.path = path
    return module


def line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def batch(inputs=6, size=8, width=1.0):
    rng = np.random.default_rng(1)
    return width * rng.standard_normal((size, inputs)), np.eye(3)[rng.integers(0, 3, size)]


def rows(report, layer):
    return {m.param: m.verdict for m in report.measurements if m.layer == layer}


def errors(report, layer):
    return {m.param: m.relative_error for m in report.measurements if m.layer == layer}


def test_a_clean_network_settles_its_first_layer_with_two_forward_differences(user):
    """No layer's own forward (their contracts are read from `gradient`'s calls: `api._network_first`),
    the network's first loss inside `gradient` (1) and exactly two forward differences through θ and x
    (`_clean_with_input` makes two, one evaluation each): 3. The input's row carries the input's
    error, held to EARLY_TWO of the first layer's tolerance relative to its own part's size; the
    network's input is handed back as it was, writable."""
    x, t = batch()
    given = x.copy()
    report = bd.check_network(user.Net(), x, t)
    assert report.ok and report.findings == []
    assert rows(report, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    assert report.extras["forward_evaluations"] == 1 + 2
    error = errors(report, "Affine1")["x"]
    assert 0 < error <= engine.EARLY_TWO * bd.Options().tolerance("float64")
    assert x.tobytes() == given.tobytes() and x.flags.writeable


@pytest.mark.parametrize("first", ["HalfDx", "SlightlyOffDx"])
def test_a_first_layer_whose_dx_is_wrong_is_found_at_its_line(user, first):
    """Half the dx, or a thousandth too much (a hundred times the tolerance), fails the input's
    forward differences: the first layer is checked again, whole, and its own probes find x wrong
    at the line that scales it, in the words `check_layer` gives the same layer alone."""
    x, t = batch()
    report = bd.check_network(user.Net(first=getattr(user, first)), x, t)
    (found,) = report.errors
    assert (found.name, found.layer, found.param) == ("gradient-mismatch", first, "x")
    assert found.line == line_of(user.path, f"class {first}") + 2
    params = user.Net().params
    (alone,) = bd.check_layer(getattr(user, first)(params["W1"], params["b1"]), x).errors
    assert (found.message, found.line) == (alone.message, alone.line)
    assert rows(report, first) == {"x": "mismatch", "W": "ok", "b": "ok"}


def test_a_network_at_a_small_scale_with_half_the_dx_is_found(user):
    """Weights of 0.01 make every slope about 1e-3 times what it is at 0.3 (not rounding-limited on
    one hidden layer): the error of half a dx is still half the input's part relative to the slope,
    whatever the slope's own size, and fails the input's forward differences."""
    x, t = batch()
    report = bd.check_network(user.Net(first=user.HalfDx, scale=0.01), x, t)
    assert [(f.name, f.layer, f.param) for f in report.errors] == [("gradient-mismatch", "HalfDx", "x")]


def test_a_clean_network_at_a_small_scale_is_settled_too(user):
    """The tolerance is scaled by the parts' ratio, not by their product: weights of 0.03 give parts
    of about 1e-3, and they settle a clean network as parts of about 0.1 do (3 evaluations, as
    above)."""
    x, t = batch()
    report = bd.check_network(user.Net(scale=0.03), x, t)
    assert report.ok and report.findings == []
    assert rows(report, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    assert report.extras["forward_evaluations"] == 3


@pytest.mark.parametrize("width", [1e-6, 1e6])
def test_inputs_of_any_width_are_stepped_at_their_width(user, width):
    """Inputs a million times narrower (or wider), with first-layer weights a million times wider
    (narrower): the same loss, and the input stepped at its own width, so the first layer is
    settled as at width 1 (a step of the weights' scale would move a narrow input by its whole
    width, or a wide one by nothing)."""
    x, t = batch(width=width)
    report = bd.check_network(user.Net(width=width), x, t)
    assert report.ok and report.findings == []
    assert rows(report, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    assert report.extras["forward_evaluations"] == 3


def test_a_rounding_limited_loss_skips_the_input_with_no_evaluation(user):
    """Three hidden layers at an initial scale of 1e-4: the loss moves in its last digits. The
    input's forward differences are skipped before any evaluation, and so are the parameters'
    (their analytic slopes show rounding would hide them): the network's central probes move the
    input with the parameters, and its first layer's own probe is read off them
    (`api._FirstLayerRider`). Its twin, which hands its first layer a copy of its input (no dx to
    compare), checks its first layer on its own instead: the same verdicts and findings, three
    evaluations more (the first layer's first forward and its one probe)."""
    x, t = batch()
    limited = bd.check_network(user.Net(hidden=(5, 5, 5), scale=1e-4), x, t)
    twin = bd.check_network(user.Net(hidden=(5, 5, 5), scale=1e-4, copy_input=True), x, t)
    assert rows(limited, "Affine1") == rows(twin, "Affine1") == {"x": "ok", "W": "ok", "b": "ok"}
    assert limited.extras["forward_evaluations"] == twin.extras["forward_evaluations"] - 3
    assert [(m.layer, m.param, m.verdict) for m in limited.measurements] == [(m.layer, m.param, m.verdict) for m in twin.measurements]
    assert limited.findings == twin.findings == []


def with_bias(net, value):
    net.params["b2"][:] = value  # the same loss (softmax is shift-invariant), a bias of width `value`
    return net


@pytest.mark.parametrize("bias", [10.0, 100.0])
def test_the_input_part_much_smaller_than_the_parameters_holds_dx_to_its_own_size(user, bias):
    """A last bias of width 10 or 100 (its step scale) makes the parameters' part 100 or 1,000 times
    the input's, with the same loss. The tolerance of the input's forward differences is that share
    of the first layer's: a dx a thousandth off fails them and is found by the first layer's own
    probes, where a tolerance not scaled down (or scaled up) would let it through. A clean network
    is not settled by the network either (the forward differences' curvature term is larger than
    so small a share of its tolerance); its own probes pass it."""
    x, t = batch()
    off = bd.check_network(with_bias(user.Net(first=user.SlightlyOffDx), bias), x, t)
    assert [(f.name, f.layer, f.param) for f in off.errors] == [("gradient-mismatch", "SlightlyOffDx", "x")]
    clean = bd.check_network(with_bias(user.Net(), bias), x, t)
    assert clean.ok and clean.findings == []
    assert rows(clean, "Affine1") == {"x": "ok", "W": "ok", "b": "ok"}


def same_rows():
    """Six copies of one input row, two targets of each class: the rows' gradients cancel in the
    parameters' (a sum over the batch), not in the input's (one row each)."""
    x = np.tile(np.random.default_rng(1).standard_normal((1, 6)), (6, 1))
    return x, np.eye(3)[[0, 1, 2, 0, 1, 2]]


def test_the_parameters_much_smaller_than_the_input_are_held_to_their_own_size(user):
    """The other way round: on `same_rows` the parameters' part is a fifth of the input's at weights
    of 0.3 and settles the clean network (3 evaluations); at 0.03 it is a five-hundredth, and a dx a
    thousandth off is found at its line."""
    x, t = same_rows()
    clean = bd.check_network(user.Net(), x, t)
    assert clean.ok and clean.findings == []
    assert rows(clean, "Affine1") == {"x": "ok (network)", "W": "ok (network)", "b": "ok (network)"}
    assert clean.extras["forward_evaluations"] == 3
    for scale in (0.3, 0.03):
        off = bd.check_network(user.Net(first=user.SlightlyOffDx, scale=scale), x, t)
        assert [(f.name, f.layer, f.param) for f in off.errors] == [("gradient-mismatch", "SlightlyOffDx", "x")]


@pytest.mark.parametrize("first", ["FlatDx", "Float32Dx"])
def test_a_first_layer_whose_dx_has_another_shape_or_dtype_gets_its_own_probes(user, first):
    """A dx of another shape or dtype is not the input's gradient to the network's check: the first
    layer is checked again, whole, with its own probes (a flattened dx is a shape finding at its
    line; a float32 dx of a float64 input compares within float32's rounding)."""
    x, t = batch()
    report = bd.check_network(user.Net(first=getattr(user, first)), x, t)
    assert "ok (network)" not in rows(report, first).values()
    if first == "FlatDx":
        (found,) = report.errors
        assert (found.name, found.layer, found.param) == ("gradient-shape-mismatch", first, "x")
        assert found.line == line_of(user.path, "return super().backward(dout).ravel()")
    else:
        assert rows(report, first)["W"] == "ok"


def test_an_infinite_dx_is_not_settled_by_the_network(user):
    """An infinite element in the first layer's dx makes the input's part infinite: no share to
    scale a tolerance by, so the network's check measures its own slope as before (a finite
    error) and the first layer is checked again, whole."""
    x, t = batch()
    report = bd.check_network(user.Net(first=user.InfiniteDx), x, t)
    assert "ok (network)" not in rows(report, "InfiniteDx").values()
    assert all(math.isfinite(m.relative_error) for m in report.measurements if m.layer == "Net")


def test_a_network_with_no_slope_at_all_is_checked_without_dividing_by_it(user):
    """Every gradient zero (a dead ReLU on negative inputs first, a bias-free Affine after it): both
    parts are zero, there is no share to take, and the network's check runs as before. The check
    completes with no error; nothing about the input is settled by the network."""
    x, t = batch(inputs=4)
    report = bd.check_network(user.DeadInput(), -np.abs(x) - 1.0, t)
    assert report.errors == []
    assert "ok (network)" not in rows(report, "Relu").values()


def test_a_first_layer_that_writes_into_its_input_only_later_is_caught_writing(user):
    """Its first two forwards (its own check's first, the network's first loss inside `gradient`)
    only read the input; every later one writes into it. The input is read-only whenever user code
    runs in the network's check (the forward differences make it writable only to step it), so the
    write raises and is reported as a write into the input at its line, as any write is, and the
    caller's batch is handed back as it was."""
    x, t = batch()
    given = x.copy()
    user.CentresItsInputLater.calls = 0
    report = bd.check_network(user.Net(first=user.CentresItsInputLater), x, t)
    names = {(f.name, f.layer) for f in report.findings}
    assert ("input-mutated", "CentresItsInputLater") in names, names
    (mutated,) = [f for f in report.findings if f.name == "input-mutated"]
    assert mutated.line == line_of(user.path, "x -= x.mean(axis=0)")
    assert x.tobytes() == given.tobytes() and x.flags.writeable
