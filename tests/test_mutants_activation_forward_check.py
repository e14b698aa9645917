"""activation-forward-wrong (BPD111): layers and functions named after an activation that compute
something else, checked in this process by `check_file` (the CLI tests of
`test_activation_forward_wrong.py` run in a child process, where a mutation run cannot see them).

The check feeds a 4 × 5 batch drawn from the seed plus 111 (moved 0.3 away from ReLU's kink); the
tests draw the same batch, compute what the user's forward gives from its own formula, and read the
message's numbers, the evidence's count and the lines from that. The tolerances (rtol 1e-6, atol
1e-9) are met from just inside and just outside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import inprocess
from inprocess import edited, line_of, program_runs, restored_interpreter, unranked  # noqa: F401 - fixtures used by name
from test_activation_forward_wrong import COURSE_HELPERS, LAYERS

from backprop_doctor.findings import Finding

RULE = "activation-forward-wrong"


def batch(seed: int = 0) -> np.ndarray:
    """The batch the check feeds: the seed plus 111, every value at least 0.1 from 0 after the shift."""
    x = np.random.default_rng(seed + 111).standard_normal((4, 5))
    x[np.abs(x) < 0.1] += 0.3
    return x


def checked(tmp_path: Path, text: str, name: str = "layers.py", seed: int = 0) -> tuple[Path, list[Finding]]:
    return inprocess.checked(tmp_path, name, text, seed=seed)


def wrong_forwards(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.name == RULE]


def message(what: str, formula: str, x: np.ndarray, out: np.ndarray, expected: np.ndarray) -> str:
    i = np.unravel_index(int(np.argmax(np.abs(out - expected))), x.shape)
    return (
        f"{what} does not compute {formula}: for x = {x[i]:.3g} it gives {out[i]:.3g}, where {formula} is {expected[i]:.3g}; "
        f"its backward is then the derivative of another function: make it compute {formula}"
    )


def evidence(out: np.ndarray, expected: np.ndarray) -> tuple[tuple[str, str], ...]:
    return (("forward", f"x (4, 5) of random values: {int(np.sum(~np.isclose(out, expected)))} of 20 outputs differ"),)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_correct_activation_layers_and_functions_are_clean(tmp_path):
    assert wrong_forwards(checked(tmp_path, LAYERS)[1]) == []
    assert wrong_forwards(checked(tmp_path, COURSE_HELPERS, "dnn_utils.py")[1]) == []


def test_a_relu_keeping_the_negatives_is_the_root_at_its_last_write_with_every_write_highlighted(tmp_path):
    path, found = checked(tmp_path, edited(LAYERS, ("out[self.mask] = 0", "out[~self.mask] = 0")))
    (f,) = wrong_forwards(found)
    x = batch()
    out = np.where(x <= 0, x, 0.0)
    last, first = line_of(path, "out[~self.mask] = 0"), line_of(path, "out = x.copy()")
    assert (f.severity, f.code, f.layer, f.file, f.line, f.highlight, f.pattern) == (
        "error", "BPD111", "Relu", str(path), last, (last, first), "not-the-activation"
    )
    assert f.message == message("`Relu.forward`", "max(0, x)", x, out, np.maximum(x, 0))
    assert f.evidence == evidence(out, np.maximum(x, 0))
    symptoms = [g for g in found if g.name == "gradient-mismatch"]
    assert symptoms and all(g.caused_by == f"BPD111:Relu::{last}" for g in symptoms)


@pytest.mark.parametrize("seed", [0, 5])
def test_a_sigmoid_layer_with_the_wrong_exponent_is_told_its_numbers_at_the_seeds_batch(tmp_path, seed):
    path, found = checked(tmp_path, edited(LAYERS, ("self.out = 1 / (1 + np.exp(-x))", "self.out = 1 / (1 + np.exp(x))")), seed=seed)
    (f,) = wrong_forwards(found)
    x = batch(seed)
    out = 1 / (1 + np.exp(x))
    line = line_of(path, "self.out = 1 / (1 + np.exp(x))")
    assert (f.layer, f.line, f.highlight) == ("SigmoidLayer", line, (line,))
    assert f.message == message("`SigmoidLayer.forward`", "1 / (1 + e^-x)", x, out, sigmoid(x))
    assert f.evidence == evidence(out, sigmoid(x))


@pytest.mark.parametrize("name", ["Tanh", "TanhLayer", "tanh_layer", "TANH"])
def test_a_layer_is_taken_for_an_activation_by_its_name_without_layer_and_underscores(tmp_path, name):
    text = edited(LAYERS, ("(np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))", "(np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(x))"),
                  ("class Tanh:", f"class {name}:"))
    path, found = checked(tmp_path, text)
    (f,) = wrong_forwards(found)
    x = batch()
    out = (np.exp(x) - np.exp(-x)) / (2 * np.exp(x))
    assert (f.layer, f.line) == (name, line_of(path, "self.out = (np.exp(x)"))
    assert f.message == message(f"`{name}.forward`", "tanh(x)", x, out, np.tanh(x))


def test_a_layer_named_otherwise_is_not_compared_with_an_activation(tmp_path):
    text = edited(LAYERS, ("out[self.mask] = 0", "out[~self.mask] = 0"), ("class Relu:", "class Rectifier:"))
    assert wrong_forwards(checked(tmp_path, text)[1]) == []


SCALED = """\
import numpy as np


class Sigmoid:
    def forward(self, x):
        self.out = FACTOR / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
"""

SHIFTED = """\
import numpy as np


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0) + SHIFT

    def backward(self, dout):
        return dout * (self.x > 0)
"""


@pytest.mark.parametrize("factor, found", [("(1 + 5e-7)", False), ("(1 + 2e-6)", True)])
def test_a_forward_within_a_millionth_of_the_activation_is_the_activation(tmp_path, factor, found):
    path, findings = checked(tmp_path, SCALED.replace("FACTOR", factor))
    assert len(wrong_forwards(findings)) == found


@pytest.mark.parametrize("shift, found", [("5e-10", False), ("2e-9", True)])
def test_zeros_off_by_more_than_a_billionth_are_not_the_activation(tmp_path, shift, found):
    path, findings = checked(tmp_path, SHIFTED.replace("SHIFT", shift))
    wrong = wrong_forwards(findings)
    assert len(wrong) == found
    if found:
        x = batch()
        line = line_of(path, "return np.maximum(x, 0)")
        assert (wrong[0].layer, wrong[0].line, wrong[0].highlight) == ("ReLU", line, (line,))
        assert wrong[0].evidence == evidence(np.maximum(x, 0) + float(shift), np.maximum(x, 0))


def test_a_forward_that_raises_or_gives_another_shape_is_left_to_the_gradient_check(tmp_path):
    raising = SHIFTED.replace("return np.maximum(x, 0) + SHIFT", "raise ValueError('not yet')")
    assert wrong_forwards(checked(tmp_path, raising)[1]) == []
    summed = SHIFTED.replace("return np.maximum(x, 0) + SHIFT", "return np.maximum(x, 0).sum(axis=1)")
    assert wrong_forwards(checked(tmp_path, summed)[1]) == []
    infinite = SHIFTED.replace("return np.maximum(x, 0) + SHIFT", "return np.maximum(x, 0) / 0.0")
    assert wrong_forwards(checked(tmp_path, infinite)[1]) == []


def test_two_layers_of_one_wrong_class_are_one_finding(tmp_path):
    text = edited(LAYERS, ("out[self.mask] = 0", "out[~self.mask] = 0")) + "\n\nclass Net:\n    def __init__(self):\n        self.a, self.b = Relu(), Relu()\n"
    assert len(wrong_forwards(checked(tmp_path, text)[1])) == 1


# --- activation functions of the file ---


def test_a_sigmoid_function_with_the_wrong_exponent_is_the_root_at_the_line_it_makes_its_output(tmp_path):
    path, found = checked(tmp_path, edited(COURSE_HELPERS, ("A = 1 / (1 + np.exp(-Z))", "A = 1 / (1 + np.exp(Z))")), "dnn_utils.py")
    (f,) = wrong_forwards(found)
    x = batch()
    out = 1 / (1 + np.exp(x))
    line = line_of(path, "A = 1 / (1 + np.exp(Z))")
    assert (f.layer, f.file, f.line, f.highlight, f.pattern) == ("sigmoid", str(path), line, (line,), "not-the-activation")
    assert f.message == message("`sigmoid`", "1 / (1 + e^-x)", x, out, sigmoid(x))
    symptoms = [g for g in found if g.name == "gradient-mismatch"]
    assert symptoms and all(g.caused_by == f"BPD111:sigmoid::{line}" for g in symptoms)


def test_a_relu_function_that_keeps_the_negatives_is_found_at_its_line(tmp_path):
    path, found = checked(tmp_path, edited(COURSE_HELPERS, ("A = np.maximum(0, Z)", "A = np.minimum(0, Z)")), "dnn_utils.py")
    (f,) = wrong_forwards(found)
    x = batch()
    assert (f.layer, f.line) == ("relu", line_of(path, "A = np.minimum(0, Z)"))
    assert f.message == message("`relu`", "max(0, x)", x, np.minimum(x, 0), np.maximum(x, 0))


COURSE_FORWARD = """\
import numpy as np


def NAME(x):
    out = np.abs(x)
    cache = x
    return out, cache


def NAME_backward(dout, cache):
    return dout * np.sign(cache)
"""


@pytest.mark.parametrize("name", ["relu_forward", "_relu", "__relu_forward"])
def test_a_function_named_after_relu_however_prefixed_or_suffixed_is_compared(tmp_path, name):
    path, found = checked(tmp_path, COURSE_FORWARD.replace("NAME", name), "layers.py")
    (f,) = wrong_forwards(found)
    x = batch()
    assert (f.layer, f.line) == ("relu", line_of(path, "out = np.abs(x)"))
    assert f.message == message(f"`{name}`", "max(0, x)", x, np.abs(x), np.maximum(x, 0))


def test_a_function_needing_more_than_an_array_or_giving_no_array_is_not_compared(tmp_path):
    two = COURSE_FORWARD.replace("def NAME(x):", "def NAME(x, alpha):").replace("NAME", "relu")
    assert wrong_forwards(checked(tmp_path, two)[1]) == []
    text = COURSE_FORWARD.replace("return out, cache", "return 'relu'").replace("NAME", "relu")
    assert wrong_forwards(checked(tmp_path, text, "text.py")[1]) == []
    empty = COURSE_FORWARD.replace("return out, cache", "return ()").replace("NAME", "relu")
    assert wrong_forwards(checked(tmp_path, empty, "empty.py")[1]) == []


def test_an_activation_imported_from_a_file_beside_is_compared_there_not_here(tmp_path):
    (tmp_path / "helpers.py").write_text(COURSE_FORWARD.replace("NAME", "relu"), encoding="utf-8")
    script = "import numpy as np\nfrom helpers import relu, relu_backward\n\nprint(relu(np.ones((2, 2)))[0])\n"
    assert wrong_forwards(checked(tmp_path, script, "main.py")[1]) == []


def test_a_function_whose_output_line_is_a_return_expression_is_found_at_the_return(tmp_path):
    text = "import numpy as np\n\n\ndef tanh(x):\n    return np.tanh(x) * 2\n"
    path, found = checked(tmp_path, text, "act.py")
    (f,) = wrong_forwards(found)
    line = line_of(path, "return np.tanh(x) * 2")
    assert (f.layer, f.line, f.highlight) == ("tanh", line, (line,))


def test_values_near_the_kink_are_moved_away_before_the_comparison(tmp_path):
    """At seed 2 one value of the batch lies within 0.1 of 0 and is moved by 0.3; a forward whose
    error grows as 1/x² near 0 is worst at the smallest value left, which the message shows."""
    text = SHIFTED.replace("return np.maximum(x, 0) + SHIFT", "return np.maximum(x, 0) + 1e-4 / x ** 2")
    x = batch(2)
    assert np.sum(np.abs(np.random.default_rng(113).standard_normal((4, 5))) < 0.1) == 1
    path, found = checked(tmp_path, text, seed=2)
    (f,) = wrong_forwards(found)
    out = np.maximum(x, 0) + 1e-4 / x**2
    assert f.message == message("`ReLU.forward`", "max(0, x)", x, out, np.maximum(x, 0))


def test_a_forward_returning_its_input_is_found_at_its_return(tmp_path):
    path, found = checked(tmp_path, "import numpy as np\n\n\ndef relu(x):\n    return x\n", "act.py")
    (f,) = wrong_forwards(found)
    line = line_of(path, "return x")
    assert (f.layer, f.line, f.highlight) == ("relu", line, (line,))


def test_at_most_six_lines_making_the_output_are_highlighted(tmp_path):
    writes = "".join(f"    out[{i}] = np.maximum(x[{i}], 0)\n" for i in range(4)) + "    out = out * 1.0\n    out += 0.0\n    out[:] = -out\n"
    text = f"import numpy as np\n\n\ndef relu(x):\n    out = np.empty_like(x)\n{writes}    return out\n"
    path, found = checked(tmp_path, text, "act.py")
    (f,) = wrong_forwards(found)
    lines = sorted({i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith("out")}, reverse=True)
    assert len(lines) == 8 and (f.line, f.highlight) == (lines[0], tuple(lines[:6]))


@pytest.mark.parametrize(
    "text, correct, wrong, layer, name",
    [
        (LAYERS, "out[self.mask] = 0", "out[~self.mask] = 0", "Relu", "layers.py"),
        (COURSE_HELPERS, "A = 1 / (1 + np.exp(-Z))", "A = 1 / (1 + np.exp(Z))", "sigmoid", "dnn_utils.py"),
    ],
    ids=["layer", "function"],
)
def test_the_check_itself_makes_the_backwards_mismatch_a_symptom_of_the_forward(tmp_path, unranked, text, correct, wrong, layer, name):
    path, found = checked(tmp_path, edited(text, (correct, wrong)), name)
    (root,) = wrong_forwards(found)
    symptoms = [f for f in found if f.name == "gradient-mismatch"]
    assert root.caused_by is None and root.key() == f"BPD111:{layer}::{line_of(path, wrong)}"
    assert symptoms and all(f.layer == layer and f.caused_by == root.key() for f in symptoms)
    assert all(f.caused_by is None for f in found if f.name not in (RULE, "gradient-mismatch"))


@pytest.mark.parametrize(
    "body, found",
    [
        ("    return (1 + 5e-7) / (1 + np.exp(-x))\n", False),
        ("    return (1 + 2e-6) / (1 + np.exp(-x))\n", True),
    ],
)
def test_a_sigmoid_function_within_a_millionth_is_the_sigmoid(tmp_path, body, found):
    _, findings = checked(tmp_path, "import numpy as np\n\n\ndef sigmoid(x):\n" + body, "act.py")
    assert len(wrong_forwards(findings)) == found


@pytest.mark.parametrize("shift, found", [("5e-10", False), ("2e-9", True)])
def test_a_relu_function_whose_zeros_are_off_by_more_than_a_billionth_is_not_relu(tmp_path, shift, found):
    _, findings = checked(tmp_path, f"import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0) + {shift}\n", "act.py")
    assert len(wrong_forwards(findings)) == found


def test_two_instances_of_a_wrong_activation_class_the_program_built_are_one_finding(tmp_path, program_runs):
    driver = "\n\nfirst, second = Relu(), Relu()\nsecond.forward(first.forward(np.ones((3, 4))))\n"
    _, found = checked(tmp_path, edited(LAYERS, ("out[self.mask] = 0", "out[~self.mask] = 0")) + driver)
    assert [f.layer for f in wrong_forwards(found)] == ["Relu"]


def test_a_file_that_does_not_parse_has_no_functions_to_compare(tmp_path):
    """No namespace is loaded from it: the check has nothing to call, and does not fail."""
    _, found = checked(tmp_path, "import numpy as np\n\n\ndef relu(x):\n    return np.abs(x\n", "broken.py")
    assert wrong_forwards(found) == [] and any(f.name == "syntax-error" for f in found)


def test_a_derivative_function_beside_a_wrong_activation_is_its_symptom(tmp_path, unranked):
    """`tanh_prime(x)` is paired with `tanh(x)` (layer `tanh/tanh_prime`): its mismatch follows
    from the forward, which does not compute tanh."""
    text = "import numpy as np\n\n\ndef tanh(x):\n    return 2 * np.tanh(x)\n\n\ndef tanh_prime(x):\n    return 1 - np.tanh(x) ** 2\n"
    path, found = checked(tmp_path, text, "act.py")
    (root,) = wrong_forwards(found)
    symptoms = [f for f in found if f.name == "gradient-mismatch"]
    assert symptoms and all(f.layer.startswith("tanh/") and f.caused_by == root.key() for f in symptoms)
