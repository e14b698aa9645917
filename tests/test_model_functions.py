"""cs231n's first network style: one function `two_layer_net(X, model, y=None, reg=0.0)`.

Without `y` it returns the scores, with it `(loss, grads)`, the gradients keyed like the model
dictionary. The model comes from an `init_two_layer_model(...)` beside it, or, in a file that
has only the function, from the keys it reads. These files used to be "nothing to check".
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

TWO_LAYER_NET = '''\
import numpy as np


def init_two_layer_model(input_size, hidden_size, output_size):
    model = {}
    model["W1"] = 0.1 * np.random.randn(input_size, hidden_size)
    model["b1"] = np.zeros(hidden_size)
    model["W2"] = 0.1 * np.random.randn(hidden_size, output_size)
    model["b2"] = np.zeros(output_size)
    return model


def two_layer_net(X, model, y=None, reg=0.0):
    W1, b1, W2, b2 = model["W1"], model["b1"], model["W2"], model["b2"]
    N, D = X.shape
    pre = X.dot(W1) + b1
    hidden = np.maximum(0, pre)
    scores = hidden.dot(W2) + b2
    if y is None:
        return scores
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    grads = {}
    grads["W2"] = hidden.T.dot(dscores) + reg * W2
    grads["b2"] = np.sum(dscores, axis=0)
    dhidden = dscores.dot(W2.T)
    dhidden[pre <= 0] = 0
    grads["W1"] = X.T.dot(dhidden) + reg * W1
    grads["b1"] = np.sum(dhidden, axis=0)
    return loss, grads
'''

WITHOUT_INIT = TWO_LAYER_NET[TWO_LAYER_NET.index("def two_layer_net") :].replace("def two_layer_net", "import numpy as np\n\n\ndef two_layer_net", 1)


def test_a_correct_model_function_is_checked_with_its_own_initialiser_and_clean(tmp_path):
    report = check(write(tmp_path, "neural_net.py", TWO_LAYER_NET))
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "two_layer_net"} == {"W1", "b1", "W2", "b2"}
    (built,) = [b for b in report["built"] if b["what"] == "two_layer_net"]
    assert (built["how"], built["shapes"]) == ("model-functions convention", "x (6, 12), labels (6,), reg 0.1")


def test_the_pre_activation_used_for_w2_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "neural_net.py", TWO_LAYER_NET, 'grads["W2"] = hidden.T', 'grads["W2"] = pre.T')
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    assert found == {("BPD101", "W2", line_of(path, 'grads["W2"] = pre.T'))}


def test_a_regularisation_term_missing_from_a_gradient_is_found(tmp_path):
    path = planted(tmp_path, "neural_net.py", TWO_LAYER_NET, 'X.T.dot(dhidden) + reg * W1', "X.T.dot(dhidden)")
    found = {(f["code"], f["param"], f["line"]) for f in errors(check(path))}
    assert found == {("BPD101", "W1", line_of(path, 'grads["W1"] = X.T.dot(dhidden)'))}


def test_without_an_initialiser_the_model_is_built_from_the_keys_it_reads(tmp_path):
    clean = check(write(tmp_path / "a", "neural_net.py", WITHOUT_INIT))
    assert errors(clean) == []
    assert {m["param"] for m in clean["measurements"]} == {"W1", "b1", "W2", "b2"}
    path = planted(tmp_path / "b", "neural_net.py", WITHOUT_INIT, "dscores /= N", "dscores /= N * N")
    found = {(f["code"], f["param"]) for f in errors(check(path))}
    assert {("BPD101", "W2"), ("BPD101", "b2"), ("BPD101", "W1"), ("BPD101", "b1")} >= found
    assert ("BPD101", "b2") in found


def test_a_function_whose_y_is_required_is_not_taken_for_a_model_function(tmp_path):
    """`f(X, params, y)` with `y` required is some other convention's; this one needs y=None."""
    text = WITHOUT_INIT.replace("def two_layer_net(X, model, y=None, reg=0.0):", "def two_layer_net(X, model, y, reg=0.0):")
    report = check(write(tmp_path, "neural_net.py", text))
    assert all(b["how"] != "model-functions convention" for b in report["built"])
