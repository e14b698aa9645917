"""update-climbs (BPD206): a layer's own update, or an optimizer class, that moves weights up the gradient.

Real files checked in this process by `check_file` (the CLI tests of `test_update_climbs.py` and
`test_optimizer_classes.py` run in a child process, where a mutation run cannot see them): the
exact words, line, evidence and measured cosine of each finding, the cosine threshold (0.5) from
just below and just above, which update method is called, and which statement of an optimizer's
update is blamed (the first adding a term scaled by the learning rate, else the first adding its
gradients). Every line is found in the file's text.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
import inprocess
from inprocess import edited, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_optimizer_classes import OPTIMIZERS
from test_update_climbs import DENSE

from backprop_doctor.findings import Finding

RULE = "update-climbs"
DESCENT = "to its gradient (descent moves it near −1)"


def checked(tmp_path: Path, text: str, name: str = "dense.py") -> tuple[Path, list[Finding]]:
    return inprocess.checked(tmp_path, name, text)


def climbs(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.name == RULE]


# --- a layer's own update ---


def test_a_correct_momentum_update_is_clean(tmp_path):
    assert climbs(checked(tmp_path, DENSE)[1]) == []


def test_an_update_adding_its_step_to_one_weight_is_named_at_that_statement(tmp_path):
    path, found = checked(tmp_path, edited(DENSE, ("self.W -= lr * self.mW", "self.W += lr * self.mW")))
    (f,) = climbs(found)
    line = line_of(path, "self.W += lr * self.mW")
    assert (f.severity, f.code, f.layer, f.param, f.file, f.line, f.pattern, f.threshold) == (
        "error", "BPD206", "Dense", None, str(path), line, "update-ascends", 0.0
    )
    assert f.measured == pytest.approx(1.0)
    assert f.message == (
        "`Dense.update` moves `W` along its gradient, up the loss: every step makes the loss larger; subtract the step (`-=`) "
        "where it is added"
    )
    assert f.evidence == (("W", f"`update()` after backward moved it with cosine +1.000 {DESCENT}"),)


def test_an_update_adding_both_steps_names_both_at_the_first(tmp_path):
    text = edited(DENSE, ("self.W -= lr * self.mW", "self.W += lr * self.mW"), ("self.b -= lr * self.db", "self.b += lr * self.db"))
    path, found = checked(tmp_path, text)
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.W += lr * self.mW")
    assert f.message.startswith("`Dense.update` moves `W`, `b` along their gradients, up the loss")
    assert [name for name, _ in f.evidence] == ["W", "b"]


def test_only_the_bias_climbing_is_named_at_its_own_statement(tmp_path):
    path, found = checked(tmp_path, edited(DENSE, ("self.b -= lr * self.db", "self.b += lr * self.db")))
    (f,) = climbs(found)
    assert (f.line, f.message.split(" along")[0]) == (line_of(path, "self.b += lr * self.db"), "`Dense.update` moves `b`")


# the update moves W by c · dW plus a vector orthogonal to dW of the same norm: its cosine with the
# gradient is c / √(c² + 1), 0.4953 for c = 0.57 and 0.5050 for c = 0.585, either side of 0.5
SLANTED = """\
    def update(self, lr=0.01, beta=0.9):
        g = self.dW
        r = np.ones_like(g) - (np.sum(g) / np.sum(g * g)) * g
        r = r * (np.linalg.norm(g) / np.linalg.norm(r))
        self.W += lr * (C * g + r)
        self.b -= lr * self.db
"""


def with_update(methods: str) -> str:
    """The Dense layer with its `update` replaced by `methods` (class-body indentation)."""
    text = textwrap.dedent(DENSE)
    return text[: text.index("    def update")] + methods


@pytest.mark.parametrize("c, found", [(0.57, False), (0.585, True)])
def test_an_update_climbs_only_when_its_cosine_with_the_gradient_is_above_one_half(tmp_path, c, found):
    path, findings = checked(tmp_path, with_update(SLANTED.replace("C", str(c))))
    cosine = c / math.sqrt(c * c + 1)
    if not found:
        assert cosine < 0.5 and climbs(findings) == []
        return
    (f,) = climbs(findings)
    assert cosine > 0.5 and f.measured == pytest.approx(cosine, abs=1e-9)
    assert (f.line, f.evidence) == (line_of(path, "self.W += lr * (C * g + r)".replace("C", str(c))),
                                    (("W", f"`update()` after backward moved it with cosine {cosine:+.3f} {DESCENT}"),))


def test_a_step_that_binds_a_new_array_is_judged_and_blamed_at_the_def(tmp_path):
    """`self.W = self.W + lr * self.mW` leaves the array the check held as it was: the weight is read
    again by name after the update (it was read from that old array, and the climb went unseen)."""
    path, found = checked(tmp_path, edited(DENSE, ("self.W -= lr * self.mW", "self.W = self.W + lr * self.mW")))
    (f,) = climbs(found)
    assert f.line == line_of(path, "def update(self, lr=0.01, beta=0.9):")
    assert f.evidence == (("W", f"`update()` after backward moved it with cosine +1.000 {DESCENT}"),)
    descending = edited(DENSE, ("self.W -= lr * self.mW", "self.W = self.W - lr * self.mW"))
    assert climbs(checked(tmp_path, descending, "descending.py")[1]) == []


def test_a_step_into_a_weights_elements_is_blamed_at_its_statement(tmp_path):
    path, found = checked(tmp_path, edited(DENSE, ("self.W -= lr * self.mW", "self.W[:] += lr * self.mW")))
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.W[:] += lr * self.mW")


@pytest.mark.parametrize(
    "methods, called",
    [
        ("    def step(self):\n        self.W += 0.001 * self.dW\n", "step()"),
        ("    def update(self, optimizer, epoch):\n        raise RuntimeError('not this one')\n\n"
         "    def apply_diff(self, rate):\n        self.W += rate * self.dW\n", "apply_diff(0.001)"),
        ("    update = None\n\n    def update_params(self, learning_rate):\n        self.W += learning_rate * self.dW\n", "update_params(0.001)"),
    ],
    ids=["no-rate", "two-arguments-skipped", "not-callable-skipped"],
)  # fmt: skip
def test_the_first_update_method_taking_at_most_a_rate_is_called(tmp_path, methods, called):
    path, found = checked(tmp_path, with_update(methods))
    (f,) = climbs(found)
    method = called.split("(")[0]
    assert f.message.startswith(f"`Dense.{method}` moves `W` along its gradient")
    assert f.evidence == (("W", f"`{called}` after backward moved it with cosine +1.000 {DESCENT}"),)
    assert f.line == line_of(path, "self.W += ")


def test_an_update_that_needs_what_the_check_does_not_have_is_not_judged(tmp_path):
    assert climbs(checked(tmp_path, with_update("    def update(self, lr):\n        self.W += lr * self.optimizer.velocity\n"))[1]) == []


def test_a_layer_with_a_wrong_gradient_is_not_judged_by_its_update(tmp_path):
    text = edited(DENSE, ("self.dW = self.x.T @ dout", "self.dW = -(self.x.T @ dout)"), ("self.W -= lr * self.mW", "self.W += lr * self.mW"))
    _, found = checked(tmp_path, text)
    assert climbs(found) == [] and any(f.name == "gradient-mismatch" for f in found)


def test_a_program_training_the_layer_is_judged_by_its_replayed_step_not_here(tmp_path, program_runs):
    program = edited(DENSE, ("self.W -= lr * self.mW", "self.W += lr * self.mW")) + textwrap.dedent("""
        X = np.random.randn(20, 3)
        y = X @ np.ones((3, 1))
        layer = Dense(3, 1)
        for i in range(5):
            out = layer.forward(X)
            loss = np.mean((out - y) ** 2)
            layer.backward(2 * (out - y) / len(X))
            layer.update(0.1)
    """)
    _, found = checked(tmp_path, program, "train.py")
    assert climbs(found) == [] and any(f.name == "step-gradient-mismatch" for f in found)


# --- optimizer classes ---


def test_descending_optimizers_are_clean(tmp_path):
    assert climbs(checked(tmp_path, OPTIMIZERS, "optimizer.py")[1]) == []


@pytest.mark.parametrize(
    "layer, correct, wrong",
    [
        ("SGD", "params[key] -= self.lr * grads[key]", "params[key] += self.lr * grads[key]"),
        ("Momentum", "self.momentum * self.v[key] - self.lr", "self.momentum * self.v[key] + self.lr"),
        ("Adam", "params[key] -= lr_t", "params[key] += lr_t"),
    ],
)
def test_an_optimizer_moving_every_parameter_up_is_named_at_the_statement_adding_its_step(tmp_path, layer, correct, wrong):
    path, found = checked(tmp_path, edited(OPTIMIZERS, (correct, wrong)), "optimizer.py")
    (f,) = climbs(found)
    assert (f.layer, f.line, f.file, f.pattern, f.threshold) == (layer, line_of(path, wrong), str(path), "update-ascends", 0.0)
    assert f.message == (
        f"`{layer}.update(params, grads)` moves every parameter along its gradient on its first step, up the loss: training "
        "with it makes the loss larger from the start; the step must be subtracted where it is added"
    )
    assert [name for name, _ in f.evidence] == ["W1", "b1", "W2"]
    assert all(text.startswith("one `update` on fresh arrays moved it with cosine +") and text.endswith(DESCENT) for _, text in f.evidence)
    cosines = [float(text.split("cosine ")[1].split(" ")[0]) for _, text in f.evidence]
    assert 0.5 < f.measured <= 1.0 + 1e-12 and round(f.measured, 3) == max(cosines)


def test_an_optimizer_moving_some_parameters_up_names_them(tmp_path):
    wrong = "params[key] += (1 if key.startswith('W') else -1) * self.lr * grads[key]"
    path, found = checked(tmp_path, edited(OPTIMIZERS, ("params[key] -= self.lr * grads[key]", wrong)), "optimizer.py")
    (f,) = climbs(found)
    assert f.message.startswith("`SGD.update(params, grads)` moves `W1`, `W2` along its gradient on its first step")
    assert f.line == line_of(path, wrong) and [name for name, _ in f.evidence] == ["W1", "W2"]


ACCUMULATING = """\
import numpy as np


class Accumulating:
    def __init__(self, RATE=0.01):
        self.RATE, self.m = RATE, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.m[key] = self.m[key] + grads[key]
            params[key] += self.RATE * self.m[key]
"""


@pytest.mark.parametrize("rate", ["lr", "learning_rate", "eta", "alpha", "step_size", "rate", "Lr_t", "LEARNING_RATE2"])
def test_the_statement_adding_a_rate_scaled_term_is_blamed_before_one_adding_the_gradients(tmp_path, rate):
    path, found = checked(tmp_path, ACCUMULATING.replace("RATE", rate), "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, f"params[key] += self.{rate} * self.m[key]")


def test_a_rate_read_into_a_local_name_is_a_rate_too(tmp_path):
    text = ACCUMULATING.replace("RATE", "lr").replace("            params[key] += self.lr * self.m[key]\n", "            lr = self.lr\n            params[key] += lr * self.m[key]\n")
    path, found = checked(tmp_path, text, "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, "params[key] += lr * self.m[key]")


@pytest.mark.parametrize("rate", ["gain", "slr", "my_lr"])
def test_without_a_rate_the_first_statement_adding_the_gradients_is_blamed(tmp_path, rate):
    path, found = checked(tmp_path, ACCUMULATING.replace("RATE", rate), "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.m[key] = self.m[key] + grads[key]")


def test_a_gradient_added_on_the_left_of_a_sum_is_found_too(tmp_path):
    text = ACCUMULATING.replace("RATE", "gain").replace("self.m[key] = self.m[key] + grads[key]", "self.m[key] = grads[key] + self.m[key]")
    path, found = checked(tmp_path, text, "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.m[key] = grads[key] + self.m[key]")


def test_an_optimizer_adding_nothing_it_can_point_at_is_blamed_at_its_def(tmp_path):
    text = ACCUMULATING.replace("RATE", "gain").replace("self.m[key] = self.m[key] + grads[key]", "self.m[key] = self.m[key] - (-grads[key])").replace(
        "params[key] += self.gain * self.m[key]", "params[key] -= -self.gain * self.m[key]")
    path, found = checked(tmp_path, text, "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, "def update(self, params, grads):")


OTHERS = '''

class Act:
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1 - np.tanh(self.x) ** 2)


class Bad:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = 2 * self.x.T @ dout
        return dout @ self.W.T

    def update(self, lr=0.1):
        self.W += lr * self.dW
'''


def test_layers_without_an_update_or_with_a_wrong_gradient_before_it_do_not_stop_the_check(tmp_path):
    """`Act` has no update and `Bad` a gradient twice too large (its update is not judged against a
    gradient it does not have); `Dense` after them still climbs."""
    text = edited(DENSE, ("self.W -= lr * self.mW", "self.W += lr * self.mW"), ("import numpy as np\n", "import numpy as np\n" + OTHERS))
    path, found = checked(tmp_path, text)
    assert [f.layer for f in climbs(found)] == ["Dense"]
    assert any(f.name == "gradient-mismatch" and f.layer == "Bad" for f in found)


def test_two_instances_of_one_layer_class_the_program_built_are_judged_once(tmp_path, program_runs):
    driver = textwrap.dedent("""

        first, second = Dense(3, 4), Dense(4, 2)
        out = second.forward(first.forward(np.ones((6, 3))))
        first.backward(second.backward(np.ones_like(out)))
    """)
    _, found = checked(tmp_path, edited(DENSE, ("self.W -= lr * self.mW", "self.W += lr * self.mW")) + driver, "layers.py")
    assert [f.layer for f in climbs(found)] == ["Dense"]


def test_an_earlier_statement_adding_no_gradient_is_not_the_one_blamed(tmp_path):
    text = ACCUMULATING.replace("RATE", "gain").replace("        for key in params.keys():\n", "        self.t = getattr(self, 't', 0) + 1\n        for key in params.keys():\n")
    path, found = checked(tmp_path, text, "optimizer.py")
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.m[key] = self.m[key] + grads[key]")


def test_a_climbing_statement_inside_a_branch_is_blamed_at_its_line(tmp_path):
    methods = (
        "    def update(self, lr=0.01, beta=0.9):\n"
        "        if lr > 0:\n"
        "            self.W += lr * self.dW\n"
        "        self.b -= lr * self.db\n"
    )
    path, found = checked(tmp_path, with_update(methods))
    (f,) = climbs(found)
    assert f.line == line_of(path, "            self.W += lr * self.dW")


def test_a_step_written_into_the_whole_array_with_an_ellipsis_is_blamed_at_its_statement(tmp_path):
    path, found = checked(tmp_path, edited(DENSE, ("self.W -= lr * self.mW", "self.W[...] += lr * self.mW")))
    (f,) = climbs(found)
    assert f.line == line_of(path, "self.W[...] += lr * self.mW")
