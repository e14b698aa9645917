"""Forward/backward function pairs (cs231n's `(out, cache)` style) whose backward runs `for i in range(N):`,
builds a per-sample Jacobian and stores `dx[i]`: a wrong intermediate of the loop (a row reshape, the transpose
on the wrong side of an outer product) is named at its own line with the change that makes the gradient agree,
and a vector the store only copies into its row (`dx[i, :] = g.ravel()`) is named where it is computed. The
correct pairs get no error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

PROGRAM = '''\
import numpy as np


def softmax_forward(x):
    shifted = x - np.max(x, axis=1, keepdims=True)
    e = np.exp(shifted)
    out = e / np.sum(e, axis=1, keepdims=True)
    cache = out
    return out, cache


def softmax_backward(dout, cache):
    y = cache
    N, D = y.shape
    dx = np.zeros_like(dout)
    for i in range(N):
        yi = y[i].reshape(-1, 1)
        J = np.diagflat(yi) - yi @ yi.T
        dx[i] = J @ dout[i]
    return dx


def l2norm_forward(x):
    norms = np.sqrt(np.sum(x * x, axis=1, keepdims=True))
    out = x / norms
    cache = (x, norms)
    return out, cache


def l2norm_backward(dout, cache):
    x, norms = cache
    N, D = x.shape
    dx = np.zeros_like(x)
    for i in range(N):
        xi = x[i].reshape(-1, 1)
        norm = norms[i, 0]
        yi = xi / norm
        J = (np.eye(D) - yi @ yi.T) / norm
        g = J @ dout[i].reshape(-1, 1)
        dx[i, :] = g.ravel()
    return dx
'''

COLUMN = "yi = y[i].reshape(-1, 1)"
PROJECTION = "J = (np.eye(D) - yi @ yi.T) / norm"
PRODUCT = "g = J @ dout[i].reshape(-1, 1)"


def _error_of(path, layer):
    found = [f for f in errors(check(path)) if f["layer"] == layer]
    assert len(found) == 1, found
    return found[0]


def test_the_correct_pairs_get_no_error(tmp_path):
    assert errors(check(planted(tmp_path, "layers.py", PROGRAM, COLUMN, COLUMN))) == []


def test_a_row_reshape_in_the_softmax_loop_is_named_at_its_line(tmp_path):
    wrong = "yi = y[i].reshape(1, -1)"
    path = planted(tmp_path, "layers.py", PROGRAM, COLUMN, wrong)
    f = _error_of(path, "softmax")
    assert (f["param"], f["line"], f["fix"], f["pattern"]) == ("x", line_of(path, wrong), COLUMN, "wrong-in-sample-loop")
    assert f["highlight"] == [line_of(path, wrong), line_of(path, "dx[i] = J @ dout[i]")]


def test_an_inner_product_for_the_outer_one_is_named_at_the_projection(tmp_path):
    wrong = "J = (np.eye(D) - yi.T @ yi) / norm"
    path = planted(tmp_path, "layers.py", PROGRAM, PROJECTION, wrong)
    f = _error_of(path, "l2norm")
    assert (f["line"], f["fix"]) == (line_of(path, wrong), PROJECTION)


def test_a_vector_the_store_only_copies_is_named_where_it_is_computed(tmp_path):
    wrong = "g = J @ dout[i].reshape(-1, 1) * norm"
    path = planted(tmp_path, "layers.py", PROGRAM, PRODUCT, wrong)
    f = _error_of(path, "l2norm")
    assert f["line"] == line_of(path, wrong)
    assert "only copied into its row by `dx[i, :]`" in f["message"]
