"""Training loops whose forward pass sits at the end of each pass, and forward values unpacked
from one call of the user's own function.

A rotated loop computes the first forward pass before the loop and each later one after the
update, so the backward at the top of a pass reads what the previous pass left:

    out = forward(X, W)
    for epoch in range(n):
        dW = X.T @ (out - y)
        W -= lr * dW
        out = forward(X, W)

Replayed from the top of a pass alone, the loss would not move with any weight; read from its
forward at the end, the pass is a whole step, and a wrong gradient is named at its line.

`z1, a1, out = forward(X, W1, W2)` hands back values computed together: moving `a1` after that
statement moves nothing, so it is moved inside `forward`, where it is computed.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

ROTATED = '''\
import numpy as np

np.random.seed(0)
X = np.random.randn(64, 4)
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(4, 8) * 0.5
b1 = np.zeros((1, 8))
W2 = np.random.randn(8, 1) * 0.5
b2 = np.zeros((1, 1))
lr = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# 先计算一次前向传播 (the first forward pass, before the loop)
h = np.tanh(X @ W1 + b1)
out = sigmoid(h @ W2 + b2)
for epoch in range(2000):
    d_out = (out - y) / len(X)
    dW2 = h.T @ d_out
    db2 = d_out.sum(0, keepdims=True)
    dh = d_out @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(0, keepdims=True)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
    h = np.tanh(X @ W1 + b1)
    out = sigmoid(h @ W2 + b2)
    loss = -np.mean(y * np.log(out) + (1 - y) * np.log(1 - out))
    if epoch % 500 == 0:
        print(epoch, loss)
'''

UNPACKED = '''\
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(50, 3))
Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3


def forward(X, W1, W2):
    z1 = X @ W1
    a1 = np.maximum(0, z1)
    return z1, a1, a1 @ W2


W1 = rng.normal(size=(3, 10)) * 0.3
W2 = rng.normal(size=(10, 1)) * 0.3
lr = 0.01
for it in range(500):
    z1, a1, pred = forward(X, W1, W2)
    error = np.mean((pred - Y) ** 2)
    d_pred = 2 * (pred - Y) / len(X)
    dW2 = a1.T @ d_pred
    d_a1 = d_pred @ W2.T
    d_z1 = d_a1 * (z1 > 0)
    dW1 = X.T @ d_z1
    W2 -= lr * dW2
    W1 -= lr * dW1
print(error)
'''


def _rotate(text: str) -> str:
    """`UNPACKED` with its forward call moved before the loop and to the end of each pass."""
    call = "z1, a1, pred = forward(X, W1, W2)\n"
    text = text.replace(f"for it in range(500):\n    {call}", f"{call}for it in range(500):\n")
    return text.replace("    W1 -= lr * dW1\n", f"    W1 -= lr * dW1\n    {call}")


def test_a_correct_rotated_loop_has_no_error(tmp_path):
    assert errors(check(write(tmp_path, "xor_net.py", ROTATED))) == []


def test_a_wrong_tanh_derivative_in_a_rotated_loop_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "xor_net.py", ROTATED, "(1 - h ** 2)", "(1 - h)")
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD108", line_of(path, "dh = d_out @ W2.T"))
    assert finding["param"] == "dh"
    assert "`d_out`, which it is computed from, is right" in finding["message"]


def test_a_loop_that_only_recomputes_its_forward_at_the_end_is_not_called_unused(tmp_path):
    path = planted(tmp_path, "xor_net.py", ROTATED, "(1 - h ** 2)", "(1 - h)")
    messages = " ".join(f["message"] for f in check(path)["findings"])
    assert "does not change when it does" not in messages


def test_forward_values_unpacked_from_one_call_are_correct_in_both_layouts(tmp_path):
    assert errors(check(write(tmp_path, "regression.py", UNPACKED))) == []
    assert errors(check(write(tmp_path, "rotated.py", _rotate(UNPACKED)))) == []


def test_a_missing_relu_derivative_is_named_where_it_is_missing_although_relu_runs_inside_a_function(tmp_path):
    for name, text in (("regression.py", UNPACKED), ("rotated.py", _rotate(UNPACKED))):
        path = planted(tmp_path, name, text, "d_z1 = d_a1 * (z1 > 0)", "d_z1 = d_a1")
        (finding,) = errors(check(path))
        assert (finding["code"], finding["line"], finding["param"]) == ("BPD108", line_of(path, "d_z1 = d_a1"), "d_z1"), name



def test_a_direction_through_a_kink_at_the_point_itself_is_not_judged():
    """Central differences across a kink at the point itself (a ReLU input exactly 0) average its
    two slopes at any step size; its two one-sided slopes differ, so the direction is not judged."""
    import numpy as np

    from backprop_doctor.replay.gradients import _measure

    base = np.array([0.0, 0.0, 1.5, -2.0, 0.7])  # two entries on the kink

    def loss_moved(delta):
        return float(np.sum(np.maximum(0.0, base + delta)))

    relu_slope = (base > 0).astype(float)  # what a backward pass computes: 0 on the kink
    measured = _measure("b1", 3, relu_slope, base, loss_moved, loss_moved(0.0), np.random.default_rng(0))
    assert measured.inconclusive and not measured.wrong
    wrong_slope = relu_slope * 2  # a real mistake away from the kink is still one
    measured = _measure("b1", 3, wrong_slope, base + 5.0, lambda d: float(np.sum(np.maximum(0.0, base + 5.0 + d))), float(np.sum(base + 5.0)), np.random.default_rng(0))
    assert measured.wrong and not measured.inconclusive
