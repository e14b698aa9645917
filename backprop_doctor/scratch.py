"""Working copies of large arrays, made in memory an earlier copy of the same shape used.

A check copies the caller's input (and the network's weights) before it moves them. Those
copies live for one check; the next check of the same network makes them again. Made afresh,
each is memory the C allocator has just handed back to the system at the end of the previous
check (glibc trims the top of its heap once more than a megabyte or two lies free there), and
touching it again costs a page fault per 4 KiB page: for the book's 784-50-10 network and a
batch of 100, about 470 faults, a third of a whole `check_network`. Kept here between checks
instead, the same memory serves the next copy and no page is faulted in again.

A kept array is handed out again only when nothing else refers to it any more (its reference
count is the pool's alone: a layer that kept the array, or a view of it, holds a reference),
so no two live copies ever share memory. The pool keeps a few arrays, at most `KEPT_BYTES` in
all; a larger copy is made as before and not kept.
"""

from __future__ import annotations

import sys
from collections import OrderedDict

import numpy as np

KEPT_BYTES = 1 << 24  # 16 MiB: a batch of 2,000 MNIST images in float64
KEPT_ARRAYS = 4

# (shape, dtype) -> the array last copied at that shape, most recent last
_KEPT: OrderedDict[tuple[tuple[int, ...], np.dtype], np.ndarray] = OrderedDict()

# sys.getrefcount of a kept array that only the pool refers to, read as `copy_of` reads it:
# the pool's entry, the local name and getrefcount's own argument
_POOL_ONLY = 3


def copy_of(a: np.ndarray, dtype: np.dtype | type | None = None) -> np.ndarray:
    """`np.array(a, dtype=dtype)`: a new C-contiguous array equal to `a`, owning its data and
    writable, shared with nothing else that is alive."""
    dtype = np.dtype(a.dtype if dtype is None else dtype)
    nbytes = a.size * dtype.itemsize
    if nbytes > KEPT_BYTES or dtype.hasobject or a.dtype.hasobject:
        return np.array(a, dtype=dtype)
    key = (a.shape, dtype)
    kept = _KEPT.get(key)
    if kept is None or sys.getrefcount(kept) != _POOL_ONLY or not kept.flags.writeable:
        kept = np.empty(a.shape, dtype=dtype)
        _KEPT[key] = kept
        while len(_KEPT) > KEPT_ARRAYS or sum(k.nbytes for k in _KEPT.values()) > KEPT_BYTES:
            _KEPT.popitem(last=False)
    _KEPT.move_to_end(key)
    np.copyto(kept, a, casting="unsafe")
    return kept


def forget() -> None:
    """Let every kept array go (its memory is freed once nothing else refers to it)."""
    _KEPT.clear()
