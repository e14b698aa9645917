"""The working copy a check makes of a user's network (`conventions._base.copied`) is the copy
`copy.deepcopy` makes: the same types, the same values, the same objects shared, every
`__deepcopy__`, `__reduce__`, `__getstate__`/`__setstate__` and `__slots__` of the user's
honoured, nothing of the original touched. Plain objects, dicts, lists and arrays are copied
without the protocol's calls; these tests hold that shortcut to what the protocol gives."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

from backprop_doctor.conventions._base import copied


def _isomorphic(a, b, pairs=None) -> bool:
    """Whether two object graphs have the same types, values and sharing (b's object for each
    of a's objects is always the same one)."""
    pairs = {} if pairs is None else pairs
    if type(a) is not type(b):
        return False
    if isinstance(a, (int, float, str, bytes, bool, type(None), type)) or callable(a) and not hasattr(a, "__self__"):
        return a == b
    if id(a) in pairs:
        return pairs[id(a)] is b
    pairs[id(a)] = b
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.hasobject:
            return all(_isomorphic(u, v, pairs) for u, v in zip(a.ravel(), b.ravel()))
        return bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_isomorphic(a[k], b[k], pairs) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_isomorphic(u, v, pairs) for u, v in zip(a, b))
    if hasattr(a, "__self__"):  # a bound method
        return a.__func__ is b.__func__ and _isomorphic(a.__self__, b.__self__, pairs)
    slots = [s for c in type(a).__mro__ for s in getattr(c, "__slots__", ())]
    if any(hasattr(a, s) != hasattr(b, s) or (hasattr(a, s) and not _isomorphic(getattr(a, s), getattr(b, s), pairs)) for s in slots):
        return False
    return _isomorphic(getattr(a, "__dict__", {}), getattr(b, "__dict__", {}), pairs)


def _disjoint(a, b) -> bool:
    """No array of `b`'s graph is an array of `a`'s, nor shares its memory."""
    def arrays(obj, seen, out):
        if id(obj) in seen:
            return out
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            out.append(obj)
        elif isinstance(obj, dict):
            for v in obj.values():
                arrays(v, seen, out)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                arrays(v, seen, out)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            arrays(vars(obj), seen, out)
        return out

    mine, theirs = arrays(a, set(), []), arrays(b, set(), [])
    return not any(np.may_share_memory(u, v) for u in mine for v in theirs)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.shape = (3, 4)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b


class Relu:
    def __init__(self):
        self.mask = None


class BookNet:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.params = {"W1": rng.standard_normal((4, 5)), "b1": np.zeros(5)}
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.sizes = [4, 5]
        self.act = self.layers["Affine1"].forward  # a bound method, to be bound to the copy's layer


def test_book_network_copies_as_deepcopy_does_and_keeps_its_sharing():
    net = BookNet()
    before = copy.deepcopy(net)
    work = copied(net)
    assert _isomorphic(copy.deepcopy(net), work)
    assert work.layers["Affine1"].W is work.params["W1"]
    assert work.act.__self__ is work.layers["Affine1"]
    assert type(work.layers) is OrderedDict and list(work.layers) == ["Affine1", "Relu1"]
    assert _disjoint(net, work)
    work.params["W1"] += 1.0
    assert _isomorphic(before, net)


class Counted:
    copies = 0

    def __init__(self):
        self.value = np.ones(3)

    def __deepcopy__(self, memo):
        Counted.copies += 1
        new = Counted.__new__(Counted)
        new.value = self.value * 2  # its own idea of a copy, which the working copy must take
        return new


class Slotted:
    __slots__ = ("W", "dW")

    def __init__(self):
        self.W = np.arange(4.0)
        self.dW = None


class Stated:
    def __init__(self):
        self.W = np.arange(3.0)
        self.cache = "big"

    def __getstate__(self):
        return {"W": self.W}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.cache = "rebuilt"


class Reduced:
    def __init__(self, n):
        self.n = n
        self.W = np.zeros(n)

    def __reduce__(self):
        return (Reduced, (self.n,))


class Params(dict):
    pass


class Layers(list):
    pass


class Holder:
    def __init__(self, shared):
        self.shared = shared


@pytest.mark.parametrize(
    "make",
    [
        lambda: {"a": Slotted(), "b": [Stated(), Reduced(2)]},
        lambda: Params(W=np.ones(2), b=np.zeros(2)),
        lambda: Layers([Relu(), Relu()]),
        lambda: (np.ones(2), 3, "x"),
        lambda: ((1, 2), (3, (4, 5))),
        lambda: np.array([np.ones(2), None, "s"], dtype=object),
        lambda: OrderedDict(W=np.ones(2)),
    ],
    ids=["slots-state-reduce", "dict-subclass", "list-subclass", "tuple-with-array", "nested-plain-tuples", "object-array", "ordered-dict"],
)
def test_objects_with_a_protocol_of_their_own_copy_as_deepcopy_copies_them(make):
    original = make()
    assert _isomorphic(copy.deepcopy(original), copied(original))
    assert _disjoint(original, copied(original))


def test_a_deepcopy_method_is_called_and_its_copy_taken():
    Counted.copies = 0
    net = {"layer": Counted(), "again": None}
    net["again"] = net["layer"]
    work = copied(net)
    assert Counted.copies == 1
    assert work["again"] is work["layer"]
    assert np.array_equal(work["layer"].value, [2.0, 2.0, 2.0])


def test_state_methods_run_as_deepcopy_runs_them():
    work = copied(Holder(Stated()))
    assert work.shared.cache == "rebuilt"


def test_an_object_reached_through_a_protocol_and_a_plain_path_is_copied_once():
    shared = Relu()
    shared.mask = np.ones(3, dtype=bool)
    net = {"plain": Holder(shared), "slotted": Slotted()}
    net["slotted"].dW = shared  # reached through an object copied by the protocol too
    work = copied(net)
    assert work["plain"].shared is work["slotted"].dW
    assert work["plain"].shared is not shared


def test_a_tuple_of_plain_values_is_kept_and_a_tuple_holding_an_array_is_new():
    plain = (3, 4)
    holding = (np.ones(2), 1)
    work = copied({"shape": plain, "pair": holding})
    assert work["shape"] is plain
    assert work["pair"] is not holding and work["pair"][0] is not holding[0]
