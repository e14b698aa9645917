"""Optimizer functions as cs231n's `optim.py` has them: `sgd(w, dw, config=None) -> (next_w, config)`.

Each is called once on a fresh parameter and gradient with its own default configuration; one that
moves the parameter along its gradient climbs the loss (`update-climbs`), reported at the statement
that adds the step. A function still left as the assignment's `next_w = None` is not stepped."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

OPTIM = '''\
import numpy as np


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def rmsprop(x, dx, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(x))
    config["cache"] = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dx ** 2
    next_x = x - config["learning_rate"] * dx / (np.sqrt(config["cache"]) + config["epsilon"])
    return next_x, config


def adam(x, dx, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(x))
    config.setdefault("v", np.zeros_like(x))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dx
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dx ** 2
    mb = config["m"] / (1 - config["beta1"] ** config["t"])
    vb = config["v"] / (1 - config["beta2"] ** config["t"])
    next_x = x - config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])
    return next_x, config
'''


def test_correct_optimizer_functions_are_each_stepped_and_clean(tmp_path):
    path = write(tmp_path, "optim.py", OPTIM)
    report = check(path)
    assert errors(report) == []
    stepped = {b["what"] for b in report["built"] if b["kind"] == "optimizer"}
    assert stepped == {"sgd", "sgd_momentum", "rmsprop", "adam"}
    assert report["verdict"].endswith("in 4 optimizers (seed 0)")


def test_an_adam_that_adds_its_step_climbs_at_that_line(tmp_path):
    bad = 'next_x = x + config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])'
    path = planted(tmp_path, "optim.py", OPTIM, 'next_x = x - config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])', bad)
    (finding,) = errors(check(path))
    assert finding["name"] == "update-climbs"
    assert finding["layer"] == "adam"
    assert finding["line"] == line_of(path, bad)
    assert finding["message"].startswith("`adam(w, dw)` moves `w` along its gradient `dw`, up the loss")


def test_a_momentum_velocity_with_the_gradient_added_climbs_at_that_line(tmp_path):
    bad = 'v = config["momentum"] * v + config["learning_rate"] * dw'
    path = planted(tmp_path, "optim.py", OPTIM, 'v = config["momentum"] * v - config["learning_rate"] * dw', bad)
    (finding,) = errors(check(path))
    assert (finding["name"], finding["layer"], finding["line"]) == ("update-climbs", "sgd_momentum", line_of(path, bad))


def test_a_function_left_as_the_assignments_todo_is_not_stepped(tmp_path):
    source = OPTIM.replace(
        '    next_x = x - config["learning_rate"] * dx / (np.sqrt(config["cache"]) + config["epsilon"])\n',
        "    next_x = None\n    # TODO: implement the RMSprop update formula\n",
    )
    path = write(tmp_path, "optim.py", source)
    report = check(path)
    assert errors(report) == []
    assert {b["what"] for b in report["built"] if b["kind"] == "optimizer"} == {"sgd", "sgd_momentum", "adam"}
