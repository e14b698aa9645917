"""grad-not-zeroed (BPD207), checked in this process (issue 15, fifteenth round): the programs of
`test_grad_not_zeroed.py` (CLI tests, in a child process where a mutation run cannot see them)
checked here with `check_file`, and the check's exact words, line and highlighted lines compared with
the program's own text: the three resets it proposes (the file's `zero_grad()` method, a loop over
the owner's parameters, each parameter), the engine and the network in files of their own (their
trees read through the engine class and the namespace), and the cases it must leave alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_grad_not_zeroed import ENGINE, NET, ONE_FILE, TRAIN

from backprop_doctor.checks import grad_not_zeroed

NO_CALL = ("    model.zero_grad()\n", "")
NO_METHOD = ("    def zero_grad(self):\n        for p in self.parameters():\n            p.grad = 0.0\n", "")


def edited(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def never_zeroed(findings):
    return [f for f in findings if f.name == "grad-not-zeroed"]


def expected(path: Path, reset: str, loop: str = "for step in range(30):", backward: str = "loss.backward()", update: str = "p.data -= 0.05 * p.grad") -> tuple:
    loop_line, backward_line, update_line = line_of(path, loop), line_of(path, backward), line_of(path, update)
    message = (
        f"your training loop (line {loop_line}) never sets the gradients back to zero: `.backward()` (line {backward_line}) "
        f"adds each pass's gradient to what the earlier passes left in `.grad`, so from the second pass on the update at "
        f"line {update_line} follows the sum of every gradient so far, not the gradient of this loss; "
        f"write {reset} before line {backward_line}"
    )
    return ("grad-not-zeroed", "BPD207", "error", "grad-never-reset", str(path), backward_line, tuple(sorted({loop_line, backward_line, update_line})), message)


def fields(finding) -> tuple:
    return (finding.name, finding.code, finding.severity, finding.pattern, finding.file, finding.line, finding.highlight, finding.message)


def test_a_loop_without_a_reset_is_told_to_call_the_files_zero_grad(tmp_path):
    path, findings = checked(tmp_path, "micro.py", edited(ONE_FILE, NO_CALL))
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`model.zero_grad()`")


def test_without_a_zero_grad_method_it_is_told_to_loop_over_the_owners_parameters(tmp_path):
    path, findings = checked(tmp_path, "micro.py", edited(ONE_FILE, NO_CALL, NO_METHOD))
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`for p in model.parameters(): p.grad = 0.0`")


def test_an_update_over_a_list_of_its_own_is_told_to_reset_every_parameter(tmp_path):
    text = edited(
        ONE_FILE, NO_CALL, NO_METHOD,
        ("for step in range(30):", "params = model.parameters()\nfor step in range(30):"),
        ("    for p in model.parameters():\n        p.data -= 0.05 * p.grad", "    for p in params:\n        p.data -= 0.05 * p.grad"),
    )
    path, findings = checked(tmp_path, "micro.py", text)
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`p.grad = 0.0` for every parameter")


def test_a_zero_grad_with_no_owner_to_call_it_on_resets_every_parameter(tmp_path):
    """The file has a zeroing method, but the update loops over a list: no object to call it on."""
    text = edited(
        ONE_FILE, NO_CALL,
        ("for step in range(30):", "params = model.parameters()\nfor step in range(30):"),
        ("    for p in model.parameters():\n        p.data -= 0.05 * p.grad", "    for p in params:\n        p.data -= 0.05 * p.grad"),
    )
    path, findings = checked(tmp_path, "micro.py", text)
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`p.grad = 0.0` for every parameter")


def test_the_loop_that_resets_is_clean(tmp_path):
    _, findings = checked(tmp_path, "micro.py", ONE_FILE)
    assert never_zeroed(findings) == []


def test_the_engine_and_the_network_in_files_of_their_own_are_read_for_the_reset(tmp_path):
    """`zero_grad` is defined in nn.py, which the script imports: it is what the fix calls."""
    (tmp_path / "engine.py").write_text(ENGINE, encoding="utf-8")
    (tmp_path / "nn.py").write_text("from engine import Value\n" + NET, encoding="utf-8")
    path, findings = checked(tmp_path, "train.py", "import random\nfrom nn import MLP\n" + edited(TRAIN, NO_CALL))
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`model.zero_grad()`")


@pytest.mark.parametrize("zeroes", [True, False], ids=["backward-zeroes", "backward-adds"])
def test_an_engine_in_its_own_file_whose_backward_zeroes_the_graph_needs_no_reset(tmp_path, zeroes):
    """The engine's file is read through the engine class alone (the script never names `Value`);
    the same files with the engine's backward as it was get the loop over the owner's parameters."""
    zeroing = ("        self.grad = 1.0\n", "        for v in topo:\n            v.grad = 0.0\n        self.grad = 1.0\n")
    (tmp_path / "engine.py").write_text(edited(ENGINE, zeroing) if zeroes else ENGINE, encoding="utf-8")
    (tmp_path / "nn.py").write_text("from engine import Value\n" + edited(NET, NO_METHOD), encoding="utf-8")
    path, findings = checked(tmp_path, "train.py", "import random\nfrom nn import MLP\n" + edited(TRAIN, NO_CALL))
    if zeroes:
        assert never_zeroed(findings) == []
    else:
        (finding,) = never_zeroed(findings)
        assert fields(finding) == expected(path, "`for p in model.parameters(): p.grad = 0.0`")


def test_no_engine_no_source_or_no_tree_is_no_finding(tmp_path):
    path, findings = checked(tmp_path, "micro.py", edited(ONE_FILE, NO_CALL))
    (finding,) = never_zeroed(findings)
    source = SimpleNamespace(path=str(path), tree=__import__("ast").parse(path.read_text()))
    engine = type(finding)  # any class: the engines only lead to their files
    assert list(grad_not_zeroed.run(SimpleNamespace(extras={}, source=source, namespace={}))) == []
    assert list(grad_not_zeroed.run(SimpleNamespace(extras={"scalar_autograd": None}, source=source, namespace={}))) == []
    assert list(grad_not_zeroed.run(SimpleNamespace(extras={"scalar_autograd": [(engine, [])]}, source=None, namespace={}))) == []
    assert list(grad_not_zeroed.run(SimpleNamespace(extras={"scalar_autograd": [(engine, [])]}, source=SimpleNamespace(path=str(path), tree=None), namespace={}))) == []
    (again,) = grad_not_zeroed.run(SimpleNamespace(extras={"scalar_autograd": [(engine, [])]}, source=source, namespace=None))
    assert fields(again) == fields(finding)


def test_an_update_made_by_a_function_of_another_file_is_read_through_the_namespace(tmp_path):
    """`sgd` (helpers.py) moves `.data` by `.grad`; the loop calls it: the file it comes from is read
    through the script's namespace, and its call is the update the finding names."""
    (tmp_path / "engine.py").write_text(ENGINE, encoding="utf-8")
    (tmp_path / "nn.py").write_text("from engine import Value\n" + NET, encoding="utf-8")
    (tmp_path / "helpers.py").write_text("def sgd(params, lr):\n    for p in params:\n        p.data -= lr * p.grad\n", encoding="utf-8")
    train = "import random\nfrom nn import MLP\nfrom helpers import sgd\n" + edited(
        TRAIN, NO_CALL, ("    for p in model.parameters():\n        p.data -= 0.05 * p.grad\n", "    sgd(model.parameters(), 0.05)\n")
    )
    path, findings = checked(tmp_path, "train.py", train)
    (finding,) = never_zeroed(findings)
    assert fields(finding) == expected(path, "`p.grad = 0.0` for every parameter", update="sgd(model.parameters(), 0.05)")
