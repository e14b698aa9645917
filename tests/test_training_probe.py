"""The training probe's numerics: curves, settings, data, swaps; on small networks written here."""

import ast
import json
from collections import OrderedDict

import numpy as np
import pytest

from backprop_doctor import reference, training
from backprop_doctor.build import Built
from backprop_doctor.context import CheckContext
from backprop_doctor.findings import Finding
from backprop_doctor.options import Options
from backprop_doctor.rules import all_rules


class Net:
    """A correct book-style network built from the reference layers."""

    def __init__(self, d=6, h=8, c=3, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": 0.1 * rng.standard_normal((d, h)), "b1": np.zeros(h), "W2": 0.1 * rng.standard_normal((h, c)), "b2": np.zeros(c)}
        self.layers = OrderedDict(
            Affine1=reference.Affine(self.params["W1"], self.params["b1"]),
            Relu1=reference.Relu(),
            Affine2=reference.Affine(self.params["W2"], self.params["b2"]),
        )
        self.lastLayer = reference.SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db, "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}


class WholeBatchSoftmaxLoss:
    """The seed's bug: one softmax over the whole batch."""

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - np.max(x))
        self.y = e / np.sum(e)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]


class Center:
    """A custom layer with no reference."""

    def forward(self, x):
        return x - np.mean(x)

    def backward(self, dout):
        return dout


class ListNet:
    """DLFS-2 style: params/grads lists, forward(x, t), backward()."""

    def __init__(self, d=6, h=8, c=3):
        rng = np.random.default_rng(1)
        self.layers = [reference.Affine(0.1 * rng.standard_normal((d, h)), np.zeros(h)), reference.Sigmoid(), reference.Affine(0.1 * rng.standard_normal((h, c)), np.zeros(c))]
        self.loss_layer = reference.SoftmaxWithLoss()
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, x, t):
        for layer in self.layers:
            x = layer.forward(x)
        return self.loss_layer.forward(x, t)

    def backward(self, dout=1):
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


def built(net, d=6, c=3, name=None):
    x = np.zeros((5, d))
    t = np.eye(c)[np.arange(5) % c]
    return Built(name or type(net).__name__, net, f"{type(net).__name__}(...)", [("x", x, t)], line=None)


def settings(lr=0.5, batch=50):
    return training.Settings(training.Setting(lr, 1), training.Setting(batch, 2))


def probe(net, findings=(), **kw):
    return training.probe_network(built(net), settings(**kw), seed=0, findings=findings)


def test_probe_trains_a_correct_network_and_its_loss_falls():
    result = probe(Net())
    assert result.yours.trend == "falls" and training.falls_clearly(result.yours)
    assert len(result.yours.losses) == training.STEPS
    assert result.yours.losses[0] == pytest.approx(np.log(3), abs=0.05)
    assert training.fitted(result.overfit)
    assert result.reference is None and "no earlier finding" in result.reference_note
    assert not result.smaller  # nothing to compare when the loss falls
    assert set(result.yours.ratios) == {"W1", "W2"}


def test_probe_is_deterministic_and_leaves_the_network_and_numpys_random_state_alone():
    net = Net()
    before = {k: v.copy() for k, v in net.params.items()}
    np.random.seed(123)
    state = np.random.get_state()
    first, second = probe(net), probe(net)
    assert first.yours.losses == second.yours.losses and first.overfit.losses == second.overfit.losses
    assert all(np.array_equal(net.params[k], before[k]) for k in before)
    assert net.layers["Affine1"].W is net.params["W1"]
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_probe_trains_dlfs2_list_networks_through_their_grads_list():
    result = probe(ListNet(), lr=1.0)
    assert result.yours.trend == "falls", result.yours.losses[::20]
    assert result.yours.error is None and not result.yours.skipped


def test_a_softmax_over_the_whole_batch_is_confirmed_by_the_per_row_reference():
    net = Net(d=20, c=10)
    net.lastLayer = WholeBatchSoftmaxLoss()
    finding = Finding("softmax-not-per-row", "BPD301", "error", "sum over the batch", layer="softmax")
    result = training.probe_network(built(net, d=20, c=10), settings(lr=0.1, batch=100), findings=[finding])
    assert result.yours.trend == "rises"
    assert result.reference_label == "per-row softmax"
    assert result.reference.trend == "falls" and result.reference.losses[0] == pytest.approx(np.log(10), abs=0.1)
    assert result.reference_falls and not result.smaller
    rows = dict(training.curve_evidence(result))
    assert rows["with per-row softmax"].startswith("2.30 → ")


def test_a_loss_layer_gradient_mismatch_also_swaps_in_the_reference_softmax():
    net = Net()
    net.lastLayer = WholeBatchSoftmaxLoss()
    finding = Finding("gradient-mismatch", "BPD101", "error", "wrong", layer="WholeBatchSoftmaxLoss", param="x")
    result = probe(net, findings=[finding])
    assert [s.kind for s in result.swaps] == ["softmax"] and result.reference_falls


def test_unshared_parameters_are_shared_again_for_the_reference_run():
    net = Net()
    for key, layer in (("1", net.layers["Affine1"]), ("2", net.layers["Affine2"])):
        layer.W, layer.b = net.params["W" + key].copy(), net.params["b" + key].copy()
    result = probe(net, findings=[Finding("unshared-parameter", "BPD401", "error", "copy")])
    assert result.yours.trend == "stagnant"
    assert result.reference_label == "layers sharing params" and result.reference_falls


def test_when_no_reference_applies_the_probe_says_so():
    net = Net()
    net.layers = OrderedDict([("Affine1", net.layers["Affine1"]), ("Center", Center()), ("Relu1", net.layers["Relu1"]), ("Affine2", net.layers["Affine2"])])
    result = probe(net, findings=[Finding("gradient-mismatch", "BPD101", "error", "wrong", layer="Center", param="x")])
    assert result.reference is None
    assert "no reference implementation" in result.reference_note and "`Center`" in result.reference_note
    assert dict(training.curve_evidence(result))["reference"].startswith("Gradient-mismatch in `Center` (Center): no reference")


def test_a_learning_rate_that_is_too_high_is_retried_smaller():
    result = training.probe_network(built(Net(d=20, c=10), d=20, c=10), settings(lr=200.0, batch=100))
    assert result.yours.trend in ("diverges", "non-finite", "rises")
    assert result.falls_with_smaller_rate is not None
    assert result.falls_with_smaller_rate.lr in (20.0, 2.0)
    assert max(result.yours.ratios.values()) > training.RATIO_RANGE[1]


class RaisingNet(Net):
    def gradient(self, x, t):
        if self.params["W1"][0, 0] != self._start:
            raise ValueError("shapes (50,8) and (3,8) not aligned")
        return super().gradient(x, t)

    def __init__(self):
        super().__init__()
        self._start = self.params["W1"][0, 0]


class ArrayLossNet(Net):
    def loss(self, x, t):
        super().loss(x, t)
        return np.ones(3)


class LogZeroLoss(reference.SoftmaxWithLoss):
    def forward(self, x, t):
        return super().forward(x, t) - np.log(0.0 * x.max())


class NanNet(Net):
    def __init__(self):
        super().__init__()
        self.lastLayer = LogZeroLoss()


@pytest.mark.parametrize("cls", [RaisingNet, ArrayLossNet])
def test_user_code_that_raises_ends_the_run_but_never_raises(cls):
    result = probe(cls())
    assert result.yours.error
    assert result.yours.trend in ("empty", "falls", "stagnant", "rises")


def test_nan_is_located_at_its_first_step_and_layer():
    result = probe(NanNet())
    nf = result.yours.non_finite
    assert nf is not None and nf.step == 0 and nf.what == "loss"
    assert nf.layer == "lastLayer"
    assert result.yours.trend == "non-finite" and not result.smaller


class LabelsOnlyLoss(reference.SoftmaxWithLoss):
    def forward(self, x, t):
        if np.ndim(t) != 1:
            raise IndexError("only integer labels, please")
        return super().forward(x, t)


def test_a_loss_that_takes_only_integer_labels_gets_integer_labels():
    net = Net()
    net.lastLayer = LabelsOnlyLoss()
    result = probe(net)
    assert result.yours.error is None and result.yours.trend == "falls"


@pytest.mark.parametrize(
    "losses, trend",
    [
        ([2.3] + [2.3 * 0.98**i for i in range(99)], "falls"),
        ([2.3] * 100, "stagnant"),
        ([2.3 + 0.02 * i for i in range(100)], "rises"),
        ([2.3 * 1.1**i for i in range(50)], "diverges"),
        ([2.3, 5.0, 9.0, float("nan")], "non-finite"),
        ([0.0] * 20, "falls"),  # already fitted: nothing to do
        ([], "empty"),
    ],
)
def test_curve_shape_names_each_kind_of_curve(losses, trend):
    assert training.curve_shape(losses).trend == trend


def test_a_nan_after_a_climb_remembers_the_climb():
    shape = training.curve_shape([2.3, 5.0, 9.0, 12.0, float("inf")])
    assert shape.trend == "non-finite" and shape.before == "diverges" and shape.peak == 12.0


def test_settings_come_from_literals_in_the_script():
    tree = ast.parse(
        "import numpy as np\n"
        "x = np.random.rand(10, 2)\n"
        "batch_size = 64\n"
        "learning_rate = 1e-2\n"
        "opt = SGD(lr=0.5)\n"
        "for i in range(10):\n"
        "    for key in params:\n"
        "        params[key] -= learning_rate * grads[key]\n"
    )
    found = training.script_settings(tree)
    assert (found.lr.value, found.lr.line) == (0.01, 4)
    assert (found.batch_size.value, found.batch_size.line) == (64, 3)
    assert found.batch == 64 and found.update_line == 8
    keyword_only = training.script_settings(ast.parse("optimizer = SGD(lr=1.0)\n"))
    assert (keyword_only.lr.value, keyword_only.lr.line) == (1.0, 1)
    nothing = training.script_settings(ast.parse("lr = some_function()\nbatch_size = 512\n"))
    assert nothing.lr == training.Setting(training.DEFAULT_LR) and nothing.batch == training.MAX_BATCH


def test_synthetic_data_has_the_networks_shapes_one_hot_targets_and_a_fixed_seed():
    a = training.synthetic_data((784,), 10, np.random.default_rng(0))
    b = training.synthetic_data((784,), 10, np.random.default_rng(0))
    assert a.x.shape == (training.TRAIN_SAMPLES, 784) and a.t.shape == (training.TRAIN_SAMPLES, 10)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.t.sum(axis=1), np.ones(training.TRAIN_SAMPLES))
    assert 50 < np.mean(np.sum(a.x**2, axis=1)) < 200  # about the length of a normalised MNIST digit
    images = training.synthetic_data((1, 6, 6), 4, np.random.default_rng(0))
    assert images.x.shape[1:] == (1, 6, 6) and "4 Gaussian clusters" in images.label


def test_user_data_from_an_npz_file_is_used(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 6))
    t = np.eye(3)[np.argmax(x[:, :3], axis=1)]
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, t=t)
    result = training.probe_network(built(Net()), settings(), data_path=str(path))
    assert "your data (mine.npz, 60 samples)" == result.data_label and result.yours.trend == "falls"
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=x)
    result = training.probe_network(built(Net()), settings(), data_path=str(bad))
    assert result.data_label.startswith("synthetic") and "could not use --data" in result.note


def test_a_big_network_trains_on_smaller_batches_then_for_fewer_steps():
    assert training.run_size(100, 200, 40_000) == (100, 200)
    batch, steps = training.run_size(100, 200, 200_000)
    assert batch < 100 and steps == 200
    batch, steps = training.run_size(100, 200, 5_000_000)
    assert batch == training.MIN_BATCH and steps == training.MIN_STEPS


def context(*networks, findings=(), **options):
    return CheckContext(options=Options(**options), networks=list(networks), findings=list(findings))


def test_probe_for_runs_once_and_leaves_json_ready_curves_for_the_report():
    ctx = context(built(Net()))
    first = training.probe_for(ctx)
    assert training.probe_for(ctx) is first and len(first) == 1
    drawn = ctx.extras["training"]
    assert set(drawn) >= {"yours", "reference", "reference_label", "steps", "lr", "batch_size", "network"}
    assert drawn["network"] == "Net" and drawn["steps"] == len(drawn["yours"]) and drawn["reference"] is None
    json.dumps(drawn)
    assert all(not k.startswith("_") for k in ctx.extras if k != training.PROBE_KEY)


def test_with_training_off_there_is_no_probe_and_no_training_finding():
    net = Net()
    net.lastLayer = WholeBatchSoftmaxLoss()
    ctx = context(built(net), training=False)
    assert training.probe_for(ctx) == [] and "training" not in ctx.extras
    found = [f for r in all_rules().values() if r.stage == "training" and r.run for f in r.run(ctx)]
    assert found == []


class FrozenAffine(reference.Affine):
    """An affine layer whose backward forgets to write dW (DLFS-2 style: grads stay zero)."""

    def backward(self, dout):
        return dout @ self.W.T


def test_a_broken_dlfs2_affine_is_replaced_by_a_reference_writing_into_the_same_grads_arrays():
    net = ListNet()
    for i in (0, 2):
        old = net.layers[i]
        net.layers[i] = FrozenAffine(old.W, old.b, old.grads)
    findings = [Finding("gradient-mismatch", "BPD101", "error", "dW is never written", layer=f"layers[{i}]", param="W") for i in (0, 2)]
    result = probe(net, findings=findings, lr=1.0)
    assert [s.kind for s in result.swaps] == ["affine", "affine"]
    assert result.yours.trend == "stagnant"
    assert result.reference.error is None and result.reference_falls


class _ConvShaped:
    def __init__(self):
        self.params = {"W1": np.zeros((30, 1, 5, 5)), "b1": np.zeros(30), "W2": np.zeros((100, 10))}

    def loss(self, x, t):
        return 0.0

    def gradient(self, x, t):
        return {}


def test_a_convolution_filter_costs_once_per_spatial_position_so_conv_runs_are_sized_by_work_not_time():
    from backprop_doctor.training.probe import _parameter_count

    images, rows = np.zeros((2, 1, 28, 28)), np.zeros((2, 784))
    assert _parameter_count(_ConvShaped(), images) == 750 * 28 * 28 + 30 + 1000
    assert _parameter_count(_ConvShaped(), rows) == 750 + 30 + 1000
    work = _parameter_count(_ConvShaped(), images)
    batch, steps = training.run_size(100, 200, work)
    assert (batch, steps) == (training.MIN_BATCH, training.WORK // (training.MIN_BATCH * work))
    assert batch * steps * work <= training.WORK < batch * (steps + 1) * work
    assert training.run_size(100, 200, _parameter_count(_ConvShaped(), rows)) == (100, 200)
