"""A function named like a cost that takes `params` as a list of arrays of different shapes
(`W, c, V, d = params`) and returns `(loss, grads)`: the cost-function convention (which unrolls
one vector of parameters, Ng's `theta`) cannot take it. It must step aside quietly, with no
"could not be built" warning, and the training loop that calls it is checked by its replay.
"""

from __future__ import annotations

from tests.userfiles import check, errors, planted, replayed, step_verdicts, write

PROGRAM = '''\
import numpy as np

gen = np.random.default_rng(21)
X = gen.uniform(-1, 1, (150, 3))
targets = np.stack([X[:, 0] * X[:, 1], np.sin(2 * X[:, 2])], axis=1)


def cost(params, X, targets):
    W, c, V, d = params
    hidden = np.tanh(X @ W + c)
    out = hidden @ V + d
    diff = out - targets
    value = 0.5 * np.mean(np.sum(diff ** 2, axis=1))
    g_out = diff / len(X)
    g_V = hidden.T @ g_out
    g_d = g_out.sum(axis=0)
    g_hidden = g_out @ V.T * (1 - hidden ** 2)
    return value, [X.T @ g_hidden, g_hidden.sum(axis=0), g_V, g_d]


params = [gen.normal(size=(3, 10)) * 0.5, np.zeros(10), gen.normal(size=(10, 2)) * 0.5, np.zeros(2)]
for it in range(400):
    value, grads = cost(params, X, targets)
    params = [p - 0.3 * g for p, g in zip(params, grads)]
print(value)
'''


def test_a_list_of_parameter_arrays_is_no_build_failure_and_the_step_is_checked(tmp_path):
    path = write(tmp_path, "list_params.py", PROGRAM)
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "build-failed"] == []
    assert errors(report) == []
    assert replayed(report)["parameters"]
    assert set(step_verdicts(report).values()) == {"ok"}


def test_a_wrong_gradient_in_the_list_is_still_found(tmp_path):
    path = planted(tmp_path, "list_params_bug.py", PROGRAM, "g_d = g_out.sum(axis=0)", "g_d = g_out.sum(axis=0) * 2")
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "build-failed"] == []
    assert any(f["name"] == "step-gradient-mismatch" for f in errors(report)), errors(report)
