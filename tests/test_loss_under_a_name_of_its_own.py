"""A training loop whose loss is named in the author's own language (`perte`, `sunshi`, `verlust`).

The replay measures each update against the loss the pass computes, found by its name (`loss`,
`cost`, `error`, ...) or by the function it calls. `perte = np.mean((sortie - cible) ** 2)` is neither,
so the program "computed no loss": the replay fell back on the losses its output error implies, and
a wrong derivative in it was reported as updates that follow no usual loss (a warning at the update)
instead of at its line. A number the pass computes as a loss is written, the mean or sum of a squared
difference or of a log, is now its loss where no statement is named as one. The program is written
for this test (a French-speaking reader's two-layer regression net).
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

np.random.seed(7)
entrees = np.random.uniform(-2, 2, size=(120, 3))
cible = (np.cos(entrees[:, :1]) + 0.3 * entrees[:, 1:2] > 0.5).astype(float)

W1 = np.random.randn(3, 10) * 0.7
b1 = np.zeros((1, 10))
W2 = np.random.randn(10, 1) * 0.7
b2 = np.zeros((1, 1))
lr = 0.4

for iteration in range(3000):
    z1 = entrees @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    sortie = 1 / (1 + np.exp(-z2))
    perte = np.mean((sortie - cible) ** 2)

    d_sortie = 2 * (sortie - cible) / len(entrees)
    dz2 = d_sortie * sortie * (1 - sortie)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0, keepdims=True)
    da1 = dz2 @ W2.T
    dz1 = da1 * (1 - a1 ** 2)
    dW1 = entrees.T @ dz1
    db1 = dz1.sum(axis=0, keepdims=True)

    W2 -= lr * dW2
    b2 -= lr * db2
    W1 -= lr * dW1
    b1 -= lr * db1
    if iteration % 500 == 0:
        print("iteration", iteration, "perte", perte)
'''

RIGHT = "dz1 = da1 * (1 - a1 ** 2)"
WRONG = "dz1 = da1 * (1 - a1)"


def test_a_wrong_derivative_is_named_against_a_loss_called_perte(tmp_path):
    path = planted(tmp_path, "reseau.py", PROGRAM, RIGHT, WRONG)
    report = check(path)
    wrong = [f for f in errors(report) if f["code"] == "BPD108"]
    assert wrong, report["findings"]
    assert wrong[0]["line"] == line_of(path, WRONG), wrong[0]
    assert f"`perte` (line {line_of(path, 'perte = np.mean')})" in wrong[0]["message"]
    assert report["extras"]["replay"][0]["loss"] == "perte"


def test_the_right_program_is_measured_against_perte_and_has_no_error(tmp_path):
    path = planted(tmp_path, "reseau.py", PROGRAM, RIGHT, RIGHT)
    report = check(path)
    assert not errors(report), errors(report)
    assert report["extras"]["replay"][0]["loss"] == "perte"
    assert not [f for f in report["findings"] if f["code"] == "BPD108"], report["findings"]
