"""A max-pooling layer over channels-last batches (N, H, W, C) whose window is annotated as a pair
(`pool_size: Tuple[int, int]`): it is built with a (2, 2) window, fed an (N, H, W, C) batch, and
checked; a backward that routes the gradient to the wrong element is found."""

from tests.userfiles import check, errors, line_of, planted

POOL = """
    from typing import Tuple

    import numpy as np


    class MaxPool:
        def __init__(self, pool_size: Tuple[int, int], stride: int = 2):
            self.pool_size, self.stride = pool_size, stride

        def forward_pass(self, a, training):
            self.a = a
            n, h, w, c = a.shape
            ph, pw = self.pool_size
            ho, wo = 1 + (h - ph) // self.stride, 1 + (w - pw) // self.stride
            out = np.zeros((n, ho, wo, c))
            for i in range(ho):
                for j in range(wo):
                    window = a[:, i * self.stride:i * self.stride + ph, j * self.stride:j * self.stride + pw, :]
                    out[:, i, j, :] = window.max(axis=(1, 2))
            return out

        def backward_pass(self, d):
            ph, pw = self.pool_size
            da = np.zeros_like(self.a)
            for i in range(d.shape[1]):
                for j in range(d.shape[2]):
                    hs, ws = i * self.stride, j * self.stride
                    window = self.a[:, hs:hs + ph, ws:ws + pw, :]
                    mask = window == window.max(axis=(1, 2), keepdims=True)
                    da[:, hs:hs + ph, ws:ws + pw, :] += mask * d[:, i:i + 1, j:j + 1, :]
            return da
"""


def test_a_channels_last_pool_with_a_pair_window_is_built_and_checked(tmp_path):
    report = check(planted(tmp_path, "pool.py", POOL, "mask = window ==", "mask = window =="))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "MaxPool"]
    assert "pool_size=(2, 2)" in built["how"] and built["skipped"] is None
    assert any(row["layer"] == "MaxPool" and row["verdict"] == "ok" for row in report["measurements"])


def test_its_wrong_routing_is_found(tmp_path):
    path = planted(tmp_path, "pool.py", POOL, "mask = window == window.max(", "mask = window == window.min(")
    (found,) = errors(check(path))
    assert found["code"] == "BPD101"
    assert found["line"] in (line_of(path, "mask = window == window.min("), line_of(path, "da[:, hs:hs + ph"))  # the mask, or where it routes
