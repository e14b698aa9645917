"""When a backward's gradients are all wrong and all come from one statement that reads the upstream
gradient (an activation's derivative), the root finding points at that statement, not at the first
gradient line where the mistake shows."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from backprop_doctor.static.upstream import shared_source
from tests.userfiles import check, errors, line_of, planted, write

RNN = """\
    import numpy as np


    def rnn_step_forward(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
        return next_h, (x, prev_h, Wx, Wh, next_h)


    def rnn_step_backward(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h ** 2)
        dx = da.dot(Wx.T)
        dprev_h = da.dot(Wh.T)
        dWx = x.T.dot(da)
        dWh = prev_h.T.dot(da)
        db = np.sum(da, axis=0)
        return dx, dprev_h, dWx, dWh, db
"""


def test_a_wrong_activation_derivative_shared_by_every_gradient_is_the_root_finding(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "rnn.py", RNN))) == []
    path = planted(tmp_path, "rnn.py", RNN, "(1 - next_h ** 2)", "(1 - next_h)")
    report = check(path)
    root = next(f for f in errors(report) if not f.get("caused_by"))
    assert root["pattern"] == "shared-upstream"
    assert root["line"] == line_of(path, "da = dnext_h * (1 - next_h)")
    assert "`da = dnext_h * (1 - next_h)`" in root["message"]
    keys = {f"{f['code']}:{f['layer'] or ''}:{f['param'] or ''}:{f['line'] or ''}" for f in report["findings"]}
    assert all(f["caused_by"] in keys for f in errors(report) if f.get("caused_by"))  # the symptoms still point at the root


def test_one_wrong_gradient_keeps_its_own_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "rnn.py", RNN, "dWh = prev_h.T.dot(da)", "dWh = prev_h.T.dot(da) * 2")
    (finding,) = [f for f in errors(check(path)) if not f.get("caused_by")]
    assert finding["line"] == line_of(path, "dWh = prev_h.T.dot(da) * 2")
    assert finding["pattern"] != "shared-upstream"


def _function(text: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ast.parse(textwrap.dedent(text))) if isinstance(n, ast.FunctionDef) and n.name.endswith("backward"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RNN, "da = dnext_h * (1 - next_h ** 2)"),
        (  # gates joined by hstack: no single place
            """\
            def lstm_step_backward(dnext_h, cache):
                x, i, o, Wx = cache
                dai = dnext_h * i * (1 - i)
                dao = dnext_h * o * (1 - o)
                da = np.hstack((dai, dao))
                dx = da.dot(Wx.T)
                dWx = x.T.dot(da)
                db = da.sum(axis=0)
                return dx, dWx, db
            """,
            None,
        ),
        (  # a gate's gradient, computed from the upstream one through the gate's own adjoint
            """\
            def gated_backward(dout, cache):
                x, cand, gate, Wt = cache
                dgate = dout * (cand - x)
                dzt = dgate * gate * (1 - gate)
                dWt = x.T.dot(dzt)
                dbt = dzt.sum(axis=0)
                dx = dzt.dot(Wt.T) + dout * (1 - gate)
                return dx, dWt, dbt
            """,
            "dzt = dgate * gate * (1 - gate)",
        ),
        (  # an affine layer: each gradient reads dout directly
            """\
            def affine_backward(dout, cache):
                x, w = cache
                dx = dout.dot(w.T)
                dw = x.T.dot(dout)
                db = dout.sum(axis=0)
                return dx, dw, db
            """,
            None,
        ),
    ],
)
def test_the_shared_statement_is_found_only_where_every_path_goes_through_it(text: str, expected: str | None) -> None:
    function = _function(text)
    gradients = [s.lineno for s in function.body if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]).startswith(("dx", "dW", "dw", "db", "dprev"))]
    found = shared_source(function, gradients)
    assert (ast.unparse(found) if found is not None else None) == expected
