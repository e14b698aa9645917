"""bad-return (BPD107): the check's rewrites of the engine's "returns None" findings, in this process.

The files of `test_unwritten_and_whole_model_returns.py` and `test_first_layer_returns_none.py`
(CLI tests, in a child process where a mutation run cannot see them) are checked here by
`check_file`: functions not written yet (a `pass` body, `...`, a base-class call, a TODO block
that leaves the returned name None), a first layer's `return None` on purpose, a forgotten
return, and a whole model's backward whose result every call throws away. Lines come from the
file's text.

A whole model is only built by the program's own run, which happens in the CLI's child under its
sandbox (`pipeline._may_run`); those tests lift that guard for their own programs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import inprocess
from inprocess import line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_first_layer_returns_none import LAYER
from test_unwritten_and_whole_model_returns import BASE, BRANCHED, MODEL, SEQUENTIAL, STUBS

from backprop_doctor.findings import Finding

RULE = "bad-return"
LEARN = "write it before anything can learn"


def checked(tmp_path: Path, text: str, name: str = "layers.py") -> tuple[Path, list[Finding]]:
    path, found = inprocess.checked(tmp_path, name, text)
    return path, [f for f in found if f.name == RULE]


def by_layer(found: list[Finding]) -> dict[str, Finding]:
    return {f.layer: f for f in found}


def test_a_pass_body_and_a_todo_block_leaving_the_result_none_are_not_written_yet(tmp_path):
    path, found = checked(tmp_path, STUBS)
    tanh, dense = by_layer(found)["Tanh"], by_layer(found)["dense"]
    last = len(path.read_text().splitlines())
    todo = line_of(path, "    pass")
    for f, line in ((tanh, last), (dense, todo)):
        assert (f.severity, f.line, f.highlight, f.pattern, f.fix) == ("warning", line, (line,), "not-written", None)
    assert tanh.message == f"`Tanh.backward` is not written yet: its body is `pass` (line {last}); {LEARN}"
    assert dense.message == f"`dense.forward` is not written yet: `out` is still None where it returns (its code is `pass`, line {todo}); {LEARN}"


def test_a_written_function_that_forgets_its_return_stays_an_error(tmp_path):
    source = STUBS.replace("    # TODO: compute out from x, w and b\n    pass\n", "    out = x @ w + b\n").replace(
        "    def backward(self, dout):\n        pass\n", "    def backward(self, dout):\n        return dout * (1 - self.out ** 2)\n")
    text = source.replace("        return self.out\n", "        self.out = self.out\n")
    _, found = checked(tmp_path, text)
    (f,) = found
    assert f.severity == "error" and f.message.startswith("`Tanh.forward` returns None") and f.pattern is None


def test_a_method_that_only_hands_the_call_to_its_base_is_not_written(tmp_path):
    path, found = checked(tmp_path, BASE, "modules.py")
    (f,) = found
    line = line_of(path, "return super().backward(grad)")
    assert (f.severity, f.layer, f.line, f.pattern) == ("warning", "Exp", line, "not-written")
    assert f.message == (
        f"`Exp.backward` is not written yet: it only hands the call to its base class (`super().backward()`, line {line}), "
        f"which does nothing; {LEARN}"
    )


def test_a_base_call_of_another_method_or_a_docstring_before_pass_is_told_as_such(tmp_path):
    other = BASE.replace("        return super().backward(grad)\n", "        return super().forward(grad)\n")
    path, found = checked(tmp_path, other, "modules.py")
    assert all("hands the call to its base class" not in f.message for f in found)
    documented = BASE.replace("        return super().backward(grad)\n", '        """Later."""\n        ...\n')
    path, found = checked(tmp_path, documented, "documented.py")
    (f,) = found
    line = line_of(path, "        ...", after=line_of(path, "class Exp(Module):"))
    assert (f.layer, f.line) == ("Exp", line)
    assert f.message == f"`Exp.backward` is not written yet: its body is `pass` (line {line}); {LEARN}"


def test_stubs_with_tuple_nones_and_branches_are_not_written_and_written_code_is(tmp_path):
    path, found = checked(tmp_path, BRANCHED, "stubs.py")
    step, norm = by_layer(found)["step"], by_layer(found)["norm"]
    assert set(by_layer(found)) == {"step", "norm"}
    step_pass = line_of(path, "    pass", after=line_of(path, "def step_forward"))
    norm_pass = line_of(path, "        pass", after=line_of(path, "def norm_forward"))
    assert (step.line, norm.line) == (step_pass, norm_pass)
    assert step.message == f"`step.forward` is not written yet: `next_h` is still None where it returns (its code is `pass`, line {step_pass}); {LEARN}"
    assert norm.message == f"`norm.forward` is not written yet: `out` is still None where it returns (its code is `pass`, line {norm_pass}); {LEARN}"


BRANCH_ONLY = """\
import numpy as np


class Sigmoid:
    def forward(self, x):
        if x.ndim == 2:
            pass

    def backward(self, dout):
        return dout
"""


def test_a_body_of_nothing_but_a_branch_holding_pass_is_not_written(tmp_path):
    path, found = checked(tmp_path, BRANCH_ONLY)
    (f,) = found
    line = line_of(path, "            pass")
    assert (f.severity, f.layer, f.line) == ("warning", "Sigmoid", line)
    assert f.message == f"`Sigmoid.forward` is not written yet: its body is `pass` (line {line}); {LEARN}"


PARTLY_NONE = """\
import numpy as np


def dense_forward(x, w, b):
    out, cache = None, (x, w, b)
    # TODO: compute out
    pass
    return out, cache


def dense_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
"""


def test_a_tuple_binding_only_some_names_to_none_leaves_those_names_none(tmp_path):
    path, (f,) = checked(tmp_path, PARTLY_NONE)
    line = line_of(path, "    pass")
    assert (f.layer, f.line) == ("dense", line)
    assert f.message == f"`dense.forward` is not written yet: `out` is still None where it returns (its code is `pass`, line {line}); {LEARN}"


def test_a_name_bound_again_before_it_returns_is_written(tmp_path):
    text = PARTLY_NONE.replace("    pass\n", "    pass\n    out = x @ w + b\n")
    _, found = checked(tmp_path, text)
    assert found == []
    augmented = PARTLY_NONE.replace("    out, cache = None, (x, w, b)\n", "    out, cache = np.zeros((x.shape[0], w.shape[1])), (x, w, b)\n").replace(
        "    pass\n", "    pass\n    out += x @ w + b\n")
    _, found = checked(tmp_path, augmented)
    assert found == []


def test_a_first_layers_return_none_is_a_warning_that_says_when_it_is_right(tmp_path):
    path, (f,) = checked(tmp_path, LAYER, "first.py")
    line = line_of(path, "return None")
    assert (f.severity, f.layer, f.line, f.highlight, f.pattern) == ("warning", "FirstDense", line, (line,), None)
    assert f.message == (
        f"`FirstDense.backward` returns None on purpose (line {line}), so the gradient stops here: right for a network's first "
        "layer only; otherwise return dx (shape (5, 12)) at its end"
    )


def test_a_forgotten_return_is_still_an_error_at_the_def(tmp_path):
    path, (f,) = checked(tmp_path, LAYER.replace("        return None\n", "        dx = dout @ self.W.T\n"), "first.py")
    assert (f.severity, f.line) == ("error", line_of(path, "def backward(self, dout):"))
    assert f.message == "`FirstDense.backward` returns None, so the gradient stops here: return dx (shape (5, 12)) at its end"


def test_a_bare_return_at_the_end_is_no_return_none_on_purpose(tmp_path):
    path, (f,) = checked(tmp_path, LAYER.replace("        return None\n", "        return\n"), "first.py")
    assert f.severity == "error"


# --- a whole model's backward, whose result the program throws away ---


def test_a_whole_models_backward_returning_nothing_gets_no_finding(tmp_path, program_runs):
    assert checked(tmp_path, MODEL, "classifier.py")[1] == []


@pytest.mark.parametrize(
    "old, new",
    [
        ("    clf.backward((p - T) / len(X))\n", "    dx = clf.backward((p - T) / len(X))\n"),
        ("clf = SoftmaxClassifier(5, 12, 3)\n", "clf = SoftmaxClassifier(5, 12, 3)\nmodels = [SoftmaxClassifier(5, 12, 3)]\n"),
        ("clf = SoftmaxClassifier(5, 12, 3)\n", "clf = SoftmaxClassifier(5, 12, 3)\nprint(SoftmaxClassifier(5, 12, 3))\n"),
        ("clf = SoftmaxClassifier(5, 12, 3)\n", "clf = other = SoftmaxClassifier(5, 12, 3)\n"),
    ],
    ids=["result-read", "in-a-list", "handed-on", "two-names"],
)
def test_a_model_whose_backward_result_is_read_or_whose_instances_go_elsewhere_must_return(tmp_path, program_runs, old, new):
    path, found = checked(tmp_path, MODEL.replace(old, new), "classifier.py")
    (f,) = found
    assert (f.severity, f.layer, f.line) == ("error", "SoftmaxClassifier", line_of(path, "def backward(self, dz):"))
    assert f.message.startswith("`SoftmaxClassifier.backward` returns None, so the gradient stops here")



def test_a_container_model_calling_its_own_backward_in_fit_gets_no_finding(tmp_path, program_runs):
    assert checked(tmp_path, SEQUENTIAL, "seq.py")[1] == []


def test_a_function_pairs_backward_that_forgets_its_return_stays_an_error(tmp_path):
    text = "import numpy as np\n\n\ndef relu_forward(x):\n    return np.maximum(0, x), x\n\n\ndef relu_backward(dout, cache):\n    dx = dout * (cache > 0)\n"
    path, (f,) = checked(tmp_path, text)
    assert (f.severity, f.line) == ("error", line_of(path, "def relu_backward(dout, cache):"))
