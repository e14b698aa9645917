"""Several wrong gradients located at lines of their own that all read one adjoint the replay cannot
measure (its forward value is never named: `h = np.tanh(X @ W + c)`): the statement that computes that
adjoint is the one to look at, one finding there instead of one per gradient. A gradient wrong at its own
line, beside right ones that read the same adjoint, keeps its own line.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

# A recurrent cell unrolled over a short sequence, the pre-activation never named.
RECURRENT = '''\
import numpy as np

gen = np.random.default_rng(33)
T, B, D, H = 5, 16, 3, 6
xs = gen.normal(size=(T, B, D))
target = xs.sum(axis=0)[:, :1] * 0.3
Wx = gen.normal(size=(D, H)) * 0.4
Wh = gen.normal(size=(H, H)) * 0.3
c = np.zeros(H)
Wy = gen.normal(size=(H, 1)) * 0.4


def run(xs):
    states = [np.zeros((B, H))]
    for t in range(T):
        states.append(np.tanh(xs[t] @ Wx + states[-1] @ Wh + c))
    return states, states[-1] @ Wy


for it in range(300):
    states, out = run(xs)
    err = 0.5 * np.mean((out - target) ** 2)
    d_out = (out - target) / B
    gWy = states[-1].T @ d_out
    gWx, gWh, gc = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(c)
    d_state = d_out @ Wy.T
    for t in reversed(range(T)):
        d_pre = d_state * (1 - states[t + 1] ** 2)
        gWx += xs[t].T @ d_pre
        gWh += states[t].T @ d_pre
        gc += d_pre.sum(axis=0)
        d_state = d_pre @ Wh.T
    Wx -= 0.2 * gWx
    Wh -= 0.2 * gWh
    c -= 0.2 * gc
    Wy -= 0.2 * gWy
'''


def test_wrong_gradients_read_from_one_adjoint_are_named_at_that_adjoint(tmp_path):
    path = planted(tmp_path, "cell.py", RECURRENT, "d_pre = d_state * (1 - states[t + 1] ** 2)", "d_pre = d_state * (1 - states[t] ** 2)")
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, "d_pre = d_state * (1 - states[t] ** 2)")], found
    assert "`d_pre`" in found[0]["message"]


def test_one_wrong_gradient_beside_right_ones_from_the_same_adjoint_keeps_its_line(tmp_path):
    path = planted(tmp_path, "cell_wh.py", RECURRENT, "gWh += states[t].T @ d_pre", "gWh += states[t + 1].T @ d_pre")
    found = errors(check(path))
    assert found and {f["line"] for f in found} == {line_of(path, "gWh += states[t + 1].T @ d_pre")}, found


def test_the_right_cell_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "cell_ok.py", RECURRENT))) == []


# Soft targets in the loss, the output error written against other targets: every gradient wrong,
# located at two lines that both come from the output error (`e`, not named like an adjoint).
SOFT = '''\
import numpy as np

gen = np.random.default_rng(35)
X = gen.normal(size=(200, 4))
labels = (X @ gen.normal(size=(4, 3))).argmax(axis=1)
soft = np.full((200, 3), 0.05)
soft[np.arange(200), labels] = 0.9
A = gen.normal(size=(4, 16)) * 0.5
a = np.zeros(16)
B = gen.normal(size=(16, 3)) * 0.3
bb = np.zeros(3)
for it in range(400):
    z = np.maximum(X @ A + a, 0)
    s = z @ B + bb
    q = np.exp(s - s.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(soft * np.log(q), axis=1))
    e = (q - soft) / len(X)
    gB = z.T @ e; gbb = e.sum(axis=0)
    ez = (e @ B.T) * (z > 0)
    gA = X.T @ ez; ga = ez.sum(axis=0)
    A -= 0.5 * gA; a -= 0.5 * ga
    B -= 0.5 * gB; bb -= 0.5 * gbb
'''


def test_an_output_error_against_other_targets_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "soft.py", SOFT, "e = (q - soft) / len(X)", "e = (q - np.eye(3)[labels]) / len(X)")
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, "e = (q - np.eye(3)[labels]) / len(X)")], found
    assert errors(check(write(tmp_path, "soft_ok.py", SOFT))) == []


# cs231n's two-layer net written into a dictionary of gradients, the ReLU's mask applied in place.
MASKED = '''\
import numpy as np

gen = np.random.default_rng(36)
X = gen.normal(size=(100, 5))
y = (X[:, 0] - X[:, 2] > 0).astype(int)
params = {"W1": gen.normal(size=(5, 20)) * 0.5, "b1": np.zeros(20), "W2": gen.normal(size=(20, 2)) * 0.5, "b2": np.zeros(2)}
for it in range(300):
    h = np.maximum(0, X @ params["W1"] + params["b1"])
    f = h @ params["W2"] + params["b2"]
    f = f - f.max(axis=1, keepdims=True)
    loss = -f[range(100), y].sum() / 100 + np.log(np.exp(f).sum(axis=1)).sum() / 100
    grads = {}
    dscore = np.exp(f) / np.exp(f).sum(axis=1, keepdims=True)
    dscore[range(100), y] -= 1
    dscore /= 100
    grads["W2"] = h.T @ dscore
    grads["b2"] = dscore.sum(axis=0)
    dh = dscore @ params["W2"].T
    dh[h <= 0] = 0
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    for k in params:
        params[k] -= 0.5 * grads[k]
'''


def test_a_mask_applied_in_place_wrongly_is_named_at_that_line(tmp_path):
    path = planted(tmp_path, "masked.py", MASKED, "dh[h <= 0] = 0", "dh[h <= 0.5] = 0")
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, "dh[h <= 0.5] = 0")], found
    assert errors(check(write(tmp_path, "masked_ok.py", MASKED))) == []
