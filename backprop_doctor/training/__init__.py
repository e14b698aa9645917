"""The training probe: train the user's own network for a few hundred SGD steps and watch the loss.

Pure numerics. `probe_for(context)` trains each network the pipeline built
(on a float64 deep copy) and returns data — loss curves, the first
non-finite step, ReLU activity, update/weight ratios — never findings; the
`training` checks (`checks/loss_rises.py`, ...) read it and decide, in the
words of `checks/_training_words.py`.

One run is plain SGD, `params[k] -= lr * grads[k]` in place through the
network's own `gradient(x, t)`, on learnable data of the network's shapes:
class-dependent Gaussian clusters with one-hot targets, or the user's
`--data file.npz`. The learning rate and batch size are the script's own when
it spells them as literals (read by `static.settings`).

Next to the user's curve the probe runs, when it helps:

* the same steps with a smaller rate (does the loss fall then?);
* the same steps with a reference implementation (`reference.py`) swapped in
  for the piece an earlier finding blames — per-row softmax, Relu, Sigmoid,
  Affine, or layers that share the parameter arrays — to confirm the cause;
* a tiny batch of 5 samples, to see whether it can be fitted at all.

Everything is memoised on `context.extras["_training_probe"]`; the curves the
report draws go to `context.extras["training"]`.

    settings.py   the probe's numbers; the rate and batch size taken from the script
    data.py       synthetic clusters, or the user's --data file
    layers.py     what a layer of the network is (its kind, its parameter arrays)
    run.py        one SGD run: losses, the first NaN, ReLU activity, the shape of the curve
    swaps.py      reference pieces swapped in for the one a finding blames
    probe.py      every run one network needs, once per context
"""

from __future__ import annotations

from typing import Any

from backprop_doctor.locate import assignment_line
from backprop_doctor.training.data import Data, data_for, synthetic_data, user_data
from backprop_doctor.training.probe import (
    PROBE_KEY,
    Probe,
    copy_for_planning,
    dead_layers,
    falls_clearly,
    fitted,
    probe_for,
    probe_network,
    run_size,
)
from backprop_doctor.training.run import (
    NonFinite,
    ReluActivity,
    Run,
    Shape,
    curve_shape,
    first_non_finite_layer,
    relu_activity,
    train,
)
from backprop_doctor.training.layers import is_relu
from backprop_doctor.training.settings import (
    BATCH_NAMES,
    CLEAR_FALL,
    CLUSTER_NOISE,
    DEAD_FRACTION,
    DEFAULT_BATCH,
    DEFAULT_LR,
    DIVERGE_RATIO,
    EVAL_SAMPLES,
    FITTED_RATIO,
    LR_NAMES,
    MAX_BATCH,
    MIN_BATCH,
    MIN_STEPS,
    OVERFIT_SAMPLES,
    OVERFIT_STEPS,
    RATIO_RANGE,
    RISE_RATIO,
    RUN_SECONDS,
    SMALLER_RATES,
    STAGNANT_DROP,
    STEPS,
    TRAIN_SAMPLES,
    WORK,
    Setting,
    Settings,
    script_settings,
)
from backprop_doctor.training.swaps import (
    LABELS,
    SWAP_FINDINGS,
    SWAP_FIXES,
    Swap,
    apply_swaps,
    plan_swaps,
    share_parameters,
)

# The wording of the evidence lives next to the checks that use it; these names stay
# importable from here for code written against the single-module `training`.
_WORDS = frozenset(
    {"loss_text", "curve_text", "describe_non_finite", "curve_evidence", "probe_description", "sentence",
     "location", "span", "lr_text", "cause_clause", "fix_for"}
)  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _WORDS:  # imported on first use: the checks' module imports this package
        from backprop_doctor.checks import _training_words

        return getattr(_training_words, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BATCH_NAMES", "CLEAR_FALL", "CLUSTER_NOISE", "DEAD_FRACTION", "DEFAULT_BATCH", "DEFAULT_LR",
    "DIVERGE_RATIO", "EVAL_SAMPLES", "FITTED_RATIO", "LABELS", "LR_NAMES", "MAX_BATCH", "MIN_BATCH",
    "MIN_STEPS", "OVERFIT_SAMPLES", "OVERFIT_STEPS", "PROBE_KEY", "RATIO_RANGE", "RISE_RATIO",
    "RUN_SECONDS", "SMALLER_RATES", "STAGNANT_DROP", "STEPS", "SWAP_FINDINGS", "SWAP_FIXES",
    "TRAIN_SAMPLES", "WORK", "Data", "NonFinite", "Probe", "ReluActivity", "Run", "Setting", "Settings",
    "Shape", "Swap", "apply_swaps", "assignment_line", "copy_for_planning", "curve_shape", "data_for",
    "dead_layers", "falls_clearly", "first_non_finite_layer", "fitted", "is_relu", "plan_swaps",
    "probe_for", "probe_network", "relu_activity", "run_size", "script_settings", "share_parameters",
    "synthetic_data", "train", "user_data",
]  # fmt: skip
