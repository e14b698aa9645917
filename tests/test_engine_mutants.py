"""The engine's own machinery, pinned where its mutants survived (docs/TESTING.md, "seventh round"):
the random streams it keeps per seed, the names of dtypes, the jitter off a kink, the number of
forward evaluations a check costs, the findings for a missing or mistyped gradient, and layers
that write into arrays the check holds.

Everything runs in this process (mutation testing only sees in-process calls).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import engine
from backprop_doctor.conventions._classlayer import ClassLayer
from test_engine import Affine  # the suite's affine layer, as students write it


def line_of(function, text: str) -> int:
    """The line of this file where `text` is, inside `function`."""
    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


# -- the engine's random streams -------------------------------------------------------------


def test_a_stream_starts_where_a_fresh_generator_for_its_seed_starts_and_is_reset_when_handed_back():
    streams = engine._Streams()
    fresh = np.random.default_rng([7, engine.ENGINE_STREAM]).random(3)
    rng = streams.take(7)
    assert np.array_equal(rng.random(3), fresh)
    streams.give(7, rng)
    again = streams.take(7)
    assert again is rng and np.array_equal(again.random(3), fresh)  # the same generator, from its start
    other = streams.take(7)  # none free: a new one
    assert other is not rng and np.array_equal(other.random(3), fresh)


def test_streams_keep_four_generators_a_seed_and_sixteen_seeds():
    streams = engine._Streams()
    taken = [streams.take(1) for _ in range(6)]
    for rng in taken:
        streams.give(1, rng)
    assert len(streams.free[1]) == engine._Streams.KEEP == 4
    for seed in range(2, 17):
        streams.take(seed)
    assert len(streams.start) == 16 and streams.free[1]
    streams.take(99)  # a seventeenth seed: everything kept is dropped
    assert list(streams.start) == [99] and streams.free == {}
    streams.take(99)  # a known seed drops nothing
    assert list(streams.start) == [99]


def test_a_generator_of_an_unknown_seed_is_not_kept():
    streams = engine._Streams()
    streams.give(5, np.random.default_rng(0))
    assert streams.free[5] == []


def test_dtype_names_are_numpys_and_remembered():
    dtype = np.dtype(">f4")
    engine._DTYPE_NAMES.pop(dtype, None)  # not named yet
    assert engine._dtype_name(dtype) == ">f4"
    assert engine._DTYPE_NAMES[dtype] == ">f4" and engine._dtype_name(dtype) == ">f4"


def test_the_jitter_moves_every_element_by_a_thousandth_of_the_spread():
    x = np.array([[1.0, 3.0], [5.0, 7.0]])
    moved = engine._jitter(x, np.random.default_rng(3))
    expected = x + 1e-3 * float(np.std(x)) * np.random.default_rng(3).standard_normal(x.shape)
    assert np.array_equal(moved, expected)
    flat = np.full((2, 2), 4.0)  # no spread: a thousandth of one
    assert np.array_equal(engine._jitter(flat, np.random.default_rng(3)), flat + 1e-3 * np.random.default_rng(3).standard_normal((2, 2)))


# -- what a check costs ---------------------------------------------------------------------------


class AffineTwiceW(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = 2 * self.dW
        return dx


@pytest.fixture
def arrays():
    r = np.random.default_rng(0)
    return r.standard_normal((4, 3)), r.standard_normal(3), r.standard_normal((5, 4))


def test_a_clean_layer_costs_one_forward_and_one_probe(arrays):
    W, b, x = arrays
    report = bd.check_layer(Affine(W, b), x, seed=7)
    assert report.ok and report.extras["forward_evaluations"] == 3
    assert report.seed == 7


def test_a_clean_layer_asked_for_one_probe_costs_the_same_and_a_wrong_one_probes_every_direction(arrays):
    W, b, x = arrays
    assert bd.check_layer(Affine(W, b), x, probes=1).extras["forward_evaluations"] == 3
    wrong = bd.check_layer(AffineTwiceW(W, b), x, probes=3)
    assert not wrong.ok and [f.param for f in wrong.errors] == ["W"]
    # the arrays are probed one by one, every direction each, and the forward runs once more on the way to
    # naming the line (`injections.first_wrong` reads the backward's stages only once a gradient has failed)
    assert wrong.extras["forward_evaluations"] == 86
    assert bd.check_layer(AffineTwiceW(W, b), x, probes=1).extras["forward_evaluations"] == 70


# -- findings about the gradients' shapes and dtypes -------------------------------------------------


def affine_forward(x, W, b):
    return x @ W + b, (x, W)


def backward_without_dW(dout, cache):
    x, W = cache
    return dout @ W.T, None, dout.sum(axis=0)


def backward_with_float32_dW(dout, cache):
    x, W = cache
    return dout @ W.T, (x.T @ dout).astype(np.float32), dout.sum(axis=0)


def backward_with_integer_db(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, np.ones(3, dtype=int)


def test_a_parameter_with_no_gradient_is_named_and_the_others_are_still_checked(arrays):
    W, b, x = arrays
    report = bd.check_functions(affine_forward, backward_without_dW, x, W, b)
    [finding] = report.findings
    assert (finding.name, finding.severity, finding.param, finding.pattern) == ("gradient-shape-mismatch", "error", "W", "missing")
    assert finding.message == "`affine` computes no gradient for `W`: return or store one with shape (4, 3)"
    assert finding.line == line_of(backward_without_dW, "return dout @ W.T, None")
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok"), ("b", "ok")]


def test_a_gradient_in_another_float_dtype_is_named_and_still_compared(arrays):
    W, b, x = arrays
    report = bd.check_functions(affine_forward, backward_with_float32_dW, x, W, b)
    [finding] = report.findings
    assert (finding.name, finding.param) == ("gradient-dtype-mismatch", "W")
    assert finding.message == (
        "the gradient of `affine.W` is float32 but the parameter is float64: compute it in the parameter's dtype"
    )
    assert finding.line == line_of(backward_with_float32_dW, "astype(np.float32)")
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok"), ("W", "ok"), ("b", "ok")]


def test_an_integer_gradient_is_compared_as_floats_without_a_dtype_finding(arrays):
    W, b, x = arrays
    report = bd.check_functions(affine_forward, backward_with_integer_db, x, W, b)
    assert [(f.name, f.param) for f in report.findings] == [("gradient-mismatch", "b")]
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok"), ("W", "ok"), ("b", "mismatch")]


# -- layers that raise -----------------------------------------------------------------------------


class RaisesInBackward(Affine):
    def backward(self, dout):
        raise ValueError("not yet written")


class RaisesInForward(Affine):
    def forward(self, x):
        raise ValueError("not yet written")


@pytest.mark.parametrize(("layer", "phase"), [(RaisesInForward, "forward"), (RaisesInBackward, "backward")])
def test_a_layer_that_raises_at_its_first_call_is_told_the_pass(arrays, layer, phase):
    W, b, x = arrays
    [finding] = bd.check_layer(layer(W, b), x).findings
    assert finding.message.startswith(f"`{layer.__name__}.{phase}` raised ValueError (not yet written)")


def test_a_layer_that_raises_is_told_the_pass_and_the_input_shape(arrays):
    W, b, x = arrays
    [finding] = bd.check_layer(RaisesInBackward(W, b), x).findings
    assert finding.name == "layer-raised"
    assert finding.message.startswith("`RaisesInBackward.backward` raised ValueError")
    assert finding.message.endswith("on input of shape (5, 4): fix the backward pass so it runs on that input")


# -- a check's own copies --------------------------------------------------------------------------


def _check(layer, x, **fields):
    return engine.LayerCheck(ClassLayer(layer), x, **fields)


class Float32Out(Affine):
    def forward(self, x):
        return super().forward(x).astype(np.float32)


def test_the_first_output_is_kept_as_float64_only_when_asked(arrays):
    W, b, x = arrays
    kept = _check(Float32Out(W, b), x, keep_output=True)
    kept.run()
    assert kept.output.dtype == np.float64
    assert np.array_equal(kept.output, (x @ W + b).astype(np.float32).astype(np.float64))
    plain = _check(Affine(W, b), x)
    plain.run()
    assert plain.output is None


class KeepsDout(Affine):
    """Keeps the upstream gradient it was handed, as layers that cache it do."""

    def backward(self, dout):
        self.dout = dout
        return super().backward(dout)


def test_the_upstream_gradient_is_read_only_during_the_check_and_writable_after_it(arrays):
    W, b, x = arrays
    layer = KeepsDout(W, b)
    check = _check(layer, x)
    report = check.run()
    assert report.ok
    assert layer.dout.flags.writeable  # handed back writable
    layer.dout[0, 0] = 0.0


class ZeroesInForward(Affine):
    """Zeroes its gradient arrays in forward and writes into them in backward (arrays the check
    holds from the first backward, read-only: it copies them and calls the user code again)."""

    def __init__(self, W, b, factor=1.0):
        super().__init__(W, b)
        self.dW, self.db, self.factor = np.zeros_like(W), np.zeros_like(b), factor

    def forward(self, x):
        self.dW[...] = 0.0
        self.db[...] = 0.0
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW[...] = self.factor * (self.x.T @ dout)
        self.db[...] = dout.sum(axis=0)
        return dout @ self.W.T


@pytest.mark.parametrize(("factor", "wrong"), [(1.0, []), (3.0, ["W"])])
def test_a_layer_that_zeroes_its_gradients_in_forward_is_compared_with_its_first_backwards(arrays, factor, wrong):
    W, b, x = arrays
    report = bd.check_layer(ZeroesInForward(W, b, factor), x)
    assert [f.param for f in report.errors] == wrong
    assert {m.param for m in report.measurements} == {"x", "W", "b"}


class AffineOffBy(Affine):
    """Every gradient (1 + delta) times the true one: within the tolerance for a small delta."""

    delta = 0.0

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW, self.db = (1 + self.delta) * self.dW, (1 + self.delta) * self.db
        return (1 + self.delta) * dx


@pytest.mark.parametrize(("delta", "forwards"), [(1e-9, 3), (1e-7, 5), (3e-6, 7)])
def test_a_passing_layer_stops_probing_after_one_probe_far_inside_the_tolerance_or_two_inside_a_tenth(arrays, delta, forwards):
    # off by 1e-9: one probe within 1e-3 of the tolerance; 1e-7: two within a tenth; 3e-6: all three
    W, b, x = arrays
    layer = type("Off", (AffineOffBy,), {"delta": delta})(W, b)
    report = bd.check_layer(layer, x)
    assert report.ok and report.extras["forward_evaluations"] == forwards


class RecordsDout(Affine):
    """Records, at each backward, whether the dout it was handed could be written into."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.writable: list[bool] = []

    def backward(self, dout):
        self.writable.append(dout.flags.writeable)
        return super().backward(dout)


def test_the_first_backward_gets_the_upstream_gradient_itself_read_only_not_a_copy(arrays):
    W, b, x = arrays
    layer = RecordsDout(W, b)
    report = _check(layer, x).run()
    assert report.ok and layer.writable[0] is False


class GradientIsTheWeight(Affine):
    """Stores the weight itself as its gradient (it forgot to compute one)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.W
        return dx


def test_a_gradient_that_is_the_parameter_itself_is_compared_not_frozen(arrays):
    W, b, x = arrays
    report = bd.check_layer(GradientIsTheWeight(W, b), x)
    assert [(f.name, f.param) for f in report.errors] == [("gradient-mismatch", "W")]


class ReadOnlyBias(Affine):
    """Makes its bias gradient read-only."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.db.flags.writeable = False
        return dx


def test_a_gradient_the_layer_made_read_only_stays_read_only(arrays):
    W, b, x = arrays
    layer = ReadOnlyBias(W, b)
    assert _check(layer, x).run().ok
    assert not layer.db.flags.writeable


class WritesIntoItsOwnReadOnlyBuffer(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.buffer = np.zeros(3)
        self.buffer.flags.writeable = False

    def forward(self, x):
        self.buffer[0] = 1.0
        return super().forward(x)


def test_a_layer_that_writes_into_its_own_read_only_array_gets_the_error_it_raised(arrays):
    W, b, x = arrays
    [finding] = _check(WritesIntoItsOwnReadOnlyBuffer(W, b), x).run().findings
    assert finding.name == "layer-raised" and "read-only" in finding.message
    assert finding.line == line_of(WritesIntoItsOwnReadOnlyBuffer.forward, "self.buffer[0] = 1.0")


class WritesIntoDout(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        dout[0] = 0.0  # in place: the caller's gradient array
        return dx


def test_a_backward_that_writes_into_dout_is_reported_and_still_checked(arrays):
    W, b, x = arrays
    report = bd.check_layer(WritesIntoDout(W, b), x)
    assert [f.name for f in report.findings] == ["upstream-grad-mutated"]
    assert report.findings[0].line == line_of(WritesIntoDout.backward, "dout[0] = 0.0")
    assert {(m.param, m.verdict) for m in report.measurements} == {("x", "ok"), ("W", "ok"), ("b", "ok")}


def test_a_float32_output_is_probed_with_the_float32_step_and_tolerance(arrays):
    W, b, x = arrays
    report = bd.check_layer(Float32Out(W, b), x)
    assert report.ok and [(f.name, f.severity) for f in report.findings] == [("float32-precision", "info")]
    assert report.extras["forward_evaluations"] == 5
    errors = {m.param: m.relative_error for m in report.measurements}
    assert set(errors) == {"x", "W", "b"} and 1e-5 < max(errors.values()) < 1e-3  # float32 rounding, within its tolerance


class Embedding:
    def __init__(self, W):
        self.W, self.dW = W, None

    def forward(self, ids):
        self.ids = ids
        return self.W[ids]

    def backward(self, dout):
        self.dW = np.zeros_like(self.W)
        np.add.at(self.dW, self.ids, dout)
        return None


def test_an_integer_input_is_not_probed_and_needs_no_dx(arrays):
    W = arrays[0]
    report = bd.check_layer(Embedding(W), np.array([0, 2, 3, 2]))
    assert report.ok and report.findings == []
    assert [(m.param, m.verdict) for m in report.measurements] == [("W", "ok")]


def test_a_check_built_by_hand_carries_its_seed(arrays):
    W, b, x = arrays
    assert _check(Affine(W, b), x, options=bd.Options(seed=5)).run().seed == 5


class SquaredErrorIntoBuffer:
    """A squared-error loss layer that writes dx into one buffer of its own at every backward."""

    def forward(self, y, t):
        self.y, self.t = y, t
        self.dx = np.empty_like(y)
        return float(np.sum((y - t) ** 2) / (2 * len(y)))

    def backward(self, dout=1):
        self.dx[...] = dout * (self.y - self.t) / len(self.y)
        return self.dx


def test_a_loss_layer_writing_dx_into_its_own_buffer_honours_dout(arrays):
    x = arrays[2]
    report = bd.check_layer(SquaredErrorIntoBuffer(), x, t=np.zeros_like(x))
    assert report.ok and report.findings == []
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok")]


# -- kinks at the input ---------------------------------------------------------------------------


class Relu:
    """A ReLU that leaves its dout alone."""

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)


class Wiggle:
    """x plus a wiggle of 1e-7 every 3e-9: a kink within any step, wherever the input moves."""

    def forward(self, x):
        return x + 1e-7 * np.abs(np.sin(1e9 * x))

    def backward(self, dout):
        return dout


def _counting_jitters(monkeypatch) -> list[int]:
    jitters: list[int] = []
    jitter = engine._jitter
    monkeypatch.setattr(engine, "_jitter", lambda x, rng: jitters.append(1) or jitter(x, rng))
    return jitters


def test_an_input_on_a_relu_kink_is_jittered_once_and_passes(arrays, monkeypatch):
    jitters = _counting_jitters(monkeypatch)
    x = arrays[2].copy()
    x[0] = 0.0
    report = bd.check_layer(Relu(), x)
    assert report.ok and report.findings == [] and len(jitters) == 1
    assert report.extras["forward_evaluations"] == 16  # the first attempt's evaluations count too
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok (jittered off a kink)")]


def test_an_input_that_stays_on_kinks_is_jittered_twice_then_reported_as_a_kink(arrays, monkeypatch):
    jitters = _counting_jitters(monkeypatch)
    report = bd.check_layer(Wiggle(), arrays[2])
    assert len(jitters) == engine.KINK_RETRIES == 2
    assert [(f.name, f.severity) for f in report.findings] == [("gradient-at-kink", "info")]
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "kink")]


# -- user code run again by the probes ------------------------------------------------------------


class RaisesFromItsSecondForward(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls >= 2:
            raise ValueError("second call")
        return super().forward(x)


def test_a_forward_that_raises_only_when_probed_is_told_as_a_forward_error(arrays):
    W, b, x = arrays
    [finding] = bd.check_layer(RaisesFromItsSecondForward(W, b), x).findings
    assert finding.name == "layer-raised"
    assert finding.message == (
        "`RaisesFromItsSecondForward.forward` raised ValueError (second call) on input of shape (5, 4): "
        "fix the forward pass so it runs on that input"
    )


class DropsOutAndZeroesInForward(ZeroesInForward):
    """Draws a dropout mask in forward, and zeroes its held gradients there: the check calls its
    forward again from copies, with NumPy's generator reseeded, so the mask stays the same."""

    def forward(self, x):
        self.keep = np.random.rand(*x.shape) > 0.5
        return super().forward(x * self.keep)

    def backward(self, dout):
        return super().backward(dout) * self.keep


@pytest.mark.parametrize(("factor", "wrong"), [(1.0, []), (3.0, ["W"])])
def test_a_forward_run_again_from_copies_draws_the_same_dropout_mask(arrays, factor, wrong):
    W, b, x = arrays
    report = bd.check_layer(DropsOutAndZeroesInForward(W, b, factor), x)
    assert [f.param for f in report.errors] == wrong


def backward_without_dx(dout, cache):
    x, W = cache
    return None, x.T @ dout, dout.sum(axis=0)


def backward_with_float32_dx(dout, cache):
    x, W = cache
    return (dout @ W.T).astype(np.float32), x.T @ dout, dout.sum(axis=0)


def test_a_function_pair_returning_no_dx_is_a_bad_return_and_a_float32_dx_is_no_dtype_finding(arrays):
    W, b, x = arrays
    [finding] = bd.check_functions(affine_forward, backward_without_dx, x, W, b).findings
    assert finding.name == "bad-return"
    assert finding.message.startswith("`affine.backward` returns None, so the gradient stops here: return dx (shape (5, 4))")
    assert bd.check_functions(affine_forward, backward_with_float32_dx, x, W, b).findings == []


class GradientsInOneBuffer(Affine):
    """Keeps its gradients as views of one flat buffer, which its forward zeroes."""

    def __init__(self, W, b, factor=1.0):
        super().__init__(W, b)
        self.buffer, self.factor = np.zeros(W.size + b.size), factor

    def forward(self, x):
        self.buffer[...] = 0.0
        return super().forward(x)

    def backward(self, dout):
        n = self.W.size
        self.buffer[:n] = self.factor * (self.x.T @ dout).ravel()
        self.buffer[n:] = dout.sum(axis=0)
        self.dW, self.db = self.buffer[:n].reshape(self.W.shape), self.buffer[n:]
        return dout @ self.W.T


@pytest.mark.parametrize(("factor", "wrong"), [(1.0, []), (3.0, ["W"])])
def test_gradients_that_are_views_of_a_buffer_the_layer_keeps_are_compared_as_first_computed(arrays, factor, wrong):
    W, b, x = arrays
    report = _check(GradientsInOneBuffer(W, b, factor), x).run()
    assert [f.param for f in report.errors] == wrong and len(report.measurements) == 3


class ZeroesWeightGradientInForwardWithReadOnlyBias(ZeroesInForward):
    """Writes into its held weight gradient in forward; its bias gradient is read-only (copied, not held)."""

    def forward(self, x):
        self.dW[...] = 0.0
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW[...] = self.factor * (self.x.T @ dout)
        self.db = dout.sum(axis=0)
        self.db.flags.writeable = False
        return dout @ self.W.T


@pytest.mark.parametrize(("factor", "wrong"), [(1.0, []), (3.0, ["W"])])
def test_a_held_gradient_copied_after_a_write_keeps_the_others_it_did_not_hold(arrays, factor, wrong):
    W, b, x = arrays
    report = _check(ZeroesWeightGradientInForwardWithReadOnlyBias(W, b, factor), x).run()
    assert [f.param for f in report.errors] == wrong and len(report.measurements) == 3


class SquaredErrorWithoutReturn:
    """A loss layer whose backward computes dx from dout and forgets to return it."""

    def forward(self, y, t):
        self.y, self.t = y, t
        return float(np.sum((y - t) ** 2) / 2)

    def backward(self, dout=1):
        dx = dout * (self.y - self.t)  # noqa: F841 - the forgotten return is the point


def test_a_loss_layer_whose_backward_returns_none_is_a_bad_return(arrays):
    x = arrays[2]
    [finding] = bd.check_layer(SquaredErrorWithoutReturn(), x, t=np.zeros_like(x)).findings
    assert finding.name == "bad-return"
    assert finding.message == (
        "`SquaredErrorWithoutReturn.backward` returns None, so the gradient stops here: return dx (shape (5, 4)) at its end"
    )
