"""How often a lone layer's check calls the user's code, and which arrays it hands over or holds
(docs/TESTING.md, "eighth round"): the engine's mutants that change only what a check costs
are caught here by the exact number of `forward` and `backward` calls a layer of our own counts.

Every count is derived from what the check must do, never copied from a run:
- one first `forward` and one first `backward`;
- a second `backward` with the same dout (the re-entrancy contract), unless the layer holds at
  least `carryover.WATCHED_SIZE` elements and its watched first call shows it keeps nothing
  for the next call;
- per probe two `forward` evaluations (a central difference); a correct float64 layer stops
  after one probe far inside the tolerance (`engine.EARLY_ONE`);
- one more call wherever user code writes into an array the check holds read-only by
  reference (the first backward's gradients and dx, held rather than copied): the write
  raises, the check copies what it holds and calls the same code again.

Everything runs in this process, on `engine.LayerCheck` directly (the layer's own object, so it
can count its own calls) or through `backprop_doctor.check_layer`.
"""

from __future__ import annotations

import collections
import inspect
import tracemalloc

import numpy as np
import pytest

import backprop_doctor as bd
from backprop_doctor import carryover, contracts, engine
from backprop_doctor.conventions._base import Adapter
from backprop_doctor.conventions._classlayer import ClassLayer
from test_engine_mutants import Embedding  # looks rows up by integer ids; returns no dx


def line_of(function, text: str) -> int:
    """The line of this file where `text` is, inside `function`."""
    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


# Calls counted outside the layers (by id), where the watch over a first backward does not look:
# a counter the layer rebinds would itself be state a second call could read.
CALLED: collections.Counter = collections.Counter()


class Counted:
    """An affine layer as the book writes it, counting the calls the check makes of it."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        CALLED[id(self), "forward"] = CALLED[id(self), "backward"] = 0  # an id may be reused

    @property
    def forwards(self) -> int:
        return CALLED[id(self), "forward"]

    @property
    def backwards(self) -> int:
        return CALLED[id(self), "backward"]

    def called(self, method: str) -> None:
        CALLED[id(self), method] += 1

    def forward(self, x):
        self.called("forward")  # first: a call that raises at a write below is counted too
        self.prepare(x)
        self.x = x
        return x @ self.W + self.b

    def prepare(self, x):
        """What a layer below writes in place at the start of its forward."""

    def backward(self, dout):
        self.called("backward")
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def affine(n_in, n_out, batch=5, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal((n_in, n_out)) / np.sqrt(n_in), r.standard_normal(n_out), r.standard_normal((batch, n_in))


# A layer holding WATCHED_SIZE elements in its weight alone has its first backward watched.
WIDE = int(np.sqrt(carryover.WATCHED_SIZE))


def run(layer, x, **fields):
    """The check of `layer` itself (not of a copy), so the layer's own counters show its calls."""
    check = engine.LayerCheck(ClassLayer(layer), x, **fields)
    return check, check.run()


# -- the second backward: made unless a watched first call shows nothing carried ------------------------


def test_a_small_layer_is_called_backward_twice_and_forward_once_per_evaluation():
    """Below WATCHED_SIZE elements watching costs more than calling again: backward twice (first
    call and the re-entrancy contract's second); forward three times (the first call, then one
    central probe of two evaluations, far inside the tolerance)."""
    W, b, x = affine(4, 3)
    layer = Counted(W, b)
    check, report = run(layer, x)
    assert report.ok and report.findings == []
    assert (layer.forwards, layer.backwards) == (3, 2)
    assert check.counter.forwards == 3 and check.reentrant is True


def test_a_large_layer_whose_watched_backward_keeps_nothing_is_called_backward_once():
    """WIDE × WIDE weights are WATCHED_SIZE elements: the first backward is watched, it only binds
    fresh gradients, so no second call can differ and none is made: one backward in all."""
    W, b, x = affine(WIDE, WIDE, batch=4)
    layer = Counted(W, b)
    check, report = run(layer, x)
    assert report.ok and report.findings == []
    assert (layer.forwards, layer.backwards) == (3, 1)
    assert check.reentrant is True  # known without a second call


class OwnGradients(Counted):
    """Makes its gradient arrays in `__init__`; the layers below accumulate or write into them."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)


class RebindsFromItsOwnGradient(OwnGradients):
    """Accumulates by rebinding: reads `self.dW` and binds a new sum (the watch sees the read)."""

    def backward(self, dout):
        self.called("backward")
        self.dW = self.dW + self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def test_a_large_layer_whose_watched_backward_reads_what_it_rebinds_is_called_again_and_reported():
    """The watch sees `self.dW` read and then rebound: a second call could differ, so it is made
    (two backwards) and gives twice the gradient: `nonreentrant-backward`."""
    W, b, x = affine(WIDE, WIDE, batch=4)
    layer = RebindsFromItsOwnGradient(W, b)
    _, report = run(layer, x)
    assert [(f.name, f.severity) for f in report.findings] == [("nonreentrant-backward", "error")]
    assert "twice with the same dout gives different gradients" in report.findings[0].message
    assert layer.backwards == 2


class AccumulatesInPlace(OwnGradients):
    """Accumulates into its gradient arrays (`self.dW += ...`)."""

    def backward(self, dout):
        self.called("backward")
        self.dW += self.x.T @ dout
        self.db += dout.sum(axis=0)
        return dout @ self.W.T


def test_a_large_layer_that_writes_into_its_own_array_under_the_watch_is_checked_again_unwatched():
    """Under the watch its arrays are read-only: the first backward raises at `+=`. The check first
    starts again from copies of x and dout, still watched (the write could have been into them):
    it raises again, so the array was the layer's own, and the check starts again without a
    watch, for good. Backward: 2 raised, then the first call, then the second, which writes into
    the first call's dW, held read-only: it raises and runs again on a copy. 5 in all."""
    W, b, x = affine(WIDE, WIDE, batch=4)
    layer = AccumulatesInPlace(W, b)
    _, report = run(layer, x)
    assert [(f.name, f.param) for f in report.findings] == [("nonreentrant-backward", None)]
    assert report.findings[0].line == line_of(AccumulatesInPlace.backward, "self.dW += ")
    assert layer.backwards == 5


class WritesItsInputAndAccumulates(AccumulatesInPlace):
    def prepare(self, x):
        x *= 1.0  # in place, into the caller's array (values unchanged)


def test_a_large_layer_writing_its_input_and_its_own_gradients_is_retried_twice_not_told_it_raised():
    """Its forward writes into the input handed over read-only: the check starts again from copies.
    Its watched backward then writes into its own array, which with copies can only be the
    layer's: the check starts again without the watch, and nothing is told as `layer-raised`.
    Backward: 1 raised under the watch, the first call, the second (raises on the held dW) and
    that one again: 4."""
    W, b, x = affine(WIDE, WIDE, batch=4)
    layer = WritesItsInputAndAccumulates(W, b)
    _, report = run(layer, x)
    assert [f.name for f in report.findings] == ["nonreentrant-backward"]
    assert layer.backwards == 4


class SgdInBackward(Counted):
    """Applies its SGD step itself (`backward(dout, learning_rate)`), as some course layers do."""

    def backward(self, dout, learning_rate):
        self.called("backward")
        dW = self.x.T @ dout
        db = dout.sum(axis=0)
        dx = dout @ self.W.T
        self.W -= learning_rate * dW
        self.b -= learning_rate * db
        return dx


def test_a_large_layer_that_steps_its_weights_in_backward_is_not_watched_but_called_twice():
    """Writing into its own weights is what such a layer does: it is never watched (the watch would
    make them read-only, and the check would start again). Its first backward is read off the step
    and undone by writing every float array it holds back, its kept input too: that input is the
    check's own x, handed over read-only, so the check starts again from copies once. Forward: 1,
    1 again, 2 for the probe; backward: 1, 1 again, and the second call."""
    W, b, x = affine(WIDE, WIDE, batch=4)
    layer = SgdInBackward(W, b)
    _, report = run(layer, x)
    assert report.ok
    assert (layer.forwards, layer.backwards) == (4, 3)


class RecordsItsGradientOnEntry(Counted):
    """Records, on entering backward, whether `self.dW` holds the first call's values (a list it
    appends to: state the watch sees, so backward is called twice)."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.entries: list[str] = []

    def backward(self, dout):
        dW = getattr(self, "dW", None)
        self.entries.append("none" if dW is None else "nan" if np.isnan(dW).all() else "values")
        return super().backward(dout)


def test_a_large_first_gradient_is_let_go_before_the_second_backward():
    """A gradient of STAND_IN_SIZE elements the first call bound afresh is replaced by a read-only
    stand-in of NaNs before the second call (the check never holds two beside the weights)."""
    side = int(np.sqrt(contracts.STAND_IN_SIZE))
    W, b, x = affine(side, side, batch=2)
    layer = RecordsItsGradientOnEntry(W, b)
    _, report = run(layer, x)
    assert report.ok and report.findings == []
    assert layer.entries == ["none", "nan"]


# -- arrays held by reference: a write into one costs a call again --------------------------------------


class ZeroesGradientsInForward(OwnGradients):
    """Zeroes its gradient arrays in forward and writes into them in backward."""

    def prepare(self, x):
        self.dW[...] = 0.0
        self.db[...] = 0.0

    def backward(self, dout):
        self.called("backward")
        self.dW[...] = self.x.T @ dout
        self.db[...] = dout.sum(axis=0)
        return dout @ self.W.T


def test_gradients_the_layer_writes_into_are_held_by_reference_and_copied_at_the_first_write():
    """The first backward's dW and db are held, read-only: the second backward writes into them
    (raises, then runs again on nothing held: 3 backwards); that call's arrays are held in their
    place, so the probe's first forward raises once too (1 + 1 + 2 forwards)."""
    W, b, x = affine(4, 3)
    layer = ZeroesGradientsInForward(W, b)
    check, report = run(layer, x)
    assert report.ok
    assert (layer.forwards, layer.backwards) == (4, 3)
    assert check.counter.forwards == 3  # evaluations: the retries are not counted


class GradientAViewOfItsOwnBuffer(Counted):
    """Its dW is a reshaped view of a buffer nothing else refers to (`np.zeros(n).reshape(...)`):
    forward zeroes it, backward writes into it; its db is bound afresh at every call."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.dW = np.zeros(W.size).reshape(W.shape)

    def prepare(self, x):
        self.dW[...] = 0.0

    def backward(self, dout):
        self.called("backward")
        self.dW[...] = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def test_a_gradient_that_is_the_only_view_of_its_buffer_is_held_with_it():
    """A view whose base only it refers to is held (with the base) like an array of its own: the
    second backward writes into it (raises, runs again: 3 backwards) and so does the probe's
    first forward (1 + 1 + 2 forwards)."""
    W, b, x = affine(4, 3)
    layer = GradientAViewOfItsOwnBuffer(W, b)
    assert layer.dW.base is not None
    check, report = run(layer, x)
    assert report.ok
    assert (layer.forwards, layer.backwards) == (4, 3)


class GradientsInOneKeptBuffer(Counted):
    """Keeps one flat buffer (`self.buffer`) whose views are its gradients; forward zeroes it."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.buffer = np.zeros(W.size + b.size)

    def prepare(self, x):
        self.buffer[...] = 0.0

    def backward(self, dout):
        self.called("backward")
        n = self.W.size
        self.buffer[:n] = (self.x.T @ dout).ravel()
        self.buffer[n:] = dout.sum(axis=0)
        self.dW, self.db = self.buffer[:n].reshape(self.W.shape), self.buffer[n:]
        return dout @ self.W.T


def test_views_of_a_buffer_the_layer_keeps_are_copied_so_its_writes_cost_nothing():
    """The buffer is referenced by the layer: holding it would make every later write raise. The
    views are copied instead: backward twice, forward 1 + 2, as for a layer with nothing held."""
    W, b, x = affine(4, 3)
    layer = GradientsInOneKeptBuffer(W, b)
    _, report = run(layer, x)
    assert report.ok
    assert (layer.forwards, layer.backwards) == (3, 2)


class DxIntoItsOwnBuffer(Counted):
    """Writes dx into one buffer of its own at every backward and returns it."""

    def backward(self, dout):
        self.called("backward")
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        if getattr(self, "dx", None) is None:
            self.dx = np.empty_like(self.x)
        self.dx[...] = dout @ self.W.T
        return self.dx


def test_a_dx_written_into_the_layers_own_buffer_is_held_not_copied():
    """The first call's dx is held read-only by reference: the second call's write raises, and the
    check calls again on a copy: 3 backwards."""
    W, b, x = affine(4, 3)
    layer = DxIntoItsOwnBuffer(W, b)
    _, report = run(layer, x)
    assert report.ok
    assert layer.backwards == 3


class DxBufferZeroedInForward(DxIntoItsOwnBuffer):
    def prepare(self, x):
        if getattr(self, "dx", None) is not None:
            self.dx[...] = 0.0


def test_the_second_calls_dx_is_held_in_place_of_the_first_and_a_forward_writing_into_it_runs_again():
    """After the second call (3 backwards, as above) its dx, the layer's buffer itself, is held in
    place of the first: the probe's first forward zeroes it, raises and runs again (1 + 1 + 2)."""
    W, b, x = affine(4, 3)
    layer = DxBufferZeroedInForward(W, b)
    _, report = run(layer, x)
    assert report.ok
    assert (layer.forwards, layer.backwards) == (4, 3)


class SquaredErrorCounted:
    """A squared-error loss layer that writes dx into one buffer of its own at every backward."""

    def __init__(self):
        CALLED[id(self), "backward"] = 0

    def forward(self, y, t):
        self.y, self.t = y, t
        self.dx = np.empty_like(y)
        return float(np.sum((y - t) ** 2) / (2 * len(y)))

    def backward(self, dout=1):
        CALLED[id(self), "backward"] += 1
        self.dx[...] = dout * (self.y - self.t) / len(self.y)
        return self.dx


def test_a_loss_layers_dx_buffer_is_held_and_its_dout_is_tried_at_two():
    """A loss layer's backward: the first call (dout 1.0, handed as is), the second (writes into the
    held dx: raises, runs again on a copy), then dout 2.0 to see dout is used and once more with
    1.0 to leave the layer as after a normal call: 5 backwards."""
    x = np.random.default_rng(1).standard_normal((5, 4))
    layer = SquaredErrorCounted()
    check = engine.LayerCheck(ClassLayer(layer), x, np.zeros_like(x))
    report = check.run()
    assert report.ok and report.findings == []
    assert CALLED[id(layer), "backward"] == 5


# -- function pairs: gradients returned in a buffer of the module ----------------------------------


GRAD_BUFFER = np.zeros((4, 3))
CALLS = {"forward": 0, "backward": 0}


def affine_forward(x, W, b):
    CALLS["forward"] += 1
    return x @ W + b, (x, W)


def affine_forward_writing_x(x, W, b):
    CALLS["forward"] += 1
    x *= 1.0  # in place (values unchanged): read-only at first, so the check starts again from copies
    return x @ W + b, (x, W)


def affine_backward_into_buffer(dout, cache):
    CALLS["backward"] += 1
    x, W = cache
    GRAD_BUFFER[...] = x.T @ dout
    return dout @ W.T, GRAD_BUFFER, dout.sum(axis=0)



@pytest.mark.parametrize(("forward", "forwards", "backwards"), [(affine_forward, 3, 3), (affine_forward_writing_x, 4, 3)])
def test_a_function_pairs_gradient_returned_in_a_module_buffer_is_held_by_reference(forward, forwards, backwards):
    """The returned dW is the module's buffer, held read-only: the second backward writes into it,
    raises and runs again on a copy (3 backwards). A forward that writes into its input first
    raises on the read-only input and the check starts again from copies (one forward more)."""
    W, b, x = affine(4, 3)
    CALLS.update(forward=0, backward=0)
    report = bd.check_functions(forward, affine_backward_into_buffer, x, W, b)
    assert report.ok and report.findings == []
    assert (CALLS["forward"], CALLS["backward"]) == (forwards, backwards)


# -- NumPy's generator reseeded where user code is called again -----------------------------------------


class DropoutZeroingGradients(ZeroesGradientsInForward):
    """Draws a dropout mask from NumPy's generator, then zeroes its held gradients (so the probe's
    first forward raises after the draw and is called again)."""

    def prepare(self, x):
        self.keep = np.random.rand(x.shape[0], self.W.shape[1]) > 0.5
        super().prepare(x)

    def forward(self, x):
        return super().forward(x) * self.keep

    def backward(self, dout):
        return super().backward(dout * self.keep)


def test_a_forward_called_again_after_a_write_draws_its_dropout_mask_again_from_the_same_seed():
    """The forward called again is reseeded first, so it draws the mask f0 was computed with: the
    layer is clean after one probe, 3 evaluations (4 calls of its forward, one raised)."""
    W, b, x = affine(4, 3)
    layer = DropoutZeroingGradients(W, b)
    check, report = run(layer, x)
    assert report.ok and report.findings == []
    assert check.counter.forwards == 3 and layer.forwards == 4


class NoisyGradient(ZeroesGradientsInForward):
    """Adds gradient noise drawn from NumPy's generator, written into its held dW."""

    def backward(self, dout):
        self.noise = 1e-3 * np.random.standard_normal(self.W.shape)
        dx = super().backward(dout)
        self.dW[...] += self.noise
        return dx


def test_a_backward_that_draws_noise_is_not_reseeded_when_called_again_and_stays_nonreentrant():
    """The second backward writes into the held dW, raises and is called again without reseeding
    (only forward evaluations are reseeded): it draws other noise than the first, so the two calls
    differ, as they do in training."""
    W, b, x = affine(4, 3)
    check, report = run(NoisyGradient(W, b), x)
    assert [(f.name, f.param) for f in report.findings] == [("nonreentrant-backward", None), ("gradient-mismatch", "W")]
    assert check.reentrant is False


# -- the input the layer gets ----------------------------------------------------------------------------


class RecordsItsInput(Counted):
    """Records the array each forward gets and whether it could write into it."""

    def __init__(self, W, b, returns_dx=True):
        super().__init__(W, b)
        self.inputs: list[tuple[np.ndarray, bool]] = []
        self.returns_dx = returns_dx

    def prepare(self, x):
        self.inputs.append((x, x.flags.writeable))

    def backward(self, dout):
        dx = super().backward(dout)
        return dx if self.returns_dx else None


@pytest.mark.parametrize("owned", [False, True])
def test_the_first_forward_gets_the_checks_float64_input_itself_read_only(owned):
    """The first forward gets the check's own float64 x, read-only (no copy for a forward that only
    reads it). That is the caller's array when the caller made it for the check (`x_owned`), else
    a copy. The probes then get the same array, writable, perturbed in place."""
    W, b, x = affine(4, 3)
    layer = RecordsItsInput(W, b)
    _, report = run(layer, x, x_owned=owned)
    assert report.ok
    [(first, writable), *probed] = layer.inputs
    assert (first is x) is owned and not writable
    assert [(a is first, w) for a, w in probed] == [(True, True), (True, True)]
    assert x.flags.writeable


@pytest.mark.parametrize("owned", [False, True])
def test_an_input_that_is_not_probed_stays_read_only_and_is_handed_back_writable(owned):
    """A layer that returns no dx has no input gradient to compare: its x is not probed and stays
    read-only for every forward; the caller's own array is writable again after the check."""
    W, b, x = affine(4, 3)
    layer = RecordsItsInput(W, b, returns_dx=False)
    _, report = run(layer, x, x_owned=owned)
    assert [f.name for f in report.findings] == ["bad-return"]
    assert [w for _, w in layer.inputs] == [False, False, False]
    assert x.flags.writeable


class DoublesItsInputInPlace:
    """Doubles its input in place, then a tanh; its dx misses the factor 2 of the doubling."""

    def __init__(self, W):
        self.W = W

    def forward(self, x):
        x *= 2.0
        self.x = x
        return np.tanh(x) @ self.W

    def backward(self, dout):
        self.dW = np.tanh(self.x).T @ dout
        return (dout @ self.W.T) * (1 - np.tanh(self.x) ** 2)


def test_a_layer_that_writes_into_its_input_gets_copies_when_its_elements_are_stepped_one_by_one():
    """Its every element's derivative is compared from copies of x (stepping one element of an array
    the forward doubles would move the others): every element of dx is off by the same factor 2."""
    W, _, x = affine(4, 3)
    report = bd.check_layer(DoublesItsInputInPlace(W), x)
    assert [(f.name, f.param, f.pattern) for f in report.findings] == [
        ("input-mutated", None, None),
        ("gradient-mismatch", "x", "scaled"),
    ]
    block = dict(report.findings[1].evidence)["elements"]
    assert "Mismatched elements: 20 / 20 (100%), all elements compared" in block
    assert "Max relative difference: 0.5\n" in block


# -- dtypes ---------------------------------------------------------------------------------------------


class Step:
    """A step function with an integer output: its gradient is zero wherever it is defined."""

    def forward(self, x):
        return (x > 0).astype(int)

    def backward(self, dout):
        return np.zeros(dout.shape)


def test_an_integer_output_is_checked_as_float64_without_a_precision_note():
    W, b, x = affine(4, 3)
    report = bd.check_layer(Step(), x)
    assert report.ok and report.findings == []
    assert [(m.param, m.verdict, m.relative_error) for m in report.measurements] == [("x", "ok", 0.0)]


class LongDouble:
    """Computes in NumPy's long double, a float dtype with no step of its own."""

    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return x.astype(np.longdouble) @ self.W.astype(np.longdouble)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        self.dW = self.x.T @ dout
        return dout @ self.W.T


def test_an_output_in_a_float_dtype_without_a_step_of_its_own_is_probed_with_float64s():
    W, _, x = affine(4, 3)
    report = bd.check_layer(LongDouble(W), x)
    assert report.ok
    assert {m.param for m in report.measurements} == {"x", "W"}
    assert all(m.relative_error < 1e-7 for m in report.measurements)  # float64's step: float64's agreement


class Float32WrongWeights:
    """Computes in float32; its dW is twice the true one."""

    def __init__(self, W, b):
        self.W, self.b = W.astype(np.float32), b.astype(np.float32)

    def forward(self, x):
        self.x = x.astype(np.float32)
        return self.x @ self.W + self.b

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float32)
        self.dW = 2 * (self.x.T @ dout)
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def test_a_float32_layer_is_not_stepped_finer_than_float32_rounding_so_its_right_dx_is_no_kink():
    W, b, x = affine(4, 3)
    report = engine.LayerCheck(ClassLayer(Float32WrongWeights(W, b)), x).run()
    assert [(f.name, f.param) for f in report.findings] == [("gradient-mismatch", "W")]
    assert {m.param: m.verdict for m in report.measurements} == {"x": "ok", "W": "mismatch", "b": "ok"}


def float32_dW_backward(dout, cache):
    x, W = cache
    return dout @ W.T, (x.T @ dout).astype(np.float32), dout.sum(axis=0)


def float32_values_of_dW_backward(dout, cache):
    x, W = cache
    return dout @ W.T, (x.T @ dout).astype(np.float32).astype(np.float64), dout.sum(axis=0)


def float32_db_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0).astype(np.float32)


def float32_values_of_db_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize(
    ("as32", "as64", "bias"),
    [
        (float32_dW_backward, float32_values_of_dW_backward, "random"),
        # a zero bias is stepped at a scale computed from its gradient's norm (gradcheck.step_scales)
        (float32_db_backward, float32_values_of_db_backward, "zero"),
    ],
)
def test_a_float32_gradient_is_compared_as_the_float64_of_its_values(as32, as64, bias):
    """The same numbers in float32 or in float64 measure the same error to the last bit (the check
    compares, and scales its steps by, their float64 values); only the dtype finding differs."""
    W, b, x = affine(4, 3)
    b = b if bias == "random" else np.zeros_like(b)
    first = bd.check_functions(affine_forward, as32, x, W, b)
    second = bd.check_functions(affine_forward, as64, x, W, b)
    assert [f.name for f in first.findings] == ["gradient-dtype-mismatch"] and second.findings == []
    assert [(m.param, m.relative_error) for m in first.measurements] == [(m.param, m.relative_error) for m in second.measurements]


class EmbeddingWithDx(Embedding):
    """Looks up rows by integer ids, and returns a zero dx for them anyway."""

    def backward(self, dout):
        super().backward(dout)
        return np.zeros(self.ids.shape)


def test_an_integer_input_is_not_probed_even_when_the_layer_returns_a_dx_for_it():
    W = affine(4, 3)[0]
    report = bd.check_layer(EmbeddingWithDx(W), np.array([0, 2, 3, 2]))
    assert report.ok and report.findings == []
    assert [(m.param, m.verdict) for m in report.measurements] == [("W", "ok")]


class SharpTanh:
    """tanh(1e6 x): its input varies on a scale of 1e-6."""

    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.x = x
        return np.tanh(1e6 * x) @ self.W

    def backward(self, dout):
        self.dW = np.tanh(1e6 * self.x).T @ dout
        return 1e6 * (dout @ self.W.T) * (1 - np.tanh(1e6 * self.x) ** 2)


def test_an_input_of_width_1e_6_is_stepped_by_a_fraction_of_its_width_and_passes_after_one_probe():
    """A step of 1e-6 in absolute terms would cross the whole tanh; a step of 1e-6 of x's width is
    straight: one probe, far inside the tolerance (3 evaluations)."""
    W, _, x = affine(4, 3)
    check = engine.LayerCheck(ClassLayer(SharpTanh(W)), 1e-6 * x)
    report = check.run()
    assert report.ok and report.findings == []
    assert check.counter.forwards == 3


# -- DLFS-2 layers ---------------------------------------------------------------------------------------


class Dlfs2Affine:
    """A DLFS-2 layer: `params` and `grads` lists; its backward writes into its `grads` arrays."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        CALLED[id(self), "backward"] = 0

    def forward(self, x):
        W, b = self.params
        self.x = x
        return x @ W + b

    def backward(self, dout):
        CALLED[id(self), "backward"] += 1
        W, _ = self.params
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ W.T


def test_a_dlfs2_layers_gradients_are_copied_at_once_so_its_second_call_writes_freely():
    """It writes into the same `grads` arrays at every call: the check copies them after the first
    call instead of holding them, and the second call runs once: 2 backwards."""
    W, b, x = affine(4, 3)
    layer = Dlfs2Affine(W, b)
    report = engine.LayerCheck(ClassLayer(layer), x).run()
    assert report.ok and report.findings == []
    assert CALLED[id(layer), "backward"] == 2


class Dlfs2WithoutBiasGradient(Dlfs2Affine):
    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = self.x.T @ dout
        self.grads[1] = None
        return dout @ W.T


def test_a_dlfs2_layer_with_none_in_its_grads_computes_no_gradient_for_that_parameter():
    W, b, x = affine(4, 3)
    report = bd.check_layer(Dlfs2WithoutBiasGradient(W, b), x)
    [finding] = report.findings
    assert (finding.name, finding.param, finding.pattern) == ("gradient-shape-mismatch", "b", "missing")
    assert finding.message == "`Dlfs2WithoutBiasGradient` computes no gradient for `b`: return or store one with shape (3,)"
    assert finding.line == line_of(Dlfs2WithoutBiasGradient.backward, "self.grads[1] = None")


def traced(call):
    """call()'s result, and the memory tracemalloc traced (NumPy reports its allocations to it)
    before the call and at its peak; the layers below may read the current figure meanwhile."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        result = call()
        return result, start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- what a check leaves behind ------------------------------------------------------------------------


def test_a_check_left_to_restore_numpys_generator_leaves_it_where_its_last_forward_left_it():
    """With `restore_rng=False` the caller restores NumPy's global state (once for several checks):
    the check leaves it reseeded with FORWARD_SEED, as before its last forward (which draws nothing)."""
    W, b, x = affine(4, 3)
    np.random.seed(123)
    run(Counted(W, b), x, restore_rng=False)
    left = np.random.rand()
    np.random.seed(engine.FORWARD_SEED)
    assert left == np.random.rand()
    np.random.seed(123)
    run(Counted(W, b), x)  # restored by default
    left = np.random.rand()
    np.random.seed(123)
    assert left == np.random.rand()


def test_a_checks_generator_is_handed_back_for_the_next_check_of_its_seed():
    """Building a generator for a seed costs about a forward pass: two checks of one seed build one,
    taken and handed back (reset to its start) twice."""
    W, b, x = affine(4, 3)
    seed = 987_654
    engine._streams.free.pop(seed, None)
    engine._streams.start.pop(seed, None)
    reports = [run(Counted(W, b), x, options=bd.Options(seed=seed))[1] for _ in range(2)]
    assert len(engine._streams.free[seed]) == 1
    assert reports[0].measurements == reports[1].measurements  # the same stream from its start


def test_a_large_layers_check_holds_its_weights_twice_at_most():
    """`check_layer` works on a copy of the layer (W's bytes once) and holds the first backward's dW
    by reference (twice). It restores W after each probe from the caller's own array, steps it in
    place along directions read from a pool, and calls the watched backward once: no third copy.
    Measured with tracemalloc (NumPy reports its allocations to it), after a first check that
    builds the caches every check shares."""
    W, b, x = affine(1024, 256, batch=4)
    bd.check_layer(Counted(W, b), x)
    report, start, peak = traced(lambda: bd.check_layer(Counted(W, b), x))
    assert report.ok and report.extras["forward_evaluations"] == 3
    assert (peak - start) / W.nbytes < 2.5


class ViewGradientKeepingCalls(Counted):
    """Binds a fresh dW at every call as a view (`.reshape`), and appends to a list it keeps (state a
    second backward could read: it is called twice); records the traced memory at each forward."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.calls: list[int] = []
        self.memory: list[int] = []

    def prepare(self, x):
        self.memory.append(tracemalloc.get_traced_memory()[0])

    def backward(self, dout):
        self.calls.append(len(self.calls))
        dx = super().backward(dout)
        self.dW = self.dW.reshape(self.W.shape)  # a view of the product
        return dx


def test_the_first_calls_gradients_are_let_go_once_the_second_call_gave_the_same():
    """A view is no stand-in candidate, so both calls' dW exist at the second call. Once they agree
    the check compares with the second's and lets the first go: during the probes it holds that
    dW and the copy of W it restores W from after each probe (no caller's array to restore from
    here): twice W's bytes, not three times."""
    W, b, x = affine(1024, 256, batch=4)
    layer = ViewGradientKeepingCalls(W, b)
    (_, report), start, _ = traced(lambda: run(layer, x))
    assert report.ok and layer.calls == [0, 1]
    [first, *probes] = layer.memory
    assert first - start < 0.1 * W.nbytes  # nothing of W's size before the first call
    assert len(probes) == 2 and all(1.9 < (m - start) / W.nbytes < 2.5 for m in probes)


class ScalesItsWeightsAtItsFirstForward(Counted):
    """Initialises lazily: its first forward scales its weights in place, once."""

    def __init__(self, W, b):
        super().__init__(W, b)
        self.scaled = False

    def prepare(self, x):
        if not self.scaled:
            self.W *= 0.01
            self.scaled = True


def test_weights_the_first_forward_changed_are_restored_to_their_new_values_not_the_callers():
    """`check_layer` restores a parameter from the caller's own array only while the two hold the
    same values; after this first forward they differ, and the probes step from (and restore to)
    the scaled weights the gradients were computed with: clean after one probe, 3 evaluations."""
    W, b, x = affine(4, 3)
    report = bd.check_layer(ScalesItsWeightsAtItsFirstForward(W, b), x)
    assert report.ok and report.findings == []
    assert [(m.param, m.verdict) for m in report.measurements] == [("x", "ok"), ("W", "ok"), ("b", "ok")]
    assert report.extras["forward_evaluations"] == 3


# -- the engine's path for a whole model: forward differences first ------------------------------------


class LinearRegression:
    """A whole model as a student writes one: `loss(x, t)` and `gradient(x, t)`."""

    def __init__(self, W, b):
        self.params = {"W": W, "b": b}

    def loss(self, x, t):
        W, b = self.params["W"], self.params["b"]
        self.x, self.err = x, x @ W + b - t
        return 0.5 * float(np.sum(self.err**2)) / len(x)

    def gradient(self, x, t):
        self.loss(x, t)
        return {"W": self.x.T @ self.err / len(x), "b": self.err.sum(axis=0) / len(x)}


class WholeModel(Adapter):
    """The engine's view of such a model (kind "network": a scalar loss, gradients and no dx), written
    here so the engine's own network path is checked without the network conventions."""

    def __init__(self, model):
        super().__init__(name=type(model).__name__, kind="network", target=type(model), is_loss=True)
        self.dout_is_input = False
        self.model = model

    def params(self):
        return self.model.params

    def forward(self, x, t=None):
        self._inputs = (x, t)
        return self.model.loss(x, t)

    def backward(self, dout):
        return None, self.model.gradient(*self._inputs)


def whole_model_check(probes=3, width=1.0):
    """A linear regression's check; its weights of `width`, on inputs of 1 / `width` (the same loss)."""
    W, b, x = affine(4, 3, batch=6)
    t = np.random.default_rng(2).standard_normal((6, 3))
    return engine.LayerCheck(WholeModel(LinearRegression(width * W, b)), x / width, t, options=bd.Options(probes=probes))


@pytest.mark.parametrize(("probes", "width"), [(2, 1.0), (3, 1.0), (3, 1e-6)])
def test_a_model_that_agrees_along_two_forward_differences_is_measured_by_their_larger_error(probes, width):
    """A forward difference of a quadratic loss is off by its curvature times the step (1e-6 of each
    array's own width): inside a tenth of the tolerance (EARLY_TWO), and far above the rounding a
    central difference of a quadratic shows (1e-10 here). Two of them settle the model whenever at
    least two probes are asked for; its arrays are measured by the larger one. Weights a million
    times narrower are stepped a million times finer: the same error (a step of 1e-6 on weights of
    width 1e-6 would fail, and central probes would take over)."""
    check = whole_model_check(probes, width)
    report = check.run()
    assert report.ok and report.findings == []
    assert [m.param for m in report.measurements] == ["W", "b"]
    errors = {m.relative_error for m in report.measurements}
    assert len(errors) == 1 and 1e-9 < errors.pop() < engine.EARLY_TWO * engine.LOSS_RTOL


def test_a_model_asked_for_one_probe_gets_a_central_one():
    report = whole_model_check(probes=1).run()
    assert report.ok
    assert all(m.relative_error < 1e-9 for m in report.measurements)


class ClipsItsWeightsAndForgetsTheirGradient(Counted):
    """Clips its weights in place at every forward (a max-norm bound it never reaches) and stores
    the weights themselves as their gradient (it forgot to compute one)."""

    def prepare(self, x):
        np.clip(self.W, -10.0, 10.0, out=self.W)

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.W
        return dx


def test_a_gradient_that_is_a_perturbed_array_itself_is_copied_so_the_forward_writing_that_array_is_never_called_again():
    """dW is W, which the probes perturb: the check copies it rather than holding it read-only, so
    the forward's write into W raises nothing and no forward is called again: one call per
    evaluation, and dW is reported wrong."""
    W, b, x = affine(4, 3)
    layer = ClipsItsWeightsAndForgetsTheirGradient(W, b)
    check, report = run(layer, x)
    assert [(f.name, f.param) for f in report.errors] == [("gradient-mismatch", "W")]
    assert layer.forwards == check.counter.forwards
