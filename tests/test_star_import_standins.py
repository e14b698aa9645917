"""`from rnn_utils import *` of a course helper the user's folder lacks still brings its functions.

The Coursera sequence-model notebooks call `softmax` and `sigmoid` from `rnn_utils.py`, which a
user's copy rarely has. A star import of a missing module used to bring nothing, so every cell
that called `softmax` could not be built ("nothing to check"). The stand-in module now holds the
stand-ins a star import of that name would bring.
"""

from __future__ import annotations

import numpy as np

from backprop_doctor.loading.datasets import star_names
from tests.userfiles import check, errors, line_of, planted, write

RNN_CELL = '''\
import numpy as np
from rnn_utils import *


def rnn_cell_forward(xt, a_prev, parameters):
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]
    a_next = np.tanh(np.dot(Wax, xt) + np.dot(Waa, a_prev) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


np.random.seed(1)
xt = np.random.randn(3, 10)
a_prev = np.random.randn(5, 10)
parameters = {"Wax": np.random.randn(5, 3), "Waa": np.random.randn(5, 5), "Wya": np.random.randn(2, 5),
              "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
a_next, yt, cache = rnn_cell_forward(xt, a_prev, parameters)
print("yt_pred[1] =", yt[1])
gradients = rnn_cell_backward(np.random.randn(5, 10), cache)
print("dWax[3][1] =", gradients["dWax"][3][1])
'''


def test_a_cell_that_calls_softmax_from_a_missing_rnn_utils_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "rnn_step.py", RNN_CELL))
    assert errors(report) == []
    measured = {m["param"] for m in report["measurements"] if m["layer"] == "rnn_cell_forward/rnn_cell_backward"}
    assert {"Wax", "Waa", "ba"} <= measured
    (note,) = [f for f in report["findings"] if f["code"] == "BPD003"]  # the stand-in is still announced
    assert "NumPy versions of `sigmoid`, `softmax`" in note["message"]


def test_a_wrong_tanh_derivative_in_that_cell_is_an_error_in_its_weights(tmp_path):
    path = planted(tmp_path, "rnn_step.py", RNN_CELL, "dtanh = (1 - a_next ** 2) * da_next", "dtanh = (1 - a_next) * da_next")
    found = {(f["code"], f["param"]) for f in errors(check(path))}
    assert {("BPD101", "Wax"), ("BPD101", "Waa")} <= found


def test_the_star_import_of_a_missing_course_module_brings_its_stand_ins(tmp_path):
    assert {"softmax", "sigmoid"} <= set(star_names("rnn_utils"))
    assert "softmax" not in star_names("planar_utils")  # only the module that has it
    assert "spiral_data" in star_names("nnfs.datasets")


def test_the_rnn_utils_softmax_normalises_each_column(tmp_path):
    from backprop_doctor.loading.datasets import standin

    softmax = standin("rnn_utils.softmax")
    z = np.arange(12.0).reshape(3, 4)
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=0), np.ones(4))
    np.testing.assert_allclose(p[:, 0], np.exp(z[:, 0]) / np.exp(z[:, 0]).sum())
