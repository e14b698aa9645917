"""A warm-up-then-decay learning-rate schedule whose length is set shorter than the loop: the rate climbs to
its peak, falls to its floor within the first tenth of the passes and stays there. The schedule is read
through a warm-up (measured from its peak, not its first tiny step), through a rate set in both branches of
an `if` (`lr = a if epoch < warm else b`) and through a momentum velocity (`v -= lr * g`, `p += v`); the
warning names the line that sets the schedule's length (`decay_epochs = 20` against a loop of 300 passes)
and the fix in the loop's own terms. Programs written for these tests, in two styles: a script whose
epoch loop sets the rate in an if/else, and a cosine function fed by a step counter of its own."""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

EPOCH_IF_ELSE = 'import math\n\nimport numpy as np\n\ngen = np.random.default_rng(6)\nZ = gen.normal(size=(256, 4))\ntarget = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] * Z[:, 2]\nW = gen.normal(size=(4, 24)) * 0.3\nbh = np.zeros(24)\nV = gen.normal(size=24) * 0.1\nbo = np.zeros(1)\nparams = {"W": W, "bh": bh, "V": V, "bo": bo}\nvel = {k: np.zeros_like(p) for k, p in params.items()}\ntop, floor, warm = 0.05, 1e-5, 5\ndecay_epochs = 20\nfor epoch in range(300):\n    if epoch < warm:\n        lr = top * (epoch + 1) / warm\n    else:\n        lr = floor + 0.5 * (top - floor) * (1 + math.cos(math.pi * min(1.0, (epoch - warm) / decay_epochs)))\n    a = np.tanh(Z @ params["W"] + params["bh"])\n    o = a @ params["V"] + params["bo"]\n    cost = 0.5 * np.mean((o - target) ** 2)\n    do = (o - target) / len(target)\n    da = np.outer(do, params["V"]) * (1 - a ** 2)\n    grads = {"W": Z.T @ da, "bh": da.sum(axis=0), "V": a.T @ do, "bo": np.array([do.sum()])}\n    for k in params:\n        vel[k] *= 0.9\n        vel[k] -= lr * grads[k]\n        params[k] += vel[k]\n    if epoch % 50 == 0:\n        print(epoch, cost)\n'

STEP_COUNTER = 'import math\n\nimport numpy as np\n\n\ndef schedule(t, horizon, ramp, peak):\n    if t < ramp:\n        return peak * (t + 1) / ramp\n    frac = min(1.0, (t - ramp) / max(1, horizon - ramp))\n    return 0.5 * peak * (1 + math.cos(math.pi * frac))\n\n\ngen = np.random.default_rng(9)\ninp = gen.normal(size=(300, 3))\ncls = (inp[:, 0] ** 2 + inp[:, 1] > 0.5).astype(float)\nWa = gen.normal(size=(3, 12)) * 0.5\nba = np.zeros(12)\nWb = gen.normal(size=12) * 0.2\nbb = np.zeros(1)\nn_epochs, bs = 50, 30\nhorizon = n_epochs * (len(inp) // bs)\nit = 0\nfor ep in range(n_epochs):\n    order = gen.permutation(len(inp))\n    for j in range(len(inp) // bs):\n        rows = order[j * bs:(j + 1) * bs]\n        xb, tb = inp[rows], cls[rows]\n        eta = schedule(it, horizon, 10, 0.5)\n        hh = np.maximum(xb @ Wa + ba, 0)\n        pr = 1 / (1 + np.exp(-(hh @ Wb + bb)))\n        bce = -np.mean(tb * np.log(pr) + (1 - tb) * np.log(1 - pr))\n        e = (pr - tb) / len(tb)\n        dh = np.outer(e, Wb) * (hh > 0)\n        Wb -= eta * hh.T @ e\n        bb -= eta * np.array([e.sum()])\n        Wa -= eta * xb.T @ dh\n        ba -= eta * dh.sum(axis=0)\n        it += 1\n    if ep % 10 == 0:\n        print(ep, bce)\n'


def _found(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-rate-vanishes"]


def test_a_warm_up_and_cosine_set_in_an_if_else_over_too_few_epochs_is_named_at_its_length(tmp_path):
    bug = write(tmp_path, "epochs.py", EPOCH_IF_ELSE)
    (finding,) = _found(check(bug, training=True))
    assert finding["severity"] == "warning"
    assert finding["line"] == line_of(bug, "decay_epochs = 20")
    assert finding["fix"] == "decay_epochs = 300"
    assert "from its peak, 0.05, after the warm-up" in finding["message"] and "if epoch < warm else" in finding["message"]

    twin = planted(tmp_path, "epochs_ok.py", EPOCH_IF_ELSE, "decay_epochs = 20", "decay_epochs = 300")
    assert _found(check(twin, training=True)) == []


def test_a_cosine_function_whose_horizon_counts_epochs_not_steps_is_named_at_the_horizon(tmp_path):
    bug = planted(tmp_path, "steps.py", STEP_COUNTER, "horizon = n_epochs * (len(inp) // bs)", "horizon = n_epochs")
    (finding,) = _found(check(bug, training=True))
    assert finding["line"] == line_of(bug, "horizon = n_epochs")
    assert finding["fix"] == "horizon = len(inp) // bs * n_epochs"
    assert "the schedule lasts `horizon` = 50 passes" in finding["message"] and "the loop makes 500" in finding["message"]

    assert _found(check(write(tmp_path, "steps_ok.py", STEP_COUNTER), training=True)) == []
