"""adam-step-wrong's static part (BPD208, `correction-without-count`), checked in this process
(issue 15, sixteenth round): the training script of `test_adam_corrections_in_scripts.py` (CLI tests,
in a child process where a mutation run cannot see them) checked by `check_file` here, `run` given a
source read here with and without a drift's finding on the same line, and `uncounted_corrections`
given statements of its own. Every expected word is the program's own text."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from types import SimpleNamespace

from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_adam_corrections_in_scripts import CORRECTED, PROGRAM, UNCOUNTED

from backprop_doctor.checks import adam_step_wrong
from backprop_doctor.findings import Finding
from backprop_doctor.loading.source import read_source

FIRST_CORRECTED = "mw_hat = mw / (1 - beta1 ** t)"
FIRST_UNCOUNTED = "mw_hat = mw / (1 - beta1)"


def words(line: int, rate: str) -> str:
    return (
        f"line {line} divides by `1 - {rate}`, Adam's bias correction without the update count: it is right at the first "
        f"update only, and from the second on the step is not the one Adam takes (too far while the moments warm up, "
        f"then out of proportion); divide by `1 - {rate} ** t`, t counting the updates from 1"
    )


def source_of(tmp_path: Path, text: str):
    path = tmp_path / "adam.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    source, _ = read_source(str(path))
    return path, source


def corrections(text: str) -> list[tuple[int, str, str]]:
    return adam_step_wrong.uncounted_corrections(ast.parse(textwrap.dedent(text)))


# the whole pipeline, in this process


def test_a_correction_without_the_count_is_named_by_the_pipeline_with_every_field(tmp_path):
    path, findings = checked(tmp_path, "adam.py", PROGRAM.replace(CORRECTED, UNCOUNTED))
    (finding,) = [f for f in findings if f.name == "adam-step-wrong"]
    line = line_of(path, UNCOUNTED)
    assert (finding.code, finding.severity, finding.file, finding.line, finding.highlight) == ("BPD208", "warning", str(path), line, (line,))
    assert (finding.pattern, finding.fix) == ("correction-without-count", CORRECTED)
    assert finding.message == words(line, "beta2")


def test_the_counted_script_gets_nothing_in_this_process(tmp_path):
    _, findings = checked(tmp_path, "adam.py", PROGRAM)
    assert [f for f in findings if f.name == "adam-step-wrong"] == []


def test_both_corrections_without_the_count_are_two_findings_in_line_order(tmp_path):
    path, source = source_of(tmp_path, PROGRAM.replace(CORRECTED, UNCOUNTED).replace(FIRST_CORRECTED, FIRST_UNCOUNTED))
    first, second = adam_step_wrong.run(SimpleNamespace(extras={}, source=source))
    lines = line_of(path, FIRST_UNCOUNTED), line_of(path, UNCOUNTED)
    assert (first.line, second.line) == lines
    assert (first.fix, second.fix) == (FIRST_CORRECTED, CORRECTED)
    assert (first.message, second.message) == (words(lines[0], "beta1"), words(lines[1], "beta2"))
    assert first.file == second.file == str(path)


# `run`: a line a drift's finding highlights, and the guards


def test_a_line_a_drift_finding_highlights_is_not_named_twice_and_the_next_still_is(tmp_path, monkeypatch):
    path, source = source_of(tmp_path, PROGRAM.replace(CORRECTED, UNCOUNTED).replace(FIRST_CORRECTED, FIRST_UNCOUNTED))
    first, second = line_of(path, FIRST_UNCOUNTED), line_of(path, UNCOUNTED)
    drift_finding = Finding("adam-step-wrong", "BPD208", "warning", "a drift", highlight=(1, first))
    monkeypatch.setattr(adam_step_wrong, "_finding", lambda drift: drift_finding)
    found = list(adam_step_wrong.run(SimpleNamespace(extras={"adam_drift": ["drift"]}, source=source)))
    assert [f.line for f in found] == [None, second]
    assert found[0] is drift_finding and found[1].message == words(second, "beta2")
    # the other way round: the later line reported, the earlier one named
    drift_finding = Finding("adam-step-wrong", "BPD208", "warning", "a drift", highlight=(second,))
    found = list(adam_step_wrong.run(SimpleNamespace(extras={"adam_drift": ["drift"]}, source=source)))
    assert [f.line for f in found] == [None, first]


def test_no_source_no_tree_or_no_training_loop_names_nothing(tmp_path):
    assert list(adam_step_wrong.run(SimpleNamespace(extras={}))) == []
    assert list(adam_step_wrong.run(SimpleNamespace(extras={}, source=None))) == []
    _, source = source_of(tmp_path, PROGRAM.replace(CORRECTED, UNCOUNTED))
    assert source.facts.training_steps
    untreed = SimpleNamespace(tree=None, facts=source.facts, path=source.path)
    assert list(adam_step_wrong.run(SimpleNamespace(extras={}, source=untreed))) == []
    # the same statement in a function that no training loop runs
    _, loopless = source_of(
        tmp_path,
        """
        def corrected(mw, beta1):
            mw_hat = mw / (1 - beta1)
            return mw_hat
        """,
    )
    assert not loopless.facts.training_steps
    assert list(adam_step_wrong.run(SimpleNamespace(extras={}, source=loopless))) == []


# `uncounted_corrections`, on statements of its own


def test_a_moment_divided_by_one_minus_each_spelling_of_a_decay_rate_is_found():
    for rate in ("beta1", "beta2", "beta_1", "beta_2", "beta", "b1", "b2", "self.beta1", "self.b2", "Beta1", "BETA_2", "self.beta"):
        assert corrections(f"m_hat = m / (1 - {rate})") == [(1, f"m_hat = m / (1 - {rate})", rate)], rate


def test_other_divisors_are_not_corrections():
    for text in (
        "m_hat = m / (1 - beta1 ** t)",
        "m_hat = m * (1 - beta1)",
        "m_hat = m / (2 - beta1)",
        "m_hat = m / (1 + beta1)",
        "m_hat = m / (beta1 - 1)",
        "m_hat = m / (1 - beta3)",
        "m_hat = m / (1 - lr)",
        "m_hat = m / (1 - opt.beta1)",
        "m_hat = m / (1 - self.beta1.value)",
        "m_hat = m / (1 - b12)",
        "m_hat = m / (one - beta1)",
        "m_hat = m / ('1' - beta1)",
        "m_hat = m // (1 - beta1)",
        "m /= (1 - beta1)",
        "m_hat: float = m / (1 - beta1)",
        "f(m / (1 - beta1))",
    ):
        assert corrections(text) == [], text


def test_a_float_one_counts_and_a_correction_anywhere_in_the_value_is_found_once():
    assert corrections("m_hat = m / (1.0 - beta1)") == [(1, "m_hat = m / (1.0 - beta1)", "beta1")]
    nested = "w = w - lr * (m / (1 - beta1)) / (np.sqrt(v / (1 - beta2)) + eps)"
    assert corrections(nested) == [(1, nested, "beta1")]
    twice = "m_hat = m / (1 - beta1) / (1 - beta1)"
    assert corrections(twice) == [(1, twice, "beta1")]


def test_every_statement_with_one_is_found_with_its_line_and_text():
    text = """
    m_hat = m / (1 - beta1)
    v_hat = v / (1 - beta2 ** t)
    for step in range(3):
        v_hat = v / (1 - beta2)
    """
    assert corrections(text) == [(2, "m_hat = m / (1 - beta1)", "beta1"), (5, "v_hat = v / (1 - beta2)", "beta2")]
