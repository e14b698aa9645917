"""A training loop written as tersely as a notebook cell: the learning rate a number in the update
(`M -= 0.05 * Xfit.T @ S / len(yfit)`, `w -= 2.0 * (Q.T @ g)`) and the loss only printed as it is
computed (`print(it, -np.log(P[rows, yfit]).mean())`, also inside an f-string). Such a file trains a
network; "nothing to check" would be the tool's failure. The step is replayed against the printed
loss: right as written, and each planted bug named at the update.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

SOFTMAX = '''\
import numpy as np

gen = np.random.default_rng(3)
Xfit = gen.normal(size=(150, 4))
yfit = (Xfit @ gen.normal(size=(4, 3))).argmax(axis=1)
M = np.zeros((4, 3))
rows = np.arange(len(yfit))
for it in range(60):
    Z = Xfit @ M
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    S = P.copy()
    S[rows, yfit] -= 1
    M -= 0.05 * Xfit.T @ S / len(yfit)
    if it % 10 == 0:
        print(it, -np.log(P[rows, yfit]).mean())
'''

# Squared error printed in an f-string; a hidden layer; the rates numbers in parentheses.
FSTRING = '''\
import numpy as np

gen = np.random.default_rng(9)
A = gen.uniform(-1, 1, (120, 2))
b = np.sin(A[:, :1] * 2) * A[:, 1:]
Q = gen.normal(size=(2, 8)) * 0.5
w = gen.normal(size=(8, 1)) * 0.5
for t in range(300):
    H = np.tanh(A @ Q)
    g = 2 * (H @ w - b) / len(b)
    gh = (g @ w.T) * (1 - H ** 2)
    w -= 0.5 * (H.T @ g)
    Q -= 0.5 * (A.T @ gh)
    if t % 50 == 0:
        print(f"step {t}: {np.mean((H @ w - b) ** 2):.5f}")
'''


def test_a_number_for_a_rate_and_a_printed_loss_are_checked_and_clean(tmp_path):
    for name, text in (("softmax.py", SOFTMAX), ("fstring.py", FSTRING)):
        report = check(write(tmp_path, name, text))
        assert not [f for f in report["findings"] if f["name"] == "nothing-to-check"], name
        assert errors(report) == [], (name, errors(report))
        assert replayed(report)["parameters"], name
        assert set(step_verdicts(report).values()) == {"ok"}, name


def test_a_wrong_output_error_is_named_at_the_update_against_the_printed_loss(tmp_path):
    path = planted(tmp_path, "softmax_bug.py", SOFTMAX, "S[rows, yfit] -= 1", "S[rows, yfit] -= 2")
    (finding,) = errors(check(path))
    assert finding["name"] == "step-gradient-mismatch"
    assert finding["line"] == line_of(path, "M -= 0.05")
    assert "-np.log(P[rows, yfit]).mean()" in finding["message"]


def test_a_hidden_layer_s_missing_slope_and_an_added_step_are_found(tmp_path):
    slope = planted(tmp_path, "fstring_slope.py", FSTRING, "gh = (g @ w.T) * (1 - H ** 2)", "gh = g @ w.T")
    assert {f["name"] for f in errors(check(slope))} == {"step-gradient-mismatch"}
    climbs = planted(tmp_path, "fstring_climbs.py", FSTRING, "w -= 0.5 * (H.T @ g)", "w += 0.5 * (H.T @ g)")
    (finding,) = errors(check(climbs))
    assert finding["line"] == line_of(climbs, "w += 0.5 * (H.T @ g)")
    assert "climbs" in finding["message"]


def test_a_printed_accuracy_or_a_held_out_loss_is_not_taken_for_the_step_s_loss(tmp_path):
    text = SOFTMAX.replace(
        "        print(it, -np.log(P[rows, yfit]).mean())",
        "        print(it, (P.argmax(axis=1) == yfit).mean(), -np.log(Ptest[np.arange(len(ytest)), ytest]).mean())",
    ).replace("rows = np.arange(len(yfit))", "rows = np.arange(len(yfit))\nytest = yfit[:20]\nPtest = np.full((20, 3), 1 / 3)")
    report = check(write(tmp_path, "no_train_loss.py", text))
    assert errors(report) == []
    assert all(r["loss"] is None or "Ptest" not in r["loss"] for r in report["extras"].get("replay", []))
