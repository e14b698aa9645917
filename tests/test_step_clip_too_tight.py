"""An element-wise gradient clip whose bound is far below the gradients (`clip = 1e-6`) clips every entry:
each step is the gradient's sign pattern times the bound, and the loss cannot move. When nearly every entry
the step uses sits at a bound read from a setting, the loss stalls, and it falls once the bound is lifted,
`step-clip-too-tight` (BPD635) names the setting's line with a bound at which it falls. A correct clip is
clean, and a stall a tiny learning rate causes under a clip that bites is the rate's (`step-rate-too-low`),
not the clip's. The programs of `test_clip_elementwise_through_a_function`, in its two styles: a flat script
clipping inline, a class whose step clips through a helper function called once per list of gradients."""

from __future__ import annotations

from tests.test_clip_elementwise_through_a_function import HELPER, INLINE
from tests.userfiles import check, errors, line_of, planted, write


def _tight(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"] == "BPD635"]


def test_a_tiny_inline_clip_is_named_at_its_setting(tmp_path):
    path = planted(tmp_path, "inline.py", INLINE, "LIMIT = 5.0", "LIMIT = 1e-6")
    report = check(path, training=True)
    (finding,) = _tight(report)
    assert (finding["line"], finding["param"], finding["severity"]) == (line_of(path, "LIMIT = 1e-6"), "LIMIT", "warning")
    assert "clip" in finding["message"] and "too tight" in finding["message"] and "±1e-06" in finding["message"]
    assert finding["fix"].startswith("LIMIT = ") and float(finding["fix"].split("=")[1]) >= 1e-3
    assert errors(report) == []


def test_a_tiny_clip_through_a_helper_is_named_at_its_setting(tmp_path):
    path = planted(tmp_path, "helper.py", HELPER, "cap = 1.0", "cap = 1e-6")
    report = check(path, training=True)
    (finding,) = _tight(report)
    assert (finding["line"], finding["param"]) == (line_of(path, "cap = 1e-6"), "cap")
    assert "121 of the 121 gradient entries" in finding["message"]
    assert not any(f["code"] in ("BPD108", "BPD609", "BPD007") for f in report["findings"]), report["findings"]


def test_clips_that_bite_a_little_are_clean_in_training(tmp_path):
    for name, text in (("inline.py", INLINE), ("helper.py", HELPER)):
        report = check(write(tmp_path, name, text), training=True)
        assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == [], (name, report["findings"])


def test_a_tiny_rate_under_a_clip_that_bites_is_the_rate(tmp_path):
    path = planted(tmp_path, "inline.py", INLINE, "LIMIT = 5.0", "LIMIT = 0.05")
    path.write_text(path.read_text().replace("step = 0.1", "step = 1e-5"))
    report = check(path, training=True)
    assert _tight(report) == []
    assert [f["code"] for f in report["findings"] if f["severity"] != "info"] == ["BPD609"]
