"""Which pytest items one model file's report becomes (`plugin_items.plan_items`).

Each report is what `rank` makes of a file's findings, as the plugin receives it from the
child process; the plan is compared whole: which items, in which order, holding which
findings and which table rows.
"""

from __future__ import annotations

from backprop_doctor.findings import Finding, Measurement, Report
from backprop_doctor.plugin_items import plan_items
from backprop_doctor.ranking import rank


def _f(name: str, code: str, severity: str, **fields) -> Finding:
    return Finding(name, code, severity, fields.pop("message", f"{name} here"), file="net.py", **fields)


def _rows(layer: str, *params: str, verdict: str = "ok") -> list[Measurement]:
    return [Measurement(layer, p, 0.3 if verdict == "mismatch" else 1e-9, verdict) for p in params]


def shape(plan) -> list[tuple]:
    """The plan with findings as names and rows as "layer.param", easy to compare whole."""
    return [
        (layer, [(check, [f.name for f in findings], [f"{m.layer}.{m.param}" for m in rows]) for check, findings, rows in checks])
        for layer, checks in plan
    ]


def plan_of(*findings: Finding, measurements: list[Measurement] = ()) -> list[tuple]:
    return shape(plan_items(rank(Report(findings=list(findings), measurements=list(measurements), file="net.py"))))


# --------------------------------------------------------------------------- the load stage


def test_a_file_that_failed_to_load_is_one_load_item_with_every_load_finding():
    failed = _f("load-error", "BPD004", "error", line=3)
    missing = _f("missing-module", "BPD003", "info", line=1)
    assert plan_of(missing, failed) == [(None, [("load", ["load-error", "missing-module"], [])])]


def test_a_clean_file_with_nothing_found_is_one_passing_load_item():
    assert shape(plan_items(rank(Report(file="net.py")))) == [(None, [("load", [], [])])]


def test_load_notes_without_an_error_are_one_item_after_the_root_cause_and_before_the_layers():
    mismatch = _f("gradient-mismatch", "BPD101", "error", layer="Affine", param="W", line=12)
    blocked = _f("sandbox-blocked", "BPD020", "warning", line=30)  # a load rule whose code is not BPD00x
    synthetic = _f("synthetic-data", "BPD022", "info", line=5)
    typo = _f("misspelled-method", "BPD014", "warning", line=21)  # file-level, after the load notes
    rows = _rows("Relu", "x") + _rows("Affine", "x", "b") + _rows("Affine", "W", verdict="mismatch")
    assert plan_of(typo, synthetic, blocked, mismatch, measurements=rows) == [
        ("Affine", [("gradient", ["gradient-mismatch"], ["Affine.x", "Affine.b", "Affine.W"])]),
        (None, [("load", ["sandbox-blocked", "synthetic-data"], [])]),
        ("Relu", [("gradient", [], ["Relu.x"])]),
        (None, [("misspelled-method", ["misspelled-method"], [])]),
    ]


# --------------------------------------------------------------------------- no root cause


def test_every_measured_layer_has_a_gradient_item_in_the_order_checked_and_file_checks_come_last():
    kink = _f("gradient-at-kink", "BPD104", "info", layer="Relu", param="x", line=8)
    ignored = _f("upstream-grad-ignored", "BPD204", "info", layer="Affine2", line=15)
    init = _f("init-loss", "BPD502", "warning", line=40)
    rows = _rows("Affine1", "x", "W") + _rows("Relu", "x") + _rows("Affine2", "x", "W")
    assert plan_of(init, ignored, kink, measurements=rows) == [
        ("Affine1", [("gradient", [], ["Affine1.x", "Affine1.W"])]),
        ("Relu", [("gradient", ["gradient-at-kink"], ["Relu.x"])]),
        ("Affine2", [("gradient", [], ["Affine2.x", "Affine2.W"]), ("upstream-grad-ignored", ["upstream-grad-ignored"], [])]),
        (None, [("init-loss", ["init-loss"], [])]),
    ]


def test_within_a_layer_the_gradient_item_comes_before_a_check_found_first():
    mutated = _f("upstream-grad-mutated", "BPD202", "warning", layer="Affine", line=9)  # ranked first: a warning
    float32 = _f("float32-precision", "BPD103", "info", layer="Affine")
    assert plan_of(float32, mutated) == [
        ("Affine", [("gradient", ["float32-precision"], []), ("upstream-grad-mutated", ["upstream-grad-mutated"], [])]),
    ]


def test_a_warning_that_explains_a_divergence_is_not_an_item_that_takes_the_symptoms():
    diverges = _f("loss-diverges", "BPD602", "error", layer="TwoLayerNet", line=50)
    rate = _f("learning-rate-too-high", "BPD604", "warning", layer="TwoLayerNet", line=44)
    report = rank(Report(findings=[diverges, rate], measurements=_rows("TwoLayerNet", "W1"), file="net.py"))
    assert report.root_cause == rate and report.findings[1].caused_by == rate.key()
    assert shape(plan_items(report)) == [
        ("TwoLayerNet", [
            ("gradient", [], ["TwoLayerNet.W1"]),
            ("learning-rate-too-high", ["learning-rate-too-high"], []),
            ("loss-diverges", ["loss-diverges"], []),
        ]),
    ]


# --------------------------------------------------------------------------- the root cause's item


def test_the_root_causes_item_comes_first_and_takes_the_symptoms_and_rows_of_layers_with_nothing_else():
    wrong = _f("gradient-mismatch", "BPD101", "error", layer="Affine2", param="W", line=20)
    network = _f("gradient-mismatch", "BPD101", "error", layer="TwoLayerNet", param="W2", line=20)
    rises = _f("loss-rises", "BPD601", "error", layer="TwoLayerNet", line=60)
    kink = _f("gradient-at-kink", "BPD104", "info", layer="Relu", param="x", line=8)
    rows = (
        _rows("Affine1", "x", "W")
        + _rows("Relu", "x")
        + _rows("Affine2", "W", verdict="mismatch")
        + _rows("TwoLayerNet", "W1")
        + _rows("TwoLayerNet", "W2", verdict="mismatch")
    )
    assert plan_of(rises, kink, network, wrong, measurements=rows) == [
        ("Affine2", [(
            "gradient",
            ["gradient-mismatch", "gradient-mismatch", "loss-rises"],
            ["Affine2.W", "TwoLayerNet.W1", "TwoLayerNet.W2"],
        )]),
        ("Affine1", [("gradient", [], ["Affine1.x", "Affine1.W"])]),
        ("Relu", [("gradient", ["gradient-at-kink"], ["Relu.x"])]),
    ]


def test_a_layer_with_a_finding_of_its_own_keeps_its_item_beside_the_symptom_it_gave_away():
    wrong = _f("gradient-mismatch", "BPD101", "error", layer="Affine", param="W", line=20)
    network = _f("gradient-mismatch", "BPD101", "error", layer="TwoLayerNet", param="W1", line=20)
    kink = _f("gradient-at-kink", "BPD104", "info", layer="TwoLayerNet", param="x", line=31)
    rows = _rows("Affine", "W", verdict="mismatch") + _rows("TwoLayerNet", "x") + _rows("TwoLayerNet", "W1", verdict="mismatch")
    assert plan_of(kink, network, wrong, measurements=rows) == [
        ("Affine", [("gradient", ["gradient-mismatch", "gradient-mismatch"], ["Affine.W"])]),
        ("TwoLayerNet", [("gradient", ["gradient-at-kink"], ["TwoLayerNet.x", "TwoLayerNet.W1"])]),
    ]


def test_a_root_cause_of_another_rule_comes_before_the_gradient_item_of_its_layer():
    softmax = _f("softmax-not-per-row", "BPD301", "error", layer="SoftmaxWithLoss", line=16)
    dx = _f("gradient-mismatch", "BPD101", "error", layer="SoftmaxWithLoss", param="x", line=18)
    kink = _f("gradient-at-kink", "BPD104", "info", layer="SoftmaxWithLoss", param="t", line=19)
    raised = _f("layer-raised", "BPD105", "error", layer="Dropout", line=33)  # another layer's: not the softmax's symptom
    rows = _rows("Dropout", "x") + _rows("SoftmaxWithLoss", "x", verdict="mismatch")
    assert plan_of(kink, raised, dx, softmax, measurements=rows) == [
        ("SoftmaxWithLoss", [
            ("softmax-not-per-row", ["softmax-not-per-row", "gradient-mismatch"], []),
            ("gradient", ["gradient-at-kink"], ["SoftmaxWithLoss.x"]),
        ]),
        ("Dropout", [("gradient", ["layer-raised"], ["Dropout.x"])]),
    ]


def test_a_root_cause_without_a_layer_is_the_first_item_then_the_load_notes_then_layers_then_file_checks():
    softmax = _f("softmax-not-per-row", "BPD301", "error", line=16)  # plain functions: no layer
    rises = _f("loss-rises", "BPD601", "error", layer="TwoLayerNet", line=60)
    stopped = _f("program-stopped", "BPD021", "info", line=70)
    typo = _f("misspelled-method", "BPD014", "warning", line=21)
    rows = _rows("affine_forward/affine_backward", "x", "w")
    assert plan_of(typo, rises, stopped, softmax, measurements=rows) == [
        (None, [("softmax-not-per-row", ["softmax-not-per-row", "loss-rises"], [])]),
        (None, [("load", ["program-stopped"], [])]),
        ("affine_forward/affine_backward", [("gradient", [], ["affine_forward/affine_backward.x", "affine_forward/affine_backward.w"])]),
        (None, [("misspelled-method", ["misspelled-method"], [])]),
    ]


# --------------------------------------------------------------------------- node names and rules from elsewhere


def test_double_colons_in_a_layer_label_become_one_colon_and_file_level_findings_keep_no_layer():
    wrong = _f("gradient-mismatch", "BPD101", "error", layer="Sequential::Affine", param="W", line=7)
    typo = _f("misspelled-method", "BPD014", "warning", line=21)
    rows = _rows("Sequential::Affine", "W", verdict="mismatch")
    plan = plan_items(rank(Report(findings=[typo, wrong], measurements=rows, file="net.py")))
    assert [(layer, [c for c, _, _ in checks]) for layer, checks in plan] == [
        ("Sequential:Affine", ["gradient"]),
        (None, ["misspelled-method"]),
    ]


def test_a_rule_not_registered_here_is_placed_by_its_code():
    note = _f("vendor-loader-note", "bpd009", "warning", line=2)  # BPD00x, any case: the load item
    grad = _f("vendor-gradient-check", "BPD150", "warning", layer="Affine", param="W", line=9)  # BPD1xx: gradient
    style = _f("vendor-style", "X100", "info", line=4)  # anything else: an item of its own
    plain = _f("vendor-plain", "", "info", line=5)
    report = Report(findings=[note, grad, style, plain], measurements=_rows("Affine", "W"), file="net.py")
    assert shape(plan_items(report)) == [
        (None, [("load", ["vendor-loader-note"], [])]),
        ("Affine", [("gradient", ["vendor-gradient-check"], ["Affine.W"])]),
        (None, [("vendor-style", ["vendor-style"], [])]),
        (None, [("vendor-plain", ["vendor-plain"], [])]),
    ]


def test_a_file_with_a_load_error_is_one_load_item_even_beside_findings_of_later_stages():
    nothing = _f("nothing-to-check", "BPD007", "error", message="not one gradient could be compared")
    typo = _f("misspelled-method", "BPD014", "warning", layer="Affine", line=9)
    assert plan_of(typo, nothing) == [(None, [("load", ["nothing-to-check"], [])])]


def test_in_the_root_causes_layer_its_item_comes_first_then_the_gradient_item_then_the_others():
    softmax = _f("softmax-not-per-row", "BPD301", "error", layer="SoftmaxWithLoss", line=16)
    mutated = _f("upstream-grad-mutated", "BPD202", "warning", layer="SoftmaxWithLoss", line=21)
    kink = _f("gradient-at-kink", "BPD104", "info", layer="SoftmaxWithLoss", param="x", line=19)
    assert plan_of(kink, mutated, softmax) == [
        ("SoftmaxWithLoss", [
            ("softmax-not-per-row", ["softmax-not-per-row"], []),
            ("gradient", ["gradient-at-kink"], []),
            ("upstream-grad-mutated", ["upstream-grad-mutated"], []),
        ]),
    ]


def test_a_root_cause_that_is_not_an_error_is_no_item_of_its_own_even_at_the_load_stage():
    # `rank` only picks errors, but a report read back (`Report.from_dict`) keeps whatever root it names
    blocked = _f("sandbox-blocked", "BPD020", "warning", line=30)
    typo = _f("misspelled-method", "BPD014", "warning", layer="Affine", line=9)
    rows = _rows("Affine", "W")
    for root in (blocked, typo):
        report = Report(findings=[blocked, typo], measurements=rows, file="net.py", root_cause=root)
        assert shape(plan_items(report)) == [
            (None, [("load", ["sandbox-blocked"], [])]),
            ("Affine", [("gradient", [], ["Affine.W"]), ("misspelled-method", ["misspelled-method"], [])]),
        ]
