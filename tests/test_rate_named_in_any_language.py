"""A learning rate under a name no rate pattern knows (`pas`, `schritt`) is still the step's rate.

`params[k] -= pas * g[k]` with `pas = 0.1` set once: the replay read `pas * g[k]` as the gradient and called
every update 0.1 times the gradient (step-gradient-mismatch, `scaled`), which hid the real fault of the
program, its weights initialised again at every epoch (step-reinitialised). A name the file binds to a
number written out and to nothing else is read as the rate of the step it multiplies, as `0.1 * g[k]` is;
a factor multiplying the very parameter it updates (`W -= lam * W`) is not. Correct twins stay clean.
"""

from __future__ import annotations

import ast

import pytest

from backprop_doctor.static.steps import training_steps
from tests.userfiles import check, line_of, planted, write

# a script: French names, the weights drawn again inside the epoch loop
SCRIPT = '''\
import numpy as np

rng = np.random.RandomState(4)
X = np.linspace(-2, 2, 40)[:, None]
Y = 0.8 * X + 0.3


def initialiser():
    return {"W": rng.randn(1, 1), "b": np.zeros(1)}


def cout_et_gradients(p, x, y):
    e = x @ p["W"] + p["b"] - y
    return np.mean(e ** 2), {"W": 2 * x.T @ e / len(y), "b": 2 * e.mean(axis=0)}


pas = 0.1
params = initialiser()
for epoque in range(4):
    ordre = rng.permutation(len(X))
    for debut in range(0, len(X), 10):
        idx = ordre[debut:debut + 10]
        cout, g = cout_et_gradients(params, X[idx], Y[idx])
        for k in params:
            params[k] -= pas * g[k]
    print(epoque, cout)
'''

# a function: German names, the rate set inside the training function
FUNCTION = '''\
import numpy as np


def trainieren(X, Y, epochen=4):
    schritt = 0.05
    rng = np.random.default_rng(0)
    W = rng.normal(size=(2, 1))
    for epoche in range(epochen):
        for start in range(0, len(X), 10):
            xb, yb = X[start:start + 10], Y[start:start + 10]
            fehler = xb @ W - yb
            verlust = 0.5 * np.mean(fehler ** 2)
            gradient = xb.T @ fehler / len(xb)
            W -= schritt * gradient
        print(epoche, verlust)
    return W


daten = np.random.default_rng(1).normal(size=(30, 2))
trainieren(daten, daten @ np.array([[1.0], [-0.5]]))
'''

CASES = {
    "script": (SCRIPT, "pas = 0.1\nparams = initialiser()\nfor epoque in range(4):\n", "pas = 0.1\nfor epoque in range(4):\n    params = initialiser()\n",
               "params = initialiser()"),
    "function": (FUNCTION, "    W = rng.normal(size=(2, 1))\n    for epoche in range(epochen):\n",
                 "    for epoche in range(epochen):\n        W = rng.normal(size=(2, 1))\n", "W = rng.normal(size=(2, 1))"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_weights_drawn_again_every_epoch_are_named_behind_a_rate_of_any_name(tmp_path, name):
    program, right, wrong, at = CASES[name]
    path = planted(tmp_path, f"reinit_{name}.py", program, right, wrong)
    report = check(path, training=True)
    found = [f for f in report["findings"] if f["code"] == "BPD630"]
    assert [f["line"] for f in found] == [line_of(path, at)], report["findings"]
    assert not [f for f in report["findings"] if f["code"] == "BPD108"], report["findings"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_rate_of_any_name_on_correct_training_is_clean(tmp_path, name):
    report = check(write(tmp_path, f"rate_{name}.py", CASES[name][0]), training=True)
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], report["findings"]


def _rates(program: str) -> dict[int, str | None]:
    return {u.line: u.rate for step in training_steps(ast.parse(program)) for u in step.updates}


def test_a_number_set_once_is_the_rate_and_a_decay_of_the_parameter_is_not():
    assert set(_rates(SCRIPT).values()) == {"pas"}
    assert set(_rates(FUNCTION).values()) == {"schritt"}
    decay = "import numpy as np\nW = np.ones(3)\nlam = 0.1\nfor t in range(3):\n    W -= lam * W\n"
    assert set(_rates(decay).values()) <= {None}
    # a name also bound to something other than a number written out is not a setting
    moving = FUNCTION.replace("            W -= schritt * gradient\n", "            W -= schritt * gradient\n            schritt = schritt * 0.9\n")
    assert set(_rates(moving).values()) == {None}
