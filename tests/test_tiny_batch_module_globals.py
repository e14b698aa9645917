"""A training function that reads the module's data as globals: `step-cannot-overfit` (BPD615) cuts the
arrays the loop reads (`X`, `y`) to five samples and runs the program's own pass on them, but a function
the pass calls to report its loss (`calculate_loss(model)`, `objective(W, c, V, d)`) reads the same names
in the module itself, not in the copy the replayed loop runs in. The tiny batch so trained on five
samples while its loss was read on all of them, a loss that rises as those five are fitted, and a correct
program was warned that it cannot fit five samples. The cut arrays, and a weight decay set to 0 for them
(`lam`), are bound in the module too while the passes run, and put back after (`replay.curve.globals_rebound`).

Two styles: a network of a dict model whose loss function is printed every few hundred passes, and one
whose loss is appended to a history each pass. Both are clean; their twins with a planted bug are still
reported: a hidden layer's derivative left out (`step-gradient-mismatch`), and inputs standardised per
sample, every row ±1, which no network can tell apart (`step-cannot-overfit` still, at their line).
"""

from __future__ import annotations

from tests.userfiles import check, line_of, planted, write

PRINTED = '''\
import numpy as np

rng = np.random.default_rng(1)
X = rng.normal(size=(120, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(int)
n_samples = len(X)
in_dim, out_dim = 2, 2
lr = 0.01
lam = 0.01


def total_loss(params):
    A, a, B, b = params["A"], params["a"], params["B"], params["b"]
    h = np.tanh(X.dot(A) + a)
    s = h.dot(B) + b
    e = np.exp(s)
    p = e / np.sum(e, axis=1, keepdims=True)
    nll = np.sum(-np.log(p[range(n_samples), y]))
    nll += lam / 2 * (np.sum(A * A) + np.sum(B * B))
    return nll / n_samples


def train(hidden, passes=3000, verbose=False):
    np.random.seed(0)
    A = np.random.randn(in_dim, hidden) / np.sqrt(in_dim)
    a = np.zeros((1, hidden))
    B = np.random.randn(hidden, out_dim) / np.sqrt(hidden)
    b = np.zeros((1, out_dim))
    params = {}
    for i in range(passes):
        h = np.tanh(X.dot(A) + a)
        s = h.dot(B) + b
        e = np.exp(s)
        p = e / np.sum(e, axis=1, keepdims=True)
        d3 = p
        d3[range(n_samples), y] -= 1
        dB = h.T.dot(d3)
        db = np.sum(d3, axis=0, keepdims=True)
        d2 = d3.dot(B.T) * (1 - h ** 2)
        dA = X.T.dot(d2)
        da = np.sum(d2, axis=0)
        dB += lam * B
        dA += lam * A
        A += -lr * dA
        a += -lr * da
        B += -lr * dB
        b += -lr * db
        params = {"A": A, "a": a, "B": B, "b": b}
        if verbose and i % 500 == 0:
            print("loss", i, total_loss(params))
    return params


params = train(4, verbose=True)
'''

HISTORY = '''\
import numpy as np

rng = np.random.default_rng(7)
raw = rng.normal(size=(150, 2)) * [3.0, 0.5] + [1.0, -2.0]
features = (raw - raw.mean(axis=0)) / raw.std(axis=0)
labels = (((raw[:, 0] - 1.0) / 3.0) ** 2 + ((raw[:, 1] + 2.0) / 0.5) ** 2 < 1.2).astype(float).reshape(-1, 1)
count = features.shape[0]
step_size = 0.5
history = []


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def objective(W, c, V, d):
    hidden = sigmoid(features @ W + c)
    out = sigmoid(hidden @ V + d)
    eps = 1e-12
    return -np.mean(labels * np.log(out + eps) + (1 - labels) * np.log(1 - out + eps))


def run_training(width, iterations=4000):
    gen = np.random.default_rng(0)
    W = gen.normal(0, 1.0, (2, width))
    c = np.zeros(width)
    V = gen.normal(0, 1.0, (width, 1))
    d = np.zeros(1)
    for it in range(iterations):
        hidden = sigmoid(features @ W + c)
        out = sigmoid(hidden @ V + d)
        g_out = (out - labels) / count
        g_V = hidden.T @ g_out
        g_d = g_out.sum(axis=0)
        g_hidden = (g_out @ V.T) * hidden * (1 - hidden)
        g_W = features.T @ g_hidden
        g_c = g_hidden.sum(axis=0)
        W -= step_size * g_W
        c -= step_size * g_c
        V -= step_size * g_V
        d -= step_size * g_d
        history.append(objective(W, c, V, d))
    return W, c, V, d


weights = run_training(6)
print(history[0], history[-1])
'''

PER_FEATURE = "features = (raw - raw.mean(axis=0)) / raw.std(axis=0)"
PER_SAMPLE = "features = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)"


def _warned(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["severity"] != "info"]


def _tiny(report: dict) -> dict:
    (result,) = report["extras"]["replay"]
    return result["tiny"]


def test_a_loss_function_over_the_module_data_is_read_on_the_five_samples_the_pass_trains_on(tmp_path):
    report = check(write(tmp_path, "printed.py", PRINTED), training=True)
    assert _warned(report) == []
    tiny = _tiny(report)
    assert tiny["losses"][-1] < 0.2 * tiny["losses"][0]
    assert tiny["undecayed"] == ["lam"]


def test_a_loss_appended_to_a_history_over_the_module_data_is_clean(tmp_path):
    report = check(write(tmp_path, "history.py", HISTORY), training=True)
    assert _warned(report) == []
    tiny = _tiny(report)
    assert tiny["losses"][-1] < 0.2 * tiny["losses"][0]


def test_the_module_data_is_bound_while_the_passes_run_and_put_back_after():
    from types import SimpleNamespace

    from backprop_doctor.replay.curve import globals_rebound

    module = {"X": "all", "reg": 0.1, "model": "kept"}
    runner = SimpleNamespace(capture=SimpleNamespace(module_globals=module, globals_read=frozenset({"X", "reg", "fresh"})))
    with globals_rebound(runner, {"X": "five", "reg": 0.0, "fresh": 1, "local": 2}):
        assert module == {"X": "five", "reg": 0.0, "model": "kept", "fresh": 1}  # not `local`: no global the loop reads
    assert module == {"X": "all", "reg": 0.1, "model": "kept"}
    at_module_level = SimpleNamespace(capture=SimpleNamespace(module_globals=None, globals_read=frozenset()))
    with globals_rebound(at_module_level, {"X": "five"}):
        pass


def test_a_hidden_derivative_left_out_is_still_a_gradient_mismatch(tmp_path):
    path = planted(tmp_path, "printed_wrong.py", PRINTED, "d2 = d3.dot(B.T) * (1 - h ** 2)", "d2 = d3.dot(B.T)")
    report = check(path, training=True)
    assert any(f["code"] == "BPD108" and f["severity"] == "error" for f in report["findings"])


def test_inputs_that_tell_nothing_apart_are_still_warned(tmp_path):
    path = planted(tmp_path, "history_alike.py", HISTORY, PER_FEATURE, PER_SAMPLE)
    report = check(path, training=True)
    (found,) = [f for f in report["findings"] if f["code"] == "BPD615"]
    assert found["line"] == line_of(path, "features = (raw - raw.mean(axis=1")
