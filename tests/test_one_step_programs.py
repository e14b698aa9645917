"""A program that makes one training step and stops, with no loop around it.

Worked examples of backpropagation ("A step by step backpropagation example" with scalar weights
`w1 .. w8`, a book chapter's "one update of every weight") compute a forward pass, the
gradients and one update, then print the new weights. That is a training step: the
statements from the forward pass to the updates are replayed as one, and a wrong gradient is
found at its line, as it would be inside a loop. A file that computes gradients and applies
none, or trains several networks in turn, gets no step made up for it.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.userfiles import check, errors, line_of, planted, replayed, write

SCALAR_STEP = """\
    # One step of backprop, worked by hand: 2 inputs, 2 hidden units, 2 outputs.
    import math

    def sigmoid(x):
        return 1 / (1 + math.exp(-x))

    i1, i2 = 0.05, 0.10
    t1, t2 = 0.01, 0.99
    w1, w2, w3, w4 = 0.15, 0.20, 0.25, 0.30
    w5, w6, w7, w8 = 0.40, 0.45, 0.50, 0.55
    b1, b2 = 0.35, 0.60
    eta = 0.5

    net_h1 = w1 * i1 + w2 * i2 + b1
    net_h2 = w3 * i1 + w4 * i2 + b1
    out_h1 = sigmoid(net_h1)
    out_h2 = sigmoid(net_h2)
    net_o1 = w5 * out_h1 + w6 * out_h2 + b2
    net_o2 = w7 * out_h1 + w8 * out_h2 + b2
    out_o1 = sigmoid(net_o1)
    out_o2 = sigmoid(net_o2)
    E_total = 0.5 * (t1 - out_o1) ** 2 + 0.5 * (t2 - out_o2) ** 2
    print("error before the step:", E_total)

    d_o1 = (out_o1 - t1) * out_o1 * (1 - out_o1)
    d_o2 = (out_o2 - t2) * out_o2 * (1 - out_o2)
    d_w5 = d_o1 * out_h1
    d_w6 = d_o1 * out_h2
    d_w7 = d_o2 * out_h1
    d_w8 = d_o2 * out_h2
    d_h1 = (d_o1 * w5 + d_o2 * w7) * out_h1 * (1 - out_h1)
    d_h2 = (d_o1 * w6 + d_o2 * w8) * out_h2 * (1 - out_h2)
    d_w1 = d_h1 * i1
    d_w2 = d_h1 * i2
    d_w3 = d_h2 * i1
    d_w4 = d_h2 * i2

    w1 -= eta * d_w1
    w2 -= eta * d_w2
    w3 -= eta * d_w3
    w4 -= eta * d_w4
    w5 -= eta * d_w5
    w6 -= eta * d_w6
    w7 -= eta * d_w7
    w8 -= eta * d_w8
    print("weights after one step:", w1, w2, w3, w4, w5, w6, w7, w8)
"""

RIGHT_H2 = "d_h2 = (d_o1 * w6 + d_o2 * w8) * out_h2 * (1 - out_h2)"
WRONG_H2 = "d_h2 = (d_o1 * w6 + d_o2 * w8) * out_h2"  # the sigmoid's derivative left out

ARRAY_STEP = """\
    import numpy as np

    np.random.seed(3)
    inputs = np.array([1.0, 0.0, 1.0])
    weights_0_1 = np.random.randn(3, 4) * 0.5
    weights_1_2 = np.random.randn(4, 1) * 0.5
    goal = np.array([1.0])
    alpha = 0.1

    if __name__ == "__main__":
        print("weights before:", weights_0_1.sum(), weights_1_2.sum())
        hidden = np.maximum(0, inputs @ weights_0_1)
        output = hidden @ weights_1_2
        delta_output = output - goal
        grad_1_2 = np.outer(hidden, delta_output)
        delta_hidden = (delta_output @ weights_1_2.T) * (hidden > 0)
        grad_0_1 = np.outer(inputs, delta_hidden)
        weights_1_2 = weights_1_2 - alpha * grad_1_2
        weights_0_1 = weights_0_1 - alpha * grad_0_1
        print("weights after:", weights_0_1.sum(), weights_1_2.sum())
"""

RIGHT_HIDDEN = "delta_hidden = (delta_output @ weights_1_2.T) * (hidden > 0)"
WRONG_HIDDEN = "delta_hidden = delta_output @ weights_1_2.T"  # the ReLU's mask left out


def _in_main(text: str) -> str:
    """The scalar step moved into `def main()` called from a main block."""
    head, _, body = textwrap.dedent(text).partition("i1, i2")
    body = "i1, i2" + body
    return head + "def main():\n" + "".join(f"    {line}" if line.strip() else line for line in body.splitlines(True)) + '\nif __name__ == "__main__":\n    main()\n'


def test_a_scalar_step_with_no_loop_is_replayed_and_its_wrong_adjoint_named_at_its_line(tmp_path):
    path = planted(tmp_path, "one_step.py", SCALAR_STEP, RIGHT_H2, WRONG_H2)
    report = check(path)
    (error,) = errors(report)
    assert error["name"] == "step-gradient-mismatch"
    assert error["line"] == line_of(path, "d_h2 = (d_o1")
    assert "`d_h2`" in error["message"] and "`net_h2`" in error["message"]
    assert "`w3`, `w4`" in error["message"]  # the parameters it reaches, and no other
    result = replayed(report)
    assert result["loop_line"] == line_of(path, "net_h1 = w1")  # the step starts at the forward pass
    rows = dict((row["label"], row["text"]) for row in error["evidence"])
    assert f"step at line {line_of(path, 'net_h1 = w1')}" in rows["replayed"]
    assert rows["w5"].startswith("ok") and rows["w3"].startswith("wrong")


def test_the_correct_scalar_step_is_clean_and_every_weight_is_compared(tmp_path):
    path = write(tmp_path, "one_step.py", SCALAR_STEP)
    report = check(path)
    assert errors(report) == []
    assert not [f for f in report["findings"] if f["name"] == "nothing-to-check"]
    compared = {m["param"] for m in report["measurements"] if m["layer"] == "training step"}
    assert compared == {f"w{k}" for k in range(1, 9)}
    assert {m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"ok"}


def test_a_step_inside_main_is_found_in_that_function(tmp_path):
    wrong = planted(tmp_path, "wrong/one_step.py", _in_main(SCALAR_STEP), RIGHT_H2, WRONG_H2)
    (error,) = errors(check(wrong))
    assert error["name"] == "step-gradient-mismatch"
    assert error["line"] == line_of(wrong, "d_h2 = (d_o1")
    right = write(tmp_path, "right/one_step.py", _in_main(SCALAR_STEP))
    report = check(right)
    assert errors(report) == []
    assert replayed(report)["loop_line"] == line_of(right, "net_h1 = w1")


def test_an_array_step_in_a_main_block_is_checked_from_its_first_statement_that_reads_a_weight(tmp_path):
    right = write(tmp_path, "right/step.py", ARRAY_STEP)
    report = check(right)
    assert errors(report) == []
    result = replayed(report)
    # the print before the forward pass reads the weights too, but only shows them
    assert result["loop_line"] == line_of(right, "hidden = np.maximum(0, inputs @ weights_0_1)")
    assert {p["name"] for p in result["parameters"]} == {"weights_0_1", "weights_1_2"}


def test_the_array_steps_wrong_hidden_delta_is_found_at_its_line(tmp_path):
    wrong = planted(tmp_path, "wrong/step.py", ARRAY_STEP, RIGHT_HIDDEN, WRONG_HIDDEN)
    (error,) = errors(check(wrong))
    assert error["name"] == "step-gradient-mismatch"
    assert error["line"] == line_of(wrong, "delta_hidden =")
    assert "`weights_0_1`" in error["message"] and "`weights_1_2`" not in error["message"]
    assert "factor" not in error["message"]  # the ReLU's mask is no constant factor, however the random signs fall


@pytest.mark.parametrize(
    "tail",
    [
        'print("gradients:", grad_0_1.shape, grad_1_2.shape)\n',  # computed, never applied
        "for name in range(3):\n    weights_0_1 = weights_0_1 * 1.0\n",  # a loop that moves no weight along a gradient
    ],
)
def test_gradients_computed_and_never_applied_make_no_step(tmp_path, tail):
    text = """\
        import numpy as np
        np.random.seed(1)
        inputs = np.array([1.0, 0.0, 1.0])
        weights_0_1 = np.random.randn(3, 4) * 0.1
        weights_1_2 = np.random.randn(4, 1) * 0.1
        goal = np.array([1.0])
        hidden = inputs @ weights_0_1
        output = hidden @ weights_1_2
        delta_output = output - goal
        grad_1_2 = np.outer(hidden, delta_output)
        grad_0_1 = np.outer(inputs, delta_output @ weights_1_2.T)
    """
    path = write(tmp_path, "no_update.py", text)
    path.write_text(path.read_text(encoding="utf-8") + tail, encoding="utf-8")
    report = check(path)
    assert not report["extras"].get("replay")
    assert [f["name"] for f in report["findings"] if f["severity"] != "info"] == ["nothing-to-check"]


def test_an_update_function_tried_once_on_made_up_gradients_is_no_training_step(tmp_path):
    """A course notebook's cell: `update_parameters` written, then called once on a test case's
    parameters and gradients. Nothing computes those gradients from a loss, so there is no step
    to replay, and `L = len(parameters) // 2` is a count of layers, not a loss."""
    text = """\
        import numpy as np

        def update_parameters(parameters, grads, learning_rate):
            L = len(parameters) // 2
            for l in range(L):
                parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
                parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
            return parameters

        np.random.seed(2)
        parameters = {"W1": np.random.randn(3, 4), "b1": np.random.randn(3, 1), "W2": np.random.randn(1, 3), "b2": np.random.randn(1, 1)}
        grads = {"dW1": np.random.randn(3, 4), "db1": np.random.randn(3, 1), "dW2": np.random.randn(1, 3), "db2": np.random.randn(1, 1)}
        parameters = update_parameters(parameters, grads, 0.1)
        print("W1 =", parameters["W1"])
    """
    report = check(write(tmp_path, "update_cell.py", text))
    assert errors(report) == []
    assert not report["extras"].get("replay")
