"""RMSProp with momentum written out in a script, its velocity named like a gradient (`dW2 = mu * dW2
+ (1 - mu) * lr * gW2 / (np.sqrt(cache_W2) + eps)`, then `W2 -= dW2`): the gradient behind the update
is `gW2`, above the running average's root, not `dW2`. The step is read as an adaptive one and `gW2`
is compared with the loss's gradient, so a correct program gets no warning and a wrong gradient is
named where it is computed.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(8)
X = rng.normal(size=(300, 5))
labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.8).astype(int)
T = np.eye(3)[labels]

W1, b1 = rng.normal(scale=0.3, size=(5, 16)), np.zeros(16)
W2, b2 = rng.normal(scale=0.3, size=(16, 3)), np.zeros(3)
lr, mu, decay, eps = 0.001, 0.9, 0.99, 1e-8
cache_W2 = cache_b2 = cache_W1 = cache_b1 = 1
dW2 = db2 = dW1 = db1 = 0
for epoch in range(60):
    for j in range(0, 300, 50):
        Xb, Tb = X[j:j + 50], T[j:j + 50]
        Z = np.tanh(Xb @ W1 + b1)
        A = Z @ W2 + b2
        P = np.exp(A - A.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        gW2 = Z.T @ (P - Tb)
        gb2 = (P - Tb).sum(axis=0)
        dZ = (P - Tb) @ W2.T * (1 - Z * Z)
        gW1 = Xb.T @ dZ
        gb1 = dZ.sum(axis=0)
        cache_W2 = decay * cache_W2 + (1 - decay) * gW2 * gW2
        cache_b2 = decay * cache_b2 + (1 - decay) * gb2 * gb2
        cache_W1 = decay * cache_W1 + (1 - decay) * gW1 * gW1
        cache_b1 = decay * cache_b1 + (1 - decay) * gb1 * gb1
        dW2 = mu * dW2 + (1 - mu) * lr * gW2 / (np.sqrt(cache_W2) + eps)
        db2 = mu * db2 + (1 - mu) * lr * gb2 / (np.sqrt(cache_b2) + eps)
        dW1 = mu * dW1 + (1 - mu) * lr * gW1 / (np.sqrt(cache_W1) + eps)
        db1 = mu * db1 + (1 - mu) * lr * gb1 / (np.sqrt(cache_b1) + eps)
        W2 -= dW2
        b2 -= db2
        W1 -= dW1
        b1 -= db1
'''

RIGHT = "        dZ = (P - Tb) @ W2.T * (1 - Z * Z)\n"


def test_the_adaptive_step_is_read_and_clean(tmp_path):
    report = check(planted(tmp_path, "rms.py", PROGRAM, RIGHT, RIGHT))
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []
    assert {p["name"]: p["wrong"] for p in replayed(report)["parameters"]} == {"W2": False, "b2": False, "W1": False, "b1": False}


def test_a_wrong_hidden_gradient_is_named(tmp_path):
    path = planted(tmp_path, "rms.py", PROGRAM, RIGHT, "        dZ = (P - Tb) @ W2.T * (1 - Z)\n")
    assert errors(check(path))[0]["line"] == line_of(path, "dZ = (P - Tb) @ W2.T * (1 - Z)")
