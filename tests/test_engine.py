"""The gradient engine through the library API, on layers written like users write them."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop_doctor as bd
from backprop_doctor.errors import GradientCheckError, UnsupportedObject

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def load_sample(name: str):
    spec = importlib.util.spec_from_file_location(f"sample_{name}", SAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- layers as students write them ------------------------------------------------------


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class AffineBiasWrongAxis(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = np.sum(dout, axis=1)
        return dx


class AffineTimesBatch(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW * self.x.shape[0]
        return dx


class AffineNoWeightGradient(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = np.zeros_like(self.W)
        return dx


class AffineAccumulating(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.dW = np.zeros_like(W)

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW += np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class ReluSignFlipped(Relu):
    def backward(self, dout):
        return -dout * (~self.mask)


class ScaleInPlace:
    def forward(self, x):
        x *= 2.0
        return x

    def backward(self, dout):
        return 2.0 * dout


class Dropout:
    def __init__(self, ratio=0.5):
        self.ratio = ratio

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.ratio
            return x * self.mask
        return x * (1.0 - self.ratio)

    def backward(self, dout):
        return dout * self.mask


class DropoutFreshMaskInBackward(Dropout):
    def backward(self, dout):
        return dout * (np.random.rand(*dout.shape) > self.ratio)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return -np.sum(t * np.log(self.y)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class SoftmaxWithLossIgnoringDout(SoftmaxWithLoss):
    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class Raises:
    def forward(self, x):
        return x @ np.ones((x.shape[1] + 1, 2))

    def backward(self, dout):
        return dout


class Log:
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, dout):
        return dout / self.x


class MatMulDLFS2:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]

    def forward(self, x):
        (W,) = self.params
        self.x = x
        return np.dot(x, W)

    def backward(self, dout):
        (W,) = self.params
        self.grads[0][...] = np.dot(self.x.T, dout)
        return np.dot(dout, W.T)


class MatMulDLFS2Transposed(MatMulDLFS2):
    def backward(self, dout):
        (W,) = self.params
        self.grads[0][...] = np.dot(self.x.T, dout).T
        return np.dot(dout, W.T)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def affine_args(rng):
    return rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((5, 4))


# -- verdicts ---------------------------------------------------------------------------


def test_a_correct_affine_layer_passes_within_eight_forward_evaluations(affine_args):
    W, b, x = affine_args
    report = bd.check_layer(Affine(W, b), x)
    assert report.ok and report.findings == []
    assert report.extras["forward_evaluations"] <= 8
    assert {(m.param, m.verdict) for m in report.measurements} == {("x", "ok"), ("W", "ok"), ("b", "ok")}


def test_bias_summed_over_the_wrong_axis_is_a_shape_mismatch_naming_the_axis(affine_args):
    W, b, x = affine_args
    report = bd.check_layer(AffineBiasWrongAxis(W, b), x)
    [finding] = report.errors
    assert (finding.name, finding.param, finding.pattern) == ("gradient-shape-mismatch", "b", "summed-over-wrong-axis")
    assert "axis=0" in finding.message
    assert finding.line is not None


def test_a_gradient_scaled_by_the_batch_size_is_named(affine_args):
    W, b, x = affine_args
    report = bd.check_layer(AffineTimesBatch(W, b), x)
    [finding] = report.errors
    assert (finding.name, finding.param, finding.pattern) == ("gradient-mismatch", "W", "scaled-by-batch-size")
    assert finding.measured > finding.threshold
    evidence = dict(finding.evidence)
    assert "Mismatched elements: 12 / 12" in evidence["elements"]


def test_a_gradient_never_computed_is_named(affine_args):
    W, b, x = affine_args
    [finding] = bd.check_layer(AffineNoWeightGradient(W, b), x).errors
    assert finding.pattern == "not-computed"


def test_a_sign_flip_is_named(rng):
    x = rng.standard_normal((5, 6))
    [finding] = bd.check_layer(ReluSignFlipped(), x).errors
    assert (finding.param, finding.pattern) == ("x", "sign-flipped")


def test_dlfs2_layer_passes_and_its_transposed_gradient_is_named(rng):
    W = rng.standard_normal((4, 4))
    x = rng.standard_normal((5, 4))
    assert bd.check_layer(MatMulDLFS2(W), x).ok
    [finding] = bd.check_layer(MatMulDLFS2Transposed(W), x).errors
    assert (finding.param, finding.pattern) == ("W", "transposed")


# -- false alarms that must not happen ------------------------------------------------------


def test_relu_inputs_sitting_exactly_on_the_kink_are_not_an_error(rng):
    x = rng.standard_normal((6, 5))
    x[::2, ::2] = 0.0
    report = bd.check_layer(Relu(), x)
    assert report.ok
    assert [f.name for f in report.findings] == ["upstream-grad-mutated"]
    assert report.findings[0].severity == "info"  # the book's Relu: it hands the dout it wrote into back


def test_dropout_drawing_its_mask_in_forward_is_not_a_false_alarm(rng):
    assert bd.check_layer(Dropout(0.5), rng.standard_normal((5, 6))).ok


def test_dropout_drawing_a_fresh_mask_in_backward_is_caught(rng):
    report = bd.check_layer(DropoutFreshMaskInBackward(0.5), rng.standard_normal((5, 6)))
    assert {f.name for f in report.errors} == {"gradient-mismatch", "nonreentrant-backward"}


def test_a_float32_layer_gets_a_precision_note_not_an_error(rng):
    W = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    report = bd.check_layer(Affine(W, b), x)
    assert report.ok
    assert [f.name for f in report.findings] == ["float32-precision"]
    assert report.findings[0].severity == "info"


def test_correct_cs231n_pairs_pass_on_4d_input_with_padding_and_overlapping_windows(rng):
    layers = load_sample("cs231n_layers")
    x = rng.standard_normal((2, 3, 7, 7))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    conv = bd.check_functions(layers.conv_forward_naive, layers.conv_backward_naive, x, w, b, {"stride": 1, "pad": 1})
    assert conv.ok, conv.findings
    pool = bd.check_functions(
        layers.max_pool_forward_naive,
        layers.max_pool_backward_naive,
        rng.standard_normal((2, 3, 6, 6)),
        {"pool_height": 2, "pool_width": 2, "stride": 1},
    )
    assert pool.ok, pool.findings
    gamma, beta = 1 + 0.1 * rng.standard_normal(6), rng.standard_normal(6)
    bn = bd.check_functions(layers.batchnorm_forward, layers.batchnorm_backward, rng.standard_normal((5, 6)), gamma, beta, {"mode": "train"})
    assert bn.ok, bn.findings
    loss = bd.check_layer(layers.softmax_loss, rng.standard_normal((5, 4)), t=np.array([0, 1, 2, 3, 0]))
    assert loss.ok, loss.findings


def test_transposed_weight_gradient_of_a_cs231n_pair_is_named(rng):
    buggy = load_sample("cs231n_buggy")
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 6)), rng.standard_normal(6)
    report = bd.check_functions(buggy.affine_forward, buggy.affine_backward, x, w, b)
    [finding] = report.errors
    assert (finding.name, finding.param, finding.pattern) == ("gradient-shape-mismatch", "w", "transposed")


# -- contracts ------------------------------------------------------------------------------


def test_forward_writing_into_its_input_is_reported_and_the_callers_array_is_untouched(rng):
    x = rng.standard_normal((5, 3))
    before = x.copy()
    report = bd.check_layer(ScaleInPlace(), x)
    assert "input-mutated" in [f.name for f in report.errors]
    assert x.tobytes() == before.tobytes()


def test_accumulating_gradients_make_backward_nonreentrant(affine_args):
    W, b, x = affine_args
    names = [f.name for f in bd.check_layer(AffineAccumulating(W, b), x).findings]
    assert "nonreentrant-backward" in names


def test_a_loss_layer_ignoring_dout_gets_an_info_and_an_honouring_one_none(rng):
    x = rng.standard_normal((5, 4))
    t = np.eye(4)[[0, 1, 2, 3, 0]]
    ignoring = bd.check_layer(SoftmaxWithLossIgnoringDout(), x, t)
    assert ignoring.ok
    assert [(f.name, f.severity) for f in ignoring.findings] == [("upstream-grad-ignored", "info")]
    assert bd.check_layer(SoftmaxWithLoss(), x, t).findings == []


def test_a_layer_that_raises_becomes_a_finding_with_the_users_line(rng):
    report = bd.check_layer(Raises(), rng.standard_normal((5, 3)))
    [finding] = report.errors
    assert finding.name == "layer-raised"
    assert finding.file == __file__ and "ValueError" in finding.message
    assert finding.line is not None


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_a_layer_returning_nan_is_reported(rng):
    x = rng.standard_normal((4, 3))  # negative entries: log gives NaN
    [finding] = bd.check_layer(Log(), x).errors
    assert finding.name == "non-finite-output"


# -- networks -------------------------------------------------------------------------------


def test_book_style_network_checks_every_layer_and_the_whole_gradient(rng):
    module = load_sample("multilayer_relu_fixed")
    net = module.ThreeLayerNet(input_size=6, hidden_size1=5, hidden_size2=4, output_size=3)
    x = rng.standard_normal((5, 6))
    t = np.eye(3)[[0, 1, 2, 0, 1]]
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.errors]
    layers = {m.layer for m in report.measurements}
    assert type(net).__name__ in layers and len(layers) >= 4


def test_dlfs2_network_with_params_and_grads_lists_passes(rng):
    module = load_sample("dlfs2_style")
    net = module.TwoLayerNet(input_size=6, hidden_size=5, output_size=3)
    x = rng.standard_normal((5, 6))
    t = np.array([0, 1, 2, 0, 1])
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.errors]
    assert any(m.layer == "TwoLayerNet" for m in report.measurements)


def test_unsupported_objects_get_a_clear_error():
    with pytest.raises(UnsupportedObject, match="forward and backward"):
        bd.check_layer(object(), np.zeros((2, 2)))
    with pytest.raises(UnsupportedObject, match="pass t="):
        bd.check_layer(SoftmaxWithLoss(), np.zeros((2, 2)))


# -- the report -----------------------------------------------------------------------------


def test_report_is_json_ready_and_raises_for_errors(affine_args):
    W, b, x = affine_args
    report = bd.check_layer(AffineTimesBatch(W, b), x, seed=7)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["seed"] == 7 and data["findings"][0]["code"] == "BPD101"
    with pytest.raises(GradientCheckError, match="BPD101 gradient-mismatch"):
        report.raise_for_errors()


def test_same_seed_gives_the_same_report_and_the_seed_is_carried(affine_args):
    W, b, x = affine_args
    first = bd.check_layer(AffineTimesBatch(W, b), x, seed=3).to_dict()
    second = bd.check_layer(AffineTimesBatch(W, b), x, seed=3).to_dict()
    assert first == second and first["seed"] == 3


def test_unknown_options_are_named():
    from backprop_doctor.errors import UsageError

    with pytest.raises(UsageError, match="rtl"):
        bd.check_layer(Relu(), np.ones((2, 2)), rtl=1e-3)


# -- the user's arrays and RNG are left exactly as they were ---------------------------------


class Flaky(Affine):
    """Raises on the n-th forward call, after scribbling on its own arrays."""

    def __init__(self, W, b, fail_at):
        super().__init__(W, b)
        self.calls, self.fail_at = 0, fail_at

    def forward(self, x):
        self.calls += 1
        self.W += 1.0  # a layer that mutates its parameters
        if self.calls == self.fail_at:
            raise RuntimeError("boom")
        return super().forward(x)


class Unpicklable(Affine):
    def __init__(self, W, b):
        super().__init__(W, b)
        self.handle = (i for i in range(3))  # a generator: deepcopy fails, snapshot path used


@settings(max_examples=25, deadline=None)
@given(
    fail_at=st.integers(min_value=1, max_value=12),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 4)),
    use_snapshot=st.booleans(),
)
def test_user_arrays_and_global_rng_are_bit_identical_after_a_check_even_when_user_code_raises(fail_at, shape, use_snapshot):
    n, d, m = shape
    rng = np.random.default_rng(n * 100 + d * 10 + m)
    W, b, x = rng.standard_normal((d, m)), rng.standard_normal(m), rng.standard_normal((n, d))
    layer = Unpicklable(W, b) if use_snapshot else Flaky(W, b, fail_at)
    if use_snapshot:
        layer.fail_at = fail_at
    saved = {name: a.tobytes() for name, a in (("W", W), ("b", b), ("x", x))}
    np.random.seed(fail_at)
    state = np.random.get_state()
    bd.check_layer(layer, x)
    assert {name: a.tobytes() for name, a in (("W", W), ("b", b), ("x", x))} == saved
    assert layer.W is W and layer.b is b
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]


def test_network_whose_relu_inputs_sit_exactly_on_the_kink_has_no_error(rng):
    module = load_sample("multilayer_relu_fixed")
    np.random.seed(0)  # the sample draws its weights from the global stream: the same weights whatever ran before
    net = module.ThreeLayerNet(input_size=6, hidden_size1=5, hidden_size2=4, output_size=3)
    net.params["W1"][:, :2] = 0.0  # two hidden units get exactly 0 as input for every sample
    net.params["b1"][:2] = 0.0
    x = rng.standard_normal((5, 6))
    x[:, 3] = 0.0
    t = np.eye(3)[[0, 1, 2, 0, 1]]
    report = bd.check_network(net, x, t)
    assert report.ok, [f.message for f in report.errors]


class ReluMaskingOnDout(Relu):
    def backward(self, dout):
        dx = dout.copy()
        dx[dx <= 0] = 0  # masks on the gradient's sign, not on the input's
        return dx


class Scale:
    def __init__(self, s=1.5):
        self.s = np.array(s)

    def forward(self, x):
        self.x = x
        return x * self.s

    def backward(self, dout):
        self.ds = np.sum(dout)  # should be np.sum(dout * self.x)
        return dout * self.s


def test_upstream_gradient_is_independent_of_an_input_drawn_from_the_same_seed():
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((5, 6))  # what a caller or the builder draws
        report = bd.check_layer(ReluMaskingOnDout(), x, seed=seed)
        assert [f.name for f in report.errors] == ["gradient-mismatch"], seed


def test_accumulating_gradients_are_the_cause_not_a_factor_of_two(affine_args):
    W, b, x = affine_args
    report = bd.check_layer(AffineAccumulating(W, b), x)
    assert report.root_cause.name == "nonreentrant-backward"
    assert "gradient-mismatch" not in [f.name for f in report.findings]


def test_a_scalar_parameter_is_checked(rng):
    report = bd.check_layer(Scale(), rng.standard_normal((5, 3)))
    [finding] = report.errors
    assert (finding.name, finding.param) == ("gradient-mismatch", "s")


def test_check_network_leaves_the_global_rng_and_the_users_arrays_as_they_were(rng):
    module = load_sample("batchnorm_dropout_fixed")
    np.random.seed(3)
    net = module.BNNet(input_size=6, hidden_size=5, output_size=3)  # batch-norm and dropout: both draw or keep state
    x, t = rng.standard_normal((5, 6)), np.eye(3)[[0, 1, 2, 0, 1]]
    saved = {k: v.tobytes() for k, v in net.params.items()}
    np.random.seed(11)
    state = np.random.get_state()
    report = bd.check_network(net, x, t)
    after = np.random.get_state()
    assert report.ok, [f.message for f in report.errors]
    assert np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    assert {k: v.tobytes() for k, v in net.params.items()} == saved


class ForgetsForwardReturn:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class ForgetsBackwardReturn:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        dx = dout * self.out * (1 - self.out)  # noqa: F841


class BackwardReturnsATuple:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return 2 * dout, None


@pytest.mark.parametrize("layer", [ForgetsForwardReturn(), ForgetsBackwardReturn()])
def test_a_forgotten_return_is_an_error_at_the_method(layer, rng):
    report = bd.check_layer(layer, rng.standard_normal((4, 3)))
    [finding] = report.errors
    assert finding.name == "bad-return" and finding.line is not None and "None" in finding.message


def test_a_backward_returning_dx_in_a_tuple_is_checked_on_dx(rng):
    report = bd.check_layer(BackwardReturnsATuple(), rng.standard_normal((4, 3)))
    assert report.ok and [m.param for m in report.measurements] == ["x"]


@pytest.mark.parametrize(
    ("options", "named"),
    [({"rtol": -1}, "rtol=-1"), ({"rtol": "1e-3"}, "rtol='1e-3'"), ({"seed": None}, "seed=None"), ({"probes": 0}, "probes=0")],
)
def test_bad_options_are_usage_errors_naming_the_option(options, named, rng):
    from backprop_doctor.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(named)):
        bd.check_layer(Relu(), rng.standard_normal((3, 2)), **options)


def test_caller_mistakes_are_named_not_blamed_on_the_layer(affine_args):
    from backprop_doctor.errors import UsageError

    W, b, x = affine_args
    with pytest.raises(UnsupportedObject, match="is a class: pass an instance"):
        bd.check_layer(Affine, x)
    with pytest.raises(UsageError, match="pass at least one sample"):
        bd.check_layer(Affine(W, b), np.zeros((0, 4)))
    with pytest.raises(UsageError, match="t has 3 rows but x has 5"):
        bd.check_layer(SoftmaxWithLoss(), x[:, :3], t=[0, 1, 2])
    one_hot_as_lists = np.eye(3)[[0, 1, 2, 0, 1]].tolist()  # plain Python lists are converted
    assert bd.check_layer(SoftmaxWithLoss(), x[:, :3], t=one_hot_as_lists).ok


def test_integer_weights_given_to_check_functions_are_still_checked(rng):
    buggy = load_sample("cs231n_buggy")
    x = rng.standard_normal((5, 7))
    report = bd.check_functions(buggy.affine_forward, buggy.affine_backward, x, rng.integers(-3, 3, (7, 6)), np.zeros(6))
    assert {"w", "b"} <= {m.param for m in report.measurements} | {f.param for f in report.findings}
