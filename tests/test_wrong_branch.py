"""A backward whose input gradient adds two branches (a gated unit: `out = a * sigmoid(g)`), where one
branch's adjoint is wrong: the parameter gradients computed from that adjoint are wrong and the other
branch's are right, so the root finding names the adjoint's line, not the line that adds the branches
(`return da @ W.T + dg @ V.T`) or the first wrong store. Two styles: a layer keeping its parameters as
attributes, checked on its own, and layers keeping theirs in dictionaries by key, gathered by a network
whose check says which are right."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from backprop_doctor.static.branches import split
from tests.userfiles import check, errors, line_of, planted, write

# a gated linear unit with attributes, trained on its own
ATTRIBUTES = """\
    import numpy as np


    class GatedUnit:
        def __init__(self, n_in, n_out, rng):
            self.W = rng.normal(0, 0.5, (n_in, n_out))
            self.b = np.zeros(n_out)
            self.V = rng.normal(0, 0.5, (n_in, n_out))
            self.c = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            self.lin = x @ self.W + self.b
            self.gate = 1.0 / (1.0 + np.exp(-(x @ self.V + self.c)))
            return self.lin * self.gate

        def backward(self, dout):
            dlin = dout * self.gate
            dpre = dout * self.lin * self.gate * (1 - self.gate)
            self.dW = self.x.T @ dlin
            self.db = dlin.sum(axis=0)
            self.dV = self.x.T @ dpre
            self.dc = dpre.sum(axis=0)
            return dlin @ self.W.T + dpre @ self.V.T


    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 3))
    t = rng.normal(size=(40, 4))
    unit = GatedUnit(3, 4, rng)
    for step in range(50):
        y = unit.forward(x)
        unit.backward((y - t) / len(x))
        for p, g in ((unit.W, unit.dW), (unit.b, unit.db), (unit.V, unit.dV), (unit.c, unit.dc)):
            p -= 0.05 * g
"""

# tanh-gated layers keeping their arrays in dictionaries by key, gathered by a network
KEYED = """\
    import numpy as np


    class TanhGate:
        def __init__(self, n_in, n_out, rng, prefix):
            self.prefix = prefix
            self.params = {
                f"{prefix}_Wl": rng.normal(0, 0.4, (n_in, n_out)),
                f"{prefix}_Wg": rng.normal(0, 0.4, (n_in, n_out)),
            }
            self.grads = {}

        def forward(self, x):
            self.x = x
            self.u = x @ self.params[f"{self.prefix}_Wl"]
            self.th = np.tanh(x @ self.params[f"{self.prefix}_Wg"])
            return self.u * self.th

        def backward(self, dy):
            pre = self.prefix
            d_lin = dy * self.th
            d_gate = dy * self.u * (1 - self.th ** 2)
            self.grads[f"{pre}_Wl"] = self.x.T @ d_lin
            self.grads[f"{pre}_Wg"] = self.x.T @ d_gate
            return d_lin @ self.params[f"{pre}_Wl"].T + d_gate @ self.params[f"{pre}_Wg"].T


    class Dense:
        def __init__(self, n_in, n_out, rng, prefix):
            self.prefix = prefix
            self.params = {prefix + "_W": rng.normal(0, 0.4, (n_in, n_out)), prefix + "_b": np.zeros(n_out)}
            self.grads = {}

        def forward(self, x):
            self.x = x
            return x @ self.params[self.prefix + "_W"] + self.params[self.prefix + "_b"]

        def backward(self, dy):
            self.grads[self.prefix + "_W"] = self.x.T @ dy
            self.grads[self.prefix + "_b"] = dy.sum(axis=0)
            return dy @ self.params[self.prefix + "_W"].T


    class Model:
        def __init__(self, layers):
            self.layers = layers
            self.params, self.grads = {}, {}
            for layer in layers:
                self.params.update(layer.params)

        def predict(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def loss(self, x, t):
            y = self.predict(x)
            return 0.5 * np.mean(np.sum((y - t) ** 2, axis=1))

        def gradient(self, x, t):
            y = self.predict(x)
            dy = (y - t) / x.shape[0]
            for layer in reversed(self.layers):
                dy = layer.backward(dy)
            for layer in self.layers:
                self.grads.update(layer.grads)
            return self.grads


    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (90, 3))
    t = np.c_[x[:, 0] * x[:, 1], np.cos(x[:, 2])]
    model = Model([TanhGate(3, 6, rng, "g1"), TanhGate(6, 5, rng, "g2"), Dense(5, 2, rng, "head")])
    for i in range(100):
        grads = model.gradient(x, t)
        for key in model.params:
            model.params[key] -= 0.1 * grads[key]
"""


def _root(report: dict) -> dict:
    return next(f for f in errors(report) if not f.get("caused_by"))


def test_the_gate_adjoint_without_the_other_branch_is_named_in_a_layer_with_attributes(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "glu.py", ATTRIBUTES))) == []
    path = planted(tmp_path, "glu.py", ATTRIBUTES, "dpre = dout * self.lin * self.gate", "dpre = dout * self.gate")
    root = _root(check(path))
    assert root["pattern"] == "wrong-branch"
    assert root["line"] == line_of(path, "dpre = dout * self.gate")
    assert "`V`, `c`" in root["message"] and "`W`, `b`" in root["message"]


def test_the_linear_branch_adjoint_is_named_in_layers_keyed_by_name_in_a_network(tmp_path: Path) -> None:
    assert errors(check(write(tmp_path, "gated.py", KEYED))) == []
    path = planted(tmp_path, "gated.py", KEYED, "d_lin = dy * self.th", "d_lin = dy")
    root = _root(check(path))
    assert root["pattern"] == "wrong-branch"
    assert root["line"] == line_of(path, "d_lin = dy")
    assert "`d_lin`" in root["message"]


def test_one_wrong_store_in_a_branch_keeps_its_own_line(tmp_path: Path) -> None:
    path = planted(tmp_path, "glu.py", ATTRIBUTES, "self.dV = self.x.T @ dpre", "self.dV = self.x.T @ dpre * 2")
    root = _root(check(path))
    assert root["line"] == line_of(path, "self.dV = self.x.T @ dpre * 2")
    assert root["pattern"] != "wrong-branch"


def _backward(text: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ast.parse(textwrap.dedent(text))) if isinstance(n, ast.FunctionDef) and n.name == "backward")


def test_split_reads_the_branches_and_the_stores_each_feeds() -> None:
    node = _backward(ATTRIBUTES)
    returned = next(n for n in node.body if isinstance(n, ast.Return)).lineno
    branches = split(node, returned)
    assert branches is not None
    assert [b.name for b in branches] == ["dlin", "dpre"]
    lin, pre = branches
    assert [s.attribute for s in lin.stores] == ["dW", "db"] and [s.attribute for s in pre.stores] == ["dV", "dc"]
    assert pre.stores[0].writes("V") and not pre.stores[0].writes("W")
    keyed = _backward(KEYED)
    gate = split(keyed, next(n for n in keyed.body if isinstance(n, ast.Return)).lineno)
    assert gate is not None and [s.key for b in gate for s in b.stores] == ["_Wl", "_Wg"]
    assert gate[1].stores[0].writes("g2_Wg") and not gate[1].stores[0].writes("g2_Wl")
    # one adjoint read by the returned gradient: no branches
    single = _backward("""\
        def backward(self, dout):
            dz = dout * self.mask
            self.dW = self.x.T @ dz
            return dz @ self.W.T
    """)
    assert split(single, 4) is None
