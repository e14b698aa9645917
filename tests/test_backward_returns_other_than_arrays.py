"""A backward that returns something other than an array never stops the check of the whole file.
A framework's objects (a `Tensor` that holds its array in `.data`, and which NumPy reads as a
sequence of more of them) are skipped with an info note; a ragged list of arrays is a bad return
(BPD107) at its line. The file's other layers are checked all the same."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

LAYERS = '''\
import numpy as np


class Tensor:
    def __init__(self, data):
        self.data = np.asarray(data)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return Tensor(self.data[index])


class Double:
    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        return Tensor(2 * dout)


class Halves:
    def forward(self, x):
        return 0.5 * x

    def backward(self, dout):
        return [0.5 * dout[:, :2], 0.5 * dout[:, 2:]]


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out ** 2)
'''


def _by_code(report: dict, severity: str) -> list[tuple[str, str, int]]:
    return [(f["code"], f["layer"], f["line"]) for f in report["findings"] if f["severity"] == severity]


def test_framework_objects_are_a_note_a_ragged_list_a_bad_return_and_the_rest_is_checked(tmp_path):
    path = write(tmp_path, "layers.py", LAYERS)
    report = check(path)
    assert _by_code(report, "error") == [("BPD107", "Halves", line_of(path, "return [0.5 * dout"))]
    assert ("BPD107", "Double", line_of(path, "return Tensor(2 * dout)")) in _by_code(report, "info")
    assert ("Tanh", "x", "ok") in {(m["layer"], m["param"], m["verdict"]) for m in report["measurements"]}


def test_a_wrong_layer_beside_one_that_returns_framework_objects_is_still_found(tmp_path):
    path = planted(tmp_path, "layers.py", LAYERS, "dout * (1 - self.out ** 2)", "dout * (1 - self.out)")
    found = [(f["code"], f["layer"], f["line"]) for f in errors(check(path)) if f["layer"] == "Tanh"]
    assert found == [("BPD101", "Tanh", line_of(path, "dout * (1 - self.out)"))]
