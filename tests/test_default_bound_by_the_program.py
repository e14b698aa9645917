"""`def backward(..., p=params)` after `params = init_params(...)`: the default is evaluated when the
`def` runs, and the definitions-only load leaves out the call that binds `params`. That is the
tool's loading, not the user's error: a note, and what the file defines is checked as usual."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

SOURCE = '''\
import numpy as np


def init_params(n_in, n_out):
    return {"W": np.random.randn(n_in, n_out) * 0.1, "b": np.zeros(n_out)}


params = init_params(4, 3)


def scores_of(x, p=params):
    return x @ p["W"] + p["b"]


class Affine:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
'''


def test_a_default_bound_by_a_call_is_a_note_and_the_file_is_checked(tmp_path):
    path = write(tmp_path, "defaults.py", SOURCE)
    report = check(path, "--no-run")
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "load-error"]
    assert (finding["severity"], finding["pattern"], finding["line"]) == ("info", "bound-when-run", line_of(path, "def scores_of"))
    assert f"`params` is bound at line {line_of(path, 'params = init_params(4, 3)')}" in finding["message"]
    assert any(b["what"] == "Affine" and not b["skipped"] for b in report["built"])


def test_a_name_bound_nowhere_is_still_the_users_error(tmp_path):
    path = write(tmp_path, "defaults.py", SOURCE.replace("def scores_of(x, p=params)", "def scores_of(x, p=parameters)"))
    (finding,) = [f for f in check(path, "--no-run")["findings"] if f["name"] == "load-error"]
    assert finding["severity"] == "error"
