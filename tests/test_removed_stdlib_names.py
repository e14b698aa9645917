"""A 2017 course notebook that times its layers with `time.clock` (removed in Python 3.8): the name
is given back as `time.perf_counter` while the program runs, so its layers are checked, and a
`python-removed` warning names the line where Python stops, with that line rewritten."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

NOTEBOOK = """\
import numpy as np
from time import time, clock


def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    out = cache
    dx = dout * out * (1.0 - out)
    return dx


np.random.seed(231)
x = np.random.randn(4, 5)
t0 = clock()
out, cache = sigmoid_forward(x)
t1 = clock()
dx = sigmoid_backward(np.random.randn(*out.shape), cache)
print('forward took %fs, backward %fs' % (t1 - t0, clock() - t1))
"""

MODULE_FORM = NOTEBOOK.replace("from time import time, clock", "import time as tm").replace("clock()", "tm.clock()")


def test_from_time_import_clock_is_given_back_and_the_layers_are_checked(tmp_path):
    path = write(tmp_path, "notebook.py", NOTEBOOK)
    report = check(path)
    assert errors(report) == []
    assert [b["what"] for b in report["built"]] == ["sigmoid_forward/sigmoid_backward"]
    (removed,) = [f for f in report["findings"] if f["name"] == "python-removed"]
    import_line = line_of(path, "from time import time, clock")
    assert (removed["code"], removed["severity"], removed["line"]) == ("BPD013", "warning", import_line)
    assert removed["highlight"] == [import_line]
    assert removed["fix"] == "from time import time, perf_counter as clock"
    assert "`time.clock`" in removed["message"] and "write `time.perf_counter` instead" in removed["message"]


def test_time_clock_read_through_the_module_is_listed_on_every_line(tmp_path):
    path = write(tmp_path, "notebook.py", MODULE_FORM)
    report = check(path)
    assert errors(report) == []
    (removed,) = [f for f in report["findings"] if f["name"] == "python-removed"]
    lines = [i for i, text in enumerate(path.read_text().splitlines(), 1) if "tm.clock()" in text]
    assert len(lines) == 3
    assert (removed["line"], removed["highlight"]) == (lines[0], lines)
    assert removed["fix"] == "t0 = tm.perf_counter()"


def test_a_wrong_gradient_behind_the_clock_import_is_found_at_its_line(tmp_path):
    wrong = "dx = dout * out"
    path = planted(tmp_path, "notebook.py", NOTEBOOK, "dx = dout * out * (1.0 - out)", wrong)
    (finding,) = errors(check(path))
    assert (finding["code"], finding["line"]) == ("BPD101", line_of(path, wrong))


def test_a_file_without_time_clock_gets_no_warning(tmp_path):
    path = write(tmp_path, "notebook.py", NOTEBOOK.replace("clock", "perf_counter"))
    report = check(path)
    assert [f for f in report["findings"] if f["name"] == "python-removed"] == []
    assert errors(report) == []
