"""A cs231n-style model handed out as a template: its `loss(X, y)` still binds `scores = None` and
holds `pass` where the forward pass goes. The model has no `forward`, so the engine's call of it
returns None; the report says which method is not written yet, as a warning, never "add `return out`"
at the class line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, write

TEMPLATE = '''\
import numpy as np


class TwoLayerNet(object):
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size), "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size), "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        scores = None
        # YOUR CODE HERE: the forward pass
        pass
        if y is None:
            return scores
        loss = None
        # YOUR CODE HERE: the softmax loss
        pass
        grads = {}
        # YOUR CODE HERE: the backward pass
        pass
        return loss, grads
'''


def test_a_template_models_loss_is_named_as_not_written_yet(tmp_path):
    path = write(tmp_path, "neural_net.py", TEMPLATE)
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "bad-return"]
    assert (finding["severity"], finding["pattern"]) == ("warning", "not-written")
    assert finding["message"].startswith("`TwoLayerNet.loss` is not written yet")
    assert finding["line"] == line_of(path, "        pass")
    assert "return out" not in finding["message"]
