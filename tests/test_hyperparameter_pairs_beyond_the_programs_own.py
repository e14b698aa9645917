"""Function pairs that take their hyperparameters in a dict (`{"f": 2, "stride": 1}`) are checked on
the program's own call and on the built cases too: a pooling backward that forgets the stride is
right at the stride the demo uses and wrong at every other one."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

POOL = '''\
import numpy as np


def pool_forward(A_prev, hparameters):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H = 1 + (n_H_prev - f) // stride
    n_W = 1 + (n_W_prev - f) // stride
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vert_start, horiz_start = h * stride, w * stride
                window = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, :]
                A[i, h, w, :] = np.max(window, axis=(0, 1))
    return A, (A_prev, hparameters)


def pool_backward(dA, cache):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                vert_start, horiz_start = h * stride, w * stride
                for c in range(n_C):
                    window = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c]
                    mask = window == np.max(window)
                    dA_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c] += mask * dA[i, h, w, c]
    return dA_prev


np.random.seed(1)
A_prev = np.random.randn(2, 5, 5, 3)
A, cache = pool_forward(A_prev, {"f": 2, "stride": 1})
dA_prev = pool_backward(np.random.randn(*A.shape), cache)
print(np.mean(dA_prev))
'''


def test_a_correct_pooling_pair_is_clean_on_every_case(tmp_path):
    path = write(tmp_path, "pool.py", POOL)
    report = check(path)
    assert errors(report) == []
    origins = [b["origin"] for b in report["built"] if b["what"] == "pool_forward/pool_backward"]
    assert "observed" in origins and len(origins) == 2


def test_a_backward_that_forgets_the_stride_is_found_though_the_program_pools_at_stride_1(tmp_path):
    # right at the program's own stride, wrong at the other one: named, as a warning, since the
    # program never pools so
    path = planted(tmp_path, "pool.py", POOL, "                vert_start, horiz_start = h * stride, w * stride\n                for c",
                   "                vert_start, horiz_start = h, w\n                for c")
    report = check(path)
    assert errors(report) == []
    (finding,) = [f for f in report["findings"] if f["name"] == "gradient-mismatch"]
    assert (finding["severity"], finding["pattern"]) == ("warning", "configuration-not-used")
    assert f"right with your program's own call (line {line_of(path, 'A, cache = pool_forward')})" in finding["message"]
    assert "wrong with stride 2, channels last, arguments backprop-doctor chose" in finding["message"]
    assert line_of(path, "def pool_backward") <= finding["line"] <= line_of(path, "return dA_prev")
