"""An Adam step whose learning rate is a plain number: `w -= 0.01 * m_hat / (np.sqrt(v_hat) + eps)`,
`upd = m_hat / (np.sqrt(v_hat) + 1e-8) * 0.01` then `w -= upd`, in a script of named arrays, and
`P[k] -= 0.005 * mh / (np.sqrt(vh) + 1e-8)` or `step = mh / (vh ** 0.5 + 1e-8) * 0.005; P[k] -= step` over a
dict's keys. No name says rate, gradient or velocity; a number times a moment over a square root is an
adaptive step, so the update is the parameter's and the step is replayed, its gradient the one the moments
average. A second moment that averages the gradient itself, not its square, is named at its line (its
square root goes NaN); a step that adds is named at the update. The correct programs are clean."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCRIPT = """\
import numpy as np

rng = np.random.default_rng(5)
X = rng.normal(size=(64, 4))
y = (X @ np.array([1.5, -2.0, 0.5, 1.0]) + 0.2 * rng.normal(size=64))[:, None]
w = 0.1 * rng.normal(size=(4, 1))
b = np.zeros((1, 1))
m_w, v_w = np.zeros_like(w), np.zeros_like(w)
m_b, v_b = np.zeros_like(b), np.zeros_like(b)
beta1, beta2, eps = 0.9, 0.999, 1e-8
for t in range(1, 501):
    pred = X @ w + b
    loss = np.mean((pred - y) ** 2)
    dpred = 2 * (pred - y) / len(X)
    dw = X.T @ dpred
    db = dpred.sum(axis=0, keepdims=True)
    m_w = beta1 * m_w + (1 - beta1) * dw
    v_w = beta2 * v_w + (1 - beta2) * dw ** 2
    m_hat = m_w / (1 - beta1 ** t)
    v_hat = v_w / (1 - beta2 ** t)
    upd = m_hat / (np.sqrt(v_hat) + 1e-8) * 0.01
    w -= upd
    m_b = beta1 * m_b + (1 - beta1) * db
    v_b = beta2 * v_b + (1 - beta2) * db ** 2
    mb_hat = m_b / (1 - beta1 ** t)
    vb_hat = v_b / (1 - beta2 ** t)
    b -= 0.01 * mb_hat / (np.sqrt(vb_hat) + eps)
print(loss)
"""

DICT = """\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(48, 3))
T = np.tanh(X @ np.array([[1.0], [-1.5], [0.5]]))
P = {
    "W1": rng.normal(0, 0.5, (3, 8)),
    "b1": np.zeros(8),
    "W2": rng.normal(0, 0.5, (8, 1)),
    "b2": np.zeros(1),
}
M = {k: np.zeros_like(a) for k, a in P.items()}
V = {k: np.zeros_like(a) for k, a in P.items()}
t = 0
for it in range(300):
    H = np.tanh(X @ P["W1"] + P["b1"])
    Y = H @ P["W2"] + P["b2"]
    loss = 0.5 * np.mean((Y - T) ** 2)
    dY = (Y - T) / len(X)
    G = {"W2": H.T @ dY, "b2": dY.sum(axis=0)}
    dA = (dY @ P["W2"].T) * (1 - H ** 2)
    G["W1"] = X.T @ dA
    G["b1"] = dA.sum(axis=0)
    t += 1
    for k in P:
        M[k] = 0.9 * M[k] + 0.1 * G[k]
        V[k] = 0.999 * V[k] + 0.001 * G[k] ** 2
        mh = M[k] / (1 - 0.9 ** t)
        vh = V[k] / (1 - 0.999 ** t)
        P[k] -= 0.005 * mh / (np.sqrt(vh) + 1e-8)
print(loss)
"""

DICT_NAMED = DICT.replace("        P[k] -= 0.005 * mh / (np.sqrt(vh) + 1e-8)\n", "        step = mh / (vh ** 0.5 + 1e-8) * 0.005\n        P[k] -= step\n")


def _clean(report: dict, names: set[str]) -> None:
    assert errors(report) == []
    step = replayed(report)
    assert {p["name"] for p in step["parameters"]} == names
    assert not any(p["wrong"] for p in step["parameters"])


def test_a_script_whose_adam_rate_is_a_number_is_replayed_and_clean(tmp_path):
    _clean(check(write(tmp_path, "adam.py", SCRIPT), training=True), {"w", "b"})


def test_a_dict_of_parameters_stepped_by_adam_with_a_number_is_replayed_and_clean(tmp_path):
    for name, text in (("inline.py", DICT), ("named.py", DICT_NAMED)):
        _clean(check(write(tmp_path, name, text), training=True), {"P['W1']", "P['b1']", "P['W2']", "P['b2']"})


def test_a_second_moment_of_the_gradient_itself_is_named_at_its_line(tmp_path):
    for name, text, correct, wrong in (
        ("adam.py", SCRIPT, "(1 - beta2) * dw ** 2", "(1 - beta2) * dw"),
        ("inline.py", DICT, "0.001 * G[k] ** 2", "0.001 * G[k]"),
        ("named.py", DICT_NAMED, "0.001 * G[k] ** 2", "0.001 * G[k]"),
    ):
        path = planted(tmp_path, name, text, correct, wrong)
        report = check(path, training=True)
        (finding,) = [f for f in report["findings"] if f["name"] == "step-non-finite"]
        assert finding["line"] == line_of(path, wrong), name
        assert "not of its square" in finding["message"]


def test_an_adam_step_that_adds_is_named_at_the_update(tmp_path):
    for name, text, correct, wrong in (
        ("adam.py", SCRIPT, "    w -= upd", "    w += upd"),
        ("adam_inline.py", SCRIPT, "b -= 0.01 * mb_hat", "b += 0.01 * mb_hat"),
        ("inline.py", DICT, "P[k] -= 0.005", "P[k] += 0.005"),
    ):
        path = planted(tmp_path, name, text, correct, wrong)
        found = errors(check(path))
        assert [f["name"] for f in found] == ["step-gradient-mismatch"], (name, found)
        assert found[0]["line"] == line_of(path, wrong.strip()), name
        assert "climbs" in found[0]["message"]


def test_a_sign_flipped_error_is_named_where_it_is_computed(tmp_path):
    path = planted(tmp_path, "adam.py", SCRIPT, "dpred = 2 * (pred - y)", "dpred = 2 * (y - pred)")
    found = errors(check(path))
    assert [f["line"] for f in found] == [line_of(path, "dpred = 2 * (y - pred)")]
    assert "sign flipped" in found[0]["message"]
