"""targets-not-shuffled, checked in this process (issue 15: a check whose only tests ran the CLI in a
child is never reached by a mutant): every field of the finding, each way the fix is worded, and the
files it must leave alone."""

from __future__ import annotations

from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name

LOOP = """\
import numpy as np

X = np.random.randn(40, 3)
y = (X[:, :1] > 0).astype(float)
W = np.zeros((3, 1))
for epoch in range(3):
{shuffle}
    for k in range(0, 40, 10):
        xb, yb = {batch}
        p = 1 / (1 + np.exp(-(xb @ W)))
        loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
        W -= 0.1 * xb.T @ (p - yb) / len(xb)
"""


def _found(tmp_path, shuffle: str, batch: str):
    path, findings = checked(tmp_path, "sgd.py", LOOP.format(shuffle=shuffle, batch=batch))
    return path, [f for f in findings if f.name == "targets-not-shuffled"]


def test_an_alias_of_the_targets_is_told_to_take_the_permutation(tmp_path):
    path, (finding,) = _found(tmp_path, "    idx = np.random.permutation(40)\n    Xs = X[idx]\n    ys = y", "Xs[k:k + 10], ys[k:k + 10]")
    batch, shuffled = line_of(path, "xb, yb ="), line_of(path, "Xs = X[idx]")
    assert (finding.code, finding.severity, finding.line, finding.param, finding.pattern) == ("BPD614", "error", batch, "ys", "targets-not-shuffled")
    assert finding.highlight == (shuffled, batch)
    assert finding.file == str(path)
    assert finding.message == (
        f"line {batch} takes the batch `Xs[k:k + 10]` from the inputs shuffled at line {shuffled} (`Xs = X[idx]`) and "
        "`ys[k:k + 10]` from targets that were not shuffled, so each input is trained on another input's target: "
        "shuffle the targets with the inputs (`ys = y[idx]`)"
    )


def test_the_targets_themselves_are_told_to_take_the_permutation(tmp_path):
    _, (finding,) = _found(tmp_path, "    perm = np.random.permutation(40)\n    Xs = X[perm]", "Xs[k:k + 10], y[k:k + 10]")
    assert finding.message.endswith("(`y[perm]`)")


def test_inputs_shuffled_in_place_are_told_to_share_their_permutation(tmp_path):
    _, (finding,) = _found(tmp_path, "    np.random.shuffle(X)", "X[k:k + 10], y[k:k + 10]")
    assert finding.message.endswith("(the same permutation as `X`)")
    assert "(`np.random.shuffle(X)`)" in finding.message


def test_both_shuffled_or_neither_leave_no_finding(tmp_path):
    assert _found(tmp_path, "    idx = np.random.permutation(40)\n    Xs, ys = X[idx], y[idx]", "Xs[k:k + 10], ys[k:k + 10]")[1] == []
    assert _found(tmp_path, "    pass", "X[k:k + 10], y[k:k + 10]")[1] == []


def test_a_file_without_a_training_step_is_not_read(tmp_path):
    source = "import numpy as np\nX = np.ones((4, 2))\ny = np.ones(4)\nidx = np.random.permutation(4)\nXs = X[idx]\nprint(Xs[0:2], y[0:2])\n"
    _, findings = checked(tmp_path, "peek.py", source)
    assert [f for f in findings if f.name == "targets-not-shuffled"] == []
