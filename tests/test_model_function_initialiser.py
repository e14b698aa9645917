"""A cs231n (2015) model function `two_layer_net(X, model, y=None, reg=0.0)` imported alone by a
notebook (`from nets import two_layer_net`) is built with the initialiser of the module that
defines it, not with sizes guessed from its keys; an initialiser whose size is made with `/` (a
float in Python 3, an int in Python 2) is reported at that line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

NETS = """\
import numpy as np


def init_two_layer_model(input_size, hidden_size, output_size):
    model = {}
    model['W1'] = 0.1 * np.random.randn(input_size, hidden_size)
    model['b1'] = np.zeros(hidden_size)
    model['W2'] = 0.1 * np.random.randn(hidden_size * 2 // 2, output_size)
    model['b2'] = np.zeros(output_size)
    return model


def two_layer_net(X, model, y=None, reg=0.0):
    W1, b1, W2, b2 = model['W1'], model['b1'], model['W2'], model['b2']
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    if y is None:
        return scores
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = X.shape[0]
    loss = -np.log(probs[np.arange(n), y]).mean() + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    grads = {'W2': hidden.T.dot(dscores) + reg * W2, 'b2': dscores.sum(axis=0)}
    dhidden = dscores.dot(W2.T) * (hidden > 0)
    grads['W1'] = X.T.dot(dhidden) + reg * W1
    grads['b1'] = dhidden.sum(axis=0)
    return loss, grads
"""

NOTEBOOK = """\
import numpy as np
from nets import two_layer_net


def predict(X, model):
    return np.argmax(two_layer_net(X, model), axis=1)
"""

DIVIDED = ("hidden_size * 2 // 2", "hidden_size * 2 / 2")


def test_the_initialiser_of_the_defining_module_builds_the_model(tmp_path):
    write(tmp_path, "nets.py", NETS)
    report = check(write(tmp_path, "notebook.py", NOTEBOOK))
    assert errors(report) == []
    assert [(b["what"], b["how"]) for b in report["built"]] == [("two_layer_net", "model-functions convention")]


def test_a_size_made_with_true_division_in_that_initialiser_is_reported_at_its_line(tmp_path):
    nets = write(tmp_path, "nets.py", NETS.replace(*DIVIDED))
    (finding,) = errors(check(write(tmp_path, "notebook.py", NOTEBOOK)))
    assert (finding["code"], finding["file"], finding["line"]) == ("BPD105", str(nets), line_of(nets, DIVIDED[1]))
    assert "TypeError ('float' object cannot be interpreted as an integer)" in finding["message"]
