"""The training step found and judged however the user names its pieces: a parameters dict keyed per layer
(`net["W" + str(l)]`) under any name; a learning rate called `step` in a function or a class; a loop whose
pass ends by computing the next batch's gradient after something else opens it; the settings a trainer holds as
attributes (`self.clip_value`, `self.max_norm`, `self.T`, `self.vel`) read as the same settings written as
module variables; a per-layer backward loop handed its seed before the loop, with its gradients kept in a list of
places (`dW = [None] * L`). Each shape in two styles; correct twins are clean, planted bugs are found."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

# the course's L-layer network, its parameters dict called `net`
LAYERED = """\
    import numpy as np

    np.random.seed(1)


    def initialize(layer_dims):
        net = {}
        for l in range(1, len(layer_dims)):
            net["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.5
            net["b" + str(l)] = np.zeros((layer_dims[l], 1))
        return net


    def forward(X, net):
        caches = []
        A = X
        L = len(net) // 2
        for l in range(1, L):
            A_prev = A
            Z = net["W" + str(l)] @ A_prev + net["b" + str(l)]
            A = np.tanh(Z)
            caches.append((A_prev, net["W" + str(l)], A))
        Z = net["W" + str(L)] @ A + net["b" + str(L)]
        AL = 1 / (1 + np.exp(-Z))
        caches.append((A, net["W" + str(L)], AL))
        return AL, caches


    def backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        m = AL.shape[1]
        dZ = AL - Y
        A_prev, W, _ = caches[L - 1]
        grads["dW" + str(L)] = dZ @ A_prev.T / m
        grads["db" + str(L)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
        for l in reversed(range(L - 1)):
            A_prev, W, A = caches[l]
            dZ = dA * (1 - A ** 2)
            grads["dW" + str(l + 1)] = dZ @ A_prev.T / m
            grads["db" + str(l + 1)] = np.sum(dZ, axis=1, keepdims=True) / m
            dA = W.T @ dZ
        return grads


    def update(net, grads, lr):
        for l in range(1, len(net) // 2 + 1):
            net["W" + str(l)] = net["W" + str(l)] - lr * grads["dW" + str(l)]
            net["b" + str(l)] = net["b" + str(l)] - lr * grads["db" + str(l)]
        return net


    X = np.random.randn(3, 30)
    Y = (X[0:1] + X[1:2] > 0).astype(float)
    net = initialize([3, 5, 4, 1])
    for i in range(60):
        AL, caches = forward(X, net)
        cost = float(-np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)))
        grads = backward(AL, Y, caches)
        net = update(net, grads, 0.5)
    print(cost)
"""

# a script over a dict called `model`, its keys written as f-strings, moved in place
KEYED = """\
    import numpy as np

    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3))
    y = (X[:, :1] - X[:, 2:] > 0).astype(float)
    sizes = [3, 6, 1]
    model = {}
    for l in range(1, len(sizes)):
        model[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) * 0.5
        model[f"b{l}"] = np.zeros(sizes[l])
    lr = 0.5
    for epoch in range(60):
        h = np.tanh(X @ model["W1"] + model["b1"])
        p = 1 / (1 + np.exp(-(h @ model["W2"] + model["b2"])))
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        d2 = (p - y) / len(X)
        grads = {"dW2": h.T @ d2, "db2": d2.sum(axis=0)}
        d1 = d2 @ model["W2"].T * (1 - h ** 2)
        grads["dW1"] = X.T @ d1
        grads["db1"] = d1.sum(axis=0)
        for l in range(1, len(sizes)):
            model[f"W{l}"] -= lr * grads[f"dW{l}"]
            model[f"b{l}"] -= lr * grads[f"db{l}"]
    print(loss)
"""

# a learning rate called `step`: a function's default, and a class's attribute
STEP_FUNCTION = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)


    def predict(X, w, b):
        return 1 / (1 + np.exp(-(X @ w + b)))


    def fit(X, y, step=0.5, epochs=60):
        w = np.zeros(3)
        b = 0.0
        for epoch in range(epochs):
            p = predict(X, w, b)
            loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
            w -= step * (X.T @ (p - y)) / len(y)
            b -= step * np.mean(p - y)
        return w, b, loss


    print(fit(X, y))
"""

STEP_CLASS = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)


    class Logistic:
        def __init__(self, step=0.5):
            self.step = step

        def fit(self, X, y, epochs=60):
            self.coef = np.zeros(X.shape[1])
            self.shift = 0.0
            for epoch in range(epochs):
                p = 1 / (1 + np.exp(-(X @ self.coef + self.shift)))
                loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
                self.coef -= self.step * (X.T @ (p - y)) / len(y)
                self.shift -= self.step * np.mean(p - y)
            return loss


    print(Logistic().fit(X, y))
"""

# the next batch's gradient computed at a pass's end, after a statement that opens the pass
NEXT_BATCH = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = X @ np.array([0.5, -1.0, 2.0, 0.3]) + 0.1 * rng.standard_normal(120)


    def loss_and_grad(w, xb, yb):
        err = xb @ w - yb
        return 0.5 * np.mean(err ** 2), xb.T @ err / len(yb)


    batch, lr = 20, 0.1
    w = np.zeros(4)
    loss, grads = loss_and_grad(w, X[:batch], y[:batch])
    history = []
    for i in range(1, 60):
        history.append(loss)
        w = w - lr * grads
        start = (i * batch) % len(X)
        loss, grads = loss_and_grad(w, X[start:start + batch], y[start:start + batch])
    print(history[-1])
"""

NEXT_BATCH_SLICED = """\
    import numpy as np

    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 4))
    y = X @ np.array([0.5, -1.0, 2.0, 0.3]) + 0.1 * rng.standard_normal(120)


    def grad(W, xb, yb):
        err = xb @ W - yb
        return 0.5 * np.mean(err ** 2), xb.T @ err / len(yb)


    W = np.zeros(4)
    loss, g = grad(W, X[:30], y[:30])
    for it in range(1, 40):
        start = (it * 30) % len(X)
        xb, yb = X[start:start + 30], y[start:start + 30]
        W -= 0.1 * g
        loss, g = grad(W, xb, yb)
    print(loss)
"""

# settings a trainer holds, beside the same program with module variables
CLIP_CLASS = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    Y = np.eye(2)[(X[:, 0] + X[:, 1] > 0).astype(int)]


    class Trainer:
        def __init__(self, lr=0.5, clip_value=1e-5):
            self.lr = lr
            self.clip_value = clip_value
            self.W = rng.standard_normal((4, 2)) * 0.1

        def fit(self, X, Y, epochs=60):
            for epoch in range(epochs):
                Z = X @ self.W
                P = np.exp(Z - Z.max(axis=1, keepdims=True))
                P /= P.sum(axis=1, keepdims=True)
                loss = -np.mean(np.sum(Y * np.log(P), axis=1))
                dW = X.T @ (P - Y) / len(X)
                dW = np.clip(dW, -self.clip_value, self.clip_value)
                self.W -= self.lr * dW
            return loss


    print(Trainer().fit(X, Y))
"""

CLIP_MODULE = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    Y = np.eye(2)[(X[:, 0] + X[:, 1] > 0).astype(int)]
    lr = 0.5
    clip_value = 1e-5
    W = rng.standard_normal((4, 2)) * 0.1
    for epoch in range(60):
        Z = X @ W
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(Y * np.log(P), axis=1))
        dW = X.T @ (P - Y) / len(X)
        dW = np.clip(dW, -clip_value, clip_value)
        W -= lr * dW
    print(loss)
"""

NORM_CLIP_CLASS = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    y = X @ np.array([3.0, -2.0, 1.0, 4.0, -1.0])


    def clip_by_global_norm(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        scale = min(1.0, max_norm / (total + 1e-12))
        return [g * scale for g in grads]


    class Regressor:
        def __init__(self, lr=0.1, max_norm=1e-4):
            self.lr = lr
            self.max_norm = max_norm
            self.w = np.zeros(5)
            self.b = np.zeros(1)

        def fit(self, X, y, epochs=60):
            for epoch in range(epochs):
                err = X @ self.w + self.b - y
                loss = 0.5 * np.mean(err ** 2)
                dw, db = clip_by_global_norm([X.T @ err / len(y), np.array([err.mean()])], self.max_norm)
                self.w -= self.lr * dw
                self.b -= self.lr * db
            return loss


    print(Regressor().fit(X, y))
"""

TEMPERATURE_CLASS = """\
    import numpy as np

    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 4))
    Y = np.eye(3)[rng.integers(0, 3, 60)]


    class SoftmaxTrainer:
        def __init__(self, T=2.5, lr=0.5):
            self.T = T
            self.lr = lr
            self.W = rng.standard_normal((4, 3)) * 0.1
            self.b = np.zeros(3)

        def train(self, X, Y, iterations=60):
            for it in range(iterations):
                z = (X @ self.W + self.b) / self.T
                z = z - z.max(axis=1, keepdims=True)
                P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
                loss = -np.mean(np.sum(Y * np.log(P), axis=1))
                dz = (P - Y) / (len(X) * self.T)
                dW = X.T @ dz
                self.W -= self.lr * dW
                self.b -= self.lr * dz.sum(axis=0)
            return loss


    print(SoftmaxTrainer().train(X, Y))
"""

TEMPERATURE_MODULE = """\
    import numpy as np

    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 4))
    Y = np.eye(3)[rng.integers(0, 3, 60)]
    T = 2.5
    lr = 0.5
    W = rng.standard_normal((4, 3)) * 0.1
    b = np.zeros(3)
    for it in range(60):
        z = (X @ W + b) / T
        z = z - z.max(axis=1, keepdims=True)
        P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(Y * np.log(P), axis=1))
        dz = (P - Y) / (len(X) * T)
        dW = X.T @ dz
        W -= lr * dW
        b -= lr * dz.sum(axis=0)
    print(loss)
"""

VELOCITY_CLASS = """\
    import numpy as np

    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    y = X @ np.array([1.0, -0.5, 0.25, 2.0]) + 0.1


    def loss_grads(params, X, y):
        err = X @ params["w"] + params["b"] - y
        return 0.5 * np.mean(err ** 2), {"w": X.T @ err / len(y), "b": np.array([err.mean()])}


    class MomentumTrainer:
        def __init__(self, lr=0.05, momentum=0.9):
            self.lr = lr
            self.momentum = momentum
            self.params = {"w": np.zeros(4), "b": np.zeros(1)}
            self.vel = {k: np.zeros_like(v) for k, v in self.params.items()}

        def fit(self, X, y, epochs=60):
            for epoch in range(epochs):
                loss, G = loss_grads(self.params, X, y)
                for k in self.params:
                    self.vel[k] = self.momentum * self.vel[k] - self.lr * G[k]
                    self.params[k] += self.vel[k]
            return loss


    print(MomentumTrainer().fit(X, y))
"""

VELOCITY_MODULE = """\
    import numpy as np

    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    y = X @ np.array([1.0, -0.5, 0.25, 2.0]) + 0.1


    def loss_grads(params, X, y):
        err = X @ params["w"] + params["b"] - y
        return 0.5 * np.mean(err ** 2), {"w": X.T @ err / len(y), "b": np.array([err.mean()])}


    lr, momentum = 0.05, 0.9
    params = {"w": np.zeros(4), "b": np.zeros(1)}
    vel = {k: np.zeros_like(v) for k, v in params.items()}
    for epoch in range(60):
        loss, G = loss_grads(params, X, y)
        for k in params:
            vel[k] = momentum * vel[k] - lr * G[k]
            params[k] += vel[k]
    print(loss)
"""

# a per-layer backward loop handed its seed before the loop, gradients kept in lists of places
SEEDED_STEP = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 40))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    sizes = [4, 8, 6, 1]
    L = len(sizes) - 1
    W = [rng.standard_normal((sizes[l + 1], sizes[l])) * np.sqrt(1.0 / sizes[l]) for l in range(L)]
    b = [np.zeros((sizes[l + 1], 1)) for l in range(L)]
    m = X.shape[1]
    for epoch in range(60):
        acts = [X] + [None] * L
        zs = [None] * L
        for l in range(L):
            zs[l] = W[l] @ acts[l] + b[l]
            acts[l + 1] = np.tanh(zs[l]) if l < L - 1 else 1 / (1 + np.exp(-zs[l]))
        loss = -np.mean(Y * np.log(acts[L]) + (1 - Y) * np.log(1 - acts[L]))
        dW = [None] * L
        db = [None] * L
        dz = (acts[L] - Y) / m
        for l in reversed(range(L)):
            dW[l] = dz @ acts[l].T
            db[l] = dz.sum(axis=1, keepdims=True)
            da = W[l].T @ dz
            dz = da * (1 - acts[l] ** 2)
        for l in range(L):
            W[l] -= 0.5 * dW[l]
            b[l] -= 0.5 * db[l]
    print(loss)
"""

SEEDED_FUNCTION = """\
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 40))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    sizes = [4, 8, 6, 1]
    L = len(sizes) - 1
    W = [rng.standard_normal((sizes[l + 1], sizes[l])) * np.sqrt(1.0 / sizes[l]) for l in range(L)]
    b = [np.zeros((sizes[l + 1], 1)) for l in range(L)]


    def forward(X):
        A = {0: X}
        for l in range(L):
            Z = W[l] @ A[l] + b[l]
            A[l + 1] = np.tanh(Z) if l < L - 1 else 1 / (1 + np.exp(-Z))
        return A


    def backward(A, Y):
        m = Y.shape[1]
        dW, db = [None] * L, [None] * L
        delta = (A[L] - Y) / m
        for l in reversed(range(L)):
            dW[l] = delta @ A[l].T
            db[l] = delta.sum(axis=1, keepdims=True)
            delta = W[l].T @ delta * (1 - A[l] ** 2)
        return dW, db


    for epoch in range(60):
        A = forward(X)
        loss = -np.mean(Y * np.log(A[L]) + (1 - Y) * np.log(1 - A[L]))
        dW, db = backward(A, Y)
        for l in range(L):
            W[l] -= 0.5 * dW[l]
            b[l] -= 0.5 * db[l]
    print(loss)
"""

# name: (program, correct statement, planted bug, the line the root finding names (a statement's text))
WRONG_GRADIENTS = {
    "layered_net.py": (LAYERED, "dZ = dA * (1 - A ** 2)", "dZ = dA * (1 - A)", "dZ = dA * (1 - A)"),
    "keyed_model.py": (KEYED, "d1 = d2 @ model[\"W2\"].T * (1 - h ** 2)", "d1 = d2 @ model[\"W2\"].T * (1 - h)", "d1 = d2 @"),
    "step_function.py": (STEP_FUNCTION, "w -= step * (X.T @ (p - y)) / len(y)", "w -= step * (X.T @ ((p - y) * p)) / len(y)", None),
    "step_class.py": (STEP_CLASS, "self.coef -= self.step * (X.T @ (p - y)) / len(y)", "self.coef -= self.step * (X.T @ ((p - y) * p)) / len(y)", None),
    "next_batch.py": (NEXT_BATCH, "xb.T @ err / len(yb)", "xb.T @ (err * err) / len(yb)", None),
    "next_batch_sliced.py": (NEXT_BATCH_SLICED, "xb.T @ err / len(yb)", "xb.T @ (err * err) / len(yb)", None),
    "temperature_class.py": (TEMPERATURE_CLASS, "dz = (P - Y) / (len(X) * self.T)", "dz = (P - Y) / len(X)", "dz = (P - Y) / len(X)"),
    "temperature_module.py": (TEMPERATURE_MODULE, "dz = (P - Y) / (len(X) * T)", "dz = (P - Y) / len(X)", "dz = (P - Y) / len(X)"),
    "seeded_step.py": (SEEDED_STEP, "dz = da * (1 - acts[l] ** 2)", "dz = da * (1 - acts[l])", "dz = da * (1 - acts[l])"),
    "seeded_function.py": (SEEDED_FUNCTION, "delta = W[l].T @ delta * (1 - A[l] ** 2)", "delta = W[l].T @ delta * (1 - A[l])", "delta = W[l].T @ delta * (1 - A[l])"),
}


def test_correct_programs_are_replayed_and_clean(tmp_path: Path) -> None:
    for name, (text, correct, _, _) in WRONG_GRADIENTS.items():
        report = check(planted(tmp_path, name, text, correct, correct))
        assert errors(report) == [], (name, errors(report))
        assert not [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"], (name, report["findings"])
        replayed(report)
        verdicts = step_verdicts(report)
        assert verdicts and set(verdicts.values()) == {"ok"}, (name, verdicts)


def test_planted_gradients_are_found_at_their_line(tmp_path: Path) -> None:
    for name, (text, correct, wrong, at) in WRONG_GRADIENTS.items():
        path = planted(tmp_path, name, text, correct, wrong)
        report = check(path)
        # the step's finding, or the layer check's when the file's forward/backward pair is checked on its own too
        found = [f for f in errors(report) if f["name"] in ("step-gradient-mismatch", "gradient-mismatch")]
        assert found, (name, report["findings"])
        if at is not None:
            root = report["findings"][report["root_cause"]]
            assert root["name"] in ("step-gradient-mismatch", "gradient-mismatch") and root["line"] == line_of(path, at), (name, root)


# name: (program, where it sets its clip's bound, the rule, the finding's `param`)
SETTINGS = {
    "clip_class.py": (CLIP_CLASS, "clip_value=1e-5", "step-clip-too-tight", "self.clip_value"),
    "clip_module.py": (CLIP_MODULE, "clip_value = 1e-5", "step-clip-too-tight", "clip_value"),
    "norm_clip_class.py": (NORM_CLIP_CLASS, "max_norm=1e-4", "step-clip-too-tight", "self.max_norm"),
}


def test_a_tight_clip_held_by_the_trainer_is_named_as_a_module_setting_is(tmp_path: Path) -> None:
    for name, (text, setting, rule, param) in SETTINGS.items():
        path = planted(tmp_path, name, text, setting, setting)
        report = check(path, training=True)
        found = [f for f in report["findings"] if f["name"] == rule]
        assert len(found) == 1 and found[0]["param"] == param, (name, report["findings"])
        assert found[0]["line"] == line_of(path, setting), (name, found[0])


def test_a_loose_clip_held_by_the_trainer_is_clean(tmp_path: Path) -> None:
    for name, (text, setting, rule, _) in SETTINGS.items():
        loose = setting.replace("1e-5", "10.0").replace("1e-4", "10.0")
        report = check(planted(tmp_path, name, text, setting, loose), training=True)
        assert not [f for f in report["findings"] if f["name"] == rule], (name, report["findings"])
        assert errors(report) == [], (name, errors(report))


RESETS = {
    "velocity_class.py": (VELOCITY_CLASS, "        for epoch in range(epochs):\n", "            self.vel = {k: np.zeros_like(self.params[k]) for k in self.params}\n"),
    "velocity_module.py": (VELOCITY_MODULE, "for epoch in range(60):\n", "    vel = {k: np.zeros_like(params[k]) for k in params}\n"),
}


def test_a_velocity_the_trainer_holds_made_zeros_every_pass_is_found(tmp_path: Path) -> None:
    for name, (text, loop, reset) in RESETS.items():
        path = planted(tmp_path, name, text, loop, loop + reset)
        report = check(path)
        found = [f for f in report["findings"] if f["name"] == "velocity-reset"]
        assert len(found) == 1 and found[0]["line"] == line_of(path, reset.strip()), (name, report["findings"])


def test_a_velocity_the_trainer_keeps_is_clean(tmp_path: Path) -> None:
    for name, (text, loop, _) in RESETS.items():
        report = check(planted(tmp_path, name, text, loop, loop))
        assert not [f for f in report["findings"] if f["name"] == "velocity-reset"], (name, report["findings"])
        assert errors(report) == [], (name, errors(report))


def test_a_layered_network_under_any_name_is_checked_as_a_pair_and_an_update(tmp_path: Path) -> None:
    for name in ("net", "model", "nn"):
        text = LAYERED.replace("net", name)
        report = check(planted(tmp_path, f"layered_{name}.py", text, "import numpy", "import numpy"))
        rows = {(m["layer"], m["verdict"]) for m in report["measurements"] if m["layer"] != "training step"}
        assert ("forward/backward", "ok") in rows and ("update", "ok (update)") in rows, (name, rows)
        assert {v for layer, v in rows if layer == "forward/backward"} == {"ok"}, (name, rows)
        wrong = planted(tmp_path, f"layered_{name}_wrong.py", text, "dZ = dA * (1 - A ** 2)", "dZ = dA * (1 - A)")
        found = check(wrong)
        assert {(m["layer"], m["verdict"]) for m in found["measurements"] if m["layer"] == "forward/backward"} >= {("forward/backward", "mismatch")}, (name, found["measurements"])


def test_a_fraction_setting_is_a_rate_only_where_it_steps_down_and_not_on_the_parameter_itself() -> None:
    import ast
    import textwrap

    from backprop_doctor.static.updates import parameter_updates

    text = textwrap.dedent(
        """\
        import numpy as np

        gamma, reg, step = 0.9, 0.01, 0.1


        def learn(Q, Q_new, w, X, err, a, r):
            target = Q[0]
            target[a] = r
            target[a] += gamma * np.amax(Q_new[0])
            w -= reg * w
            w -= step * (X.T @ err)
            return target, w
        """
    )
    found = [u.source for u in parameter_updates(ast.parse(text), text=text)]
    assert found == ["w -= step * (X.T @ err)"], found
