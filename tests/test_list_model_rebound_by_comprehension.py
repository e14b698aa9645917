"""A whole model kept as one Python list (`model = [W1, b1, W2, b2]`), its gradients returned by a
function as a list, and the step a comprehension that rebinds the list by its plain name (or the dict
entry that holds it): `model = [w - 0.05 * g for w, g in zip(model, grads)]`. Whatever the list is
called, rebuilt from itself with each element moved by a rate times its partner gradient, it is the
parameters' update: the step is found and replayed against the loss the output error implies, a
wrong gradient is named, and the correct programs are clean (they were 'nothing was checked')."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts, write

# A per-sample tanh network whose functions take the whole list; the update rebinds the module's name.
FUNCTIONS = """\
    import numpy as np


    def forward(model, x):
        W1, b1, W2, b2 = model
        h = np.tanh(W1 @ x + b1)
        return h, W2 @ h + b2


    def backward(model, x, y):
        W1, b1, W2, b2 = model
        h, out = forward(model, x)
        d_out = out - y
        d_h = (W2.T @ d_out) * (1 - h ** 2)
        return [d_h @ x.T, d_h, d_out @ h.T, d_out]


    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2, 1))
    Y = np.array([[[np.sin(x[0, 0]) + x[1, 0]]] for x in X])
    model = [rng.normal(0, 0.5, (6, 2)), np.zeros((6, 1)), rng.normal(0, 0.5, (1, 6)), np.zeros((1, 1))]
    for epoch in range(100):
        for x, y in zip(X, Y):
            grads = backward(model, x, y)
            model = [w - 0.05 * g for w, g in zip(model, grads)]
"""
TANH_SLOPE = "d_h = (W2.T @ d_out) * (1 - h ** 2)"
TANH_SLOPE_WRONG = "d_h = (W2.T @ d_out) * (1 - h)"

# Minibatches of a ReLU network, trained by a function that is handed a dict holding the list;
# the update rebinds the dict's entry, the rate is the function's argument.
HELD_BY_A_DICT = """\
    import numpy as np


    def predict(layers, x):
        A, a, B, c = layers
        z = np.maximum(0.0, x @ A + a)
        return z, z @ B + c


    def gradients(layers, x, t):
        A, a, B, c = layers
        z, out = predict(layers, x)
        e = out - t
        dz = (e @ B.T) * (z > 0)
        return [x.T @ dz, dz.sum(axis=0), z.T @ e, e.sum(axis=0)]


    def train(net, xs, ts, epochs, lr):
        for epoch in range(epochs):
            for i in range(0, len(xs), 8):
                xb, tb = xs[i:i + 8], ts[i:i + 8]
                step = gradients(net["layers"], xb, tb)
                net["layers"] = [p - lr * s for p, s in zip(net["layers"], step)]
        return net


    rng = np.random.default_rng(1)
    xs = rng.normal(size=(64, 3))
    ts = (xs[:, :1] * 2.0 - xs[:, 1:2]) * 0.5
    net = {"layers": [rng.normal(0, 0.4, (3, 5)), np.full(5, 0.1), rng.normal(0, 0.4, (5, 1)), np.zeros(1)]}
    net = train(net, xs, ts, 50, 0.01)
    print(predict(net["layers"], xs[:2])[1])
"""
OUTPUT_BIAS = "e.sum(axis=0)]"
OUTPUT_BIAS_WRONG = "2 * e.sum(axis=0)]"

# The same network handed to `train(model, ...)` as a bare list, rebound by the function's own name.
HANDED_TO_TRAIN = HELD_BY_A_DICT.replace('net["layers"]', "net").replace(
    'net = {"layers": [rng.normal(0, 0.4, (3, 5)), np.full(5, 0.1), rng.normal(0, 0.4, (5, 1)), np.zeros(1)]}',
    "net = [rng.normal(0, 0.4, (3, 5)), np.full(5, 0.1), rng.normal(0, 0.4, (5, 1)), np.zeros(1)]",
)


def test_a_list_model_rebound_by_its_name_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "list_model.py", FUNCTIONS), training=True)
    assert replayed(report)
    assert step_verdicts(report) == {f"model[{k}]": "ok" for k in range(4)}
    assert errors(report) == []
    assert "BPD007" not in {f["code"] for f in report["findings"]}


def test_a_wrong_hidden_gradient_of_the_list_model_is_named(tmp_path):
    path = planted(tmp_path, "list_model.py", FUNCTIONS, TANH_SLOPE, TANH_SLOPE_WRONG)
    report = check(path, training=True)
    (error,) = errors(report)
    assert error["code"] == "BPD108"
    assert error["line"] == line_of(path, TANH_SLOPE_WRONG)
    verdicts = step_verdicts(report)
    assert verdicts["model[0]"] != "ok" and verdicts["model[2]"] == "ok"


def test_a_list_held_by_a_dict_and_rebound_in_train_is_replayed_and_clean(tmp_path):
    report = check(write(tmp_path, "dict_model.py", HELD_BY_A_DICT), training=True)
    assert replayed(report)
    assert step_verdicts(report) == {f"net['layers'][{k}]": "ok" for k in range(4)}
    assert errors(report) == []


def test_a_wrong_output_bias_gradient_of_the_dict_held_list_is_named(tmp_path):
    path = planted(tmp_path, "dict_model.py", HELD_BY_A_DICT, OUTPUT_BIAS, OUTPUT_BIAS_WRONG)
    report = check(path, training=True)
    (error,) = errors(report)
    assert error["code"] == "BPD108" and error["param"] == "net['layers'][3]"
    assert "2 ×" in error["message"]
    assert step_verdicts(report)["net['layers'][0]"] == "ok"


def test_a_list_handed_to_train_is_replayed_and_a_wrong_gradient_named(tmp_path):
    assert '"layers"' not in HANDED_TO_TRAIN
    clean = check(write(tmp_path, "handed.py", HANDED_TO_TRAIN), training=True)
    assert replayed(clean)
    assert step_verdicts(clean) == {f"net[{k}]": "ok" for k in range(4)}
    assert errors(clean) == []
    wrong = check(planted(tmp_path, "handed_wrong.py", HANDED_TO_TRAIN, OUTPUT_BIAS, OUTPUT_BIAS_WRONG), training=True)
    (error,) = errors(wrong)
    assert error["code"] == "BPD108" and error["param"] == "net[3]"
