"""A program in the style of a popular 2016 book: a class whose `train(inputs, targets)` computes
its forward pass in locals and updates `self.wih`/`self.who` itself, a `query(inputs)` method, a
sigmoid from `scipy.special.expit`, MNIST read line by line from a CSV file, and `np.asfarray`
(gone from NumPy 2).

- `np.asfarray` and `np.float` get their old meaning while the program runs, and a
  `numpy-removed` warning with the lines and the modern spelling;
- `scipy.special.expit` has a NumPy stand-in when SciPy is missing;
- a missing `mnist_*.csv` opened by the program reads as synthetic digits, one per line;
- the loss is the one the method's output error implies, its output recomputed by `query`.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, write

BOOK_STYLE = '''\
import numpy as np
import scipy.special


class TwoLayer:
    def __init__(self, n_in, n_hidden, n_out, rate):
        rng = np.random.default_rng(0)
        self.wih = rng.normal(0.0, n_in ** -0.5, (n_hidden, n_in))
        self.who = rng.normal(0.0, n_hidden ** -0.5, (n_out, n_hidden))
        self.rate = rate
        self.squash = lambda v: scipy.special.expit(v)

    def train(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin=2).T
        targets = np.array(targets_list, ndmin=2).T
        hidden = self.squash(self.wih @ inputs)
        outputs = self.squash(self.who @ hidden)
        output_errors = targets - outputs
        output_signal = output_errors * outputs * (1.0 - outputs)
        hidden_errors = self.who.T @ output_signal
        self.who += self.rate * output_signal @ hidden.T
        self.wih += self.rate * (hidden_errors * hidden * (1.0 - hidden)) @ inputs.T

    def query(self, inputs_list):
        inputs = np.array(inputs_list, ndmin=2).T
        return self.squash(self.who @ self.squash(self.wih @ inputs))


net = TwoLayer(784, 30, 10, 0.2)
with open("mnist_train_small.csv") as handle:
    records = handle.readlines()
for epoch in range(2):
    for record in records:
        values = record.split(",")
        inputs = np.asfarray(values[1:]) / 255.0 * 0.99 + 0.01
        targets = np.zeros(10, dtype=np.float) + 0.01
        targets[int(values[0])] = 0.99
        net.train(inputs, targets)
'''

# the book's shortcut: the hidden errors split the output *errors*, not the output signal
SHORTCUT = ("hidden_errors = self.who.T @ output_signal", "hidden_errors = self.who.T @ output_errors")


def test_the_correct_program_runs_and_is_replayed_against_the_squared_error(tmp_path):
    report = check(write(tmp_path, "book_net.py", BOOK_STYLE))
    assert errors(report) == []
    result = replayed(report)
    assert result["loss"] == "0.5·Σ(net.query(inputs) − np.array(targets, ndmin=2).T)²"
    assert [(p["name"], p["wrong"]) for p in result["parameters"]] == [("net.who", False), ("net.wih", False)]


def test_the_hidden_errors_shortcut_is_named_where_the_hidden_errors_are_computed(tmp_path):
    path = planted(tmp_path, "book_net.py", BOOK_STYLE, *SHORTCUT)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["param"]) == ("BPD108", "net.wih")
    assert finding["line"] == line_of(path, SHORTCUT[1])
    assert finding["highlight"] == [line_of(path, SHORTCUT[1]), line_of(path, "self.wih += ")]


def test_numpy_names_removed_in_numpy_2_get_their_old_meaning_and_a_warning(tmp_path):
    path = write(tmp_path, "book_net.py", BOOK_STYLE)
    findings = {f["message"].split("`")[1]: f for f in check(path)["findings"] if f["name"] == "numpy-removed"}
    assert set(findings) == {"np.asfarray", "np.float"}
    asfarray = findings["np.asfarray"]
    assert (asfarray["code"], asfarray["severity"], asfarray["line"]) == ("BPD011", "warning", line_of(path, "np.asfarray("))
    assert "write `np.asarray(x, dtype=float)` instead" in asfarray["message"]
    assert findings["np.float"]["line"] == line_of(path, "dtype=np.float)")


def test_a_missing_mnist_csv_read_line_by_line_is_synthetic_digits(tmp_path):
    report = check(write(tmp_path, "book_net.py", BOOK_STYLE))
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert "mnist_train_small.csv" in synthetic["message"] and "a label, then 784 pixels 0-255" in synthetic["message"]
    assert not (tmp_path / "mnist_train_small.csv").exists()


def test_scipy_special_expit_has_a_numpy_stand_in():
    if importlib.util.find_spec("scipy") is not None:
        pytest.skip("SciPy is installed here: its own expit runs")
    import numpy as np

    from backprop_doctor.loading.datasets import standin

    expit = standin("scipy.special.expit")
    assert expit is not None
    values = np.array([-800.0, -2.0, 0.0, 3.0])
    assert np.allclose(expit(values), [0.0, 1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-3.0))], rtol=1e-15, atol=0)
    softmax = standin("scipy.special.softmax")
    assert np.allclose(softmax(np.array([[1.0, 2.0], [3.0, 4.0]])).sum(), 1.0)  # SciPy's default: the whole array


def test_one_update_that_subtracts_where_the_others_add_is_named_at_its_line(tmp_path):
    # the book's errors are target − output, so its updates add: one written `-=` climbs the loss while the other
    # descends with the same errors, so the sign to change is that update's, not the errors'
    path = planted(
        tmp_path, "book_net.py", BOOK_STYLE,
        "self.who += self.rate * output_signal @ hidden.T", "self.who -= self.rate * output_signal @ hidden.T",
    )  # fmt: skip
    (finding,) = errors(check(path))
    assert (finding["param"], finding["pattern"]) == ("net.who", "update-sign-flipped")
    assert finding["line"] == line_of(path, "self.who -= ") and "add the step (`+=`)" in finding["message"]
