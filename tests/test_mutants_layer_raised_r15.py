"""layer-raised's rewordings given one finding at a time, in this process (issue 15, fifteenth round):
`layer_raised.run` over a context built for the test (the findings, a source whose training steps
are written out, the namespace), so each guard is met on its own: a stop on another file's line, on
a stand-in, beside another error, outside every loop or in a loop with no update; the transposed
shapes told from shapes that are not; two updates on one line told apart by their arrays; the
rewordings asked of the findings they are not for (another rule's, another exception's); a run
made twice on the same findings; and `on_made_up_input`, which the pipeline applies to a layer that
raised on a made-up input while the program's own step trains it. The programs are the test's own."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from backprop_doctor.checks import layer_raised
from backprop_doctor.findings import Finding

SCRIPT = """\
import numpy as np
W1 = np.ones((5, 4))
W2 = np.ones((32, 3))
for it in range(10):
    h = np.ones((32, 32))
    dW1, dW2 = np.ones((5, 4)), np.ones((3, 32))
    W1 -= 0.1 * dW1; W2 -= 0.1 * dW2
print(h)
"""
LOOP, FIRST, UPDATE, AFTER = 4, 5, 7, 8
BROADCAST = "ValueError (operands could not be broadcast together with shapes (32,3) (3,32) (32,3) )"


def written(tmp_path: Path, text: str = SCRIPT, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def stop(path: Path, line: int | None, what: str = BROADCAST, held: str = "", severity: str = "info") -> Finding:
    return Finding(
        name="program-stopped", code="BPD901", severity=severity,
        message=f"your program stopped at line {line} with {what} while backprop-doctor watched it run{held}: what it built before "
        "that was checked on what it was given; run the file on its own to see the error, or pass --no-run to check the definitions only",
        file=str(path), line=line, highlight=(line,) if line else (),
    )


def site(target: str, gradient: str, line: int = UPDATE, file: str | None = None):
    return SimpleNamespace(line=line, file=file, update=SimpleNamespace(target=target), gradient=gradient)


def step(first: int = FIRST, end: int = UPDATE, loopless: bool = False, updates=None):
    updates = [site("W1", "dW1"), site("W2", "dW2")] if updates is None else updates
    return SimpleNamespace(first_line=first, update_end_line=end, loopless=loopless, loop_line=LOOP, updates=updates)


def context(path: Path | None, findings: list[Finding], steps=None, namespace=None, **extras):
    source = None if path is None else SimpleNamespace(path=str(path), facts=SimpleNamespace(training_steps=[step()] if steps is None else steps))
    return SimpleNamespace(findings=findings, source=source, namespace=namespace, extras=extras)


def reworded(ctx) -> list[Finding]:
    assert list(layer_raised.run(ctx)) == []  # it yields nothing: it rewords the findings in place
    return ctx.findings


def head(line: int, what: str = BROADCAST) -> str:
    return f"your program stopped at line {line} with {what}"


# --------------------------------------------------------------------------- a stop in the training loop


def test_a_stop_at_a_line_of_the_step_is_an_error_naming_the_loop(tmp_path):
    path = written(tmp_path)
    what = "ValueError (matmul: Input operand 1 has a mismatch in its core dimension 0)"
    for line in (FIRST, 6, UPDATE):  # the step's first line and its last update line belong to it
        (finding,) = reworded(context(path, [stop(path, line, what)]))
        assert (finding.severity, finding.pattern) == ("error", "stopped-in-training")
        assert finding.message == f"{head(line, what)}, inside your training loop (line {LOOP}), so it never trains: fix that line"


@pytest.mark.parametrize("line", [LOOP, AFTER, None], ids=["before-the-step", "after-the-step", "no-line"])
def test_a_stop_outside_the_step_or_without_a_line_stays_a_note(tmp_path, line):
    path = written(tmp_path)
    original = stop(path, line, "ZeroDivisionError (division by zero)")
    assert reworded(context(path, [original])) == [original]


def test_only_a_step_with_a_loop_that_holds_the_line_counts(tmp_path):
    path = written(tmp_path)
    original = stop(path, 6, "ZeroDivisionError (division by zero)")
    assert reworded(context(path, [original], steps=[step(loopless=True)])) == [original]  # a step with no loop
    assert reworded(context(path, [original], steps=[step(first=7, end=8)])) == [original]  # a loop that does not hold it
    assert reworded(context(path, [original], steps=[])) == [original]
    (finding,) = reworded(context(path, [original], steps=[step(first=7, end=8), step(loopless=True), step(first=5, end=6)]))
    assert finding.severity == "error"


def test_a_stop_in_another_file_or_with_no_source_stays_a_note(tmp_path):
    path, other = written(tmp_path), written(tmp_path, name="helpers.py")
    original = stop(other, 6, "ZeroDivisionError (division by zero)")
    assert reworded(context(path, [original])) == [original]
    mine = stop(path, 6, "ZeroDivisionError (division by zero)")
    assert reworded(context(None, [mine])) == [mine]
    same = stop(tmp_path / "." / "train.py", 6, "ZeroDivisionError (division by zero)")  # the same file, spelled otherwise
    assert reworded(context(path, [same]))[0].severity == "error"


@pytest.mark.parametrize(
    ("held", "record"),
    [("", SimpleNamespace(standin=("mnist", "mnist"))),
     (", on what the stand-in for `mnist` (missing here) returned, not what `mnist` would, so the stop is the stand-in's, not your code's", None),
     (" on a StubModule", None)],
    ids=["record-with-a-stand-in", "stand-in-in-the-words", "stub-in-the-words"],
)
def test_a_stop_on_a_stand_ins_value_stays_a_note(tmp_path, held, record):
    path = written(tmp_path)
    original = stop(path, 6, "TypeError (unsupported operand type(s))", held=held)
    extras = {"observed_record": record} if record is not None else {}
    assert reworded(context(path, [original], **extras)) == [original]


def test_a_record_without_a_stand_in_lets_the_stop_be_an_error(tmp_path):
    path = written(tmp_path)
    for extras in ({}, {"observed_record": SimpleNamespace(standin=None)}, {"observed_record": None}):
        (finding,) = reworded(context(path, [stop(path, 6, "TypeError (unsupported operand type(s))")], **extras))
        assert finding.severity == "error"


def test_a_stop_beside_another_error_stays_a_note_and_a_warning_does_not_count(tmp_path):
    path = written(tmp_path)
    original = stop(path, 6, "ZeroDivisionError (division by zero)")
    error = Finding(name="gradient-mismatch", code="BPD101", severity="error", message="wrong", file=str(path), line=6)
    warning = error.replace(severity="warning")
    assert reworded(context(path, [original, error]))[0] is original
    assert reworded(context(path, [warning, original]))[1].severity == "error"


def test_a_stop_that_is_not_a_note_or_not_a_stop_is_left_alone(tmp_path):
    path = written(tmp_path)
    warned = stop(path, 6, "ZeroDivisionError (division by zero)", severity="warning")
    assert reworded(context(path, [warned])) == [warned]
    note = Finding(name="layer-raised", code="BPD105", severity="info", message="`RNN.forward` raised ZeroDivisionError (division by zero) on input of shape (4, 3)", file=str(path), line=6)
    assert reworded(context(path, [note])) == [note]


# --------------------------------------------------------------------------- the transposed gradient


def test_two_updates_on_one_line_are_told_apart_by_the_shape_of_their_arrays(tmp_path):
    path = written(tmp_path)
    namespace = {"W1": np.ones((5, 4)), "W2": np.ones((32, 3))}
    (finding,) = reworded(context(path, [stop(path, UPDATE)], namespace=namespace))
    assert (finding.severity, finding.pattern, finding.line) == ("error", "stopped-in-training", UPDATE)
    assert finding.message == (
        f"{head(UPDATE)}: the update of `W2` (line {UPDATE}) gets `dW2` of shape (3, 32) for `W2` of shape (32, 3), the transpose: "
        "compute `dW2` in `W2`'s shape (swap the factors of its product and transpose each)"
    )
    swapped = {"W1": np.ones((32, 3)), "W2": np.ones((5, 4))}
    (finding,) = reworded(context(path, [stop(path, UPDATE)], namespace=swapped))
    assert "the update of `W1` (line 7) gets `dW1` of shape (3, 32) for `W1` of shape (32, 3)" in finding.message


def test_two_updates_on_one_line_neither_of_that_shape_are_told_of_in_general(tmp_path):
    path = written(tmp_path)
    plural = (
        f"{head(UPDATE)}: an update on line {UPDATE} gets a gradient of shape (3, 32) for a parameter of shape (32, 3), the transpose: "
        "compute that gradient in its parameter's shape (swap the factors of its product and transpose each)"
    )
    for namespace in (None, {}, {"W1": np.ones((5, 4)), "W2": np.ones((3, 3))}, {"W1": np.ones((32, 3)), "W2": np.ones((32, 3))}):
        (finding,) = reworded(context(path, [stop(path, UPDATE)], namespace=namespace))
        assert (finding.severity, finding.pattern, finding.message) == ("error", "stopped-in-training", plural)


def test_one_update_on_its_line_is_named_without_the_namespace(tmp_path):
    path = written(tmp_path)
    steps = [step(updates=[site("W2", "dW2"), site("W1", "dW1", line=6), site("W3", "dW3", file="other.py")])]
    (finding,) = reworded(context(path, [stop(path, UPDATE)], steps=steps, namespace=None))
    assert finding.message.startswith(f"{head(UPDATE)}: the update of `W2` (line {UPDATE}) gets `dW2` of shape (3, 32) for `W2` of shape (32, 3)")


@pytest.mark.parametrize(
    "shapes",
    ["(32,3) (5,32) (32,3)", "(32,3) (3,7) (32,3)", "(4,4) (4,4) (4,4)", "(32,3) (32,3) (32,3)"],
    ids=["first-axis-only", "second-axis-only", "square", "same-shape"],
)
def test_shapes_that_are_not_a_transpose_get_the_loops_words(tmp_path, shapes):
    path = written(tmp_path)
    what = f"ValueError (operands could not be broadcast together with shapes {shapes} )"
    (finding,) = reworded(context(path, [stop(path, UPDATE, what)], namespace={"W2": np.ones((32, 3))}))
    assert finding.message == f"{head(UPDATE, what)}, inside your training loop (line {LOOP}), so it never trains: fix that line"


# --------------------------------------------------------------------------- the rewordings asked of other findings

PLACEHOLDER = """\
import numpy as np


def cost(a):
    extra = None
    return a + extra


total = None
print(total + 1)
"""
NONE_MESSAGE = "`cost` raised TypeError (unsupported operand type(s) for +: 'float' and 'NoneType') on input of shape (4,): fix the forward pass so it runs on that input"


def raised(path: Path, line: int, message: str, name: str = "layer-raised", fix: str | None = "a + 0") -> Finding:
    code = {"layer-raised": "BPD105", "program-stopped": "BPD901"}.get(name, "BPD101")
    return Finding(name=name, code=code, severity="error", message=message, file=str(path), line=line, fix=fix)


def test_a_placeholder_is_not_written_yet_and_loses_the_engines_fix(tmp_path):
    path = written(tmp_path, PLACEHOLDER, "cost.py")
    (finding,) = reworded(context(path, [raised(path, 6, NONE_MESSAGE)], steps=[]))
    assert (finding.severity, finding.pattern, finding.fix) == ("warning", "not-written", None)
    assert finding.message == "`cost` is not written yet: `extra` is still the `None` placeholder it started as (line 5) when line 6 uses it; write it"


@pytest.mark.parametrize(
    ("name", "message"),
    [("layer-raised", NONE_MESSAGE.replace("'NoneType'", "'str'")), ("gradient-mismatch", NONE_MESSAGE)],
    ids=["no-NoneType", "another-rule"],
)
def test_only_a_layer_raised_on_a_none_is_asked_for_its_placeholder(tmp_path, name, message):
    path = written(tmp_path, PLACEHOLDER, "cost.py")
    original = raised(path, 6, message, name=name)
    assert reworded(context(path, [original], steps=[])) == [original]


def test_a_none_read_at_the_top_level_is_no_placeholder(tmp_path):
    path = written(tmp_path, PLACEHOLDER, "cost.py")
    original = raised(path, 10, NONE_MESSAGE)
    assert layer_raised._placeholder(original) is None
    assert reworded(context(path, [original], steps=[])) == [original]


@pytest.mark.parametrize("where", [{"file": None}, {"line": None}], ids=["no-file", "no-line"])
def test_a_finding_without_a_place_has_no_placeholder_list_or_global(tmp_path, where):
    path = written(tmp_path, PLACEHOLDER, "cost.py")
    original = raised(path, 6, NONE_MESSAGE).replace(**where)
    assert layer_raised._placeholder(original) is None
    assert layer_raised._list_index(original) is None
    named = original.replace(message="`cost` raised NameError (name 'total' is not defined) on input of shape (4,)")
    assert layer_raised._global_of_the_program(named) is None


LISTED = """\
import numpy as np


def svm_loss(coef, y, N):
    return coef[[y, np.arange(N)]].sum()
"""


def test_a_list_of_index_arrays_is_named_for_a_value_error_of_the_layer(tmp_path):
    path = written(tmp_path, LISTED, "svm.py")
    message = "`svm_loss` raised ValueError (shape mismatch: indexing arrays could not be broadcast) on input of shape (3, 5)"
    (finding,) = reworded(context(path, [raised(path, 5, message, fix=None)], steps=[]))
    assert (finding.severity, finding.pattern, finding.fix) == ("error", "list-of-index-arrays", "coef[y, np.arange(N)]")
    assert finding.message == (
        f"{message}; `coef[[y, np.arange(N)]]` indexes with a list of index arrays, which NumPy before 1.23 read as one array per axis "
        f"and NumPy {np.__version__} reads as one index array on the first axis: write `coef[y, np.arange(N)]`"
    )


@pytest.mark.parametrize(
    ("name", "error"),
    [("gradient-mismatch", "ValueError (shape mismatch)"), ("layer-raised", "TypeError (unhashable type)"), ("gradient-mismatch", "IndexError (too many indices)")],
    ids=["another-rule", "another-exception", "another-rule-index-error"],
)
def test_a_list_of_index_arrays_is_named_only_for_a_layers_or_the_programs_index_or_value_error(tmp_path, name, error):
    path = written(tmp_path, LISTED, "svm.py")
    original = raised(path, 5, f"`svm_loss` raised {error} on input of shape (3, 5)", name=name, fix=None)
    assert reworded(context(path, [original], steps=[])) == [original]


GLOBAL = """\
import numpy as np


def cell_backward(dy, parameters):
    return Wy.T @ dy


Wy = np.random.randn(2, 5)
"""
NAME_ERROR = "`cell_forward/cell_backward.backward` raised NameError (name 'Wy' is not defined) on input of shape (2, 3)"


def test_a_global_the_file_never_reads_by_key_is_to_be_taken_as_an_argument(tmp_path):
    path = written(tmp_path, GLOBAL, "rnn.py")
    (finding,) = reworded(context(path, [raised(path, 5, NAME_ERROR)], steps=[]))
    assert (finding.pattern, finding.fix, finding.severity) == ("reads-a-global", None, "error")
    assert finding.message == (
        "`cell_backward` reads `Wy` (line 5), which it neither takes nor defines: your program binds it at line 8, outside the function, "
        "so the function computes with that global rather than with its own arguments: take it as an argument"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [("gradient-mismatch", NAME_ERROR), ("layer-raised", NAME_ERROR.replace("NameError", "UnboundLocalError"))],
    ids=["another-rule", "another-exception"],
)
def test_a_global_is_named_only_for_a_layers_name_error(tmp_path, name, message):
    path = written(tmp_path, GLOBAL, "rnn.py")
    original = raised(path, 5, message, name=name)
    assert reworded(context(path, [original], steps=[])) == [original]


def test_a_name_no_top_level_statement_binds_is_no_global_of_the_program(tmp_path):
    path = written(tmp_path, GLOBAL.replace("Wy = np.random.randn(2, 5)", "print(np.pi)"), "rnn.py")
    original = raised(path, 5, NAME_ERROR)
    assert layer_raised._global_of_the_program(original) is None
    assert layer_raised._global_of_the_program(original.replace(message="`cell_backward` raised TypeError (bad operand)")) is None
    assert reworded(context(path, [original], steps=[])) == [original]


@pytest.mark.parametrize(
    ("head", "named"),
    [("`cell_forward/cell_backward.forward`", "`cell_forward`"), ("`cell_forward/cell_backward.backward`", "`cell_backward`"), ("`Dense.backward`", "`Dense.backward`")],
    ids=["forward-of-a-pair", "backward-of-a-pair", "a-method"],
)
def test_a_pairs_function_is_named_by_the_pass_that_raised(head, named):
    assert layer_raised._function_named(head) == named


def test_numpy_2s_spelling_is_added_once_however_often_the_check_runs(tmp_path):
    path = written(tmp_path, PLACEHOLDER, "cost.py")
    message = "`Dense.forward` raised TypeError (only 0-dimensional arrays can be converted to Python scalars) on input of shape (4, 3)"
    ctx = context(path, [raised(path, 6, message, fix=None)], steps=[])
    reworded(ctx)
    (finding,) = reworded(ctx)
    assert finding.message == (
        f"{message}; NumPy 2 turns only a 0-dimensional array into a number: write `b.item()` (the one number of a size-1 array) "
        "where the line has `float(b)` or `int(b)`"
    )


# --------------------------------------------------------------------------- a layer run on a made-up input


def test_a_layer_that_raised_on_a_made_up_input_while_the_program_trains_it_is_a_note():
    finding = Finding(
        name="layer-raised", code="BPD105", severity="error", file="rnn.py", line=12, fix="h = x @ W", pattern=None,
        message="`RNNCell.forward` raised ValueError (matmul: Input operand 1 has a mismatch) on input of shape (4, 3): "
        "fix the forward pass so it runs on that input",
    )
    note = layer_raised.on_made_up_input(finding, 30)
    assert (note.name, note.severity, note.pattern, note.fix, note.file, note.line) == ("layer-raised", "info", "made-up-input", None, "rnn.py", 12)
    assert note.message == (
        "`RNNCell.forward` raised ValueError (matmul: Input operand 1 has a mismatch) on input of shape (4, 3), an input backprop-doctor "
        "made up; your program's own training step (the loop at line 30) runs it on its own inputs, where its gradients were compared, "
        "so only the layer check on made-up inputs is left out"
    )


def test_a_loss_layer_that_returned_an_array_on_a_made_up_input_keeps_its_words():
    """The words of a loss layer's array (contracts.py) hold no advice to cut."""
    message = "loss layer `SoftmaxLoss` returned an array of shape (4,) from forward(x, t): return one scalar loss"
    finding = Finding(name="layer-raised", code="BPD105", severity="error", message=message, file="loss.py", line=3)
    assert layer_raised.on_made_up_input(finding, 9).message.startswith(message + ", an input backprop-doctor made up; ")

