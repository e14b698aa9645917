"""The text report as a page: HTML and SVG made for a light background.

rich records the console and exports it; three things are fixed here, by configuration
(a theme, a page template) or by post-processing its output:

* colours: `LIGHT_THEME` is a terminal palette for a white page, and every text colour of
  the page is then darkened until it reads at a contrast of at least `MIN_CONTRAST` : 1
  (WCAG AA), `dim` text included (rich draws it half-way to the background);
* width: a double-width character (Chinese, Japanese) takes two cells in the terminal but
  not two `ch` in a browser's fallback font, so a comment in Chinese pushed the panel's
  right border out of line. In HTML every character outside ASCII and the box-drawing
  block sits in a box exactly one or two cells wide. In SVG rich sets each text run's
  `textLength` from its number of characters instead of its cells (`len` for `cell_len`),
  which squeezed wide characters over their neighbours: it is recomputed from the cells;
* nothing is fetched: no web font (rich's SVG names one on a CDN); the page has a `<title>`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.terminal_theme import TerminalTheme

from backprop_doctor.findings import Report

MIN_CONTRAST = 4.5  # WCAG AA for normal text
BACKGROUND = (255, 255, 255)
FOREGROUND = (31, 35, 40)

# A palette for a white page: the eight ANSI colours and their bright variants, dark enough to read.
LIGHT_THEME = TerminalTheme(
    BACKGROUND,
    FOREGROUND,
    [
        (31, 35, 40),  # black
        (177, 12, 36),  # red
        (17, 99, 41),  # green
        (122, 77, 0),  # yellow
        (5, 80, 174),  # blue
        (110, 64, 201),  # magenta
        (10, 101, 117),  # cyan
        (87, 96, 106),  # white: grey on a white page
    ],
    [
        (87, 96, 106),  # bright black
        (164, 14, 38),  # bright red
        (26, 107, 50),  # bright green
        (125, 78, 0),  # bright yellow
        (9, 88, 190),  # bright blue
        (102, 57, 186),  # bright magenta
        (15, 98, 110),  # bright cyan
        (80, 88, 98),  # bright white
    ],
)

FONTS = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace"  # installed fonts only

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{{stylesheet}}
body {{{{
    color: {{foreground}};
    background-color: {{background}};
    margin: 1.5em;
}}}}
pre.bpd {{{{
    font-family: {fonts};
    font-size: 14px;
    line-height: 1.2;
    font-variant-ligatures: none;
}}}}
pre.bpd code {{{{ font-family: inherit; }}}}
.bpd-c1, .bpd-c2 {{{{
    display: inline-block;
    height: 1.2em;
    overflow: hidden;
    vertical-align: top;
    text-align: center;
}}}}
.bpd-c1 {{{{ width: 1ch; }}}}
.bpd-c2 {{{{ width: 2ch; }}}}
.bpd-run {{{{ text-align-last: justify; }}}}
</style>
</head>
<body>
<pre class="bpd"><code>{{code}}</code></pre>
</body>
</html>
"""


def page_title(reports: Sequence[Report]) -> str:
    files = [r.file for r in reports if r.file]
    if len(files) == 1:
        return f"backprop-doctor: {files[0]}"
    return f"backprop-doctor: {len(reports)} files" if len(reports) > 1 else "backprop-doctor report"


def export_html(console: Console, reports: Sequence[Report]) -> str:
    """The recorded console as a standalone HTML page (see the module docstring)."""
    title = html.escape(" ".join(page_title(reports).split())).replace("{", "{{").replace("}", "}}")
    template = PAGE.format(title=title, fonts=FONTS)
    page = console.export_html(theme=LIGHT_THEME, code_format=template, inline_styles=False)
    page = readable_colours(page)
    start = page.index("<code>") + len("<code>")
    end = page.rindex("</code>")
    return page[:start] + cell_boxes(page[start:end]) + page[end:]


def export_svg(console: Console, title: str) -> str:
    """The recorded console as an SVG picture (see the module docstring)."""
    svg = console.export_svg(theme=LIGHT_THEME, title=title)
    svg = re.sub(r",\s*url\(\"https?://[^\"]*\"\)\s*format\(\"[^\"]*\"\)", "", svg)
    svg = readable_colours(svg)
    return _svg_text_lengths(svg)


def cell_boxes(code: str) -> str:
    """Put each run of characters outside ASCII and the box-drawing block in a box of its cells.

    `code` is rich's HTML: tags and entities are ASCII, so only text characters are touched.
    A run keeps its characters together (the page still finds "順伝播"); its box is as wide
    as the cells the terminal gave it, whatever widths the browser's fallback font has.
    """
    out: list[str] = []
    run: list[str] = []
    run_width = 0

    def flush() -> None:
        nonlocal run_width
        if run:
            cells = cell_len("".join(run))
            if len(run) > 1:  # spread over its cells, like the terminal draws it
                out.append(f'<span class="bpd-c{run_width} bpd-run" style="width:{cells}ch">{"".join(run)}</span>')
            else:
                out.append(f'<span class="bpd-c{run_width}">{run[0]}</span>')
            run.clear()

    for ch in code:
        point = ord(ch)
        width = cell_len(ch) if point >= 0x80 and not 0x2500 <= point <= 0x259F else 0
        if width not in (1, 2):
            flush()
            out.append(ch)
            continue
        if run and width != run_width:
            flush()
        run_width = width
        run.append(ch)
    flush()
    return "".join(out)


_TEXT = re.compile(r'(<text\b[^>]*?\btextLength=")([0-9.]+)("[^>]*>)(.*?)(</text>)', re.DOTALL)


def _svg_text_lengths(svg: str) -> str:
    """`textLength` from the cells a run takes, not its characters; wide runs fit their glyphs to it."""

    def fix(match: re.Match[str]) -> str:
        head, length, rest, inner, tail = match.groups()
        text = html.unescape(inner)
        chars, cells = len(text), cell_len(text)
        if not chars or chars == cells:
            return match.group(0)
        new = float(length) / chars * cells
        return f'{head}{new:g}" lengthAdjust="spacingAndGlyphs{rest}{inner}{tail}'

    return _TEXT.sub(fix, svg)


# --------------------------------------------------------------------------- contrast


def luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance (WCAG 2)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def hex_rgb(text: str) -> tuple[int, int, int]:
    text = text.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def readable(rgb: tuple[int, int, int], background: tuple[int, int, int] = BACKGROUND) -> tuple[int, int, int]:
    """`rgb`, darkened towards black just enough to read on `background`."""
    colour = rgb
    step = 0
    while contrast(colour, background) < MIN_CONTRAST + 0.05 and step < 40:
        step += 1
        colour = tuple(round(c * (1 - step / 40)) for c in rgb)  # type: ignore[assignment]
    return colour


_COLOUR_RULE = re.compile(r"(?<![-\w])(color|fill):\s*(#[0-9a-fA-F]{6})")


def readable_colours(text: str) -> str:
    """Every `color:`/`fill:` of a text style darkened until it reads on the white page.

    A rule with its own `background-color` (none in our reports) is left as it is.
    """

    def fix_rule(rule: str) -> str:
        if "background-color" in rule:
            return rule

        def fix(match: re.Match[str]) -> str:
            r, g, b = readable(hex_rgb(match.group(2)))
            return f"{match.group(1)}: #{r:02x}{g:02x}{b:02x}"

        return _COLOUR_RULE.sub(fix, rule)

    return re.sub(r"\{[^{}]*\}", lambda m: fix_rule(m.group(0)), text)
