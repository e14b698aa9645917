"""The inputs the training step feeds its network hardly vary: every feature is nearly constant.

What it finds:
    The array the replayed step multiplies by its first weights (`X @ W1`, through the functions it
    calls), whose every feature's standard deviation over the samples is at most 0.01 and at most a
    twentieth of that feature's mean (every value -0.05 give or take 4e-4); or, when the program's
    own step also cannot fit a few samples, features centred at 0 whose spread is at most 0.001. The
    statement that computes the statistics the inputs are scaled by (`mu, sd = X_raw.mean(axis=0),
    X_raw.std(axis=0)`) is named, else the line that binds the inputs; statistics taken over the whole
    of an array the inputs keep only some rows of (`X_raw[keep]`) are said to be. Judged only when the
    step's gradients are right. Inputs whose every sample is the same are `step-inputs-identical`'s.
    Data small but spread (pixels / 255, one-hot rows, rare counts) varies as much as its mean.

Why it matters:
    A first layer drawn at the usual scale turns inputs that differ by 4e-4 into pre-activations that
    differ by as little: the network sees nearly the same input for every sample, and fits little
    more than the targets' mean however long it trains and however right its gradients are. A
    standardisation whose statistics include an outlier row dropped afterwards does this: the
    outlier sets the mean and a standard deviation thousands of times the data's own.

Example:
    keep = np.abs(X_raw).max(axis=1) < 1e3              # drop a faulty row
    mu, sd = X_raw.mean(axis=0), X_raw.std(axis=0)      # ...but its values set the statistics
    X = (X_raw[keep] - mu) / sd

Fix:
    mu, sd = X_raw[keep].mean(axis=0), X_raw[keep].std(axis=0)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backprop_doctor.findings import Finding
from backprop_doctor.rules import rule

NAME = "step-inputs-collapsed"
CODE = "BPD645"
SEVERITY = "warning"
STAGE = "training"


def run(context: Any) -> Iterator[Finding]:
    from backprop_doctor.replay.uniform import collapsed_inputs
    from backprop_doctor.static.fed_data import statistics_statement

    source = context.source
    if source is None or source.tree is None:
        return
    named: set[tuple[str, int]] = set()
    for result in context.extras.get("replay") or []:
        for found in collapsed_inputs(result):
            if (found.name, found.line) in named:
                continue
            named.add((found.name, found.line))
            stats = statistics_statement(source.tree, found.line)
            around = (
                f"has a standard deviation of at most {found.spread:.2g} around a mean about {found.mean:.2g} in size (a spread "
                f"{found.ratio:.2g} times the mean's)"
                if found.ratio is not None
                else f"has a standard deviation of at most {found.spread:.2g} around its mean"
            )
            head = (
                f"the inputs your network trains on have almost no spread: every feature of `{found.name}` (line {found.line}) {around} "
                f"over its {found.samples} samples, so the first layer sees nearly the same input for every sample and the network can "
                "fit little more than the targets' mean, however right its gradients are"
            )
            line, fix, highlight = found.line, None, (found.line,)
            if stats is not None:
                shown = source.text_lines[stats.line - 1].strip() if 0 < stats.line <= len(source.text_lines) else ""
                where = f"line {stats.line}" + (f" (`{shown}`)" if shown and len(shown) <= 90 else "")
                if stats.selected:
                    why = (
                        f"; the statistics of your normalisation at {where} are taken over all of `{stats.over}`, while the network trains "
                        f"on a selection of its rows (`{stats.selected}`): rows left out (an outlier, a faulty record) still set the mean and "
                        f"the standard deviation. Compute them over the rows you train on (`{stats.selected}`)"
                    )
                else:
                    why = (
                        f"; your normalisation at {where} scales them by a mean and a standard deviation far from those of the samples the "
                        f"network trains on (one outlier in `{stats.over}` is enough to set them): compute them over those samples alone"
                    )
                line = stats.line
                highlight = tuple(sorted({stats.line, found.line}))
            else:
                why = (
                    f"; standardise each feature over the samples it trains on (`({found.name} - {found.name}.mean(axis=0)) / "
                    f"{found.name}.std(axis=0)`)"
                )
            yield rule(NAME).finding(
                head + why,
                file=source.path,
                line=line,
                fix=fix,
                highlight=highlight,
                pattern="inputs-collapsed",
                measured=found.spread,
                evidence=(
                    ("inputs", f"`{found.name}`: {found.samples} samples of {found.features} features, largest standard deviation {found.spread:.3g}"
                     + (f", at most {found.ratio:.3g} of its mean's size" if found.ratio is not None else "")),
                ),
            )  # fmt: skip
