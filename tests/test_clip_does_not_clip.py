"""A gradient clip that does not clip (`step-clip-does-not-clip`, BPD627): every update steps with the raw
gradient, whose entries are far above the clip's threshold, and the loss blows up. Named at the line of the
clip function that reads its threshold, not at the learning rate. Programs written for these tests, in two
styles: a script with a clip function over a list of arrays (`max(1.0, ...)` where `min` belongs), and a
model class whose clip method tests the norm the wrong way round (`if total < max_norm`)."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LIST_CLIP = 'import numpy as np\n\nrs = np.random.RandomState(4)\nX = rs.uniform(-2, 2, size=(400, 3))\nt = 40.0 * np.sin(X[:, :1]) + 25.0 * X[:, 1:2] * X[:, 2:3]\nW1 = rs.randn(3, 32) * 0.5\nc1 = np.zeros(32)\nW2 = rs.randn(32, 1) * 0.2\nc2 = np.zeros(1)\nweights = [W1, c1, W2, c2]\n\n\ndef clip_all(gs, limit):\n    total = np.sqrt(sum(float(np.sum(g * g)) for g in gs))\n    scale = min(1.0, limit / (total + 1e-8))\n    for g in gs:\n        g *= scale\n\n\nstep_size = 0.1\nfor sweep in range(60):\n    for s in range(0, 400, 20):\n        xb, tb = X[s:s + 20], t[s:s + 20]\n        a = np.tanh(xb @ W1 + c1)\n        out = a @ W2 + c2\n        mse = np.mean((out - tb) ** 2)\n        d = 2 * (out - tb) / len(tb)\n        da = d @ W2.T * (1 - a ** 2)\n        gs = [xb.T @ da, da.sum(axis=0), a.T @ d, d.sum(axis=0)]\n        clip_all(gs, 5.0)\n        for w, g in zip(weights, gs):\n            w -= step_size * g\n    if sweep % 10 == 0:\n        print(sweep, mse)\n'

METHOD_CLIP = 'import numpy as np\n\nCLIP = 3.0\n\n\nclass Regressor:\n    def __init__(self, rng):\n        self.p = {"A": rng.normal(0, 0.4, (2, 24)), "a": np.zeros(24), "B": rng.normal(0, 0.2, (24, 1)), "b": np.zeros(1)}\n\n    def loss_and_grads(self, x, y):\n        h = np.maximum(0, x @ self.p["A"] + self.p["a"])\n        pred = h @ self.p["B"] + self.p["b"]\n        err = pred - y\n        dpred = 2 * err / len(x)\n        dh = dpred @ self.p["B"].T * (h > 0)\n        grads = {"A": x.T @ dh, "a": dh.sum(0), "B": h.T @ dpred, "b": dpred.sum(0)}\n        return float(np.mean(err ** 2)), grads\n\n    def clip_gradients(self, grads, max_norm):\n        total = np.sqrt(sum(np.sum(v ** 2) for v in grads.values()))\n        if total > max_norm:\n            for key in grads:\n                grads[key] = grads[key] * (max_norm / total)\n        return total\n\n    def apply(self, grads, lr):\n        for key in self.p:\n            self.p[key] -= lr * grads[key]\n\n\nrng = np.random.default_rng(21)\ninputs = rng.uniform(-3, 3, (300, 2))\ntargets = 30.0 * np.cos(inputs[:, :1]) * inputs[:, 1:] + 10.0\nmodel = Regressor(rng)\nfor epoch in range(80):\n    order = rng.permutation(300)\n    for k in range(0, 300, 25):\n        rows = order[k:k + 25]\n        cost, grads = model.loss_and_grads(inputs[rows], targets[rows])\n        model.clip_gradients(grads, CLIP)\n        model.apply(grads, 0.05)\n    if epoch % 20 == 0:\n        print(epoch, cost)\n'


def _found(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-clip-does-not-clip"]


def test_a_global_norm_clip_with_max_for_min_is_named_at_its_scale(tmp_path):
    bug = planted(tmp_path, "clip.py", LIST_CLIP, "scale = min(1.0,", "scale = max(1.0,")
    report = check(bug, training=True)
    (finding,) = _found(report)
    assert finding["severity"] == "error" and finding["line"] == line_of(bug, "scale = max(1.0,")
    assert finding["fix"] == "scale = min(1.0, limit / (total + 1e-08))"
    assert "above its threshold 5," in finding["message"] and "use `min`" in finding["message"]
    assert [f["name"] for f in errors(report)] == ["step-clip-does-not-clip"]  # not the learning rate

    twin = check(write(tmp_path, "clip_ok.py", LIST_CLIP), training=True)
    assert _found(twin) == [] and errors(twin) == []


def test_a_clip_method_that_tests_the_norm_the_wrong_way_is_named_at_its_test(tmp_path):
    bug = planted(tmp_path, "model.py", METHOD_CLIP, "if total > max_norm:", "if total < max_norm:")
    report = check(bug, training=True)
    (finding,) = _found(report)
    assert finding["line"] == line_of(bug, "if total < max_norm:") and finding["fix"] is None
    assert "`CLIP` = 3" in finding["message"]
    assert [f["name"] for f in errors(report)] == ["step-clip-does-not-clip"]  # not the NaN it leads to

    twin = check(write(tmp_path, "model_ok.py", METHOD_CLIP), training=True)
    assert _found(twin) == [] and errors(twin) == []
