"""NumPy's global random state saved and restored exactly, for a fraction of the cost of
`np.random.get_state` and `set_state`.

The pair costs about 90 µs (two fifths of a forward pass of the book's 784-50-10 network):
both copy the 624 words of the MT19937 key one Python call at a time. The key and its position
are read and written here as the 2,500 bytes they are (`ctypes`, through the bit generator's
documented `state_address`), once the layout has been seen to read back as `get_state` gives it.
The one part of the legacy state that bytes do not hold, a Gaussian cached by the last
`standard_normal` (`has_gauss`), is found by a draw: a draw that leaves the key and position
alone came from the cache. Every other case (another bit generator, a layout that does not read
back) takes `get_state` and `set_state`.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MT_WORDS = 624  # the key of NumPy's MT19937 state, followed by its position (an int)
_BYTES = 4 * (MT_WORDS + 1)

# the bit generator whose layout was compared with its `state`, and whether it read back the same
_checked: list[Any] = [None, False]


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
    if type(generator).__name__ != "MT19937":
        return None
    address = generator.ctypes.state_address
    if _checked[0] is not generator:
        state = generator.state["state"]
        words = (ctypes.c_uint32 * (MT_WORDS + 1)).from_address(address)
        _checked[:] = [generator, list(words[:MT_WORDS]) == state["key"].tolist() and words[MT_WORDS] == state["pos"]]
    return address if _checked[1] else None


def save() -> Saved:
    """The global random state as it is; leaves it as it was."""
    address = _address()
    if address is None:
        return Saved(None, state=np.random.get_state(legacy=False))
    words = ctypes.string_at(address, _BYTES)
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
    if address is not None and saved.gauss is None:
        np.random.seed(0)  # the only cheap way to drop a cached Gaussian; its key is overwritten next
        ctypes.memmove(address, saved.words, _BYTES)
        return
    key = np.frombuffer(saved.words, dtype=np.uint32, count=MT_WORDS)
    position = int.from_bytes(saved.words[4 * MT_WORDS :], sys.byteorder, signed=True)
    cached = (0, 0.0) if saved.gauss is None else (1, saved.gauss)
    np.random.set_state(("MT19937", key, position, *cached))


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
    np.random.seed(seed)
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
