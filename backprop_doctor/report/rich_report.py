"""Draw reports on a rich `Console`: the verdict first, then the evidence.

For each checked file, in this order:

1. the verdict, one line that names the root cause (or says nothing is wrong);
2. `seed 0 · 3 errors · 2 warnings · 4 info`;
3. the root cause's panel: message, measured vs threshold, evidence, the code frame
   with the offending lines marked, and the fix;
4. the symptoms the root cause explains, one entry each, wrapped (never cut);
5. a panel for every other error and warning, in the order ranking left them;
6. the notes: info findings (and the rules in `NOTE_RULES`), one entry each in one list;
7. the gradient-check table and the "Built / skipped" table;
8. the training probe: a sparkline per loss curve.

It reads at 80 columns without colour (a CI log): every line fits the console, and the
marks that colour would carry (the highlighted source line) are characters too.
The user's files are only ever read.
"""

from __future__ import annotations

import re

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
    curves_separate,
    format_loss,
    format_number,
    is_note,
    measured_sentence,
    one_line,
    pasted_note,
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
    "scaled": "cyan",
    "float32": "yellow",
    "flat": "yellow",
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
    notes = [f for f in others if is_note(f)]
    for finding in others:
        if not is_note(finding):
            yield finding_panel(_in_file(finding, report), reader)
    if notes:
        yield notes_panel([_in_file(f, report) for f in notes], reader)

    if report.measurements:
        yield Text("")
        yield measurements_table(report)
    if report.built:
        yield Text("")
        yield built_table(report)
    training = report.extras.get("training")
    if isinstance(training, dict) and (training.get("yours") or training.get("reference")):
        yield Text("")
        if training.get("replayed") or curves_separate(training):
            yield training_panel(training)
        elif training.get("program"):  # the probe's runs tell nothing apart: only the program's own training
            label = one_line(str(training.get("program_label") or "your program"))
            only = {"yours": training["program"], "steps": len(training["program"]), "title": f"Training: {label}, replayed"}
            yield training_panel(only)
        else:
            label = one_line(str(training.get("reference_label") or "the reference"))
            yield Text(
                f"Training probe: your code and {label} gave the same loss curve, so the probe shows "
                "nothing about this problem either way.",
                style="dim",
            )


def _in_file(finding: Finding, report: Report) -> Finding:
    """A finding with a line but no file is about the checked file."""
    if finding.file is None and finding.line is not None and report.file:
        return finding.replace(file=report.file)
    return finding


def _verdict_text(report: Report, ascii_only: bool) -> Text:
    line = verdict(report, ascii_only=ascii_only)
    mark, _, rest = line.partition(" ")
    text = Text()
    text.append(mark, style=("bold green" if mark in ("✓", "OK") else "bold yellow") if report.ok else "bold red")
    text.append(" ")
    name = one_line(report.file) if report.file else ""
    if name and rest.startswith(name + ": "):
        text.append(name, style="bold")
        rest = rest[len(name) :]
    text.append(rest)
    return text


def finding_panel(finding: Finding, reader: SourceReader, *, root: bool = False) -> Panel:
    """One finding: what, how much, the evidence, where in the code, and the fix.

    The root cause's message is the verdict's headline just above it, so its panel starts
    with the measurement rather than saying it twice.
    """
    style = SEVERITY_STYLE.get(finding.severity, "")
    parts: list[RenderableType] = [] if root else [Text(sentence(clean(finding.message)))]

    measured = measured_sentence(finding)
    if measured is not None:
        parts.append(Text(measured, style="dim" if not root else ""))

    for label, text in _shown_evidence(finding):
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


def _shown_evidence(finding: Finding) -> list[tuple[str, str]]:
    """The evidence worth drawing, each block under its own name.

    A "consequence" the message already states (", so ...") is left out.
    """
    message = one_line(finding.message)
    kept = [(label, text) for label, text in finding.evidence if not (label == "consequence" and ", so " in message)]
    labels = [label for label, _ in kept]
    named = []
    for label, text in kept:
        head, sep, tail = text.partition(": ")
        if labels.count(label) > 1 and sep and "\n" not in head:
            # two blocks with one label get distinct names: "row sums, <of what>"
            label, text = f"{label}, {head}", tail
        named.append((label, text))
    return named


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


def _entries(rows: Sequence[tuple[Text, Text]]) -> Table:
    """`CODE  text`, one entry per row, the text wrapped under itself (never cut)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for code, text in rows:
        grid.add_row(code, text)
    return grid


def _entry_text(finding: Finding, message: str) -> Text:
    text = Text(finding.name)
    place = clean(where(finding))
    if finding.line is not None:
        place = f"{place} line {finding.line}".strip()
    if place:
        text.append(f" · {place}", style="bold")
    text.append(": " + message)
    return text


def symptoms_panel(symptoms: Sequence[Finding], root: Finding | None) -> Panel:
    """The findings a cause explains, one entry each, wrapped rather than cut."""
    root_key = root.key() if root is not None else None
    rows = []
    for finding in symptoms:
        text = _entry_text(finding, sentence(one_line(finding.message)))
        if finding.caused_by and finding.caused_by != root_key:
            text.append(f" (via {finding.caused_by.split(':')[0]})", style="dim")
        rows.append((Text(finding.code, style=SEVERITY_STYLE.get(finding.severity, "")), text))
    title = "Symptoms explained by " + ("the root cause" if root is not None else "other findings")
    return Panel(_entries(rows), title=Text(title, style="bold"), title_align="left", border_style="dim")


def notes_panel(notes: Sequence[Finding], reader: SourceReader) -> Panel:
    """Info findings, and the warnings that are notes, as one compact list: no code frame each."""
    rows: list[tuple[Text, Text]] = []
    for finding in notes:
        pasted = None
        if finding.name == "text-normalised":
            raw = reader.raw_lines(finding.file) if finding.file else None
            note = pasted_note(finding, raw)
            pasted = note if note != one_line(finding.message) else None
        if pasted is not None:
            text = Text(pasted)  # it starts with the line and column; retyping the line is the fix
        else:
            text = _entry_text(finding, sentence(one_line(finding.message)))
        if finding.severity != "info":
            text.append(f" ({finding.severity})", style=SEVERITY_STYLE.get(finding.severity, ""))
        if finding.fix and "\n" not in finding.fix.strip() and pasted is None:
            text.append("\nFix: ", style="bold green")
            text.append(clean(finding.fix.strip()))
        rows.append((Text(finding.code, style=SEVERITY_STYLE.get("info", "")), text))
    return Panel(_entries(rows), title=Text("Notes", style="bold"), title_align="left", border_style="dim")


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
    """What was built, how, on which inputs, and whether it was checked.

    Shapes such as `(5, 784)` never break inside the parentheses; the constructor call
    takes the width that is left and wraps between its arguments.
    """
    table = Table(
        title="Built / skipped",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("what", overflow="fold")
    table.add_column("how", overflow="fold", ratio=1)
    table.add_column("inputs", overflow="fold")
    table.add_column("checked", overflow="fold")
    compared = any(m.verdict != "skipped" for m in report.measurements)
    sources = any(getattr(b, "origin", "") for b in report.built)
    if sources:
        table.add_column("from", overflow="fold")
    for b in report.built:
        if b.skipped:
            status = Text(f"skipped: {one_line(b.skipped)}", style="yellow")
        elif not compared:
            status = Text("no gradient compared", style="yellow")
        else:
            status = Text("yes", style="green")
        cells = [Text(clean(b.what)), Text(clean(b.how)), Text(_shapes_cell(clean(b.shapes))), status]
        if sources:
            origin = getattr(b, "origin", "")
            line = getattr(b, "line", None)
            cells.append(Text(f"{origin} (line {line})" if origin == "observed" and line else origin))
        table.add_row(*cells)
    return table


_SHAPE = re.compile(r"\((\d+(?:,\s*\d+)*,?)\)")


def _shapes_cell(text: str) -> str:
    """One input per line (`x (5,6)` / `single sample x (1,6)`), shapes written without spaces,
    so the column wraps between words and never inside a shape."""
    tight = _SHAPE.sub(lambda m: "(" + re.sub(r"\s+", "", m.group(1)) + ")", text)
    parts = [p.strip() for part in tight.split("; ") for p in re.split(r"(?<=\)),\s+(?=[A-Za-z_]\w* \()", part)]
    return "\n".join(parts)


def training_panel(training: dict[str, Any]) -> Panel:
    # beside the program's own training, the probe's run of the user's layers is named for what it is
    first = "your net, probe's SGD" if training.get("program") else "yours"
    curves: list[tuple[str, Sequence[Any]]] = [(first, list(training.get("yours") or ()))]
    reference = training.get("reference")
    if reference:
        curves.append((one_line(str(training.get("reference_label") or "reference")), list(reference)))
    if training.get("program"):
        curves.append((one_line(str(training.get("program_label") or "your program")), list(training["program"])))
    if training.get("corrected"):
        curves.append(("your loop, gradients right", list(training["corrected"])))
    subtitle_parts = []
    if training.get("steps") is not None:
        subtitle_parts.append(plural(int(training["steps"]), "step"))
    if training.get("lr") is not None:
        lr = training["lr"]
        subtitle_parts.append(f"lr {lr:g}" if isinstance(lr, (int, float)) else f"lr {lr}")
    return Panel(
        _TrainingCurves(curves),
        title=Text(str(training.get("title") or "Training probe"), style="bold"),
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

    def raw_lines(self, path: str) -> list[str] | None:
        """The lines of the file as it is on disk (pasted characters still in it), or None."""
        try:
            with open(path, encoding="utf-8-sig", errors="replace") as handle:
                return handle.read().replace("\r\n", "\n").split("\n")
        except OSError:
            return None

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
