"""A module-level container filled by statements the definitions leave out.

Objects are built from a file's definitions: imports, functions, classes and assignments that
call nothing. `vocab["the"] = 1` calls nothing either, but it writes into `vocab` rather than
binding a name; once a statement that fills a container is left out, the container is
incomplete, and a kept statement that reads it (`x = vocab["the"]`) would fail in the tool's
hands, never in the user's."""

from __future__ import annotations

from tests.userfiles import check, errors, write

WORDS = '''\
import numpy as np

onehots = {}
onehots["cat"] = np.array([1.0, 0.0, 0.0])
onehots["the"] = np.array([0.0, 1.0, 0.0])
counts = []
for word in ["the", "cat"]:
    counts.append(len(word))
x = onehots["the"] + onehots["cat"]
width = len(counts)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
'''


def test_a_container_filled_by_left_out_statements_is_not_read_by_kept_ones(tmp_path):
    path = write(tmp_path, "words.py", WORDS)
    report = check(path, "--no-run")
    assert [f for f in report["findings"] if f["name"] == "load-error"] == []
    assert errors(report) == []
    assert any(m["layer"] == "Affine" and m["verdict"] == "ok" for m in report["measurements"])


def test_a_module_attribute_set_in_a_left_out_statement_keeps_the_module_usable(tmp_path):
    """`np.seterr(...)` and `plt.rcParams[...] = ...` leave out nothing the definitions need."""
    source = WORDS.replace('onehots = {}\n', 'np.set_printoptions(precision=3)\nnp.core_options = {}\nnp.core_options["x"] = 1\nonehots = {}\n')
    path = write(tmp_path, "words.py", source)
    report = check(path, "--no-run")
    assert errors(report) == []
    assert any(m["layer"] == "Affine" and m["verdict"] == "ok" for m in report["measurements"])
