"""NumPy's global random state saved and restored exactly, for a fraction of the cost of
`np.random.get_state` and `set_state`.

The pair costs about 90 µs (two fifths of a forward pass of the book's 784-50-10 network):
both copy the 624 words of the MT19937 key one Python call at a time. The key and its position
are read and written here as the 2,500 bytes they are (`ctypes`, through the bit generator's
documented `state_address`), once the layout has been seen to read back as `get_state` gives it.
The one part of the legacy state that those bytes do not hold, a Gaussian cached by the last
`standard_normal` (`has_gauss` and its value), sits in the `RandomState` object itself: where
its two fields were found in a private instance of the same class and read and written back as
`get_state` and `set_state` give them (`_gauss_fields`), they are read and written there too;
elsewhere a draw finds whether one was cached (a draw that leaves the key and position alone
came from the cache). Every other case (another bit generator, a layout that does not read
back) takes `get_state` and `set_state`.

A check reseeds the stream before each forward it compares (`reseed`): the key and position a seed
gives are kept, and written back as bytes the next time (a seeding costs more than a forward pass's
share of the check when the caches are cold).
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MT_WORDS = 624  # the key of NumPy's MT19937 state, followed by its position (an int)
_BYTES = 4 * (MT_WORDS + 1)

# the bit generator whose layout was compared with its `state`, whether it read back the same,
# and where its key is
_checked: list[Any] = [None, False, 0]

# RandomState class -> the offsets of (has_gauss, gauss) in its instances, None where not found
_GAUSS_FIELDS: dict[type, tuple[int, int] | None] = {}

# seed -> the key and position `np.random.seed(seed)` gives (`reseed`)
_SEEDED: dict[int, bytes] = {}
_SEEDED_KEPT = 8


@dataclass(frozen=True)
class Saved:
    """NumPy's global random state: its key and position as bytes, with the cached Gaussian
    if there was one; or, without `words`, as `np.random.get_state` gave it."""

    words: bytes | None
    gauss: float | None = None
    state: dict | None = None


def _address() -> int | None:
    """Where the global RandomState's MT19937 key and position are, when they can be read as bytes."""
    generator = getattr(np.random.mtrand._rand, "_bit_generator", None)
    if _checked[0] is generator:
        return _checked[2] if _checked[1] else None
    if type(generator).__name__ != "MT19937":
        return None
    address = generator.ctypes.state_address
    state = generator.state["state"]
    words = (ctypes.c_uint32 * (MT_WORDS + 1)).from_address(address)
    _checked[:] = [generator, list(words[:MT_WORDS]) == state["key"].tolist() and words[MT_WORDS] == state["pos"], address]
    return address if _checked[1] else None


def _gauss_fields(kind: type) -> tuple[int, int] | None:
    """The offsets of the cached-Gaussian flag (a C int) and value (a double) in an instance of
    the RandomState class `kind`: found in a private instance by the value `set_state` puts there,
    then kept only where writing them is read back by `get_state` and by the next
    `standard_normal`, as NumPy's own fields are; None otherwise."""
    if kind in _GAUSS_FIELDS:
        return _GAUSS_FIELDS[kind]
    _GAUSS_FIELDS[kind] = None
    try:
        found = _find_gauss_fields(kind)
    except Exception:  # noqa: BLE001 - an unexpected layout: the draw finds the cache instead
        found = None
    _GAUSS_FIELDS[kind] = found
    return found


def _find_gauss_fields(kind: type) -> tuple[int, int] | None:
    private = kind(np.random.MT19937(0))
    name, key, position = private.get_state()[:3]
    marker = 0.123456789012345678
    private.set_state((name, key, position, 1, marker))
    size = kind.__basicsize__
    memory = ctypes.string_at(id(private), size)
    pattern = ctypes.string_at(ctypes.addressof(ctypes.c_double(marker)), 8)
    places = [i for i in range(0, size - 7, 8) if memory[i : i + 8] == pattern]
    if len(places) != 1 or places[0] < 8:
        return None
    value = places[0]
    flag = value - 8  # the int before the double, padded to its alignment
    if ctypes.c_int.from_address(id(private) + flag).value != 1:
        return None
    private.set_state((name, key, position, 0, 0.0))
    if ctypes.c_int.from_address(id(private) + flag).value != 0:
        return None
    fields = (flag, value)
    _write_gauss(private, fields, 2.5)
    if private.get_state()[3:] != (1, 2.5) or private.standard_normal() != 2.5 or private.get_state()[3] != 0:
        return None
    _write_gauss(private, fields, None)
    return fields if private.get_state()[3:] == (0, 0.0) else None


def _read_gauss(rand: Any, fields: tuple[int, int]) -> float | None:
    if ctypes.c_int.from_address(id(rand) + fields[0]).value:
        return ctypes.c_double.from_address(id(rand) + fields[1]).value
    return None


def _write_gauss(rand: Any, fields: tuple[int, int], gauss: float | None) -> None:
    ctypes.c_int.from_address(id(rand) + fields[0]).value = 0 if gauss is None else 1
    ctypes.c_double.from_address(id(rand) + fields[1]).value = 0.0 if gauss is None else gauss


def save() -> Saved:
    """The global random state as it is; leaves it as it was."""
    address = _address()
    if address is None:
        return Saved(None, state=np.random.get_state(legacy=False))
    rand = np.random.mtrand._rand
    fields = _gauss_fields(type(rand))
    words = ctypes.string_at(address, _BYTES)
    if fields is not None:
        return Saved(words, _read_gauss(rand, fields))
    gauss = float(np.random.standard_normal())
    if ctypes.string_at(address, _BYTES) == words:  # the draw took the cached Gaussian
        saved = Saved(words, gauss)
        _set(saved)
        return saved
    saved = Saved(words)
    _set(saved)
    return saved


def restore(saved: Saved) -> None:
    """Set the global random state back to `saved`."""
    if saved.words is None:
        np.random.set_state(saved.state)
    else:
        _set(saved)


def _set(saved: Saved) -> None:
    address = _address()
    if address is not None:
        rand = np.random.mtrand._rand
        fields = _gauss_fields(type(rand))
        if fields is not None:
            ctypes.memmove(address, saved.words, _BYTES)
            _write_gauss(rand, fields, saved.gauss)
            return
        if saved.gauss is None:
            np.random.seed(0)  # the only cheap way to drop a cached Gaussian; its key is overwritten next
            ctypes.memmove(address, saved.words, _BYTES)
            return
    key = np.frombuffer(saved.words, dtype=np.uint32, count=MT_WORDS)
    position = int.from_bytes(saved.words[4 * MT_WORDS :], sys.byteorder, signed=True)
    cached = (0, 0.0) if saved.gauss is None else (1, saved.gauss)
    np.random.set_state(("MT19937", key, position, *cached))


def _seed(seed: int) -> None:
    """`np.random.seed(seed)`: the key and position that seeding gave before written back as bytes, and
    no cached Gaussian, where the Gaussian's fields are known (`_gauss_fields`); that is all the seeding
    sets. Its first time, and wherever those fields are not known, NumPy seeds it."""
    address = _address()
    seeded = _SEEDED.get(seed) if address is not None else None
    if seeded is not None:
        rand = np.random.mtrand._rand
        fields = _gauss_fields(type(rand))
        if fields is not None:
            ctypes.memmove(address, seeded, _BYTES)
            _write_gauss(rand, fields, None)
            return
    np.random.seed(seed)
    if address is not None and _address() == address:
        if len(_SEEDED) >= _SEEDED_KEPT:
            _SEEDED.clear()
        _SEEDED[seed] = ctypes.string_at(address, _BYTES)


# --------------------------------------------------------------------------- the user's own generators

# (generator, its state when the user's file was loaded) for each NumPy generator the file's
# module holds in a global (`rng = np.random.default_rng(3)`): a layer that draws its dropout mask
# from one sees the same numbers in each forward the checks compare, as it does from the global RNG
_users: list[tuple[Any, Any]] = []
_KEPT = 16


def held(obj: Any) -> list[tuple[Any, Any]]:
    """Each NumPy generator among `obj`'s attributes (a dict: its values), with its state now."""
    values = obj.values() if isinstance(obj, dict) else vars(obj).values() if hasattr(obj, "__dict__") else ()
    generators = {id(v): v for v in values if isinstance(v, (np.random.Generator, np.random.RandomState))}.values()
    return [(g, g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state(legacy=False)) for g in generators]


def register_users(namespace: dict[str, Any]) -> None:
    """Keep the state of each NumPy generator among `namespace`'s values, to `reset_users` to."""
    for value, state in held(namespace):
        if not any(value is g for g, _ in _users):
            _users.append((value, state))
    del _users[:-_KEPT]  # a process that checks many files keeps the latest files' generators


def reseed(seed: int) -> None:
    """NumPy's global RNG seeded with `seed`, and the user's own generators reset (`reset_users`):
    what each forward the checks compare draws from is the same."""
    _seed(seed)
    reset_users()


def reset_users() -> None:
    """Each registered generator set back to its state at loading."""
    reset(_users)


def reset(generators: list[tuple[Any, Any]]) -> None:
    """Each generator set back to the state it is listed with."""
    for generator, state in generators:
        if isinstance(generator, np.random.Generator):
            generator.bit_generator.state = state
        else:
            generator.set_state(state)
