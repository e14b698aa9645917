"""adam-step-wrong (BPD208), checked in this process (issue 15, fifteenth round): the programs of
`test_adam_step_wrong.py` (CLI tests, in a child process where a mutation run cannot see them) are
imported here, their drift measured by `training.optimizers` as the pipeline measures it, and the
check's words, severity, line, highlighted lines, measured value and evidence compared with what
each program's own text and drift say; the helpers that find the update line, the bias corrections
and the suspect correction are given small functions of their own."""

from __future__ import annotations

import ast
import importlib.util
import math
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_adam_step_wrong import BOOK, COURSE, CS231N, LIST_FUNCTION, TEXTBOOK

from backprop_doctor.checks import adam_step_wrong
from backprop_doctor.training.optimizers import AdamDrift, adam_drift, adam_function_drift

EVIDENCE = "moves ÷ (rate × sign of the gradient), updates 1 to 5 (Adam: 1 at each)"


def loaded(tmp_path: Path, name: str, text: str, *edits: tuple[str, str]):
    """(path, module) of `text` with each `old` of `edits` replaced once, written and imported."""
    text = textwrap.dedent(text)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"__bpd_adam_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return path, module


def drift_of(obj, method: str | None = None) -> AdamDrift:
    """The drift the pipeline measures (its generator seeded with the default seed, 0)."""
    rng = np.random.default_rng(0)
    drift = adam_drift(obj, method, rng) if method else adam_function_drift(obj, rng)
    assert drift is not None
    return drift


def found(drift: AdamDrift):
    (finding,) = adam_step_wrong.run(SimpleNamespace(extras={"adam_drift": [drift]}))
    return finding


def shown(ratios) -> str:
    return ", ".join("not finite" if math.isnan(r) else f"{r:.4g}" for r in ratios)


def head(name: str, rate: float) -> str:
    return (
        f"`{name}` does not step as Adam does: given the same gradient at every update, Adam moves each parameter "
        f"by its learning rate ({rate:g}) against the gradient's sign"
    )


def test_every_drift_is_one_finding_and_none_is_none(tmp_path):
    _, module = loaded(tmp_path, "optim.py", TEXTBOOK, ("np.sqrt(v_hat) + self.eps", "v_hat + self.eps"))
    drift = drift_of(module.Adam, "update")
    assert list(adam_step_wrong.run(SimpleNamespace(extras={}))) == []
    findings = list(adam_step_wrong.run(SimpleNamespace(extras={"adam_drift": [drift, drift]})))
    assert len(findings) == 2 and findings[0] == findings[1]


def test_dividing_by_v_hat_is_an_error_at_the_update_with_every_field(tmp_path):
    path, module = loaded(tmp_path, "optim.py", TEXTBOOK, ("np.sqrt(v_hat) + self.eps", "v_hat + self.eps"))
    drift = drift_of(module.Adam, "update")
    assert drift.kind == "inverse-magnitude" and 0.1 < drift.ratio < 10  # an error by its kind, not by its size
    finding = found(drift)
    update = line_of(path, "params[key] -= ")
    assert (finding.name, finding.code, finding.severity, finding.pattern) == ("adam-step-wrong", "BPD208", "error", "inverse-magnitude")
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("Adam", str(path), update, (update,))
    assert finding.measured == drift.ratio
    assert finding.evidence == ((EVIDENCE, shown(drift.ratios)),)
    assert finding.message == (
        f"{head('Adam.update', 0.001)}; yours moves it by the rate divided by the gradient's size (a median {drift.ratio:.3g} × the rate here), "
        "because it divides the first moment by v̂ instead of √v̂: take the square root of the second moment (`np.sqrt(v_hat) + eps`)"
    )


def test_bias_corrections_left_out_name_the_first_correction_and_mark_both_and_the_update(tmp_path):
    path, module = loaded(tmp_path, "optim.py", TEXTBOOK, ("self.lr * m_hat / (np.sqrt(v_hat)", "self.lr * self.m[key] / (np.sqrt(self.v[key])"))
    drift = drift_of(module.Adam, "update")
    assert (drift.kind, drift.step) == ("uniform", 1)
    finding = found(drift)
    m_hat, v_hat, update = line_of(path, "m_hat = "), line_of(path, "v_hat = "), line_of(path, "params[key] -= ")
    assert (finding.severity, finding.pattern, finding.line, finding.highlight) == ("warning", "uniform", m_hat, (m_hat, v_hat, update))
    assert finding.message == (
        f"{head('Adam.update', 0.001)}; yours moves {drift.ratio:.3g} × as far at its first update: its bias corrections are left out or "
        "wrong; divide m by `1 - beta1 ** t` and v by `1 - beta2 ** t`, t counting the updates from 1"
    )
    assert finding.message.count("3.16 × as far") == 1
    assert finding.evidence == ((EVIDENCE, shown(drift.ratios)),)


def test_a_count_that_never_advances_is_named_where_it_is_set_again(tmp_path):
    path, module = loaded(tmp_path, "optim.py", TEXTBOOK, ("self.t += 1", "self.t = 1"))
    drift = drift_of(module.Adam, "update")
    assert (drift.kind, drift.step) == ("uniform", 2)
    finding = found(drift)
    count, update = line_of(path, "self.t = 1"), line_of(path, "params[key] -= ")
    assert (finding.severity, finding.line) == ("warning", count)
    assert finding.highlight == (line_of(path, "m_hat = "), line_of(path, "v_hat = "), update)
    assert finding.message == (
        f"{head('Adam.update', 0.001)}; yours does at update 1 but moves {drift.ratio:.3g} × as far at update 2 "
        f"({drift.ratios[-1]:.3g} × by update 5): its bias corrections do not follow the update count; "
        "increase t by one at every update and divide by `1 - beta1 ** t` and `1 - beta2 ** t`"
    )


def test_a_count_used_before_it_is_counted_is_an_error_with_no_measured_value(tmp_path):
    path, module = loaded(
        tmp_path, "optim.py", TEXTBOOK, ("        self.t += 1\n", ""),
        ("params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n", "params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n        self.t += 1\n"),
    )
    drift = drift_of(module.Adam, "update")
    assert (drift.kind, drift.step) == ("not-finite", 1) and math.isnan(drift.ratio)
    finding = found(drift)
    m_hat, v_hat, update = line_of(path, "m_hat = "), line_of(path, "v_hat = "), line_of(path, "params[key] -= ")
    assert (finding.severity, finding.pattern, finding.measured) == ("error", "not-finite", None)
    assert (finding.line, finding.highlight) == (m_hat, (m_hat, v_hat, update))
    assert finding.evidence == ((EVIDENCE, shown(drift.ratios)),)
    assert finding.evidence[0][1].startswith("not finite, ")
    assert finding.message == (
        f"{head('Adam.update', 0.001)}, and update 1 of yours makes NaN or infinity: a bias correction divides by `1 - beta ** t` "
        "with t = 0; count the update (`t += 1`) before the corrections use t"
    )


def test_a_function_whose_power_is_outside_the_parentheses_is_named_at_that_correction(tmp_path):
    path, module = loaded(tmp_path, "opt_utils.py", COURSE, ("(1 - beta1 ** t)", "(1 - beta1) ** t"))
    drift = drift_of(module.update_parameters_with_adam)
    finding = found(drift)
    wrong, other = line_of(path, "(1 - beta1) ** t"), line_of(path, "s_corrected[key] = s[key]")
    update = line_of(path, "parameters[p + str(l)] = ")
    assert (finding.layer, finding.line, finding.highlight) == ("update_parameters_with_adam", wrong, (wrong, other, update))
    assert finding.message.startswith(head("update_parameters_with_adam", 0.01) + ";")


def test_a_function_that_multiplies_by_its_correction_is_named_there_and_is_an_error(tmp_path):
    path, module = loaded(tmp_path, "opt.py", LIST_FUNCTION, ("vhat = v[i] / (1 - b2 ** t)", "vhat = v[i] * (1 - b2 ** t)"))
    drift = drift_of(module.adam_step)
    assert drift.ratio > adam_step_wrong.FAR
    finding = found(drift)
    mhat, vhat, update = line_of(path, "mhat = "), line_of(path, "vhat = "), line_of(path, "params[i] -= ")
    assert (finding.severity, finding.line, finding.highlight) == ("error", vhat, (mhat, vhat, update))


def test_cs231n_count_set_again_is_named_and_next_w_is_its_update(tmp_path):
    path, module = loaded(tmp_path, "optim.py", CS231N, ('config["t"] += 1', 'config["t"] = 1'))
    finding = found(drift_of(module.adam))
    count, update = line_of(path, 'config["t"] = 1'), line_of(path, "next_w = w -")
    assert (finding.layer, finding.line) == ("adam", count)
    assert finding.highlight == (line_of(path, "mt = "), line_of(path, "vt = "), update)


def test_another_drift_is_told_to_compare_each_line_at_the_update(tmp_path):
    path, module = loaded(tmp_path, "optim.py", BOOK)
    drift = AdamDrift(module.Adam, "update", 0.001, 3, 2.5, "other", (1.0, 1.0, 2.5, 2.0, 2.0))
    finding = found(drift)
    update = line_of(path, "params[key] -= ")
    assert (finding.severity, finding.pattern, finding.line, finding.highlight, finding.measured) == ("warning", "other", update, (update,), 2.5)
    assert finding.message == f"{head('Adam.update', 0.001)}; yours moves 2.5 × as far (the median over the elements) at update 3: compare each line with Adam's"
    assert finding.evidence == ((EVIDENCE, "1, 1, 2.5, 2, 2"),)


@pytest.mark.parametrize(
    ("ratios", "severity"),
    [((1.0, 9.8), "warning"), ((1.0, 9.95), "error"), ((1.0, 10.0), "error"), ((1.0, 0.102), "warning"), ((1.0, 0.1), "error"),
     ((1.0, 0.095), "error"), ((3.16, 1.5, 1.2), "warning"), ((float("nan"), 3.0), "warning")],
    ids=["under-ten", "ten-within-measuring", "ten-times", "over-a-tenth", "a-tenth", "less-than-a-tenth", "bias-sized", "not-finite-left-out"],
)
def test_a_step_more_than_ten_times_off_at_any_update_is_an_error(tmp_path, ratios, severity):
    _, module = loaded(tmp_path, "optim.py", BOOK)
    finding = found(AdamDrift(module.Adam, "update", 0.001, 2, ratios[1], "uniform", ratios))
    assert finding.severity == severity


def test_the_first_update_is_told_apart_from_a_later_one(tmp_path):
    _, module = loaded(tmp_path, "optim.py", BOOK)
    first = found(AdamDrift(module.Adam, "update", 0.001, 1, 2.0, "uniform", (2.0, 1.5)))
    later = found(AdamDrift(module.Adam, "update", 0.001, 2, 2.0, "uniform", (1.0, 2.0, 4.0)))
    assert "yours moves 2 × as far at its first update" in first.message
    assert "yours does at update 1 but moves 2 × as far at update 2 (4 × by update 3)" in later.message


def test_a_class_without_source_is_told_without_a_place(tmp_path):
    namespace: dict = {}
    exec(compile("class Adam:\n    def update(self, params, grads):\n        pass\n", "<made>", "exec"), namespace)
    finding = found(AdamDrift(namespace["Adam"], "update", 0.01, 1, 3.16, "uniform", (3.16, 1.8)))
    assert (finding.file, finding.line, finding.highlight, finding.layer) == (None, None, (), "Adam")
    assert finding.message.startswith(head("Adam.update", 0.01) + "; yours moves 3.16 × as far at its first update")


def test_a_method_without_corrections_is_named_at_its_update_line(tmp_path):
    text = TEXTBOOK.replace("self.beta1 ** self.t", "0.9 ** self.t").replace("self.beta2 ** self.t", "0.999 ** self.t")
    path, module = loaded(tmp_path, "optim.py", text)
    finding = found(AdamDrift(module.Adam, "update", 0.001, 1, 3.16, "uniform", (3.16, 1.8)))
    update = line_of(path, "params[key] -= ")
    assert (finding.line, finding.highlight) == (update, (update,))


def test_the_whole_pipeline_words_it_in_this_process(tmp_path):
    path, findings = checked(tmp_path, "optim.py", TEXTBOOK.replace("np.sqrt(v_hat) + self.eps", "v_hat + self.eps"))
    (finding,) = [f for f in findings if f.name == "adam-step-wrong"]
    assert (finding.severity, finding.line) == ("error", line_of(path, "params[key] -= "))
    _, clean = checked(tmp_path / "clean", "optim.py", TEXTBOOK)
    assert [f for f in clean if f.name == "adam-step-wrong"] == []


def node_of(text: str):
    (node,) = ast.parse(textwrap.dedent(text)).body
    return node


def test_corrections_are_the_statements_raising_a_decay_rate_to_a_power_the_second_moment_told():
    node = node_of(
        """
        def update(self, params, grads):
            self.t = self.t ** 1
            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta_2 ** self.t)
            mc = m / (1 - b1 ** t)
            vc = v / (1 - b2 ** t)
            r = s / (1 - rho ** t)
            d = s / (1 - decay ** t)
            u = s / (1 - mom ** t)
            q = s / (1 - Momentum ** t)
            vhat *= 1 / (1 - BETA2 ** t)
            x = y ** 2
            params["W"] -= lr * mc / (np.sqrt(vc) + 1e-8)
        """
    )
    assert adam_step_wrong._corrections(node) == ((4, False), (5, True), (6, False), (7, True), (8, True), (9, True), (10, False), (11, False), (12, True))
    assert adam_step_wrong._corrections(None) == ()


def test_a_power_of_the_decay_rate_minus_one_is_the_suspect():
    node = node_of(
        """
        def step(params, grads, t):
            mc = m / (1 - b1 ** t)
            vc = v / (1 - b2) ** t
            params[0] -= lr * mc / np.sqrt(vc)
        """
    )
    assert adam_step_wrong._suspect(node, adam_step_wrong._corrections(node)) == 4


def test_a_correction_multiplied_where_it_divides_is_the_suspect():
    node = node_of(
        """
        def step(params, grads, t):
            mc = m / (1 - b1 ** t)
            vc = v * (1 - b2 ** t)
            params[0] -= lr * mc / np.sqrt(vc)
        """
    )
    assert adam_step_wrong._suspect(node, adam_step_wrong._corrections(node)) == 4


def test_a_count_set_to_a_constant_other_than_zero_is_the_suspect_and_only_the_corrections_count():
    text = """
        def update(self, params, grads):
            self.t = 0
            k = 3
            self.t = 2
            m_hat = self.m / (1 - self.beta1 ** self.t)
            v_hat = self.v / (1 - self.beta2 ** self.t)
            params["W"] -= m_hat / np.sqrt(v_hat)
        """
    node = node_of(text)
    assert adam_step_wrong._suspect(node, adam_step_wrong._corrections(node)) == 5
    assert adam_step_wrong._suspect(node, ((6, False),)) == 5  # the count read by one correction is enough
    assert adam_step_wrong._suspect(node, ()) is None  # no correction names a count
    clean = node_of(text.replace("            self.t = 2\n", ""))
    assert adam_step_wrong._suspect(clean, adam_step_wrong._corrections(clean)) is None


def test_only_a_product_whose_right_side_holds_the_power_is_multiplied_where_it_divides():
    node = node_of(
        """
        def update(self, params, grads):
            m_hat = (1 / (1 - self.beta1 ** self.t)) * self.m
            v_hat = self.v / (1 - self.beta2 ** self.t)
            params["W"] -= m_hat / np.sqrt(v_hat)
        """
    )
    assert adam_step_wrong._suspect(node, adam_step_wrong._corrections(node)) is None


def test_the_update_line_is_the_first_that_moves_the_parameters_argument():
    node = node_of(
        """
        def update(self, params, grads):
            params = params
            grads["W"] = grads["W"] * 1.0
            for key in params:
                if key:
                    params[key][0] -= 1.0
            params["extra"] = 0
        """
    )
    assert adam_step_wrong._update_line(node, 1) == 7
    assert adam_step_wrong._update_line(node, 0) is None  # `self` is never moved
    assert adam_step_wrong._update_line(node, 3) is None  # no such argument
    assert adam_step_wrong._update_line(node, 2) == 4
    assert adam_step_wrong._update_line(None, 0) is None


def test_a_next_name_bound_whole_is_the_update_and_a_next_subscript_is_not():
    node = node_of(
        """
        def adam(w, dw, config=None):
            next_v = config["v"]
            next_v[0] = 1.0
            next_w = w - dw
            return next_w, config
        """
    )
    assert adam_step_wrong._update_line(node, 0) == 3
    later = node_of(
        """
        def adam(w, dw, config=None):
            nxt = w
            nextw[0] = 1.0
            next_w = w - dw
        """
    )
    assert adam_step_wrong._update_line(later, 0) == 5


def test_an_update_through_a_loop_variable_is_named_at_the_method(tmp_path):
    """`p -= ...` moves each array of `params` through the loop's own name (`for p, g in zip(params,
    grads)`): that statement is the update the finding points at."""
    from test_adam_step_wrong import LISTS

    path, module = loaded(tmp_path, "optim.py", LISTS, ("np.sqrt(v_hat + 1e-8)", "(v_hat + 1e-8)"))
    drift = drift_of(module.AdamOptimizer, "step")
    assert drift.kind == "inverse-magnitude"
    finding = found(drift)
    update = line_of(path, "p -= ")
    assert (finding.layer, finding.line, finding.highlight) == ("AdamOptimizer", update, (update,))
    assert finding.message.startswith(head("AdamOptimizer.step", 0.01) + "; yours moves it by the rate divided by the gradient's size")
