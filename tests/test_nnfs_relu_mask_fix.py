"""nnfs's ReLU zeroes the gradient where its input was off (`self.dinputs[self.inputs <= 0] = 0`);
written with `> 0` it zeroes it where the unit was on, and the fix is that line with `<= 0`."""

from __future__ import annotations

from pathlib import Path

from tests.userfiles import check, errors, line_of, planted

NNFS = (Path(__file__).parent / "cases" / "conventions" / "nnfs_ok.py").read_text(encoding="utf-8")


def test_a_mask_on_the_wrong_side_is_turned_round(tmp_path):
    path = planted(tmp_path, "nnfs_relu.py", NNFS, "self.dinputs[self.inputs <= 0] = 0", "self.dinputs[self.inputs > 0] = 0")
    (finding,) = [f for f in errors(check(path)) if f["layer"] == "Activation_ReLU"]
    assert finding["line"] == line_of(path, "self.dinputs[self.inputs > 0] = 0")
    assert finding["fix"] == "self.dinputs[self.inputs <= 0] = 0"
