"""A class run like an activation (`forward(x)`, `backward(g)`) whose constructor needs an argument.

backprop-doctor builds such a class with a number for each required argument (an activation's
`alpha`). A container of layers takes a list of widths instead (`Stack(sizes)`, `lst[0]`), and the
guessed number made its constructor raise: that was reported as an error at the user's line, which
is right. The guess is the tool's, so the class is left unchecked with the reason; a constructor
that raises whatever it is given (a misspelled name) is still the user's error, at its line.
"""

from __future__ import annotations

from userfiles import check, errors, line_of, planted

PROGRAM = """\
    import numpy as np


    class Linear:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) / np.sqrt(n_in)
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, g):
            self.dW = self.x.T @ g
            self.db = g.sum(axis=0)
            return g @ self.W.T


    class Tanh:
        def forward(self, x):
            self.y = np.tanh(x)
            return self.y

        def backward(self, g):
            return g * (1 - self.y ** 2)


    class Stack:
        def __init__(self, sizes, lr=0.01):
            self.lr = lr
            self.layers = []
            width = sizes[0]
            for i in range(1, len(sizes)):
                self.layers.append(Linear(width, sizes[i]))
                self.layers.append(Tanh())
                width = sizes[i]

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, g):
            for layer in self.layers[::-1]:
                g = layer.backward(g)
            return g
"""


def test_a_container_built_with_a_guessed_number_is_not_an_error(tmp_path):
    path = planted(tmp_path, "stack.py", PROGRAM, "width = sizes[0]", "width = sizes[0]")
    report = check(path)
    assert errors(report) == []
    (stack,) = [b for b in report["built"] if b["what"] == "Stack"]
    assert "could not be built" in (stack["skipped"] or "")
    assert {m["layer"] for m in report["measurements"]} >= {"Linear", "Tanh"}


def test_a_container_that_measures_its_widths_first_is_not_an_error(tmp_path):
    path = planted(tmp_path, "stack.py", PROGRAM, "width = sizes[0]", "width = sizes[0] if len(sizes) else 0")
    report = check(path)
    assert errors(report) == []


def test_a_constructor_wrong_whatever_it_is_given_is_still_named(tmp_path):
    path = planted(tmp_path, "stack.py", PROGRAM, "self.lr = lr", "self.lr = learning_rate")
    report = check(path)
    raised = [f for f in errors(report) if f["name"] == "layer-raised"]
    assert raised and raised[0]["line"] == line_of(path, "self.lr = learning_rate")
    assert "NameError" in raised[0]["message"]


def test_a_wrong_layer_beside_the_container_is_still_found(tmp_path):
    path = planted(tmp_path, "stack.py", PROGRAM, "return g * (1 - self.y ** 2)", "return g * (1 - self.y)")
    report = check(path)
    (error,) = errors(report)
    assert error["layer"] == "Tanh" and error["line"] == line_of(path, "return g * (1 - self.y)")
