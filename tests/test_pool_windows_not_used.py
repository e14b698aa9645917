"""A max-pool backward that assigns (`dx[...] = dout[...]`) is exact for windows that do not overlap,
the 2 × 2, stride-2 pooling of cs231n and the book, and wrong only where windows overlap: a cell that
is the maximum of two windows must get both gradients. The program's own call passes, so that is a
warning about a configuration it does not use, with the `+=` that makes it right; a backward wrong
for the program's own windows stays an error."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

POOL = '''\
import numpy as np


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]
    return dx
'''

DEMO = '''

np.random.seed(0)
x = np.random.randn(2, 3, 4, 4)
out, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
dx = max_pool_backward_naive(np.ones_like(out), cache)
print(out.shape, dx.sum())
'''

ADDS = "dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]"
ASSIGNS = "dx[n, c, i * s + r, j * s + q] = dout[n, c, i, j]"


def _pool_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "gradient-mismatch"]


def test_an_adding_backward_is_clean(tmp_path):
    report = check(write(tmp_path, "pool.py", POOL + DEMO))
    assert _pool_findings(report) == []


def test_an_assigning_backward_is_a_warning_about_overlapping_windows_the_program_never_uses(tmp_path):
    path = planted(tmp_path, "pool.py", POOL + DEMO, ADDS, ASSIGNS)
    report = check(path)
    assert errors(report) == []
    (finding,) = _pool_findings(report)
    assert (finding["severity"], finding["pattern"], finding["line"]) == ("warning", "configuration-not-used", line_of(path, ASSIGNS))
    assert f"right with your program's own call (line {line_of(path, 'out, cache = max_pool_forward_naive(x')})" in finding["message"]
    assert "wrong with overlapping windows" in finding["message"]
    assert "add into it with `+=` instead of assigning" in finding["message"]


def test_without_a_call_of_its_own_the_windows_that_do_not_overlap_vouch_for_it(tmp_path):
    path = planted(tmp_path, "pool.py", POOL, ADDS, ASSIGNS)
    report = check(path)
    assert errors(report) == []
    (finding,) = _pool_findings(report)
    assert (finding["severity"], finding["pattern"]) == ("warning", "configuration-not-used")
    assert "right with windows that do not overlap (stride 2) but wrong with overlapping windows" in finding["message"]


def test_a_backward_wrong_for_the_programs_own_windows_stays_an_error(tmp_path):
    # the gradient routed to the window's corner, not to its maximum: wrong at every stride
    path = planted(tmp_path, "pool.py", POOL + DEMO, ADDS, "dx[n, c, i * s, j * s] += dout[n, c, i, j]")
    found = errors(check(path))
    assert [(f["name"], f["line"]) for f in found] == [("gradient-mismatch", line_of(path, "dx[n, c, i * s, j * s] += dout"))]
    assert found[0]["pattern"] != "configuration-not-used"
