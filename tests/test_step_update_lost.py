"""Updates that never reach the arrays the forward pass reads: a copy moved instead of the parameter,
or an update function that rebinds its own name for the array. The replayed loss repeats to the last
digit; the report names the update and the copy or the rebinding, with what to write. The right
twins (in place, or returned and assigned) are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

HEAD = '''\
import numpy as np

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4))
t = np.eye(3)[rng.integers(0, 3, 64)]
'''

FORWARD = '''\
    h = np.maximum(0, X @ W1)
    s = h @ W2
    e = np.exp(s - s.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.sum(t * np.log(prob)) / len(X)
    ds = (prob - t) / len(X)
'''

IN_A_DICT = HEAD + '''\
params = {"W1": rng.normal(size=(4, 8)) * 0.3, "W2": rng.normal(size=(8, 3)) * 0.3}
for step in range(300):
    W1, W2 = params["W1"], params["W2"]
''' + FORWARD + '''\
    grads = {"W2": h.T @ ds, "W1": X.T @ (ds @ W2.T * (h > 0))}
    for k in params:
        params[k] -= 0.5 * grads[k]
'''

BY_A_FUNCTION = HEAD + '''\
W1 = rng.normal(size=(4, 8)) * 0.3
W2 = rng.normal(size=(8, 3)) * 0.3


def sgd(W, dW, lr):
    W -= lr * dW


for step in range(300):
''' + FORWARD + '''\
    dW2 = h.T @ ds
    dW1 = X.T @ (ds @ W2.T * (h > 0))
    sgd(W1, dW1, 0.5)
    sgd(W2, dW2, 0.5)
'''


def lost(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-update-lost"]


def test_updates_in_place_are_clean(tmp_path):
    for name, source in (("in_a_dict.py", IN_A_DICT), ("by_a_function.py", BY_A_FUNCTION)):
        report = check(write(tmp_path, name, source), training=True)
        assert errors(report) == [] and lost(report) == [], name


def test_a_copy_moved_instead_of_the_parameter_is_named_with_the_copy(tmp_path):
    path = planted(tmp_path, "in_a_dict.py", IN_A_DICT, "        params[k] -= 0.5 * grads[k]\n",
                   "        w = params[k].copy()\n        w -= 0.5 * grads[k]\n")  # fmt: skip
    report = check(path, training=True)
    (found,) = lost(report)
    assert found["severity"] == "error" and found["line"] == line_of(path, "w = params[k].copy()")
    assert f"the update (line {line_of(path, 'w -= 0.5')}) moves `w`, a copy of `params[k]`" in found["message"]
    assert found["message"].endswith("update `params[k]` itself: `params[k] -= 0.5 * grads[k]`")
    assert report["verdict"].startswith("✗") and "nothing was checked" not in report["verdict"]


def test_an_update_function_that_rebinds_its_argument_is_named(tmp_path):
    path = planted(tmp_path, "by_a_function.py", BY_A_FUNCTION, "    W -= lr * dW\n", "    W = W - lr * dW\n")
    (found,) = lost(check(path, training=True))
    assert found["line"] == line_of(path, "W = W - lr * dW")
    assert "binds a new array to `W`, `sgd`'s own name for the array it was given" in found["message"]
    assert "write `W -= lr * dW`" in found["message"]


def test_a_function_that_returns_the_new_array_and_is_assigned_is_clean(tmp_path):
    source = BY_A_FUNCTION.replace("    W -= lr * dW\n", "    return W - lr * dW\n").replace(
        "    sgd(W1, dW1, 0.5)\n    sgd(W2, dW2, 0.5)\n", "    W1 = sgd(W1, dW1, 0.5)\n    W2 = sgd(W2, dW2, 0.5)\n")
    report = check(write(tmp_path, "returned.py", source), training=True)
    assert errors(report) == [] and lost(report) == []


def test_updates_that_promise_no_change_are_still_not_lost():
    """A loss that stays put because the gradients are 0 to rounding (zero-initialised weights whose
    only gradient is a bias's 1e-17) or the rate is 0 is not a lost update."""
    from types import SimpleNamespace

    import numpy as np

    from backprop_doctor.replay.gradients import _still

    def moved(gradient, rate):
        return SimpleNamespace(gradient=np.asarray(gradient, dtype=float), rate=rate)

    assert _still([moved(np.zeros((3, 4)), 0.5), moved([1e-17], 0.5)], 0.693)
    assert _still([moved(np.ones((3, 4)), 0.0)], 0.693)
    assert not _still([moved(np.full((3, 4), 1e-3), 0.5)], 0.693)
    assert not _still([moved(np.full((3, 4), 1e-3), None)], 0.693)
