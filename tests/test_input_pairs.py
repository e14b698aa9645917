"""A forward function and a backward function that takes the forward's inputs again, then the
upstream gradient, and keeps no cache: `conv_backward(x, kernel, d_out) -> d_kernel` beside
`conv_forward(x, kernel)`, `dense_backward(x, w, b, grad_out) -> (dx, dw, db)` beside
`dense_forward(x, w, b)`, `conv1d_backward(signal, filt, grad)` beside `conv1d(signal, filt)`. Checked on the program's own call, else on a batch of rows with a weight
matrix and a bias; correct pairs are clean, a planted wrong gradient is named at its line."""

import pytest

from tests.userfiles import check, line_of, planted, write

# one 2-D image and a kernel, the backward returns the kernel's gradient alone; the script calls it
CONV = """
    import numpy as np


    def conv_forward(img, kernel):
        kh, kw = kernel.shape
        rows, cols = img.shape[0] - kh + 1, img.shape[1] - kw + 1
        out = np.zeros((rows, cols))
        for r in range(rows):
            for c in range(cols):
                out[r, c] = (img[r:r + kh, c:c + kw] * kernel).sum()
        return out


    def conv_backward(img, kernel, d_out):
        kh, kw = kernel.shape
        d_kernel = np.zeros_like(kernel)
        for r in range(d_out.shape[0]):
            for c in range(d_out.shape[1]):
                d_kernel += img[r:r + kh, c:c + kw] * d_out[r, c]
        return d_kernel


    rng = np.random.default_rng(3)
    picture = rng.normal(size=(6, 7))
    k = rng.normal(size=(3, 2))
    y = conv_forward(picture, k)
    g = conv_backward(picture, k, np.ones_like(y))
    print(y.shape, g.shape)
"""

# a dense layer over a batch of rows, the backward returns (dx, dw, db); no script calls it
DENSE = """
    import numpy as np


    def dense_forward(x, w, b):
        return np.tanh(x @ w + b)


    def dense_backward(x, w, b, grad_out):
        a = np.tanh(x @ w + b)
        dz = grad_out * (1 - a ** 2)
        dw = x.T @ dz
        db = dz.sum(axis=0)
        dx = dz @ w.T
        return dx, dw, db
"""

# no `forward` in the name: `conv1d` beside `conv1d_backward`, returning (d_signal, d_filt); called by the script
CONV1D = """
    import numpy as np


    def conv1d(signal, filt):
        k = len(filt)
        return np.array([signal[i:i + k] @ filt for i in range(len(signal) - k + 1)])


    def conv1d_backward(signal, filt, grad):
        k = len(filt)
        d_signal = np.zeros_like(signal)
        d_filt = np.zeros_like(filt)
        for i in range(len(grad)):
            d_signal[i:i + k] += grad[i] * filt
            d_filt += grad[i] * signal[i:i + k]
        return d_signal, d_filt


    s = np.linspace(-1.0, 1.0, 9) ** 2
    w = np.array([0.5, -1.0, 0.25])
    print(conv1d(s, w), conv1d_backward(s, w, np.ones(7)))
"""

CASES = [
    pytest.param(CONV, "d_kernel += img[r:r + kh, c:c + kw] * d_out[r, c]", "d_kernel += img[r:r + kh, c:c + kw] * d_out[r, c] * 0.5", {"kernel"}, id="conv-kernel"),
    pytest.param(CONV1D, "d_signal[i:i + k] += grad[i] * filt", "d_signal[i:i + k] += grad[i] * filt[::-1]", {"x", "filt"}, id="conv1d-no-forward-in-the-name"),
    pytest.param(DENSE, "db = dz.sum(axis=0)", "db = grad_out.sum(axis=0)", {"x", "w", "b"}, id="dense-rows"),
]


@pytest.mark.parametrize(("source", "correct", "wrong", "params"), CASES)
def test_a_correct_pair_whose_backward_takes_the_inputs_again_is_checked_and_clean(tmp_path, source, correct, wrong, params):
    report = check(write(tmp_path, "pair.py", source))
    assert report["verdict"].startswith("✓"), report["verdict"]
    assert {m["param"] for m in report["measurements"] if m["verdict"] == "ok"} == params, report["measurements"]


@pytest.mark.parametrize(("source", "correct", "wrong", "params"), CASES)
def test_a_wrong_gradient_of_such_a_pair_is_named_at_its_line(tmp_path, source, correct, wrong, params):
    path = planted(tmp_path, "pair.py", source, correct, wrong)
    report = check(path)
    root = report["findings"][report["root_cause"]]
    assert root["severity"] == "error" and root["line"] == line_of(path, wrong), root
