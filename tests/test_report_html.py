"""The HTML page and the SVG picture: a title, nothing fetched, readable colours, CJK in line.

The same properties are checked in a real browser by benchmarks/screenshot_report.py.
"""

from __future__ import annotations

import html
import re

import pytest
from rich.cells import cell_len

from backprop_doctor.findings import Finding, Measurement, Report
from backprop_doctor.report import save_html, save_svg
from backprop_doctor.report.html import BACKGROUND, MIN_CONTRAST, contrast, hex_rgb

SOURCE = '''\
"""两层网络"""
import numpy as np


class SoftmaxWithLoss:
    def softmax(self, x):
        x = x - np.max(x)  # 减去最大值，防止溢出
        exp_x = np.exp(x)  # 指数函数
        return exp_x / np.sum(exp_x)  # 按批次归一化（错误）

    def forward(self, x, t):
        self.t = t
        self.y = self.softmax(x)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]
'''


@pytest.fixture
def report(tmp_path) -> Report:
    path = tmp_path / "两层网络.py"
    path.write_text(SOURCE, encoding="utf-8")
    root = Finding(
        "softmax-not-per-row", "BPD301", "error",
        "the softmax normalises across the whole batch (line 9): sum over axis 1",
        layer="SoftmaxWithLoss.softmax", measured=0.8, threshold=1e-6, file=str(path), line=9, highlight=(7, 9),
        fix="return exp_x / np.sum(exp_x, axis=1, keepdims=True)",
    )
    note = Finding("missing-module", "BPD003", "info", "`dataset.mnist` is missing", file=str(path), line=2)
    dim = Finding("gradient-mismatch", "BPD101", "error", "dx of `SoftmaxWithLoss` is wrong", layer="SoftmaxWithLoss",
                  param="x", caused_by=root.key())
    return Report(
        findings=[root, dim, note],
        root_cause=root,
        file=str(path),
        measurements=[Measurement("SoftmaxWithLoss", "x", 0.2, "mismatch"), Measurement("Affine", "W", 1e-10, "ok")],
        extras={"training": {"yours": [2.3, 3.0, 4.1], "reference": [2.3, 1.0, 0.2], "steps": 3, "lr": 0.1}},
    )


def _code_lines(page: str) -> list[list[tuple[str, int]]]:
    """The <code> of the page as lines of (character, cells the browser gives it)."""
    code = page[page.index("<code>") + 6 : page.rindex("</code>")]
    lines: list[list[tuple[str, int]]] = [[]]
    for match in re.finditer(r'<span class="bpd-c(\d)(?: bpd-run)?"(?: style="width:(\d+)ch")?>([^<]*)</span>|(<[^>]*>)|([^<]+)', code):
        width, run_width, boxed, _tag, plain = match.groups()
        if boxed:
            # the browser gives the box its width: one or two cells, or the run's `width:Nch`
            lines[-1].append((html.unescape(boxed), int(run_width or width)))
        for ch in html.unescape(plain or ""):
            if ch == "\n":
                lines.append([])
            else:
                lines[-1].append((ch, 1))
    return lines


def test_the_page_has_a_title_and_fetches_nothing(report, tmp_path):
    save_html(report, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<title>backprop-doctor: .*两层网络\.py</title>", page)
    assert not re.search(r"https?://", page)
    assert "@font-face" not in page and "@import" not in page


def test_every_text_colour_reads_on_the_white_page(report, tmp_path):
    save_html(report, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    colours = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", page))
    assert len(colours) >= 4  # red, green, the grey of dim text, syntax colours...
    assert "#00ff00" not in page.lower() and "#00ffff" not in page.lower()
    for colour in colours:
        assert contrast(hex_rgb(colour), BACKGROUND) >= MIN_CONTRAST, colour
    assert re.search(r"background-color:\s*#ffffff", page)


def test_chinese_comments_keep_the_panel_border_in_line(report, tmp_path):
    save_html(report, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    lines = _code_lines(page)
    # every character outside ASCII and the box-drawing block sits in a box of its cell width
    for line in lines:
        for text, width in line:
            assert all(ord(ch) < 0x80 or 0x2500 <= ord(ch) <= 0x259F for ch in text) or width == cell_len(text), text
    framed = [line for line in lines if line and line[-1][0] in "┃│"]
    widths = {sum(w for _, w in line) for line in framed if line[0][0] in "┃│"}
    chinese = [line for line in framed if any("溢" in text for text, _ in line)]
    assert chinese, "the Chinese comment is in a framed line"
    full = max(widths)
    assert sum(w for _, w in chinese[0]) == full
    assert all(sum(w for _, w in line) == full for line in framed if line[0][0] == "┃")


def test_the_svg_gives_wide_characters_two_cells_and_fetches_no_font(report, tmp_path):
    save_svg(report, tmp_path / "report.svg")
    picture = (tmp_path / "report.svg").read_text(encoding="utf-8")
    assert not re.search(r"url\(\"https?://", picture)
    per_cell = set()
    for length, inner in re.findall(r'<text\b[^>]*?textLength="([0-9.]+)"[^>]*>(.*?)</text>', picture):
        text = html.unescape(inner)
        per_cell.add(round(float(length) / cell_len(text), 3))
    assert len(per_cell) == 1  # one cell width for every run, Chinese ones included
    assert "减去最大值" in html.unescape(picture).replace("\xa0", " ")
    colours = set(re.findall(r"(?<![-\w])fill:\s*(#[0-9a-fA-F]{6})", picture))
    for colour in colours:
        assert contrast(hex_rgb(colour), BACKGROUND) >= MIN_CONTRAST, colour
