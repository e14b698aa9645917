"""softmax-not-per-row, twelfth mutation round: the softmax over the whole batch inside a loss function
(cs231n's softmax_loss_vectorized/naive, softmax_loss) and in a training program, read from the loss it
prints or from the replayed step (198922b, d1e7928, 05475f8), checked in this process: the CLI tests of
`test_softmax_inside_loss_functions.py` run in a child process, where a mutation run sees nothing.
Exact words, lines and fixes, each line from the file's text; the batch sizes from the finding's probe."""

from __future__ import annotations

import textwrap

import pytest

from inprocess import checked, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_softmax_inside_loss_functions import CASES, TRAINING

RULE = "softmax-not-per-row"
PRINTED = "probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)"
WRONG = "probs = exp_scores / np.sum(exp_scores)"


def softmaxes(findings):
    return [f for f in findings if f.name == RULE]


def words(name: str, line: int, wrong: str, n: int) -> str:
    return (
        f"the softmax in `{name}` normalises across the whole batch (line {line}): `{wrong}` reduces over the whole array, "
        f"so every row sums to about 1/N instead of 1, N being the batch size ({1 / n:.3g} for the {n} samples "
        "backprop-doctor probed with) and every gradient is wrong; reduce over axis 1 with keepdims=True"
    )


@pytest.mark.parametrize(("name", "text", "correct", "wrong"), CASES, ids=[c[0] for c in CASES])
def test_a_loss_functions_softmax_over_the_batch_is_named_at_its_reduction_with_its_fix(tmp_path, name, text, correct, wrong):
    _, right = checked(tmp_path / "right", name, text)
    assert softmaxes(right) == [] and [f for f in right if f.severity == "error"] == []
    path, findings = checked(tmp_path, name, textwrap.dedent(text).replace(correct, wrong, 1))
    (finding,) = softmaxes(findings)
    line = line_of(path, wrong)
    function = next(part.split("(")[0] for part in path.read_text(encoding="utf-8").split("def ")[1:])
    n = round(1 / float(finding.message.split("batch size (")[1].split(" ")[0]))
    assert finding.message == words(function, line, wrong, n)
    assert (finding.severity, finding.layer, finding.line, finding.highlight, finding.file) == ("error", function, line, (line,), str(path))
    assert finding.column == path.read_text(encoding="utf-8").splitlines()[line - 1].index(wrong.split("/ ")[-1]) + 1
    assert finding.fix == textwrap.dedent(text).splitlines()[line - 1].strip()
    assert [r for r, _ in finding.evidence] == ["row sums", "reductions"]
    probs = path.read_text(encoding="utf-8").splitlines()[line - 1].split("=")[0].strip()
    called = "on random scores of shape (" if name == "layers.py" else f"on a batch of shape ({n}, "  # a loss on scores, a linear classifier built
    assert finding.evidence[0][1].startswith(f"`{probs}` in `{function}` {called}")
    assert [f.name for f in findings if f.severity == "error" and f.caused_by is None] == [RULE]


def test_the_loss_a_training_program_prints_is_read_for_its_softmax(tmp_path, program_runs):
    source = textwrap.dedent(TRAINING)
    path, findings = checked(tmp_path, "train.py", source.replace(PRINTED, WRONG, 1))
    (finding,) = softmaxes(findings)
    line = line_of(path, WRONG)
    assert line < line_of(path, "def build_model")  # calculate_loss's, not the loop's
    assert finding.message == words("calculate_loss", line, "np.sum(exp_scores)", 60)
    assert (finding.severity, finding.layer, finding.line, finding.fix) == ("error", "calculate_loss", line, PRINTED)


def test_the_replayed_training_loops_softmax_is_named_in_its_function(tmp_path, program_runs):
    source = textwrap.dedent(TRAINING)
    second = source.index(PRINTED, source.index(PRINTED) + 1)
    path, findings = checked(tmp_path, "train.py", source[:second] + WRONG + source[second + len(PRINTED):])
    (finding,) = softmaxes(findings)
    line = line_of(path, WRONG)
    assert line > line_of(path, "def build_model")
    assert finding.message == words("build_model", line, "np.sum(exp_scores)", 60)
    assert (finding.severity, finding.layer, finding.line) == ("error", "build_model", line)
    # the fix and the reductions are the softmax's own: `db2 = np.sum(delta3, axis=0, keepdims=True)`, the
    # loop's right bias gradient made from its output, is neither rewritten nor highlighted
    assert (finding.fix, finding.highlight) == (PRINTED, (line,))
    assert finding.column == path.read_text(encoding="utf-8").splitlines()[line - 1].index("np.sum(exp_scores)") + 1
    assert finding.evidence[1] == ("reductions", f"line {line}: `np.sum(exp_scores)` adds up the whole batch, so all rows together sum to 1 instead of each row")
    loop = line_of(path, "for i in range(passes):")
    assert finding.evidence[0][1].startswith(f"`probs` in your training step (loop at line {loop}), replayed: ")


def test_a_right_training_program_has_no_softmax_finding(tmp_path, program_runs):
    _, findings = checked(tmp_path, "train.py", TRAINING)
    assert softmaxes(findings) == [] and [f for f in findings if f.severity == "error"] == []


def _book_project(folder, functions):
    """The book's chapter 4 project: its functions in common/functions.py, the network, the script."""
    from test_numerical_networks import NETWORK, SCRIPT

    (folder / "common").mkdir(parents=True)
    (folder / "common" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "common" / "functions.py").write_text(textwrap.dedent(functions), encoding="utf-8")
    (folder / "two_layer_net.py").write_text(textwrap.dedent(NETWORK), encoding="utf-8")
    return SCRIPT


def test_a_softmax_the_networks_predict_calls_from_a_module_the_script_never_names_is_found(tmp_path):
    from test_numerical_networks import FUNCTIONS

    wrong = FUNCTIONS.replace("np.sum(e, axis=-1, keepdims=True)", "np.sum(e)").replace("np.max(x, axis=-1, keepdims=True)", "np.max(x)")
    script = _book_project(tmp_path, wrong)
    _, findings = checked(tmp_path, "train.py", script)
    (finding,) = softmaxes(findings)
    functions = tmp_path / "common" / "functions.py"
    line = line_of(functions, "return e / np.sum(e)")
    assert (finding.severity, finding.file, finding.line, finding.layer) == ("error", str(functions), line, "softmax")
    (label, sums), *rest = finding.evidence
    assert label == "row sums" and sums.startswith("`TwoLayerNet.predict` on a batch of shape (")
    n = int(sums.split("batch of shape (")[1].split(",")[0])
    assert finding.message.startswith(f"the softmax in `softmax` normalises across the whole batch (line {line}): `np.sum(e)` reduces over the whole array")
    assert f"({1 / n:.3g} for the {n} samples backprop-doctor probed with)" in finding.message
    assert "(if your samples are rows" not in finding.message  # the network's own batch: no doubt about the layout


def test_the_books_project_with_a_softmax_per_row_is_clean(tmp_path):
    from test_numerical_networks import FUNCTIONS

    _, findings = checked(tmp_path, "train.py", _book_project(tmp_path, FUNCTIONS))
    assert softmaxes(findings) == [] and [f for f in findings if f.severity == "error"] == []


NEVER_CALLED = """\
import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def linear_forward(A, W, b):
    return np.dot(W, A) + b
"""


def test_a_softmax_no_call_shows_is_judged_by_the_files_layout(tmp_path):
    """No call of `softmax` in the file: its samples lie as the file's weight products say (columns, `W @ A`)."""
    _, findings = checked(tmp_path, "layers.py", NEVER_CALLED)
    assert softmaxes(findings) == []
    path, findings = checked(tmp_path / "rows", "layers.py", NEVER_CALLED.replace("np.dot(W, A)", "np.dot(A, W)"))
    (finding,) = softmaxes(findings)
    assert (finding.severity, finding.line) == ("warning", line_of(path, "return e / np.sum(e, axis=0, keepdims=True)"))
    assert finding.message.endswith("(if your samples are rows: no call in this file shows which way they lie)")


ONE_ROW_AT_A_TIME = """\
import numpy as np


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3))
for x in rng.normal(size=(5, 4)):
    print(softmax(x @ W))
"""


def test_a_softmax_the_program_only_gives_one_sample_is_left_alone(tmp_path, program_runs):
    _, findings = checked(tmp_path, "rows.py", ONE_ROW_AT_A_TIME)
    assert softmaxes(findings) == []
