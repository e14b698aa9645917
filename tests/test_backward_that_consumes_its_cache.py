"""A backward that consumes what its forward left (`cache.pop()` per time step) runs once per
forward, as training calls it; a second call on the same cache raises. That is a warning about
re-entrancy, not a layer that raises: its gradients are still checked from the first call."""

from __future__ import annotations

from tests.userfiles import check, errors, planted, write

PAIR = '''\
import numpy as np


def step_forward(x, h, Wx, Wh):
    out = np.tanh(x @ Wx + h @ Wh)
    return out, (x, h, Wx, Wh, out)


def step_backward(dout, cache):
    x, h, Wx, Wh, out = cache
    da = dout * (1 - out ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h.T @ da


def seq_forward(x, h0, Wx, Wh):
    hs, cache, h = [], [], h0
    for t in range(x.shape[1]):
        h, c = step_forward(x[:, t, :], h, Wx, Wh)
        hs.append(h)
        cache.append(c)
    return np.stack(hs, axis=1), cache


def seq_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dWx, dWh, dprev = 0, 0, np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t, :], dprev, dWx_t, dWh_t = step_backward(dh[:, t, :] + dprev, cache.pop())
        dWx, dWh = dWx + dWx_t, dWh + dWh_t
    return dx, dprev, dWx, dWh
'''


def test_a_backward_that_pops_its_cache_is_a_re_entrancy_warning_and_its_gradients_are_checked(tmp_path):
    path = write(tmp_path, "sequence.py", PAIR)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "nonreentrant-backward"]
    assert finding["severity"] == "warning" and "raised IndexError" in finding["message"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "seq"} >= {"x", "Wx", "Wh"}


def test_a_wrong_gradient_in_a_backward_that_pops_its_cache_is_still_found(tmp_path):
    path = planted(tmp_path, "sequence.py", PAIR, "da = dout * (1 - out ** 2)", "da = dout * (1 - out)")
    found = {f["layer"] for f in errors(check(path)) if f["name"] == "gradient-mismatch"}
    assert found and found <= {"seq", "step"}
