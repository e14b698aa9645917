"""softmax-not-per-row in files that keep their samples in columns (`W @ x`: Coursera, min-char-rnn).

There the sum over axis 0 is the per-sample sum, and a softmax over the whole array is what
a program that feeds one column at a time needs: neither is a bug. The wrong axis for that
layout still is.
"""

from __future__ import annotations

import ast
import sys
import textwrap

import pytest

from backprop_doctor.options import Options
from backprop_doctor.static.layout import sample_layout

RULE = "softmax-not-per-row"

COLUMN_MAJOR_RNN_CELL = '''
import numpy as np

def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis={axis}, keepdims=True)

def rnn_cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    return a_next, yt_pred
'''

ONE_COLUMN_AT_A_TIME = '''
import numpy as np

def softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)

class CharRNN:
    def __init__(self, vocab, hidden):
        self.Wxh = np.random.randn(hidden, vocab) * 0.01
        self.Why = np.random.randn(vocab, hidden) * 0.01

    def step(self, x, h):
        h = np.tanh(np.dot(self.Wxh, x) + h)
        return softmax(np.dot(self.Why, h)), h
'''


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def findings(tmp_path, text: str) -> list:
    from backprop_doctor.pipeline import check_file

    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    report = check_file(path, Options(training=False))
    return [f for f in report.findings if f.name == RULE]


def test_a_column_major_softmax_over_axis_0_is_per_sample(tmp_path):
    assert findings(tmp_path, COLUMN_MAJOR_RNN_CELL.format(axis=0)) == []


def test_a_column_major_softmax_over_axis_1_mixes_the_samples(tmp_path):
    (finding,) = findings(tmp_path, COLUMN_MAJOR_RNN_CELL.format(axis=1))
    assert finding.layer == "softmax"
    assert finding.line == 6  # return e_x / e_x.sum(axis=1, keepdims=True)
    assert "instead of each sample" in finding.message and "reduce over axis 0" in finding.message
    assert "e_x.sum(axis=0, keepdims=True)" in finding.fix


def test_a_softmax_over_the_whole_array_in_a_one_column_at_a_time_program_is_left_alone(tmp_path):
    assert findings(tmp_path, ONE_COLUMN_AT_A_TIME) == []


def test_the_same_softmax_in_a_rows_program_is_still_reported(tmp_path):
    rows = ONE_COLUMN_AT_A_TIME.replace("np.dot(self.Wxh, x)", "np.dot(x, self.Wxh)").replace(
        "np.dot(self.Why, h)", "np.dot(h, self.Why)"
    )
    (finding,) = findings(tmp_path, rows)
    assert finding.line == 6  # return e / np.sum(e)


@pytest.mark.parametrize(
    ("source", "layout"),
    [
        ("y = np.dot(Wya, a) + by\nz = np.dot(Wax, x)", "columns"),
        ("y = np.dot(x, self.W) + self.b\ndx = np.dot(dout, self.W.T)", "rows"),
        ("h = self.weights @ a", "columns"),
        ("z = X @ params['W1']", "rows"),
        ("dW = np.dot(self.x.T, dout)", "unknown"),
        ("y = np.dot(a, b)", "unknown"),
    ],
)
def test_sample_layout_is_read_from_the_weight_products(source, layout):
    assert sample_layout(ast.parse(source)) == layout
