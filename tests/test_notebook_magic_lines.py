"""A script saved from a Jupyter notebook keeps its IPython commands: `%matplotlib inline`,
`!pip install numpy`, or, exported by nbconvert, `get_ipython().run_line_magic(...)`. They are read
as comments, every line keeping its number, with a `notebook-magic` note: the training the script
runs is replayed, a wrong gradient is found at its own line, and a line that only looks like a
magic (inside a string) is left alone."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

CELLS = """\
# %% 1
!pip install numpy
import numpy as np
%matplotlib inline

# %% 2
np.random.seed(0)
X = np.random.randn(40, 3)
y = (X[:, :1] + X[:, 1:2] > 0).astype(float)
W1 = np.random.randn(3, 5) * 0.5
b1 = np.zeros((1, 5))
W2 = np.random.randn(5, 1) * 0.5
b2 = np.zeros((1, 1))

# %% 3
%%time
for i in range(300):
    a1 = np.tanh(X.dot(W1) + b1)
    p = 1 / (1 + np.exp(-(a1.dot(W2) + b2)))
    loss = np.mean((p - y) ** 2)
    dz2 = 2 * (p - y) * p * (1 - p) / len(X)
    dW2 = a1.T.dot(dz2)
    db2 = dz2.sum(axis=0, keepdims=True)
    dz1 = dz2.dot(W2.T) * (1 - a1 ** 2)
    dW1 = X.T.dot(dz1)
    db1 = dz1.sum(axis=0, keepdims=True)
    W1 -= 0.5 * dW1
    b1 -= 0.5 * db1
    W2 -= 0.5 * dW2
    b2 -= 0.5 * db2
"""

EXPORTED = CELLS.replace("!pip install numpy", "get_ipython().system('pip install numpy')").replace(
    "%matplotlib inline", "get_ipython().run_line_magic('matplotlib', 'inline')"
).replace("%%time\n", "")


def notes(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "notebook-magic"]


def magic_lines(path, *texts: str) -> list[int]:
    return [line_of(path, text) for text in texts]


def test_magics_and_shell_lines_are_read_as_comments_and_the_training_is_replayed(tmp_path):
    path = write(tmp_path, "cells.py", CELLS)
    report = check(path)
    assert errors(report) == []
    assert [b["what"] for b in report["built"]] == [f"training step (line {line_of(path, 'for i in range(300)')})"]
    (note,) = notes(report)
    lines = magic_lines(path, "!pip install", "%matplotlib inline", "%%time")
    assert (note["code"], note["severity"], note["line"], note["highlight"]) == ("BPD016", "info", lines[0], lines)
    assert note["fix"] == "# !pip install numpy"
    assert note["message"].startswith(f"lines {', '.join(map(str, lines))} hold IPython commands (`!pip install numpy`, ...)")


def test_a_wrong_gradient_after_the_magics_is_found_at_its_own_line(tmp_path):
    wrong = "dW2 = 2 * a1.T.dot(dz2)"
    path = planted(tmp_path, "cells.py", CELLS, "dW2 = a1.T.dot(dz2)", wrong)
    (found,) = errors(check(path))
    assert (found["code"], found["line"]) == ("BPD108", line_of(path, wrong))


def test_an_nbconvert_export_does_not_stop_at_get_ipython(tmp_path):
    path = write(tmp_path, "exported.py", EXPORTED)
    report = check(path)
    assert errors(report) == []
    assert report["built"] and "program-stopped" not in {f["name"] for f in report["findings"]}
    (note,) = notes(report)
    lines = magic_lines(path, "get_ipython().system", "get_ipython().run_line_magic")
    assert (note["line"], note["highlight"]) == (lines[0], lines)


def test_a_magic_looking_line_inside_a_string_is_left_alone(tmp_path):
    text = 'USAGE = """\n%matplotlib inline\n!pip install numpy\n"""\n' + CELLS.replace("!pip install numpy\n", "").replace(
        "%matplotlib inline\n", ""
    ).replace("%%time\n", "")
    report = check(write(tmp_path, "plain.py", text))
    assert notes(report) == [] and errors(report) == []


def test_a_python2_notebook_with_a_magic_gets_both_notes(tmp_path):
    path = write(tmp_path, "old.py", CELLS.replace("    b2 -= 0.5 * db2\n", "    b2 -= 0.5 * db2\n    print i, loss\n"))
    report = check(path)
    assert errors(report) == []
    assert {f["name"] for f in report["findings"]} >= {"notebook-magic", "python2"}
    (python2,) = [f for f in report["findings"] if f["name"] == "python2"]
    assert python2["line"] == line_of(path, "print i, loss")


def test_a_python2_notebook_whose_first_error_is_a_print_statement_gets_both_notes(tmp_path):
    path = write(tmp_path, "old.py", 'print "cells of an old notebook"\n' + CELLS)
    report = check(path)
    assert errors(report) == []
    (note,) = notes(report)
    assert note["highlight"] == magic_lines(path, "!pip install", "%matplotlib inline", "%%time")
    (python2,) = [f for f in report["findings"] if f["name"] == "python2"]
    assert python2["line"] == line_of(path, 'print "cells')


def test_a_future_import_at_the_top_of_a_later_cell_is_read_as_a_comment(tmp_path):
    """A notebook compiles each cell on its own, so `from __future__ import print_function` may open
    any cell; a script allows it only first. In Python 3 it changes nothing: the line is read as a
    comment and the training below it is checked."""
    text = CELLS.replace("# %% 2\n", "# %% 2\nfrom __future__ import print_function\n").replace("!pip install numpy\n", "").replace("%matplotlib inline\n", "").replace("%%time\n", "")
    path = write(tmp_path, "cells.py", text)
    report = check(path)
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["code"] == "BPD016"]
    assert note["line"] == line_of(path, "from __future__ import print_function")
    assert "holds a cell's `from __future__` import" in note["message"]
    assert {m["param"] for m in report["measurements"] if m["layer"] == "training step"} == {"W1", "b1", "W2", "b2"}


def test_a_wrong_gradient_below_a_late_future_import_and_magics_is_found_at_its_line(tmp_path):
    text = CELLS.replace("# %% 2\n", "# %% 2\nfrom __future__ import division\n")
    path = planted(tmp_path, "cells.py", text, "dz1 = dz2.dot(W2.T) * (1 - a1 ** 2)", "dz1 = dz2.dot(W2.T)")
    report = check(path)
    assert line_of(path, "dz1 = dz2.dot(W2.T)") in {f["line"] for f in errors(report)}
    (note,) = [f for f in report["findings"] if f["code"] == "BPD016"]
    assert "hold IPython commands and cells' `from __future__` imports" in note["message"]
