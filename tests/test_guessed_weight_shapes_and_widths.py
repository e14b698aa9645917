"""Constructor arguments the tool guesses from their names: a weight's shape (`transformation_shape`)
is an (inputs, outputs) pair and a transformer's widths (`d_m`, `d_ff`) are sizes, so such layers are
built and checked; a shape of something else (`scores_shape`) is not guessed."""

from tests.userfiles import check, errors, write

LAYERS = """
    import numpy as np


    class FullyConnected:
        def __init__(self, transformation_shape):
            self.W = 0.1 * np.random.randn(*transformation_shape)

        def forward(self, x):
            self.x = x
            return x @ self.W

        def backward(self, dout):
            self.dW = self.x.T @ dout
            return dout @ self.W.T


    class FeedForward:
        def __init__(self, d_m, d_ff):
            self.W1 = np.random.randn(d_m, d_ff) / np.sqrt(d_m)
            self.W2 = np.random.randn(d_ff, d_m) / np.sqrt(d_ff)

        def forward(self, x):
            self.x, self.h = x, np.maximum(0, x @ self.W1)
            return self.h @ self.W2

        def backward(self, dout):
            self.dW2 = self.h.T @ dout
            dh = dout @ self.W2.T * (self.h > 0)
            self.dW1 = self.x.T @ dh
            return dh @ self.W1.T


    class Scores:
        def __init__(self, scores_shape):
            self.gradient = np.zeros(scores_shape)

        def forward(self, scores):
            return scores.sum()

        def backward(self, dout=1):
            return self.gradient
"""


def test_weight_shapes_and_widths_are_guessed_and_checked(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    assert errors(report) == []
    how = {b["what"]: b["how"] for b in report["built"]}
    assert "transformation_shape=(12, 4)" in how["FullyConnected"]
    assert "d_m=8" in how["FeedForward"] and "d_ff=8" in how["FeedForward"]
    assert {row["layer"] for row in report["measurements"]} >= {"FullyConnected", "FeedForward"}


def test_a_shape_of_something_else_is_not_guessed(tmp_path):
    report = check(write(tmp_path, "layers.py", LAYERS))
    (scores,) = [b for b in report["built"] if b["what"] == "Scores"]
    assert scores["skipped"] and "scores_shape" in scores["skipped"]
