"""Plain data that every part of backprop-doctor hands around.

A check produces `Finding`s; a run collects them, with the per-parameter
measurements (`Measurement`) and what was built (`Built`), into a `Report`.
Nothing here computes or draws anything: numerics live in `gradcheck`,
drawing lives in `report/`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


# The advice of a gradient mismatch with no pattern and no known fix: later stages replace it when
# they know better (the corrected line, an activation's derivative), so it is matched, not reworded.
REDERIVE = "re-derive it from forward and compare with the values below"
CALLED_OTHERWISE = "called-otherwise"  # the pattern of a layer method that takes other arguments than the check gives it
STAND_IN = "stand-in"  # the pattern of an object not checked because a missing module's stand-in made its code raise
# how a network's gradient found wrong as a whole, with nothing said of where, is worded (`outcomes`): with layers,
# and with none; `ranking` puts such a finding last of its rule (a check that finds where rewords it)
WHOLE_NETWORK = ("it is assembled from the layers' backward passes", "the network computes it itself, with no layers")
FRAMEWORK_OBJECTS = "framework-objects"  # the pattern of a gradient given as a framework's objects (DeZero `Variable`s), not compared
# the pattern of a whole model whose backward returns its parameters' gradients alone, which their shapes cannot pair with them
UNPAIRED_GRADIENTS = "unpaired-gradients"
BACKWARD_UNUSED = "backward-unused"  # the pattern of a layer's backward that raised, though the program never calls it


@dataclass(frozen=True)
class Finding:
    """One thing a check found, with the evidence and the fix."""

    name: str  # stable kebab-case identifier, e.g. "gradient-mismatch"
    code: str  # stable code, e.g. "BPD101"
    severity: Severity
    message: str  # one imperative sentence that says what is wrong and what to do
    layer: str | None = None
    param: str | None = None
    measured: float | None = None
    threshold: float | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None  # last line of the offending span, when it is more than one line
    highlight: tuple[int, ...] = ()  # the lines to highlight in the code frame
    fix: str | None = None  # a short code snippet that repairs it
    pattern: str | None = None  # a named error pattern, e.g. "scaled-by-batch-size"
    evidence: tuple[tuple[str, str], ...] = ()  # (label, text) pairs shown under the message
    caused_by: str | None = None  # key() of the finding that explains this one (set by ranking)

    def key(self) -> str:
        """A short identity used to link symptoms to their cause."""
        return f"{self.code}:{self.layer or ''}:{self.param or ''}:{self.line or ''}"

    def replace(self, **changes: Any) -> Finding:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["highlight"] = list(self.highlight)
        data["evidence"] = [{"label": k, "text": v} for k, v in self.evidence]
        for key in ("measured", "threshold"):
            if data[key] is not None:
                data[key] = json_float(data[key])
        return data


@dataclass(frozen=True)
class Measurement:
    """One row of the per-layer table: how one array's gradient compared."""

    layer: str
    param: str  # "x" for the input gradient
    relative_error: float | None
    verdict: str  # "ok", "mismatch", "kink", "float32", "skipped", "shape"
    probes: int = 0  # forward evaluations spent on this array (0 when shared with the layer probe)

    def __init__(self, layer: str, param: str, relative_error: float | None, verdict: str, probes: int = 0) -> None:
        # the `__init__` dataclass would write, without a frozen class's `object.__setattr__` per field
        # (a check makes a row per array of every layer)
        vars(self).update(layer=layer, param=param, relative_error=relative_error, verdict=verdict, probes=probes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.relative_error is not None:
            data["relative_error"] = json_float(self.relative_error)
        return data


@dataclass(frozen=True)
class Built:
    """What the tool constructed to check something, so the user can see it."""

    what: str  # "TwoLayerNet", "Affine", "affine_forward/affine_backward"
    how: str  # "TwoLayerNet(input_size=784, hidden_size=50, output_size=10) from line 153"
    shapes: str = ""  # "x (5, 784), t (5, 10)"
    skipped: str | None = None  # why it was not checked, if it was not
    origin: str = ""  # "observed": built and fed by the user's own program; "synthesized": by the tool
    line: int | None = None  # for an observed object, the line of the program that created it
    kind: str = ""  # "network", "layer" or "functions" when the builder knows it (renderers guess otherwise)

    def __init__(
        self, what: str, how: str, shapes: str = "", skipped: str | None = None, origin: str = "", line: int | None = None, kind: str = ""
    ) -> None:
        # the `__init__` dataclass would write, without a frozen class's `object.__setattr__` per field
        vars(self).update(what=what, how=how, shapes=shapes, skipped=skipped, origin=origin, line=line, kind=kind)

    def replace(self, **changes: Any) -> Built:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Report:
    """Everything one check run found. `ok` is true when there is no error."""

    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    built: list[Built] = field(default_factory=list)
    seed: int = 0
    file: str | None = None
    root_cause: Finding | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. training curves

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def by_name(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.name == name]

    def extend(self, other: Report) -> None:
        self.findings.extend(other.findings)
        self.measurements.extend(other.measurements)
        self.built.extend(other.built)
        for key, value in other.extras.items():
            self.extras.setdefault(key, value)

    def raise_for_errors(self) -> None:
        """Raise `GradientCheckError` listing the error findings, if there are any."""
        if self.errors:
            from backprop_doctor.errors import GradientCheckError

            raise GradientCheckError(self)

    def to_dict(self) -> dict[str, Any]:
        from backprop_doctor import __version__

        return {
            "tool": "backprop-doctor",
            "version": __version__,
            "seed": self.seed,
            "file": self.file,
            "ok": self.ok,
            "root_cause": self.root_cause.key() if self.root_cause else None,
            "findings": [f.to_dict() for f in self.findings],
            "measurements": [m.to_dict() for m in self.measurements],
            "built": [b.to_dict() for b in self.built],
            "extras": self.extras,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        findings = []
        for raw in data.get("findings", []):
            raw = dict(raw)
            raw["highlight"] = tuple(raw.get("highlight") or ())
            raw["evidence"] = tuple((e["label"], e["text"]) for e in raw.get("evidence") or ())
            for key in ("measured", "threshold"):
                raw[key] = from_json_float(raw.get(key))
            findings.append(Finding(**{k: v for k, v in raw.items() if k in _FINDING_FIELDS}))
        report = cls(
            findings=findings,
            measurements=[
                Measurement(**{**m, "relative_error": from_json_float(m.get("relative_error"))})
                for m in data.get("measurements", [])
            ],
            built=[Built(**{k: v for k, v in b.items() if k in _BUILT_FIELDS}) for b in data.get("built", [])],
            seed=data.get("seed", 0),
            file=data.get("file"),
            extras=data.get("extras", {}),
        )
        root = data.get("root_cause")
        report.root_cause = next((f for f in findings if f.key() == root), None)
        return report


def from_json_float(value: float | str | None) -> float | None:
    """Undo `json_float`."""
    return float(value) if isinstance(value, str) else value


def json_float(value: float) -> float | str:
    """JSON has no NaN or infinity; spell them as strings."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return float(value)


_FINDING_FIELDS = {f.name for f in dataclasses.fields(Finding)}
_BUILT_FIELDS = {f.name for f in dataclasses.fields(Built)}
