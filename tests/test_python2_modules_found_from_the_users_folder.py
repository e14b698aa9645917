"""A Python 2 module of the user's (`print "epoch", j`) that the checked file reaches through a
relative `sys.path` entry taken from its own folder (`sys.path.append("../src/")`, the script
run from `fig/`), or in a folder above it, is read as Python 3 line for line, as a module beside
the file is: the network in it is built and checked and a `python2` warning names its lines,
instead of a load error at its first print statement."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NETWORK2 = """\
import numpy as np


class Network(object):
    def __init__(self, n_in=4, hidden=5, n_out=3):
        self.W1 = 0.3 * np.random.randn(n_in, hidden)
        self.W2 = 0.3 * np.random.randn(hidden, n_out)
        self.params = {"W1": self.W1, "W2": self.W2}

    def predict(self, x):
        self.x = x
        self.h = np.tanh(x.dot(self.W1))
        return self.h.dot(self.W2)

    def loss(self, x, t):
        y = self.predict(x)
        return 0.5 * np.sum((y - t) ** 2) / x.shape[0]

    def gradient(self, x, t):
        y = self.predict(x)
        dy = (y - t) / x.shape[0]
        grads = {"W2": self.h.T.dot(dy)}
        dh = dy.dot(self.W2.T) * (1 - self.h ** 2)
        grads["W1"] = self.x.T.dot(dh)
        return grads

    def report(self, epoch, cost):
        print "Epoch %s: cost %s" % (epoch, cost)
"""

FIGURE = """\
import sys
sys.path.append("../src/")

import network2


def main():
    net = network2.Network(4, 5, 3)
    print(net.loss)


class Figure(network2.Network):
    pass
"""


def test_a_python2_module_on_a_relative_path_is_read_as_python3(tmp_path):
    module = write(tmp_path, "src/network2.py", NETWORK2)
    figure = write(tmp_path, "fig/generate_gradient.py", FIGURE)
    report = check(figure)
    assert errors(report) == []
    assert "Figure" in {b["what"] for b in report["built"] if b["shapes"]}
    (warning,) = [f for f in report["findings"] if f["name"] == "python2"]
    assert (warning["file"], warning["severity"], warning["line"]) == (str(module), "warning", line_of(module, 'print "Epoch'))
    assert module.read_text(encoding="utf-8") == NETWORK2  # read as Python 3, never written


def test_a_wrong_gradient_in_that_module_is_blamed_in_it(tmp_path):
    module = planted(tmp_path, "src/network2.py", NETWORK2, "(1 - self.h ** 2)", "(1 + self.h ** 2)")
    figure = write(tmp_path, "fig/generate_gradient.py", FIGURE)
    # `network2.Network(4, 5, 3)` in `main` names the module's class: it is checked too, as it is
    # after `from network2 import Network`
    found = errors(check(figure))
    assert sorted((w["code"], w["layer"], w["param"]) for w in found) == [("BPD101", "Figure", "W1"), ("BPD101", "Network", "W1")]
    for wrong in found:
        assert (wrong["file"], wrong["line"]) == (str(module), line_of(module, 'grads["W1"] = self.x.T.dot(dh)'))


def test_a_python2_package_in_a_folder_above_is_read_as_python3(tmp_path):
    write(tmp_path, "book/__init__.py", "")
    module = write(tmp_path, "book/network2.py", NETWORK2)
    figure = write(tmp_path, "chapters/one/figure/net.py", FIGURE.replace("import network2", "from book import network2"))
    report = check(figure)
    assert errors(report) == []
    (warning,) = [f for f in report["findings"] if f["name"] == "python2"]
    assert (warning["file"], warning["line"]) == (str(module), line_of(module, 'print "Epoch'))
