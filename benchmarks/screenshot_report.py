"""Render a report with Chinese comments as HTML and SVG, screenshot both in headless Chromium, check them.

    .venv/bin/python benchmarks/screenshot_report.py [--out DIR] [--chromium PATH]

Checks, and exits 1 when one fails:
* contrast: every text colour the page uses reads at >= 4.5:1 on its background (WCAG AA);
* layout: in the browser, the right border of every framed line sits at the same pixel per
  cell, CJK lines included (measured with a script the page runs, read back with --dump-dom);
* nothing is fetched: no http(s) URL other than the SVG namespace in either file;
* the page has a <title>.
The PNGs are left in DIR (default: a temporary folder) to look at.

Needs Debian's `chromium` (apt-get install chromium) and, for Chinese glyphs, fonts-noto-cjk.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backprop_doctor.report.html import BACKGROUND, MIN_CONTRAST, contrast, hex_rgb  # noqa: E402

SAMPLE = ROOT / "samples" / "two_layer_net_batch_softmax.py"
COMMENTS = {  # a Chinese comment on lines the report frames
    "exp_x = np.exp(x)": "  # 软件最大值函数（按批次归一化）",
    "class SoftmaxWithLoss": "  # 损失层：softmax 与交叉熵",
}
RIGHT_BORDERS = "│┃╮╯┓┛"

MEASURE = """
<script>
window.addEventListener('load', () => {
  const code = document.querySelector('pre code');
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) chars.push([node, i, node.data[i]]);
  }
  const origin = code.getBoundingClientRect().left;
  const out = [];
  let line = 0;
  for (let k = 0; k < chars.length; k++) {
    const [node, i, ch] = chars[k];
    if (ch === '\\n') { line++; continue; }
    const next = k + 1 < chars.length ? chars[k + 1][2] : '\\n';
    if (next === '\\n' && BORDERS.includes(ch)) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getBoundingClientRect();
      out.push([line, rect.right - origin]);
    }
  }
  document.body.setAttribute('data-borders', JSON.stringify(out));
});
</script>
"""


def cjk_sample(folder: Path) -> Path:
    lines = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        for start, comment in COMMENTS.items():
            if line.strip().startswith(start):
                line += comment
        lines.append(line)
    path = folder / "两层网络_softmax.py"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def chromium(binary: str, *args: str) -> str:
    command = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"chromium failed ({done.returncode}): {done.stderr[-800:]}")
    return done.stdout


def check_contrast(text: str) -> list[str]:
    problems = []
    for colour in sorted(set(re.findall(r"(?<![-\w])(?:color|fill):\s*(#[0-9a-fA-F]{6})", text))):
        ratio = contrast(hex_rgb(colour), BACKGROUND)
        if ratio < MIN_CONTRAST:
            problems.append(f"{colour} has contrast {ratio:.2f}:1 on white")
    return problems


def check_borders(binary: str, page: Path, text_lines: list[str]) -> tuple[list[str], int]:
    """(problems, framed lines measured): each right border's x over its cell column is one width."""
    from rich.cells import cell_len

    probe = page.with_name("measure.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE.replace("BORDERS", json.dumps(RIGHT_BORDERS)) + "</body>"), encoding="utf-8")
    dom = chromium(binary, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    found = re.search(r'data-borders="([^"]*)"', dom)
    if not found:
        return ["the measuring script did not run"], 0
    borders = json.loads(found.group(1).replace("&quot;", '"'))
    widths = []
    for line, right in borders:
        cells = cell_len(text_lines[line]) if line < len(text_lines) else 0
        if cells:
            widths.append((right / cells, line))
    if not widths:
        return ["no framed lines found"], 0
    base = sorted(w for w, _ in widths)[len(widths) // 2]
    problems = [
        f"line {line + 1} ends at {w * cell_len(text_lines[line]):.1f}px, expected {base * cell_len(text_lines[line]):.1f}px: {text_lines[line]!r}"
        for w, line in widths
        if abs(w - base) * cell_len(text_lines[line]) > 1.0
    ]
    return problems, len(widths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bpd-screens-"))
    out.mkdir(parents=True, exist_ok=True)

    import io

    from rich.console import Console

    from backprop_doctor.pipeline import check_file
    from backprop_doctor.report import save_html, save_svg
    from backprop_doctor.report.rich_report import render

    work = Path(tempfile.mkdtemp(prefix="bpd-cjk-"))
    source = cjk_sample(work)
    report = check_file(source)
    html_path, svg_path = out / "report.html", out / "report.svg"
    save_html(report, html_path)
    save_svg(report, svg_path)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render(report, console)
    text_lines = console.file.getvalue().splitlines()

    problems = []
    page, picture = html_path.read_text(encoding="utf-8"), svg_path.read_text(encoding="utf-8")
    if not re.search(r"<title>[^<]+</title>", page):
        problems.append("the HTML page has no <title>")
    for name, text in (("HTML", page), ("SVG", picture)):
        urls = [u for u in re.findall(r"https?://[^\s\"')]+", text) if u != "http://www.w3.org/2000/svg"]
        urls = [u for u in urls if not text[max(0, text.find(u) - 30) : text.find(u)].strip().endswith("<!-- Generated with Rich")]
        if urls:
            problems.append(f"{name} refers to {urls}")
        problems += [f"{name}: {p}" for p in check_contrast(text)]
    if not any("软件最大值函数" in line for line in text_lines):
        problems.append("the Chinese comment is not in the report")
    border_problems, measured = check_borders(args.chromium, html_path, text_lines)
    problems += border_problems

    chromium(args.chromium, "--window-size=1000,2600", f"--screenshot={out / 'report_html.png'}", html_path.as_uri())
    chromium(args.chromium, "--window-size=1000,2600", f"--screenshot={out / 'report_svg.png'}", svg_path.as_uri())
    print(f"framed lines measured in the browser: {measured}")
    print(f"screenshots: {out / 'report_html.png'}, {out / 'report_svg.png'}")
    for problem in problems:
        print("FAIL", problem)
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
