"""The renderers, tested on hand-built reports: text at 80 columns without colour, JSON, GitHub, HTML/SVG."""

from __future__ import annotations

import html
import io
import json
import math
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

from backprop_doctor.errors import UsageError
from backprop_doctor.findings import Built, Finding, Measurement, Report
from backprop_doctor.report import render_report, save_html, save_svg
from backprop_doctor.report.github import escape_data, escape_property, to_github
from backprop_doctor.report.json_report import to_json
from backprop_doctor.report.rich_report import render
from backprop_doctor.report.text import format_number, sparkline, verdict

NET_SOURCE = '''\
"""两层网络 / 二層ネットワーク"""
import numpy as np


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None  # 损失函数
        self.y = None  # softmax的输出

    def softmax(self, x):
        x = x - np.max(x)
        exp_x = np.exp(x)
        return exp_x / np.sum(exp_x)  # 順伝播

    def forward(self, x, t):
        self.t = t
        self.y = self.softmax(x)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]
'''
SOFTMAX_LINE = 13  # `return exp_x / np.sum(exp_x)  # 順伝播`

ALLCLOSE = """\
Not equal to tolerance rtol=1e-05, atol=1e-10

Mismatched elements: 50 / 50 (100%)
Max absolute difference: 0.0812
Max relative difference: 4.02
 x: array([[0.100, 0.200], ...
 y: array([[0.500, 0.900], ..."""


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "two_layer_net.py"
    path.write_text(NET_SOURCE, encoding="utf-8")
    return path


def make_report(path) -> Report:
    root = Finding(
        name="softmax-not-per-row",
        code="BPD301",
        severity="error",
        message="Softmax normalises across the whole batch: sum over axis=1 instead.",
        layer="SoftmaxWithLoss.softmax",
        measured=0.402,
        threshold=1e-5,
        file=str(path),
        line=SOFTMAX_LINE,
        column=16,
        highlight=(11, SOFTMAX_LINE),
        fix=(
            "x = x - np.max(x, axis=1, keepdims=True)\n"
            "exp_x = np.exp(x)\n"
            "return exp_x / np.sum(exp_x, axis=1, keepdims=True)"
        ),
        evidence=(("row sums", "0.2, 0.2, 0.2, 0.2, 0.2"), ("gradient of x", ALLCLOSE)),
    )
    symptom = Finding(
        name="loss-rises",
        code="BPD601",
        severity="error",
        message="The loss rose from 2.30 to 4.70 over 50 steps of plain gradient descent, "
        "which a correct network at this learning rate never does.",
        layer="TwoLayerNet",
        measured=4.7,
        threshold=2.3,
        caused_by=root.key(),
    )
    warning = Finding(
        name="loss-not-mean",
        code="BPD501",
        severity="warning",
        message="Divide the loss by the batch size in SoftmaxWithLoss.forward: it is summed, not averaged.",
        layer="SoftmaxWithLoss",
        file=str(path),
        line=18,
    )
    info = Finding(
        name="missing-module",
        code="BPD003",
        severity="info",
        message="Module dataset.mnist is missing; it was replaced by a stub.",
        file=str(path),
        line=2,
    )
    return Report(
        # ranking put the symptom first here on purpose: the root cause is found by identity
        findings=[symptom, root, warning, info],
        measurements=[
            Measurement("Affine1", "W", 3.1e-9, "ok"),
            Measurement("SoftmaxWithLoss", "x", 0.402, "mismatch"),
            Measurement("Relu1", "x", None, "skipped"),
        ],
        built=[
            Built(
                "TwoLayerNet",
                "TwoLayerNet(input_size=784, hidden_size=50, output_size=10) from line 153",
                "x (5, 784), t (5, 10)",
            ),
            Built("SoftmaxWithLoss", "SoftmaxWithLoss()", "x (5, 10), t (5, 10)"),
            Built("Relu", "Relu()", "", skipped="its __init__ is misspelled"),
        ],
        seed=0,
        file="two_layer_net.py",
        root_cause=root,
        extras={
            "training": {
                "yours": [2.3 + 0.048 * i for i in range(51)],
                "reference": [2.3 * 0.966**i for i in range(51)],
                "reference_label": "per-row softmax",
                "steps": 50,
                "lr": 0.1,
            }
        },
    )


def ok_report() -> Report:
    return Report(
        seed=0,
        file="good_net.py",
        built=[
            Built("TwoLayerNet", "TwoLayerNet(input_size=4, hidden_size=3, output_size=2)", "x (5, 4)"),
            Built("Affine", "Affine(W, b)", "x (5, 4)"),
            Built("Relu", "Relu()", "x (5, 3)"),
        ],
        measurements=[Measurement("Affine", "W", 2e-10, "ok")],
    )


def draw(reports, *, width=80, **kwargs) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    render(reports, console, **kwargs)
    return console.file.getvalue()


def verdict_block(output: str) -> str:
    """The verdict as one string, however the console wrapped it."""
    lines = output.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("seed "))
    return " ".join(line.strip() for line in lines[:end])


# --- the text report -------------------------------------------------------------------


def test_first_line_is_the_verdict_naming_the_root_cause_and_its_line(net_file):
    wide = draw([make_report(net_file)], width=200)
    assert wide.splitlines()[0] == (
        "✗ two_layer_net.py: the loss rises because softmax normalises across the whole batch "
        f"in SoftmaxWithLoss.softmax (line {SOFTMAX_LINE}): sum over axis=1 instead."
    )
    narrow = draw([make_report(net_file)])
    assert narrow.startswith("✗ two_layer_net.py: the loss rises because")
    assert verdict_block(narrow) == wide.splitlines()[0]


def test_second_line_gives_the_seed_and_the_counts(net_file):
    lines = draw([make_report(net_file)], width=200).splitlines()
    assert lines[1] == "seed 0 · 2 errors · 1 warning · 1 info"


def root_panel(output: str) -> str:
    start = output.index("BPD301 softmax-not-per-row")
    return output[start : output.index("root cause", start)]


def test_code_frame_marks_the_offending_line_with_its_number(net_file):
    output = root_panel(draw([make_report(net_file)]))
    marked = [line for line in output.splitlines() if "❱" in line]
    assert any(f"❱ {SOFTMAX_LINE}" in line and "return exp_x / np.sum(exp_x)" in line for line in marked)
    assert any("❱ 11" in line and "x = x - np.max(x)" in line for line in marked)  # highlight=(11, 13)
    # context: three lines either side, and no further
    assert " 10     def softmax(self, x):" in output
    assert " 16         self.t = t" in output
    assert "self.y = self.softmax(x)" not in output


def test_fix_snippet_is_shown_under_a_fix_label(net_file):
    lines = draw([make_report(net_file)]).splitlines()
    fix_at = next(i for i, line in enumerate(lines) if line.strip("┃│ ") == "Fix")
    assert "return exp_x / np.sum(exp_x, axis=1, keepdims=True)" in "\n".join(lines[fix_at : fix_at + 4])


def test_measured_value_and_evidence_are_shown(net_file):
    output = draw([make_report(net_file)], width=160)
    # the number says what it measures and what it is compared with
    assert "Measured: the largest distance of a row sum from 1 is 0.402; a correct softmax stays below" in output
    assert "1.00e-5." in output
    assert "row sums: 0.2, 0.2, 0.2, 0.2, 0.2" in output
    # the preformatted block keeps its lines
    assert "Mismatched elements: 50 / 50 (100%)" in output
    assert " x: array([[0.100, 0.200], ..." in output


@pytest.mark.parametrize("width", [80, 60, 40])
def test_no_line_is_wider_than_the_console(net_file, width):
    output = draw([make_report(net_file), ok_report()], width=width)
    assert max(cell_len(line) for line in output.splitlines()) <= width


@pytest.mark.parametrize(
    "console_kwargs",
    [{"color_system": None}, {"color_system": None, "force_terminal": True}, {"no_color": True}],
    ids=["no-colour-system", "terminal-without-colour", "no-color"],
)
def test_no_escape_codes_without_colour(net_file, console_kwargs):
    console = Console(file=io.StringIO(), width=80, **console_kwargs)
    render([make_report(net_file)], console)
    assert "\x1b" not in console.file.getvalue()


def test_cjk_comments_in_the_code_frame_are_intact(net_file):
    output = draw([make_report(net_file)])
    assert "return exp_x / np.sum(exp_x)  # 順伝播" in output
    # an info finding is a line in the notes, without a code frame of its own
    assert '"""两层网络 / 二層ネットワーク"""' not in output
    assert re.search(r"BPD003 missing-module · line 2: Module dataset\.mnist is missing", output)
    # double-width characters still close the panel at column 80
    line = next(line for line in output.splitlines() if "順伝播" in line)
    assert cell_len(line) == 80 and line.endswith("┃")


def test_symptoms_are_grouped_one_line_each_not_in_panels(net_file):
    output = draw([make_report(net_file)])
    lines = output.splitlines()
    heading = next(i for i, line in enumerate(lines) if "Symptoms explained by the root cause" in line)
    assert "BPD601 loss-rises" in lines[heading + 1]
    end = next(i for i in range(heading, len(lines)) if lines[i].startswith("╰"))
    # wrapped under itself, never cut: the whole sentence is there
    body = " ".join(line.strip("│ ") for line in lines[heading + 1 : end])
    assert "which a correct network at this learning rate never does." in body
    assert all(line.startswith("│        ") for line in lines[heading + 2 : end])
    assert "…" not in output
    assert "BPD601 loss-rises · error" not in output  # no panel title of its own


def test_panels_follow_the_root_cause_in_report_order(net_file):
    output = draw([make_report(net_file)])
    titles = (
        "BPD301 softmax-not-per-row · error",
        "Symptoms explained",
        "BPD501 loss-not-mean · warning",
        "Notes",
        "BPD003 missing-module",
    )
    order = [output.index(title) for title in titles]
    assert order == sorted(order)
    assert "BPD301 softmax-not-per-row · error · SoftmaxWithLoss.softmax" in output
    assert "root cause" in output


def test_tables_list_measurements_and_what_was_built(net_file):
    output = draw([make_report(net_file)])
    assert "Gradient check" in output and "Built / skipped" in output
    assert re.search(r"SoftmaxWithLoss\s+x\s+0\.402\s+mismatch", output)
    assert re.search(r"Affine1\s+W\s+3\.10e-9\s+ok", output)
    assert re.search(r"skipped:\s+its\s+__init__\s+is", output)


def test_training_probe_draws_both_curves_with_first_and_last_values(net_file):
    output = draw([make_report(net_file)])
    assert "Training probe" in output
    yours = next(line for line in output.splitlines() if "yours" in line)
    reference = next(line for line in output.splitlines() if "per-row softmax" in line)
    assert "2.30 → 4.70" in yours and yours.rstrip("│ ").endswith("█")
    assert "2.30 → 0.41" in reference and reference.rstrip("│ ").endswith("▁")
    assert "50 steps · lr 0.1" in output


def test_sources_given_are_shown_instead_of_the_file(tmp_path):
    report = make_report(tmp_path / "not_on_disk.py")
    text = NET_SOURCE.replace("# 順伝播", "# normalised text")
    output = draw([report], sources={str(tmp_path / "not_on_disk.py"): text})
    assert "return exp_x / np.sum(exp_x)  # normalised text" in output


def test_a_missing_source_file_is_said_not_raised(tmp_path):
    output = draw([make_report(tmp_path / "gone.py")])
    assert "(source not available)" in output
    assert output.startswith("✗ two_layer_net.py: the loss rises because")


def test_rendering_never_writes_the_users_file(net_file, tmp_path):
    before = net_file.read_bytes(), net_file.stat().st_mtime_ns
    draw([make_report(net_file)])
    save_html([make_report(net_file)], tmp_path / "report.html")
    assert (net_file.read_bytes(), net_file.stat().st_mtime_ns) == before
    with pytest.raises(UsageError):
        save_html([make_report(net_file)], net_file)
    assert net_file.read_bytes() == before[0]


def test_ok_report_gives_the_tick_verdict():
    lines = draw([ok_report()]).splitlines()
    assert lines[0] == "✓ good_net.py: no problems found in 2 layers and 1 network (seed 0)"
    assert lines[1] == "seed 0 · 0 errors · 0 warnings · 0 info"
    assert "╭" not in "\n".join(lines)  # no finding panels


def test_several_files_are_separated_and_summed_up(net_file):
    output = draw([make_report(net_file), ok_report()])
    assert "✓ good_net.py: no problems found" in output
    assert output.rstrip().splitlines()[-1] == "2 files · 1 failing · 2 errors · 1 warning · 1 info"


def test_an_ascii_console_gets_ascii_marks(net_file):
    class AsciiIO(io.StringIO):
        encoding = "ascii"

    console = Console(file=AsciiIO(), width=80, color_system=None)
    render([make_report(net_file)], console)
    output = console.file.getvalue()
    assert output.startswith("FAIL two_layer_net.py: the loss rises because")
    assert "2.30 -> 4.70" in output


# --- the verdict -------------------------------------------------------------------------


def test_verdict_names_the_first_error_when_there_is_no_root_cause():
    message = "Affine.backward raised ValueError: shapes (5,3) and (4,3) not aligned."
    first = Finding("layer-raised", "BPD105", "error", message, layer="Affine", line=40)
    second = Finding("input-mutated", "BPD201", "error", "Copy x before changing it.", layer="Relu", line=60)
    text = verdict(Report(findings=[first, second], file="net.py"))
    assert text == "✗ net.py: Affine.backward raised ValueError (line 40): shapes (5,3) and (4,3) not aligned."


def test_verdict_uses_the_rules_summary_for_a_message_without_a_colon():
    message = "Sum db over the batch axis (axis=0)."
    finding = Finding("gradient-mismatch", "BPD101", "error", message, layer="Affine", param="b", line=60)
    text = verdict(Report(findings=[finding], file="net.py", root_cause=finding))
    assert text == (
        "✗ net.py: Analytic gradient differs from the numerical gradient "
        "in Affine.b (line 60): Sum db over the batch axis (axis=0)."
    )


@pytest.mark.parametrize(
    ("curve", "lead"),
    [([2.3, 3.1, 4.7], "the loss rises because"), ([2.3, 2.29, 2.28, 2.28, 2.27, 2.27], "the loss does not fall because")],
)
def test_verdict_leads_with_what_the_training_probe_saw(curve, lead):
    finding = Finding("gradient-mismatch", "BPD101", "error", "db is wrong: sum over axis 0", layer="Affine", line=60)
    report = Report(findings=[finding], file="net.py", root_cause=finding, extras={"training": {"yours": curve}})
    assert verdict(report) == f"✗ net.py: {lead} db is wrong in Affine (line 60): sum over axis 0."


def test_a_falling_probe_curve_is_not_turned_into_a_lead_that_contradicts_the_cause():
    # "the loss falls, but ... so the loss never goes down" contradicted itself: the cause is stated alone
    message = "the update binds a new array (line 120): the loss never goes down; update it in place with `-=`"
    finding = Finding("unshared-parameter", "BPD401", "error", message, layer="TwoLayerNet", line=120)
    report = Report(findings=[finding], file="net.py", root_cause=finding, extras={"training": {"yours": [2.3, 1.0, 0.4]}})
    text = verdict(report)
    assert "falls" not in text
    assert text.startswith("✗ net.py: The update binds a new array (line 120)")


def test_a_probe_curve_that_does_not_separate_buggy_from_fixed_is_not_drawn_as_evidence(net_file):
    report = make_report(net_file)
    same = [2.3 * 0.96**i for i in range(51)]
    report.extras["training"] = {"yours": same, "reference": list(same), "reference_label": "layers sharing params"}
    output = draw([report])
    assert "Training probe" in output and "╭─ Training probe" not in output
    assert "gave the same loss curve" in " ".join(output.split())


def test_verdict_for_a_file_that_could_not_be_loaded():
    message = "Line 3 does not parse: close the bracket opened on line 2."
    finding = Finding("syntax-error", "BPD001", "error", message, line=3)
    text = verdict(Report(findings=[finding], file="net.py", root_cause=finding))
    assert text == (
        "✗ net.py: it could not be checked because line 3 does not parse: close the bracket opened on line 2."
    )


def test_verdict_stays_one_line_whatever_the_message():
    finding = Finding("loss-rises", "BPD601", "error", "The loss rose:\n  from 2.3\n  to 4.7", line=5)
    assert "\n" not in verdict(Report(findings=[finding], file="a\nb.py"))


def test_ok_verdict_with_warnings_mentions_them():
    warning = Finding("loss-not-mean", "BPD501", "warning", "Average the loss.")
    checked = [Measurement("Affine", "W", 2e-10, "ok")]
    text = verdict(
        Report(findings=[warning], file="net.py", built=[Built("Affine", "Affine()")], measurements=checked)
    )
    assert text == "✓ net.py: no errors in 1 layer (seed 0); 1 warning below"


def test_ok_verdict_with_a_training_warning_says_why_the_loss_does_not_fall():
    """Every gradient right, and a training rule's warning (BPD6xx) names the set-up: no check mark;
    the first line is that warning's cause, at its line."""
    warning = Finding(
        "step-saturated-units", "BPD621", "warning",
        "12 of 16 units of `h` (line 9), a tanh, saturate: standardise the inputs", line=9,
    )  # fmt: skip
    checked = [Measurement("training step", "W1", 3e-9, "ok")]
    text = verdict(Report(findings=[warning], file="net.py", built=[Built("training step (line 12)", "replayed")], measurements=checked))
    assert text.startswith("! net.py: every gradient is right in 1 training step (seed 0), but 12 of 16 units of `h` (line 9)")
    assert text.endswith("standardise the inputs.")


def test_ok_verdict_names_a_replayed_training_step_as_one():
    built = [Built("Dense", "Dense()"), Built("training step (line 12)", "replayed from your program's own state")]
    checked = [Measurement("training step", "W1", 3e-9, "ok")]
    text = verdict(Report(file="train.py", built=built, measurements=checked))
    assert text == "✓ train.py: no problems found in 1 layer and 1 training step (seed 0)"


# --- numbers and sparklines ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.402, "0.402"),
        (0.8, "0.800"),
        (1.0, "1.00"),
        (123.0, "123"),
        (1e-5, "1.00e-5"),
        (3.14159e-9, "3.14e-9"),
        (12345.0, "1.23e4"),
        (-2.5e-4, "-2.50e-4"),
        (0.0, "0"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (None, "–"),
    ],
)
def test_format_number_gives_three_significant_digits(value, text):
    assert format_number(value) == text


def test_sparkline_draws_a_rising_series_from_lowest_to_highest_bar():
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([7, 6, 5, 4, 3, 2, 1, 0]) == "█▇▆▅▄▃▂▁"


def test_sparkline_downsamples_to_the_width():
    line = sparkline(range(1000))
    assert len(line) == 40 and line[0] == "▁" and line[-1] == "█"
    assert list(line) == sorted(line)
    assert len(sparkline(range(1000), width=7)) == 7
    assert sparkline(range(5), width=0) == ""


def test_sparkline_marks_nan_and_infinity_and_never_averages_them_away():
    assert sparkline([1.0, float("nan"), 2.0, float("inf"), None]) == "▁×█!×"
    # a divergence inside a bucket still shows
    values = [1.0] * 99 + [float("inf")]
    assert sparkline(values, width=10)[-1] == "!"
    assert sparkline([float("nan")] * 3) == "×××"


def test_sparkline_of_a_flat_or_empty_series():
    assert sparkline([2.0, 2.0, 2.0]) == "▄▄▄"
    assert sparkline([]) == ""


def test_sparkline_can_share_a_scale():
    assert sparkline([0.0, 1.0], lo=0.0, hi=7.0) == "▁▂"
    assert sparkline([100.0], lo=0.0, hi=1.0) == "█"  # clamped


# --- JSON ------------------------------------------------------------------------------


def test_json_round_trips_with_the_documented_keys(net_file):
    data = json.loads(to_json([make_report(net_file), ok_report()]))
    assert set(data) == {"tool", "version", "schema", "seed", "root_cause", "files", "summary"}
    assert data["tool"] == "backprop-doctor" and data["seed"] == 0
    assert data["summary"] == {"files": 2, "failing": 1, "errors": 2, "warnings": 1, "info": 1}
    first = data["files"][0]
    assert set(first) >= {"file", "ok", "root_cause", "findings", "measurements", "built", "training"}
    assert first["ok"] is False and data["files"][1]["ok"] is True
    for finding in first["findings"]:
        assert set(finding) >= {
            "name", "code", "severity", "file", "line", "column", "layer", "param", "message",
            "measured", "threshold", "fix", "pattern", "evidence", "caused_by",
        }
    assert first["findings"][0]["caused_by"] == first["findings"][1]["key"]
    assert first["training"]["reference_label"] == "per-row softmax"
    assert first["verdict"].startswith("✗ two_layer_net.py: the loss rises because")


def test_json_root_cause_points_at_the_root_finding(net_file):
    data = json.loads(to_json([ok_report(), make_report(net_file)]))
    failing = data["files"][1]
    assert failing["root_cause"] == 1  # the symptom is listed first
    assert failing["findings"][1]["code"] == "BPD301"
    assert data["root_cause"] == {
        "file": str(net_file),
        "index": 1,
        "name": "softmax-not-per-row",
        "code": "BPD301",
        "line": SOFTMAX_LINE,
        "message": "Softmax normalises across the whole batch: sum over axis=1 instead.",
    }
    assert json.loads(to_json([ok_report()]))["root_cause"] is None


def test_json_spells_out_nan_and_infinity_everywhere():
    np = pytest.importorskip("numpy")
    message = "The loss stopped being finite."
    finding = Finding("non-finite", "BPD606", "error", message, measured=math.nan, threshold=math.inf)
    report = Report(
        findings=[finding],
        measurements=[Measurement("Affine", "W", math.inf, "mismatch")],
        extras={
            "training": {"yours": [2.3, math.inf, math.nan], "reference": None},
            "curve": np.array([1.0, np.nan]),
        },
    )
    text = to_json([report])
    data = json.loads(text)  # json.loads accepts NaN and Infinity, so check the text too
    assert "NaN" not in text and "Infinity" not in text
    file = data["files"][0]
    assert (file["findings"][0]["measured"], file["findings"][0]["threshold"]) == ("nan", "inf")
    assert file["measurements"][0]["relative_error"] == "inf"
    assert file["training"]["yours"] == [2.3, "inf", "nan"]
    assert file["extras"]["curve"] == [1.0, "nan"]


# --- GitHub ------------------------------------------------------------------------------


def test_github_gives_one_command_per_finding(net_file):
    lines = to_github([make_report(net_file)], root=str(net_file.parent)).splitlines()
    assert len(lines) == 4
    root = lines[1]
    assert root.startswith(
        f"::error file=two_layer_net.py,line={SOFTMAX_LINE},col=16,"
        "title=BPD301 softmax-not-per-row (root cause)::"
    )
    assert "Softmax normalises across the whole batch%3A" not in root  # ':' is escaped only in properties
    assert "%0A%0AFix%3A" not in root and "%0A%0AFix:%0Ax = x - np.max" in root
    assert lines[0].startswith("::error file=two_layer_net.py,title=BPD601 loss-rises::")
    assert "(explained by BPD301)" in lines[0]
    assert lines[2].startswith("::warning file=two_layer_net.py,line=18,title=BPD501 loss-not-mean::")
    assert lines[3].startswith("::notice ")


def test_github_escapes_what_workflow_commands_require():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    message = "50% higher: see\nbelow"
    finding = Finding("loss-rises", "BPD601", "error", message, file="dir,1/net:2.py", line=3)
    (line,) = to_github([Report(findings=[finding])]).splitlines()
    assert line == "::error file=dir%2C1/net%3A2.py,line=3,title=BPD601 loss-rises::50%25 higher: see%0Abelow"


def test_github_output_is_empty_for_an_ok_report():
    assert to_github([ok_report()]) == ""


# --- dispatch, HTML and SVG --------------------------------------------------------------


def test_render_report_dispatches_on_the_format(net_file):
    console = Console(file=io.StringIO(), width=80, color_system=None)
    text = render_report([make_report(net_file)], "json", console)
    assert json.loads(console.file.getvalue()) == json.loads(text)
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render_report(make_report(net_file), "rich", console)
    assert console.file.getvalue().startswith("✗ two_layer_net.py")
    with pytest.raises(UsageError, match="unknown report format"):
        render_report([make_report(net_file)], "xml", console)


def test_html_and_svg_files_contain_the_verdict(net_file, tmp_path):
    save_html([make_report(net_file)], tmp_path / "report.html")
    save_svg([make_report(net_file)], tmp_path / "report.svg")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    picture = html.unescape((tmp_path / "report.svg").read_text(encoding="utf-8")).replace("\xa0", " ")
    for text in (page, picture):
        assert "the loss rises because softmax normalises" in text
        assert "two_layer_net.py" in text
        assert "順伝播" in text


def test_a_finding_without_a_file_is_framed_in_the_checked_file(net_file):
    finding = Finding("loss-not-mean", "BPD501", "warning", "Average the loss over the batch.", line=18)
    output = draw([Report(findings=[finding], file=str(net_file))])
    assert re.search(r"❱ 18\s+return -np.sum\(t \* np.log\(self.y \+ 1e-7\)\) / x.shape\[0\]", output)


def test_training_curves_line_up_even_with_a_double_width_label():
    training = {"yours": [3.0, 2.0, 1.0], "reference": [3.0, 1.0, float("nan")], "reference_label": "逐行 softmax"}
    output = draw([Report(file="net.py", extras={"training": training})])
    rows = [line for line in output.splitlines() if "→" in line]
    assert len(rows) == 2
    starts = [cell_len(row[: row.index("→")]) for row in rows]
    assert starts[0] == starts[1]
    assert rows[1].rstrip("│ ").endswith("▁×")  # NaN drawn, first→last shows it
    assert "3.00 → nan" in rows[1]


def test_each_symptom_gets_its_own_line():
    root = Finding("softmax-not-per-row", "BPD301", "error", "softmax over the batch: sum per row", layer="S", line=16)
    symptoms = [
        Finding("gradient-mismatch", "BPD101", "error", f"dx of L{i} is wrong: fix it", layer=f"L{i}", caused_by=root.key())
        for i in range(3)
    ]
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render([Report(findings=[root, *symptoms], root_cause=root, file="net.py")], console)
    lines = console.file.getvalue().splitlines()
    for i in range(3):
        assert sum(f"BPD101 gradient-mismatch · L{i}" in line for line in lines) == 1
    assert all(cell_len(line) <= 80 for line in lines)


def test_nothing_compared_because_a_function_is_still_pass_says_so_before_a_build_hint():
    build = Finding("build-failed", "BPD008", "warning", "`TwoLayerNet` could not be built to check it: pass `--build`", layer="TwoLayerNet", line=40)
    stub = Finding("bad-return", "BPD107", "warning", "`Affine.backward` is not written yet: its body is `pass`: write it", layer="Affine", line=12, pattern="not-written")
    report = Report(findings=[build, stub], file="net.py", built=[Built("Affine", "synthesized", skipped=None)])
    text = verdict(report)
    assert text.startswith("! net.py: nothing was checked: `Affine.backward` is not written yet")
    assert "--build" not in text
