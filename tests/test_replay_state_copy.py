"""The replay's copy of a program's state (`replay.state._copied`) is `copy.deepcopy`, written out.

Each replay starts from a fresh copy of the program's variables; `_copied` copies dicts, lists,
arrays, `OrderedDict`s and plain objects itself and hands everything else to `copy.deepcopy`. These
tests hold both to the same result: the same values, the same sharing between the copies (two names
for one array stay one array; a cycle stays a cycle), nothing shared with the original, and the same
memo afterwards.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_doctor.replay.state import _copied, _deepcopy


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.dW = np.zeros_like(W)


class Relu:
    def __init__(self):
        self.mask = None


class Net:
    def __init__(self, rng):
        self.params = {"W1": rng.standard_normal((4, 3)), "b1": np.zeros(3)}
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.order = list(self.layers.values())
        self.me = self  # a cycle


class WithState:
    def __init__(self):
        self.w = np.ones(2)

    def __getstate__(self):
        return {"w": self.w * 2}

    def __setstate__(self, state):
        self.__dict__.update(state)


class Slotted:
    __slots__ = ("w",)

    def __init__(self):
        self.w = np.ones(3)


class Listed(list):
    pass


@dataclass
class Point:
    x: np.ndarray
    tag: str = "p"


def _shape(value, seen):
    """The structure of `value` as nested tuples, with each object named by the order it is first met
    (so two structures compare equal when they share alike) and arrays by their bytes and layout."""
    key = id(value)
    if key in seen:
        return ("ref", seen[key])
    if isinstance(value, (int, float, str, bytes, bool, type(None), complex)):
        return ("atom", type(value).__name__, value)
    seen[key] = len(seen)
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        return ("objects", value.shape, tuple(_shape(v, seen) for v in value.ravel()))
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.flags.c_contiguous, value.flags.f_contiguous, value.tobytes())
    if isinstance(value, dict):
        return (type(value).__name__, tuple((_shape(k, seen), _shape(v, seen)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_shape(v, seen) for v in value))
    if hasattr(value, "__dict__"):
        return (type(value).__name__, _shape(vars(value), seen))
    if hasattr(type(value), "__slots__"):
        return (type(value).__name__, tuple(_shape(getattr(value, s), seen) for s in type(value).__slots__))
    return ("other", type(value).__name__)


def _arrays(value, seen=None, found=None):
    """The ids of the arrays `value` reaches."""
    seen, found = (set(), set()) if seen is None else (seen, found)
    if id(value) in seen or isinstance(value, (int, float, str, bytes, bool, type(None), complex)):
        return found
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        found.add(id(value))
    items = (
        [*value.keys(), *value.values()] if isinstance(value, dict)
        else list(value) if isinstance(value, (list, tuple))
        else list(vars(value).values()) if hasattr(value, "__dict__")
        else []
    )  # fmt: skip
    for item in items:
        _arrays(item, seen, found)
    return found


def _both(value):
    memo_a, memo_b = {}, {}
    a, b = copy.deepcopy(value, memo_a), _deepcopy(value, memo_b)
    return a, b, memo_a, memo_b


def _same(value):
    a, b, memo_a, memo_b = _both(value)
    assert _shape(a, {}) == _shape(b, {})
    assert not _arrays(b) & _arrays(value), "no array of the copy is one of the original's"
    _same_memo(value, memo_a, memo_b)
    return b


def _same_memo(value, memo_a, memo_b):
    """The same of the original's objects copied and kept alive (the memo also holds objects `copy`
    made on the way, a reduced object's state, whose ids differ from run to run)."""
    reached = _reached(value)
    assert {k for k in memo_a if k in reached} == {k for k in memo_b if k in reached}, "the same objects copied"
    kept_a, kept_b = ([id(x) for x in memo[id(memo)] if id(x) in reached] for memo in (memo_a, memo_b))
    assert kept_a == kept_b, "kept alive in the same order"


def _reached(value, seen=None):
    """The ids of everything `value` reaches, itself included."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return seen
    seen.add(id(value))
    items = (
        [*value.keys(), *value.values()] if isinstance(value, dict)
        else list(value) if isinstance(value, (list, tuple))
        else list(value.ravel()) if isinstance(value, np.ndarray) and value.dtype.hasobject
        else [vars(value)] if hasattr(value, "__dict__") and not isinstance(value, np.ndarray)
        else [getattr(value, n) for n in getattr(type(value), "__slots__", ())]
    )  # fmt: skip
    for item in items:
        _reached(item, seen)
    return seen


def test_a_book_network_copies_as_deepcopy_does():
    net = Net(np.random.default_rng(0))
    made = _same(net)
    assert made.layers["Affine1"].W is made.params["W1"], "the layer and the params dict still share W1"
    assert made.params["W1"] is not net.params["W1"]
    assert made.me is made


def test_views_and_orders_are_kept_as_deepcopy_keeps_them():
    base = np.arange(24.0).reshape(4, 6)
    value = {"F": np.asfortranarray(base), "T": base.T, "row": base[1], "strided": base[:, ::2], "again": base}
    made = _same(value)
    assert made["F"].flags.f_contiguous and made["T"].flags.f_contiguous


@pytest.mark.parametrize(
    "value",
    [
        [WithState(), WithState()],
        {"s": Slotted()},
        Listed([np.ones(2), 3]),
        {"p": Point(np.zeros(3)), "q": (np.ones(1), [1, 2])},
        {"objects": np.array([np.ones(2), None], dtype=object)},
        {"ints": np.arange(5), "f32": np.ones(3, dtype=np.float32), "scalar": np.float64(2.5)},
    ],
    ids=["getstate-hooks", "slots", "list-subclass", "dataclass-and-tuple", "object-array", "dtypes"],
)
def test_objects_with_their_own_copy_rules_copy_as_deepcopy_does(value):
    _same(value)


def test_arrays_in_the_memo_stay_shared():
    data = np.ones((10, 3))
    value = {"X": data, "net": {"inputs": data, "W": np.zeros(3)}}
    memo = {id(data): data}
    made = _deepcopy(value, memo)
    assert made["X"] is data and made["net"]["inputs"] is data
    assert made["net"]["W"] is not value["net"]["W"]


def test_closures_still_get_their_own_cells():
    params = {"W": np.ones(2)}

    def forward(x):
        return x @ params["W"]

    made = _deepcopy({"params": params, "forward": forward}, {})
    made["params"]["W"][:] = 3.0
    assert made["forward"](np.ones(2)) == 6.0 and forward(np.ones(2)) == 2.0


leaves = st.one_of(
    st.integers(-3, 3),
    st.text(max_size=2),
    st.builds(lambda n: np.arange(float(n)), st.integers(0, 4)),
)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.text(max_size=2), inner, max_size=3),
            st.builds(lambda items: OrderedDict(items), st.dictionaries(st.text(max_size=2), inner, max_size=3)),
            st.builds(lambda w, b: Affine(w, b), st.builds(lambda n: np.ones((n, 2)), st.integers(1, 3)), inner),
            st.tuples(inner, inner),
        ),
        max_leaves=12,
    ),
    st.data(),
)
def test_any_nesting_with_shared_parts_copies_as_deepcopy_does(value, data):
    shared = np.ones(3)
    wrapped = [value, shared, {"again": shared, "value": value}]
    if data.draw(st.booleans()):
        wrapped.append(wrapped)  # a cycle
    a, b, memo_a, memo_b = _both(wrapped)
    assert _shape(a, {}) == _shape(b, {})
    _same_memo(wrapped, memo_a, memo_b)
