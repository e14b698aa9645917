"""NumPy stand-ins for the `scipy.special` functions hand-written networks call.

"Make Your Own Neural Network" and its many copies set
`self.activation_function = lambda x: scipy.special.expit(x)`; others take `softmax` or
`logsumexp` from there. backprop-doctor does not depend on SciPy; where it is missing these
take their place, with SciPy's defaults (`softmax` and `logsumexp` over the whole array unless
an axis is given), so the network runs and is checked rather than skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FUNCTIONS = ("expit", "logit", "softmax", "logsumexp")  # `scipy.special.<name>` stood in for


def expit(x: Any) -> Any:
    """The logistic sigmoid, 1 / (1 + e^-x), without overflow for large negative x."""
    x = np.asarray(x, dtype=np.result_type(x, np.float64) if not np.issubdtype(np.asarray(x).dtype, np.floating) else np.asarray(x).dtype)
    return np.exp(-np.logaddexp(0, -x))


def logit(p: Any) -> Any:
    p = np.asarray(p, dtype=np.float64) if not np.issubdtype(np.asarray(p).dtype, np.floating) else np.asarray(p)
    return np.log(p) - np.log1p(-p)


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    a = np.asarray(a)
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def softmax(x: Any, axis: Any = None) -> Any:
    x = np.asarray(x)
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))
