"""Assertion helpers: a gradient check that fails like `numpy.testing.assert_allclose`.

    assert_layer_gradients(Affine(W, b), x)                  # -> Report, or AssertionError
    assert_function_gradients(affine_forward, affine_backward, x, w, b)
    assert_network_gradients(net, x, t, rtol=1e-6, seed=3)

They work with or without pytest. Each runs the library check (`api.check_*`) and,
when the report holds an error, raises `GradientCheckError` (an `AssertionError`
carrying the report) whose text is built from the findings' evidence:

    Gradients of `Affine.b` are not equal to tolerance rtol=1e-05

    The gradient of `b` of `Affine` is wrong: analytic = numerical / 5 ... (computed at line 11).
    Error pattern: divided-by-batch-size
    Mismatched elements: 3 / 3 (100%), all elements compared
    Worst element (2,): numerical -0.906302, analytic -0.18126 (rel. error 0.8)
    Max absolute difference: 1.64466
    Max relative difference: 0.8
    ...
    seed: 0

The helpers' own frames are hidden from pytest tracebacks (`__tracebackhide__`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backprop_doctor.findings import Finding, Report

__all__ = [
    "assert_function_gradients",
    "assert_layer_gradients",
    "assert_network_gradients",
    "failure_message",
]

# How many rows of the worst-elements table the message repeats.
TABLE_ROWS = 5


def assert_layer_gradients(
    layer: Any,
    x: Any,
    t: Any = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> Report:
    """Check `layer` on input `x` (and target `t` for a loss layer); raise if a gradient is wrong.

    Returns the report (warnings and measurements included) when there is no error.
    """
    __tracebackhide__ = True
    from backprop_doctor.api import check_layer

    report = check_layer(layer, x, t, **_options(rtol, atol, seed, options))
    _raise_for_errors(report)
    return report


def assert_function_gradients(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    x: Any,
    *params: Any,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> Report:
    """Check a cs231n pair `forward(x, *params) -> (out, cache)`, `backward(dout, cache)`; raise if wrong."""
    __tracebackhide__ = True
    from backprop_doctor.api import check_functions

    report = check_functions(forward, backward, x, *params, **_options(rtol, atol, seed, options))
    _raise_for_errors(report)
    return report


def assert_network_gradients(
    net: Any,
    x: Any,
    t: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> Report:
    """Check every layer of `net` and its whole `gradient(x, t)`; raise if any gradient is wrong."""
    __tracebackhide__ = True
    from backprop_doctor.api import check_network

    report = check_network(net, x, t, **_options(rtol, atol, seed, options))
    _raise_for_errors(report)
    return report


def _options(rtol: float | None, atol: float | None, seed: int | None, options: dict[str, Any]) -> dict[str, Any]:
    """The keyword options for `api.check_*`; None means "the default", so it is left out."""
    given = {"rtol": rtol, "atol": atol, "seed": seed}
    return {**options, **{k: v for k, v in given.items() if v is not None}}


def _raise_for_errors(report: Report) -> None:
    __tracebackhide__ = True
    if report.ok:
        return
    from backprop_doctor.errors import GradientCheckError

    raise GradientCheckError(report, message=failure_message(report))


# --------------------------------------------------------------------------- the message


def failure_message(report: Report) -> str:
    """The assertion text for `report`: one block per error finding, then the seed."""
    blocks = [_block(f) for f in report.errors]
    if not blocks:
        blocks = ["No error findings."]
    others = len(report.findings) - len(report.errors)
    tail = [f"seed: {report.seed}"]
    if others:
        tail.insert(0, f"({others} warning/info finding(s) not shown; inspect `excinfo.value.report`)")
    return "\n\n".join([*blocks, "\n".join(tail)])


def _block(finding: Finding) -> str:
    if finding.name == "gradient-mismatch":
        return _mismatch_block(finding)
    lines = [f"{_subject(finding)}: {finding.name} ({finding.code})", finding.message]
    if finding.measured is not None:
        threshold = f" (threshold {finding.threshold:g})" if finding.threshold is not None else ""
        lines.append(f"Measured: {finding.measured:.6g}{threshold}")
    for label, text in finding.evidence:
        lines.append(f"{label}: {text}" if "\n" not in text else f"{label}:\n{_indent(text)}")
    lines += _location(finding)
    return "\n".join(lines)


def _mismatch_block(finding: Finding) -> str:
    elements = _Elements.parse(dict(finding.evidence).get("elements", ""))
    rtol = finding.threshold if finding.threshold is not None else elements.rtol
    header = f"Gradients of {_subject(finding)} are not equal to tolerance"
    header += f" rtol={rtol:g}" if rtol is not None else ""
    lines = [header, "", finding.message]
    pattern = finding.pattern or dict(finding.evidence).get("pattern")
    if pattern:
        lines.append(f"Error pattern: {pattern}")
    if elements.mismatched:
        lines.append(elements.mismatched)
    if elements.rows:
        index, numerical, analytic, error = elements.rows[0]
        lines.append(f"Worst element {index}: numerical {numerical}, analytic {analytic} (rel. error {error})")
    lines += elements.differences
    if not elements.differences and finding.measured is not None:
        lines.append(f"Relative error (directional probe): {finding.measured:.6g}")
    if elements.table_header and elements.rows:
        lines.append(_indent("\n".join([elements.table_header, *elements.raw_rows[:TABLE_ROWS]]), " "))
    if elements.unparsed:
        lines.append(_indent("\n".join(elements.unparsed)))
    lines += _location(finding)
    return "\n".join(lines)


def _subject(finding: Finding) -> str:
    if finding.layer and finding.param:
        return f"`{finding.layer}.{finding.param}`"
    if finding.layer or finding.param:
        return f"`{finding.layer or finding.param}`"
    return "the checked object"


def _location(finding: Finding) -> list[str]:
    if not finding.file:
        return []
    return [f"at {finding.file}" + (f":{finding.line}" if finding.line is not None else "")]


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


@dataclass
class _Elements:
    """The parts of a gradient-mismatch "elements" evidence block (numpy assert_allclose style)."""

    rtol: float | None = None
    mismatched: str | None = None
    differences: list[str] = field(default_factory=list)
    table_header: str | None = None
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # index, numerical, analytic, rel. error
    raw_rows: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> _Elements:
        """Read the block line by line; what it cannot read is kept verbatim, never dropped."""
        parsed = cls()
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("Not equal to tolerance"):
                parsed.rtol = _number_after(stripped, "rtol=")
            elif stripped.startswith("Mismatched elements:"):
                parsed.mismatched = stripped
            elif stripped.startswith(("Max absolute difference", "Max relative difference")):
                parsed.differences.append(stripped)
            elif stripped.split()[0] == "index":
                parsed.table_header = line
            elif parsed.table_header is not None and (row := _row(stripped)) is not None:
                parsed.rows.append(row)
                parsed.raw_rows.append(line)
            else:
                parsed.unparsed.append(line)
        return parsed


def _row(line: str) -> tuple[str, str, str, str] | None:
    """`(3, 0)   -0.473  -1.66  0.715` -> ("(3, 0)", "-0.473", "-1.66", "0.715"); the index may hold spaces."""
    parts = line.rsplit(None, 3)
    if len(parts) != 4:
        return None
    try:
        for value in parts[1:]:
            float(value)
    except ValueError:
        return None
    return parts[0], parts[1], parts[2], parts[3]


def _number_after(text: str, marker: str) -> float | None:
    _, found, rest = text.partition(marker)
    if not found or not rest.split():
        return None
    try:
        return float(rest.split()[0].rstrip(",;)"))
    except ValueError:
        return None
