"""Plain-text pieces every renderer shares: the verdict, numbers, sparklines.

Nothing here imports rich, so the JSON and GitHub renderers stay light and
these functions can be tested as plain string functions.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from backprop_doctor.findings import REDERIVE, Built, Finding, Report
from backprop_doctor.ranking import measured_count

SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_BARS_ASCII = "_.,-=+*#"
SPARK_NAN = "×"  # a NaN loss
SPARK_INF = "!"  # an infinite loss
SPARK_WIDTH = 40

# Unicode "control pictures" stand in for control characters, so a stray ESC in a
# user's file or message cannot reach the terminal as an escape sequence.
_CONTROL = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_CONTROL[0x7F] = 0x2421
_CONTROL.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def clean(text: str) -> str:
    """`text` with Windows line ends folded and control characters made visible."""
    return text.replace("\r\n", "\n").translate(_CONTROL)


def one_line(text: str) -> str:
    """`text` with every run of whitespace, newlines included, made one space."""
    return " ".join(clean(text).split())


def format_number(value: float | None) -> str:
    """Three significant digits; scientific below 1e-3 and from 1e3 (`1.23e-5`)."""
    if value is None:
        return "–"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e3:
        return f"{value:#.3g}".rstrip(".")  # '#' keeps trailing zeros: 0.800, 1.00
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_loss(value: Any) -> str:
    """A loss value for the training probe: two decimals when that reads well."""
    number = as_float(value)
    if math.isfinite(number) and 0.01 <= abs(number) < 1e4:
        return f"{number:.2f}"
    return format_number(number)


def where(finding: Finding) -> str:
    """`layer.param`, `layer`, or "" when the finding is about no layer."""
    if finding.layer and finding.param:
        return f"{finding.layer}.{finding.param}"
    return finding.layer or finding.param or ""


def plural(count: int, word: str) -> str:
    if word == "info":
        return f"{count} info"
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def severity_counts(report: Report) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in report.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def totals(reports: Iterable[Report]) -> dict[str, int]:
    """Findings of each severity over several reports."""
    counts = {"error": 0, "warning": 0, "info": 0}
    for report in reports:
        for severity, count in severity_counts(report).items():
            counts[severity] = counts.get(severity, 0) + count
    return counts


def counts_line(report: Report) -> str:
    """The second line of a file's report: `seed 0 · 3 errors · 2 warnings · 4 info`."""
    counts = severity_counts(report)
    return " · ".join(
        [
            f"seed {report.seed}",
            plural(counts["error"], "error"),
            plural(counts["warning"], "warning"),
            plural(counts["info"], "info"),
        ]
    )


def built_kind(built: Built) -> str:
    """"network", "functions" or "layer" (a `kind` field wins when the data model has one)."""
    kind = getattr(built, "kind", None)
    if kind:
        return str(kind)
    if built.what.startswith("training step"):
        return "training step"
    if "/" in built.what:
        return "functions"
    if re.search(r"(net|network|model)$", built.what.split("(")[0].strip(), re.IGNORECASE):
        return "network"
    return "layer"


OTHER_KINDS = ("network", "training step", "autograd engine", "optimizer")


def checked_counts(report: Report) -> tuple[int, ...]:
    """How many layers (function pairs included), networks, replayed training steps, scalar
    autograd engines and optimizers were checked."""
    kinds = [built_kind(b) for b in report.built if not b.skipped]
    others = [kinds.count(kind) for kind in OTHER_KINDS]
    return (len(kinds) - sum(others), *others)


def checked_scope(report: Report) -> str:
    """" in 3 layers and 1 network", " in 1 layer and 1 training step": what was checked (none of a kind: not named)."""
    counts = zip(checked_counts(report), ("layer", *OTHER_KINDS))
    parts = [plural(count, what) for count, what in counts if count]
    if not parts:
        return ""
    return " in " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])


def symptoms_and_others(report: Report) -> tuple[list[Finding], list[Finding]]:
    """The findings after the root cause, split into symptoms (`caused_by` set) and the rest."""
    rest = list(report.findings)
    root = report.root_cause
    if root is not None:
        index = index_of(report.findings, root)
        if index is not None:
            del rest[index]
    symptoms = [f for f in rest if f.caused_by]
    others = [f for f in rest if not f.caused_by]
    return symptoms, others


def index_of(findings: Sequence[Finding], target: Finding) -> int | None:
    """Where `target` sits in `findings`: the same object, else an equal one, else the same key."""
    for test in (lambda f: f is target, lambda f: f == target, lambda f: f.key() == target.key()):
        for i, finding in enumerate(findings):
            if test(finding):
                return i
    return None


def named_finding(report: Report) -> Finding | None:
    """The finding the verdict names: the root cause, else the first error."""
    if report.root_cause is not None:
        return report.root_cause
    errors = report.errors
    return errors[0] if errors else None


def verdict(report: Report, *, ascii_only: bool = False) -> str:
    """One line that says why the loss rises, or that nothing is wrong. Never contains a newline.

    ✗ net.py: the loss rises because softmax normalises across the whole batch
      in SoftmaxWithLoss.softmax (line 16): sum over axis=1 instead.
    ✓ net.py: no problems found in 3 layers and 1 network (seed 0)
    ✓ script.py: no problems found in 1 training step (seed 0)
    """
    ok_mark, bad_mark = ("OK", "FAIL") if ascii_only else ("✓", "✗")
    warn_mark = "WARN" if ascii_only else "!"
    name = one_line(report.file) if report.file else ""
    prefix = f"{name}: " if name else ""
    attempted = bool(report.built) or any(f.name == "nothing-to-check" for f in report.findings)
    # a training rule, or one of the update's own (an optimizer that does not step as it should, BPD206-BPD209)
    training = next((f for f in report.findings if f.severity == "warning" and (f.code.startswith("BPD6") or f.code in _UPDATE_RULES)), None)
    if report.ok and attempted and not any(m.verdict != "skipped" for m in report.measurements) and training is None:
        # nothing was compared: never a check mark
        warnings = [f for f in report.findings if f.severity == "warning"]
        # why nothing could be compared (its own summary, or an exercise left as `pass`) before a build hint
        first = next(
            (f for f in warnings if f.name == "nothing-to-check"),
            next((f for f in warnings if f.pattern == "not-written"), warnings[0] if warnings else None),
        )
        why = f": {cause_sentence(first, report.file)}" if first is not None else "."
        return f"{warn_mark} {prefix}nothing was checked{why}"
    if report.ok:
        scope = checked_scope(report)
        warnings = severity_counts(report)["warning"]
        unwritten = [f for f in report.findings if f.pattern == "not-written"]
        if unwritten:  # an exercise left half done: no check mark while a piece is still `pass`
            names = [f"`{f.message.split('`')[1]}` (line {f.line})" for f in unwritten if f.message.count("`") >= 2]
            what = "is" if len(unwritten) == 1 else "are"
            noun = "function" if all(f.name != "load-error" for f in unwritten) else "part"  # `best_softmax = None` left as handed out
            return (
                f"{warn_mark} {prefix}no errors{scope} (seed {report.seed}), but {plural(len(unwritten), noun)} "
                f"{what} not written yet: {', '.join(names[:3])}{', ...' if len(names) > 3 else ''}"
            )
        if training is not None:  # every gradient right, and the set-up is why the loss does not fall as it should
            if not measured_count(report):  # no gradient compared: nothing to vouch for
                return f"{warn_mark} {prefix}no gradient could be compared (seed {report.seed}), but {cause_sentence(training, report.file)}"
            if all(b.kind == "optimizer" for b in report.built):  # an optimizers' module: no gradient of its own
                stepped = plural(len(report.built), "optimizer")
                return f"{warn_mark} {prefix}{stepped} stepped on made-up arrays (seed {report.seed}), but {cause_sentence(training, report.file)}"
            return f"{warn_mark} {prefix}every gradient is right{scope} (seed {report.seed}), but {cause_sentence(training, report.file)}"
        if warnings:
            return (
                f"{ok_mark} {prefix}no errors{scope} (seed {report.seed}); "
                f"{plural(warnings, 'warning')} below"
            )
        return f"{ok_mark} {prefix}no problems found{scope} (seed {report.seed})"

    finding = named_finding(report)
    assert finding is not None  # not ok means there is an error
    cause = cause_sentence(finding, report.file)
    trend = _loss_trend(report)
    if _is_load_problem(finding):
        lead = "it could not be checked because "
    elif trend == "rises":
        lead = "the loss rises because "
    elif trend == "flat":
        lead = "the loss does not fall because "
    else:  # no training probe ran, or its loss fell: state the cause itself
        # ("the loss falls, but ..." would contradict a cause that keeps the real loss from falling)
        lead, cause = "", cause[:1].upper() + cause[1:]
    return f"{bad_mark} {prefix}{lead}{cause}"


def sentence(message: str) -> str:
    """A message as a sentence: capital first letter, closing full stop."""
    if not message:
        return message
    message = message[:1].upper() + message[1:]
    return message if message[-1:] in ".!?" else message + "."


def cause_sentence(finding: Finding, report_file: str | None = None) -> str:
    """`<what is wrong> in <layer.param> (line N): <what to do>` from a finding's message.

    A message written as "diagnosis: advice" is split at its first ": " and the place is
    put after the diagnosis. A message without one is used as the advice, after the
    rule's one-line summary. The place is left out when the message already names it.
    """
    message = one_line(finding.message)
    head, sep, tail = message.partition(": ")
    if sep and head:
        diagnosis, advice = head, tail
    else:
        summary = _rule_summary(finding)
        if summary:
            diagnosis, advice = summary.rstrip("."), message
        else:
            diagnosis, advice = message.rstrip("."), ""

    fix = (finding.fix or "").strip()
    if fix and "\n" not in fix and advice.startswith(REDERIVE):
        advice = f"write `{fix}`"  # the corrected line is known: say it rather than "re-derive it"
    place = []
    layer = where(finding)
    pair = re.sub(r"_forward$", "", finding.layer or "")  # a function pair goes by its forward's name
    named = f"`{finding.layer}`" in message or f"`{pair}_" in message  # "dx of `Loss`", "`layernorm_backward` mixes": named already
    if layer and layer not in message and not named:
        place.append(f"in {layer}")
    if finding.line is not None and not re.search(rf"\bline {finding.line}\b", message, re.IGNORECASE):
        other_file = finding.file and report_file and os.path.basename(finding.file) != os.path.basename(
            report_file
        )
        if other_file:
            place.append(f"({os.path.basename(finding.file or '')}, line {finding.line})")
        else:
            place.append(f"(line {finding.line})")
    sentence = _lower_first(diagnosis)
    if place:
        sentence += " " + " ".join(place)
    if advice:
        sentence += ": " + advice
    if sentence[-1:] not in ".!?":
        sentence += "."
    return sentence


def sparkline(
    values: Iterable[Any],
    width: int = SPARK_WIDTH,
    *,
    lo: float | None = None,
    hi: float | None = None,
    ascii_only: bool = False,
) -> str:
    """A curve drawn with `▁▂▃▄▅▆▇█`, one character per point, at most `width` characters.

    Longer series are cut into `width` consecutive buckets and each bucket drawn at its
    mean. A NaN (or None) draws as `×`, an infinity as `!`; a bucket holding either draws
    as its first non-finite value, so a divergence is never averaged away. `lo` and `hi`
    fix the scale (to compare curves on one scale); by default it is the series' own finite
    range. A flat series draws at mid height.
    """
    bars = SPARK_BARS_ASCII if ascii_only else SPARK_BARS
    nan_mark = "x" if ascii_only else SPARK_NAN
    points = downsample([as_float(v) for v in values], max(0, int(width)))
    finite = [p for p in points if math.isfinite(p)]
    if lo is None:
        lo = min(finite, default=0.0)
    if hi is None:
        hi = max(finite, default=0.0)
    top = len(bars) - 1
    chars = []
    for p in points:
        if math.isnan(p):
            chars.append(nan_mark)
        elif math.isinf(p):
            chars.append(SPARK_INF)
        elif not hi > lo:
            chars.append(bars[top // 2])
        else:
            # halve first so that hi - lo cannot overflow to infinity
            fraction = (p / 2 - lo / 2) / (hi / 2 - lo / 2)
            chars.append(bars[min(top, max(0, round(fraction * top)))])
    return "".join(chars)


def downsample(points: Sequence[float], width: int) -> list[float]:
    """At most `width` points: the means of consecutive buckets (non-finite values win)."""
    n = len(points)
    if width <= 0:
        return []
    if n <= width:
        return list(points)
    out = []
    for i in range(width):
        bucket = points[i * n // width : (i + 1) * n // width]
        bad = next((p for p in bucket if not math.isfinite(p)), None)
        out.append(bad if bad is not None else math.fsum(bucket) / len(bucket))
    return out


def as_float(value: Any) -> float:
    """`value` as a float; NaN for None and for anything that is not a number."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _lower_first(text: str) -> str:
    """Lower-case a leading ordinary word ("Softmax normalises" → "softmax normalises").

    Names stay as written: "TwoLayerNet", "Affine.backward", "W1", "ReLU".
    """
    if re.match(r"(A|[A-Z][a-z]+)(\s|$)", text):
        return text[0].lower() + text[1:]
    return text


def _rule_summary(finding: Finding) -> str | None:
    try:
        from backprop_doctor.rules import all_rules

        rule = all_rules().get(finding.name)
    except Exception:  # a broken check module must not break the report
        return None
    if rule is None or not rule.doc.strip():
        return None
    return one_line(rule.summary)


def _stage(finding: Finding) -> str | None:
    try:
        from backprop_doctor.rules import all_rules

        rule = all_rules().get(finding.name)
    except Exception:
        rule = None
    return rule.stage if rule is not None else None


def _is_load_problem(finding: Finding) -> bool:
    stage = _stage(finding)
    if stage is not None:
        return stage == "load"
    return finding.code.upper().startswith("BPD00")


def curves_separate(training: dict[str, Any]) -> bool:
    """Whether the probe's curve of the user's code differs from the reference's (a curve that does
    not separate the buggy code from the fixed one is no evidence either way)."""
    yours = [as_float(v) for v in training.get("yours") or ()]
    reference = [as_float(v) for v in training.get("reference") or ()]
    if not yours or not reference:
        return True
    if len(yours) != len(reference):
        return True
    scale = max((abs(v) for v in yours + reference if math.isfinite(v)), default=0.0) or 1.0
    for a, b in zip(yours, reference):
        if math.isfinite(a) != math.isfinite(b):
            return True
        if math.isfinite(a) and abs(a - b) > 0.01 * scale:
            return True
    return False


def _loss_trend(report: Report) -> str | None:
    """"rises", "flat" or "falls" from the training probe's curve of the user's loss; None without one."""
    training = report.extras.get("training")
    if not isinstance(training, dict):
        return None
    yours = [as_float(v) for v in training.get("program") or training.get("yours") or ()]  # the program's own, when replayed
    if len(yours) < 2 or not math.isfinite(yours[0]):
        return None  # a curve that was never a number says nothing of a trend
    if not math.isfinite(yours[-1]):
        return "rises"
    if training.get("one_sample") and not training.get("program"):
        # one sample's loss a pass (`for x1, x2, t in data:`): it goes up and down with the samples; only a
        # climb far past them (`replay.curve.climbs_far`) is a trend
        return "rises" if _climbs_far(yours) else None
    # a curve of one sample per step is noisy: its first and last fifths are compared, not two points
    span = max(1, len(yours) // 5)
    head, tail = yours[:span], yours[-span:]
    first = sum(head) / len(head) if all(math.isfinite(v) for v in head) else yours[0]
    last = sum(tail) / len(tail)
    if not math.isfinite(last) or (math.isfinite(first) and last > first * 1.01):
        return "rises"
    if len(yours) < FLAT_STEPS:
        return None  # a few replayed steps cannot show a loss that does not fall
    if not math.isfinite(first) or last > first * 0.9:
        return None if _no_better(training, last) else "flat"
    return "falls"


def _climbs_far(curve: list[float]) -> bool:
    """The mean of the curve's last fifth `FAR` times the mean of its first, a number throughout."""
    if len(curve) < FLAT_STEPS or not all(math.isfinite(v) for v in curve):
        return False
    fifth = max(2, len(curve) // 5)
    first, last = sum(curve[:fifth]) / fifth, sum(curve[-fifth:]) / fifth
    return first > 0 and last > FAR * first


FAR = 10.0  # one sample's loss after another climbs this far past the first ones only when the steps make it


FLAT_STEPS = 5  # a curve this long at least, before "the loss does not fall" is said of it
CLEARLY_BELOW = 0.9  # a reference curve ends below this share of the user's to show what the user's misses


def _no_better(training: dict, last: float) -> bool:
    """Whether the same steps with correct gradients (or the reference swapped in) end no clearly lower
    than the user's curve, which then only sits on the early plateau every such start has: its slow
    fall is no sign of the finding's cause."""
    own = training.get("program") is not None
    reference = [as_float(v) for v in (training.get("corrected") if own else training.get("reference")) or ()]
    if len(reference) < 2:
        return False
    tail = reference[-max(1, len(reference) // 5) :]
    return all(math.isfinite(v) for v in tail) and sum(tail) / len(tail) >= CLEARLY_BELOW * last


# --------------------------------------------------------------------------- what a number measures

_GRADIENT = ("the relative error between your gradient and the numerical gradient", "the tolerance is")
# finding name, or "name/pattern" where a pattern measures something else -> (what `measured` is, how
# `threshold` reads); a finding not listed falls back to "measured X (limit Y)".
MEASURES: dict[str, tuple[str, str]] = {
    "gradient-mismatch": _GRADIENT,
    "gradient-at-kink": _GRADIENT,
    "step-gradient-mismatch": ("the relative error between your gradient and the derivative of your loss, replayed", "the tolerance is"),
    "step-rate-too-high": ("your learning rate", "a tenth of it or less made the loss fall"),
    "step-rate-too-high/unstable": ("the loss's rise over the replayed steps, the last over the first", ""),
    "step-rate-too-high/momentum-not-below-one": ("your momentum coefficient", "a velocity decays only below"),
    "step-rate-too-high/schedule-grows": ("the rate at the loop's last pass over its first", "a schedule grows without bound from"),
    "float32-precision": _GRADIENT,
    "nonreentrant-backward": (
        "the relative error of the gradients taken over all the layer's arrays together",
        "the tolerance is",
    ),
    "softmax-not-per-row": ("the largest distance of a row sum from 1", "a correct softmax stays below"),
    "batch-coupling": (
        "the largest change of the other samples' outputs when one sample changes, relative to the largest output",
        "a per-sample layer stays below",
    ),
    "unshared-parameter": (
        "the largest relative change of the network's output when a parameter of the network is updated",
        "an update that reaches the layers changes it by more than",
    ),
    "loss-rises": ("the loss at the end of the training probe", "rising means above"),
    "loss-diverges": ("the highest loss of the training probe", "diverging means above"),
    "loss-stagnant": ("the loss at the end of the training probe", "falling means below"),
    "cannot-overfit": ("the loss on the tiny batch at the end of the training probe", "fitted means below"),
    "learning-rate-too-high": ("the largest update/weight ratio ||lr·g|| / ||W|| of a step", "healthy is below"),
    "dead-relu": ("the fraction of units that are never active", "most units means above"),
    "input-mutated": ("the number of input elements forward changed", "a layer changes"),
    "non-finite-output": ("the number of NaN/inf values forward returned for finite input", "expected is"),
    "non-finite": ("the training step of the first NaN/inf", ""),
    "update-climbs": ("the cosine between a parameter's move and its gradient", "descent moves it below"),
}


def measured_sentence(finding: Finding) -> str | None:
    """`measured` and `threshold` in words: what the number is and what it is compared with."""
    if finding.measured is None:
        return None
    value = format_number(finding.measured)
    known = MEASURES.get(f"{finding.name}/{finding.pattern}") or MEASURES.get(finding.name)
    if known is None:
        text = f"Measured {value}"
        if finding.threshold is not None:
            text += f" (limit {format_number(finding.threshold)})"
        return text + "."
    what, limit = known
    text = f"Measured: {what} is {value}"
    if finding.threshold is not None and limit:
        text += f"; {limit} {format_number(finding.threshold)}"
    return text + "."


# --------------------------------------------------------------------------- notes

_UPDATE_RULES = frozenset({"BPD206", "BPD207", "BPD208", "BPD209"})

# Rules whose findings are drawn in the compact list of notes rather than in a panel of their own,
# whatever their severity: the book's own `Relu.backward` writes into `dout` (harmless in a chain).
NOTE_RULES = frozenset({"upstream-grad-mutated"})

# Invisible characters the loader reads as spaces (see `loading.source.PASTED`).
PASTED_CHARACTERS = frozenset("\u00a0\u3000\u202f\u200b\ufeff" + "".join(chr(c) for c in range(0x2002, 0x200B)))


def is_note(finding: Finding) -> bool:
    """Drawn in the list of notes: every info finding, and the rules in `NOTE_RULES`."""
    return finding.severity == "info" or finding.name in NOTE_RULES


def pasted_characters(line: str) -> list[tuple[int, str]]:
    """(column counted from 1, character) of every pasted invisible character on `line`."""
    return [(i + 1, ch) for i, ch in enumerate(line) if ch in PASTED_CHARACTERS]


def visible_pasted(line: str) -> str:
    """`line` with each pasted invisible character spelled `<U+00A0>`, so an empty-looking line shows it."""
    return "".join(f"<U+{ord(ch):04X}>" if ch in PASTED_CHARACTERS else ch for ch in line)


def pasted_note(finding: Finding, raw_lines: Sequence[str] | None) -> str:
    """The text-normalised note: where the first pasted character is and that Python rejects the file.

    `raw_lines` are the lines of the file as it is on disk (the characters still in it).
    """
    message = one_line(finding.message)
    if finding.line is None or not raw_lines or not 1 <= finding.line <= len(raw_lines):
        return message
    found = pasted_characters(raw_lines[finding.line - 1])
    if not found:
        return message  # the encoding variant, or the file changed since it was checked
    column, ch = found[0]
    lines = [n for n in finding.highlight or (finding.line,) if 1 <= n <= len(raw_lines)]
    total = sum(len(pasted_characters(raw_lines[n - 1])) for n in lines) or len(found)
    import unicodedata

    name = f"U+{ord(ch):04X} {unicodedata.name(ch, 'CHARACTER')}"
    more = f" ({total} such characters on {plural(len(lines), 'line')})" if total > 1 else ""
    return (
        f"Line {finding.line}, column {column} holds an invisible {name} pasted from a web page{more}. "
        f"Python rejects the file as it is (`SyntaxError: invalid non-printable character U+{ord(ch):04X}`); "
        "backprop-doctor read the character as a space to check the rest, and the file is unchanged: "
        "retype the line with ordinary spaces."
    )
