"""Recurrent cells whose backward returns a dictionary of gradients (`conventions/gradient_dicts`).

The course's `rnn_cell_forward(xt, a_prev, parameters)` / `rnn_cell_backward(da_next, cache)`
and the sequence versions are checked on column-major inputs; an exercise left unfinished is
said to be unfinished, never blamed for a wrong gradient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).parent / "cases" / "conventions"
CORRECT = (CASES / "gradient_dicts_ok.py").read_text()


def check(path: Path) -> dict:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(path), "--format", "json", "--no-training"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)["files"][0]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rnn_step_by_step.py"
    path.write_text(text)
    return path


def test_every_cell_and_sequence_is_checked_on_columns(tmp_path):
    report = check(_write(tmp_path, CORRECT))
    built = {b["what"]: b for b in report["built"]}
    assert built["rnn_cell_forward/rnn_cell_backward"]["shapes"].startswith("xt (3, 5), a_prev (4, 5)")
    assert built["rnn_forward/rnn_backward"]["shapes"].startswith("x (3, 5, 3), a0 (4, 5)")
    assert "c_prev (4, 5)" in built["lstm_cell_forward/lstm_cell_backward"]["shapes"]
    checked = {m["param"] for m in report["measurements"] if m["layer"] == "rnn_cell_forward/rnn_cell_backward"}
    assert {"a_prev", "Wax", "Waa", "ba"} <= checked and "Wya" not in checked  # Wya feeds only the prediction
    assert not [f for f in report["findings"] if f["severity"] == "error"]


def test_a_hidden_state_gradient_not_carried_back_through_time_is_reported(tmp_path):
    old = '        da_prevt = step["da_prev"]\n'
    assert CORRECT.count(old) == 1
    text = CORRECT.replace(old, "")
    report = check(_write(tmp_path, text))
    wrong = {f["param"] for f in report["findings"] if f["code"] == "BPD101" and f["layer"] == "rnn_forward/rnn_backward"}
    assert {"Waa", "Wax", "x"} <= wrong, report["findings"]


def test_an_unfinished_exercise_is_reported_as_unfinished_not_as_a_wrong_gradient(tmp_path):
    old = '    dWaa = dz @ a_prev.T\n'
    text = CORRECT.replace(old, "    dWaa = None\n")
    path = _write(tmp_path, text)
    report = check(path)
    assert not [f for f in report["findings"] if f["code"] == "BPD101" and f["layer"].startswith("rnn_")]
    notes = [f for f in report["findings"] if f["layer"] == "rnn_cell_forward/rnn_cell_backward"]
    line = text.splitlines().index("    dWaa = None") + 1
    assert any("not finished" in f["message"] and f"line {line}" in f["message"] for f in notes), notes


def test_a_forward_whose_body_was_left_out_is_reported_as_unfinished(tmp_path):
    start = CORRECT.index("    Wax, Waa, Wya = parameters")
    end = CORRECT.index("    cache = (a_next, a_prev, xt, parameters)")
    report = check(_write(tmp_path, CORRECT[:start] + CORRECT[end:]))
    notes = [f["message"] for f in report["findings"] if f["layer"] == "rnn_cell_forward/rnn_cell_backward"]
    assert any("returns `a_next` without computing it" in m for m in notes), notes
    assert not [f for f in report["findings"] if f["code"] in ("BPD101", "BPD105") and f["layer"].startswith("rnn_cell")]
