"""A gradient built over several statements whose last one only rescales it.

    dlogits = probs.copy()
    dlogits[range(n), labels] -= 1     # <- the mistake, when it is wrong
    dlogits /= n                       # the last change: a division by the batch size

The walk measures `dlogits` after its last change. A division cannot make it wrong otherwise than
by a factor, so a gradient wrong in any other way is located at the change before it.
"""

from __future__ import annotations

from pathlib import Path

from userfiles import check, errors, line_of, planted

PROGRAM = """
import numpy as np

rng = np.random.default_rng(6)
inputs = rng.normal(size=(45, 4))
labels = rng.integers(0, 3, size=45)
W = rng.normal(scale=0.1, size=(4, 3))
b = np.zeros(3)
for it in range(150):
    n = len(inputs)
    logits = inputs @ W + b
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(probs[range(n), labels]).mean()
    dlogits = probs.copy()
    dlogits[range(n), labels] -= 1
    dlogits /= n
    W -= 0.5 * inputs.T @ dlogits
    b -= 0.5 * dlogits.sum(axis=0)
"""

INDEXED = "dlogits[range(n), labels] -= 1"
WHOLE_COLUMNS = "dlogits[:, labels] -= 1"


def test_the_correct_program_is_clean(tmp_path: Path) -> None:
    assert errors(check(planted(tmp_path, "softmax.py", PROGRAM, INDEXED, INDEXED))) == []


def test_a_wrong_index_before_a_division_is_located_at_the_index(tmp_path: Path) -> None:
    path = planted(tmp_path, "softmax.py", PROGRAM, INDEXED, WHOLE_COLUMNS)
    findings = [f for f in errors(check(path)) if f["param"] == "dlogits"]
    (finding,) = findings
    divided = line_of(path, "dlogits /= n")
    assert finding["line"] == line_of(path, WHOLE_COLUMNS)
    assert divided in finding["highlight"]
    assert f"(line {divided} only rescales it: it is already wrong after line {finding['line']})" in finding["message"]


def test_a_division_left_out_is_still_named_as_the_batch_size_factor(tmp_path: Path) -> None:
    path = planted(tmp_path, "softmax.py", PROGRAM, "dlogits /= n", "dlogits /= 1")
    (finding,) = [f for f in check(path)["findings"] if f["code"] == "BPD108"]
    assert "45 × the gradient of your loss (45 is the batch size)" in finding["message"]
    assert "only rescales" not in finding["message"]
