"""A cs231n pair whose backward returns a bias's gradient as a row (`keepdims=True`).

With no program to watch, backprop-doctor makes up a pair's parameters in the shapes the cs231n
docstrings give (`b` of shape (M,)). Some users keep every bias, gamma and beta as a (1, M) row
and sum with `keepdims=True`, which returns exactly that row: the shape was the tool's guess, not
the user's mistake. The pair is checked again with the parameter in the gradient's shape, so the
gradient's values are still compared: a right one leaves a note, a wrong one is named at its line.
A gradient that is not the parameter's elements in another shape (one entry per sample) stays an
error.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

AFFINE = """\
    import numpy as np


    def affine_forward(x, w, b):
        out = x.reshape(x.shape[0], -1).dot(w) + b  # b is kept as a (1, M) row
        cache = (x, w, b)
        return out, cache


    def affine_backward(dout, cache):
        x, w, b = cache
        dx = dout.dot(w.T).reshape(x.shape)
        dw = x.reshape(x.shape[0], -1).T.dot(dout)
        db = np.sum(dout, axis=0, keepdims=True)
        return dx, dw, db
"""

BATCHNORM = """\
    import numpy as np


    def batchnorm_forward(x, gamma, beta, bn_param):
        eps = bn_param.get("eps", 1e-5)
        mu = np.mean(x, axis=0, keepdims=True)
        var = np.var(x, axis=0, keepdims=True)
        xhat = (x - mu) / np.sqrt(var + eps)
        out = gamma * xhat + beta  # gamma and beta are (1, D) rows
        return out, (xhat, gamma, var, eps)


    def batchnorm_backward(dout, cache):
        xhat, gamma, var, eps = cache
        n = dout.shape[0]
        dbeta = dout.sum(axis=0).reshape(1, -1)
        dgamma = np.sum(dout * xhat, axis=0, keepdims=True)
        dxhat = dout * gamma
        dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * np.sqrt(var + eps))
        return dx, dgamma, dbeta
"""


def _shape_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "gradient-shape-mismatch"]


def test_a_bias_gradient_returned_as_a_row_is_a_note_not_an_error(tmp_path):
    path = planted(tmp_path, "layers.py", AFFINE, "db = np.sum(dout, axis=0, keepdims=True)", "db = np.sum(dout, axis=0, keepdims=True)")
    report = check(path)
    assert errors(report) == []
    (note,) = _shape_findings(report)
    assert note["severity"] == "info" and note["param"] == "b" and note["line"] == line_of(path, "db = np.sum")
    assert "(1, 4)" in note["message"] and "chose" in note["message"]
    # the row's values were compared, not skipped
    assert any(m["param"] == "b" and m["verdict"] == "ok" for m in report["measurements"])


def test_a_wrong_bias_gradient_returned_as_a_row_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "layers.py", AFFINE, "db = np.sum(dout, axis=0, keepdims=True)", "db = 2 * np.sum(dout, axis=0, keepdims=True)")
    report = check(path)
    (error,) = errors(report)
    assert error["name"] == "gradient-mismatch" and error["param"] == "b"
    assert error["line"] == line_of(path, "db = 2 * np.sum")


def test_gamma_and_beta_kept_as_rows_are_checked_by_value(tmp_path):
    path = planted(tmp_path, "bn.py", BATCHNORM, "dgamma = np.sum(dout * xhat, axis=0, keepdims=True)", "dgamma = np.sum(dout * xhat, axis=0, keepdims=True)")
    report = check(path)
    assert errors(report) == []
    assert {f["param"] for f in _shape_findings(report)} == {"gamma", "beta"}
    assert all(f["severity"] == "info" for f in _shape_findings(report))


def test_a_wrong_beta_row_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "bn.py", BATCHNORM, "dbeta = dout.sum(axis=0).reshape(1, -1)", "dbeta = dout.mean(axis=0).reshape(1, -1)")
    report = check(path)
    named = [f for f in errors(report) if f["param"] == "beta"]
    assert named and named[0]["name"] == "gradient-mismatch"
    assert named[0]["line"] == line_of(path, "dbeta = dout.mean")


def test_one_entry_per_sample_stays_a_shape_error(tmp_path):
    path = planted(tmp_path, "layers.py", AFFINE, "db = np.sum(dout, axis=0, keepdims=True)", "db = np.sum(dout, axis=1, keepdims=True)")
    report = check(path)
    (error,) = errors(report)
    assert error["name"] == "gradient-shape-mismatch" and error["param"] == "b"
    assert error["line"] == line_of(path, "db = np.sum(dout, axis=1")


def test_a_batch_norm_written_for_training_alone_is_not_a_coupling_error(tmp_path):
    # its `bn_param` holds `eps` and no `mode`: there is no inference mode to check it in
    path = planted(tmp_path, "bn.py", BATCHNORM, 'eps = bn_param.get("eps", 1e-5)', 'eps = bn_param.get("eps", 1e-5)')
    report = check(path)
    coupling = [f for f in report["findings"] if f["name"] == "batch-coupling"]
    assert coupling and all(f["severity"] == "info" for f in coupling)
    assert "couples the samples by design" in coupling[0]["message"]
