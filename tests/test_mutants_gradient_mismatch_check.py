"""gradient-mismatch (BPD101): the check's rewrites of the engine's findings, in this process.

The files of the CLI tests that pin each rewrite (`test_passed_back_negated.py`,
`test_term_left_out.py`, `test_shared_upstream.py`, ...) are checked here by `check_file`, so a
mutation run sees the check's code run (a CLI test's child process kills no mutant). Every line is
found in the file's text, every number in a message is read from the finding it belongs to.

The training-step replay and the observed run happen only in the CLI's child process, under its
sandbox (`pipeline._may_run`); the tests of what the check makes of a replayed step lift that guard
for their own programs, which are the tests' own text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from inprocess import checked, edited, line_of, program_runs, restored_interpreter, unranked  # noqa: F401 - fixtures used by name
from test_activation_methods_and_plain_outputs import METHODS, PLAIN
from test_cs231n_penalty_gradient import NET as CS231N_NET
from test_gradient_origins import FUNCTIONS, NETWORK as DICT_NETWORK
from test_log_likelihood_loss import LOSS
from test_loss_function_log_likelihood import SOFTMAX as SOFTMAX_LOSS
from test_numerical_networks import COPYING, FUNCTIONS as FD_FUNCTIONS, NETWORK as FD_NETWORK
from test_network_roots import NETWORK as ROOTS
from test_passed_back_negated import PROGRAM as DEEP
from test_penalty_gradients import PENALTIES
from test_shared_statement_of_a_network_backward import NETWORK as WHOLE
from test_shared_upstream import RNN
from test_softmax_pass_through import LAYERS as PASS_THROUGH
from test_term_left_out import AFFINE, NETWORK as TWO_LAYER
from test_tqdm_loops_and_saturated_networks import PROGRAM as SATURATED
from test_unwritten_and_whole_model_returns import MODEL

from backprop_doctor.findings import REDERIVE, Finding
from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

RULE = "gradient-mismatch"


def mismatches(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.name == RULE]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


# --- a gradient negated as it is handed back (`_alternating_signs`, `_depths`) ---


def test_a_negated_passed_back_gradient_is_the_root_and_every_other_layer_its_symptom(tmp_path):
    """The network is built at three layers (whatever sizes the script's own run would use): layer 2,
    one below the output, has its gradients flipped, layers 1 and 3 are right."""
    path, found = checked(tmp_path, "deep.py", edited(DEEP, ("LAYERS", "[4, 6, 5, 1]"), ("dA_prev = W.T.dot(dZ)", "dA_prev = -W.T.dot(dZ)")))
    (root, symptom) = errors(found)
    line = line_of(path, "dA_prev = -W.T.dot(dZ)")
    assert (root.param, root.line, root.highlight, root.pattern, root.fix, root.caused_by) == ("dA_prev", line, (line,), "passed-back-negated", None, None)
    assert (symptom.param, symptom.pattern, symptom.caused_by) == ("b2", "sign-flipped", f"BPD101:{root.layer}:dA_prev:{line}")
    assert root.key() == symptom.caused_by
    assert root.message == (
        f"`dA_prev = -W.T.dot(dZ)` (line {line}) has its sign flipped: `dA_prev` is handed from each layer to the one before, so "
        "the gradients of every other layer come out negated (`W2`, `b2`) while the rest are right, two negations cancelling; "
        "compute `dA_prev` without the minus sign"
    )


def test_a_correct_deep_network_and_one_with_its_output_gradient_flipped_have_no_negated_pass(tmp_path):
    _, found = checked(tmp_path, "deep.py", edited(DEEP, ("LAYERS", "[4, 6, 5, 1]")))
    assert errors(found) == []
    _, found = checked(tmp_path, "flipped.py", edited(DEEP, ("LAYERS", "[4, 6, 5, 1]"), ("dZ = AL - Y", "dZ = Y - AL")))
    assert errors(found) and all(f.pattern != "passed-back-negated" for f in found)


# --- a term the forward leaves out (`_terms_left_out`) ---


def test_a_bias_left_out_of_predict_is_given_back_where_it_belongs(tmp_path):
    text = edited(TWO_LAYER, ("        a1 = np.dot(x, W1) + b1\n        z1 = sigmoid(a1)\n        a2", "        a1 = np.dot(x, W1)\n        z1 = sigmoid(a1)\n        a2"))
    path, found = checked(tmp_path, "two_layer_net.py", text)
    (f,) = errors(found)
    line = line_of(path, "a1 = np.dot(x, W1)")
    assert (f.pattern, f.param, f.line, f.fix) == ("term-left-out", "b1", line, "a1 = np.dot(x, W1) + b1")
    assert line in f.highlight and f.highlight == tuple(sorted(f.highlight))
    assert f.message == (
        "`TwoLayerNet.b1` is never used by `TwoLayerNet.predict`, so the loss does not depend on it (its numerical gradient "
        f"is zero) while your backward computes a gradient for it: add `b1` to `a1 = np.dot(x, W1)` (line {line})"
    )


@pytest.mark.parametrize(
    "ending, fix",
    [
        ("", "a1 = np.dot(x, W1) + b1"),
        ("  # no bias", None),
        (" \\\n            ", None),
    ],
    ids=["plain", "comment", "continued"],
)
def test_the_term_is_added_to_the_statement_only_when_the_line_is_the_whole_statement(tmp_path, ending, fix):
    old = "        a1 = np.dot(x, W1) + b1\n        z1 = sigmoid(a1)\n        a2"
    new = f"        a1 = np.dot(x, W1){ending}\n        z1 = sigmoid(a1)\n        a2"
    if ending.startswith(" \\"):
        new = "        a1 = (np.dot(x,\n                    W1))\n        z1 = sigmoid(a1)\n        a2"
    path, found = checked(tmp_path, "two_layer_net.py", edited(TWO_LAYER, (old, new)))
    (f,) = errors(found)
    assert (f.pattern, f.fix) == ("term-left-out", fix)


def test_a_layer_returning_without_its_bias_gets_the_line_and_no_fix(tmp_path):
    path, found = checked(tmp_path, "layers.py", edited(AFFINE, ("return np.dot(x, self.W) + self.b", "return np.dot(x, self.W)")))
    (f,) = errors(found)
    line = line_of(path, "return np.dot(x, self.W)")
    assert (f.pattern, f.param, f.line, f.fix) == ("term-left-out", "b", line, None)
    assert f.message.startswith("`Affine.b` is never used by `Affine.forward`, so the loss does not depend on it")
    assert f.message.endswith(f"add `self.b` to `return np.dot(x, self.W)` (line {line})")


# --- one statement every gradient comes from (`_shared_upstream`, `_takes_upstream`) ---


def test_a_wrong_derivative_every_gradient_shares_is_the_root_with_the_others_its_symptoms(tmp_path):
    path, found = checked(tmp_path, "rnn.py", edited(RNN, ("(1 - next_h ** 2)", "(1 - next_h)")))
    wrong = errors(found)
    (root,) = [f for f in wrong if not f.caused_by]
    line = line_of(path, "da = dnext_h * (1 - next_h)")
    lines = sorted({line_of(path, s) for s in ("dx = da", "dprev_h = da", "dWx = x.T", "dWh = prev_h.T", "db = np.sum(da")})
    assert (root.param, root.line, root.pattern, root.fix, root.highlight) == (None, line, "shared-upstream", None, tuple([line] + lines))
    params = sorted(f.param for f in wrong if f is not root) + [_moved_param(wrong, root)]
    assert root.message.startswith(f"{len(params)} gradients of `rnn_step` are wrong (")
    assert root.message.endswith(
        f"and each is computed from `da = dnext_h * (1 - next_h)` (line {line}): the mistake is most likely in that line, "
        "which all of them share (for an activation, the derivative of the function forward applied)"
    )
    assert all(f"`{p}`" in root.message for p in params)
    assert {f.caused_by for f in wrong if f is not root} == {root.key()} == {f"BPD101:rnn_step::{line}"}


def _moved_param(wrong: list[Finding], root: Finding) -> str:
    """The array the root finding named before it moved to the shared line: the one left over."""
    (param,) = {"x", "prev_h", "Wx", "Wh", "b"} - {f.param for f in wrong if f is not root}
    return param


def test_one_wrong_gradient_of_the_step_keeps_its_own_line(tmp_path):
    path, found = checked(tmp_path, "rnn.py", edited(RNN, ("dWh = prev_h.T.dot(da)", "dWh = prev_h.T.dot(da) * 2")))
    (f,) = [f for f in errors(found) if not f.caused_by]
    assert (f.line, f.param) == (line_of(path, "dWh = prev_h.T.dot(da) * 2"), "Wh") and f.pattern != "shared-upstream"


@pytest.mark.parametrize(
    "wrong, pattern, words",
    [
        ("dZ2 = np.multiply(dA2, np.int64(A2 < 0))", "not-computed",
         "are all zeros although the loss depends on them, and each is computed from `{text}` (line {line}): that line zeroes "
         "them (for an activation, check which side of the kink its mask keeps)"),
        ("dZ2 = np.multiply(dA2, A2)", "shared-upstream",
         "are wrong ({params}), and each is computed from `{text}` (line {line}): the mistake is most likely in that line"),
        ("dZ2 = -np.multiply(dA2, np.int64(A2 > 0))", "sign-flipped",
         "have their sign flipped, and each is computed from `{text}` (line {line}): negate it there, once, rather than each gradient"),
    ],
    ids=["mask-flipped", "wrong-derivative", "negated"],
)  # fmt: skip
def test_a_whole_network_backward_is_rooted_at_the_statement_its_wrong_gradients_share(tmp_path, wrong, pattern, words):
    """`backward_propagation(X, Y, cache)` reads no upstream gradient: its shared statement is
    found among the statements that read none either."""
    path, found = checked(tmp_path, "net_utils.py", edited(WHOLE, ("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", wrong)))
    wrong_ones = errors(found)
    (root,) = [f for f in wrong_ones if not f.caused_by]
    line = line_of(path, wrong)
    assert (root.pattern, root.line, root.param, root.fix) == (pattern, line, None, None)
    assert len(wrong_ones) == 4 and {f.caused_by for f in wrong_ones if f is not root} == {root.key()}
    params = "`W1`, `b1`, `W2`, `b2`"
    assert words.format(text=wrong, line=line, params=params) in root.message
    assert root.message.startswith("4 gradients of" if pattern != "sign-flipped" else "all 4 gradients of")


def test_a_structural_error_leaves_the_gradients_as_its_symptoms(tmp_path):
    """A softmax or batch-coupling error (BPD3xx) explains every gradient: no shared statement is
    looked for. The engine's findings are those the check moved, put back at `W2`'s own line."""
    from backprop_doctor.checks import gradient_mismatch
    from backprop_doctor.context import CheckContext
    from backprop_doctor.loading.source import read_source

    path, found = checked(tmp_path, "net_utils.py", edited(WHOLE, ("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", "dZ2 = np.multiply(dA2, A2)")))
    source, _ = read_source(path)
    w2 = line_of(path, "dW2 = 1. / m * np.dot(dZ2, A1.T)")
    engine = [f.replace(caused_by=None, pattern=None, param=f.param or "W2", line=f.line if f.param else w2, highlight=()) for f in errors(found)]
    structural = Finding("softmax-not-per-row", "BPD301", "error", "the softmax sums over the batch", layer="Softmax", file=str(path), line=1)

    def patterns(*given: Finding) -> list[str | None]:
        context = CheckContext(options=Options(training=False), source=source, findings=list(given))
        assert list(gradient_mismatch.run(context)) == []
        return [f.pattern for f in context.findings if f.name == RULE]

    assert patterns(*engine).count("shared-upstream") == 1
    assert patterns(structural, *engine) == [None] * 4


# --- penalties, log-likelihoods, activations, a softmax passing its gradient through ---


def test_a_penalty_whose_value_and_gradient_disagree_is_named_at_both(tmp_path):
    path, found = checked(tmp_path, "penalties.py", edited(PENALTIES, ("return self.alpha * np.abs(w).sum()", "return self.alpha * np.linalg.norm(w)")))
    (f,) = errors(found)
    call, grad = line_of(path, "def __call__(self, w):"), line_of(path, "return self.alpha * np.sign(w)")
    assert (f.layer, f.line, f.fix, f.highlight) == ("Lasso", grad, None, (call, grad))
    assert f.message == (
        f"`Lasso.grad` is not the derivative of `Lasso.__call__` (line {call}), relative error {f.measured:.3g}: one of the two "
        "is wrong; check which penalty both should compute (the L1 penalty is the sum of |w|, whose gradient is sign(w); "
        "`np.linalg.norm(w)` is the L2 norm)"
    )


def test_correct_penalties_have_nothing_to_say(tmp_path):
    assert mismatches(checked(tmp_path, "penalties.py", PENALTIES)[1]) == []


def test_a_loss_object_returning_a_log_likelihood_is_blamed_at_its_return(tmp_path):
    correct = "return -(y * np.log(p) + (1 - y) * np.log(1 - p))"
    path, found = checked(tmp_path, "losses.py", edited(LOSS, (correct, "return y * np.log(p) + (1 - y) * np.log(1 - p)")))
    (f,) = errors(found)
    line = line_of(path, "return y * np.log(p)")
    assert (f.pattern, f.line, f.fix, f.layer) == ("loss-sign-flipped", line, None, "LogisticLoss")
    assert line in f.highlight and f.highlight == tuple(sorted(set(f.highlight)))
    assert f.message == (
        f"`LogisticLoss.loss` returns a log-likelihood (line {line}), which grows as the fit improves, while its gradient is "
        "that of the negative log-likelihood, the loss training lowers: the two disagree in sign; return the negative from "
        "`loss` (the gradient is the one minimising needs)"
    )


def test_a_flipped_gradient_beside_a_right_loss_stays_the_gradients(tmp_path):
    path, found = checked(tmp_path, "losses.py", edited(LOSS, ("return p - y", "return y - p")))
    (f,) = errors(found)
    assert (f.pattern, f.line) == ("sign-flipped", line_of(path, "return y - p"))


def test_a_loss_function_without_its_minus_sign_is_blamed_at_the_loss(tmp_path):
    path, found = checked(tmp_path, "softmax.py", edited(SOFTMAX_LOSS, ("loss = -np.sum(", "loss = np.sum(")))
    (f,) = errors(found)
    line = line_of(path, "loss = np.sum(")
    assert (f.pattern, f.line, f.fix) == ("loss-sign-flipped", line, None)
    assert f.message == (
        f"`softmax_loss_vectorized` computes its loss as a log-likelihood (line {line}, where its log enters with a plus sign), "
        "which grows as the fit improves, while the gradient it returns is that of the negative log-likelihood, the loss "
        "training lowers: put a minus sign in front of the log term"
    )


def test_a_gradient_pointing_only_partly_apart_from_a_log_likelihood_loss_stays_the_gradients(tmp_path):
    """`dW` a third of the way off (relative error well below 1.5, `OPPOSITE`) beside a right loss."""
    path, found = checked(tmp_path, "softmax.py", edited(SOFTMAX_LOSS, ("dW = X.T.dot(dscores) / num_train", "dW = 1.5 * X.T.dot(dscores) / num_train")))
    (f,) = errors(found)
    assert f.pattern != "loss-sign-flipped" and f.line == line_of(path, "dW = 1.5 * X.T")


@pytest.mark.parametrize(
    "text, correct, wrong, layer, advice",
    [
        (PLAIN, "    return dA * s * (1 - s)\n", "    return dA * (1 - s)\n", "sigmoid",
         "the derivative of sigmoid is `dA * s * (1 - s)`, with `s = sigmoid(Z)` (written of its output `A = sigmoid(Z)`: "
         "`dA * A * (1 - A)`); compare it with the values below"),
        (PLAIN, "    return dA * (1 - A ** 2)\n", "    return dA * (1 + A ** 2)\n", "tanh",
         "the derivative of tanh is `dA * (1 - np.tanh(Z) ** 2)` (written of its output `A = tanh(Z)`: `dA * (1 - A ** 2)`); "
         "compare it with the values below"),
        (PLAIN, "    dZ[Z <= 0] = 0\n", "    dZ[Z > 0] = 0\n", "relu",
         "the derivative of relu is `dA * (Z > 0)` (written of its output `A = relu(Z)`: `dA * (A > 0)`); compare it with the "
         "values below"),
        (METHODS, "        return 1 - np.tanh(x) ** 2\n", "        return 1 - np.tanh(x)\n", "tanh",
         "the derivative of tanh is `(1 - np.tanh(Z) ** 2)` (written of its output `A = tanh(Z)`: `(1 - A ** 2)`); compare it "
         "with the values below"),
    ],
    ids=["sigmoid", "tanh", "relu", "tanh-prime"],
)  # fmt: skip
def test_a_wrong_activation_derivative_is_told_the_derivative_in_both_forms(tmp_path, text, correct, wrong, layer, advice):
    path, found = checked(tmp_path, "activations.py", edited(text, (correct, wrong)))
    (f,) = errors(found)
    assert f.layer.split("/")[0] == layer and f.line == line_of(path, wrong.strip())
    assert f.message.endswith(advice) and REDERIVE not in f.message


def test_a_wrong_leaky_relu_derivative_is_told_its_slope_below_the_kink(tmp_path):
    text = """\
        import numpy as np


        def leaky_relu(Z):
            return np.where(Z > 0, Z, 0.01 * Z)


        def leaky_relu_backward(dA, Z):
            return np.where(Z > 0, dA, 0.1 * dA)
    """
    path, found = checked(tmp_path, "leaky.py", text)
    (f,) = errors(found)
    assert (f.layer, f.line) == ("leaky_relu", line_of(path, "return np.where(Z > 0, dA, 0.1 * dA)"))
    assert f.message.endswith(
        "the derivative of leaky_relu is `dA * np.where(Z > 0, 1, alpha)` (written of its output `A = leaky_relu(Z)`: "
        "`dA * np.where(A > 0, 1, alpha)`); compare it with the values below"
    )


def test_a_wrong_backward_of_a_function_no_activation_is_named_after_keeps_the_general_advice(tmp_path):
    text = """\
        import numpy as np


        def square(Z):
            return Z ** 2


        def square_backward(dA, Z):
            return dA * Z * Z
    """
    _, found = checked(tmp_path, "square.py", text)
    (f,) = errors(found)
    assert f.message.endswith(REDERIVE)


def test_a_softmax_passing_its_gradient_through_is_a_warning_at_its_return(tmp_path):
    path, found = checked(tmp_path, "layers.py", PASS_THROUGH)
    assert errors(found) == []
    (f,) = mismatches(found)
    line = line_of(path, "return grad")
    assert (f.severity, f.pattern, f.line, f.highlight, f.layer) == ("warning", "softmax-pass-through", line, (line,), "Softmax")
    assert f.message == (
        f"`Softmax.backward` returns the gradient it is given unchanged (line {line}), which is not the softmax's derivative: "
        "it is right only when what it is given is already the gradient with respect to the softmax's input, ŷ − y, as a "
        "cross-entropy computes it for softmax and loss together; check that the loss's backward gives ŷ − y, not the "
        "gradient with respect to ŷ"
    )


@pytest.mark.parametrize(
    "old, new",
    [
        ("        return grad\n", "        return grad * self.out\n"),
        ("        return grad\n", "        g = grad\n        return g\n"),
        ("        e = np.exp(scores - scores.max(axis=1, keepdims=True))\n        self.out = e / e.sum(axis=1, keepdims=True)\n",
         "        self.out = scores / np.abs(scores).max(axis=1, keepdims=True)\n"),
    ],
    ids=["computes", "two-statements", "no-exponential"],
)  # fmt: skip
def test_a_softmax_backward_that_does_more_or_a_layer_that_is_no_softmax_stays_an_error(tmp_path, old, new):
    _, found = checked(tmp_path, "layers.py", edited(PASS_THROUGH, (old, new)))
    assert [f.layer for f in errors(found)] == ["Softmax"]


def test_a_pass_through_softmax_in_the_file_beside_is_read_from_that_file(tmp_path):
    (tmp_path / "layers.py").write_text(PASS_THROUGH, encoding="utf-8")
    script = "import numpy as np\nfrom layers import Softmax, Dense\n\nlayer = Softmax()\nlayer.forward(np.ones((4, 3)))\n"
    _, found = checked(tmp_path, "net.py", script)
    (f,) = mismatches(found)
    assert (f.severity, f.pattern, f.file, f.line) == ("warning", "softmax-pass-through", str(tmp_path / "layers.py"), line_of(tmp_path / "layers.py", "return grad"))


# --- a network's mismatches follow its wrong layer (`_networks_follow_layers`) ---


@pytest.mark.parametrize("name", ["Net", "ZNet"])
def test_the_wrong_layer_is_the_root_of_the_networks_mismatches(tmp_path, name):
    path, found = checked(tmp_path, "net.py", edited(ROOTS, ("NAME", name)))
    wrong = errors(found)
    roots = [f for f in wrong if not f.caused_by]
    relu_return = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == "return dout")
    assert [(f.layer, f.param, f.line) for f in roots] == [("Relu1", "x", relu_return)]
    assert {f.layer for f in wrong if f.caused_by} >= {name}
    assert all(f.caused_by == roots[0].key() for f in wrong if f.layer == name)


def test_a_right_network_of_right_layers_is_left_alone(tmp_path):
    right = ("        return dout\n\n\nclass SoftmaxWithLoss", "        return np.where(self.mask, 0, dout)\n\n\nclass SoftmaxWithLoss")
    _, found = checked(tmp_path, "net.py", edited(ROOTS, ("NAME", "Net"), right))
    assert errors(found) == []


# --- the fix completed where a gradient is computed, not where it is stored (`run`) ---

def test_a_gradient_stored_under_a_key_is_blamed_and_fixed_where_it_is_computed(tmp_path):
    """`grads["dW" + str(i)] = dW_curr`: the line that computes `dW_curr` in the per-layer helper is
    the one to change; the stored line stays highlighted."""
    text = edited(FUNCTIONS, ("dW_curr = np.dot(dZ, A_prev.T) / m", "dW_curr = np.dot(dZ, A_prev.T)"))
    path, found = checked(tmp_path, "functions.py", text)
    first, second = errors(found)
    computed, stored = line_of(path, "dW_curr = np.dot(dZ, A_prev.T)"), line_of(path, 'grads["dW" + str(i)] = dW_curr')
    assert [(f.param, f.line, f.highlight, f.pattern) for f in (first, second)] == [
        ("W1", computed, (computed, stored), "scaled-by-batch-size"), ("W2", computed, (computed, stored), "scaled-by-batch-size")
    ]
    assert first.fix == second.fix == "dW_curr = np.dot(dZ, A_prev.T) / dZ.shape[0]"


def test_a_gradient_returned_in_a_dict_literal_is_blamed_at_its_name_with_no_fix_it_cannot_make(tmp_path):
    path, found = checked(tmp_path, "net.py", edited(DICT_NETWORK, ("dW2 = z.T @ dy", "dW2 = z.T @ dy * 2")))
    (f,) = errors(found)
    line, returned = line_of(path, "dW2 = z.T @ dy * 2"), line_of(path, 'return {"W1": dW1')
    assert (f.param, f.line, f.highlight, f.pattern, f.fix) == ("W2", line, (line, returned), "scaled", None)


# --- a saturated network and a step the replay judged right (`_yield_to_saturation`, `_yield_to_training`) ---


def test_a_saturated_networks_mismatches_become_one_info_and_its_training_step_is_not_judged(tmp_path, program_runs):
    path, found = checked(tmp_path, "train.py", SATURATED)
    (note,) = mismatches(found)
    assert (note.severity, note.pattern, note.fix, note.layer) == ("info", "saturated-loss", None, "Classifier")
    assert note.message == (
        "the gradients of `Classifier`'s `W1`, `W2`, `b1`, `b2` disagree with its loss only through samples whose right class "
        "it gives a probability near 0: a loss with a small constant inside its log (`log(y + 1e-7)`) stops following its "
        "gradient there; with the classes it predicts as targets every gradient agrees, so the gradient code is right; the "
        "network starts saturated (its softmax nearly one-hot at the first step): start from smaller weights"
    )
    assert errors(found) == []


def test_the_same_network_at_a_small_scale_has_nothing_to_say(tmp_path, program_runs):
    _, found = checked(tmp_path, "train.py", SATURATED.replace("tqdm([2.0])", "tqdm([0.1])"))
    assert mismatches(found) == [] and errors(found) == []


def test_a_wrong_gradient_of_a_saturated_network_is_still_an_error(tmp_path, program_runs):
    text = edited(SATURATED, ('dy @ self.params["W2"].T * h * (1 - h)', 'dy @ self.params["W2"].T * h'))
    path, found = checked(tmp_path, "train.py", text)
    wrong = errors(found)
    assert wrong and {f.line for f in wrong} & {line_of(path, "dh = dy @"), line_of(path, '"W1": x.T @ dh')}
    assert all(f.pattern != "saturated-loss" for f in mismatches(found))


def test_a_model_fed_the_logits_gradient_is_right_as_its_training_step_runs_it(tmp_path, program_runs):
    path, found = checked(tmp_path, "classifier.py", MODEL)
    (note,) = mismatches(found)
    w1, w2 = line_of(path, "self.dW1 = "), line_of(path, "self.dW2 = ")
    assert (note.severity, note.pattern, note.fix, note.layer) == ("info", "right-in-training", None, "SoftmaxClassifier")
    assert note.message == (
        "the gradients of `SoftmaxClassifier`'s `W1`, `W2` are not the derivative of `SoftmaxClassifier.forward`'s output as a "
        "layer's would be, yet your training step's updates of `clf.W1`, `clf.W2` follow the gradient of your loss: your loop "
        "hands backward another gradient than that of forward's output (the logits' gradient ŷ − y, as a softmax or sigmoid "
        "with its cross-entropy gives it), which is right as written"
    )
    assert (note.line, note.highlight) == (w1, (w2, w1))


def test_a_wrong_backward_of_such_a_model_is_still_an_error(tmp_path, program_runs):
    text = edited(MODEL, ("        dh = dz @ self.W2.T * (self.h > 0)\n", "        dh = dz @ self.W2.T\n"))
    _, found = checked(tmp_path, "classifier.py", text)
    assert {f.param for f in errors(found) if f.name == RULE} == {"W1"}
    assert [f.pattern for f in mismatches(found) if f.severity == "info"] == ["right-in-training"]


# --- a network trained by finite differences that move copies; a loss checked with a penalty ---


def test_finite_differences_that_move_copies_are_told_so_not_to_fix_a_backward(tmp_path):
    """The book's `lambda w: self.loss(x, t)` ignores its argument, and the helper steps `x + step`,
    a copy: the loss never moves, so every gradient is all zeros. No backward to fix."""
    functions = FD_FUNCTIONS.split("    def numerical_gradient(f, x):")[0] + COPYING.split("import numpy as np\n", 1)[1]
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "common" / "functions.py").write_text(textwrap.dedent(functions), encoding="utf-8")
    network = edited(FD_NETWORK, ("numerical_gradient(loss_w", "numerical_gradient_rows(loss_w"),
                     ("cross_entropy_error, numerical_gradient", "cross_entropy_error, numerical_gradient_rows"))
    path, found = checked(tmp_path, "two_layer_net.py", network)
    wrong = errors(found)
    assert sorted(f.param for f in wrong) == ["W1", "W2", "b1", "b2"]
    line = line_of(path, "return {k: numerical_gradient_rows")
    for f in wrong:
        assert (f.layer, f.line, f.pattern, f.fix) == ("TwoLayerNet", line, "not-computed", None)
        assert f.message == (
            f"the gradient `TwoLayerNet.numerical_gradient` gives `{f.param}` is all zeros although the loss depends on it: "
            "the loss never changed while the finite differences moved the weights, so they moved something the loss does not "
            "read: move the array itself in place (`x[i] = tmp + h`, then put `tmp` back), not a copy (`f(x + h)`), when the "
            "loss ignores its argument (`lambda W: self.loss(x, t)`)"
        )


def test_a_forgotten_penalty_gradient_is_told_the_reg_it_was_checked_with(tmp_path):
    path, found = checked(tmp_path, "neural_net.py", edited(CS231N_NET, ("        grads['W2'] += 2 * reg * W2\n", "        grads['W2'] += 0\n")))
    (f,) = errors(found)
    assert (f.param, f.line) == ("W2", line_of(path, "grads['W2'] += 0"))
    assert f.message.endswith(
        "; `TwoLayerNet.loss` was checked with `reg=0.1`, so its regularisation term's gradient is part of it "
        "(`dW += 2 * reg * W` for a loss term `reg * np.sum(W * W)`)"
    )
    assert f.message.count("was checked with") == 1


def test_one_right_parameter_of_such_a_model_is_told_in_the_singular_beside_its_wrong_one(tmp_path, program_runs):
    text = edited(MODEL, ("        self.dW1 = self.x.T @ dh\n", "        self.dW1 = self.x.T @ dh * 3\n"))
    path, found = checked(tmp_path, "classifier.py", text)
    (note,) = [f for f in mismatches(found) if f.severity == "info"]
    line = line_of(path, "self.dW2 = ")
    assert (note.param, note.line, note.highlight, note.pattern) == ("W2", line, (line,), "right-in-training")
    assert note.message == (
        "the gradient of `SoftmaxClassifier`'s `W2` is not the derivative of `SoftmaxClassifier.forward`'s output as a layer's "
        "would be, yet your training step's update of `clf.W2` follows the gradient of your loss: your loop hands backward "
        "another gradient than that of forward's output (the logits' gradient ŷ − y, as a softmax or sigmoid with its "
        "cross-entropy gives it), which is right as written"
    )
    assert [f.param for f in errors(found) if f.name == RULE] == ["W1"]


def test_gradients_the_training_step_finds_scaled_are_not_taken_as_right(tmp_path, program_runs):
    """A summed gradient against a mean loss: the step's scale absorbs the factor, which is no
    evidence that the network's gradients are right (the sample's own file, copied)."""
    sample = Path(__file__).resolve().parent.parent / "samples" / "loss_not_divided_by_batch.py"
    _, found = checked(tmp_path, "loss_not_divided_by_batch.py", sample.read_text(encoding="utf-8"))
    wrong = {f.param: f for f in errors(found) if f.name == RULE and f.layer == "TwoLayerNet"}
    assert {"W2", "b2"} <= set(wrong) and "16 × too large" in wrong["W2"].message
    assert [f for f in found if f.pattern == "right-in-training"] == []


# --- which backward reads an upstream gradient (`_takes_upstream`) ---

SQUASH = '''\
import numpy as np


class Squash:
    def __init__(self, n_in, n_out):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out)) * 0.5
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        self.out = 1 / (1 + np.exp(-(x @ self.W + self.b)))
        return self.out

    def backward(self, UP):
        d = self.out * (1 + self.out)
        self.dW = self.x.T @ (UP * d)
        self.db = (UP * d).sum(axis=0)
        dx = (UP * d) @ self.W.T
        return dx
'''


@pytest.mark.parametrize("upstream", ["dout", "DOUT", "dnext", "grad_h", "delta"])
def test_a_statement_that_does_not_read_the_upstream_gradient_is_no_shared_root(tmp_path, upstream):
    """`d = self.out * (1 + self.out)` is shared by every gradient but does not read the upstream
    gradient (named as backwards name it, in any case): each gradient keeps its own line."""
    path, found = checked(tmp_path, "squash.py", SQUASH.replace("UP", upstream))
    wrong = errors(found)
    assert sorted(f.param for f in wrong) == ["W", "b", "x"] and all(f.pattern != "shared-upstream" for f in wrong)
    assert {f.line for f in wrong} == {line_of(path, "self.dW = "), line_of(path, "self.db = "), line_of(path, "dx = (")}


def test_a_backward_whose_first_argument_is_no_upstream_gradient_shares_whatever_it_reads(tmp_path):
    """`backward(self, inputs)` is read as a whole network's backward, which has no upstream
    gradient: the shared statement is the root whatever it reads."""
    path, found = checked(tmp_path, "squash.py", SQUASH.replace("UP", "inputs"))
    (root,) = [f for f in errors(found) if not f.caused_by]
    assert (root.pattern, root.line) == ("shared-upstream", line_of(path, "d = self.out * (1 + self.out)"))


@pytest.mark.parametrize(
    "old, new",
    [
        ("        e = np.exp(scores - scores.max(axis=1, keepdims=True))\n        self.out = e / e.sum(axis=1, keepdims=True)\n",
         "        self.out = 1 / (1 + np.exp(-scores))\n"),
        ("        return grad\n", "        scale = 1\n        return grad\n"),
    ],
    ids=["exponential-without-a-sum", "a-statement-before-the-return"],
)  # fmt: skip
def test_only_a_normalised_exponential_whose_backward_is_one_return_passes_its_gradient_on_rightly(tmp_path, old, new):
    _, found = checked(tmp_path, "layers.py", edited(PASS_THROUGH, (old, new)))
    assert [f.layer for f in errors(found)] == ["Softmax"] and all(f.pattern != "softmax-pass-through" for f in found)


def test_a_saturated_network_trained_on_labels_is_asked_again_with_the_labels_it_predicts(tmp_path, program_runs):
    text = edited(
        SATURATED,
        ("t_train = np.eye(10)[rng.integers(0, 10, 200)]", "t_train = rng.integers(0, 10, 200)"),
        ("return -np.sum(t * np.log(y + 1e-7)) / len(x)", "return -np.sum(np.log(y[np.arange(len(x)), t] + 1e-7)) / len(x)"),
        ("dy = (y - t) / len(x)", "dy = (y - np.eye(y.shape[1])[t]) / len(x)"),
    )
    _, found = checked(tmp_path, "train.py", text)
    (note,) = mismatches(found)
    assert (note.severity, note.pattern) == ("info", "saturated-loss") and errors(found) == []


def test_a_saturated_layered_network_takes_its_loss_layers_mismatch_into_its_info(tmp_path):
    """Its loss layer, checked on the scores the network feeds it, disagrees through the same
    saturated samples: its `x` joins the network's parameters in the one info."""
    relu = ("        return dout\n\n\nclass SoftmaxWithLoss", "        return np.where(self.mask, 0, dout)\n\n\nclass SoftmaxWithLoss")
    _, found = checked(tmp_path, "net.py", edited(ROOTS, ("NAME", "Net"), relu, ("0.5 * rng", "20 * rng"), ("0.5 * rng", "20 * rng")))
    (note,) = mismatches(found)
    assert (note.severity, note.pattern, note.layer) == ("info", "saturated-loss", "Net")
    assert note.message.startswith("the gradients of `Net`'s `W1`, `W2`, `b1`, `b2`, `x` disagree with its loss only through samples")
    assert errors(found) == []


def test_a_gradient_off_by_a_factor_beside_a_log_likelihood_loss_stays_the_gradients(tmp_path):
    """Loss and gradient both of the log-likelihood, the gradient twice too large: the relative error
    (1/3) is far from opposite and the gradient is not flipped, so the gradient is blamed."""
    text = edited(
        SOFTMAX_LOSS,
        ("loss = -np.sum(", "loss = np.sum("),
        ("dscores = probs.copy()\n    dscores[np.arange(num_train), y] -= 1", "dscores = -probs.copy()\n    dscores[np.arange(num_train), y] += 1"),
        ("dW = X.T.dot(dscores) / num_train", "dW = 2 * X.T.dot(dscores) / num_train"),
    )
    path, found = checked(tmp_path, "softmax.py", text)
    (f,) = errors(found)
    assert f.measured < 1.5 and f.pattern != "loss-sign-flipped" and f.line == line_of(path, "dW = 2 * X.T.dot(dscores)")


def test_the_negated_pass_back_relinks_only_its_own_symptoms(tmp_path):
    """Run on the engine's findings themselves (before the ranking links anything): the flipped
    `b2` and a finding that named the moved root become the root's symptoms; another layer's
    finding, with no cause, stays as it was."""
    from backprop_doctor.checks import gradient_mismatch
    from backprop_doctor.context import CheckContext
    from backprop_doctor.loading.source import read_source

    path, found = checked(tmp_path, "deep.py", edited(DEEP, ("LAYERS", "[4, 6, 5, 1]"), ("dA_prev = W.T.dot(dZ)", "dA_prev = -W.T.dot(dZ)")))
    root, symptom = errors(found)
    call = symptom.line  # both flipped gradients are found where L_model_backward stores backward_step's results
    engine_root = root.replace(param="W2", line=call, highlight=(call,), pattern="sign-flipped", message="W2 is negated", caused_by=None)
    engine_b2 = symptom.replace(caused_by=None)
    follower = Finding("float32-precision", "BPD104", "warning", "rounding", layer="other", caused_by=engine_root.key())
    other = Finding("gradient-mismatch", "BPD101", "error", "elsewhere", layer="Other", param="W", file=str(path), line=1)
    source, _ = read_source(path)
    context = CheckContext(options=Options(training=False), source=source, findings=[engine_root, engine_b2, follower, other])
    context.measurements = [m for m in check_file(path, Options(training=False)).measurements]
    assert list(gradient_mismatch.run(context)) == []
    moved, b2, followed, untouched = context.findings
    assert (moved.pattern, moved.param, moved.caused_by, moved.fix) == ("passed-back-negated", "dA_prev", None, None)
    assert b2.caused_by == followed.caused_by == moved.key()
    assert untouched == other


def test_a_class_layers_shared_statement_counts_and_names_each_gradient_once(tmp_path):
    """A class layer is checked on a batch and on one sample, so each wrong gradient is found
    twice: the root names three gradients, not six (`W`, `b`, `x`, `W`, `b`, `x`)."""
    text = SQUASH.replace("UP", "dout").replace(
        "        d = self.out * (1 + self.out)\n        self.dW = self.x.T @ (dout * d)\n        self.db = (dout * d).sum(axis=0)\n"
        "        dx = (dout * d) @ self.W.T\n",
        "        da = dout * self.out * (1 + self.out)\n        self.dW = self.x.T @ da\n        self.db = da.sum(axis=0)\n"
        "        dx = da @ self.W.T\n",
    )
    path, found = checked(tmp_path, "squash.py", text)
    (root,) = [f for f in errors(found) if not f.caused_by]
    line = line_of(path, "da = dout * self.out")
    assert (root.pattern, root.line) == ("shared-upstream", line)
    assert root.message.startswith(f"3 gradients of `Squash` are wrong (`W`, `b`, `x`), and each is computed from `da = dout * self.out * (1 + self.out)` (line {line})")


LEFT_OUT = ("        a1 = np.dot(x, W1) + b1\n        z1 = sigmoid(a1)\n        a2", "        a1 = np.dot(x, W1)\n        z1 = sigmoid(a1)\n        a2")


@pytest.mark.parametrize(
    "written",
    ["        a1 = \\\n            np.dot(x, W1)\n", "        a1 = np.dot(\n            x, W1)\n"],
    ids=["backslash", "open-parenthesis"],
)
def test_a_statement_continued_on_the_next_line_gets_no_fix_but_its_line_and_both_highlighted(tmp_path, written):
    text = edited(TWO_LAYER, (LEFT_OUT[0], written + "        z1 = sigmoid(a1)\n        a2"))
    path, found = checked(tmp_path, "two_layer_net.py", text)
    (f,) = errors(found)
    line, gradient = line_of(path, "        a1 = "), line_of(path, "grads['b1'] = ")
    assert (f.pattern, f.line, f.fix, f.highlight) == ("term-left-out", line, None, (line, gradient))


def test_a_term_left_out_is_found_after_another_wrong_gradient(tmp_path):
    text = edited(TWO_LAYER, LEFT_OUT, ("grads = {'W2': np.dot(z1.T, dy)", "grads = {'W2': 2 * np.dot(z1.T, dy)"))
    path, found = checked(tmp_path, "two_layer_net.py", text)
    w2, b1 = errors(found)
    assert (w2.param, w2.pattern) == ("W2", "scaled")
    assert (b1.param, b1.pattern, b1.fix) == ("b1", "term-left-out", "a1 = np.dot(x, W1) + b1")


def test_a_private_activation_method_is_told_the_derivative_of_what_it_is_named_after(tmp_path):
    text = edited(METHODS.replace("sigmoid", "_sigmoid"), ("        return dA * s * (1 - s)\n", "        return dA * (1 - s)\n"))
    _, found = checked(tmp_path, "deep.py", text)
    (f,) = errors(found)
    assert f.layer.startswith("_sigmoid") and "the derivative of sigmoid is `dA * s * (1 - s)`, with `s = sigmoid(Z)`" in f.message


NO_FORWARD = '''\
import numpy as np

rng = np.random.default_rng(3)
X = rng.normal(size=(40, 5))
T = np.eye(3)[rng.integers(0, 3, size=40)]


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        self.params = {"W1": rng.normal(size=(n_in, n_hidden)) * 0.3, "W2": rng.normal(size=(n_hidden, n_out)) * 0.3}

    def predict(self, x):
        h = np.maximum(0, x @ self.params["W1"])
        z = h @ self.params["W2"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        return -np.sum(t * np.log(self.predict(x) + 1e-12))

    def gradient(self, x, t):
        h = np.maximum(0, x @ self.params["W1"])
        z = h @ self.params["W2"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        dz = (e / e.sum(axis=1, keepdims=True) - t) / len(x)
        dh = dz @ self.params["W2"].T * (h > 0)
        return {"W1": x.T @ dh, "W2": h.T @ dz}


net = Net(5, 12, 3)
for step in range(200):
    loss = net.loss(X, T) / len(X)
    grads = net.gradient(X, T)
    net.params["W1"] -= 0.5 * grads["W1"]
    net.params["W2"] -= 0.5 * grads["W2"]
'''


def test_a_network_whose_loss_method_differs_from_the_loss_its_program_trains_is_right_in_training(tmp_path, program_runs):
    """`loss()` sums over the batch, the loop divides it by the batch size, and the gradient is the
    loop's: the network check disagrees, the training step does not. A class with no `forward`
    is told where the two may part."""
    path, found = checked(tmp_path, "net.py", NO_FORWARD)
    (note,) = mismatches(found)
    line = line_of(path, 'return {"W1": x.T @ dh')
    assert (note.severity, note.pattern, note.layer, note.line, note.highlight) == ("info", "right-in-training", "Net", line, (line,))
    assert note.message == (
        "the gradients of `Net`'s `W1`, `W2` disagree with `Net`'s loss on the network backprop-doctor checked, yet at your "
        "program's own training step the updates of `net.params['W1']`, `net.params['W2']` follow the gradient of your loss, "
        "so they are judged right as your program runs them (the two differ where that network's outputs saturate, or where "
        "it was built otherwise)"
    )


def test_such_a_network_with_one_parameter_is_told_in_the_singular(tmp_path, program_runs):
    text = NO_FORWARD.replace('        return {"W1": x.T @ dh, "W2": h.T @ dz}\n', '        return {"W1": x.T @ dh * 3, "W2": h.T @ dz}\n')
    _, found = checked(tmp_path, "net.py", text)
    (note,) = [f for f in mismatches(found) if f.severity == "info"]
    assert note.message.startswith(
        "the gradient of `Net`'s `W2` disagrees with `Net`'s loss on the network backprop-doctor checked, yet at your "
        "program's own training step the update of `net.params['W2']` follows the gradient of your loss"
    )


def test_a_saturated_network_that_normalises_its_batch_is_asked_in_training_mode(tmp_path, program_runs):
    """Its predictions at inference (running statistics) are not those its gradient is taken at:
    the targets it is checked again with come from `predict(x, train_flg=True)`."""
    text = edited(
        SATURATED,
        ("    def predict(self, x):\n        h = 1 / (1 + np.exp(-(x @ self.params[\"W1\"] + self.params[\"b1\"])))\n",
         "    def predict(self, x, train_flg=False):\n        h = 1 / (1 + np.exp(-(x @ self.params[\"W1\"] + self.params[\"b1\"])))\n"
         "        h = (h - h.mean(axis=0)) if train_flg else (h - 0.5)\n"),
        ("    def loss(self, x, t):\n        y = self.predict(x)\n", "    def loss(self, x, t, train_flg=False):\n        y = self.predict(x, train_flg)\n"),
        ("        h = 1 / (1 + np.exp(-a))\n        y = softmax", "        h = 1 / (1 + np.exp(-a))\n        h = h - h.mean(axis=0)\n        y = softmax"),
        ("dh = dy @ self.params[\"W2\"].T * h * (1 - h)",
         "dc = dy @ self.params[\"W2\"].T\n        s = 1 / (1 + np.exp(-a))\n        dh = (dc - dc.mean(axis=0)) * s * (1 - s)"),
        ("net.loss(x_train[mask], t_train[mask])", "net.loss(x_train[mask], t_train[mask], train_flg=True)"),
        ("tqdm([2.0])", "tqdm([6.0])"),
    )  # fmt: skip
    _, found = checked(tmp_path, "train.py", text)
    assert errors(found) == []
    notes = mismatches(found)
    assert notes and all(f.pattern == "saturated-loss" for f in notes)


# --- the links the check itself makes, before the ranking adds its own ---


@pytest.mark.parametrize("name", ["Net", "ZNet"])
def test_the_check_links_a_networks_mismatches_to_its_wrong_layer(tmp_path, unranked, name):
    path, found = checked(tmp_path, "net.py", edited(ROOTS, ("NAME", name)))
    relu_return = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == "return dout")
    (layer,) = [f for f in found if f.name == RULE and f.layer == "Relu1"]
    network = [f for f in found if f.name == RULE and f is not layer]
    assert (layer.param, layer.line, layer.caused_by) == ("x", relu_return, None)
    assert network and all(f.layer == name and f.caused_by == f"BPD101:Relu1:x:{relu_return}" for f in network)
    assert all(f.caused_by is None for f in found if f.name != RULE)


def test_the_check_links_every_gradient_to_the_statement_they_share(tmp_path, unranked):
    path, found = checked(tmp_path, "rnn.py", edited(RNN, ("(1 - next_h ** 2)", "(1 - next_h)")))
    root, *symptoms = mismatches(found)
    line = line_of(path, "da = dnext_h * (1 - next_h)")
    assert (root.pattern, root.param, root.line, root.caused_by) == ("shared-upstream", None, line, None)
    assert sorted(f.param for f in symptoms) == ["Wx", "b", "prev_h", "x"]
    assert all(f.caused_by == f"BPD101:rnn_step::{line}" for f in symptoms)
