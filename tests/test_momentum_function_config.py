"""cs231n's momentum function, `sgd_momentum(w, dw, config) -> (next_w, config)`, in a script.

A homework script keeps one `config` per parameter and hands it back at every call; its
`sgd_momentum` often takes `config` with no default (the solver always passes one). Such a
function is stepped like `sgd(w, dw, config=None)`, handed an empty `config` it fills with its own
defaults, and given one constant gradient four times, the `config` it returns handed back each
time: momentum moves further at each call. One that stores back the velocity it read, not the new
one it computed,

    v = config.get("velocity", np.zeros_like(w))
    next_v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + next_v
    config["velocity"] = v           # should be next_v

is plain gradient descent (`momentum-not-kept`), named at that store with the local to store.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor.checks.momentum_not_kept import OldVelocityStored, _old_velocity_stored
from backprop_doctor.training.optimizers import momentum_drift, step_function, update_function
from tests.userfiles import check, errors, line_of, planted

SCRIPT = """\
import sys
import numpy as np


def make_data(rng):
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, y


def forward_backward(p, X, y):
    h = np.maximum(0, X @ p["W1"] + p["b1"])
    s = h @ p["W2"] + p["b2"]
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    prob = e / e.sum(axis=1, keepdims=True)
    n = len(X)
    loss = -np.log(prob[np.arange(n), y]).mean()
    ds = prob.copy()
    ds[np.arange(n), y] -= 1
    ds /= n
    grads = {"W2": h.T @ ds, "b2": ds.sum(axis=0)}
    dh = (ds @ p["W2"].T) * (h > 0)
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    return loss, grads


def sgd_momentum(w, dw, config):
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + next_v
    config["velocity"] = next_v
    return next_w, config


def run(epochs, lr):
    rng = np.random.default_rng(1)
    X, y = make_data(rng)
    p = {"W1": rng.normal(scale=0.5, size=(3, 16)), "b1": np.zeros(16), "W2": rng.normal(scale=0.3, size=(16, 2)), "b2": np.zeros(2)}
    cfg = {k: {"learning_rate": lr, "momentum": 0.9} for k in p}
    for epoch in range(epochs):
        for start in range(0, len(X), 30):
            loss, grads = forward_backward(p, X[start:start + 30], y[start:start + 30])
            for k in p:
                p[k], cfg[k] = sgd_momentum(p[k], grads[k], cfg[k])
        print(epoch, loss)


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 20, 0.05)
"""

KEPT = 'config["velocity"] = next_v'
OLD = 'config["velocity"] = v'


def kept(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD209"]


def test_a_momentum_function_that_must_be_handed_its_config_is_stepped_and_clean(tmp_path: Path) -> None:
    report = check(planted(tmp_path, "hw_momentum.py", SCRIPT, KEPT, KEPT))
    assert errors(report) == [] and kept(report) == []
    assert "sgd_momentum" in {b["what"] for b in report["built"] if b["kind"] == "optimizer"}


def test_the_velocity_read_stored_back_in_place_of_the_new_one_is_named_at_the_store(tmp_path: Path) -> None:
    path = planted(tmp_path, "hw_momentum.py", SCRIPT, KEPT, OLD)
    (finding,) = kept(check(path))
    store, read, new = line_of(path, OLD), line_of(path, "v = config.get("), line_of(path, "next_v = config")
    assert (finding["line"], finding["severity"], finding["pattern"], finding["layer"]) == (store, "warning", "old-velocity-stored", "sgd_momentum")
    assert finding["highlight"] == [read, new, store]
    assert f'line {store} (`config["velocity"] = v`) stores back the velocity as it was read (`v`, line {read})' in finding["message"]
    assert finding["message"].endswith(f"not the new one computed into `next_v` at line {new}, so every update starts again from the first velocity: store `next_v` there")


def test_cs231ns_own_signature_with_a_default_config_is_named_the_same_way(tmp_path: Path) -> None:
    source = SCRIPT.replace("def sgd_momentum(w, dw, config):\n", "def sgd_momentum(w, dw, config=None):\n    if config is None:\n        config = {}\n")
    path = planted(tmp_path, "hw_momentum.py", source, KEPT, OLD)
    (finding,) = kept(check(path))
    assert (finding["line"], finding["pattern"]) == (line_of(path, OLD), "old-velocity-stored")


CLASS_OLD_STORED = """
class MomentumSGD:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, 0.0)
            new_v = self.momentum * v - self.lr * grads[key]
            params[key] += new_v
            self.v[key] = v
"""


def _function(text: str) -> ast.FunctionDef:
    module = ast.parse(textwrap.dedent(text))
    return next(n for n in ast.walk(module) if isinstance(n, ast.FunctionDef) and n.name in ("update", "sgd_momentum"))


def test_the_store_is_found_in_a_class_that_keeps_its_velocities_in_a_dict() -> None:
    assert _old_velocity_stored(_function(CLASS_OLD_STORED)) == OldVelocityStored(11, "self.v[key] = v", "v", 8, "new_v", 9)


@pytest.mark.parametrize(
    "edit",
    [
        ("self.v[key] = v", "self.v[key] = new_v"),  # the new velocity stored
        ("new_v = self.momentum * v", "v = self.momentum * v"),  # one local, computed again
        ("self.v[key] = v", "self.w[key] = v"),  # stored elsewhere than where it was read
    ],
    ids=["new-stored", "same-local", "other-store"],
)
def test_no_old_velocity_store_is_found_where_the_new_one_is_kept_or_none_is_read(edit: tuple[str, str]) -> None:
    assert _old_velocity_stored(_function(CLASS_OLD_STORED.replace(*edit))) is None


def _compiled(text: str, name: str):
    namespace: dict = {"np": np}
    exec(compile(textwrap.dedent(text), "<optim>", "exec"), namespace)
    return namespace[name]


def test_a_config_without_a_default_makes_an_optimizer_function_and_is_handed_an_empty_one() -> None:
    source = SCRIPT[SCRIPT.index("def sgd_momentum"):SCRIPT.index("def run")]
    good = _compiled(source, "sgd_momentum")
    assert update_function(good)
    stepped = step_function(good, np.random.default_rng(0))
    assert stepped is not None and stepped.cosines["w"] < -0.99
    assert momentum_drift(good, None, np.random.default_rng(0)) is None
    drift = momentum_drift(_compiled(source.replace(KEPT, OLD), "sgd_momentum"), None, np.random.default_rng(0))
    assert drift is not None and drift.coefficient == 0.9 and drift.ratios == (1.0, 1.0, 1.0, 1.0)
    assert not update_function(_compiled("def sgd_momentum(w, dw, config, extra):\n    return w, config\n", "sgd_momentum"))
