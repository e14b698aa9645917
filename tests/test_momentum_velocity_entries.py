"""Momentum written as `vel[k] = beta * vel[k] - step * grads[k]` then `net[k] += vel[k]`, in a function
of its own: the velocity holds minus the rate times the gradient, so adding it descends. The update is
found whatever the container is called, its sign read through the velocity entry, and a right program
is clean; a velocity that adds the gradient climbs and is named."""

from __future__ import annotations

import re

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed

PROGRAM = '''\
import numpy as np

gen = np.random.default_rng(21)
pts = gen.normal(size=(240, 3))
lab = ((pts[:, 0] * pts[:, 1] > 0) ^ (pts[:, 2] > 0.3)).astype(float)[:, None]


def build():
    return {"A": gen.normal(size=(3, 12)) * 0.6, "a": np.zeros(12), "B": gen.normal(size=(12, 1)) * 0.4, "b": np.zeros(1)}


def run(net, pts, lab):
    hid = np.maximum(0.0, pts @ net["A"] + net["a"])
    out = 1.0 / (1.0 + np.exp(-(hid @ net["B"] + net["b"])))
    cost = -np.mean(lab * np.log(out) + (1 - lab) * np.log(1 - out))
    g_out = (out - lab) / len(pts)
    g_hid = g_out @ net["B"].T * (hid > 0)
    return cost, {"A": pts.T @ g_hid, "a": g_hid.sum(0), "B": hid.T @ g_out, "b": g_out.sum(0)}


def heavy_ball(net, grads, vel, step=0.2, beta=0.8):
    for name in net:
        vel[name] = beta * vel[name] - step * grads[name]
        net[name] += vel[name]


net = build()
vel = {name: np.zeros_like(arr) for name, arr in net.items()}
for sweep in range(800):
    cost, grads = run(net, pts, lab)
    heavy_ball(net, grads, vel)
    if sweep % 100 == 0:
        print(sweep, cost)
'''

DESCENT = "vel[name] = beta * vel[name] - step * grads[name]"


@pytest.mark.parametrize(("container", "velocity"), [("net", "vel"), ("params", "velocity")])
def test_adding_a_velocity_that_holds_minus_the_step_is_descent(tmp_path, container, velocity):
    program = re.sub(r"\bvel\b", velocity, re.sub(r"\bnet\b", container, PROGRAM))
    path = planted(tmp_path, "heavy_ball.py", program, DESCENT.replace("vel", velocity), DESCENT.replace("vel", velocity))
    report = check(path)
    assert errors(report) == []
    step = replayed(report)
    assert len(step["parameters"]) == 4 and not any(p["wrong"] for p in step["parameters"])


def test_a_velocity_that_adds_the_gradient_climbs(tmp_path):
    path = planted(tmp_path, "heavy_ball.py", PROGRAM, DESCENT, "vel[name] = beta * vel[name] + step * grads[name]")
    found = errors(check(path))
    assert [f["name"] for f in found] == ["step-gradient-mismatch"]
    assert "climbs" in found[0]["message"]
    assert found[0]["line"] in (line_of(path, "vel[name] = beta"), line_of(path, "net[name] += vel[name]"))
