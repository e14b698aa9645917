"""A loss written as a function of the parameters alone (`cost(theta)`), beside a gradient function
that recomputes the same forward pass (`gradients(theta)`): the replay cannot move the gradient
function's `logits` and see the loss change, since the loss computes its own. It moves the value of
the same name inside the loss function instead, once that value is shown equal to the gradient
function's, and so measures `dlogits` and names its line when it is wrong.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(6)
X = rng.normal(size=(240, 5))
y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(float)


def cost(theta):
    hidden = np.tanh(X @ theta["V"] + theta["c"])
    logits = hidden @ theta["w"] + theta["d"]
    return np.mean(np.logaddexp(0, logits) - y * logits)


def gradients(theta):
    hidden = np.tanh(X @ theta["V"] + theta["c"])
    logits = hidden @ theta["w"] + theta["d"]
    q = 1 / (1 + np.exp(-logits))
    dlogits = (q - y) / len(X)
    dhidden = np.outer(dlogits, theta["w"]) * (1 - hidden ** 2)
    return {"V": X.T @ dhidden, "c": dhidden.sum(axis=0), "w": hidden.T @ dlogits, "d": dlogits.sum()}


theta = {"V": rng.normal(scale=0.4, size=(5, 12)), "c": np.zeros(12), "w": rng.normal(scale=0.4, size=12), "d": 0.0}
for step in range(600):
    g = gradients(theta)
    for name in theta:
        theta[name] = theta[name] - 0.5 * g[name]
    if step % 150 == 0:
        print(step, cost(theta))
'''

RIGHT = "    dlogits = (q - y) / len(X)\n"


def test_the_recomputed_output_is_moved_inside_the_loss_function(tmp_path):
    path = planted(tmp_path, "bug.py", PROGRAM, RIGHT, "    dlogits = (q - y) * q / len(X)\n")
    report = check(path)
    walked = {a["name"]: a for a in replayed(report)["adjoints"]}
    assert walked["dlogits"]["wrong"] is True
    assert errors(report)[0]["line"] == line_of(path, "dlogits = (q - y) * q")


def test_the_correct_program_is_clean(tmp_path):
    assert errors(check(planted(tmp_path, "ok.py", PROGRAM, RIGHT, RIGHT))) == []
