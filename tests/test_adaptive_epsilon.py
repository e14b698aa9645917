"""An adaptive optimizer handed a large epsilon (`RMSProp(params, lr=0.01, epsilon=0.5)`): its step is
lr·g/(√v + eps), and where gradients are far below eps that is lr·g/eps, a crawl. The call is named
at its line (BPD208, a warning, which the report's first line gives as the cause); the usual 1e-8 is
not.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, line_of, planted

PROGRAM = '''\
import numpy as np


class RMSProp:
    def __init__(self, params, lr=0.01, decay=0.9, epsilon=1e-8):
        self.params, self.lr, self.decay, self.epsilon = params, lr, decay, epsilon
        self.s = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        for k in self.params:
            self.s[k] = self.decay * self.s[k] + (1 - self.decay) * grads[k] ** 2
            self.params[k] -= self.lr * grads[k] / (np.sqrt(self.s[k]) + self.epsilon)


rng = np.random.default_rng(30)
X = rng.normal(size=(128, 3))
y = X @ np.array([0.5, -1.0, 2.0]) + 0.1
params = {"w": np.zeros(3), "b": np.zeros(1)}
opt = RMSProp(params, lr=0.01, epsilon=1e-8)
for it in range(300):
    r = X @ params["w"] + params["b"] - y
    mse = np.mean(r ** 2)
    opt.step({"w": 2 * X.T @ r / len(X), "b": np.array([2 * r.mean()])})
    if it % 100 == 0:
        print(it, mse)
'''

CALL = "opt = RMSProp(params, lr=0.01, epsilon=1e-8)\n"


def _epsilon_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD208" and f["pattern"] == "large-epsilon"]


def test_a_large_epsilon_is_named_where_it_is_given(tmp_path):
    path = planted(tmp_path, "slow.py", PROGRAM, CALL, "opt = RMSProp(params, lr=0.01, epsilon=0.5)\n")
    report = check(path)
    (finding,) = _epsilon_findings(report)
    assert (finding["severity"], finding["line"]) == ("warning", line_of(path, "epsilon=0.5"))
    assert "epsilon of 0.5" in report["verdict"]


@pytest.mark.parametrize("epsilon", ["1e-8", "1e-7"])
def test_the_usual_epsilon_is_not(tmp_path, epsilon):
    path = planted(tmp_path, "fine.py", PROGRAM, CALL, f"opt = RMSProp(params, lr=0.01, epsilon={epsilon})\n")
    assert _epsilon_findings(check(path)) == []
