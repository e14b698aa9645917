"""Step functions paired by the short names students give them: `gru_step` beside `gru_step_back`,
`rnn_fwd` beside `rnn_bwd`. Called once per time step by a forward and a backward loop, the
backward's adjoints are measured at each step against the forward's values, so a wrong term inside
the step function is named at its own line, not at the loss function that returns the gradients.
Two styles; the correct twins are clean."""

import pytest

from backprop_doctor.static.pair_names import backward_of, forward_of
from tests.userfiles import check, line_of, planted, write

# an LSTM-free gated cell (a minimal GRU), parameters in a dict, gradients added into a dict
GATED = """
    import numpy as np

    rng = np.random.default_rng(7)
    D, H, T, N = 3, 5, 4, 16


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def gru_step(x, h_prev, P):
        zp = x @ P["Wz"] + h_prev @ P["Uz"]
        z = sigmoid(zp)
        cp = x @ P["Wc"] + h_prev @ P["Uc"]
        cand = np.tanh(cp)
        h = (1.0 - z) * h_prev + z * cand
        return h, (x, h_prev, z, cand)


    def gru_step_back(dh, cache, P, G):
        x, h_prev, z, cand = cache
        dcand = dh * z
        dz = dh * (cand - h_prev)
        dzp = dz * z * (1.0 - z)
        dcp = dcand * (1.0 - cand ** 2)
        G["Wz"] += x.T @ dzp
        G["Uz"] += h_prev.T @ dzp
        G["Wc"] += x.T @ dcp
        G["Uc"] += h_prev.T @ dcp
        dh_prev = dh * (1.0 - z) + dzp @ P["Uz"].T + dcp @ P["Uc"].T
        return dh_prev


    def loss_and_grads(P, xs, ys):
        h = np.zeros((xs.shape[0], H))
        caches = []
        for t in range(T):
            h, cache = gru_step(xs[:, t], h, P)
            caches.append(cache)
        pred = h @ P["V"]
        diff = pred - ys
        loss = 0.5 * np.mean(np.sum(diff ** 2, axis=1))
        G = {k: np.zeros_like(v) for k, v in P.items()}
        dpred = diff / xs.shape[0]
        G["V"] = h.T @ dpred
        dh = dpred @ P["V"].T
        for t in reversed(range(T)):
            dh = gru_step_back(dh, caches[t], P, G)
        return loss, G


    xs = rng.normal(size=(N, T, D))
    ys = xs.sum(axis=1)[:, :2] * 0.3
    P = {"Wz": rng.normal(0, 0.4, (D, H)), "Uz": rng.normal(0, 0.4, (H, H)),
         "Wc": rng.normal(0, 0.4, (D, H)), "Uc": rng.normal(0, 0.4, (H, H)), "V": rng.normal(0, 0.4, (H, 2))}
    for it in range(200):
        loss, G = loss_and_grads(P, xs, ys)
        for k in P:
            P[k] -= 0.1 * G[k]
    print(loss)
"""

# a plain tanh RNN, weights passed one by one, gradients added into a list
ELMAN = """
    import numpy as np

    np.random.seed(3)
    D, H, T, N = 2, 6, 5, 12


    def rnn_fwd(x, h_prev, Wx, Wh, b):
        a = x @ Wx + h_prev @ Wh + b
        h = np.tanh(a)
        return h, (x, h_prev, h)


    def rnn_bwd(dh, cache, Wx, Wh, grads):
        x, h_prev, h = cache
        da = dh * (1 - h ** 2)
        grads[0] += x.T @ da
        grads[1] += h_prev.T @ da
        grads[2] += da.sum(axis=0)
        return da @ Wh.T


    def run(weights, xs, target):
        Wx, Wh, b, Wo = weights
        h = np.zeros((xs.shape[0], H))
        caches = []
        for t in range(T):
            h, c = rnn_fwd(xs[:, t, :], h, Wx, Wh, b)
            caches.append(c)
        out = h @ Wo
        err = out - target
        loss = np.mean(err ** 2)
        grads = [np.zeros_like(w) for w in weights]
        dout = 2 * err / err.size
        grads[3] = h.T @ dout
        dh = dout @ Wo.T
        for t in range(T - 1, -1, -1):
            dh = rnn_bwd(dh, caches[t], Wx, Wh, grads)
        return loss, grads


    xs = np.random.randn(N, T, D)
    target = np.tanh(xs[:, :, :1].sum(axis=1))
    weights = [np.random.randn(D, H) * 0.5, np.random.randn(H, H) * 0.3, np.zeros(H), np.random.randn(H, 1) * 0.5]
    for step in range(150):
        loss, grads = run(weights, xs, target)
        for w, g in zip(weights, grads):
            w -= 0.2 * g
    print(loss)
"""

CASES = [
    pytest.param(GATED, "dcp = dcand * (1.0 - cand ** 2)", "dcp = dcand * (1.0 - cand)", id="gru_step_back"),
    pytest.param(ELMAN, "da = dh * (1 - h ** 2)", "da = dh * (1 + h ** 2)", id="rnn_fwd_bwd"),
]


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_a_wrong_term_in_a_short_named_step_function_is_named_at_its_line(tmp_path, source, correct, wrong):
    path = planted(tmp_path, "rnn.py", source, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, wrong), root


@pytest.mark.parametrize(("source", "correct", "wrong"), CASES)
def test_the_correct_twin_is_clean(tmp_path, source, correct, wrong):
    report = check(write(tmp_path, "rnn.py", source))
    assert not [f for f in report["findings"] if f["severity"] != "info"], report["findings"]
    assert report["verdict"].startswith("✓"), report["verdict"]


def test_a_right_adjoint_handed_to_a_step_function_is_not_blamed(tmp_path):
    # the pre-activation computed inline: nothing inside `rnn_bwd` can be measured by its forward value,
    # and `dh = dout @ Wo.T`, right, is handed to it; the error is not claimed to be at that line
    source = ELMAN.replace("a = x @ Wx + h_prev @ Wh + b\n        h = np.tanh(a)", "h = np.tanh(x @ Wx + h_prev @ Wh + b)")
    assert source != ELMAN
    path = planted(tmp_path, "rnn.py", source, "da = dh * (1 - h ** 2)", "da = dh * (1 + h ** 2)")
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error", root
    assert root["line"] != line_of(path, "dh = dout @ Wo.T"), root


def test_the_short_names_pair_both_ways():
    names = {"gru_step", "gru_step_back", "conv_fwd", "conv_bwd", "affine_forward", "affine_backward", "attn_forward", "attn_back", "relu", "relu_backward"}
    pairs = {name: backward_of(name, names) for name in sorted(names)}
    assert pairs["gru_step"] == "gru_step_back" and pairs["conv_fwd"] == "conv_bwd" and pairs["relu"] == "relu_backward"
    assert pairs["affine_forward"] == "affine_backward" and pairs["attn_forward"] == "attn_back"
    assert {forward_of(b, names) for b in ("gru_step_back", "conv_bwd", "affine_backward", "attn_back", "relu_backward")} == {
        "gru_step", "conv_fwd", "affine_forward", "attn_forward", "relu"}
    assert backward_of("softmax", names) is None and forward_of("gru_step", names) is None
