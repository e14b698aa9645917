"""f-strings that reuse their own quotes inside their braces (Python 3.12, PEP 701).

`f"saved as {names["weights"]}.npz"` is right for the Python 3.12 its author ran. An older Python
stops at that line with "f-string: expecting '}'", so nothing in the file could be checked:
the line is read with the other quotes inside its braces, every line keeping its number, the
file is checked, and a `newer-python` note says which lines were read that way. On Python 3.12
and newer the file parses as it is and no note is made.
"""

from __future__ import annotations

import sys

import pytest

from tests.userfiles import check, errors, line_of, write

PROGRAM = """\
    import numpy as np

    class Linear:
        def __init__(self, n_in, n_out):
            self.W = np.random.randn(n_in, n_out) * 0.1
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T{wrong}

        def describe(self, names):
            return f"weights {{self.W.shape}}, saved as {{names["weights"]}}.npz"
"""


def _notes(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "newer-python"]


def test_a_file_using_the_newer_quotes_is_checked_and_the_line_named(tmp_path):
    path = write(tmp_path, "linear.py", PROGRAM.format(wrong=""))
    text = path.read_bytes()
    report = check(path)
    assert errors(report) == []
    assert {m["param"] for m in report["measurements"] if m["layer"] == "Linear"} == {"x", "W", "b"}
    assert path.read_bytes() == text  # read another way, never rewritten
    if sys.version_info >= (3, 12):
        assert _notes(report) == []  # the file parses as it is
    else:
        (note,) = _notes(report)
        line = line_of(path, "saved as")
        assert (note["code"], note["severity"], note["line"]) == ("BPD017", "info", line)
        assert note["fix"] == 'return f"weights {self.W.shape}, saved as {names[\'weights\']}.npz"'


def test_a_wrong_gradient_in_such_a_file_is_found_at_its_line(tmp_path):
    path = write(tmp_path, "linear.py", PROGRAM.format(wrong=" * 2"))
    (error,) = errors(check(path))
    assert (error["name"], error["param"], error["line"]) == ("gradient-mismatch", "x", line_of(path, "return dout @ self.W.T * 2"))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 parses the line itself")
def test_a_line_with_both_quotes_inside_one_field_is_still_a_syntax_error(tmp_path):
    path = write(tmp_path, "broken.py", """\
        name = "w"
        print(f"{ {"a": 'b'}[name] }")
    """)
    report = check(path)
    assert [f["name"] for f in report["findings"] if f["severity"] == "error"] == ["syntax-error"]
