"""Settings shared by the CLI, the pytest plugin and the library API."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.errors import UsageError

# Relative-error tolerance of a gradient check, keyed by the dtype the layer computes in.
# Checks run on float64 copies, so float64 is the one that normally applies; float32 and
# float16 apply to layers that cast internally (see the `float32-precision` rule).
DEFAULT_RTOL = {"float64": 1e-5, "float32": 2e-2, "float16": 1e-1}
MAX_TIMEOUT = 86_400.0  # seconds; larger values overflow the timers that enforce them


@dataclass(frozen=True)
class Options:
    seed: int = 0
    rtol: float | None = None  # None: by dtype, from DEFAULT_RTOL
    atol: float = 1e-10  # floor of the symmetric relative error
    probes: int = 3  # random directional probes per layer
    train: bool = True  # call layers in training mode (train_flg=True)
    batch_size: int = 5  # batch of the synthetic inputs for isolated layer checks
    timeout: float = 60.0
    exec_module: bool = False
    build: str | None = None  # e.g. "TwoLayerNet(input_size=20, hidden_size=8, output_size=4)"
    data: str | None = None  # .npz with x and t for the training probe
    training: bool = True  # run the training probe
    run: bool = True  # run the file's driver code under the recorder (the observed run; child process only)
    run_budget: float = 10.0  # seconds the observed run may take at most
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> UsageError:
            return UsageError(f"{name}={getattr(self, name)!r}: {why}")

        def number(value: object) -> bool:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise bad("seed", "must be a whole number >= 0")
        if self.rtol is not None and not (number(self.rtol) and self.rtol > 0):
            raise bad("rtol", "must be a positive number (or None for the default by dtype)")
        if not (number(self.atol) and self.atol >= 0):
            raise bad("atol", "must be a number >= 0")
        for name in ("probes", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(name, "must be a whole number >= 1")
        if not (number(self.timeout) and 0 < self.timeout <= MAX_TIMEOUT):
            raise bad("timeout", f"must be a number of seconds > 0 and <= {MAX_TIMEOUT:g} (a day)")
        if not (number(self.run_budget) and self.run_budget > 0):
            raise bad("run_budget", "must be a number of seconds > 0")

    def tolerance(self, dtype: str = "float64") -> float:
        return self.rtol if self.rtol is not None else DEFAULT_RTOL.get(dtype, DEFAULT_RTOL["float64"])

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Options:
        """Build options from keyword arguments, naming any unknown one."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise UsageError(f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for key in ("select", "ignore"):
            if key in kwargs and isinstance(kwargs[key], str):
                kwargs[key] = tuple(p for p in kwargs[key].split(",") if p)
            elif key in kwargs and isinstance(kwargs[key], list):
                kwargs[key] = tuple(kwargs[key])
            for prefix in kwargs.get(key) or ():
                _known_prefix(key, prefix)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _known_prefix(option: str, prefix: str) -> None:
    """A --select/--ignore entry must match some rule's code or name, or it is a typo."""
    from backprop_doctor.rules import all_rules

    for r in all_rules().values():
        if r.code.upper().startswith(prefix.upper()) or r.name.startswith(prefix):
            return
    raise UsageError(f"{option}={prefix!r} matches no check; `backprop-doctor list-checks` lists them")
