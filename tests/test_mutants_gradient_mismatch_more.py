"""gradient-mismatch (BPD101), eleventh mutation round: the rewrites the first in-process file
(`test_mutants_gradient_mismatch_check.py`) left open, checked in this process by `check_file`.

A statement shared by two gradients only, or calling the user's own function, is no root; a file's
later layers are rooted after an earlier one was passed over; gradients another finding already
explains stay its symptoms. A network's mismatches follow the wrong layer nearest its loss, by key
or by class name, and nothing outside the network follows it. A penalty's `grad` is named beside
its `__call__` only when nothing more precise was found, and after any layer's finding before it.
Every line comes from the file's text; links are read before the ranking (`unranked`).
"""

from __future__ import annotations

import textwrap

from inprocess import checked, edited, line_of, restored_interpreter, unranked  # noqa: F401 - fixtures used by name
from test_mutants_gradient_mismatch_check import SQUASH
from test_network_roots import NETWORK as ROOTS
from test_penalty_gradients import PENALTIES

from backprop_doctor.checks import gradient_mismatch
from backprop_doctor.context import CheckContext
from backprop_doctor.findings import REDERIVE, Finding
from backprop_doctor.loading.source import read_source
from backprop_doctor.options import Options

RULE = "gradient-mismatch"


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.name == RULE and f.severity == "error"]


# --- one statement every gradient comes from (`_shared_upstream`) ---

SQUASH_BACKWARD = (
    "        d = self.out * (1 + self.out)\n        self.dW = self.x.T @ (UP * d)\n        self.db = (UP * d).sum(axis=0)\n"
    "        dx = (UP * d) @ self.W.T\n"
)


def squash(body: str, name: str = "Squash") -> str:
    """The sigmoid-like layer of the first file with `body` as its backward's statements before `return dx`."""
    return SQUASH.replace(SQUASH_BACKWARD, body).replace("UP", "dout").replace("class Squash:", f"class {name}:")


SHARED = "        da = dout * self.out * (1 + self.out)\n        self.dW = self.x.T @ da\n        self.db = da.sum(axis=0)\n        dx = da @ self.W.T\n"


def test_two_wrong_gradients_sharing_a_statement_keep_their_own_lines(tmp_path):
    """`dx` is computed right on its own: two gradients from `da` are too few to name it the root."""
    body = SHARED.replace("        dx = da @ self.W.T\n", "        dx = (dout * self.out * (1 - self.out)) @ self.W.T\n")
    path, found = checked(tmp_path, "squash.py", squash(body))
    wrong = errors(found)
    assert {f.param for f in wrong} == {"W", "b"} and all(f.pattern != "shared-upstream" for f in wrong)
    assert {f.line for f in wrong} == {line_of(path, "self.dW = "), line_of(path, "self.db = ")}


def test_a_shared_statement_calling_the_users_own_function_is_no_root(tmp_path):
    """`slope(self.out)` is the user's function, whose own mistake the gradients show: each keeps its line."""
    text = squash(SHARED.replace("dout * self.out * (1 + self.out)", "dout * slope(self.out)")) + "\n\ndef slope(s):\n    return s * (1 + s)\n"
    path, found = checked(tmp_path, "squash.py", text)
    wrong = errors(found)
    assert {f.param for f in wrong} == {"W", "b", "x"} and all(f.pattern != "shared-upstream" for f in wrong)
    assert {f.line for f in wrong} == {line_of(path, "self.dW = "), line_of(path, "self.db = "), line_of(path, "dx = da @")}


def test_a_layer_after_layers_passed_over_is_still_rooted_at_its_shared_statement(tmp_path, unranked):
    """Three layers in file order: one wrong gradient (too few to share), three sharing a statement
    that reads no upstream gradient (no root), and three sharing `da`, the root."""
    one = squash(SQUASH_BACKWARD.replace("(1 + self.out)", "(1 - self.out)").replace("(UP * d)\n", "(UP * d) * 2\n", 1), "One")
    plain = squash(SQUASH_BACKWARD, "Plain").split("import numpy as np\n", 1)[1]
    rooted = squash(SHARED, "Rooted").split("import numpy as np\n", 1)[1]
    path, found = checked(tmp_path, "layers.py", one + plain + rooted)
    wrong = errors(found)
    assert {f.param for f in wrong if f.layer == "One"} == {"W"}
    assert all(f.pattern != "shared-upstream" for f in wrong if f.layer in ("One", "Plain"))
    line = line_of(path, "da = dout * self.out * (1 + self.out)", after=line_of(path, "class Rooted"))
    (root,) = [f for f in wrong if f.layer == "Rooted" and f.pattern == "shared-upstream"]
    assert (root.line, root.param, root.caused_by) == (line, None, None)


def test_a_factor_every_gradient_takes_from_a_shared_statement_stays_each_gradients_pattern(tmp_path, unranked):
    """`da = 2 * dout * ...` doubles every gradient of `Scaled`: "2 × the numerical gradient", said
    of each at its own line, says more than the shared line; `Rooted` after it is still rooted."""
    scaled = squash(SHARED.replace("da = dout * self.out * (1 + self.out)", "da = 2 * dout * self.out * (1 - self.out)"), "Scaled")
    rooted = squash(SHARED, "Rooted").split("import numpy as np\n", 1)[1]
    path, found = checked(tmp_path, "layers.py", scaled + rooted)
    wrong = errors(found)
    assert {f.pattern for f in wrong if f.layer == "Scaled"} == {"scaled"}
    assert {f.line for f in wrong if f.layer == "Scaled"} == {line_of(path, "self.dW = "), line_of(path, "self.db = "), line_of(path, "dx = da @")}
    line = line_of(path, "da = dout * self.out * (1 + self.out)")
    assert [f.line for f in wrong if f.layer == "Rooted" and f.pattern == "shared-upstream"] == [line]


def _engine_findings(path, layer: str, lines: dict[str, int], caused_by: str | None = None) -> list[Finding]:
    """Findings as the engine hands them to the check: one per gradient, at its own line, no pattern."""
    return [
        Finding(RULE, "BPD101", "error", f"the gradient of `{layer}.{p}` is wrong" + REDERIVE, layer=layer, param=p,
                file=str(path), line=line, highlight=(line,), caused_by=caused_by)
        for p, line in lines.items()
    ]  # fmt: skip


def _after_the_check(path, findings: list[Finding]) -> list[tuple]:
    """(param, line, pattern, link) of each finding once the check has run on them (a fix it adds aside)."""
    source, _ = read_source(path)
    context = CheckContext(options=Options(training=False), source=source, findings=list(findings))
    assert list(gradient_mismatch.run(context)) == []
    return [(f.param, f.line, f.pattern, f.caused_by) for f in context.findings]


def _as_given(findings: list[Finding]) -> list[tuple]:
    return [(f.param, f.line, f.pattern, f.caused_by) for f in findings]


def test_gradients_another_finding_already_explains_stay_its_symptoms(tmp_path):
    """Every gradient of the layer linked to another root (a wrong forward): no shared statement is
    made their root, and each keeps its line and its link; unlinked, the shared statement is the root."""
    path, _ = checked(tmp_path, "squash.py", squash(SHARED))
    lines = {"W": line_of(path, "self.dW = "), "b": line_of(path, "self.db = "), "x": line_of(path, "dx = da @")}
    linked = _engine_findings(path, "Squash", lines, caused_by="BPD111:Squash::3")
    assert _after_the_check(path, linked) == _as_given(linked)
    moved = _after_the_check(path, _engine_findings(path, "Squash", lines))
    assert [pattern for _, _, pattern, _ in moved] == ["shared-upstream", None, None]


def test_gradients_found_in_two_functions_or_outside_any_have_no_shared_statement(tmp_path):
    path, _ = checked(tmp_path, "squash.py", squash(SHARED))
    lines = {"W": line_of(path, "self.dW = "), "b": line_of(path, "self.db = "), "x": line_of(path, "self.x = x")}
    two = _engine_findings(path, "Squash", lines)
    assert _after_the_check(path, two) == _as_given(two)
    outside = _engine_findings(path, "Squash", {**lines, "x": line_of(path, "import numpy")})
    assert _after_the_check(path, outside) == _as_given(outside)


# --- a network's mismatches follow its wrong layer (`_networks_follow_layers`) ---

NET = textwrap.dedent(ROOTS.replace("NAME", "Net"))
RIGHT_RELU = ("        return dout\n", "        return np.where(self.mask, 0, dout)\n")


def test_a_wrong_loss_layer_named_by_its_class_is_the_root_nearest_the_loss(tmp_path, unranked):
    """`self.last` holds the loss layer, whose findings name its class: it is nearer the loss than
    the wrong `Relu1`, which becomes its symptom with the network's mismatches."""
    text = edited(NET, ("return (self.y - self.t) / len(self.t)", "return self.y - self.t"))
    path, found = checked(tmp_path, "net.py", text)
    wrong = errors(found)
    (root,) = [f for f in wrong if f.layer == "SoftmaxWithLoss"]
    assert (root.caused_by, root.line) == (None, line_of(path, "return self.y - self.t"))
    assert {f.layer for f in wrong if f is not root} == {"Net", "Relu1"}
    assert all(f.caused_by == root.key() for f in wrong if f is not root)


def test_a_layer_already_a_symptom_is_not_taken_for_the_root(tmp_path, unranked):
    """Both affine layers share one wrong `dx` line: `Affine2`'s finding is `Affine1`'s symptom, so
    `Affine1` stays the root of every mismatch although `Affine2` is nearer the loss."""
    text = edited(NET, RIGHT_RELU, ("return dout @ self.W.T", "return 2 * dout @ self.W.T"))
    _, found = checked(tmp_path, "net.py", text)
    wrong = errors(found)
    (root,) = [f for f in wrong if not f.caused_by]
    assert root.layer == "Affine1"
    assert {f.layer for f in wrong if f is not root} == {"Affine2", "Net"}
    assert all(f.caused_by == root.key() for f in wrong if f is not root)


SCALE = """

class Scale:
    def __init__(self):
        self.s = np.ones(3)

    def forward(self, x):
        self.x = x
        return x * self.s

    def backward(self, dout):
        self.ds = (dout * self.x).sum(axis=0) * 3
        return dout * self.s
"""


def test_a_wrong_layer_outside_the_network_is_not_linked_to_its_root(tmp_path, unranked):
    path, found = checked(tmp_path, "net.py", NET + SCALE)
    wrong = errors(found)
    relu = next(f for f in wrong if f.layer == "Relu1")
    scale = [f for f in wrong if f.layer == "Scale"]
    assert scale and all(f.caused_by is None for f in scale)
    assert all(f.caused_by == relu.key() for f in wrong if f.layer == "Net")


def test_a_second_networks_mismatches_follow_its_wrong_layer_after_a_right_first_network(tmp_path, unranked):
    """`Net` is right; `ZNet` holds a `ZRelu` (found by its class name, which sorts after the
    network's) that passes `dout` back unmasked: `ZNet`'s mismatches become its symptoms."""
    right = edited(NET, RIGHT_RELU)
    second = right.split("class Net:", 1)[1].replace("Relu1=Relu()", "Act=ZRelu()")
    text = right + "\n\nclass ZRelu(Relu):\n    def backward(self, dout):\n        return dout\n\n\nclass ZNet:" + second
    path, found = checked(tmp_path, "net.py", text)
    wrong = errors(found)
    (root,) = [f for f in wrong if not f.caused_by]
    assert (root.layer, root.param, root.line) == ("ZRelu", "x", line_of(path, "return dout", after=line_of(path, "class ZRelu")))
    assert {f.layer for f in wrong if f is not root} == {"ZNet"} and all(f.caused_by == root.key() for f in wrong if f is not root)


# --- penalties whose value and gradient disagree (`_penalties_disagree`) ---

LASSO_FLIPPED = ("return self.alpha * np.sign(w)", "return -self.alpha * np.sign(w)")


def test_a_penalty_gradient_with_a_named_pattern_keeps_it(tmp_path):
    """A negated `grad` is told that it is negated, not that it and `__call__` disagree."""
    _, found = checked(tmp_path, "penalties.py", edited(PENALTIES, LASSO_FLIPPED))
    (f,) = errors(found)
    assert (f.layer, f.pattern) == ("Lasso", "sign-flipped") and "is not the derivative of" not in f.message


def test_a_penalty_after_one_with_a_named_pattern_is_named_at_both_its_methods(tmp_path, unranked):
    text = edited(PENALTIES, LASSO_FLIPPED, ("return self.alpha * 0.5 * w.dot(w)", "return self.alpha * np.abs(w).sum()"))
    path, found = checked(tmp_path, "penalties.py", text)
    lasso, ridge = errors(found)
    call = line_of(path, "def __call__", after=line_of(path, "class Ridge"))
    assert (lasso.layer, lasso.pattern, ridge.layer) == ("Lasso", "sign-flipped", "Ridge")
    assert ridge.message.startswith(f"`Ridge.grad` is not the derivative of `Ridge.__call__` (line {call}), relative error")


def test_a_penalty_after_a_wrong_layer_is_named_at_both_its_methods(tmp_path, unranked):
    layer = SCALE.replace("* 3\n", "** 2\n").lstrip("\n") + "\n\n"
    text = edited(PENALTIES, ("class Lasso:", layer + "class Lasso:"), ("return self.alpha * np.abs(w).sum()", "return self.alpha * np.linalg.norm(w)"))
    path, found = checked(tmp_path, "penalties.py", text)
    wrong = errors(found)
    assert [f.layer for f in wrong][0] == "Scale" and all(REDERIVE in f.message for f in wrong if f.layer == "Scale")
    (lasso,) = [f for f in wrong if f.layer == "Lasso"]
    assert lasso.message.startswith(f"`Lasso.grad` is not the derivative of `Lasso.__call__` (line {line_of(path, 'def __call__')})")


# --- all-zero gradients (`_finite_differences_that_never_move`) ---


def test_an_all_zero_gradient_of_a_backward_is_not_told_about_finite_differences(tmp_path):
    """Only a network trained by `numerical_gradient` alone has finite differences to blame."""
    text = SCALE.replace("self.ds = (dout * self.x).sum(axis=0) * 3", "self.ds = np.zeros_like(self.s)")
    path, found = checked(tmp_path, "scale.py", "import numpy as np\n" + text)
    (f,) = {f.key(): f for f in errors(found)}.values()
    assert (f.layer, f.param, f.pattern, f.line) == ("Scale", "s", "not-computed", line_of(path, "self.ds = np.zeros_like"))
    assert "numerical_gradient" not in f.message and "finite differences" not in f.message


# --- the fix completed after the rewrites (`run`) ---


def test_a_layer_after_a_softmax_passing_its_gradient_through_still_gets_its_fix(tmp_path, unranked):
    from test_softmax_pass_through import LAYERS as PASS_THROUGH

    path, found = checked(tmp_path, "layers.py", edited(PASS_THROUGH, ("self.dW = self.x.T @ grad", "self.dW = 2 * self.x.T @ grad")))
    layers = [f.layer for f in found if f.name == RULE]
    assert layers.index("Softmax") < layers.index("Dense")
    dense = errors(found)  # checked on a batch and on one sample: found twice
    line = line_of(path, "self.dW = 2 * self.x.T @ grad")
    assert [(f.param, f.pattern, f.line, f.fix) for f in dense] == [("W", "scaled", line, "self.dW = np.dot(self.x.T, grad)")] * len(dense)


def test_a_loss_returning_a_log_likelihood_highlights_its_return_and_the_gradient(tmp_path):
    """The finding moves to the loss's return and keeps the gradient's line (the engine's) highlighted."""
    from test_log_likelihood_loss import LOSS

    path, found = checked(tmp_path, "losses.py", edited(LOSS, ("return -(y * np.log(p) + (1 - y) * np.log(1 - p))", "return y * np.log(p) + (1 - y) * np.log(1 - p)")))
    (f,) = errors(found)
    loss, gradient = line_of(path, "return y * np.log(p)"), line_of(path, "return p - y")
    assert (f.pattern, f.line, f.highlight) == ("loss-sign-flipped", loss, (loss, gradient))
