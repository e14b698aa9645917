"""A forward that raises on the input backprop-doctor made up for it (a width and a layout guessed
from nothing: `X (5, 6)`, one sample per column) while the program's own run called it on its data
and it returned: the guess is wrong, not the forward, so it is a note and not an error, and the
program's own training step is still what finds a wrong gradient."""

from __future__ import annotations

import textwrap

from tests.userfiles import check, errors, line_of, planted, write

PROGRAM = """\
    import numpy as np

    def init_params(layer_sizes, seed=4):
        rng = np.random.RandomState(seed)
        params = {}
        for i in range(1, len(layer_sizes)):
            params["W%d" % i] = 0.5 * rng.randn(layer_sizes[i - 1], layer_sizes[i])
            params["b%d" % i] = np.zeros(layer_sizes[i])
        return params

    def forward(params, X):
        H = np.tanh(X @ params["W1"] + params["b1"])
        out = H @ params["W2"] + params["b2"]
        return out, {"X": X, "H": H, "W2": params["W2"], "out": out}

    def backward(cache, T):
        n = T.shape[0]
        dout = (cache["out"] - T) / n
        dH = dout @ cache["W2"].T
        dpre = dH * (1 - cache["H"] ** 2)
        grads = {"W2": cache["H"].T @ dout, "b2": dout.sum(axis=0)}
        grads["W1"] = cache["X"].T @ dpre
        grads["b1"] = dpre.sum(axis=0)
        return grads

    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(120, 4))
    T = np.c_[X[:, 0] * X[:, 1], np.cos(X[:, 2]) - X[:, 3]]
    params = init_params([4, 10, 2])
    for epoch in range(300):
        out, cache = forward(params, X)
        loss = 0.5 * np.mean(np.sum((out - T) ** 2, axis=1))
        grads = backward(cache, T)
        for key in params:
            params[key] -= 0.2 * grads[key]
    print(loss)
"""


def test_a_forward_that_ran_on_the_programs_data_is_no_error_on_a_made_up_input(tmp_path):
    path = write(tmp_path, "regress.py", PROGRAM)
    report = check(path)
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["code"] == "BPD105"]
    assert (note["severity"], note["pattern"], note["line"]) == ("info", "made-up-input", line_of(path, 'H = np.tanh(X @ params["W1"]'))
    assert f"your program's own call (line {line_of(path, 'out, cache = forward(params, X)')})" in note["message"]


def test_a_wrong_gradient_of_that_program_is_found_at_its_line(tmp_path):
    path = planted(tmp_path, "regress.py", PROGRAM, 'grads["W1"] = cache["X"].T @ dpre', 'grads["W1"] = cache["X"].T @ dH')
    found = errors(check(path))
    assert [f["code"] for f in found] == ["BPD108"]
    wrong = line_of(path, 'grads["W1"] = cache["X"].T @ dH')
    # named where the tanh's derivative is left out: `dH` (the output's gradient) used at the line of W1
    assert found[0]["line"] == line_of(path, "dH = dout @ cache") and f"computed at line {wrong}" in found[0]["message"]


def test_a_forward_the_program_never_ran_still_raises_an_error(tmp_path):
    # the same definitions without the program's own run: nothing says the made-up input was the wrong one
    path = write(tmp_path, "regress.py", PROGRAM.split("    rng = np.random.RandomState(0)")[0])
    raised = [f for f in check(path)["findings"] if f["code"] == "BPD105"]
    assert [f["severity"] for f in raised] == ["error"]


def test_a_forward_that_reads_a_global_of_the_program_is_still_an_error(tmp_path):
    # it runs in the program only because the program's main block binds `W1` outside it: a NameError
    # on any other call, not a made-up input's fault
    definitions, main = PROGRAM.replace('H = np.tanh(X @ params["W1"]', 'H = np.tanh(X @ W1').split("    rng = np.random.RandomState(0)")
    main = ("    rng = np.random.RandomState(0)" + main).replace('params = init_params([4, 10, 2])\n', 'params = init_params([4, 10, 2])\n    W1 = params["W1"]\n')
    source = definitions + '    if __name__ == "__main__":\n' + textwrap.indent(main, "    ")
    path = write(tmp_path, "regress.py", source)
    raised = [f for f in check(path)["findings"] if f["code"] == "BPD105"]
    assert [(f["severity"], "NameError" in f["message"], "W1" in f["message"]) for f in raised] == [("error", True, True)]
