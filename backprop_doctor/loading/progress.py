"""Stand-ins for the progress bars training loops are wrapped in: `tqdm` and `progressbar`.

`for epoch in tqdm(range(epochs)):` is how many training scripts loop. With tqdm missing, an inert
stand-in is an empty iterable, so the loop ran zero times and there was no training to observe;
the program "finished" at once. These return what they wrap, drawing nothing: the loop runs as
it does for the user, and `bar.update(1)`, `set_description(...)`, `with tqdm(...) as bar:` work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MODULES = {  # the progress-bar module -> the names of it stood in for
    "tqdm": ("tqdm", "trange", "tqdm_notebook"),
    "tqdm.auto": ("tqdm", "trange"),
    "tqdm.autonotebook": ("tqdm", "trange"),
    "tqdm.notebook": ("tqdm", "trange"),
    "progressbar": ("ProgressBar",),
}


def functions_of(module: str) -> tuple[str, ...]:
    """The names of the missing `module` stood in for here (`datasets.standin` asks every such module)."""
    return MODULES.get(module, ())


class _Bar:
    """An iterable over what it wraps, whose every other method does nothing and returns the bar."""

    def __init__(self, iterable: Iterable[Any] | None = None):
        self._iterable = iterable

    def __iter__(self) -> Any:
        return iter(self._iterable if self._iterable is not None else ())

    def __len__(self) -> int:
        return len(self._iterable) if hasattr(self._iterable, "__len__") else 0  # type: ignore[arg-type]

    def __call__(self, iterable: Iterable[Any] | None = None, *_: Any, **__: Any) -> _Bar:
        return _Bar(iterable)  # progressbar: `bar = ProgressBar(widgets=...)`, then `for i in bar(range(n))`

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *_, **__: self  # update, set_description, set_postfix, close, write, start, finish


def tqdm(iterable: Iterable[Any] | None = None, *_: Any, **__: Any) -> _Bar:
    return _Bar(iterable)


def trange(*args: Any, **_: Any) -> _Bar:
    return _Bar(range(*args))


tqdm_notebook = tqdm


def ProgressBar(*_: Any, **__: Any) -> _Bar:  # noqa: N802 - progressbar's own name
    return _Bar()
