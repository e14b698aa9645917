"""The real `backprop-doctor` command in a subprocess, on user files written to a temp folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"

AFFINE_OK = """
import numpy as np

class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)
"""


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "backprop_doctor", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check_json(path: Path, *extra: str) -> tuple[int, dict]:
    result = run("check", str(path), "--format", "json", "--no-training", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(data: dict) -> list[dict]:
    return [f for file in data["files"] for f in file["findings"]]


def names(data: dict) -> set[str]:
    return {f["name"] for f in findings(data)}


# -- bad input becomes a finding and an exit code, never a traceback ------------------------


def test_syntax_error_is_an_error_finding_with_line_and_column(tmp_path):
    path = write(tmp_path, "broken.py", "import numpy as np\n\ndef forward(x:\n    return x\n")
    code, data = check_json(path)
    assert code == 1
    [finding] = [f for f in findings(data) if f["name"] == "syntax-error"]
    assert finding["severity"] == "error" and finding["line"] == 3 and finding["column"] >= 1


def test_python2_file_is_reported_with_a_hint(tmp_path):
    path = write(tmp_path, "py2.py", 'import numpy as np\nprint "loss", 1.0\n')
    code, data = check_json(path)
    [finding] = [f for f in findings(data) if f["name"] == "python2"]
    assert (finding["line"], finding["severity"], finding["fix"]) == (2, "warning", 'print("loss", 1.0)')
    assert "Python 2" in finding["message"] and not [f for f in findings(data) if f["name"] == "syntax-error"]


def test_missing_import_is_stubbed_and_listed_and_the_layer_still_checked(tmp_path):
    path = write(tmp_path, "net.py", "from dataset.mnist import load_mnist\n" + AFFINE_OK + "\n(x, t), _ = load_mnist()\n")
    code, data = check_json(path)
    assert code == 0, data
    missing = [f for f in findings(data) if f["name"] == "missing-module"]
    assert missing and "dataset.mnist" in missing[0]["message"] and missing[0]["line"] == 1
    assert any(m["layer"] == "Affine" for file in data["files"] for m in file["measurements"])


def test_training_loop_that_never_ends_is_not_run(tmp_path):
    path = write(tmp_path, "forever.py", AFFINE_OK + "\nwhile True:\n    pass\n")
    code, data = check_json(path, "--timeout", "30")
    assert code == 0 and "load-timeout" not in names(data)


def test_module_that_hangs_under_exec_module_times_out_at_its_line(tmp_path):
    path = write(tmp_path, "forever.py", AFFINE_OK + "\nwhile True:\n    pass\n")
    code, data = check_json(path, "--exec-module", "--timeout", "3")
    assert code == 1
    [finding] = [f for f in findings(data) if f["name"] == "load-timeout"]
    assert finding["line"] in (18, 19)  # `while True:` / `pass`


def test_layer_that_raises_is_an_error_finding_not_a_traceback(tmp_path):
    path = write(
        tmp_path,
        "raises.py",
        """
        import numpy as np

        class Broken:
            def __init__(self, W):
                self.W = W

            def forward(self, x):
                return np.dot(x, self.weights)  # no such attribute

            def backward(self, dout):
                self.dW = dout
                return dout
        """,
    )
    code, data = check_json(path)
    assert code == 1
    raised = [f for f in findings(data) if f["name"] in ("layer-raised", "build-failed")]
    assert raised, data
    assert raised[0]["line"] is not None


def test_layer_returning_nan_is_reported(tmp_path):
    path = write(
        tmp_path,
        "nan.py",
        """
        import numpy as np

        class SharpSoftmax:
            def forward(self, x):
                e = np.exp(x / 0.001)  # a low temperature, no max taken off: exp overflows
                self.y = e / e.sum(axis=1, keepdims=True)
                return self.y

            def backward(self, dout):
                return self.y * (dout - (dout * self.y).sum(axis=1, keepdims=True)) / 0.001
        """,
    )
    code, data = check_json(path)
    assert code == 1 and "non-finite-output" in names(data)


def test_empty_file_says_there_is_nothing_to_check(tmp_path):
    path = write(tmp_path, "empty.py", "")
    code, data = check_json(path)
    assert code == 0 and names(data) == {"nothing-to-check"}


def test_folder_is_checked_file_by_file_and_fails_when_one_file_does(tmp_path):
    write(tmp_path, "good.py", AFFINE_OK)
    write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    result = run("check", str(tmp_path), "--format", "json", "--no-training", "-j", "2")
    data = json.loads(result.stdout)
    assert result.returncode == 1
    by_file = {Path(f["file"]).name: f for f in data["files"]}
    assert set(by_file) == {"good.py", "bad.py"}
    assert by_file["good.py"]["ok"] and not by_file["bad.py"]["ok"]


def test_usage_errors_exit_2(tmp_path):
    assert run("check", str(tmp_path / "missing.py")).returncode == 2
    assert run("rule", "BPD999").returncode == 2
    assert run().returncode == 2
    assert run("check", str(tmp_path), "--format", "xml").returncode == 2


def test_user_files_and_folder_are_never_written(tmp_path):
    path = write(tmp_path, "net.py", "from helpers import thing\n" + AFFINE_OK)
    write(tmp_path, "helpers.py", "thing = 1\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*")}
    run("check", str(path), "--format", "json")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*")}
    assert after == before


def test_chinese_and_japanese_comments_are_printed_intact(tmp_path):
    text = AFFINE_OK.replace("self.db = np.sum(dout, axis=0)", "self.db = np.sum(dout, axis=1)  # 偏置的梯度 バイアス")
    path = write(tmp_path, "cjk.py", text)
    result = run("check", str(path), "--no-training", "--color", "never")
    assert result.returncode == 1
    assert "# 偏置的梯度 バイアス" in result.stdout


# -- options -------------------------------------------------------------------------------


def test_ignore_and_select_filter_by_code_or_name(tmp_path):
    path = write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    code, data = check_json(path, "--ignore", "BPD102")
    assert code == 0 and "gradient-shape-mismatch" not in names(data)
    code, data = check_json(path, "--select", "gradient-shape")
    assert code == 1 and names(data) == {"gradient-shape-mismatch"}


def test_settings_come_from_pyproject_and_flags_win(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.backprop-doctor]\nseed = 41\nignore = ["BPD102"]\n', encoding="utf-8")
    path = write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    code, data = check_json(path)
    assert data["seed"] == 41 and code == 0
    code, data = check_json(path, "--seed", "5")
    assert data["seed"] == 5


def test_rule_prints_the_documentation_by_name_or_code():
    by_code = run("rule", "BPD101")
    by_name = run("rule", "gradient-mismatch")
    assert by_code.returncode == 0 and by_code.stdout == by_name.stdout
    assert "Why it matters" in by_code.stdout


def test_list_checks_lists_every_rule_with_its_code():
    from backprop_doctor.rules import all_rules

    result = run("list-checks")
    assert result.returncode == 0
    for r in all_rules().values():
        assert r.code in result.stdout and r.name in result.stdout


def test_json_output_is_clean_even_when_user_code_prints(tmp_path):
    path = write(tmp_path, "noisy.py", AFFINE_OK + "\nprint('hello from the user')\n")
    result = run("check", str(path), "--format", "json", "--exec-module", "--no-training")
    data = json.loads(result.stdout)
    assert data["tool"] == "backprop-doctor" and "hello" not in result.stdout.split("{", 1)[0]


def test_github_format_emits_workflow_annotations(tmp_path):
    path = write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    result = run("check", str(path), "--format", "github", "--no-training")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=") and "BPD102" in result.stdout


# -- the real user's file ------------------------------------------------------------------


@pytest.fixture
def seed_file() -> Path:
    if not SEED.is_file():
        pytest.skip("../shared/seed is not present in this checkout")
    return SEED


def test_reports_wrong_softmax_axis_in_seed_model(seed_file):
    before = seed_file.read_bytes()
    result = run("check", str(seed_file), "--color", "never")
    assert result.returncode == 1, result.stderr
    verdict = " ".join(result.stdout.split("\nseed 0")[0].split())  # the verdict, unwrapped
    assert verdict.startswith("✗") and "the loss rises because the softmax in `SoftmaxWithLoss.softmax`" in verdict
    assert "normalises across the whole batch (line 16)" in verdict
    assert "SoftmaxWithLoss.softmax" in result.stdout.split("seed 0")[0]
    assert "softmax_x = exp_x / np.sum(exp_x)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert seed_file.read_bytes() == before


def test_seed_model_json_names_the_same_root_cause(seed_file):
    code, data = check_json(seed_file)
    assert code == 1
    root = data["root_cause"]
    assert root["name"] == "softmax-not-per-row" and root["line"] in (14, 16)
    found = names(data)
    assert {"gradient-mismatch", "misspelled-dunder", "text-normalised", "missing-module"} <= found


def test_build_overrides_how_the_network_is_constructed(tmp_path):
    shutil.copy(ROOT / "samples" / "two_layer_net_fixed.py", tmp_path / "net.py")
    code, data = check_json(tmp_path / "net.py", "--build", "TwoLayerNet(input_size=7, hidden_size=3, output_size=2)")
    assert code == 0
    built = {b["what"]: b for b in data["files"][0]["built"]}
    assert "TwoLayerNet(input_size=7, hidden_size=3, output_size=2) from --build" in built["TwoLayerNet"]["how"]


def test_build_expression_that_is_not_literal_is_a_usage_error(tmp_path):
    path = write(tmp_path, "net.py", AFFINE_OK)
    result = run("check", str(path), "--build", "Net(__import__('os').getcwd())")
    assert result.returncode == 2 and "literal" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_html_and_svg_reports_are_saved(tmp_path):
    path = write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    out = tmp_path / "out"
    out.mkdir()
    result = run("check", str(path), "--no-training", "--html", str(out / "r.html"), "--svg", str(out / "r.svg"))
    assert result.returncode == 1
    assert "gradient-shape-mismatch" in (out / "r.html").read_text(encoding="utf-8")
    assert (out / "r.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_color_always_emits_ansi_and_never_does_not(tmp_path):
    path = write(tmp_path, "bad.py", AFFINE_OK.replace("axis=0", "axis=1"))
    env = {"NO_COLOR": ""}
    coloured = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--no-training", "--color", "always"],
        capture_output=True, text=True, encoding="utf-8", env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
    )
    plain = run("check", str(path), "--no-training", "--color", "never", env=env)
    assert "\x1b[" in coloured.stdout and "\x1b[" not in plain.stdout


def test_a_pasted_minus_sign_is_a_syntax_error_with_the_ascii_fix(tmp_path):
    path = write(tmp_path, "minus.py", "import numpy as np\nx = 3 \u2212 1\n")
    code, data = check_json(path)
    [finding] = findings(data)
    assert code == 1 and finding["name"] == "syntax-error" and finding["line"] == 2
    assert "U+2212" in finding["message"] and finding["fix"] == "x = 3 - 1"


@pytest.mark.parametrize("args", [("list-checks",), ("rule", "BPD101")])
def test_output_to_a_reader_that_left_is_not_an_error(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone, like `| head -1` after its line
    try:
        result = subprocess.run(
            [sys.executable, "-m", "backprop_doctor", *args], stdout=write_end, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0 and b"internal error" not in result.stderr
