"""A layer whose forward branches on a training flag outside the instance (`if Mode.train:`, a module's
`TRAINING`) and whose backward reads what only the training branch keeps (a batch norm's `inv_std`, a
dropout's mask): a program that ends in inference mode leaves the flag False, and the check runs the
layer in training mode all the same (the flag set for the call, then put back). No false error on the
correct layer; a wrong backward is still found."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

# The flag is a class attribute; the demo switches to inference at its end.
CLASS_FLAG = '''\
import numpy as np


class Mode:
    train = True


class BatchNorm:
    def __init__(self, n, momentum=0.9, eps=1e-5):
        self.gamma, self.beta = np.ones(n), np.zeros(n)
        self.run_mean, self.run_var = np.zeros(n), np.ones(n)
        self.momentum, self.eps = momentum, eps
        self.inv_std = None

    def forward(self, x):
        if Mode.train:
            mean, var = x.mean(axis=0), x.var(axis=0)
            self.run_mean = self.momentum * self.run_mean + (1 - self.momentum) * mean
            self.run_var = self.momentum * self.run_var + (1 - self.momentum) * var
            self.inv_std = 1.0 / np.sqrt(var + self.eps)
            self.xhat = (x - mean) * self.inv_std
        else:
            self.xhat = (x - self.run_mean) / np.sqrt(self.run_var + self.eps)
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dgamma = (dout * self.xhat).sum(axis=0)
        self.dbeta = dout.sum(axis=0)
        dxhat = dout * self.gamma
        return self.inv_std / n * (n * dxhat - dxhat.sum(axis=0) - self.xhat * (dxhat * self.xhat).sum(axis=0))


rng = np.random.RandomState(0)
X = rng.randn(32, 8) * 2 + 1
bn = BatchNorm(8)
fresh = BatchNorm(8)
for step in range(5):
    out = bn.forward(X)
Mode.train = False
fresh.run_mean, fresh.run_var = bn.run_mean, bn.run_var
print(fresh.forward(X).mean())
'''

# The flag is a module global a function switches off; the layer is a dropout.
MODULE_FLAG = '''\
import numpy as np

TRAINING = True


def inference():
    global TRAINING
    TRAINING = False


class Dropout:
    def __init__(self, keep=0.8):
        self.keep = keep
        self.mask = None

    def forward(self, x):
        if TRAINING:
            self.mask = (np.random.rand(*x.shape) < self.keep) / self.keep
            return x * self.mask
        return x

    def backward(self, dout):
        return dout * self.mask


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.3
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


np.random.seed(0)
x = np.random.randn(20, 5)
drop, head = Dropout(0.8), Dense(5, 2)
inference()
print(head.forward(drop.forward(x)).shape)
'''


def test_a_batch_norm_left_in_inference_mode_is_clean(tmp_path):
    report = check(write(tmp_path, "bn_demo.py", CLASS_FLAG))
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]
    assert {"x", "gamma", "beta"} <= {m["param"] for m in report["measurements"] if m["layer"] == "BatchNorm"}


def test_a_wrong_batch_norm_backward_is_still_found(tmp_path):
    path = planted(tmp_path, "bn_demo.py", CLASS_FLAG, "(n * dxhat - dxhat.sum(axis=0) - ", "(n * dxhat - ")
    wrong = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert [f["param"] for f in wrong] == ["x"], wrong


def test_a_dropout_after_a_module_flag_is_switched_off_is_clean(tmp_path):
    report = check(write(tmp_path, "dropout_demo.py", MODULE_FLAG))
    assert errors(report) == [], report["findings"]
    assert not [f for f in report["findings"] if f["name"] == "layer-raised"]
    assert "Dropout" in {m["layer"] for m in report["measurements"]}


def test_a_wrong_dropout_backward_is_still_found(tmp_path):
    path = planted(tmp_path, "dropout_demo.py", MODULE_FLAG, "return dout * self.mask", "return dout * (self.mask > 0)")
    wrong = [f for f in errors(check(path)) if f["name"] == "gradient-mismatch"]
    assert [f["layer"] for f in wrong] == ["Dropout"], wrong
