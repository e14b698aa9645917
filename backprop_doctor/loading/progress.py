"""A stand-in for `tqdm`, the progress bar so many training loops are wrapped in.

`for epoch in tqdm(range(epochs)):` over a missing `tqdm` would iterate an inert stub, which is
empty: the training loop would never run and nothing it trains could be observed. Here `tqdm`
hands back the iterable it wraps, and answers the calls made on a bar (`update`,
`set_description`, `set_postfix`, `close`, `with tqdm(...) as bar`) by doing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

HOMES: dict[str, tuple[str, ...]] = {
    module: ("tqdm", "trange", "tqdm_notebook", "tnrange")
    for module in ("tqdm", "tqdm.auto", "tqdm.notebook", "tqdm.std", "tqdm.autonotebook")
}


class tqdm:  # noqa: N801 - the name the user's code imports
    """Iterates over what it wraps; every method of a progress bar does nothing."""

    def __init__(self, iterable: Iterable[Any] | None = None, *_: Any, total: Any = None, **__: Any):
        self.iterable = iterable
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)  # type: ignore[arg-type]
        self.n = 0

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def __len__(self) -> int:
        return int(self.total or 0)

    def __enter__(self) -> tqdm:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def update(self, n: Any = 1) -> None:
        self.n += n

    def _nothing(self, *_: Any, **__: Any) -> None:
        return None

    set_description = set_description_str = set_postfix = set_postfix_str = close = refresh = reset = clear = display = _nothing

    @staticmethod
    def write(*_: Any, **__: Any) -> None:
        return None


tqdm_notebook = tqdm


def trange(*arguments: Any, **options: Any) -> tqdm:
    """`tqdm(range(*arguments))`."""
    return tqdm(range(*arguments), **options)


tnrange = trange
