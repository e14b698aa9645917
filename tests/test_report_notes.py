"""Notes, verdicts on nothing, and what a measured number means: the report's plain wording."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

from rich.console import Console

from backprop_doctor.findings import Built, Finding, Measurement, Report
from backprop_doctor.ranking import rank
from backprop_doctor.report.rich_report import render
from backprop_doctor.report.text import measured_sentence, verdict


def draw(report: Report, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    render(report, console)
    return console.file.getvalue()


def words(output: str) -> str:
    return " ".join(w for line in output.splitlines() for w in line.strip("│┃ ").split())


def test_a_pasted_character_is_pointed_at_by_line_and_column(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import numpy as np\n\ndef f(x):\n  \u00a0 return x\n\u00a0\n", encoding="utf-8")
    note = Finding(
        "text-normalised", "BPD002", "info",
        "line 4 holds an invisible character pasted from a web page (1 × U+00A0 NO-BREAK SPACE)",
        file=str(path), line=4, highlight=(4, 5), evidence=(("line 4", "1 × U+00A0"), ("line 5", "1 × U+00A0")),
    )
    output = words(draw(Report(findings=[note], file=str(path), measurements=[Measurement("f", "x", 0.0, "ok")])))
    assert "BPD002 Line 4, column 3 holds an invisible U+00A0 NO-BREAK SPACE pasted from a web page" in output
    assert "(2 such characters on 2 lines)" in output
    assert "Python rejects the file as it is (`SyntaxError: invalid non-printable character U+00A0`)" in output
    assert "the file is unchanged" in output


def test_info_findings_are_one_list_without_code_frames(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("from dataset.mnist import load_mnist\nimport matplotlib.pyplot as plt\n", encoding="utf-8")
    notes = [
        Finding("missing-module", "BPD003", "info", f"`{m}` is missing; a stand-in was used", file=str(path), line=i)
        for i, m in ((1, "dataset.mnist"), (2, "matplotlib.pyplot"))
    ]
    mutated = Finding("upstream-grad-mutated", "BPD202", "warning", "`Relu1.backward` writes into `dout`", layer="Relu1",
                      file=str(path), line=2)
    output = draw(Report(findings=[mutated, *notes], file=str(path), measurements=[Measurement("R", "x", 0.0, "ok")]))
    assert output.count("╭─ Notes") == 1 and "╭─ BPD" not in output
    assert "❱" not in output  # no code frame
    assert "BPD202 upstream-grad-mutated · Relu1 line 2: `Relu1.backward` writes into `dout`. (warning)" in words(output)


def test_measured_numbers_say_what_they_measure():
    finding = Finding("gradient-mismatch", "BPD101", "error", "dx is wrong", measured=0.518, threshold=1e-5)
    assert measured_sentence(finding) == (
        "Measured: the relative error between your gradient and the numerical gradient is 0.518; "
        "the tolerance is 1.00e-5."
    )
    unknown = Finding("some-new-rule", "BPD999", "error", "x", measured=2.0, threshold=1.0)
    assert measured_sentence(unknown) == "Measured 2.00 (limit 1.00)."


def test_nothing_compared_is_never_a_tick():
    """Objects backprop-doctor could not build: "!" and how to build them, neither ✓ nor ✗ (no bug was seen)."""
    report = rank(Report(file="net.py", built=[Built("Net", "not built", skipped="cannot guess `config`")]))
    text = verdict(report)
    assert not text.startswith(("✓", "✗")), text
    assert "not one gradient could be compared" in text and "pass `--build 'Net(...)'`" in text
    # ranked again (a file's report gathers its objects' reports): still one such finding
    assert len([f for f in rank(report).findings if f.code == "BPD007"]) == 1


def test_a_warning_without_anything_checked_has_no_tick():
    nothing = Finding("nothing-to-check", "BPD007", "warning", "no layer class was found: define one here")
    text = verdict(Report(findings=[nothing], file="train.py"))
    assert text.startswith("! train.py: nothing was checked: ") and "✓" not in text


def test_a_generator_forward_fails_the_cli_instead_of_passing(tmp_path):
    (tmp_path / "gen.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Affine:
                def __init__(self, W, b):
                    self.W, self.b = W, b

                def forward(self, x):
                    self.x = x
                    yield np.dot(x, self.W) + self.b

                def backward(self, dout):
                    self.dW = np.dot(self.x.T, dout)
                    self.db = dout.sum(axis=0)
                    return np.dot(dout, self.W.T)
            """
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", "gen.py", "--color", "never", "--no-training"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✓" not in done.stdout and "no problems found" not in done.stdout
    assert "not one gradient could be compared" in " ".join(done.stdout.split())
