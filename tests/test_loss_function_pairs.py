"""A loss written as two functions: the loss and its derivative, of a target and a prediction.

`losses.py` beside a tutorial's layers holds `mse(y_true, y_pred)` and `mse_prime(y_true, y_pred)`,
`binary_cross_entropy` and `binary_cross_entropy_prime`. Each pair is checked as a loss of the
prediction: the derivative against finite differences of the loss (its sum, when it returns one value
per element), on probabilities with one-hot, integer or real-valued targets.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LOSSES = """\
    import numpy as np

    def mse(y_true, y_pred):
        return np.mean(np.power(y_true - y_pred, 2))

    def mse_prime(y_true, y_pred):
        return 2 * (y_pred - y_true) / np.size(y_true)

    def binary_cross_entropy(y_true, y_pred):
        return np.mean(-y_true * np.log(y_pred) - (1 - y_true) * np.log(1 - y_pred))

    def binary_cross_entropy_prime(y_true, y_pred):
        return ((1 - y_true) / (1 - y_pred) - y_true / y_pred) / np.size(y_true)
"""


def test_each_loss_and_its_derivative_are_checked_as_a_pair(tmp_path):
    report = check(write(tmp_path, "losses.py", LOSSES))
    assert errors(report) == []
    assert {(m["layer"], m["verdict"]) for m in report["measurements"]} == {
        ("mse/mse_prime", "ok"), ("binary_cross_entropy/binary_cross_entropy_prime", "ok"),
    }  # fmt: skip


def test_a_derivative_that_forgets_the_mean_is_the_summed_losss_and_said_so(tmp_path):
    """`2 * (y_pred - y_true)` beside a loss that averages is the derivative of the summed loss, one
    sample's as a training loop that divides by its batch uses it: compared divided back, not an error."""
    path = planted(tmp_path, "losses.py", LOSSES, "return 2 * (y_pred - y_true) / np.size(y_true)", "return 2 * (y_pred - y_true)")
    report = check(path)
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "mse/mse_prime"]
    assert "your gradient is the summed loss's, 20 × the mean's" in built["shapes"]


def test_a_derivative_twice_too_large_is_still_wrong(tmp_path):
    path = planted(tmp_path, "losses.py", LOSSES, "return 2 * (y_pred - y_true) / np.size(y_true)", "return 4 * (y_pred - y_true) / np.size(y_true)")
    (error,) = errors(check(path))
    assert (error["layer"], error["line"]) == ("mse/mse_prime", line_of(path, "return 4 * (y_pred - y_true)"))


def test_two_functions_of_anything_else_are_no_loss(tmp_path):
    text = """\
        import numpy as np

        def blend(a, b):
            return np.mean(a * b)

        def blend_prime(a, b):
            return b / np.size(a)
    """
    report = check(write(tmp_path, "blend.py", text))
    assert [f["name"] for f in report["findings"] if f["severity"] != "info"] == ["nothing-to-check"]


COMBINED = """\
    import numpy as np

    def cross_entropy(y_pred, y_true):
        return -np.sum(y_true * np.log(y_pred + 1e-12)) / y_pred.shape[0]

    def cross_entropy_grad(y_pred, y_true):
        return (y_pred - y_true) / y_pred.shape[0]
"""


def test_a_derivative_of_p_minus_y_is_checked_as_the_softmax_inputs_gradient(tmp_path):
    """`(y_pred - y_true) / n` is not the derivative of the cross-entropy with respect to the
    probabilities, but the usual combined one, with respect to the softmax's input: the pair is
    checked that way (scores through a softmax), so the shortcut is not called wrong."""
    report = check(write(tmp_path, "losses.py", COMBINED))
    assert errors(report) == []
    (built,) = report["built"]
    assert built["shapes"].startswith("scores (") and "through a softmax" in built["shapes"]


def test_a_combined_gradient_that_forgets_the_batch_is_still_wrong(tmp_path):
    path = planted(tmp_path, "losses.py", COMBINED, "return (y_pred - y_true) / y_pred.shape[0]", "return y_pred - y_true")
    (error,) = errors(check(path))
    assert (error["layer"], error["line"]) == ("cross_entropy/cross_entropy_grad", line_of(path, "return y_pred - y_true"))
