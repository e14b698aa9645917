"""NumPy stand-ins for `scipy.signal.correlate2d` and `convolve2d`.

Convolution layers written after a popular tutorial call `signal.correlate2d(x, k, "valid")`
forward and `signal.convolve2d(g, k, "full")` backward. backprop-doctor does not depend on
SciPy; where it is missing, these take their place with SciPy's results for the modes such
layers use ('valid', 'full', 'same'; zero fill), so the layer is checked rather than skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FUNCTIONS = ("correlate2d", "convolve2d")  # `scipy.signal.<name>` stood in for


def correlate2d(in1: Any, in2: Any, mode: str = "full", boundary: str = "fill", fillvalue: float = 0) -> np.ndarray:
    a, k = np.asarray(in1), np.asarray(in2)
    if a.ndim != 2 or k.ndim != 2:
        raise ValueError("correlate2d inputs must both be 2-D arrays")
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError("backprop-doctor's stand-in for scipy.signal.correlate2d fills with zeros only")
    if mode == "valid" and all(s <= t for s, t in zip(a.shape, k.shape)) and a.shape != k.shape:
        return correlate2d(k, a, "valid")[::-1, ::-1]  # SciPy swaps the inputs when the second is larger
    kh, kw = k.shape
    if mode == "valid":
        padded = a
    elif mode in ("full", "same"):
        padded = np.pad(a, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    else:
        raise ValueError(f"mode must be 'valid', 'same' or 'full', not {mode!r}")
    windows = sliding_window_view(padded, (kh, kw))
    out = np.einsum("ijkl,kl->ij", windows, k)
    if mode == "same":  # SciPy's centre: the kernel's middle, rounded down for an even side
        out = out[kh // 2:kh // 2 + a.shape[0], kw // 2:kw // 2 + a.shape[1]]
    return out


def convolve2d(in1: Any, in2: Any, mode: str = "full", boundary: str = "fill", fillvalue: float = 0) -> np.ndarray:
    a, k = np.asarray(in1), np.asarray(in2)
    if mode == "valid" and k.ndim == 2 and a.ndim == 2 and all(s <= t for s, t in zip(a.shape, k.shape)) and a.shape != k.shape:
        a, k = k, a  # convolution is symmetric; SciPy's 'valid' takes the larger as the image
    if mode != "same":
        return correlate2d(a, k[::-1, ::-1], mode, boundary, fillvalue)
    full = correlate2d(a, k[::-1, ::-1], "full", boundary, fillvalue)
    top, left = (k.shape[0] - 1) // 2, (k.shape[1] - 1) // 2  # the flipped kernel's middle
    return full[top:top + a.shape[0], left:left + a.shape[1]]
