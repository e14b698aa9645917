"""Function pairs that could not be built for two reasons no input explains:

- an exercise left unwritten (`Z = None` under "START CODE HERE", then `Z.shape`): the forward
  raises on any input, so it is named as not written yet at the line that reads the placeholder
  (a warning), not "no synthesized input runs through linear_forward";
- a forward that takes a mode string it compares with literals (`if activation == "sigmoid":`):
  it is built with the first mode it tells apart, and checked, instead of "cannot guess a value
  for `activation`".

Two styles: the course's column pair (`linear_forward(A, W, b)` with W (n_out, n_in), examples in
columns) and a mode-taking pair on rows (`dense_forward(x, w, b, activation)`)."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, write

COLUMN_PAIR = """\
import numpy as np


def linear_forward(A, W, b):
    ### START CODE HERE ###
    Z = np.dot(W, A) + b
    ### END CODE HERE ###
    assert Z.shape == (W.shape[0], A.shape[1])
    cache = (A, W, b)
    return Z, cache


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db
"""

MODE_PAIR = """\
import numpy as np


def dense_forward(x, w, b, activation):
    z = x @ w + b
    if activation == "tanh":
        out = np.tanh(z)
    elif activation == "relu":
        out = np.maximum(z, 0)
    else:
        raise ValueError(activation)
    return out, (x, w, z, out, activation)


def dense_backward(dout, cache):
    x, w, z, out, activation = cache
    if activation == "tanh":
        dz = dout * (1 - out ** 2)
    else:
        dz = dout * (z > 0)
    dx = dz @ w.T
    dw = x.T @ dz
    db = dz.sum(axis=0)
    return dx, dw, db
"""


def _not_built(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD008"]


def test_a_written_column_pair_is_checked_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "step.py", COLUMN_PAIR))
    assert not errors(report), errors(report)
    assert report["measurements"], report["findings"]


def test_a_column_pair_left_as_a_placeholder_is_not_written_yet_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "step.py", COLUMN_PAIR, "Z = np.dot(W, A) + b", "Z = None")
    report = check(path)
    unwritten = [f for f in report["findings"] if f["code"] == "BPD105" and "not written yet" in f["message"]]
    assert unwritten and unwritten[0]["line"] == line_of(path, "assert Z.shape"), report["findings"]
    assert unwritten[0]["severity"] == "warning"
    assert "`Z`" in unwritten[0]["message"] and not _not_built(report), report["findings"]


def test_a_pair_taking_a_mode_string_is_built_with_one_of_its_modes_and_clean(tmp_path: Path) -> None:
    report = check(write(tmp_path, "dense.py", MODE_PAIR))
    assert not errors(report), errors(report)
    assert not _not_built(report), report["findings"]
    assert {m["param"] for m in report["measurements"]} >= {"x"}, report["measurements"]


def test_a_wrong_derivative_of_a_mode_taking_pair_is_found_at_its_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "dense.py", MODE_PAIR, "dz = dout * (1 - out ** 2)", "dz = dout * (1 - out)")
    found = errors(check(path))
    assert found and any(f["line"] == line_of(path, "dz = dout * (1 - out)") for f in found), found
