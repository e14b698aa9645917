"""A network that holds batch-norm layers.

Batch norm mixes the samples of a batch in training by design. Its network is probed for batch
coupling with its train flag off: one that hands the flag on to its batch-norm layers is per
sample then; one that does not still normalises with the batch's statistics at inference, which
is told as that (a warning), not as a layer that mixes samples by mistake. A batch-norm layer
that updates its own parameters in backward makes its network's second backward differ: an info,
like the layer's own, not a re-entrancy error of the network."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

NETWORK = '''\
import numpy as np


class Dense:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(size=(n_in, n_out)) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x, training=True):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class BatchNormal:
    def __init__(self, width):
        self.gamma = np.ones(width)
        self.beta = np.zeros(width)
        self.running_mean = np.zeros(width)
        self.running_var = np.ones(width)

    def forward(self, x, training=True):
        if training:
            mean, var = x.mean(axis=0), x.var(axis=0)
            self.running_mean = 0.9 * self.running_mean + 0.1 * mean
            self.running_var = 0.9 * self.running_var + 0.1 * var
        else:
            mean, var = self.running_mean, self.running_var
        self.std = np.sqrt(var + 1e-5)
        self.xhat = (x - mean) / self.std
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        dxhat = dout * self.gamma
        self.dgamma = np.sum(dout * self.xhat, axis=0)
        self.dbeta = np.sum(dout, axis=0)
        return (n * dxhat - dxhat.sum(axis=0) - self.xhat * np.sum(dxhat * self.xhat, axis=0)) / (n * self.std)


class Net:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.seq = [Dense(6, 8, rng), BatchNormal(8), Dense(8, 3, rng)]

    def forward(self, x, training=True):
        for layer in self.seq:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad):
        for layer in reversed(self.seq):
            grad = layer.backward(grad)
        return grad


net = Net()
x = np.random.default_rng(1).normal(size=(32, 6))
for step in range(5):
    out = net.forward(x)
    net.backward(out / len(x))
'''


def test_a_network_that_hands_its_train_flag_to_batch_norm_is_per_sample_at_inference(tmp_path):
    path = write(tmp_path, "bn_net.py", NETWORK)
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "batch-coupling" and f["layer"] == "Net"] == []
    assert errors(report) == []


def test_a_network_that_drops_its_train_flag_gets_a_warning_that_says_so(tmp_path):
    path = planted(tmp_path, "bn_net.py", NETWORK, "x = layer.forward(x, training=training)", "x = layer.forward(x)")
    report = check(path)
    (finding,) = [f for f in report["findings"] if f["name"] == "batch-coupling"]
    assert finding["severity"] == "warning"
    assert finding["layer"] == "Net"
    assert "`Net.forward(training=False)` still mixes the samples of a batch: it does not pass `training` on to `BatchNormal`" in finding["message"]
    assert errors(report) == []


def test_a_batch_norm_that_updates_itself_in_backward_makes_no_reentrancy_error_of_its_network(tmp_path):
    path = planted(tmp_path, "bn_net.py", NETWORK, "        self.dbeta = np.sum(dout, axis=0)\n",
                   "        self.dbeta = np.sum(dout, axis=0)\n        self.gamma -= 0.01 * self.dgamma\n        self.beta -= 0.01 * self.dbeta\n")
    report = check(path)
    net = [f for f in report["findings"] if f["name"] == "nonreentrant-backward" and f["layer"] == "Net"]
    assert [f["severity"] for f in net] in ([], ["info"])
    assert all("`BatchNormal.backward` updates that layer's parameters itself" in f["message"] for f in net)
    assert not [f for f in errors(report) if f["name"] == "nonreentrant-backward"]


def test_a_dropped_train_flag_is_not_folded_under_an_unrelated_wrong_gradient(tmp_path):
    source = NETWORK.replace("x = layer.forward(x, training=training)", "x = layer.forward(x)").replace(
        "        return dout @ self.W.T\n", "        return 2 * dout @ self.W.T\n", 1)
    path = write(tmp_path, "bn_net.py", source)
    report = check(path)
    (flag,) = [f for f in report["findings"] if f["name"] == "batch-coupling"]
    assert flag["caused_by"] is None
    assert any(f["name"] == "gradient-mismatch" and f["layer"] == "Dense" for f in errors(report))
