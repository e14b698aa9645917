"""Training steps written in spellings the step finder missed, each of which left a file that trains a
network with "nothing was checked": gradients in a dict called `G` (`Q[name] -= 0.1 * G[name]`); a
loss function called `xent` beside a validation set called `Xva`; a momentum optimizer that steps by
its rate times the velocity the gradient went into (`v *= mu; v += g; p -= self.lr * v`); (parameter,
gradient) pairs a model's `params()` method hands the loop. And layer objects put in a network twice
by multiplying a list (`[Linear(..), Sigmoid()] * 3`), named at that line (`shared-layer`)."""

from tests.userfiles import check, errors, line_of, planted, replayed

CAPITAL_G = """
    import numpy as np

    gen = np.random.RandomState(5)
    inputs = gen.randn(50, 3)
    targets = np.sin(inputs.sum(axis=1, keepdims=True))


    def start():
        return {"A": gen.randn(3, 6) * 0.4, "a": np.zeros(6), "C": gen.randn(6, 1) * 0.4}


    def run(Q, x):
        u = np.tanh(x @ Q["A"] + Q["a"])
        return u, u @ Q["C"]


    def grads(Q, x, u, out, t):
        G = {}
        e = (out - t) / len(t)
        G["C"] = u.T @ e
        du = e @ Q["C"].T * (1 - u ** 2)
        G["A"] = x.T @ du
        G["a"] = du.sum(axis=0)
        return G


    Q = start()
    for sweep in range(300):
        u, out = run(Q, inputs)
        cost = 0.5 * np.mean((out - targets) ** 2)
        G = grads(Q, inputs, u, out, targets)
        for name in Q:
            Q[name] -= 0.1 * G[name]
"""


def test_gradients_in_a_dict_called_capital_g_are_replayed_and_a_wrong_one_named(tmp_path):
    report = check(planted(tmp_path, "sweep.py", CAPITAL_G, "e @ Q[\"C\"].T * (1 - u ** 2)", "e @ Q[\"C\"].T * (1 - u ** 2)"))
    assert replayed(report)["loss"] == "cost" and errors(report) == []
    path = planted(tmp_path, "sweep_bug.py", CAPITAL_G, "e @ Q[\"C\"].T * (1 - u ** 2)", "e @ Q[\"C\"].T * (1 - u)")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found
    assert {f["line"] for f in found} & {line_of(path, "du = e @"), line_of(path, 'G["A"] ='), line_of(path, 'G["a"] =')}, found


HELD_OUT = """
    import numpy as np

    gen = np.random.RandomState(12)
    data = gen.randn(240, 3)
    labels = (data[:, 0] + data[:, 2] > 0).astype(int)
    Xfit, yfit, Xva, yva = data[:180], labels[:180], data[180:], labels[180:]
    M = gen.randn(3, 2) * 0.01


    def softmax_of(A):
        z = A @ M
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


    def xent(A, t):
        return -np.mean(np.log(softmax_of(A)[np.arange(len(t)), t]))


    for rnd in range(400):
        S = softmax_of(Xfit)
        S[np.arange(len(yfit)), yfit] -= 1
        M -= 0.05 * (Xfit.T @ S) / len(yfit)
        held = xent(Xva, yva)
        if rnd % 100 == 0:
            print(rnd, xent(Xfit, yfit), held)
"""


def test_a_loss_called_xent_is_the_step_s_loss_and_a_validation_set_called_xva_is_not(tmp_path):
    report = check(planted(tmp_path, "early.py", HELD_OUT, "(Xfit.T @ S) / len(yfit)", "(Xfit.T @ S) / len(yfit)"))
    assert replayed(report)["loss"] == "xent" and errors(report) == []
    path = planted(tmp_path, "early_bug.py", HELD_OUT, "yfit] -= 1", "yfit] -= 0.5")
    report = check(path)
    assert replayed(report)["loss"] == "xent" and [f["code"] for f in errors(report)] == ["BPD108"]


MOMENTUM = """
    import numpy as np


    class Heavy:
        def __init__(self, weights, lr=0.05, mu=0.8):
            self.weights, self.lr, self.mu = weights, lr, mu
            self.vel = [np.zeros_like(a) for a in weights]

        def apply(self, grads):
            for p, v, g in zip(self.weights, self.vel, grads):
                v *= self.mu
                v += g
                p -= self.lr * v


    gen = np.random.RandomState(21)
    X = gen.randn(120, 4)
    t = (X[:, 1] - X[:, 3] > 0).astype(float)
    W = gen.randn(4, 5) * 0.5
    c = gen.randn(5) * 0.5
    opt = Heavy([W, c])
    for step in range(200):
        h = np.tanh(X @ W)
        p = 1 / (1 + np.exp(-(h @ c)))
        loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
        e = (p - t) / len(t)
        dh = np.outer(e, c) * (1 - h ** 2)
        opt.apply([X.T @ dh, h.T @ e])
"""


def test_a_momentum_step_by_rate_times_velocity_is_replayed_and_a_wrong_gradient_named(tmp_path):
    report = check(planted(tmp_path, "heavy.py", MOMENTUM, "* (1 - h ** 2)", "* (1 - h ** 2)"))
    assert replayed(report)["loss"] == "loss" and errors(report) == []
    path = planted(tmp_path, "heavy_bug.py", MOMENTUM, "* (1 - h ** 2)", "* (1 - h)")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found


LAYERS = """
    import numpy as np


    class Linear:
        def __init__(self, fan_in, fan_out, gen):
            self.W = gen.randn(fan_in, fan_out) * 0.5
            self.c = np.zeros(fan_out)

        def forward(self, a):
            self.a = a
            return a @ self.W + self.c

        def backward(self, up):
            self.gW = self.a.T @ up
            self.gc = up.sum(axis=0)
            return up @ self.W.T

        def params(self):
            return [(self.W, self.gW), (self.c, self.gc)]


    class Sigmoid:
        def forward(self, a):
            self.s = 1 / (1 + np.exp(-a))
            return self.s

        def backward(self, up):
            return up * self.s * (1 - self.s)

        def params(self):
            return []


    class Stack:
        def __init__(self, parts):
            self.parts = parts

        def forward(self, a):
            for part in self.parts:
                a = part.forward(a)
            return a

        def backward(self, up):
            for part in self.parts[::-1]:
                up = part.backward(up)

        def params(self):
            return [pair for part in self.parts for pair in part.params()]


    gen = np.random.RandomState(2)
    X = gen.randn(90, 2)
    T = (X[:, :1] * X[:, 1:]) ** 2
    net = Stack([Linear(2, 8, gen), Sigmoid()] + [m for _ in range(3) for m in (Linear(8, 8, gen), Sigmoid())] + [Linear(8, 1, gen)])
    rate = 0.2
    for epoch in range(400):
        out = net.forward(X)
        loss = np.mean((out - T) ** 2)
        net.backward(2 * (out - T) / out.size)
        for p, g in net.params():
            p -= rate * g
"""


def test_parameter_gradient_pairs_a_params_method_hands_the_loop_are_replayed(tmp_path):
    report = check(planted(tmp_path, "stack.py", LAYERS, "up * self.s * (1 - self.s)", "up * self.s * (1 - self.s)"))
    assert replayed(report)["loss"] == "loss" and errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "shared-layer"]


def test_layer_objects_repeated_by_multiplying_a_list_are_named_at_that_line(tmp_path):
    path = planted(
        tmp_path, "stack_bug.py", LAYERS,
        "[m for _ in range(3) for m in (Linear(8, 8, gen), Sigmoid())]", "[Linear(8, 8, gen), Sigmoid()] * 3",
    )  # fmt: skip
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD402" and found[0]["line"] == line_of(path, "net = Stack("), found
    assert report["findings"][report["root_cause"]]["code"] == "BPD402"
    assert found[0]["fix"] == "[layer for _ in range(3) for layer in (Linear(8, 8, gen), Sigmoid())]"


def test_a_list_of_objects_that_keep_nothing_multiplied_is_no_shared_layer(tmp_path):
    stateless = "class Pass:\n    def forward(self, a):\n        return a\n\n    def backward(self, up):\n        return up\n\n\nspare = [Pass()] * 2\n"
    path = planted(tmp_path, "stack_plain.py", LAYERS, "gen = np.random.RandomState(2)", stateless + "gen = np.random.RandomState(2)")
    assert line_of(path, "spare = [Pass()] * 2")
    assert not [f for f in check(path)["findings"] if f["name"] == "shared-layer"]


PER_EXAMPLE = """
    import numpy as np

    gen = np.random.RandomState(8)
    inputs = gen.uniform(-1, 1, (150, 3))
    labels = (inputs[:, 0] * inputs[:, 2] > 0).astype(float)
    weights = {"U": gen.randn(3, 6) * 0.7, "u": np.zeros(6), "v": gen.randn(6) * 0.5}
    sums = {k: np.zeros_like(a) for k, a in weights.items()}
    step_size = 0.4


    def one_sample(w, x, t):
        a = np.tanh(x @ w["U"] + w["u"])
        q = 1 / (1 + np.exp(-(a @ w["v"])))
        da = (q - t) * w["v"] * (1 - a ** 2)
        return {"U": np.outer(x, da), "u": da, "v": (q - t) * a}


    def bce_cost(w, x, t):
        q = 1 / (1 + np.exp(-(np.tanh(x @ w["U"] + w["u"]) @ w["v"])))
        return -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))


    for epoch in range(30):
        shuffled = gen.permutation(len(inputs))
        for first in range(0, len(inputs), 15):
            chosen = shuffled[first:first + 15]
            for k in sums:
                sums[k][...] = 0.0
            for j in chosen:
                one = one_sample(weights, inputs[j], labels[j])
                for k in sums:
                    sums[k] += one[k]
            for k in weights:
                weights[k] -= step_size * sums[k] / len(chosen)
        print(epoch, bce_cost(weights, inputs, labels))
"""


def test_a_loss_reported_only_after_the_minibatch_loop_is_measured_on_the_minibatch(tmp_path):
    report = check(planted(tmp_path, "sums.py", PER_EXAMPLE, "* (1 - a ** 2)", "* (1 - a ** 2)"))
    step = replayed(report)
    assert step["loss"] == "bce_cost" and errors(report) == []
    path = planted(tmp_path, "sums_bug.py", PER_EXAMPLE, "* (1 - a ** 2)", "* (1 - a)")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found


def test_accumulators_never_reset_are_a_wrong_step(tmp_path):
    path = planted(tmp_path, "sums_kept.py", PER_EXAMPLE, "sums[k][...] = 0.0", "sums[k][...] *= 1.0")
    found = errors(check(path))
    assert found and found[0]["code"] == "BPD108", found


def test_a_loss_reported_over_all_the_data_is_not_the_step_s_when_the_step_slices_the_data_inline(tmp_path):
    # `one_batch(weights, inputs[s:s + 15], ...)`: no name shows the batch, so the loss printed over every
    # sample is not the one the update descends, and the correct program gets no error from it
    sliced = PER_EXAMPLE.replace("for j in chosen:", "for j in range(first, first + 15):").replace(
        "one_sample(weights, inputs[j], labels[j])", "one_sample(weights, inputs[first:first + 15][j - first], labels[j])"
    )
    path = planted(tmp_path, "sliced.py", sliced, "* (1 - a ** 2)", "* (1 - a ** 2)")
    assert line_of(path, "inputs[first:first + 15][j - first]")
    assert errors(check(path)) == []


PATIENCE = """
    import numpy as np

    gen = np.random.RandomState(30)
    pts = gen.randn(360, 2) + np.repeat(np.array([[1.5, 0.0], [-1.5, 0.5], [0.0, -1.5]]), 120, axis=0)
    cls = np.repeat(np.arange(3), 120)
    mix = gen.permutation(360)
    pts, cls = pts[mix], cls[mix]
    Xa, ya, Xva, yva = pts[:270], cls[:270], pts[270:], cls[270:]
    K = gen.randn(2, 3) * 0.01

    def probs(A):
        z = A @ K
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def xent(A, t):
        return -np.mean(np.log(probs(A)[np.arange(len(t)), t]))

    tolerance = 1e-4
    wait = 8
    lowest, misses = np.inf, 0
    for sweep in range(800):
        D = probs(Xa)
        D[np.arange(len(ya)), ya] -= 1
        K -= 0.03 * (Xa.T @ D) / len(ya)
        held = xent(Xva, yva)
        if sweep % 100 == 0:
            print(sweep, xent(Xa, ya), held)
        if held < lowest - tolerance:
            lowest, misses = held, 0
        else:
            misses += 1
            if misses >= wait:
                break
"""


def test_an_early_stop_that_ends_training_while_the_loss_still_falls_names_its_setting(tmp_path):
    path = planted(tmp_path, "patience.py", PATIENCE, "tolerance = 1e-4", "tolerance = 0.1")
    report = check(path, training=True)
    found = [f for f in report["findings"] if f["name"] == "stopped-early"]
    assert len(found) == 1 and found[0]["line"] == line_of(path, "tolerance = 0.1") and found[0]["param"] == "tolerance", report["findings"]
    assert errors(report) == []


def test_an_early_stop_that_does_not_fire_while_the_loss_falls_is_no_finding(tmp_path):
    report = check(planted(tmp_path, "patience_ok.py", PATIENCE, "tolerance = 1e-4", "tolerance = 1e-4"), training=True)
    assert replayed(report)["loss"] == "xent"
    assert [f for f in report["findings"] if f["severity"] != "info"] == []


def test_a_loop_that_breaks_when_its_loss_reaches_a_target_is_not_stopped_early(tmp_path):
    reached = PATIENCE.replace("            if misses >= wait:", "            if held < goal:").replace("    wait = 8\n", "    wait = 8\n    goal = 0.93\n")
    assert "goal = 0.93" in reached
    path = planted(tmp_path, "target.py", reached, "tolerance = 1e-4", "tolerance = 0.1")
    assert [f for f in check(path, training=True)["findings"] if f["name"] == "stopped-early"] == []
