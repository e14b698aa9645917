"""The order `rank` puts findings in, the root cause it picks, and the table rows it keeps.

Each report is written out by hand with the findings in the wrong order, so a test fails
when a tie-breaker of the ordering is lost (a stable sort would otherwise keep the input).
"""

from __future__ import annotations

import pytest

from backprop_doctor.findings import Built, Finding, Measurement, Report
from backprop_doctor.ranking import NOTHING_COMPARED, measured_count, rank


def _f(name: str, code: str, severity: str = "error", **fields) -> Finding:
    return Finding(name, code, severity, fields.pop("message", f"{name} here"), **fields)


def names(report: Report) -> list[str]:
    return [f.name for f in report.findings]


# --------------------------------------------------------------------------- order


def test_the_statement_that_locates_a_wrong_gradient_comes_before_the_wrong_gradient():
    mismatch = _f("gradient-mismatch", "BPD101", layer="TwoLayerNet", param="W1", line=30)
    step = _f("step-gradient-mismatch", "BPD108", layer="TwoLayerNet", param="dZ1", line=41)
    ranked = rank(Report(findings=[mismatch, step]))
    assert names(ranked) == ["step-gradient-mismatch", "gradient-mismatch"]
    assert ranked.root_cause == step
    assert ranked.findings[1].caused_by == step.key()


def test_a_finding_with_a_line_comes_before_a_vaguer_one_of_the_same_stage():
    vague = _f("gradient-mismatch", "BPD101", layer="Affine", param="W")  # no line
    placed = _f("gradient-shape-mismatch", "BPD102", layer="Affine", param="b", line=12)
    ranked = rank(Report(findings=[vague, placed]))
    assert names(ranked) == ["gradient-shape-mismatch", "gradient-mismatch"]


def test_ties_are_broken_by_layer_then_parameter_the_unnamed_first():
    by_layer = [
        _f("gradient-mismatch", "BPD101", layer="Affine", param="W", line=5),
        _f("gradient-mismatch", "BPD101", layer=None, param="W", line=5),
    ]
    assert [f.layer for f in rank(Report(findings=by_layer)).findings] == [None, "Affine"]
    by_param = [
        _f("gradient-mismatch", "BPD101", layer="Affine", param="W", line=5),
        _f("gradient-mismatch", "BPD101", layer="Affine", param=None, line=5),
    ]
    assert [f.param for f in rank(Report(findings=by_param)).findings] == [None, "W"]


def test_an_earlier_stage_comes_first_even_without_a_line():
    rises = _f("loss-rises", "BPD601", layer="TwoLayerNet", line=3)
    mismatch = _f("gradient-mismatch", "BPD101", layer="Affine", param="W")  # no line
    ranked = rank(Report(findings=[rises, mismatch]))
    assert names(ranked) == ["gradient-mismatch", "loss-rises"]
    assert ranked.root_cause == mismatch


def test_a_softmax_over_the_batch_outranks_every_other_error_but_only_as_an_error():
    load = _f("load-error", "BPD004", line=2)
    mismatch = _f("gradient-mismatch", "BPD101", layer="Affine", param="W", line=9)
    softmax = _f("softmax-not-per-row", "BPD301", layer="SoftmaxWithLoss", line=16)
    ranked = rank(Report(findings=[mismatch, load, softmax]))
    assert names(ranked) == ["softmax-not-per-row", "load-error", "gradient-mismatch"]
    assert ranked.root_cause == softmax
    # as a warning it takes its stage's place among the warnings (batch, after static)
    dunder = _f("misspelled-dunder", "BPD010", "warning", line=20)
    soft_warning = _f("softmax-not-per-row", "BPD301", "warning", layer="SoftmaxWithLoss", line=16)
    assert names(rank(Report(findings=[soft_warning, dunder]))) == ["misspelled-dunder", "softmax-not-per-row"]


def test_a_finding_of_an_unknown_rule_comes_after_every_known_stage():
    custom = _f("my-own-check", "BPD100", line=1)  # a rule this version does not know
    rises = _f("loss-rises", "BPD601", layer="TwoLayerNet")  # training stage, no line
    ranked = rank(Report(findings=[custom, rises]))
    assert names(ranked) == ["loss-rises", "my-own-check"]
    assert ranked.root_cause == rises


# --------------------------------------------------------------------------- root cause


def test_a_high_learning_rate_is_the_cause_of_a_diverging_loss():
    diverges = _f("loss-diverges", "BPD602", layer="TwoLayerNet", line=50)
    dead = _f("dead-relu", "BPD605", "warning", layer="Relu")
    high = _f("learning-rate-too-high", "BPD604", "warning", line=60)
    ranked = rank(Report(findings=[diverges, dead, high]))
    assert ranked.root_cause == high
    assert names(ranked) == ["learning-rate-too-high", "loss-diverges", "dead-relu"]
    assert ranked.findings[1].caused_by == high.key()
    assert ranked.findings[2].caused_by == high.key()


def test_a_training_warning_does_not_take_the_root_from_a_wrong_gradient():
    mismatch = _f("gradient-mismatch", "BPD101", layer="Affine", param="W", line=9)
    dead = _f("dead-relu", "BPD605", "warning", layer="Relu")
    ranked = rank(Report(findings=[dead, mismatch]))
    assert ranked.root_cause == mismatch
    assert names(ranked) == ["gradient-mismatch", "dead-relu"]


def test_a_softmax_over_the_batch_explains_a_wrong_gradient_of_an_earlier_stage():
    softmax = _f("softmax-not-per-row", "BPD301", layer="SoftmaxWithLoss", line=16)
    mismatch = _f("gradient-mismatch", "BPD101", layer="TwoLayerNet", param="W2", line=30)
    ranked = rank(Report(findings=[mismatch, softmax]))
    assert ranked.findings[1].caused_by == softmax.key()


def test_a_cause_explains_symptoms_of_its_own_stage_and_later_but_not_earlier():
    nan = _f("non-finite", "BPD606", layer="TwoLayerNet", line=44)  # training
    stagnant = _f("loss-stagnant", "BPD603", "warning", layer="TwoLayerNet")  # training, same stage
    init = _f("init-loss", "BPD502", "warning", layer="TwoLayerNet")  # loss stage, earlier
    ranked = rank(Report(findings=[init, stagnant, nan]))
    assert ranked.root_cause == nan
    caused = {f.name: f.caused_by for f in ranked.findings}
    assert caused == {"non-finite": None, "loss-stagnant": nan.key(), "init-loss": None}


# --------------------------------------------------------------------------- nothing compared


def test_every_object_skipped_is_one_warning_that_names_each_and_how_to_build_it():
    """Objects backprop-doctor could not build say nothing of their gradients: a warning ("!"), no error."""
    report = Report(file="net.py", built=[Built("TwoLayerNet", "", skipped="needs\n   input_size")])
    ranked = rank(report)
    assert ranked.findings == [
        Finding(
            "nothing-to-check",
            "BPD007",
            "warning",
            "not one gradient could be compared, so nothing was checked "
            "(`TwoLayerNet` could not be built (needs input_size)): "
            "pass `--build 'TwoLayerNet(...)'` with literal arguments",
            file="net.py",
            pattern=NOTHING_COMPARED,
        )
    ]
    assert ranked.root_cause is None and ranked.ok
    assert names(rank(ranked)) == ["nothing-to-check"]  # ranking again does not add a second


def test_an_object_whose_forward_returns_no_array_says_what_forward_returned():
    built = [
        Built("Gen", "Gen()", shapes="x (2, 3) (forward returned a generator)"),
        Built("Plain", "Plain()", shapes="x (2, 3)"),
    ]
    [finding] = rank(Report(built=built)).findings
    advice = "make `forward` return a float NumPy array (not a generator, a coroutine or an object array)"
    assert finding.message == (
        "not one gradient could be compared, so nothing was checked "
        "(`Gen` was built, but no gradient of it could be compared (forward returned a generator); "
        "`Plain` was built, but no gradient of it could be compared): " + advice
    )


def test_the_reasons_stop_after_four_objects_and_each_advice_is_given_once():
    def message(*built: Built) -> str:
        return rank(Report(built=list(built))).findings[0].message

    skipped = [Built(f"L{i}", "", skipped="no") for i in range(5)]
    assert message(*skipped).startswith(
        "not one gradient could be compared, so nothing was checked ("
        "`L0` could not be built (no); `L1` could not be built (no); "
        "`L2` could not be built (no); `L3` could not be built (no); ...): "
    )
    four = message(*skipped[:2], Built("G", ""), Built("H", ""))  # exactly four: no ellipsis
    assert four == (
        "not one gradient could be compared, so nothing was checked ("
        "`L0` could not be built (no); `L1` could not be built (no); "
        "`G` was built, but no gradient of it could be compared; "
        "`H` was built, but no gradient of it could be compared): "
        "pass `--build 'L0(...)'` with literal arguments and pass `--build 'L1(...)'` with literal arguments"
        " and make `forward` return a float NumPy array (not a generator, a coroutine or an object array)"
    )


def test_skipped_measurements_do_not_count_as_compared():
    report = Report(
        built=[Built("Affine", "Affine(W, b)")],
        measurements=[Measurement("Affine", "x", None, "skipped"), Measurement("Affine", "W", None, "skipped")],
    )
    assert measured_count(report) == 0
    assert names(rank(report)) == ["nothing-to-check"]
    report.measurements.append(Measurement("Affine", "b", 1e-9, "ok"))
    report.measurements.append(Measurement("Affine", "x", 1e-9, "float32"))
    assert measured_count(report) == 2


def test_a_report_with_one_compared_gradient_and_no_error_gets_no_nothing_compared_error():
    report = Report(
        built=[Built("Affine", "Affine(W, b)")],
        measurements=[Measurement("Affine", "W", 1e-9, "ok")],
        findings=[_f("dead-relu", "BPD605", severity="warning", layer="TwoLayerNet")],
    )
    ranked = rank(report)
    assert names(ranked) == ["dead-relu"]
    assert ranked.root_cause is None


def test_an_error_already_found_stands_in_for_the_nothing_compared_error():
    raised = _f("layer-raised", "BPD105", layer="Affine", line=7)
    ranked = rank(Report(built=[Built("Affine", "Affine(W, b)")], findings=[raised]))
    assert names(ranked) == ["layer-raised"]
    assert ranked.root_cause == raised


def test_warnings_alone_do_not_stand_in_for_the_nothing_compared_finding():
    warning = _f("misspelled-method", "BPD014", severity="warning", layer="Affine", line=9)
    ranked = rank(Report(built=[Built("Affine", "Affine(W, b)", skipped="needs W")], findings=[warning]))
    assert sorted(names(ranked)) == ["misspelled-method", "nothing-to-check"]
    (nothing,) = [f for f in ranked.findings if f.pattern == NOTHING_COMPARED]
    assert nothing.severity == "warning"
    ran = rank(Report(built=[Built("Gen", "Gen()", shapes="x (2, 3) (forward returned a generator)")], findings=[warning]))
    assert ran.root_cause.pattern == NOTHING_COMPARED and ran.root_cause.severity == "error"


# --------------------------------------------------------------------------- one row per array


def _rows(*measurements: Measurement) -> list[Measurement]:
    return rank(Report(measurements=list(measurements))).measurements


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        (("ok", 1e-9), ("mismatch", 0.3), "second"),
        (("mismatch", 0.3), ("ok", 1e-9), "first"),
        (("kink", 1e-3), ("mismatch", 0.1), "second"),  # a mismatch is worse than a kink
        (("ok", 1e-3), ("kink", 1e-5), "second"),  # a kink is worse than a pass
        (("kink", 1e-3), ("shape", None), "second"),  # a wrong shape is worse than a kink
        (("shape", None), ("kink", 1e-3), "first"),
        (("ok", 1e-9), ("ok", 1e-7), "second"),  # same verdict: the larger error
        (("ok", 1e-7), ("ok", 1e-9), "first"),
        (("ok", 1e-7), ("ok", 1e-7), "first"),  # equal: the first configuration
        (("ok", None), ("ok", 0.5), "second"),  # no error counts as zero
        (("ok", 1e-3), ("ok", None), "first"),
    ],
)
def test_one_row_per_array_the_worst_of_its_configurations(first, second, kept):
    a = Measurement("Affine", "W", first[1], first[0], probes=1)
    b = Measurement("Affine", "W", second[1], second[0], probes=2)
    other = Measurement("Affine", "b", 1e-10, "ok")
    rows = _rows(a, other, b)
    assert rows == [a if kept == "first" else b, other]
    assert rows[0].probes == (1 if kept == "first" else 2)


def test_the_root_cause_is_the_very_finding_ranked_first_whether_first_by_order_or_moved_to_the_front():
    # an error first by its stage; a symptom of it linked (so replaced by a copy) after it
    softmax = _f("softmax-not-per-row", "BPD301", layer="SoftmaxWithLoss", line=16)
    mismatch = _f("gradient-mismatch", "BPD101", layer="TwoLayerNet", param="W2", line=30)
    note = _f("misspelled-method", "BPD014", "info", layer="Relu", line=3)
    ranked = rank(Report(findings=[note, mismatch, softmax]))
    assert ranked.root_cause is softmax and ranked.findings[0] is softmax
    assert [f.caused_by for f in ranked.findings] == [None, softmax.key(), None]
    # a training warning moved in front of the error it explains
    diverges = _f("loss-diverges", "BPD602", layer="TwoLayerNet", line=50)
    high = _f("learning-rate-too-high", "BPD604", "warning", line=60)
    ranked = rank(Report(findings=[diverges, high]))
    assert ranked.root_cause is high and ranked.findings[0] is high
    assert ranked.findings[1] is not diverges and ranked.findings[1].caused_by == high.key()
