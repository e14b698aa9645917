"""A softmax written as a function of its own, not inside a layer: which axis holds the samples is
read from how the file calls it, not guessed from the rest of the file.

- `softmax(np.dot(W2, a) + b2)` or `a2 = np.dot(z1, W2) + b2` then `softmax(a2)`: the call says
  where the samples are, and a softmax over the other axis is reported;
- a file of exercises whose other functions read `W @ x` says nothing about a `softmax(x)` it
  only calls on a literal: normalising whole rows there is only a warning, which says so;
- a softmax over the whole array that the program only ever calls on one sample (a vector) is
  right there; called on a batch, it is reported.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, write

EXERCISES = '''\
import numpy as np


def layer(W, x, b):
    return np.dot(W, x) + b


def softmax(x):
    e = np.exp(x)
    return e / np.sum(e, axis=1, keepdims=True)


print(softmax(np.array([[9.0, 2.0, 5.0, 0.0], [7.0, 5.0, 0.0, 0.0]])))
'''

ROWS_PROGRAM = '''\
import numpy as np


def softmax(x):
    e = np.exp(x - x.max())
    return e / np.sum(e, axis={axis}, keepdims=True)


def predict(x, W1, b1, W2, b2):
    z1 = np.tanh(np.dot(x, W1) + b1)
    a2 = np.dot(z1, W2) + b2
    return softmax(a2)
'''

ONE_SAMPLE = '''\
import numpy as np

rng = np.random.default_rng(0)
W = rng.normal(size=(4, 3))


def softmax(a):
    e = np.exp(a - np.max(a))
    return e / np.sum(e)


for x in rng.normal(size=({n}, 4)){suffix}:
    print(softmax(x @ W))
'''


def _softmax_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "softmax-not-per-row"]


def test_a_row_softmax_in_a_file_of_column_exercises_is_only_a_warning_that_says_why(tmp_path):
    (finding,) = _softmax_findings(check(write(tmp_path, "exercises.py", EXERCISES)))
    assert finding["severity"] == "warning"
    assert finding["message"].endswith("(if your samples are columns: no call in this file shows which way they lie)")


def test_the_call_site_says_the_samples_are_rows_so_a_column_softmax_is_reported(tmp_path):
    assert _softmax_findings(check(write(tmp_path, "rows.py", ROWS_PROGRAM.format(axis=1)))) == []
    path = write(tmp_path, "rows.py", ROWS_PROGRAM.format(axis=0))
    (finding,) = _softmax_findings(check(path))
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "np.sum(e, axis="))


def test_a_whole_array_softmax_called_on_one_sample_at_a_time_is_right(tmp_path):
    assert _softmax_findings(check(write(tmp_path, "one_sample.py", ONE_SAMPLE.format(n=6, suffix="")))) == []


def test_the_same_softmax_called_on_a_batch_is_reported(tmp_path):
    path = write(tmp_path, "batch.py", ONE_SAMPLE.format(n=6, suffix="[None]"))  # one (6, 4) batch
    (finding,) = _softmax_findings(check(path))
    assert (finding["severity"], finding["line"]) == ("error", line_of(path, "return e / np.sum(e)"))
