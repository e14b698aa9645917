"""bad-return (BPD107), eleventh mutation round: a model's forward that hands a container on by
design, and a whole model that another module of the package defines, checked in this process by
`check_file` (the CLI tests of `test_unwritten_and_whole_model_returns.py` run in a child process,
where a mutation run cannot see them).

A model is built only by the program's own run (the CLI's child, under its sandbox): these tests
lift that guard for their own programs (`program_runs`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import inprocess
from inprocess import edited, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_unwritten_and_whole_model_returns import DICT_MODEL, PACKAGED_LAYERS, PACKAGED_SCRIPT

from backprop_doctor.findings import Finding

RULE = "bad-return"
FORWARD = '''        return {"H": H, "P": P}\n'''
CALL = "            cache = self.forward_pass(X)\n"
READ = '            cost = self.cost(Y, cache["P"])\n'


def bad_returns(tmp_path: Path, text: str, name: str = "circles.py") -> tuple[Path, list[Finding]]:
    path, found = inprocess.checked(tmp_path, name, text)
    return path, [f for f in found if f.name == RULE]


@pytest.mark.parametrize(
    "edits",
    [
        (),
        ((FORWARD, "        return H, P\n"), (CALL, "            H, P = self.forward_pass(X)\n            cache = {'H': H, 'P': P}\n")),
        ((FORWARD, "        return [H, P]\n"), (CALL, "            cache = {'H': self.forward_pass(X)[0], 'P': self.forward_pass(X)[1]}\n")),
    ],
    ids=["dict-read-by-key", "tuple-unpacked", "list-indexed"],
)  # fmt: skip
def test_a_models_forward_whose_every_call_takes_its_container_apart_is_no_bad_return(tmp_path, program_runs, edits):
    _, found = bad_returns(tmp_path, edited(DICT_MODEL, *edits))
    assert found == []


@pytest.mark.parametrize(
    "edits, kind",
    [
        (((READ, "            cost = self.cost(Y, self.forward_pass(X))\n"),), "dict"),
        (((FORWARD, "        return H, P\n"), (CALL, "            cache = self.forward_pass(X)\n            pair = cache\n"),
          (READ, "            cost = self.cost(Y, pair[1])\n"),
          ('cache["H"]', "cache[0]"), ('cache["H"]', "cache[0]"), ('cache["P"]', "cache[1]")), "tuple"),
    ],
    ids=["one-call-reads-it-whole", "indexed-only-by-another-function"],
)  # fmt: skip
def test_a_forward_whose_container_some_call_does_not_take_apart_stays_a_bad_return(tmp_path, program_runs, edits, kind):
    """`self.cost(Y, self.forward_pass(X))` hands the dict on whole; `cache = self.forward_pass(X)` is
    indexed only in `backward_pass`, which it is handed to, not by `train`, which binds it."""
    _, found = bad_returns(tmp_path, edited(DICT_MODEL, *edits))
    (f,) = found
    assert f.severity == "error" and f"`CircleNet.forward_pass` returns a {kind}, not an array" in f.message


@pytest.fixture(autouse=True)
def _no_other_nets(monkeypatch):
    """The package these programs import is `nets`; `benchmarks/nets.py`, imported in this process by
    another test module (`test_engine_memory.py`), must not answer `from nets.model import ...`."""
    for name in ("nets", "nets.model"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def _package(tmp_path: Path) -> Path:
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "__init__.py").write_text("", encoding="utf-8")
    model = tmp_path / "nets" / "model.py"
    model.write_text(PACKAGED_LAYERS, encoding="utf-8")
    return model


def test_a_whole_model_another_module_defines_is_judged_by_the_checked_scripts_calls(tmp_path, program_runs):
    """`model.backward(...)` is a statement of the script, not of `nets/model.py`: no finding."""
    _package(tmp_path)
    assert bad_returns(tmp_path, PACKAGED_SCRIPT, "train.py")[1] == []


def test_a_packaged_models_backward_whose_result_the_script_reads_is_a_bad_return_at_its_def(tmp_path, program_runs):
    model = _package(tmp_path)
    _, found = bad_returns(tmp_path, PACKAGED_SCRIPT.replace("        model.backward(", "        dx = model.backward("), "train.py")
    (f,) = found
    assert (f.file, f.line) == (str(model), line_of(model, "    def backward(self, grad):"))
    assert "returns None, so the gradient stops here" in f.message


def test_a_packaged_model_training_itself_in_its_own_fit_is_a_whole_model(tmp_path, program_runs):
    """The script only makes the model and calls `fit`; `self.backward(grad)` as a statement is in
    `nets/model.py`, the module that defines the class, which is read beside the script."""
    _package(tmp_path)
    fit = (
        "\n    def fit(self, x, y, epochs, lr):\n        for epoch in range(epochs):\n            pred = self.forward(x)\n"
        "            self.backward(2 * (pred - y) / len(x))\n            self.step(lr)\n        return np.mean((pred - y) ** 2)\n"
    )
    (tmp_path / "nets" / "model.py").write_text(PACKAGED_LAYERS + fit, encoding="utf-8")
    script = PACKAGED_SCRIPT.split("\n\ndef train")[0] + "\n\nrng = np.random.default_rng(1)\n" + PACKAGED_SCRIPT.split("rng = np.random.default_rng(1)\n")[1]
    script = script.replace("print(train(model, x, y, 100, 0.1))", "print(model.fit(x, y, 100, 0.1))")
    assert bad_returns(tmp_path, script, "train.py")[1] == []


def test_a_whole_models_backward_ending_in_a_bare_return_is_no_bad_return(tmp_path, program_runs):
    model = _package(tmp_path)
    model.write_text(PACKAGED_LAYERS.replace("            grad = layer.backward(grad)\n", "            grad = layer.backward(grad)\n        return\n"), encoding="utf-8")
    assert bad_returns(tmp_path, PACKAGED_SCRIPT, "train.py")[1] == []
