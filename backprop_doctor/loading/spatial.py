"""A NumPy stand-in for `scipy.spatial.distance.cdist`.

Scripts that make their own toy data set label its points by their distances to a few landmarks
(`cdist(X, landmarks)`) before the network ever runs. backprop-doctor does not depend on SciPy;
where it is missing this takes its place for the common metrics, so the program reaches its
network rather than stopping at its data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FUNCTIONS = ("cdist",)  # `scipy.spatial.distance.<name>` stood in for


def cdist(XA: Any, XB: Any, metric: Any = "euclidean", *, p: float = 2.0, **_: Any) -> np.ndarray:
    """The (len(XA), len(XB)) distances between every row of XA and every row of XB."""
    a = np.asarray(XA, dtype=np.float64)
    b = np.asarray(XB, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError("XA and XB must be 2-D arrays with the same number of columns")
    if callable(metric):
        return np.array([[float(metric(u, v)) for v in b] for u in a]).reshape(len(a), len(b))
    difference = a[:, None, :] - b[None, :, :]
    if metric == "sqeuclidean":
        return np.sum(difference**2, axis=-1)
    if metric == "euclidean":
        return np.sqrt(np.sum(difference**2, axis=-1))
    if metric in ("cityblock", "manhattan"):
        return np.sum(np.abs(difference), axis=-1)
    if metric == "chebyshev":
        return np.max(np.abs(difference), axis=-1)
    if metric == "minkowski":
        return np.sum(np.abs(difference) ** p, axis=-1) ** (1.0 / p)
    if metric == "cosine":
        norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
        return 1.0 - (a @ b.T) / norms
    raise NotImplementedError(f"backprop-doctor's stand-in for scipy.spatial.distance.cdist has no metric {metric!r}")
