"""A momentum velocity is told by how it is set, not by its name: `mom[k] = 0.9 * mom[k] - lr * g[k]`
then `params[k] += mom[k]` is the training step's update whatever the velocity is called (`mom`,
`buf`, `step_w`), so the loop is replayed and a wrong derivative named.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np

rng = np.random.default_rng(9)
X = rng.normal(size=(90, 3))
Y = np.tanh(X @ np.array([[1.0], [-2.0], [0.5]]))
params = {"A": rng.normal(scale=0.4, size=(3, 8)), "B": rng.normal(scale=0.4, size=(8, 1))}
BUF = {k: np.zeros_like(v) for k, v in params.items()}
lr = 0.1
for it in range(400):
    h = np.tanh(X @ params["A"])
    out = h @ params["B"]
    loss = np.mean((out - Y) ** 2)
    dout = 2 * (out - Y) / len(X)
    grads = {"B": h.T @ dout}
    dh = dout @ params["B"].T * (1 - h ** 2)
    grads["A"] = X.T @ dh
    for k in params:
        BUF[k] = 0.9 * BUF[k] - lr * grads[k]
        params[k] += BUF[k]
    if it % 100 == 0:
        print(it, loss)
'''

SLOPE = '    dh = dout @ params["B"].T * (1 - h ** 2)\n'


@pytest.mark.parametrize("name", ["mom", "buf", "step_w"])
def test_the_velocity_update_is_replayed_whatever_its_name(tmp_path, name):
    text = PROGRAM.replace("BUF", name)
    report = check(planted(tmp_path, "ok.py", text, SLOPE, SLOPE))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {"params['A']", "params['B']"}
    bug = planted(tmp_path, "bug.py", text, SLOPE, '    dh = dout @ params["B"].T * (1 - h)\n')
    assert errors(check(bug))[0]["line"] == line_of(bug, "(1 - h)")


def test_a_parameter_rebound_from_itself_is_no_velocity(tmp_path):
    """`p = p - lr * grads[k]` is set from itself and a rate times a gradient too, but not decayed:
    a parameter's own update (here a lost one, on a local name), not a velocity."""
    text = PROGRAM.replace("BUF", "mom").replace(
        "        mom[k] = 0.9 * mom[k] - lr * grads[k]\n        params[k] += mom[k]\n",
        "        p = params[k]\n        p = p - lr * grads[k]\n",
    )
    report = check(planted(tmp_path, "lost.py", text, SLOPE, SLOPE), training=True)
    assert [f["code"] for f in errors(report)] == ["BPD613"]
