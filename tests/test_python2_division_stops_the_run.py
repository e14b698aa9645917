"""A `/` between integers that stops the observed run in Python 3 (`checks/python2.py`).

A Python 2 program slices with `N/2` (`wordVectors[:N/2, :]`): Python 2 rounded the quotient down,
Python 3 makes it a float and the slice raises TypeError, so the program stopped there while
backprop-doctor watched it. That stop is now a `python2` warning at the division, whose fix is the
line written with `//`, naming the other lines of the function that divide the same way; a
division made in an earlier line and read through a name is found there. The same program written
with `//` runs and gets no such finding. Real CLI, in a subprocess.
"""

from __future__ import annotations

from tests.userfiles import check, line_of, write

# Python 2 (print statements), the division on the slice's own line, called from the top level
PYTHON2 = '''
import numpy as np

def split_vectors(vectors):
    N = vectors.shape[0]
    first = vectors[:N/2, :]
    second = vectors[N/2:, :]
    return first, second

def cost(vectors):
    first, second = split_vectors(vectors)
    grad = np.zeros(vectors.shape)
    N = vectors.shape[0]
    grad[:N/2, :] += 2 * first
    grad[N/2:, :] += 2 * second
    return np.sum(first ** 2) + np.sum(second ** 2), grad

print "checking"
value, grad = cost(np.random.randn(10, 3))
print value
'''

# Python 3, the quotient bound to a name one line before the index that reads it
PYTHON3 = '''
import numpy as np


def halves(data):
    half = len(data) / 2
    return data[:half], data[half:]


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    train, test = halves(rng.standard_normal((40, 3)))
    print(train.shape)
'''


def _division(report):
    found = [f for f in report["findings"] if f["pattern"] == "python2-division"]
    assert len(found) == 1, report["findings"]
    return found[0]


def test_a_python2_slice_by_a_quotient_is_named_with_its_fix(tmp_path):
    path = write(tmp_path, "word2vec.py", PYTHON2)
    report = check(path)
    finding = _division(report)
    line = line_of(path, "first = vectors[:N/2, :]")
    assert (finding["name"], finding["severity"], finding["line"]) == ("python2", "warning", line)
    assert finding["fix"].strip() == "first = vectors[:N//2, :]"
    assert finding["message"].startswith(f"`N/2` (line {line}) is a float in Python 3 (this is Python 2 code, where `/` between two integers rounded down)")
    assert "slice indices must be integers" in finding["message"]
    assert finding["message"].endswith(f"write `//` for a whole-number quotient; line {line + 1} divides the same way")
    fixed = write(tmp_path / "fixed", "word2vec.py", PYTHON2.replace("N/2", "N//2"))
    assert not any(f["pattern"] == "python2-division" for f in check(fixed)["findings"])


def test_a_python3_quotient_read_through_a_name_is_named_at_its_line(tmp_path):
    path = write(tmp_path, "split.py", PYTHON3)
    report = check(path)
    finding = _division(report)
    division, stopped = line_of(path, "half = len(data) / 2"), line_of(path, "return data[:half], data[half:]")
    assert (finding["line"], finding["highlight"]) == (division, [division, stopped])
    assert finding["fix"].strip() == "half = len(data) // 2"
    assert finding["message"].startswith(f"`len(data) / 2` (line {division}) is a float in Python 3 (Python 2 rounded it down), "
                                         f"and your program stopped at line {stopped} on it")
    fixed = write(tmp_path / "fixed", "split.py", PYTHON3.replace("len(data) / 2", "len(data) // 2"))
    report = check(fixed)
    assert not any(f["pattern"] == "python2-division" or f["name"] == "program-stopped" for f in report["findings"]), report["findings"]
