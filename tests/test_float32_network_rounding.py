"""A whole-network gradient mismatch is turned into the float32 note only when everything else says
the gradients are right: the layers compute in float32 (a float32 note on them), every layer's own
check passed, and the replayed training step found every gradient right. A layer that fails, or a
replay that finds a wrong gradient, leaves the network's finding as it is.

(The book's second volume makes `np.empty(..., dtype='f')` inside its time layers: no float64 copy of
the weights changes that, and over many time steps the whole network's rounding passes 1e-5.)
"""

from __future__ import annotations

from types import SimpleNamespace

from backprop_doctor.findings import Measurement, Report
from backprop_doctor.pipeline import _float32_network_rounding
from backprop_doctor.rules import rule


def _report(layer_verdict: str = "ok") -> Report:
    report = Report(file="lm.py", seed=0)
    report.findings += [
        rule("gradient-mismatch").finding(
            "the gradient of `Lm.layers[1].Wh` is wrong (relative error 0.176): it is assembled from the layers' backward passes, "
            "so fix the layer whose gradient is wrong",
            layer="Lm", param="layers[1].Wh", measured=0.176,
        ),
        rule("float32-precision").finding("`TimeRNN` computes in float32", layer="TimeRNN"),
    ]
    report.measurements += [
        Measurement("TimeRNN", "Wh", 2e-4, layer_verdict),
        Measurement("Lm", "layers[1].Wh", 0.176, "mismatch"),
        Measurement("Lm", "layers[0].W", 0.13, "kink"),
        Measurement("training step", "model.params[1]", 4e-5, "ok"),
    ]
    return report


def _replayed(wrong: bool = False) -> list:
    return [SimpleNamespace(parameters=[object()], wrong=[object()] if wrong else [])]


def test_a_float32_network_whose_layers_and_step_are_right_gets_the_note():
    report = _report()
    _float32_network_rounding(report, _replayed())
    assert [f.name for f in report.findings if f.layer == "Lm"] == ["float32-precision"]
    assert {m.verdict for m in report.measurements if m.layer == "Lm"} == {"float32"}


def test_a_failing_layer_or_a_wrong_step_keeps_the_mismatch():
    for report, results in ((_report("mismatch"), _replayed()), (_report(), _replayed(wrong=True)), (_report(), [])):
        _float32_network_rounding(report, results)
        assert [f.name for f in report.findings if f.layer == "Lm"] == ["gradient-mismatch"]
