"""An error that a missing module's stand-in causes in the user's code is not the user's error:
`np` undefined because `from mylayers import *` got a stand-in, or `im2col(x) * 0.5` with
`im2col` from a missing module ("unsupported operand type(s) for *: 'Stub' and 'float'").
The object is reported as not checked (`build-failed` info, pattern `stand-in`) at the line that
met the stand-in, naming the missing module, next to that module's `missing-module` note; when
nothing else could be checked the file's `nothing-to-check` is a warning saying a module is
missing. A NameError in a file without such an import stays the user's `layer-raised` error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

STAR_NET = """\
import sys, os
sys.path.append(os.pardir)
from mylayers_not_here import *


class Net:
    def __init__(self, n_in=4, n_out=3):
        self.W = 0.3 * np.random.randn(n_in, n_out)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
"""

CONV_NET = """\
import numpy as np
from conversions_not_here import im2col


class Scale:
    def __init__(self, n=3):
        self.W = np.ones(n)

    def forward(self, x):
        self.x = x
        return x * self.W

    def backward(self, dout):
        self.dW = (dout * self.x).sum(axis=0)
        return dout * self.W


class Conv:
    def __init__(self):
        self.W = np.ones((3, 3))

    def forward(self, x):
        self.x = x
        return im2col(x) * 0.5

    def backward(self, dout):
        return dout * 0.5


class ConvNet:
    def __init__(self, input_size=6):
        self.layers = [Scale(input_size), Conv()]
        self.params = {"W": self.layers[0].W}

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return 0.5 * np.sum((y - t) ** 2) / x.shape[0]

    def gradient(self, x, t):
        y = self.predict(x)
        dout = (y - t) / x.shape[0]
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return {"W": self.layers[0].dW}
"""


def _notes(report, pattern):
    return [f for f in report["findings"] if f["code"] == "BPD008" and f["pattern"] == pattern]


def test_a_name_a_missing_star_import_would_give_is_not_the_users_error(tmp_path):
    net = write(tmp_path, "net.py", STAR_NET)
    report = check(net)
    assert errors(report) == []
    (note,) = _notes(report, "stand-in")
    assert (note["severity"], note["layer"], note["line"]) == ("info", "Net", line_of(net, "self.W = 0.3 * np.random"))
    assert "`from mylayers_not_here import *`" in note["message"] and "NameError" in note["message"]
    (missing,) = [f for f in report["findings"] if f["code"] == "BPD003"]
    assert missing["line"] == line_of(net, "from mylayers_not_here import *")
    (nothing,) = [f for f in report["findings"] if f["code"] == "BPD007"]
    assert nothing["severity"] == "warning" and "a module that is missing here" in nothing["message"]


def test_a_stand_in_function_in_a_forward_pass_is_not_the_users_error(tmp_path):
    net = write(tmp_path, "net.py", CONV_NET)
    report = check(net)
    assert errors(report) == []
    notes = _notes(report, "stand-in")
    line = line_of(net, "return im2col(x) * 0.5")
    assert sorted((f["layer"], f["severity"], f["line"]) for f in notes) == [("Conv", "info", line), ("ConvNet", "info", line)]
    assert all("`conversions_not_here`" in f["message"] and "'Stub'" in f["message"] for f in notes)
    assert [f["code"] for f in report["findings"] if f["code"] in ("BPD007", "BPD105")] == []


def test_a_name_no_import_gives_stays_the_users_error(tmp_path):
    net = write(tmp_path, "net.py", STAR_NET.replace("from mylayers_not_here import *", "import numpy"))
    report = check(net)
    (raised,) = errors(report)
    assert (raised["code"], raised["line"]) == ("BPD105", line_of(net, "self.W = 0.3 * np.random"))
    assert _notes(report, "stand-in") == []


def test_a_name_an_existing_star_import_does_not_give_stays_the_users_error(tmp_path):
    write(tmp_path, "mylayers_here.py", "import numpy\n")
    net = write(tmp_path, "net.py", STAR_NET.replace("mylayers_not_here", "mylayers_here"))
    report = check(net)
    (raised,) = errors(report)
    assert (raised["code"], raised["line"]) == ("BPD105", line_of(net, "self.W = 0.3 * np.random"))
