"""A training loop wrapped in a progress bar (`for epoch in tqdm(range(epochs))`, or
progressbar's `bar = ProgressBar(widgets=[...])` then `for i in bar(range(n))`), on a machine
without tqdm or progressbar: the loop runs as it does for the user, so its training is observed
and checked; before, the stand-in was an empty iterable and the loop ran zero times."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

NET = """\
import numpy as np
{imports}


class Net:
    def __init__(self):
        self.params = {{"W": 0.5 * np.random.randn(3, 2), "b": np.zeros(2)}}

    def loss(self, x, t):
        return 0.5 * np.mean(np.sum((x @ self.params["W"] + self.params["b"] - t) ** 2, axis=1))

    def gradient(self, x, t):
        d = (x @ self.params["W"] + self.params["b"] - t) / len(x)
        return {{"W": x.T @ d, "b": d.sum(axis=0)}}


X = np.random.randn(64, 3)
T = X @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]]) + 0.1
net = Net()
{loop}
    loss = net.loss(X, T)
    grads = net.gradient(X, T)
    for key in net.params:
        net.params[key] -= 0.1 * grads[key]
"""

LOOPS = {
    "tqdm": ("from tqdm import tqdm", "bar = tqdm(range(50))\nbar.set_description('training')\nfor epoch in bar:"),
    "progressbar": ("import progressbar", "bar = progressbar.ProgressBar(widgets=[progressbar.Bar()])\nfor epoch in bar(range(50)):"),
}


@pytest.mark.parametrize("imports, loop", LOOPS.values(), ids=LOOPS.keys())
def test_a_loop_in_a_missing_progress_bar_runs_and_its_training_is_checked(tmp_path, imports, loop):
    path = write(tmp_path, "train.py", NET.format(imports=imports, loop=loop))
    report = check(path)
    assert errors(report) == []
    assert [b["origin"] for b in report["built"] if b["what"].startswith("training step")] == ["observed"]
    (note,) = [f for f in report["findings"] if f["name"] == "missing-module"]
    assert note["line"] == line_of(path, imports) and "silent versions of" in note["message"]


def test_a_wrong_gradient_in_a_loop_under_tqdm_is_found(tmp_path):
    imports, loop = LOOPS["tqdm"]
    path = planted(tmp_path, "train.py", NET.format(imports=imports, loop=loop), '{"W": x.T @ d', '{"W": 2 * x.T @ d')
    wrong = errors(check(path))
    assert wrong and {f["line"] for f in wrong} == {line_of(path, '{"W": 2 * x.T @ d')}
