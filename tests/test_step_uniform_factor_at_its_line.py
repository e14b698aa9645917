"""A factor every gradient of the step shares, made at one statement of the backward pass, is an error
named at that statement when no convention explains it: the program computes its loss itself, and
the factor is neither the batch size (a sum against a mean), nor 2 or 1/2 (a square's derivative left
to the rate). A softmax at temperature `tau` whose gradient forgets the 1/tau is tau × the gradient of
the printed loss; a loss weighted by `alpha` whose gradient forgets the weight is 1/alpha of it.
Before, both were a warning ("as if the learning rate were multiplied by ...") and the verdict said
"no errors". Two styles: a flat script at a temperature, and functions over a dict of parameters whose loss
carries a weight. The
correct twins are clean, and a factor the batch size explains stays the warning it was."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

# a flat script: softmax regression on temperature-scaled logits, a cross-entropy times tau ** 2
FLAT = """\
    import numpy as np

    rng = np.random.default_rng(11)
    n, d, k = 150, 4, 5
    X = rng.normal(size=(n, d))
    labels = np.argmax(X @ rng.normal(size=(d, k)), axis=1)
    Y = np.eye(k)[labels]
    tau = 3.0

    W = rng.normal(size=(d, k)) * 0.1
    c = np.zeros(k)
    rate = 0.1
    for epoch in range(120):
        logits = X @ W + c
        e = np.exp(logits / tau - np.max(logits / tau, axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -tau ** 2 * np.mean(np.sum(Y * np.log(p + 1e-12), axis=1))
        dlogits = tau * (p - Y) / n
        dW = X.T @ dlogits
        dc = dlogits.sum(axis=0)
        W -= rate * dW
        c -= rate * dc
        if epoch % 40 == 0:
            print(epoch, loss)
"""

# functions over a dict of parameters, the data at module level: a weighted mean squared error, a tanh
# hidden layer, no output bias
FUNCTIONS = """\
    import numpy as np

    WEIGHT = 0.3


    def init(n_in, n_hidden, rs):
        return {
            "A": rs.randn(n_in, n_hidden) * 0.4,
            "a": np.zeros(n_hidden),
            "B": rs.randn(n_hidden, 1) * 0.4,
        }


    def loss_and_grads(P):
        h = np.tanh(X @ P["A"] + P["a"])
        out = h @ P["B"]
        diff = out - t
        loss = WEIGHT * np.mean(diff ** 2)
        dout = WEIGHT * 2 * diff / len(X)
        grads = {"B": h.T @ dout}
        dh = (dout @ P["B"].T) * (1 - h ** 2)
        grads["A"] = X.T @ dh
        grads["a"] = dh.sum(axis=0)
        return loss, grads


    rs = np.random.RandomState(0)
    X = rs.randn(90, 3)
    t = np.sin(X[:, :1]) + 0.5 * X[:, 1:2]
    params = init(3, 7, rs)
    for it in range(150):
        loss, grads = loss_and_grads(params)
        for key in params:
            params[key] -= 0.2 * grads[key]
        if it % 50 == 0:
            print(it, loss)
"""


def _step_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-gradient-mismatch"]


def test_the_flat_script_at_a_temperature_is_clean(tmp_path):
    report = check(write(tmp_path, "soft.py", FLAT))
    assert errors(report) == [] and _step_findings(report) == [], report["findings"]


@pytest.mark.parametrize("tau", ["3.0", "2.0"])
def test_the_temperature_forgotten_in_the_gradient_is_an_error_at_its_line(tmp_path, tau):
    """At 2.0 the factor is 2, which the loss explains by no square (`tau ** 2` squares a number)."""
    text = FLAT.replace("tau = 3.0", f"tau = {tau}")
    path = planted(tmp_path, "soft.py", text, "dlogits = tau * (p - Y) / n", "dlogits = tau ** 2 * (p - Y) / n")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["name"], finding["line"]) == ("step-gradient-mismatch", line_of(path, "dlogits = tau ** 2")), finding
    assert "`dlogits` (line %d) is %g × the gradient of your loss" % (finding["line"], float(tau)) in finding["message"], finding["message"]
    assert errors(check(write(tmp_path / "ok", "soft.py", text))) == []


def test_the_functions_with_their_weighted_loss_are_clean(tmp_path):
    report = check(write(tmp_path, "regress.py", FUNCTIONS))
    assert errors(report) == [] and _step_findings(report) == [], report["findings"]


def test_the_loss_weight_left_out_of_the_gradient_is_an_error_at_its_line(tmp_path):
    path = planted(tmp_path, "regress.py", FUNCTIONS, "dout = WEIGHT * 2 * diff / len(X)", "dout = 2 * diff / len(X)")
    report = check(path)
    (finding,) = errors(report)
    assert (finding["name"], finding["line"]) == ("step-gradient-mismatch", line_of(path, "dout = 2 * diff")), finding
    assert "`dout` (line %d) is 3.33 × the gradient of your loss" % finding["line"] in finding["message"], finding["message"]


def test_a_factor_of_the_rows_a_function_reads_from_the_module_stays_the_programs_scale(tmp_path):
    """The same functions with their gradient not divided by the rows (a sum's gradient
    against a mean's loss) at a rate small enough for the loss to fall: the rows are the module's `X`,
    which only the function the loop calls reads. A count of the data, not a factor made by mistake:
    the warning it was."""
    text = FUNCTIONS
    for old, new in [
        ("dout = WEIGHT * 2 * diff / len(X)", "dout = WEIGHT * 2 * diff"),
        ("-= 0.2 * grads", "-= 0.002 * grads"),
    ]:
        assert old in text
        text = text.replace(old, new)
    report = check(write(tmp_path, "regress.py", text))
    assert errors(report) == [], report["findings"]
    (finding,) = _step_findings(report)
    assert finding["severity"] == "warning" and "90 × the gradient of your loss" in finding["message"], finding


def test_the_two_of_a_square_left_to_the_rate_stays_a_warning(tmp_path):
    """`WEIGHT * np.mean(diff ** 2)` followed as `WEIGHT * diff / len(X)`: half the gradient, the 2 of
    the square the loss takes left to the rate, a convention."""
    path = planted(tmp_path, "regress.py", FUNCTIONS, "dout = WEIGHT * 2 * diff / len(X)", "dout = WEIGHT * diff / len(X)")
    report = check(path)
    assert errors(report) == [], report["findings"]
    (finding,) = _step_findings(report)
    assert finding["severity"] == "warning" and "0.5 × the gradient of your loss" in finding["message"], finding
