"""A notebook's backward function that reads a weight as a global (`Wy`) where it should read
`parameters["Wy"]`: in the notebook it runs, on whatever a test cell bound to that name. The report
names the global, the line that binds it and what the function is given instead."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NOTEBOOK = '''\
import numpy as np


def cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wy = parameters["Wax"], parameters["Waa"], parameters["Wy"]
    a_next = np.tanh(Wax @ xt + Waa @ a_prev)
    y = Wy @ a_next
    cache = (a_next, a_prev, xt, parameters)
    return y, cache


def cell_backward(dy, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa, Wy = parameters["Wax"], parameters["Waa"], parameters["Wy"]
    da_next = Wy.T @ dy
    dz = (1 - a_next ** 2) * da_next
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    dWaa = dz @ a_prev.T
    dWy = dy @ a_next.T
    return {"dxt": dxt, "dWax": dWax, "dWaa": dWaa, "dWy": dWy}


# In[ ]:

np.random.seed(1)
xt = np.random.randn(3, 4)
a_prev = np.random.randn(5, 4)
Wy = np.random.randn(2, 5)
parameters = {"Wax": np.random.randn(5, 3), "Waa": np.random.randn(5, 5), "Wy": Wy}
y, cache = cell_forward(xt, a_prev, parameters)
'''


def test_a_backward_that_reads_a_global_is_told_to_read_what_it_is_given(tmp_path):
    path = planted(tmp_path, "rnn_cell.py", NOTEBOOK, '    Wax, Waa, Wy = parameters["Wax"], parameters["Waa"], parameters["Wy"]\n    da_next', "    Wax, Waa = parameters[\"Wax\"], parameters[\"Waa\"]\n    da_next")
    report = check(path, "--no-run")
    reading = [f for f in errors(report) if f["pattern"] == "reads-a-global"]
    assert len(reading) == 1
    (finding,) = reading
    assert finding["line"] == line_of(path, "da_next = Wy.T @ dy")
    assert f"your program binds it at line {line_of(path, 'Wy = np.random.randn(2, 5)')}" in finding["message"]
    assert "(`parameters['Wy']`)" in finding["message"]
    assert finding["message"].startswith("`cell_backward` reads `Wy`")


def test_the_backward_that_reads_its_parameters_is_not_named_so(tmp_path):
    report = check(write(tmp_path, "rnn_cell.py", NOTEBOOK), "--no-run")
    assert not [f for f in report["findings"] if f["pattern"] == "reads-a-global"]
