"""A file deep inside its project's package imports the package by its absolute name
(`mylib/models/net.py` doing `from mylib.layers import *`) although the package has no
`__init__.py` (Python 3 imports it as a namespace package), or only its sub-folder has one: the
import resolves as it does from the project's root, and the network is built and checked."""

from __future__ import annotations

import pytest

from tests.test_python2_sibling_modules import NET as PYTHON2_NET
from tests.userfiles import check, errors, line_of, planted, write

LAYERS = """\
import numpy as np


def affine_forward(x, w, b):
    return x.dot(w) + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T), x.T.dot(dout), dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)
"""

NET = PYTHON2_NET.replace("from layers import *", "from mylib.layers import *")

LAYOUTS = {
    "no __init__.py anywhere": [],
    "only the sub-folder is a regular package": ["mylib/models/__init__.py"],
}


@pytest.mark.parametrize("inits", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_a_network_importing_its_namespace_package_by_name_is_built_and_checked(tmp_path, inits):
    write(tmp_path, "mylib/layers.py", LAYERS)
    for init in inits:
        write(tmp_path, init, "")
    net = write(tmp_path, "mylib/models/net.py", NET)
    report = check(net)
    assert errors(report) == []
    assert "TwoLayerNet" in {b["what"] for b in report["built"]}
    assert [f for f in report["findings"] if f["name"] == "missing-module"] == []


def test_a_wrong_gradient_in_the_namespace_package_is_blamed_at_its_line(tmp_path):
    layers = planted(tmp_path, "mylib/layers.py", LAYERS, "x.T.dot(dout), dout.sum(axis=0)", "x.T.dot(dout) * 2, dout.sum(axis=0)")
    net = write(tmp_path, "mylib/models/net.py", NET)
    wrong = [f for f in errors(check(net)) if f["file"] == str(layers)]
    assert wrong and {f["line"] for f in wrong} == {line_of(layers, "* 2")}
