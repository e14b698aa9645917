"""A softmax kept in a helper module (`utils.py`, `act_utils.py`) that the files beside it import and call:
how its samples lie, and whether it ever sees a batch, is read from those callers, not from the helper
alone (which calls nothing).

- a softmax over the whole array that every importer calls on one sample (`softmax(s[i, :])` in a
  comprehension, `softmax(W @ x + b)` in `for x in X`) is right; the same helper handed a batch by its
  importer is still an error;
- a column softmax (`e.sum(axis=0)`, one example a column) whose importer hands it `np.dot(Wy, h) + by`
  is right (no "which way do they lie" warning); a row softmax handed columns is an error.
The programs here are written for these tests.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

# a helper module of math functions, and a recurrent model that takes the softmax of each sample's row
HELPERS = '''\
import numpy as np


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


def tanh_grad(h):
    return 1.0 - h ** 2
'''

ROWS_MODEL = '''\
import numpy as np

from helpers import softmax, tanh_grad


class TinyRNN:
    def __init__(self, n_in, n_hidden, n_out, steps):
        rng = np.random.RandomState(3)
        self.Wx = rng.randn(n_in, n_hidden) * 0.1
        self.Wh = rng.randn(n_hidden, n_hidden) * 0.1
        self.Wo = rng.randn(n_hidden, n_out) * 0.1
        self.steps = steps

    def forward(self, X):
        batch = X.shape[0]
        h = np.zeros((batch, self.Wh.shape[0]))
        probs = []
        for t in range(self.steps):
            h = np.tanh(X[:, t, :] @ self.Wx + h @ self.Wh)
            s = h @ self.Wo
            probs.append(np.array([softmax(s[i, :]) for i in range(batch)]))
        return probs
'''

# the other style: the module imported whole, a function walking the samples one by one
COLUMN_HELPER_CALLER = '''\
import numpy as np

import helpers


def predict(X, W, b):
    out = []
    for x in X:
        out.append(helpers.softmax(W @ x + b))
    return np.array(out)


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    X = rng.randn(6, 5)
    W = rng.randn(3, 5)
    b = np.zeros(3)
    print(predict(X, W, b).sum(axis=1))
'''

# the deep-learning course's convention: one example a column, the softmax in a utilities file
COLUMN_UTILS = '''\
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))
'''

COLUMN_CELL = '''\
import numpy as np

from act_utils import *


def cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    return a_next, yt_pred
'''

COLUMN_NETWORK = '''\
import numpy as np

import act_utils as au


def two_layer_forward(X, W1, b1, W2, b2):
    a1 = au.sigmoid(np.dot(W1, X) + b1)
    z2 = np.dot(W2, a1) + b2
    return au.softmax(z2)
'''


def _softmax_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "softmax-not-per-row"]


def test_a_whole_array_softmax_its_importer_calls_on_each_row_is_right(tmp_path):
    write(tmp_path, "helpers.py", HELPERS)
    model = write(tmp_path, "rnn_model.py", ROWS_MODEL)
    assert _softmax_findings(check(model)) == []
    assert _softmax_findings(check(tmp_path / "helpers.py")) == []


def test_a_whole_array_softmax_an_importer_calls_in_a_loop_over_samples_is_right(tmp_path):
    write(tmp_path, "helpers.py", HELPERS)
    caller = write(tmp_path, "predict.py", COLUMN_HELPER_CALLER)
    assert _softmax_findings(check(caller)) == []
    assert _softmax_findings(check(tmp_path / "helpers.py")) == []


def test_the_helper_handed_a_batch_by_its_importer_is_still_an_error(tmp_path):
    helpers = write(tmp_path, "helpers.py", HELPERS)
    model = planted(tmp_path, "rnn_model.py", ROWS_MODEL, "np.array([softmax(s[i, :]) for i in range(batch)])", "softmax(s)")
    (finding,) = _softmax_findings(check(model))
    assert (finding["severity"], finding["line"]) == ("error", line_of(helpers, "return e / np.sum(e)"))


def test_a_column_softmax_whose_importer_hands_it_columns_is_right(tmp_path):
    utils = write(tmp_path, "act_utils.py", COLUMN_UTILS)
    write(tmp_path, "rnn_cell.py", COLUMN_CELL)
    assert _softmax_findings(check(utils)) == []


def test_a_column_softmax_imported_as_a_module_and_handed_columns_is_right(tmp_path):
    utils = write(tmp_path, "act_utils.py", COLUMN_UTILS)
    write(tmp_path, "network.py", COLUMN_NETWORK)
    assert _softmax_findings(check(utils)) == []


def test_a_row_softmax_whose_importer_hands_it_columns_is_an_error(tmp_path):
    utils = planted(tmp_path, "act_utils.py", COLUMN_UTILS, "e.sum(axis=0)", "e.sum(axis=1, keepdims=True)")
    write(tmp_path, "rnn_cell.py", COLUMN_CELL)
    (finding,) = _softmax_findings(check(utils))
    assert (finding["severity"], finding["line"]) == ("error", line_of(utils, "e.sum(axis=1"))
