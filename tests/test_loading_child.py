"""Checking a file in a child process: reports come back, hangs and crashes become findings.

The child calls a `module:function` target; most tests use the loading stage
alone (`backprop_doctor.loading:load_report`), a few use small targets defined
here, which the child imports from this folder.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backprop_doctor.findings import Finding, Report
from backprop_doctor.loading.child import run_isolated
from backprop_doctor.options import Options

LOAD_ONLY = "backprop_doctor.loading:load_report"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "two_layer_net_question.py"
ENDLESS = """\
import numpy as np

class Relu:
    def forward(self, x):
        return np.maximum(x, 0)

step = 0
while True:
    step += 1
"""


def write(folder: Path, text: str, name: str = "net.py") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def here_importable(monkeypatch):
    """Let the child import this test module, to call the targets below."""
    root = Path(__file__).resolve().parent
    for _ in range(__name__.count(".")):
        root = root.parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    return __name__


# Targets the child calls instead of the pipeline.


def report_with_everything(path: str, options: Options) -> Report:
    finding = Finding(
        name="gradient-mismatch", code="BPD101", severity="error", message="wrong db",
        file=path, line=3, highlight=(3,), evidence=(("worst", "db[0]"),), measured=float("nan"),
    )  # fmt: skip
    report = Report(findings=[finding], seed=options.seed, file=path, extras={"curve": [1.0, 0.5]})
    report.root_cause = finding
    print("printed by the check")
    return report


def raising_target(path: str, options: Options) -> Report:
    exec(compile(open(path).read(), path, "exec"), {})  # the user's code raises from inside the pipeline
    raise AssertionError("unreachable")


def tool_bug_target(path: str, options: Options) -> Report:
    exec(compile(open(path).read(), path, "exec"), {})  # the user's code runs fine...
    raise RuntimeError("a bug of the tool")  # ...and the tool itself fails


def usage_error_target(path: str, options: Options) -> Report:
    from backprop_doctor.errors import UsageError

    raise UsageError("--build: cannot parse 'Net('")


# --------------------------------------------------------------------------- reports


def test_the_childs_report_comes_back_whole(tmp_path, here_importable):
    path = write(tmp_path, "x = 1\n")
    report = run_isolated(path, Options(seed=7, timeout=30), target=f"{here_importable}:report_with_everything")

    [finding] = report.findings
    assert (finding.name, finding.line, finding.highlight, finding.evidence) == (
        "gradient-mismatch", 3, (3,), (("worst", "db[0]"),),
    )  # fmt: skip
    assert finding.file == str(path) and report.file == str(path)
    assert report.seed == 7 and report.root_cause is finding and report.extras["curve"] == [1.0, 0.5]
    assert "printed by the check" in report.extras["stdout"]


def test_the_loading_stage_runs_in_the_child_with_paths_as_the_caller_gave_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "from dataset.mnist import load_mnist\n\nclass Affine:\n    pass\n")
    report = run_isolated("net.py", Options(timeout=30), target=LOAD_ONLY)
    assert "Affine" in report.extras["names"]
    [missing] = report.by_name("missing-module")
    assert missing.file == "net.py" and missing.line == 1


def test_what_the_users_code_prints_is_kept_in_the_report_not_on_the_terminal(tmp_path, capfd):
    path = write(tmp_path, "print('epoch 1 loss 2.3')\n")
    report = run_isolated(path, Options(timeout=30, exec_module=True), target=LOAD_ONLY)
    assert report.extras["load_output"] == "epoch 1 loss 2.3\n"
    assert capfd.readouterr().out == ""


def test_an_exception_the_users_code_raises_inside_the_check_is_the_users_finding(tmp_path, here_importable):
    path = write(tmp_path, "def forward(x):\n    return x / 0\n\nforward(1)\n")
    report = run_isolated(path, Options(timeout=30), target=f"{here_importable}:raising_target")
    [finding] = report.findings
    assert finding.name == "layer-raised" and "`forward` (line 2) raised ZeroDivisionError" in finding.message
    assert finding.file == str(path) and finding.line == 2
    assert "please report" not in finding.message
    assert dict(finding.evidence)["raised here"].endswith("ZeroDivisionError: division by zero")


def test_an_exception_of_the_tools_own_code_is_reported_as_ours_not_raised(tmp_path, here_importable):
    path = write(tmp_path, "def forward(x):\n    return x\n\nforward(1)\n")
    report = run_isolated(path, Options(timeout=30), target=f"{here_importable}:tool_bug_target")
    [finding] = report.findings
    assert finding.name == "load-crash" and "RuntimeError: a bug of the tool" in finding.message
    assert "please report" in finding.message
    assert "Traceback" in dict(finding.evidence)["traceback"]


def test_usage_errors_are_raised_to_the_caller_not_turned_into_findings(tmp_path, here_importable):
    from backprop_doctor.errors import UsageError

    with pytest.raises(UsageError, match="no such file"):
        run_isolated(tmp_path / "absent.py", Options(timeout=30), target=LOAD_ONLY)
    with pytest.raises(UsageError, match="cannot parse"):
        run_isolated(write(tmp_path, "x = 1\n"), Options(timeout=30), target=f"{here_importable}:usage_error_target")


# --------------------------------------------------------------------------- hangs


def test_a_module_level_endless_loop_loads_quickly_in_definitions_mode(tmp_path):
    path = write(tmp_path, ENDLESS)
    started = time.perf_counter()
    report = run_isolated(path, Options(timeout=30), target=LOAD_ONLY)
    assert time.perf_counter() - started < 20
    assert report.findings == [] and "Relu" in report.extras["names"]


def test_a_module_level_endless_loop_under_exec_module_is_a_load_timeout_naming_its_line(tmp_path):
    path = write(tmp_path, ENDLESS)
    started = time.perf_counter()
    report = run_isolated(path, Options(timeout=2, exec_module=True), target=LOAD_ONLY)
    assert time.perf_counter() - started < 2 + 8
    [finding] = report.findings
    assert (finding.name, finding.code, finding.severity) == ("load-timeout", "BPD005", "error")
    assert finding.file == str(path) and finding.line in (8, 9) and finding.highlight == (finding.line,)
    assert "module level" in finding.message and "after 2 s" in finding.message
    assert finding.fix == 'if __name__ == "__main__":'


def test_a_child_that_ignores_the_dump_is_still_stopped(tmp_path, here_importable):
    path = write(tmp_path, "import time\nwhile True:\n    time.sleep(0.01)\n")
    started = time.perf_counter()
    # A target that cancels faulthandler's timer: the worker's watchdog thread is what is left.
    report = run_isolated(path, Options(timeout=1, exec_module=True), target=f"{here_importable}:no_dump_target")
    assert time.perf_counter() - started < 1 + 8
    [finding] = report.findings
    # the worker's own watchdog still stops it, before the parent's deadline, and names the line
    assert finding.name == "load-timeout" and finding.line == 3 and "(module level)" in finding.message


def no_dump_target(path: str, options: Options) -> Report:
    import faulthandler

    faulthandler.cancel_dump_traceback_later()
    from backprop_doctor.loading import load_report

    return load_report(path, options)


# --------------------------------------------------------------------------- crashes


def test_os_exit_at_import_under_exec_module_is_a_load_crash_naming_its_line(tmp_path):
    path = write(tmp_path, "import os, sys\nprint('bye', file=sys.stderr)\nos._exit(3)\n")
    report = run_isolated(path, Options(timeout=30, exec_module=True), target=LOAD_ONLY)
    [finding] = report.findings
    assert (finding.name, finding.code, finding.severity) == ("load-crash", "BPD006", "error")
    assert finding.line == 3 and "os._exit(3)" in finding.message
    assert dict(finding.evidence)["stderr"] == "bye"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_segfault_at_import_under_exec_module_is_a_load_crash_with_the_line_and_stderr(tmp_path):
    path = write(tmp_path, "import ctypes\n\ndef crash():\n    ctypes.string_at(0)\n\ncrash()\n")
    report = run_isolated(path, Options(timeout=30, exec_module=True), target=LOAD_ONLY)
    [finding] = report.findings
    assert finding.name == "load-crash" and "segmentation fault" in finding.message
    assert finding.line == 4 and "in `crash`" in finding.message
    assert "Segmentation fault" in dict(finding.evidence)["stack"]


# --------------------------------------------------------------------------- the user's folder


def test_an_isolated_run_writes_nothing_next_to_the_users_file(tmp_path):
    write(tmp_path, "import numpy as np\n\nclass Affine:\n    pass\n", name="common/layers.py")
    write(tmp_path, "open('model.pkl', 'wb').write(b'x')\n", name="ch05/helper.py")
    path = write(
        tmp_path,
        "import sys, os\nsys.path.append(os.pardir)\nfrom common.layers import *\nimport helper\n",
        name="ch05/net.py",
    )
    before = listing(tmp_path)
    report = run_isolated(path, Options(timeout=30, exec_module=True), target=LOAD_ONLY)
    assert report.findings == [] and "Affine" in report.extras["names"]
    assert listing(tmp_path) == before


def test_the_seed_question_loads_in_the_child():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is absent")
    report = run_isolated(SEED, Options(timeout=30), target=LOAD_ONLY)
    assert {"TwoLayerNet", "SoftmaxWithLoss", "Affine", "Relu"} <= set(report.extras["names"])
    assert [f.line for f in report.by_name("text-normalised")] == [182]
    assert report.ok
