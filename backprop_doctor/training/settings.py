"""The probe's numbers, and the learning rate and batch size it takes from the user's script.

The script is read by `static.settings` (the AST); here its numbers become
`Settings`, with our defaults where the script spells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from backprop_doctor.static.facts import SourceFacts
from backprop_doctor.static.settings import script_numbers, update_line

if TYPE_CHECKING:
    import ast


STEPS = 200  # SGD steps of one run
OVERFIT_STEPS = 500  # full-batch steps on the tiny batch (cheap: 5 samples)
OVERFIT_SAMPLES = 5
DEFAULT_LR = 0.1
DEFAULT_BATCH = 100
MAX_BATCH = 100  # a larger batch in the script is cut to this, for speed
TRAIN_SAMPLES = 1000  # size of the synthetic training set
EVAL_SAMPLES = 200  # samples on which ReLU activity is measured
SMALLER_RATES = (10.0, 100.0)  # the rate is divided by these, in turn, when the loss does not fall
TINY_SECONDS = 8.0  # the tiny-batch run stops (unfinished, so it says nothing) past this
RUN_SECONDS = 60.0  # a run stops early (and says so) past this: a safety net only; WORK sizes the runs
RUN_SHARE = 1 / 3  # ... or past this share of the check's time left (`observe.budget.time_left`) ...
MIN_RUN_SECONDS = 1.0  # ... but never sooner than this
REPORT_SECONDS = 8.0  # of the check's time left, what the checks and the report after the probe keep
WORK = STEPS * DEFAULT_BATCH * 42_000  # samples x multiply-adds per run: the seed's 784-50-10 net at batch 100
MIN_BATCH, MIN_STEPS = 20, 50  # a larger network trains on smaller batches, then for fewer steps
CLUSTER_NOISE = 0.5  # noise around each class centre, relative to the spread of the centres

# The shape of a curve: the first loss against the mean of the last tenth.
RISE_RATIO = 1.10  # ends more than 10% above where it began: rises
DIVERGE_RATIO = 4.0  # ends 4x above where it began: diverges
STAGNANT_DROP = 0.02  # falls by less than 2%: stagnant
CLEAR_FALL = 0.75  # a smaller rate "helps" when its loss ends below 75% of the start
FITTED_RATIO = 0.2  # the tiny batch is fitted when its loss ends below 20% of the start
RATIO_RANGE = (1e-4, 1e-1)  # healthy ||lr * g|| / ||W|| per step
DEAD_FRACTION = 0.5  # "most units" of a ReLU layer never active

LR_NAMES = ("learning_rate", "lr", "learningrate", "learning_rate_init", "eta", "step_size")
BATCH_NAMES = ("batch_size", "batchsize", "mini_batch_size", "minibatch_size", "batch")


@dataclass(frozen=True)
class Setting:
    value: float
    line: int | None = None  # where the script spells it; None for our default


@dataclass(frozen=True)
class Settings:
    lr: Setting
    batch_size: Setting
    steps: int = STEPS
    update_line: int | None = None  # the script's `params[key] -= lr * grad[key]`, when found

    @property
    def batch(self) -> int:
        return max(1, min(int(self.batch_size.value), MAX_BATCH))


def script_settings(tree: ast.AST | None) -> Settings:
    """The learning rate and batch size the script spells as literals (else our defaults), and its update line."""
    return _settings(script_numbers(tree), update_line(tree, LR_NAMES))


def settings_from(facts: SourceFacts) -> Settings:
    """`script_settings` of the file whose facts these are (read once, shared with the checks)."""
    return _settings(facts.script_numbers, facts.update_line(LR_NAMES))


def _settings(numbers: dict[str, tuple[float, int | None]], update: int | None) -> Settings:
    found = {name: Setting(value, line) for name, (value, line) in numbers.items()}
    lr = next((found[n] for n in LR_NAMES if n in found and found[n].value > 0), Setting(DEFAULT_LR))
    batch = next((found[n] for n in BATCH_NAMES if n in found and found[n].value >= 1), Setting(DEFAULT_BATCH))
    return Settings(lr=lr, batch_size=Setting(float(int(batch.value)), batch.line), update_line=update)
