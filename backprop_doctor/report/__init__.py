"""Renderers: the only place that draws, and the only place that imports rich.

    render_report(reports, "rich")     # the text report on a rich Console
    render_report(reports, "json")     # json_report.to_json, written out
    render_report(reports, "github")   # github.to_github, workflow commands
    save_html(reports, "report.html")  # the text report, recorded, as HTML for a light page
    save_svg(reports, "report.svg")    # ... as an SVG picture (see report/html.py)

Each takes one `Report` or a list of them, one per checked file.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from backprop_doctor.errors import UsageError
from backprop_doctor.findings import Report
from backprop_doctor.report.github import to_github
from backprop_doctor.report.json_report import to_json
from backprop_doctor.report.text import sparkline, verdict

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "FORMATS",
    "render_report",
    "render_rules",
    "save_html",
    "save_svg",
    "sparkline",
    "to_github",
    "to_json",
    "verdict",
]

FORMATS = ("rich", "json", "github")
RECORD_WIDTH = 100  # columns of the HTML and SVG pictures


def render_report(
    reports: Report | Sequence[Report],
    fmt: str = "rich",
    console: Console | None = None,
    *,
    sources: dict[str, str] | None = None,
) -> str | None:
    """Draw or write `reports` in format `fmt` ("rich", "json" or "github").

    "rich" draws on `console` (a new one on stdout by default) and returns None.
    "json" and "github" write their text unchanged (no wrapping, no markup) to the
    console's file, or stdout, and also return it.
    """
    reports = _as_list(reports)
    if fmt == "rich":
        from rich.console import Console

        from backprop_doctor.report.rich_report import render

        render(reports, console or Console(), sources=sources)
        return None
    if fmt == "json":
        text = to_json(reports) + "\n"
    elif fmt == "github":
        text = to_github(reports)
    else:
        raise UsageError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")
    out = console.file if console is not None else sys.stdout
    out.write(text)
    out.flush()
    return text


def render_rules(rules: Iterable[Any], console: Console | None = None) -> None:
    """`backprop-doctor list-checks`: code, name, severity and summary of each rule, wrapped
    between words under its own column (a plain `print` let the terminal cut words at 80)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("code", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("what it finds", overflow="fold")
    styles = {"error": "red", "warning": "yellow", "info": "cyan"}
    for r in rules:
        table.add_row(r.code, r.name, f"[{styles.get(r.severity, '')}]{r.severity}[/]", r.summary)
    try:
        console.print(table)
    except SystemExit:  # rich's answer to a reader that left (`| head`): the CLI's BrokenPipeError
        raise BrokenPipeError from None


def save_html(
    reports: Report | Sequence[Report],
    path: str | os.PathLike[str],
    *,
    sources: dict[str, str] | None = None,
    width: int = RECORD_WIDTH,
) -> None:
    """Write the text report, with colour, as a standalone HTML page."""
    from backprop_doctor.report.html import export_html

    reports = _as_list(reports)
    _refuse_checked_file(reports, path)
    page = export_html(_recorded(reports, sources, width), reports)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)


def save_svg(
    reports: Report | Sequence[Report],
    path: str | os.PathLike[str],
    *,
    sources: dict[str, str] | None = None,
    width: int = RECORD_WIDTH,
) -> None:
    """Write the text report, with colour, as an SVG picture of a terminal."""
    from backprop_doctor.report.html import export_svg, page_title

    reports = _as_list(reports)
    _refuse_checked_file(reports, path)
    picture = export_svg(_recorded(reports, sources, width), page_title(reports))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(picture)


def _recorded(reports: list[Report], sources: dict[str, str] | None, width: int) -> Console:
    from rich.console import Console

    from backprop_doctor.report.rich_report import render

    console = Console(
        record=True, file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor"
    )
    render(reports, console, sources=sources)
    return console


def _as_list(reports: Report | Sequence[Report]) -> list[Report]:
    return [reports] if isinstance(reports, Report) else list(reports)


def _refuse_checked_file(reports: list[Report], path: str | os.PathLike[str]) -> None:
    """A report is never saved over the file it is about."""
    target = os.path.normcase(os.path.abspath(path))
    for report in reports:
        files = {report.file, *(f.file for f in report.findings)}
        for file in files:
            if file and os.path.normcase(os.path.abspath(file)) == target:
                raise UsageError(f"refusing to write the report over the checked file {file}")
