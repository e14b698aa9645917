"""Draw reports on a rich `Console`: the verdict first, then the evidence.

For each checked file, in this order:

1. the verdict, one line that names the root cause (or says nothing is wrong);
2. `seed 0 · 3 errors · 2 warnings · 4 info`;
3. the root cause's panel: message, measured vs threshold, evidence, the code frame
   with the offending lines marked, and the fix;
4. the symptoms the root cause explains, one line each;
5. a panel for every other finding, in the order ranking left them;
6. the gradient-check table and the "Built / skipped" table;
7. the training probe: a sparkline per loss curve.

It reads at 80 columns without colour (a CI log): every line fits the console, and the
marks that colour would carry (the highlighted source line) are characters too.
The user's files are only ever read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement as Measure
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from backprop_doctor.findings import Finding, Report
from backprop_doctor.report.text import (
    SPARK_WIDTH,
    as_float,
    clean,
    counts_line,
    format_loss,
    format_number,
    one_line,
    plural,
    sentence,
    sparkline,
    symptoms_and_others,
    totals,
    verdict,
    where,
)

CONTEXT_LINES = 3  # source lines shown above and below the offending span
SYNTAX_THEME = "ansi_dark"  # the terminal's own palette, no painted background

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
MEASUREMENT_STYLE = {
    "ok": "green",
    "mismatch": "bold red",
    "shape": "bold red",
    "kink": "yellow",
    "float32": "yellow",
    "skipped": "dim",
}


def render(
    reports: Report | Sequence[Report],
    console: Console,
    *,
    sources: dict[str, str] | None = None,
) -> None:
    """Draw each report on `console`; `sources` maps a finding's `file` to the text to show."""
    if isinstance(reports, Report):
        reports = [reports]
    reader = SourceReader(sources or {})
    for i, report in enumerate(reports):
        if i:
            console.print()
            console.print(Rule(style="dim"))
        for renderable in report_renderables(report, console, reader):
            console.print(renderable)
    if len(reports) > 1:
        console.print()
        console.print(Text(_files_summary(reports), style="bold"))


def report_renderables(report: Report, console: Console, reader: SourceReader) -> Iterable[RenderableType]:
    """Everything drawn for one file, top to bottom."""
    ascii_only = not console.encoding.startswith("utf")
    yield _verdict_text(report, ascii_only)
    yield Text(counts_line(report), style="dim")

    symptoms, others = symptoms_and_others(report)
    if report.root_cause is not None:
        yield finding_panel(_in_file(report.root_cause, report), reader, root=True)
    if symptoms:
        yield symptoms_panel(symptoms, report.root_cause)
    for finding in others:
        yield finding_panel(_in_file(finding, report), reader)

    if report.measurements:
        yield Text("")
        yield measurements_table(report)
    if report.built:
        yield Text("")
        yield built_table(report)
    training = report.extras.get("training")
    if isinstance(training, dict) and (training.get("yours") or training.get("reference")):
        yield Text("")
        yield training_panel(training)


def _in_file(finding: Finding, report: Report) -> Finding:
    """A finding with a line but no file is about the checked file."""
    if finding.file is None and finding.line is not None and report.file:
        return finding.replace(file=report.file)
    return finding


def _verdict_text(report: Report, ascii_only: bool) -> Text:
    line = verdict(report, ascii_only=ascii_only)
    mark, _, rest = line.partition(" ")
    text = Text()
    text.append(mark, style="bold green" if report.ok else "bold red")
    text.append(" ")
    name = one_line(report.file) if report.file else ""
    if name and rest.startswith(name + ": "):
        text.append(name, style="bold")
        rest = rest[len(name) :]
    text.append(rest)
    return text


def finding_panel(finding: Finding, reader: SourceReader, *, root: bool = False) -> Panel:
    """One finding: what, how much, the evidence, where in the code, and the fix."""
    style = SEVERITY_STYLE.get(finding.severity, "")
    parts: list[RenderableType] = [Text(sentence(clean(finding.message)))]

    measured = _measured_text(finding)
    if measured is not None:
        parts.append(measured)

    for label, text in finding.evidence:
        parts.append(_evidence(label, text))

    location = _location(finding)
    frame = code_frame(finding, reader)
    if location or frame is not None:
        parts.append(Text(""))
    if location:
        parts.append(Text(location, style="dim", overflow="fold"))
    if frame is not None:
        parts.append(frame)

    if finding.fix:
        parts.append(Text(""))
        parts.append(Text("Fix", style="bold green"))
        parts.append(Padding(_python(finding.fix.strip("\n")), (0, 0, 0, 2)))

    title = Text(f"{finding.code} {finding.name} · {finding.severity}", style=style)
    place = where(finding)
    if place:
        title.append(f" · {clean(place)}")
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        subtitle=Text("root cause", style=style) if root else None,
        subtitle_align="right",
        border_style=style,
        box=box.HEAVY if root else box.ROUNDED,
    )


def _measured_text(finding: Finding) -> Text | None:
    if finding.measured is None:
        return None
    text = Text("measured ", style="dim")
    text.append(format_number(finding.measured), style="bold")
    if finding.threshold is not None:
        text.append(" vs threshold ", style="dim")
        text.append(format_number(finding.threshold))
    return text


def _evidence(label: str, text: str) -> RenderableType:
    label = one_line(label)
    body = clean(text).strip("\n")
    if "\n" not in body and len(label) + len(body) <= 60:
        line = Text(f"{label}: ", style="bold")
        line.append(body)
        return line
    # preformatted: keep its layout, fold (never drop) what does not fit
    return Group(
        Text(f"{label}:", style="bold"),
        Padding(Text(body, overflow="fold"), (0, 0, 0, 2)),
    )


def _location(finding: Finding) -> str:
    """`path:line:col`, the path relative to the working directory when it is under it."""
    if not finding.file:
        return ""
    location = one_line(display_path(finding.file))
    if finding.line is not None:
        location += f":{finding.line}"
        if finding.column is not None:
            location += f":{finding.column}"
    return location


def code_frame(finding: Finding, reader: SourceReader) -> Syntax | Text | None:
    """The source around the finding, line numbers on, offending lines marked with ❱."""
    if finding.line is None or not finding.file:
        return None
    source = reader.read(finding.file)
    if source is None:
        return Text("(source not available)", style="dim")
    total = source.count("\n") + (0 if source.endswith("\n") else 1)
    if not 1 <= finding.line <= total:
        return None
    last = max(finding.line, finding.end_line or finding.line)
    start = max(1, finding.line - CONTEXT_LINES)
    end = min(total, last + CONTEXT_LINES)
    highlight = set(finding.highlight or (finding.line,))
    return Syntax(
        source,
        "python",
        theme=SYNTAX_THEME,
        line_numbers=True,
        line_range=(start, end),
        highlight_lines=highlight,
        word_wrap=True,
    )


def _python(code: str) -> Syntax:
    return Syntax(clean(code), "python", theme=SYNTAX_THEME, word_wrap=True)


def symptoms_panel(symptoms: Sequence[Finding], root: Finding | None) -> Panel:
    """The findings a cause explains, one line each (cut with … rather than wrapped)."""
    root_key = root.key() if root is not None else None
    lines = []
    for finding in symptoms:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(finding.code, style=SEVERITY_STYLE.get(finding.severity, ""))
        line.append(f" {finding.name}")
        place = clean(where(finding))
        if finding.line is not None:
            place = f"{place} line {finding.line}".strip()
        if place:
            line.append(f" · {place}", style="bold")
        line.append(": " + sentence(one_line(finding.message)))
        if finding.caused_by and finding.caused_by != root_key:
            line.append(f" (via {finding.caused_by.split(':')[0]})", style="dim")
        lines.append(line)
    title = "Symptoms explained by " + ("the root cause" if root is not None else "other findings")
    return Panel(Group(*lines), title=Text(title, style="bold"), title_align="left", border_style="dim")


def measurements_table(report: Report) -> Table:
    table = Table(
        title="Gradient check", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False
    )
    table.add_column("layer", overflow="fold")
    table.add_column("parameter", overflow="fold")
    table.add_column("relative error", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for m in report.measurements:
        table.add_row(
            Text(clean(m.layer)),
            Text(clean(m.param)),
            Text(format_number(m.relative_error)),
            Text(m.verdict, style=MEASUREMENT_STYLE.get(m.verdict, "")),
        )
    return table


def built_table(report: Report) -> Table:
    table = Table(
        title="Built / skipped",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        expand=True,
    )
    table.add_column("what", overflow="fold")
    table.add_column("how", overflow="fold", ratio=4)
    table.add_column("shapes", overflow="fold", ratio=2)
    table.add_column("checked", overflow="fold", ratio=2)
    sources = any(getattr(b, "origin", "") for b in report.built)
    if sources:
        table.add_column("from", overflow="fold", ratio=2)
    for b in report.built:
        if b.skipped:
            status = Text(f"skipped: {one_line(b.skipped)}", style="yellow")
        else:
            status = Text("yes", style="green")
        cells = [Text(clean(b.what)), Text(clean(b.how)), Text(clean(b.shapes)), status]
        if sources:
            origin = getattr(b, "origin", "")
            line = getattr(b, "line", None)
            cells.append(Text(f"{origin} (line {line})" if origin == "observed" and line else origin))
        table.add_row(*cells)
    return table


def training_panel(training: dict[str, Any]) -> Panel:
    curves: list[tuple[str, Sequence[Any]]] = [("yours", list(training.get("yours") or ()))]
    reference = training.get("reference")
    if reference:
        curves.append((one_line(str(training.get("reference_label") or "reference")), list(reference)))
    subtitle_parts = []
    if training.get("steps") is not None:
        subtitle_parts.append(plural(int(training["steps"]), "step"))
    if training.get("lr") is not None:
        lr = training["lr"]
        subtitle_parts.append(f"lr {lr:g}" if isinstance(lr, (int, float)) else f"lr {lr}")
    return Panel(
        _TrainingCurves(curves),
        title=Text("Training probe", style="bold"),
        title_align="left",
        subtitle=Text(" · ".join(subtitle_parts), style="dim") if subtitle_parts else None,
        subtitle_align="right",
        expand=False,
    )


class _TrainingCurves:
    """`label  first → last  sparkline`, one row per curve, in columns, on one scale, sized to fit."""

    def __init__(self, curves: Sequence[tuple[str, Sequence[Any]]]):
        self.curves = [(label, [as_float(v) for v in values]) for label, values in curves]

    def _columns(self, ascii_only: bool) -> list[tuple[str, str, list[float]]]:
        """(label, `first → last` padded so that the arrows line up, values) per curve."""
        arrow = " -> " if ascii_only else " → "
        firsts = [format_loss(values[0]) if values else "" for _, values in self.curves]
        first_width = max(cell_len(first) for first in firsts)
        rows = []
        for (label, values), first in zip(self.curves, firsts):
            if values:
                span = " " * (first_width - cell_len(first)) + first + arrow + format_loss(values[-1])
            else:
                span = "(no values)"
            rows.append((label, span, values))
        return rows

    def _widths(self, rows: list[tuple[str, str, list[float]]]) -> tuple[int, int]:
        return max(cell_len(label) for label, _, _ in rows), max(cell_len(span) for _, span, _ in rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = self._columns(options.ascii_only)
        label_width, span_width = self._widths(rows)
        width = max(0, min(SPARK_WIDTH, options.max_width - label_width - span_width - 2))
        finite = [v for _, values in self.curves for v in values if math.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (None, None)
        for label, span, values in rows:
            line = Text(label, style="bold", no_wrap=True, overflow="ellipsis")
            line.append(" " * (label_width - cell_len(label) + 1))
            line.append(span + " " * (span_width - cell_len(span) + 1))
            line.append(sparkline(values, width, lo=lo, hi=hi, ascii_only=options.ascii_only))
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measure:
        rows = self._columns(options.ascii_only)
        label_width, span_width = self._widths(rows)
        longest = max(min(SPARK_WIDTH, len(values)) for _, _, values in rows)
        width = min(label_width + span_width + 2 + longest, options.max_width)
        return Measure(width, width)


def _files_summary(reports: Sequence[Report]) -> str:
    failing = sum(1 for r in reports if not r.ok)
    counts = totals(reports)
    return " · ".join(
        [
            plural(len(reports), "file"),
            f"{failing} failing",
            plural(counts["error"], "error"),
            plural(counts["warning"], "warning"),
            plural(counts["info"], "info"),
        ]
    )


def display_path(path: str) -> str:
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            return path
        if not relative.startswith(".."):
            return relative
    return path


class SourceReader:
    """Source text by path: from `sources` when given, else read once from disk (read-only)."""

    def __init__(self, sources: dict[str, str]):
        self.sources = sources
        self._normalised = {os.path.normcase(os.path.abspath(k)): v for k, v in sources.items()}
        self._cache: dict[str, str | None] = {}

    def read(self, path: str) -> str | None:
        if path in self.sources:
            return clean(self.sources[path])
        key = os.path.normcase(os.path.abspath(path))
        if key in self._normalised:
            return clean(self._normalised[key])
        if key not in self._cache:
            try:
                # utf-8-sig is utf-8 that drops a leading byte-order mark
                with open(path, encoding="utf-8-sig", errors="replace") as handle:
                    self._cache[key] = clean(handle.read())
            except OSError:
                self._cache[key] = None
        return self._cache[key]
