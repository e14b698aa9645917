"""Numbers of a replayed step: does each update follow the gradient of the program's own loss?

For every parameter the first step moved, the loss the program computes is
replayed with the parameter moved by `±h·v` along two directions — a random
±1 direction and the program's own gradient — and the central difference is
compared with `<gradient, v>`. The ratio along the program's gradient is the
factor the gradient is off by; the random direction says whether it is off by
that factor everywhere (proportional) or wrong in shape. When a parameter is
wrong, the adjoints of the step (`dZ2`, `delta`, `d_o1`) are measured the same
way, each by moving its forward value after the statement that computes it and
running the rest of the step: the first adjoint that is wrong while those
before it are right is the statement to fix.

Plain numbers out; `checks/step_gradient_mismatch.py` decides and words.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import math
import os
import re
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_doctor.observe.budget import Deadline

from backprop_doctor.observe.record import number
from backprop_doctor.replay.capture import Capture, Moved
from backprop_doctor.replay.inner import Hooks, code_of
from backprop_doctor.replay.runner import NotReplayable, Runner
from backprop_doctor.replay.log_guard import Guards, watched
from backprop_doctor.replay.penalty_steps import folded
from backprop_doctor.replay.state import Path, describe, resolve
from backprop_doctor.static.files import source_tree
from backprop_doctor.static.sampling import Sampled, sampled_estimates
from backprop_doctor.static.reductions import mean_loss
from backprop_doctor.static.origins import summed_from
from backprop_doctor.static.step_functions import InnerAdjoint, Site, carried_out_of
from backprop_doctor.static.steps import Adjoint, LossSite, TrainingStep, _changed, _targets, on_other_samples, reads
from backprop_doctor.static.tree import walk as tree_walk

# relative disagreement that counts as wrong: the book's `np.log(y + 1e-7)` alone moves a correct
# gradient by up to 1e-4 where the probabilities are small
TOLERANCE = {"float64": 1e-3, "float32": 3e-2}
PROPORTIONAL = 2e-2  # two directions agree on one factor within this
COMMON = 3e-2  # parameters' factors within this of each other are one factor
STEP = {"float64": 1e-6, "float32": 1e-3}  # finite-difference step, times the array's scale
GUARD_SLACK = 3.0  # a guarded log's effect (`log_guard`) times this is a disagreement a right gradient may show
GUARD_NEGLIGIBLE = 1e-5
GUARD_DOMINATES = 0.1  # ... and one that moves it by more than this is most of what the loss's slope is  # a guard that moves the loss's slope by less than this is left in
SMALLEST_DECAY = 1e-6  # a λ within the slope's tolerance and below this is rounding; one set on purpose (1e-3 beside a small row) is not
MAX_DECAY = 1.0  # an L2 penalty's λ beyond this is no penalty anyone sets: the difference is something else
SCALE_FLOOR = {"float64": 1e-2, "float32": 1.0}  # ... or times this for an array near zero (a bias at init)
NUMERICAL_MOST = 0.05  # a program's own finite difference is allowed at most this relative error, however large its step


@dataclass
class Direction:
    numerical: float
    analytic: float
    agrees: bool
    size: float = 0.0  # the gradient's size along it (‖g‖·‖v‖), when the program's gradient is a finite difference of its own


@dataclass(frozen=True)
class PenaltyFactor:
    """A gradient's L2 term `c · S · p` (`static.penalty_strength.DecayTerm`) against the penalty the loss holds on `p`."""

    setting: str  # the strength as the term writes it: "self.reg", "lam"
    parameter: str  # the array the term multiplies, as written: "W1"
    written: float  # the constant the term carries beside the setting: 2 of `2 * self.reg * W1`
    asked: float  # the constant the loss's penalty asks for there: its pull on `p` over the setting's value (1 for `0.5 * reg * Σp²`)
    strength: float  # the setting's value as the step ran
    line: int  # the term's statement
    asked_text: str | None = None  # the penalty's derivative as the loss's own coefficient writes it: "lam / m" of `lam / (2 * m) * Σp²`


@dataclass
class Measured:
    """One array (a parameter's gradient, or an adjoint) against the replayed loss."""

    name: str  # "W1", "parameters['W1']", "dZ2"
    line: int | None  # where the gradient or adjoint is computed
    directions: list[Direction] = field(default_factory=list)
    factor: float | None = None  # analytic / numerical along the array's own direction
    proportional: bool = False  # the same factor along the random direction
    exact: bool = False  # proportional within the tolerance a direction is judged at: one ratio for every entry, not a fit within `PROPORTIONAL`
    single: bool = False  # one number (a scalar weight): its one factor says all there is
    unused: bool = False  # the loss does not move when this array does
    inconclusive: bool = False  # the two step sizes disagree (a kink): not judged
    shape: tuple[int, ...] = ()
    scale: float | None = None  # the factor every adjoint of the program carries (its loss summed, not averaged)
    exact_scale: bool = False  # the scale is another adjoint's measured factor, not a cluster of parameters' factors: judged as tightly as a direction
    tolerance: float = TOLERANCE["float64"]  # the relative disagreement a direction is judged at (by the array's dtype)
    through: str | None = None  # an adjoint right as the gradient of this activation's input ("sigmoid"), not of its output
    floor: float = 0.0  # the loss's rounding seen through the step: differences below it are noise
    file: str | None = None  # the other file of the user's `line` is in (an update function the loop imports); None: the checked file
    broadcast: tuple[int, ...] | None = None  # the gradient's own shape, when the update spread it over a larger parameter
    decay: float | None = None  # the gradient is the loss's plus decay × the parameter (an L2 penalty the loss leaves out)
    decay_kind: str = "L2"  # "L1": the gradient is the loss's plus decay × sign(the parameter), an L1 penalty's subgradient
    decay_setting: tuple[str, float] | None = None  # (name, its pull ÷ the loss's slope): the decay is a strength the program sets by name
    penalty_left_out: float | None = None  # the loss's gradient is this one plus λ × the parameter: an L2 penalty the gradient leaves out
    aliases: Any = None  # the `Moved` parameter a wrong inner adjoint's forward value is (`dW3` of `W3 = model['W3']`), `_parameters_own`
    # the gradient's own L2 term (`2 * self.reg * W1`, `PenaltyFactor`) pulls by another multiple of the parameter than the
    # loss's penalty asks for (`0.5 * self.reg * np.sum(W1 * W1)`): a wrong factor in that term, not a penalty the loss leaves out
    penalty_factor: PenaltyFactor | None = None
    accumulated: tuple[str, int | None] | None = None  # (`dW1`, the line it is zeroed at, before the loop): it sums every step's gradient
    added_at: int | None = None  # with `accumulated`: the line of the step that adds to the sum (`acc[k] += g[k]`)
    truncated: tuple[str, int, int] | None = None  # (`self.bptt_truncate`, the loop's line, its value): truncated BPTT, by design
    finished_at: int | None = None  # the statement adding the parameter's penalty (`dV += lam * V`) when `line` is the data term before it, the wrong one
    output_of: tuple[str, str] | None = None  # ("sigmoid", "a1"): a wrong adjoint of `z1` that is right as the gradient of `a1 = sigmoid(z1)`
    extra_slope: tuple[str, str, str] | None = None  # ("sigmoid", "p", "p * (1 - p)"): right once that factor of its statement is taken out
    widened: tuple[int, ...] | None = None  # the gradient's own shape, larger than the parameter's: the update turns the parameter into it
    argument: tuple[str, str, str] | None = None  # ("sigmoid", "A1", "Z1"): right once the helper the statement calls is handed the other value
    swapped: list[tuple[tuple[str, str, str], Measured]] = field(default_factory=list, repr=False)  # those tries, judged once the scale is known

    @property
    def wrong(self) -> bool:
        if self.widened is not None:
            return True
        if self.inconclusive:
            return False
        if self.scale is not None and (self.proportional or self.single) and self.factor is not None:
            # judged at the program's own scale: off by it only is right, and so is nothing else
            # (a bias that follows a summed loss exactly while every other update follows its mean)
            return abs(self.factor / self.scale - 1) > (self.tolerance if self.exact_scale else PROPORTIONAL)
        return not all(d.agrees for d in self.directions)

    @property
    def error(self) -> float:
        """The largest relative disagreement (at the program's scale, when it has one); a direction the loss
        barely moves along counts at the loss's rounding."""
        scale = self.scale if self.scale is not None and self.proportional else 1.0
        return max(
            (
                abs(d.numerical - d.analytic / scale) / max(max(abs(d.numerical), abs(d.analytic / scale)) + self.floor + d.size, 1e-300)
                for d in self.directions
            ),
            default=0.0,
        )


@dataclass
class LeftOut:
    """`delta_hidden` is right as the gradient of `hidden`, an activation's output, yet the weights
    before the activation are given gradients computed from it as if it were the gradient of the
    activation's input: multiplied by the activation's slope, every one of them is right."""

    adjoint: Adjoint
    activation: str  # "relu", "sigmoid", "tanh"
    parameters: list[tuple[Moved, Measured]]  # the wrong ones it puts right, measured again with the slope in


REPLAY_RUNS = 8  # runs of the step a replay needs at the least: the watched loss again, two per parameter, a curve
LOST_STEPS = 10  # replayed steps a loss must repeat over for the updates to count as lost


@dataclass
class StepResult:
    step: TrainingStep
    loss: LossSite | None = None
    loss_value: float | None = None
    program_loss: float | None = None
    parameters: list[tuple[Moved, Measured]] = field(default_factory=list)
    adjoints: list[tuple[Adjoint | InnerAdjoint, Measured]] = field(default_factory=list)  # measured in order, up to the first wrong one
    batch_sizes: tuple[int, ...] = ()
    # the sizes of every array the program holds, read by the step or not (the module's `X` a function the loop
    # calls reads): a count a factor of every gradient may be, when `batch_sizes` cannot say which one
    data_sizes: tuple[int, ...] = ()
    runs: int = 0
    seconds: float = 0.0
    later_pass: int | None = None  # the pass the step was measured at, when not the second (`replay._later`)
    window: int = 1  # the passes one update reads the sum of (`capture.Capture.window`: `if step % k == 0:` after `acc += g`)
    skipped: tuple[int, bool] | None = None  # (passes the loop ran before its first update statement ran, whether one ever did)
    step_seconds: float = 0.0  # one replay of the step
    why: str = ""  # why it was not replayed, when it was not
    maximised: bool = False  # the program climbs its objective (gradient ascent on a log-likelihood)
    curve: list[float] = field(default_factory=list)  # the program's own loss over its first steps, replayed
    corrected: list[float] = field(default_factory=list)  # the same step with every gradient right, at the program's rates
    guard_lifted: bool = False  # the loss was measured with the guard inside its log taken out (`log_guard`): its gradient is the program's
    smaller_rate: tuple[str, float, float, list[float]] | None = None  # (name, yours, tried, curve) when the curve rises
    walked: tuple[float, float] | None = None  # curve.walked: the loss over the data the passes walk, before and after them
    larger_rate: tuple[str, float, float, list[float]] | None = None  # the same, when the curve does not move
    tight_clip: Any = None  # clip_tight.TightClip: an elementwise clip's bound, not the gradient, sets every step of a curve that does not move (NormClip: a norm clip's tiny factor)
    non_finite: Any = None  # curve.NonFinite: where the loop first made inf or NaN, when no smaller rate helps
    smaller_init: Any = None  # init_scale.SmallerInit: the weight matrices scaled down at the start keep it finite, when no smaller rate helps
    symmetric: list[str] = field(default_factory=list)  # weight matrices whose units all start equal (`np.zeros`)
    zero_start: bool = False  # every parameter (and every array a parameter is an entry of) is zero where the step starts
    zero_rows: bool = False  # some row the step moves is all zero where it starts, beside others that are not (`replay._zero_rows`)
    dead: list[Any] = field(default_factory=list)  # curve.DeadUnits of each ReLU output of the loop, over its own curve
    tiny: Any = None  # curve.Tiny: the step repeated on a few samples, when nothing else explains a loss that does not learn
    unfitted: list[str] = field(default_factory=list)  # updates no usual loss fits (the program computes none)
    sampled: list[str] = field(default_factory=list)  # updates along a gradient estimated from draws of the policy (`static.sampling`), not compared
    sampled_at: int = 0  # the line that draws from the policy, with `sampled`
    driver: str | None = None  # the call backprop-doctor made to run a loop the file never runs itself (`replay.driver`)
    stopped_at: int | None = None  # with a driver: the line where the program itself stopped before its loop ran
    standin: str | None = None  # the call of the program's own data loader that synthetic data stood in for (`replay.standin`)
    ended: bool = False  # with `standin`: the program went past its training without running it, on what that loader gave
    clipped: str | None = None  # the clipping call (`clip_grads(model.grads, max_grad)`) that shrank most gradients by one factor
    still: bool = False  # every gradient the first step updates with is zero (nothing moves, by the program's own account)
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # "clf.W1" -> ("Classifier", "W1"): the object a parameter is held by
    batch_normalised: list[tuple[Any, str, Any]] = field(default_factory=list)  # (function, local, rows): probabilities the step normalised over its batch
    runner: Any = None  # the step's runner, kept for `lines_run`
    crashed: BaseException | None = None  # an exception raised by backprop-doctor's own code while replaying (`own_fault`)
    left_out: LeftOut | None = None  # an activation's derivative missing between a right adjoint and a parameter's gradient
    other_loss: LossSite | None = None  # a usual loss every wrong gradient is right for, beside the one the program computes
    one_sample: bool = False  # each pass's loss is one sample's, the loop walking the data item by item (`for x1, x2, t in data:`)
    views: dict[str, str] = field(default_factory=dict)  # a name of the step's state bound to a view into another's array (`center` -> `W_in`)
    data_sized: Any = None  # data_size.DataSized: every gradient divided by the data set's size where the loss is over a batch of it
    summed_over_mean: int | None = None  # the batch size every gradient is times the mean loss's, the loop training only once divided by it (`_summed_against_mean`)
    divided_twice: Any = None  # data_size.DividedTwice: every gradient 1/B of a loss that is a mean over the batch, the two divisions by B
    mean_loss: bool = False  # the loss measured is one the program reports as a mean over every entry (`-np.mean(...)`), not a sum
    raised: tuple[str, str | None, int | None] | None = None  # with a driver: its backward raised, every way the batch was laid out
    stale: list[Moved] = field(default_factory=list)  # updates whose gradient holds the same values at every pass (`stale_gradients`)
    scaled: list[Any] = field(default_factory=list)  # capture.Scaled: parameters the pass scales in place beside their step (`P *= wd`)
    overwritten: Any = None  # cache_overwritten.Overwritten: a forward pass on other inputs between the loss and its backward, confirmed by a replay without it
    # the first adjoint that is a batch size times the gradient of the program's mean loss while some parameter is right
    # (`_deferred_mean`): each sample's own gradient, the mean left to the functions or methods it is handed to
    deferred: tuple[Adjoint | InnerAdjoint, Measured] | None = None
    _lines_run: dict[str, set[int]] | None = None
    _one_pass: tuple[dict[str, Any] | None] | None = None

    def after_one_pass(self) -> dict[str, Any] | None:
        """The step's names after one run of its pass from the replayed state (a fresh copy, so no later
        run changes it), for the checks that read the program's own data (its batches, its targets,
        its order): run once, on demand; None without a runner or when the user's statements raise."""
        if self._one_pass is None:
            try:
                self._one_pass = (self.runner.run() if self.runner is not None else None,)
            except Exception:  # noqa: BLE001 - the user's statements raised when run again: nothing to read
                self._one_pass = (None,)
        return self._one_pass[0]

    def lines_run(self) -> dict[str, set[int]]:
        """The lines of user files one pass of the program's own loop runs (its forward, backward and
        update, from a fresh copy of the replayed state), by absolute file name: traced once, on demand.
        A file's other gradient findings are its step's only when their code runs in it."""
        if self._lines_run is None:
            from backprop_doctor import locate
            from backprop_doctor.replay.curve import own_curve

            self._lines_run = {}
            if self.runner is not None:
                try:
                    _, lines = locate.executed(lambda: own_curve(self.runner, steps=1))
                except Exception:  # noqa: BLE001 - user code: nothing traced, every finding counts
                    lines = {}
                self._lines_run = {os.path.abspath(k): v for k, v in lines.items()}
        return self._lines_run

    @property
    def wrong(self) -> list[tuple[Moved, Measured]]:
        return [(m, r) for m, r in self.parameters if r.wrong]

    @property
    def lost(self) -> bool:
        """The program's own loss repeats to the last digit over its replayed steps while its gradients
        are not zero: its updates never reach what its forward pass reads."""
        curve = self.curve
        return (
            len(curve) >= LOST_STEPS and all(math.isfinite(v) for v in curve) and max(curve) == min(curve)
            and not float(curve[0]).is_integer()  # a count (a perceptron's mistakes) may well stay put
            and not self.still and not self.wrong and not self.symmetric and bool(self.step.updates)
        )  # fmt: skip

    @property
    def steady(self) -> bool:
        """The loop walks its data, a batch of its own each pass, and the loss over the data its replayed
        passes took does not rise over them (`curve.walked`): a climbing curve is then one batch's loss
        after another's, not a rate that overshoots."""
        from backprop_doctor.replay.curve import steady

        return steady(self.walked)

    @property
    def terms(self) -> bool:
        """The curve holds each pass's term of a sum the loop reports (`total += err ** 2`), one sample's
        loss after another, not one loss that falls as the steps go (`replay.curve.rises`)."""
        return self.loss is not None and (self.loss.accumulated or self.loss.summed or self.one_sample)

    @property
    def common_factor(self) -> float | None:
        """The one positive factor every update's gradient is off by (a summed loss against a mean), if any.
        A parameter of one number (a scalar bias `b`) has one factor and no direction to be proportional
        along: it shares the factor when it is the same as an array's that is proportional."""
        return self._common_factor(exact=True)

    def _common_factor(self, exact: bool) -> float | None:
        """`common_factor`; with `exact` False, also a factor the arrays show only nearly (`Measured.exact`)."""
        wrong = self.wrong
        factors = [m.factor for _, m in wrong if (m.proportional or m.single) and m.factor is not None]
        if not wrong or len(wrong) != len(self.parameters) or len(factors) != len(wrong) or not all(f > 0 for f in factors):
            return None
        if any(m.accumulated or m.penalty_left_out is not None or m.truncated for _, m in wrong):
            return None  # a named cause (a sum over steps, a penalty) explains the factor: it is no scale
        # (weight decay the loss leaves out is measured apart: the factor left once it is taken off is a scale)
        if all(m.single and not m.proportional for _, m in wrong):
            return None  # scalars alone: nothing shows the factor is a direction's
        if exact and any(m.proportional and not m.single and not m.exact for _, m in wrong):
            # near one factor, not one ratio: a wrong term that happens to lie close to the gradient (one-hot
            # targets where the loss smooths them: `P - Y` against `P - T`, near 1/(1 − ε) while P is near uniform)
            return None
        if any(m.single and not m.proportional for _, m in wrong) and not _batch_like(factors[0], self.batch_sizes):
            return None  # a scalar at 0.25 beside weights at 0.25 is a sigmoid's slope near 0.5, not a scale
        return factors[0] if max(factors) / min(factors) < 1 + COMMON else None

    @property
    def program_scale(self) -> bool:
        """Every gradient is the loss's times one positive factor, and the scale is the program's to choose:
        the loss is one backprop-doctor inferred or one the loop only reports (a mean printed now and
        then), or no update writes a learning rate."""
        shared = self._common_factor(exact=False)  # a scale the program chooses need not be one ratio: near one is its too
        if shared is None or self.data_sized is not None or self.summed_over_mean is not None:
            return False  # (a scale of the batch size that only trains once divided by it: `_summed_against_mean`)
        if self.mean_loss and _mean_over_again(shared, self.batch_sizes) is not None:
            return False  # 1/B against a loss that is a mean already: the batch divided out twice, no scale of the program's
        loss = self.loss
        return (loss is not None and not loss.paired and (loss.implied is not None or not loss.in_prefix)) or all(m.site.rate is None for m, _ in self.wrong)

    @property
    def first_wrong_adjoint(self) -> tuple[Adjoint | InnerAdjoint, Measured] | None:
        return next(((a, m) for a, m in self.adjoints if m.wrong), None)


def _kind(value: Any) -> str:
    dtype = getattr(value, "dtype", None)
    return "float32" if dtype is not None and dtype == np.float32 else "float64"


def _scale(value: Any) -> float:
    array = np.asarray(value, dtype=np.float64)
    return float(np.sqrt(np.mean(array * array))) if array.size else 0.0


def _unit(value: np.ndarray) -> np.ndarray | None:
    scale = _scale(value)
    return value / scale if scale > 0 and math.isfinite(scale) else None


def _measure(
    name: str,
    line: int | None,
    gradient: Any,
    base: Any,
    loss_moved: Any,
    base_loss: float,
    rng: np.random.Generator,
    kept: Any = None,
    guard: float = 0.0,
    own_difference: float = 0.0,
) -> Measured:
    """Compare `gradient` with central differences of `loss_moved(delta)` (the loss with `base + delta`);
    `kept`: the entries compared (the others, clipped by the program, are left out of every direction);
    `guard`: how far a guard inside the loss's log takes a right gradient from it here (`log_guard`),
    which the tolerance allows for; `own_difference`: the step of the program's own finite difference, when its
    gradient is one (`static.finite_differences`): a central difference at step h is off the derivative by
    about h² of the gradient's size, in every direction (one the derivative is 0 along too)."""
    analytic_array = np.asarray(gradient, dtype=np.float64)
    if kept is not None:
        analytic_array = np.where(kept, analytic_array, 0.0)
    kind = _kind(base)
    h = STEP[kind] * max(_scale(base), SCALE_FLOOR[kind])
    own_step = min(own_difference**2, NUMERICAL_MOST)  # the program's finite difference, relative to the gradient's size
    tolerance = max(TOLERANCE[kind], GUARD_SLACK * guard, own_step)
    size = float(np.sqrt(np.sum(analytic_array**2))) if own_step else 0.0
    measured = Measured(name, line, shape=tuple(analytic_array.shape), tolerance=tolerance)
    floor = 100 * float(np.finfo(kind).eps) * max(1.0, abs(base_loss)) / h  # the loss's rounding, seen through h
    measured.floor = floor
    random_direction = rng.choice((-1.0, 1.0), size=analytic_array.shape) if analytic_array.shape else float(rng.choice((-1.0, 1.0)))
    if kept is not None:
        random_direction = np.where(kept, random_direction, 0.0)
    own = _unit(analytic_array)
    directions = [own, random_direction] if own is not None else [random_direction]

    sides: list[tuple[float, float]] = []  # the one-sided slopes of the last central difference

    def numerical(v: Any, step: float) -> float:
        up, down = loss_moved(step * np.asarray(v)), loss_moved(-step * np.asarray(v))
        sides[:] = [((up - base_loss) / step, (base_loss - down) / step)]
        return (up - down) / (2 * step)

    def probe(v: Any) -> Direction:
        analytic = float(np.sum(analytic_array * v))
        estimate = numerical(v, h)
        along = size * float(np.sqrt(np.sum(np.square(v)))) if own_step else 0.0
        agrees = abs(estimate - analytic) <= tolerance * max(abs(estimate), abs(analytic)) + floor + own_step * along
        if not agrees:
            ((right, left),) = sides
            closer = numerical(v, h / 10)
            ((near_right, near_left),) = sides
            if abs(closer - estimate) > tolerance * max(abs(closer), abs(estimate)) + floor and not _far_beyond(analytic, estimate, closer):
                measured.inconclusive = True  # a kink between the two steps, or noise
            elif (
                abs(right - left) > tolerance * max(abs(right), abs(left)) + floor
                and abs(near_right - near_left) > max(abs(right - left) / 2, tolerance * max(abs(near_right), abs(near_left)) + 10 * floor)
            ):
                # a kink right at the point (a ReLU input exactly 0): its two sides differ by as much at a
                # tenth of the step, where a curve's would differ ten times less
                measured.inconclusive = True
        return Direction(estimate, analytic, agrees, along)

    for v in directions:
        measured.directions.append(probe(v))
    if len(measured.directions) == 2 and measured.directions[0].agrees and not measured.directions[1].agrees:
        # right along its own direction, wrong along one random one: a ReLU kink that one random
        # step crossed, or a wrong part the own direction hides; two more random directions tell
        again = [probe(rng.choice((-1.0, 1.0), size=analytic_array.shape) * (1.0 if kept is None else kept)) for _ in range(2)]
        if all(d.agrees for d in again):
            measured.directions[1] = again[0]
    if own is not None:
        along = measured.directions[0]
        if abs(along.numerical) > floor:
            measured.factor = along.analytic / along.numerical
            if len(measured.directions) > 1:
                other = measured.directions[1]
                scaled = measured.factor * other.numerical
                measured.proportional = abs(other.analytic - scaled) <= PROPORTIONAL * max(abs(other.analytic), abs(scaled)) + floor
                measured.exact = measured.proportional and _one_ratio(measured.factor, other, tolerance, floor + own_step * other.size)
                if measured.proportional and not along.agrees and analytic_array.size > 1:
                    # a few ±1 entries can sum to the same factor by chance (a ReLU mask left out of a
                    # 3×4 gradient whose one live column the random signs hit): a Gaussian direction cannot
                    gaussian = rng.standard_normal(analytic_array.shape) * (1.0 if kept is None else kept)
                    third = probe(gaussian)
                    measured.proportional = abs(third.analytic - measured.factor * third.numerical) <= PROPORTIONAL * max(
                        abs(third.analytic), abs(measured.factor * third.numerical)
                    ) + floor
                    measured.exact = measured.exact and measured.proportional and _one_ratio(measured.factor, third, tolerance, floor + own_step * third.size)
            if analytic_array.size == 1:  # one number is always "proportional": only a sign or a factor 2 says something
                measured.single = True
                measured.proportional = any(abs(measured.factor - f) < PROPORTIONAL * abs(f) for f in (-1.0, 2.0, 0.5))
        else:
            if analytic_array.size > 1 and all(abs(d.numerical) <= floor for d in measured.directions):
                # the loss flat along every direction tried: a few ±1 signs can all be one constant (a
                # softmax's bias moved by one number for every class); a Gaussian direction cannot
                measured.directions.append(probe(rng.standard_normal(analytic_array.shape) * (1.0 if kept is None else kept)))
            measured.unused = all(abs(d.numerical) <= floor for d in measured.directions)
    return measured


FAR_BEYOND = 10.0  # an analytic slope this many times farther from the finite differences than they are from each other is wrong


def _far_beyond(analytic: float, estimate: float, closer: float) -> bool:
    """Whether the two step sizes' central differences, which disagree (a kink between them, or a loss that curves
    steeply: a log near 0), both lie far from the gradient's slope, farther than `FAR_BEYOND` times their own spread
    and on the other side of zero or a multiple of them away: no step size brings the difference to the gradient
    (`dAL` with a term's sign flipped, where the outputs are near 0 or 1: 197 × the slope and of the other sign)."""
    spread = abs(closer - estimate)
    away = min(abs(analytic - closer), abs(analytic - estimate))
    same_side = analytic * closer > 0 and analytic * estimate > 0
    large = max(abs(closer), abs(estimate))
    return away > FAR_BEYOND * spread and (not same_side or away > FAR_BEYOND * large)


def _one_ratio(factor: float, direction: Direction, tolerance: float, floor: float) -> bool:
    """Whether `direction` shows the gradient at `factor` × the loss's as closely as a right gradient must agree
    with it: one ratio for every entry (a sum against a mean, a factor 2 left out), not a near one a wrong term
    can give (the one-hot targets where the loss has smoothed ones, `P - Y` against `P - T`, near 1/(1 − ε))."""
    scaled = factor * direction.numerical
    return abs(direction.analytic - scaled) <= tolerance * max(abs(direction.analytic), abs(scaled)) + floor


def slopes(forward: Any) -> list[tuple[str, np.ndarray]]:
    """Activation slopes that `forward` (an activation's output) allows: sigmoid, tanh, ReLU. A sigmoid or a
    tanh saturated in floating point (a tanh of 20 is exactly 1.0, a sigmoid of 40 too) reaches its bound,
    where its slope is 0, so some entries on the bound still allow it, when others are inside."""
    if not isinstance(forward, np.ndarray) or forward.dtype.kind != "f":
        return []
    found = []
    inside = np.abs(forward) < 1
    if np.all((forward > 0) & (forward <= 1)) and np.any(inside):
        found.append(("sigmoid", forward * (1 - forward)))
    if np.all(np.abs(forward) <= 1) and np.any(inside):
        found.append(("tanh", 1 - forward**2))
    if np.all(forward >= 0) and np.any(forward == 0):
        found.append(("relu", (forward > 0).astype(forward.dtype)))
    return found


def _number_slopes(forward: Any) -> list[tuple[str, float]]:
    """`slopes` of one number (an output of a network of scalar weights: `o = sigmoid(w5 * h1 + ...)`):
    the sigmoid's, for a value strictly between 0 and 1, then the tanh's, for one inside (-1, 1)."""
    value = number(forward) if not isinstance(forward, np.ndarray) else None
    if value is None or not math.isfinite(value):
        return []
    found = []
    if 0 < value < 1:
        found.append(("sigmoid", value * (1 - value)))
    if abs(value) < 1:
        found.append(("tanh", 1 - value**2))
    return found


def measure_adjoint(
    name: str, line: int | None, value: Any, forward: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator, scale: float | None = None
) -> Measured:
    """`_measure` for an adjoint: one named after an activation's output (`dZ` of `Z = sigmoid(...)`,
    `df` of `fs[t]`) is often the gradient of the activation's input; that is tried through the
    output's own slope before the adjoint is called wrong. `scale`: the factor every gradient of a
    network of scalar weights carries (`_scalar_scale`), at which the slope's reading counts too."""
    measured = _measure(name, line, value, forward, loss_moved, base_loss, rng)
    kept = _untied(forward) if measured.inconclusive else None
    if kept is not None:
        # a kink where the forward value ties (a max over a row of ReLU zeros): the entries that tie nothing are compared
        untied = _measure(name, line, value, forward, loss_moved, base_loss, rng, kept=kept)
        if untied.inconclusive:
            return measured
        measured = untied
    if measured.wrong:
        for activation, slope in slopes(forward) or _number_slopes(forward):
            retried = _measure(name, line, value, forward, lambda d, s=slope: loss_moved(d * s), base_loss, rng, kept=kept)
            at_scale = scale is not None and retried.single and retried.factor is not None and abs(retried.factor / scale - 1) <= retried.tolerance
            if (not retried.wrong or at_scale) and not retried.unused:
                retried.through = activation
                return retried
    return measured


def _untied(forward: Any) -> np.ndarray | None:
    """The entries of an activation whose value no other entry has, when some have one another's: a max (a
    max-pool, a maxout) of entries that tie has a kink there, so a central difference across them says nothing
    (the ReLU zeros of a dead row); at the entries that tie nothing the max is smooth. None when no entry
    ties, or every one does."""
    if not isinstance(forward, np.ndarray) or forward.dtype.kind != "f" or forward.size < 2:
        return None
    _, inverse, counts = np.unique(forward, return_inverse=True, return_counts=True)
    kept = (counts[inverse] == 1).reshape(forward.shape)
    return kept if kept.any() and not kept.all() else None



def replay_step(capture: Capture, path: str, seed: int = 0, budget: float = 10.0, curve: bool = False, measure: bool = True) -> StepResult:
    """`_replay_step`, with the updates whose gradients hold the same values at both passes the capture
    read (`stale_gradients`): computed once, before the loop."""
    from backprop_doctor.replay.stale_gradients import stale

    result = _replay_step(capture, path, seed, budget, curve, measure)
    result.stale = stale(capture)
    result.scaled = list(capture.scaled or (capture.earlier.scaled if capture.earlier is not None else []))
    return result


def _replay_step(capture: Capture, path: str, seed: int = 0, budget: float = 10.0, curve: bool = False, measure: bool = True) -> StepResult:
    """Measure every parameter the captured step moved, and the adjoints when one is wrong.

    `curve`: also run the loop itself for the program's own loss curve; `measure=False` skips
    the measurements (an earlier stage already found a gradient wrong) and keeps the curve.

    A loop that computes its forward pass at the end of each pass (`static.steps._rotated`) is
    replayed that way too when a gradient disagrees; the reading under which more updates follow
    the loss is the program's."""
    result = _replay(capture, path, seed, budget, curve, measure)
    if capture.window and any(m.wrong or m.unused for _, m in result.parameters):
        # an update that runs on some passes only (`if i % 2 == 0:`) without summing what the others computed
        # reads its own pass's gradient: the window's last pass alone is then the step, if more updates follow it
        alone = _replay(
            dataclasses.replace(capture, last_pass_only=True, program_loss=capture.window_losses[-1] if capture.window_losses else None),
            path, seed, budget, curve, measure,
        )  # fmt: skip
        if _followed(alone.parameters) > _followed(result.parameters):
            alone.window = 1
            return alone
    earlier = capture.earlier
    if earlier is not None and earlier.state is not None and _rose(earlier.program_loss, capture.program_loss) and _unsettled(result):
        # the first update already made the loss larger, and the second pass starts from weights that one
        # step threw far out (saturated, overflowing, on a kink): the first pass is where the step went wrong
        result = _replay(earlier, path, seed, budget, curve, measure)
    elif earlier is not None and earlier.state is not None and _fitted_away(result):
        # the first update fitted the batch (a learnable synthetic set at a large rate): at the second pass the
        # loss is at rounding level and so is every gradient, which no finite difference can judge
        first = _replay(earlier, path, seed, budget, curve, measure)
        if first.loss_value is not None and _finite(first.loss_value) and abs(result.loss_value or 0.0) < VANISHED * abs(first.loss_value):
            result = first
    rotated = capture.step.rotated
    if rotated is None or not any(m.wrong or m.unused for _, m in result.parameters):
        return result

    def turned(c: Capture) -> Capture:
        earlier = turned(c.earlier) if c.earlier is not None else None
        return dataclasses.replace(c, step=rotated, program_loss=None, earlier=earlier)  # its loss was read before the pass's forward

    again = _replay(turned(capture), path, seed, budget, curve, measure)
    return again if _followed(again.parameters) > _followed(result.parameters) else result


def _watched_loss(runner: Runner) -> tuple[float | None, list[tuple[Any, str, Any]]]:
    """The step's loss once more, with the arrays the step's functions (and the loop's own statements,
    inside a function) hold watched for probabilities normalised over the whole batch: a softmax
    written inline (`probs = exp_scores / np.sum(exp_scores)`), for `checks/softmax_not_per_row.py`."""
    from backprop_doctor.locate import arrays_assigned
    from backprop_doctor.probes import softmax_over_batch

    return arrays_assigned(runner.loss, softmax_over_batch)


def _one_sample(capture: Capture, site: LossSite | None) -> bool:
    """Whether the loss reads the items the step's `for` loop binds and every one is a number where the pass
    starts (`for x1, x2, t in data:` of a network of scalar weights): each pass's loss is one sample's,
    and a curve of them goes up and down with the samples, not with the steps."""
    loop = capture.step.loop
    if site is None or not isinstance(loop, ast.For) or capture.state is None or capture.step.loopless:
        return False
    try:
        read = {n.id for n in ast.walk(ast.parse(site.expression, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return False
    items = [n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name) and n.id in read]
    values = capture.state.values
    return bool(items) and all(
        name in values and not isinstance(values[name], np.ndarray) and number(values[name]) is not None for name in items
    )  # fmt: skip


def _followed(parameters: list[tuple[Moved, Measured]]) -> tuple[int, int]:
    """How many updates follow the gradient of the loss (a kink that left one unjudged does not
    count); then, fewer the loss does not move with at all (a reading that misses the forward pass)."""
    return (
        sum(1 for _, m in parameters if not (m.wrong or m.unused or m.inconclusive)),
        -sum(1 for _, m in parameters if m.unused),
    )


SKIPPED_PASSES = 20  # a loop whose update runs in fewer than one pass in this many is one that hardly updates


def _replay(capture: Capture, path: str, seed: int, budget: float, curve: bool, measure: bool) -> StepResult:
    earlier = capture.earlier
    if earlier is not None and earlier.state is not None and capture.program_loss is not None and not _finite(capture.program_loss):
        # one update already took the loss to inf or nan (the first pass is the step to check), or the
        # loss was never a number (the first pass is where it first went wrong)
        capture = earlier
    elif earlier is not None and earlier.state is not None and _widens(earlier):
        capture = earlier  # the first update turned a parameter into its gradient's larger shape: judged before it did
    result = StepResult(capture.step, program_loss=capture.program_loss, window=len(capture.window) + 1)
    started = time.perf_counter()
    spending = Deadline(budget)
    if capture.state is None:
        result.why = capture.why or "the training loop never ran"
        return result
    if not capture.moved:
        result.why = "no update's gradient could be read where it ran"
        first = capture.first_update
        if (first if first is not None else capture.starts) >= SKIPPED_PASSES:
            # the loop ran on for that many passes before an update statement ran (or to its end without one)
            result.skipped = (first if first is not None else capture.starts, first is not None)
        return result
    capture.moved = folded(capture.moved)  # `W -= lr * lam * np.sign(W)` beside `W -= lr * dW`: one step of W
    runner: Runner | None = None
    try:
        runner = result.runner = Runner(capture, path)
        result.views = {name: view.owner for name, view in capture.state.views.items()}
        base_namespace = dict(runner.run())  # a copy: a module-level step runs in the program's own namespace, which every run changes
        base_loss = runner.loss_of(base_namespace)
        result.step_seconds = time.perf_counter() - started
        if (runner.loss_site is None or runner.loss_site.implied) and earlier is not None and earlier.state is not None and earlier.moved and capture is not earlier and runner.own_loss_lost(base_namespace):
            # the program's loss, written after its update, is inf or NaN at the second pass: the first update threw the
            # parameters out, and the first pass is the step to judge, against that loss
            return _replay(earlier, path, seed, max(budget - spending.spent(), 0.0), curve, measure)
        if spending.spent() * REPLAY_RUNS > budget:
            # a step that computes its gradient numerically (the book's chapter 4) takes seconds: run
            # again the times a replay needs, it would take the whole check's time, not the run budget
            result.why = (
                f"one pass of the step takes {result.step_seconds:.1f} s, too long to run again the {REPLAY_RUNS} times "
                f"a replay needs within the run budget ({budget:g} s)"
            )
            return result
        first = next((v for v in (base_loss, capture.program_loss) if v is not None and not _finite(v)), None)
        if first is not None:
            # NaN or inf before any update: the forward pass itself, at the line that first made it
            from backprop_doctor.replay.curve import first_non_finite

            result.loss, result.loss_value, result.curve = runner.loss_site, first, [first]
            result.non_finite = first_non_finite(runner, steps=1)
            if result.non_finite is None:
                result.why = "the step's loss is not a number before any update"
            return result
        if base_loss is None:
            result.why = "the step computes no loss that could be read"
            return result
        again, result.batch_normalised = _watched_loss(runner)
        if again != base_loss or (capture.program_loss is not None and not _close(capture.program_loss, base_loss)):
            result.why = "the step did not give the same loss when run again"
            return result
        guards = watched(lambda: runner.loss_of(runner.run()))
        if guards.effect > GUARD_DOMINATES and earlier is not None and earlier.state is not None and earlier.moved and capture is not earlier:
            # the first update saturated the scores (a step far too large): at the second pass the log's guard,
            # not the program's gradient, sets the loss's slope, so the step is judged before that update
            return _replay(earlier, path, seed, max(budget - spending.spent(), 0.0), curve, measure)
        if guards.effect > GUARD_NEGLIGIBLE:
            # the book's `np.log(y + 1e-7)` where a probability is near 1e-7: the gradient is the loss's without it
            runner.guards = Guards(lift=True, constants=guards.constants)
            base_namespace = dict(runner.run())
            base_loss = runner.loss_of(base_namespace)
            runner.log_guard, result.guard_lifted = runner.guards.effect, True
            if base_loss is None:
                result.why = "the step computes no loss that could be read"
                return result
        result.loss, result.loss_value = runner.loss_site, base_loss
        result.batch_sizes = _batch_sizes(capture, base_namespace, source_tree(runner.path)[1])
        if runner.loss_site is not None and runner.loss_site.totalled is not None:
            # a running total of the terms a loop of the pass adds up (`total += l`): a mean over them divides by their count
            with contextlib.suppress(Exception):  # an iterable that cannot be made again has no count to give
                terms = len(eval(runner.loss_site.totalled, dict(base_namespace)))  # noqa: S307 - the user's own expression
                if terms > 1 and terms not in result.batch_sizes:
                    result.batch_sizes = tuple(sorted((*result.batch_sizes, terms)))
        result.data_sizes = _data_sizes(capture, base_namespace)
        deadline = spending  # on the budget clock (`observe.budget`), since the replay started
        candidates = [runner.loss_site] if measure else []
        if measure and runner.loss_site is not None and runner.loss_site.implied:
            candidates = list(dict.fromkeys(s for s in (*capture.step.losses, *capture.step.other_losses) if s.implied))
        sampled = sampled_estimates(source_tree(runner.path)[1], capture.step) if measure else Sampled()
        if any(not sampled.judged(runner.loss_site, moved.site) for moved in capture.moved):
            # `policy_gradient(theta, S, acts, adv)` beside the file's `surrogate_loss(theta, S, acts, adv)`: the loss it
            # is written for, at the actions the pass drew, tried first (the program may only print a regret)
            candidates = [*sampled.twins, *candidates]
        best: tuple[tuple[int, float], list[tuple[Moved, Measured]], LossSite | None, float] | None = None
        # the numbers the step reads, and the module's (`m, n = data.shape` read by the `backward_prop` it calls): the
        # factors a program may carry, the same for every candidate loss
        held = {**(capture.namespace or {}), **runner.state.values}
        for site in candidates:
            runner.loss_site = site
            loss = runner.loss_of(runner.run()) if site is not result.loss else base_loss  # a fresh run: objects the step changes hold its last run
            if loss is None:
                continue
            rng = np.random.default_rng(seed)
            measured_all = []
            for moved in capture.moved:
                if deadline.passed():
                    break
                unscaled = site is not None and (site.implied or not site.in_prefix) and not site.paired  # its scale is the program's (`_program_scale`)
                # a running sum's term (`total += err ** 2`) is often followed as its half (`P[u] += lr * err * Q[i]`)
                halved = (0.5,) if site is not None and site.accumulated else ()
                measured = _parameter(runner, moved, loss, rng, scales=(1.0, *halved, *(1.0 / n for n in result.batch_sizes if n > 1)) if unscaled else (1.0,))
                if measured is not None:
                    measured_all.append((moved, measured))
            if site is not None and (site.implied or not site.in_prefix) and not site.paired:
                averaged = _averaged(runner, site)
                _program_scale(
                    measured_all,
                    lambda f, averaged=averaged: _programs_factor(f, result.batch_sizes, held) and not (averaged and _mean_over_again(f, result.batch_sizes) is not None),
                    layered=lambda f, averaged=averaged: not averaged and any(abs(f * n - 1) <= COMMON for n in result.batch_sizes if n > 1),
                )
            scale = next((m.scale for _, m in measured_all if m.scale is not None), 1.0)
            if scale != 1.0:  # a penalty in the update, at the scale the other parameters showed (a mean over a summed loss)
                measured_all = [(moved, _decayed_at_scale(runner, moved, m, loss, rng, scale)) for moved, m in measured_all]
            # ties: the scale nearest 1, or 1 over the batch (an implied loss is a sum, a program's often a mean)
            distance = min([abs(math.log(scale))] + [abs(math.log(scale * n)) for n in result.batch_sizes if scale > 0])
            followed, unused = _followed(measured_all)
            # a gradient that is the loss's plus what the step began with (never reset) fits this loss too
            score = (followed + sum(1 for _, m in measured_all if m.accumulated is not None), unused, -distance)
            if best is None or score > best[0]:
                best = (score, measured_all, site, loss)
        if best is not None:
            _, result.parameters, result.loss, result.loss_value = best
            runner.loss_site = result.loss
            if any(not sampled.judged(result.loss, moved.site) for moved, _ in result.parameters):
                # a gradient estimated from actions drawn from the policy (REINFORCE) is the gradient of no loss the
                # program computes without those draws (a regret on other states): named, not judged
                result.sampled = [m.name for moved, m in result.parameters if not sampled.judged(result.loss, moved.site)]
                result.sampled_at = sampled.line
                result.parameters = [(moved, m) for moved, m in result.parameters if sampled.judged(result.loss, moved.site)]
                if not result.parameters:
                    result.why = "the gradient its updates apply is estimated from actions drawn from the policy, the gradient of no loss the program computes"
            result.mean_loss = result.loss is not None and _averaged(runner, result.loss)
            result.one_sample = _one_sample(capture, result.loss)
            base_loss = result.loss_value
            if result.loss is not None and result.loss.implied and best[0][0] == 0:
                result.unfitted = [m.name for _, m in result.parameters]  # named, not judged: the loss was only guessed
                result.parameters = []  # no implied loss fits any update: no gradient can be called wrong
                result.why = "the program computes no loss, and no usual loss fits its gradients"
            elif _climbs(result.parameters, base_loss):
                # every update climbs `c = cost(T, Y)`, a log-likelihood (never above 0): the program maximises
                # it, by gradient ascent; its gradients are judged as the ascent's
                runner.sign = -1.0
                base_loss = runner.loss_of(base_namespace) or -base_loss
                result.maximised, result.loss_value = True, base_loss
                rng = np.random.default_rng(seed)
                result.parameters = [(moved, m) for moved in capture.moved if (m := _parameter(runner, moved, base_loss, rng)) is not None]
        from backprop_doctor.replay.symmetry import symmetric_weights

        result.symmetric = symmetric_weights(capture.moved)
        result.zero_start = _zero_start(capture)
        rng = np.random.default_rng(seed + 1)
        result.clipped = _clipped(capture.step, result, source_tree(runner.path)[1])
        result.owners = _owners(capture, result)
        result.still = _still(capture.moved, result.loss_value)
        if result.parameters and not result.clipped:
            from backprop_doctor.replay.data_size import data_sized

            result.data_sized = data_sized(result, base_namespace)
            batch = _mean_over_again(result.common_factor, result.batch_sizes) if result.mean_loss and result.common_factor is not None else None
            if result.data_sized is None and batch is not None:
                from backprop_doctor.replay.data_size import divided_twice

                result.divided_twice = divided_twice(result, base_namespace, batch)
        _walk_wrong(runner, capture, result, base_namespace, base_loss, rng, seed, deadline)
        if curve:
            from backprop_doctor.replay.clip_tight import clip_factor_tiny, norm_clip_tight
            from backprop_doctor.replay.curve import falls_in_its_own_passes, own_curve, rises, stalls, stalls_through_noise

            watch: dict[str, list[Any]] = {name: [None, None] for name, _ in capture.step.relus}
            result.curve = own_curve(runner, watch=watch)
            if not result.wrong:
                from backprop_doctor.replay.curve import dead_units

                lines = dict(capture.step.relus)
                widths = {size for moved in capture.moved for size in np.shape(moved.value)}
                found = [dead_units(n, lines[n], first, last, widths) for n, (first, last) in watch.items() if last is not None]
                result.dead = [d for d in found if d is not None]
            if rises(result.curve, result.terms) and not result.wrong and all(math.isfinite(v) for v in result.curve):
                from backprop_doctor.replay.curve import walked

                with contextlib.suppress(Exception):  # no reading of the walked data takes nothing from the curve
                    result.walked = walked(runner, capture.moved)
            if rises(result.curve, result.terms) and not result.wrong and not result.steady:
                result.smaller_rate = _rate_that_works(runner, capture, (0.1, 0.01, 0.001))
                if result.smaller_rate is not None and _lower_between_spikes(result.curve, result.smaller_rate[3]):
                    result.smaller_rate = None
                if (summed := _summed_against_mean(result)) is not None:
                    # every gradient is the batch size times the mean loss's, and the loop's loss rises at its rate: the
                    # missing division, not the rate, is what to change; judged at the mean from here on
                    for _, measured in result.parameters:
                        measured.scale = None
                    result.smaller_rate, result.data_sized, result.summed_over_mean = None, None, summed
                    _walk_wrong(runner, capture, result, base_namespace, base_loss, np.random.default_rng(seed + 1), seed, deadline)
                if result.smaller_rate is None and not result.wrong and not all(math.isfinite(v) for v in result.curve):
                    from backprop_doctor.replay.curve import first_non_finite

                    result.non_finite = first_non_finite(runner)
                    if result.non_finite is not None:
                        from backprop_doctor.replay.init_scale import smaller_init

                        result.smaller_init = smaller_init(runner, capture, path, source_tree(runner.path)[1], result.terms)
            elif (stalls(result.curve, result.terms) or stalls_through_noise(result.curve, result.terms)) and not result.wrong and not result.maximised and not falls_in_its_own_passes(runner):
                from backprop_doctor.replay.clip_tight import tight_clip

                result.tight_clip = tight_clip(runner, capture.moved, deadline) or norm_clip_tight(runner, result, deadline)  # the clip, not the rate, sets every step
                if result.tight_clip is None:
                    result.larger_rate = _rate_that_works(runner, capture, (10.0, 100.0))
            elif clip_factor_tiny(result):  # a norm clip lets a tiny share of every gradient through: the loss creeps
                result.tight_clip = norm_clip_tight(runner, result, deadline)
            if _unexplained(result):
                from backprop_doctor.replay.curve import tiny_batch

                result.tiny = tiny_batch(runner, capture.moved)
                if result.tiny is not None and result.tiny.judged and not result.tiny.fitted:
                    from backprop_doctor.replay.init_scale import larger_init

                    result.tiny.larger_init = larger_init(runner, capture.moved, source_tree(runner.path)[1])
                    if result.tiny.larger_init is None:  # weights drawn too small come first: a larger rate only makes up for them
                        result.tiny.faster = _tiny_rate(runner, capture)
                    if not result.tiny.mean_only:  # a loss that falls only as far as the targets' mean is no fit of the data
                        from backprop_doctor.replay.curve import fits_in_its_own_passes

                        result.tiny.own_fit = fits_in_its_own_passes(runner)
            if result.wrong and result.curve:
                from backprop_doctor.replay.curve import corrected_curve

                with contextlib.suppress(Exception):  # a curve that cannot be drawn takes nothing from the measurements
                    result.corrected = corrected_curve(runner, [m for m, _ in result.parameters])
    except NotReplayable as error:
        result.why = str(error)
    except Exception as error:  # noqa: BLE001 - the user's statements raised when run again
        result.why = f"the step raised when run again ({type(error).__name__}: {error})"
        if own_fault(error):
            result.crashed = error  # backprop-doctor's own code raised: a bug of the tool, reported as one
    result.runs = runner.runs if runner is not None else 0
    result.seconds = time.perf_counter() - started
    return result


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ON_BEHALF = (os.path.join(_PACKAGE, "observe", ""), os.path.join(_PACKAGE, "replay", "standin.py"))  # sandbox, stand-ins: raise for the program


def _walk_wrong(
    runner: Runner, capture: Capture, result: StepResult, namespace: dict[str, Any], base_loss: float, rng: np.random.Generator, seed: int, deadline: Deadline
) -> None:
    """Walk the adjoints of a step with a wrong gradient, for the statement that makes it wrong."""
    # a count the gradients are divided by is their cause, or an L2 term's factor that the loss's penalty disagrees with
    # (`2 * reg * W1` beside `0.5 * reg * ΣW1²`): nothing to walk for (the data's adjoints leave that penalty out by design)
    penalty_terms = bool(result.wrong) and all(m.penalty_factor is not None for _, m in result.wrong)
    if result.wrong and result.data_sized is None and result.divided_twice is None and not penalty_terms:
        if runner.window:  # an adjoint is read in the window's last pass, and moved there: that pass's loss is its
            runner.last_pass_only = True
            _walk_adjoints(runner, capture, result, namespace, runner.loss_of(namespace) or base_loss, rng, deadline)
            runner.last_pass_only = False
        else:
            _walk_adjoints(runner, capture, result, namespace, base_loss, rng, deadline)
        if result.first_wrong_adjoint is None and not deadline.passed():
            result.left_out = _left_out(runner, result, namespace, base_loss, rng)
        if result.left_out is None and not deadline.passed():  # also beside a wrong adjoint: the output error it starts from
            result.other_loss = _other_loss(runner, capture, result, seed, deadline)
        _blame_updates(result)


SUMMED_FACTOR = 0.05  # a scale within this of a batch size is that batch size


def _summed_against_mean(result: StepResult) -> int | None:
    """Whether the scale every gradient was judged at (`_program_scale`: a loss the loop only reports fixes
    none) is the batch size, over a loss the program writes as a mean, where its own loss rises at its rate
    (the caller's condition): the gradients of the sum under a mean's learning rate (`dlogits = xhat - x`
    where the loss is `per_example.mean()`). A program that trains at that scale keeps it (a summed loss
    and a rate small enough for it is a convention); one whose loss rises is missing the division, the
    statement the gradients start from the one to change rather than the rate. The batch size, or None."""
    if not result.parameters or result.wrong or result.clipped or result.maximised or not result.mean_loss:
        return None
    if result.loss is None or result.loss.implied or not (result.curve and result.curve[0] == result.curve[0]):
        return None
    judged = [m for _, m in result.parameters if not (m.unused or m.inconclusive)]
    scales = {m.scale for m in judged}
    if len(judged) < 2 or len(scales) != 1:
        return None
    (scale,) = scales
    if scale is None or scale <= 1:
        return None
    sizes = [int(n) for n in result.batch_sizes if n > 1 and not hasattr(n, "of") and abs(scale / n - 1) <= SUMMED_FACTOR]
    if len(sizes) != 1 or not all(m.proportional and m.factor is not None and abs(m.factor / sizes[0] - 1) <= SUMMED_FACTOR for m in judged):
        return None
    return sizes[0]


def own_fault(error: BaseException) -> bool:
    """Whether `error` was raised by backprop-doctor's own code (its innermost frame is in the package,
    outside the sandbox and the stand-ins, which raise on the program's behalf), not by the user's
    statements, NumPy or another library they call."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    file = os.path.abspath(tb.tb_frame.f_code.co_filename)
    return file.startswith(os.path.join(_PACKAGE, "")) and not file.startswith(_ON_BEHALF)


def _unexplained(result: StepResult) -> bool:
    """Every gradient is right and no other training finding has a reason for the curve (a rate that
    works, a non-finite value, dead units, lost updates, symmetric weights): a few samples are then
    fitted with the program's own step, `curve.tiny_batch`, the script's `cannot-overfit`."""
    return bool(
        result.curve and result.parameters and not result.wrong and not result.still and not result.lost and not result.symmetric
        and result.smaller_rate is None and result.larger_rate is None and result.tight_clip is None and result.non_finite is None
        and not any(d.dead_last * 2 > d.units for d in result.dead) and _layered([m for m, _ in result.parameters])
    )  # fmt: skip


def _layered(moved: list[Moved]) -> bool:
    """The step trains a network with a hidden layer: two of its weight arrays chain (one's output
    size is the other's input size, `W1 (5, 32)` then `W2 (32, 1)`, or the same in columns), or it
    has six scalar weights or more (`w1` ... `w8`). A linear model (logistic regression, a softmax
    classifier) cannot memorise five samples of overlapping classes, so it is never asked to."""
    shapes = [np.shape(m.value) for m in moved if np.ndim(m.value) == 2 and (np.size(m.value) > 1 or not _bias_like(m))]
    chained = any(
        (a[1] == b[0] or b[1] == a[0]) and max(a + b) > 1  # a (1, 1) weight after a (2, 1) one: a hidden layer of one unit
        for i, a in enumerate(shapes) for b in shapes[i + 1 :]
    )  # fmt: skip
    # an output weight kept as a vector (`W2 = rng.normal(0, 0.3, 16)`, `p = sigmoid(H @ W2 + b2)`) after `W1 (2, 16)`
    vectors = {np.size(m.value) for m in moved if np.ndim(m.value) == 1 and np.size(m.value) > 1 and not _bias_like(m)}
    return chained or any(shape[1] in vectors for shape in shapes) or sum(np.ndim(m.value) == 0 for m in moved) >= 6


def _bias_like(moved: Moved) -> bool:
    """A parameter named as a bias (`b2`, `bias`, `self.b_out`, `params['b1']`): a (1, 1) one is a
    linear model's intercept, not a weight of one hidden unit."""
    name = describe(moved.path) if moved.path is not None else moved.site.update.target
    last = re.split(r"[^\w]+", name.strip("]'\""))[-1] if name else ""
    return bool(re.fullmatch(r"(?i)b\w*|\w*bias\w*", last))


FIRST_RISE = 1.1  # the loss after the first update this many times the loss before it: that update is the one to judge


def _other_loss(runner: Runner, capture: Capture, result: StepResult, seed: int, deadline: Any) -> LossSite | None:
    """A usual loss (`TrainingStep.other_losses`: the quadratic cost of the network's output, a
    cross-entropy) that every update's gradient is right for, when each is wrong for the loss the
    program computes: the backward pass starts from another loss's output error (Nielsen's
    `cost_derivative(a, y) * sigmoid_prime(z)` under a cross-entropy cost). The runner's loss is
    put back."""
    if result.loss is None or result.loss.implied or len(result.wrong) != len(result.parameters) or not capture.step.other_losses:
        return None
    if result.loss.paired:
        return None  # `compute_cost(theta, X, y)` beside `compute_gradient(theta, X, y)`: the user's own pair, a gradient of it wrong at its line
    if on_other_samples(capture.step, result.loss):
        return None  # `net.loss(X2, y2)` beside `net.train_step(data[idx], labels[idx], lr)`: another function of the parameters, not another loss
    kept = runner.loss_site
    try:
        for site in capture.step.other_losses:
            runner.loss_site = site
            loss = runner.loss_of(runner.run())
            if loss is None:
                continue
            rng = np.random.default_rng(seed)
            measured = []
            for moved in capture.moved:
                if deadline.passed():
                    return None
                m = _parameter(runner, moved, loss, rng, scales=(1.0, *(1.0 / n for n in result.batch_sizes if n > 1)))
                if m is not None:
                    measured.append((moved, m))
            _program_scale(measured, lambda f: _programs_factor(f, result.batch_sizes, runner.state.values))
            if measured and len(measured) == len(result.parameters) and not any(m.wrong or m.unused or m.inconclusive for _, m in measured):
                return site
    finally:
        runner.loss_site = kept
    return None


def _unsettled(result: StepResult) -> bool:
    """A replay that could not judge every update: one inconclusive (a kink, a saturated slope), a
    loss that stops being a number, or no measurement at all."""
    return result.non_finite is not None or not result.parameters or any(m.inconclusive for _, m in result.parameters)


VANISHED = 1e-6  # a loss this small, and this much smaller than the first pass's: fitted away by the first update


def _fitted_away(result: StepResult) -> bool:
    """A replay that judged an update wrong, or fitted no usual loss, at a loss that is all but 0."""
    judged = bool(result.unfitted) or any(m.wrong for _, m in result.parameters)
    return judged and result.loss_value is not None and _finite(result.loss_value) and abs(result.loss_value) < VANISHED


def _rose(before: float | None, after: float | None) -> bool:
    return before is not None and after is not None and _finite(before) and _finite(after) and before > 0 and after > FIRST_RISE * before


def _widens(capture: Capture) -> bool:
    """Whether an update of the pass broadcasts a parameter up to its gradient's larger shape (a bias
    gradient not summed over the samples)."""
    for moved in capture.moved:
        try:
            base = resolve(capture.state.values, moved.path) if moved.path is not None and capture.state is not None else None
        except Exception:  # noqa: BLE001 - a path the state does not hold
            continue
        if base is not None and _widens_parameter(base, moved.gradient):
            return True
    return False


def _widens_parameter(base: Any, gradient: Any) -> bool:
    """Whether `p -= lr * g` turns the parameter into the gradient's larger shape (a (10, 1) bias with a
    (10, 200) gradient becomes (10, 200))."""
    if np.size(gradient) <= np.size(base):
        return False
    try:
        return np.broadcast_shapes(np.shape(base), np.shape(gradient)) == np.shape(gradient)
    except ValueError:
        return False


def _zero_start(capture: Capture) -> bool:
    """Whether every parameter the step moves is zero where it starts, and every array one is an entry
    of (`self.w1[c]`, a row of an embedding: the whole embedding)."""
    for moved in capture.moved:
        value = moved.value
        if moved.path is not None and len(moved.path) > 1 and moved.path[-1][0] == "item" and capture.state is not None:
            try:
                value = resolve(capture.state.values, moved.path[:-1])
            except (KeyError, AttributeError, IndexError, TypeError):
                return False
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc" or np.any(value):
            return False
    return bool(capture.moved)


def _still(moved: list[Moved], loss: float | None) -> bool:
    """Whether the first step's updates could not move the loss anyway: the decrease they promise
    to first order, rate · Σ g², is below the loss's own rounding (every gradient 0, a rate of 0,
    zero-initialised weights whose only gradient is a bias's 1e-17)."""
    promised = 0.0
    for m in moved:
        try:
            squares = float(np.sum(np.square(np.asarray(m.gradient, dtype=np.float64))))
        except (TypeError, ValueError):
            return False
        promised += (m.rate if m.rate is not None else 1.0) * squares
    return not promised > 1e-12 * max(abs(loss or 0.0), 1.0)


def _owners(capture: Capture, result: StepResult) -> dict[str, tuple[str, str]]:
    """For each compared parameter held by an object (`clf.W1`, `net.params['W1']`), the object's
    class and the name it holds it under, so that a layer check of that class can be set beside it."""
    owners = {}
    for moved, measured in result.parameters:
        path = moved.path or ()
        if len(path) < 2 or path[-1][0] not in ("attr", "item"):
            continue
        holder = path[:-2] if path[-1][0] == "item" and len(path) >= 3 and path[-2][0] == "attr" else path[:-1]
        try:
            owner = resolve(capture.state.values, holder) if capture.state is not None else None
        except (KeyError, AttributeError, IndexError, TypeError):
            continue
        if owner is not None and not isinstance(owner, (dict, list, tuple, np.ndarray)):
            owners[measured.name] = (type(owner).__name__, str(path[-1][1]))
    return owners


def _walk_adjoints(
    runner: Runner, capture: Capture, result: StepResult, namespace: dict[str, Any], base_loss: float, rng: np.random.Generator, deadline: Deadline
) -> None:
    """Measure the step's adjoints from the loss backwards, up to the first wrong one.

    The loop's own (`dz1` in a script) come first, then those inside the functions it calls (`dZ1`
    in `backward`). Programs often differentiate the *summed* loss and divide by the batch size only
    in the parameters' gradients (`dZ2 = A2 - Y`, `dW2 = dZ2 @ A1.T / m`): an adjoint that a right
    gradient is computed from sets the scale the later ones are judged at.
    """
    scale = runner.scalar_scale = _scalar_scale(result)  # a network of scalar weights: its adjoints carry its parameters' one factor
    try:
        _walk(runner, capture, result, namespace, base_loss, rng, deadline, scale)
    finally:
        runner.scalar_scale = None


def _scalar_scale(result: StepResult) -> float | None:
    """The one factor (not 1) every parameter the loss follows was right at, when every parameter is one
    number: a network of scalar weights whose loss carries a constant its gradients leave out (`(o - t) ** 2`
    beside `d_o = (o - t) * o * (1 - o)`). Such a network has no batch to divide by later: its adjoints carry
    the same factor."""
    followed = [m for _, m in result.parameters if not (m.wrong or m.unused or m.inconclusive)]
    if not followed or any(np.size(moved.value) != 1 for moved, _ in result.parameters):
        return None
    scales = {m.scale for m in followed}
    if len(scales) != 1:
        return None
    (found,) = scales
    return found if found is not None and found > 0 and found != 1.0 else None


def _walk(
    runner: Runner, capture: Capture, result: StepResult, namespace: dict[str, Any], base_loss: float, rng: np.random.Generator, deadline: Deadline,
    scale: float | None,
) -> None:
    # a loss only guessed (the program computes none) has the scale the program's gradients showed (`_program_scale`):
    # an adjoint named exactly for the value it differentiates (`dHd` of `Hd`) is judged at it
    implied = next((m.scale for _, m in result.parameters if m.scale), None) if result.loss is not None and result.loss.implied else None
    step = capture.step
    from backprop_doctor.replay.through_time import renamed_series, walk_through_time

    tree = source_tree(runner.path)[1]
    series: list[Any] = []

    values: list[dict[str, Any]] = []
    shared: float | None = None  # the parameters' shared factor, when the walk went past a deferred mean on it alone

    def held() -> dict[str, Any]:  # the numbers the step reads, and the module's: the factors the program may carry
        if not values:
            values.append({**(capture.namespace or {}), **runner.state.values})
        return values[0]

    def over_time() -> list[Any]:  # the walk's adjoints through time, read once, when first needed
        if not series:
            series.append([*step.time, *renamed_series(tree, step.prefix, step.time)])
        return series[0]

    for adjoint in [*step.adjoints, *step.inner]:
        if deadline.passed():
            break
        if isinstance(adjoint, InnerAdjoint):
            try:
                measured = _inner_adjoint(runner, adjoint, base_loss, rng)
            except NotReplayable:
                continue  # its forward value cannot be moved where it is computed: not judged
        else:
            adjoint = _resolved(adjoint, namespace)
            measured = _adjoint(runner, adjoint, namespace, base_loss, rng)
        if measured is None:
            continue
        if measured.wrong and scale is None and implied is not None and _named_for(adjoint.name, adjoint.forward):
            measured.scale, measured.exact_scale = implied, True
        if measured.wrong and scale is not None:
            measured.scale, measured.exact_scale = scale, True
            measured.argument = measured.argument or _swap_right(measured.swapped, scale)
        if isinstance(adjoint, InnerAdjoint) and _parameters_own(measured, result):
            continue  # a parameter's data term, the penalty's added after it: the parameter's own measurement judges the sum
        if measured.wrong:
            # a scale of it (`dZ2 = A2 - Y` of the summed loss): one number tells; not a "scale" of 1, which is an error in a few entries
            shape = () if measured.proportional and not _about_one(measured.factor) else measured.shape
            contradicted = (
                _inner_contradicted(adjoint, result, shape) if isinstance(adjoint, InnerAdjoint) else _contradicted(step, adjoint, result, shape)
            )
            if contradicted:  # a right gradient is computed from it: its name says more than it is (`dh` zeroed into dz)
                if scale is None and measured.proportional and measured.factor is not None:
                    scale = measured.factor
                continue
            # (in the loop's own statements too when every parameter climbs: no right gradient for `_contradicted` to read,
            # and a flip after the adjoint, in the update, is what climbs)
            if scale is None and (isinstance(adjoint, InnerAdjoint) or _returned_by_a_call(step, adjoint) or every_parameter_climbs(result)) and _deferred_mean(measured, result, held()):
                scale = measured.factor  # `dAL` of the summed loss, the 1/m taken in `linear_backward`: the later ones at that scale
                result.deferred = result.deferred or (adjoint, measured)
                if not any(not m.wrong and not m.unused and not m.inconclusive for _, m in result.parameters):
                    shared = _shared_by_most(result, held())  # no parameter right but at the factor most share
                continue
        if measured.wrong and not isinstance(adjoint, InnerAdjoint) and not deadline.passed():
            # `loss, dz = focal_loss(z, y)`: the function the statement calls computes it, from the loss
            # backwards; its own first wrong adjoint is the line to fix
            inside = _walk_callee(runner, _called_by(step, adjoint), base_loss, rng, deadline, result)
            if inside:
                result.adjoints += inside
                if inside[-1][1].wrong:
                    return
        if measured.wrong and isinstance(adjoint, InnerAdjoint) and not deadline.passed():
            # `dh0 = dprev_h` after a backward loop over time (or returned by the function holding it): the loop's
            # adjoints come before it, from the loss backwards
            before = [a for a in over_time() if a.loop is not None and carried_out_of(tree, a.loop, adjoint.adjoint, adjoint.reads)]
            if before:
                result.adjoints += walk_through_time(runner, before, base_loss, rng, deadline, measure_adjoint)
        result.adjoints.append((adjoint, measured))
        if measured.wrong:
            if shared is not None:
                # wrong beyond the factor the walk passed: the parameters at the factor most share are right at the
                # program's scale (a rate folded into the step), and the others are the ones this adjoint makes wrong
                for _, m in result.parameters:
                    m.scale = shared
                    if (m.single or m.proportional) and m.factor is not None and abs(m.factor / shared - 1) <= COMMON:
                        m.proportional = True
            return
    if not deadline.passed() and over_time():
        result.adjoints += walk_through_time(runner, over_time(), base_loss, rng, deadline, measure_adjoint)


def _about_one(factor: float | None) -> bool:
    """A factor two directions agree on that is 1 within their agreement: no scale, the array is wrong otherwise
    (`dS = -2 * Y * (1 - Y * S) / N`, the `max(0, .)` left out in a few of its entries)."""
    return factor is not None and abs(factor - 1.0) <= PROPORTIONAL


def _named_for(adjoint: str, forward: str) -> bool:
    """`dHd` of `Hd`, `d_h` of `h`, `grad_z` of `z`: an adjoint named for its forward value, no more, no less (not
    `delta_h` of `h`: a delta is often the gradient of the activation's input, the book's dC/dz)."""
    return adjoint in (f"d{forward}", f"d_{forward}", f"grad_{forward}")


def _called_by(step: TrainingStep, adjoint: Adjoint) -> list[InnerAdjoint]:
    """The adjoints inside the functions the statement binding a loop's adjoint calls (`dpt`, `dz` of
    `loss, dz = focal_loss(z, y)`), in the order the function computes them."""
    stmt = step.prefix[adjoint.index] if 0 <= adjoint.index < len(step.prefix) else None
    if stmt is None or getattr(stmt, "lineno", None) != adjoint.line:
        stmt = next((s for s in step.prefix if s.lineno == adjoint.line), None)
    if stmt is None:
        return []
    called = {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr for n in ast.walk(stmt)
        if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))
    }  # fmt: skip
    return [a for a in step.inner if isinstance(a, InnerAdjoint) and a.adjoint.function.rpartition(".")[2] in called and not a.in_update]


def _walk_callee(
    runner: Runner, inside: list[InnerAdjoint], base_loss: float, rng: np.random.Generator, deadline: Deadline, result: StepResult
) -> list[tuple[InnerAdjoint, Measured]]:
    """Measure a called function's adjoints from the loss backwards, up to its first wrong one.

    The function often differentiates the per-sample loss and divides by the batch only as it hands the
    gradient back (`return loss.mean(), dz / len(z)`): an adjoint off by a batch size alone sets the
    scale the later ones are judged at."""
    scale: float | None = None
    walked: list[tuple[InnerAdjoint, Measured]] = []
    for adjoint in inside:
        if deadline.passed():
            break
        try:
            measured = _inner_adjoint(runner, adjoint, base_loss, rng)
        except NotReplayable:
            continue
        if measured is None or _parameters_own(measured, result):
            continue  # (a parameter's data term, the penalty's added after it: not judged as an adjoint, `_walk`)
        if measured.wrong and scale is None and measured.proportional and measured.factor is not None and _batch_like(measured.factor, result.batch_sizes):
            scale = measured.factor
        if scale is not None:
            measured.scale, measured.exact_scale = scale, True
        walked.append((adjoint, measured))
        if measured.wrong:
            break
    return walked


def _left_out(runner: Runner, result: StepResult, namespace: dict[str, Any], base_loss: float, rng: np.random.Generator) -> LeftOut | None:
    """The right adjoint of an activation's output that the wrong parameters' gradients are computed
    from, when its product with the activation's slope (ReLU, sigmoid, tanh, read from the output's
    values) makes all of them right: the slope is what the program left out."""
    step = runner.step
    lines = {stmt.lineno: index for index, stmt in enumerate(step.prefix)}
    wrong = [(moved, measured) for moved, measured in result.wrong if measured.line in lines and not measured.unused]
    scale = next((m.scale for _, m in result.parameters if m.scale is not None), None)
    for adjoint, measured in result.adjoints:
        if not isinstance(adjoint, Adjoint) or measured.wrong or getattr(measured, "through", None):
            continue
        fed = [(moved, m) for moved, m in wrong if lines[m.line] > adjoint.index and adjoint.name in reads(step.prefix[lines[m.line]])]
        if not fed or len(fed) != len(wrong):
            continue
        for activation, slope in slopes(namespace.get(adjoint.forward)):
            try:
                again = runner.run(after=adjoint.index, later=[(adjoint.name, lambda d, s=slope: d * s)])
                # every gradient read before any is measured: a module-level step runs in the program's own
                # namespace, which each measuring run overwrites
                corrected = [np.array(eval(moved.gradient_name or moved.site.gradient, again), dtype=np.float64) for moved, _ in fed]  # noqa: S307 - the user's own expression
                fixed = [(moved, _parameter(runner, dataclasses.replace(moved, gradient=-moved.site.sign * gradient), base_loss, rng))
                         for (moved, _), gradient in zip(fed, corrected)]  # fmt: skip
            except Exception:  # noqa: BLE001 - the gradient's expression needs what this run does not make
                continue
            for _, m in fixed:  # judged at the program's own scale, when its gradients carry one (a mean against a summed loss)
                if m is not None and m.scale is None:
                    m.scale = scale
            if all(m is not None and not m.wrong for _, m in fixed):
                return LeftOut(adjoint, activation, fixed)
    return None


def _rate_that_works(runner: Runner, capture: Capture, factors: tuple[float, ...]) -> tuple[str, float, float, list[float]] | None:
    """The same program, from the same state, with its learning rate times each factor in turn:
    (name, yours, tried, curve) for the first whose loss falls."""
    from backprop_doctor.replay.curve import falls, own_curve

    found = _one_rate(runner, capture)
    if found is None:
        return None
    name, rate = found
    if factors and min(factors) > 1:  # a rate far below any usual one (1e-7) is tried up to the usual ones (0.1 at most)
        factors = (*factors, *(f for f in (1e3, 1e4, 1e5, 1e6) if rate * f <= TRIED_UP_TO))
    for factor in factors:
        curve = own_curve(runner, names=_with_rate(runner, name, rate * factor))
        if falls(curve):
            return name, rate, rate * factor, curve
    return None


def _lower_between_spikes(own: list[float], smaller: list[float]) -> bool:
    """Whether the program's own loss, over the second half of its replayed steps, went lower than a
    smaller rate's ends: a loss that spikes at its rate (an LSTM's steps now and then too long) but
    learns between the spikes, ending in one, is not held back by its rate as a climbing loss is."""
    half = own[len(own) // 2 :]
    return bool(half) and all(math.isfinite(v) for v in own) and min(half) < smaller[-1]


TRIED_UP_TO = 0.1  # the largest learning rate a loss that does not move is tried at, beyond 10x and 100x its own


def _one_rate(runner: Runner, capture: Capture) -> tuple[str, float] | None:
    """The learning rate every update of the step uses, by the name the state holds it under, and its value."""
    names = {m.site.rate for m in capture.moved if m.site.rate is not None}
    rates = {m.rate for m in capture.moved if m.rate is not None}
    if len(names) != 1 or len(rates) != 1:
        return None
    (name,), (rate,) = names, rates
    return (name, rate) if rate > 0 and _with_rate(runner, name, rate) else None


def _with_rate(runner: Runner, name: str, value: float) -> dict[str, Any]:
    """The names of the step's state to rebind for its learning rate `name` to be `value`: `{"lr": value}`,
    or a copy of a settings dict with its entry changed (`config["lr"]`); {} when the state holds neither."""
    values = runner.state.values
    if name.isidentifier():
        return {name: value} if name in values else {}
    try:
        node = ast.parse(name, mode="eval").body
    except SyntaxError:
        return {}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant):
        settings = values.get(node.value.id)
        if isinstance(settings, dict) and node.slice.value in settings:
            return {node.value.id: {**settings, node.slice.value: value}}
    return {}


def _tiny_rate(runner: Runner, capture: Capture, factor: float = 10.0) -> tuple[str, float, list[float]] | None:
    """(name, rate, curve) when the few samples `curve.tiny_batch` could not fit are fitted at
    `factor` times the program's one learning rate."""
    from backprop_doctor.replay.curve import tiny_batch

    found = _one_rate(runner, capture)
    if found is None:
        return None
    name, rate = found
    tried = tiny_batch(runner, capture.moved, rebound=_with_rate(runner, name, rate * factor))
    return (name, rate * factor, tried.losses) if tried is not None and tried.fitted else None


def _deferred_mean(measured: Measured, result: StepResult, held: dict[str, Any] | None = None) -> bool:
    """An adjoint inside a function the step calls that is the gradient of the summed loss where the
    program's loss is a mean (exactly a batch size times the mean's), while some parameter's gradient
    is right: the program divides by the batch size later, in another function (deeplearning.ai's
    `dAL`, with `1./m` in `linear_backward`), so the factor is its scale, not a bug. (In the loop's
    own statements `_contradicted` reads which gradients are computed from it.) A parameter right at
    the factor most of them share, one the program carries (`_shared_by_most`), counts as right."""
    return (
        measured.proportional and measured.factor is not None and measured.factor > 1 and not _about_one(measured.factor)
        # (2 / 2 of a size of 2 is batch-like: 1 is no mean left out); a size of something else (`SEQ`, a sample's
        # tokens; a context's length) is no batch a later function divides by
        and _batch_like(measured.factor, tuple(n for n in result.batch_sizes if not isinstance(n, Size)))
        and (
            any(not m.wrong and not m.unused and not m.inconclusive for _, m in result.parameters)
            or (held is not None and _shared_by_most(result, held) is not None)
            or every_parameter_climbs(result)
        )
    )  # fmt: skip


def every_parameter_climbs(result: StepResult) -> bool:
    """Every parameter the step's loss judges (one at the least) moves up it: its factor is below 0. The sign
    is flipped where every gradient passes, after the adjoints a batch size above the parameters' (`dZ2 = A2 - Y`
    of the summed loss, `dW2 = dZ2 @ A1.T / m`, then `W2 = W2 + lr * dW2`): such an adjoint keeps the gradient's
    sign, so a batch-size factor on it is the program's scale (a mean taken later), not what climbs."""
    judged = [m for _, m in result.parameters if not m.unused and not m.inconclusive]
    return bool(judged) and all(m.wrong and m.factor is not None and m.factor < 0 for m in judged)


def _shared_by_most(result: StepResult, held: dict[str, Any]) -> float | None:
    """The one positive factor half the parameters or more (two at the least) follow the loss at, exactly,
    where no update writes a learning rate and the factor is one the program carries (`_programs_factor`:
    a rate folded into the step, `pesos = [w - tasa * g for w, g in zip(pesos, grads)]` with `tasa = 2.0`):
    those parameters are right at the program's own scale, the others wrong beyond it. None otherwise."""
    parameters = [(moved, m) for moved, m in result.parameters if not m.unused and not m.inconclusive]
    if len(parameters) < 2 or any(moved.site.rate is not None for moved, _ in parameters):
        return None
    factors = [m.factor for _, m in parameters if m.wrong and (m.proportional or m.single) and m.factor is not None and m.factor > 0]
    best = _shared_factor(factors)
    if best is None or _about_one(best) or not _programs_factor(best, result.batch_sizes, held):
        return None
    agreeing = [f for f in factors if abs(f / best - 1) <= COMMON]
    return best if len(agreeing) >= 2 and 2 * len(agreeing) >= len(parameters) else None


def _returned_by_a_call(step: TrainingStep, adjoint: Adjoint) -> bool:
    """Whether the loop's statement binding `adjoint` takes it from what a call returns (`loss, dscores =
    cross_entropy(scores, yb)`): a loss function's gradient, handed on to methods or functions whose
    statements the loop does not show (`model.backward(dscores)`), so `_contradicted` cannot read which
    right gradients are computed from it."""
    from backprop_doctor.static.batch_means import bound_by_a_call

    return 0 <= adjoint.index < len(step.prefix) and bound_by_a_call(step.prefix[adjoint.index])


def _batch_like(factor: float, sizes: tuple[int, ...]) -> bool:
    """Whether `factor` is a batch size, its inverse, or either times or over 2 (a mean's 1/N and a
    square's 2 left out together): the factors a summed loss against a mean gives."""
    return any(abs(factor / target - 1) <= COMMON for n in sizes if n > 1 for k in (1.0, 2.0, 0.5) for target in (n * k, k / n))


def _averaged(runner: Runner, site: LossSite) -> bool:
    """A loss the program writes itself (not one inferred here, nor a running sum) as a mean over every entry."""
    return not site.implied and not site.accumulated and not site.summed and mean_loss(source_tree(runner.path)[1], site.expression)


def _mean_over_again(factor: float, sizes: tuple[int, ...]) -> int | None:
    """The batch size `factor` is one over (or that over 2 or times 2): against a loss that is a mean
    already (`-np.mean(...)`), the mean's gradient divided by the batch once more (`delta = (P - T) / m`
    and `dW = h.T @ delta / m`), no scale of the program's own. None when it is no such factor."""
    return next((int(n) for n in sizes if n > 1 for k in (1.0, 2.0, 0.5) if abs(factor / (k / n) - 1) <= COMMON), None)


def _programs_factor(factor: float, sizes: tuple[int, ...], values: dict[str, Any]) -> bool:
    """Whether a factor every gradient may share is one the program has a reason to carry against a loss
    it only reports: a batch size's (`_batch_like`), a square's 2 (`err ** 2` watched, the gradient of
    its half followed), or a number the program holds (`_a_setting`)."""
    return _batch_like(factor, sizes) or any(abs(factor / k - 1) <= COMMON for k in (0.5, 2.0)) or _a_setting(factor, values)


def _shared_factor(factors: list[float]) -> float | None:
    """The factor most of `factors` agree with (within `COMMON`), or None when there are none."""
    return max(factors, key=lambda f: sum(abs(g / f - 1) <= COMMON for g in factors), default=None)


def _a_setting(factor: float, values: dict[str, Any]) -> bool:
    """Whether `factor` is a number the program holds (a learning rate folded into its gradients,
    `grad_w1 = alpha * x1 * delta`), or its inverse: at the top level or an attribute of an object there."""
    numbers = [v for v in values.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    numbers += [a for v in values.values() if hasattr(v, "__dict__") and not isinstance(v, type) for a in vars(v).values() if isinstance(a, (int, float)) and not isinstance(a, bool)]
    return any(n and (abs(factor / n - 1) <= COMMON or abs(factor * n - 1) <= COMMON) for n in numbers)


def _program_scale(parameters: list[tuple[Moved, Measured]], allowed: Any = lambda factor: True, layered: Any = None) -> None:
    """A loss the loop only reports (a mean printed now and then) or one inferred here fixes no scale:
    the factor most parameters share is the program's own (gradients of the summed loss, or a learning
    rate folded into them: `grad_w1 = alpha * x1 * delta`), and each parameter is judged at it. A
    scalar weight's one factor counts when at least two parameters share it. With no shared factor,
    nothing changes. A minority sets it too where `layered` takes its factor (`_layered_scale`)."""
    shared = [m for _, m in parameters if (m.proportional or m.single) and m.factor is not None and m.factor > 0 and m.wrong]
    sign = 1.0
    if not shared and all(m.single and m.factor is not None and m.factor < 0 and m.wrong for _, m in parameters if not m.unused):
        # every number moved (scalar weights, floats in lists) climbs the loss at one factor: the size of that factor
        # is still the program's scale (`sum_error += (expected - output) ** 2` followed at its half), the sign a mistake
        shared, sign = [m for _, m in parameters if not m.unused], -1.0
    factors = [sign * m.factor for m in shared]
    best = _shared_factor(factors)
    if best is not None and not allowed(best):
        # as many parameters at another factor, one the program carries (two layers at 1/batch, two at 0.8 of it
        # where a dropout's 1/keep is left out): that one is the scale
        count = sum(abs(f / best - 1) <= COMMON for f in factors)
        best = next((f for f in factors if allowed(f) and sum(abs(g / f - 1) <= COMMON for g in factors) == count), best)
    right = sum(1 for _, m in parameters if not m.wrong)  # at factor 1 already: the scale must outnumber them
    # a factor the program has no reason to carry (a sigmoid's slope near 0.25 at init) is no scale
    agreeing = [m for m in shared if abs(sign * m.factor / best - 1) <= COMMON] if best is not None and allowed(best) else []
    # the one parameter the loss reaches now, every other behind ReLUs that are all off (their gradients and slopes
    # exactly 0, right at any scale): its factor is the program's, if the program has it (`allowed`)
    counted = [m for _, m in parameters if not _idle(m)]
    lone = len(counted) == 1 and len(agreeing) == 1 and agreeing[0] is counted[0]
    if not lone and (2 * len(agreeing) < len(parameters) or len(agreeing) <= right or (len(agreeing) < 2 and any(m.single for m in agreeing))):
        layers = _layered_scale(shared, layered) if right == 0 and sign > 0 else None
        if layers is None:
            return
        best, agreeing = layers, [m for m in shared if abs(m.factor / layers - 1) <= COMMON]
    for _, measured in parameters:
        measured.scale = best
    for measured in agreeing:
        measured.proportional = True  # a scalar at the shared factor is as good as proportional


def _layered_scale(shared: list[Measured], layered: Any) -> float | None:
    """The factor a minority of the parameters sets as the program's scale: two or more of them exactly
    proportional at a factor `layered` takes (one over the batch, the output layer's `delta = (a - y) / n`),
    no other parameter at such a factor. A wrong statement of the backward pass makes each layer before
    it wrong, each by a factor of its own where a scale compounds (dropout's 1/keep left out of two hidden
    layers: 0.7 × and 0.49 × the loss's gradient), so the layers at the loss's own factor can be the
    fewest; a loss guessed wrong would leave the output layer's gradients off too. None otherwise."""
    if layered is None:
        return None
    taken = [m for m in shared if m.factor is not None and layered(m.factor)]
    best = _shared_factor([m.factor for m in taken if m.proportional])
    if best is None:
        return None
    agreeing = [m for m in taken if abs(m.factor / best - 1) <= COMMON]
    if len(agreeing) < 2 or len(agreeing) < len(taken) or not all(m.proportional for m in agreeing):
        return None
    return best


def _idle(m: Measured) -> bool:
    """Whether neither the gradient nor the loss moves along any direction of the parameter (exactly 0)."""
    return bool(m.directions) and all(d.analytic == 0 and d.numerical == 0 for d in m.directions)


def _climbs(parameters: list[tuple[Moved, Measured]], loss: float) -> bool:
    """The updates climb the "loss", which is below zero (a log-likelihood): most follow it exactly
    upwards (the others, downwards too, may be wrong: they are judged as the ascent's). An
    update whose slope along itself is the loss's upwards counts as well once one follows it exactly:
    weight decay (`U[u] += lr * (g - lam * U[u])`) bends its direction a little, not its way."""
    upwards = [m for _, m in parameters if m.wrong and m.factor is not None and abs(m.factor + 1) < PROPORTIONAL]
    exactly = [m for m in upwards if m.proportional]
    return bool(parameters) and loss < 0 and bool(exactly) and 2 * len(upwards) > len(parameters)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _numerical_step(runner: Runner, moved: Moved) -> float:
    """The step of the finite difference the update's gradient is (`static.finite_differences`): bound by the
    pass from a call that takes one (`grad = net.gradient(x, t)` over `numerical_gradient(f, self.W)`), called
    in the update itself, or handed by the pass to an updating function of its own; 0 for any other gradient."""
    from backprop_doctor.static.finite_differences import called_step, numerical_gradients

    tree = source_tree(runner.path)[1]
    bound = numerical_gradients(tree, runner.step.prefix)
    expression = moved.gradient_name or moved.site.gradient
    root = re.match(r"[^\W\d]\w*", expression)
    if root is not None and root.group(0) in bound:
        return bound[root.group(0)]
    if (step := called_step(moved.site.gradient, tree)) is not None:
        return step
    if bound and moved.site.update.function != runner.step.function:
        return max(bound.values())  # `optimizer.update(params, grads)` with `grads = net.numerical_gradient(x, t)`
    return 0.0


def _parameter(runner: Runner, moved: Moved, base_loss: float, rng: np.random.Generator, scales: tuple[float, ...] = (1.0,)) -> Measured | None:
    """The update's gradient of one parameter measured against the loss; `scales` are the factors the
    program's gradients may carry against a loss that fixes none (a mean where the loss is a sum)."""
    if moved.path is None:
        return None
    base = runner.value(moved.path)
    gradient = moved.gradient
    widened = np.shape(gradient) if _widens_parameter(base, gradient) else None  # `db = dZ / m`, (10, 200), on a (10, 1) bias
    broadcast = None
    if widened is None and np.shape(gradient) != np.shape(base):
        try:
            if np.broadcast_shapes(np.shape(gradient), np.shape(base)) != np.shape(base):
                return None  # the update reshapes the parameter (a (1, n) gradient on an (n,) bias): not compared here
        except ValueError:
            return None
        # `b1 -= lr * db1` with `db1 = np.sum(dZ1)` one number: each entry moves by all of it (a
        # parameter of one entry, a (1, 1) bias, has no other entries to move)
        broadcast = np.shape(gradient) if np.size(base) > 1 else None
        gradient = np.broadcast_to(np.asarray(gradient), np.shape(base))
    if isinstance(base, np.ndarray) and base.dtype.kind not in "fc":
        return None
    start = base.copy() if isinstance(base, np.ndarray) else base

    def loss_moved(delta: Any) -> float:
        return runner.loss([(moved.path, start + delta)])

    key = _item_key(moved)
    expression = moved.gradient_name or moved.site.gradient
    if moved.gradient_name is None and moved.site.listwise is not None:  # `gw` of `zip(self.weights, grad_w)`: the list it walks
        _, element, source = moved.site.listwise
        # `(eta / len(mini_batch)) * nw`: the entry scaled by the update's own numbers is computed where the list's entry is
        expression = source if _scaled_element(expression, element) else re.sub(rf"\b{re.escape(element)}\b", source, expression)
    inside = moved.site.update.function != runner.step.function and moved.gradient_name is None  # `self.wih += ...` in `n.train(...)`
    if moved.gradient_name is None and not inside and (summed := summed_from(runner.step.prefix, expression)) is not None:
        expression = summed  # `vel[k] = mu * vel[k] - lr * acc[k] / ACCUM` after `acc[k] += g[k]`: where `g[k]` is computed
    stored = _stored_under(source_tree(runner.path)[1], expression, key) if isinstance(key, str) else None  # `grads["W%d" % i] = ...`
    line, file = (stored, None) if stored is not None else _imported_line(runner.step, expression, key) or (
        _computed_line(runner, expression, _gradient_line(runner.step, expression, key, inside)), None
    )
    if line is None and inside and moved.site.file is None:  # the updating method runs more than once a pass: read its own last binding
        line = _bound_in_updater(runner, moved.site, expression)
    if line is None and inside and moved.site.file is None and (listed := _held_in_list(runner, moved)) is not None and len(listed[3]) == 1:
        line = listed[3][0].lineno  # `zip(self.weights, self.grads)`: where the class adds into this weight's own entry
    if line is None and (formed := velocity_formed(moved)) is not None:
        line = formed  # `v = mu * v + lr * (X.T @ err)` then `w -= v`: the gradient is written out in the velocity's line
    if line is not None and file is None and isinstance(key, int) and moved.site.listwise is not None:
        # `nabla_w[-1] = ...` for the last layer, `nabla_w[-l] = ...` in the loop over the others: this entry's own store
        length = sum(1 for m in runner.capture.moved if m.path[:-1] == moved.path[:-1])
        line = _list_entry_line(source_tree(runner.path)[1], line, expression, key, length) or line
    if widened is not None:
        return Measured(describe(moved.path), line, shape=tuple(np.shape(base)), widened=widened, file=file)
    bound = _clip_bound(runner, moved)
    if bound is None and np.ndim(gradient) and _symmetric_clip(runner, moved):
        others = [m.gradient for m in getattr(runner.capture, "moved", ()) if m.gradient is not None and np.ndim(m.gradient)]
        bound = _bound_reached(gradient, others)  # a clip whose bound the step holds where it cannot be read (`self.clip_at`): as its entries show it
    kept = np.abs(np.asarray(gradient, dtype=np.float64)) < bound * (1 - 1e-9) if bound is not None and np.ndim(gradient) else None
    if kept is not None and not kept.any():
        return None  # every entry clipped: nothing of the gradient is left to compare
    measured = _measure(
        describe(moved.path), line, gradient, start, loss_moved, base_loss, rng, kept=kept if kept is not None and not kept.all() else None, guard=runner.log_guard,
        own_difference=_numerical_step(runner, moved),
    )  # fmt: skip
    if measured.unused and moved.path[0][1] in runner.step.copied_outside:
        return None  # the pass computes with a copy the enclosing loop took (`center = W_in[c].copy()`): not judged here
    if measured.wrong and not measured.unused and broadcast is None:
        from backprop_doctor.training.run import decay_strengths

        l1 = _writes_sign(runner, moved)
        decayed = _decayed(measured, gradient, start, loss_moved, base_loss, rng, scales, decay_strengths(runner.state.values), l1=l1)
        off = _penalty_factor(runner, moved, decayed.decay) if decayed is not None and decayed.decay_kind == "L2" and not decayed.wrong else None
        if off is not None:  # the loss holds the penalty, at another strength than the gradient's own term: that term is wrong
            measured.penalty_factor, measured.line = off, off.line
        else:
            measured = decayed or measured
    if measured.wrong and not measured.unused and broadcast is None and measured.decay is None and measured.penalty_factor is None:
        measured.penalty_left_out = _penalty_left_out(measured, gradient, start, loss_moved, base_loss, rng)
        off = _penalty_factor(runner, moved, -measured.penalty_left_out) if measured.penalty_left_out is not None else None
        if off is not None:  # the gradient writes the penalty's term, too weak: the term is wrong, not left out
            measured.penalty_left_out, measured.penalty_factor, measured.line = None, off, off.line
    if measured.wrong and not measured.unused and broadcast is None and measured.penalty_left_out is None:
        summed = _accumulated(runner, moved, gradient, start, loss_moved, base_loss, rng, scales)
        if summed is not None:
            measured.accumulated, measured.added_at = summed[:2], summed[2]
    if measured.wrong and not measured.unused and measured.accumulated is None:
        measured.truncated = _truncated(runner, moved)
        if measured.truncated is not None and _wrong_untruncated(runner, moved, measured.truncated[0], start, loss_moved, base_loss, rng):
            measured.truncated = None  # wrong with the whole sequence too: not the truncation
    measured.file, measured.broadcast = file, broadcast
    if measured.wrong and not measured.unused and broadcast is None and file is None and line is not None and measured.decay is None and measured.penalty_left_out is None and measured.accumulated is None and measured.truncated is None:
        term = _wrong_data_term(runner, moved, measured, gradient, start, loss_moved, base_loss, rng)
        if term is not None:
            measured.finished_at, measured.line = measured.line, term
    return measured


def _wrong_data_term(
    runner: Runner, moved: Moved, measured: Measured, gradient: Any, base: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator
) -> int | None:
    """The line of a gradient's data term (`np.add.at(dV, items, ...)`) when the statement it is located at only adds
    the parameter's penalty to it (`dV += 2 * lam * V`, `static.data_terms`) and the gradient's error is no multiple
    of the parameter: measured again with the one multiple of it that the gradient's own direction asks for taken
    off, it still disagrees, so no strength of the penalty makes it right and the mistake is in the term before.
    None when the penalty's strength could be all that is wrong, or when no such pair of statements is written."""
    from backprop_doctor.static.data_terms import data_term_before

    key = _key(moved)
    term = data_term_before(source_tree(runner.path)[1], measured.line, key) if key and measured.line else None
    if term is None or not isinstance(base, np.ndarray) or not measured.directions:
        return None
    line = term.line
    own = _unit(np.asarray(gradient, dtype=np.float64))
    if own is None:
        return None
    projected = float(np.sum(base * own))
    if abs(projected) <= 1e-12 * max(_scale(base), 1e-300):
        return line  # the parameter is (nearly) zero: its penalty adds nothing, the error is all the data term's
    along = measured.directions[0]
    multiple = (along.analytic - along.numerical) / projected
    again = _measure(measured.name, measured.line, np.asarray(gradient, dtype=np.float64) - multiple * base, base, loss_moved, base_loss, rng)
    if again.unused or again.inconclusive or not again.wrong:
        return None  # off by a multiple of the parameter: the penalty's strength may be the mistake
    return line


@dataclass(frozen=True)
class ClipBound:
    """The bound of an elementwise clip of a step's gradients (`np.clip(g, -clip, clip)`)."""

    value: float
    setting: str | None  # the name of the step's state the bound is read from (`clip`, `clip_value`); None for a literal
    line: int  # the clip: `np.clip(...)` in the step, or the step's call of the function that clips (`clip_each(gW, c)`)


def _clip_bound(runner: Runner, moved: Moved) -> float | None:
    """The value of `clip_bound`."""
    found = clip_bound(runner, moved)
    return found.value if found is not None else None


def clip_bound(runner: Runner, moved: Moved) -> ClipBound | None:
    """`_clip_bound_at`, read once per update statement of a runner: its parameters share it (the 41
    weights a micrograd step moves at one `p.data -= lr * p.grad` each walked the step's functions)."""
    bounds = runner.__dict__.setdefault("_clip_bounds", {})
    key = id(moved.site)
    if key not in bounds:
        bounds[key] = (moved.site, _clip_bound_at(runner, moved))  # the site kept: its id stays its own
    return bounds[key][1]


def _clip_bound_at(runner: Runner, moved: Moved) -> ClipBound | None:
    """The bound of an elementwise clip of the gradients (`np.clip(dparam, -5, 5, out=dparam)`) in the
    step or in the function that updates: entries at it are clipped, not the loss's gradient. A bound
    may be a name: a default of the updating function (`def update(self, lr, limit=1.0)`) or a
    variable of the step's state (`clip = 5`)."""
    tree, nodes, known, settings = _clip_nodes(runner, moved)
    for node in (n for top in nodes for n in ast.walk(top)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] == "clip" and len(node.args) >= 3:
            low, high = _bound(node.args[1], known), _bound(node.args[2], known)
            if isinstance(high, (int, float)) and isinstance(low, (int, float)) and low == -high > float("-inf") and high > 0:
                setting = ast.unparse(node.args[2]) if isinstance(node.args[2], (ast.Name, ast.Attribute)) and ast.unparse(node.args[2]) in settings else None
                return ClipBound(float(high), setting, getattr(node, "lineno", moved.site.line))
    return _bound_through_calls(tree, nodes, known, settings)


def _clip_nodes(runner: Runner, moved: Moved) -> tuple[Any, list[Any], dict[str, Any], set[str]]:
    """Where a clip of an update's gradients may be written (the step's statements, the update itself, the
    functions the step calls once, the function that updates), with the numbers the step's state and that
    function's defaults give names (`known`), and which of them are settings of the state a fix can set."""
    from backprop_doctor.static.definitions import find_function

    site = moved.site
    nodes: list[ast.AST] = list(runner.step.prefix)
    with contextlib.suppress(SyntaxError):
        nodes.append(ast.parse(site.step, mode="eval"))  # `W -= lr * np.clip(dW, -clip, clip)`: in the update itself
    tree = source_tree(site.file or runner.path)[1]
    updating = find_function(tree, site.update.function) if tree is not None and site.update.function else None
    known: dict[str, Any] = {k: v for k, v in runner.state.values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    known.update(_held_settings(runner, nodes))
    settings = set(known)  # the names a fix can set: the step's state, not a function's default
    if tree is not None and site.file is None:  # `loss, dWxh, ... = lossFun(...)`, which clips before it returns (min-char-rnn)
        from backprop_doctor.static.step_functions import called_functions

        nodes += [function for _, function in called_functions(tree, runner.step.prefix)]
    if updating is not None:  # the function that makes the update (`Net.update`, another file's `RNN.backprop`)
        nodes.append(updating)
        arguments = updating.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults = [*zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults), *zip(arguments.kwonlyargs, arguments.kw_defaults)]
        for argument, default in defaults:
            value = _bound(default, {}) if default is not None else None
            if value is not None:
                known[argument.arg] = value
                settings.discard(argument.arg)
    return tree, nodes, known, settings


def _symmetric_clip(runner: Runner, moved: Moved) -> bool:
    """Whether the step clips something between a bound and its negative (`np.clip(g, -self.c, self.c)`),
    a bound it could not read: the update's gradient may be clipped at it. Read once per update statement."""
    from backprop_doctor.static.clipping import clips_inside_calls

    cache = runner.__dict__.setdefault("_symmetric_clips", {})
    key = id(moved.site)
    if key not in cache:
        tree, nodes, _, _ = _clip_nodes(runner, moved)
        calls = [n for top in nodes for n in ast.walk(top) if isinstance(n, ast.Call) and ast.unparse(n.func).rpartition(".")[2] == "clip"]
        calls += [inside.clip for inside in clips_inside_calls(tree, nodes)]
        symmetric = any(
            len(c.args) >= 3 and isinstance(c.args[1], ast.UnaryOp) and isinstance(c.args[1].op, ast.USub)
            and ast.unparse(c.args[1].operand) == ast.unparse(c.args[2])
            for c in calls
        )  # fmt: skip
        cache[key] = (moved.site, symmetric)
    return cache[key][1]


def _bound_reached(gradient: Any, step: list[Any] = ()) -> float | None:
    """The largest magnitude of a gradient's entries when two or more share it exactly: the bound of an
    elementwise clip that bit (a gradient clipped at 1e-6 is its sign pattern times 1e-6). A gradient
    with too few entries to tell (a single output bias) takes the bound the step's gradients (`step`)
    share, when its entries sit at it."""

    def shared(values: Any) -> float | None:
        entries = np.abs(np.asarray(values, dtype=np.float64)).ravel()
        if entries.size < 2 or not np.all(np.isfinite(entries)):
            return None
        top = float(entries.max())
        return top if top > 0 and int(np.count_nonzero(entries >= top * (1 - 1e-12))) >= 2 else None

    own = shared(gradient)
    if own is not None or not step:
        return own
    everyone = shared(np.concatenate([np.abs(np.asarray(g, dtype=np.float64)).ravel() for g in step]))
    if everyone is None or float(np.max(np.abs(gradient))) < everyone * (1 - 1e-12):
        return None
    return everyone


def _bound_through_calls(tree: Any, nodes: list[Any], known: dict[str, Any], settings: set[str]) -> ClipBound | None:
    """The bound of an elementwise clip in a file's function the step calls, with its parameter given by
    each call (`def clip_elementwise(grads, value): return [np.clip(g, -value, value) for g in grads]`,
    called as `clip_elementwise(gW, clip_value)` for each list of gradients): one bound when every call
    clips at the same one; None when they differ or one cannot be read."""
    from backprop_doctor.static.clipping import clips_inside_calls

    found: set[tuple[float, str | None]] = set()
    line = None
    for inside in clips_inside_calls(tree, nodes):
        given = {name: _bound(argument, known) for name, argument in inside.bound.items()}
        # the function's parameters hide the step's names; one the call gives no number for stays unknown
        local = {**{k: v for k, v in known.items() if k not in inside.bound}, **{k: v for k, v in given.items() if v is not None}}
        low, high = _bound(inside.clip.args[1], local), _bound(inside.clip.args[2], local)
        if not (isinstance(high, (int, float)) and isinstance(low, (int, float))):
            return None  # a bound that cannot be read: no bound can be trusted
        if not low == -high > float("-inf") or high <= 0:
            continue  # `np.clip(p, 1e-7, 1 - 1e-7)`: a value kept in a range, not a gradient clipped
        written = inside.clip.args[2]
        passed = inside.bound.get(written.id, written) if isinstance(written, ast.Name) else None  # what the call gives the bound's parameter
        setting = passed.id if isinstance(passed, ast.Name) and passed.id in settings else None
        found.add((float(high), setting))
        line = line if line is not None else inside.call.lineno
    if len(found) != 1 or line is None:
        return None
    (value, setting), = found
    return ClipBound(value, setting, line)


def _held_settings(runner: Runner, nodes: list[Any]) -> dict[str, Any]:
    """`self.clip_value` -> 1e-05: the numbers the step's nodes read as attributes of an object of its state (a
    trainer's or an optimizer's setting), spelled as written, for `_bound` to read as it reads a name."""
    from backprop_doctor.replay.state import setting_value

    found: dict[str, Any] = {}
    for node in (n for top in nodes for n in ast.walk(top)):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name) and node.value.id in runner.state.values:
            spelled = ast.unparse(node)
            value = setting_value(runner.state.values, spelled)
            if type(value) in (int, float):
                found[spelled] = value
    return found


class _Spelled(ast.NodeTransformer):
    """`self.clip_value` made the name `self.clip_value`, so the literal arithmetic reads it as one of the known."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        inner: ast.AST = node
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        return ast.copy_location(ast.Name(id=ast.unparse(node), ctx=ast.Load()), node) if isinstance(inner, ast.Name) else node


def _bound(node: Any, known: dict[str, Any]) -> Any:
    """The number `node` stands for: literal arithmetic on numbers and the `known` names (and attributes,
    `self.clip_value`); None otherwise."""
    from backprop_doctor.static.literals import _evaluate, _NotLiteral

    if any("." in k for k in known) and any(isinstance(n, ast.Attribute) for n in ast.walk(node)):
        node = _Spelled().visit(copy.deepcopy(node))

    def lookup(name: str) -> Any:
        if name not in known:
            raise _NotLiteral(f"`{name}` is not known at the step")
        return known[name]

    try:
        return _evaluate(node, lookup)
    except _NotLiteral:
        return None




def _accumulated(
    runner: Runner, moved: Moved, gradient: Any, base: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator, scales: tuple[float, ...] = (1.0,)
) -> tuple[str, int | None, int] | None:
    """(name, line it is zeroed at, line that adds to it) when the update's gradient is a name the step adds to (`dW1 += ...`)
    and, less what that name held when the step began, it is the loss's gradient (or one of `scales`
    times it, against a loss that fixes no scale): the program never resets it, so every update moves
    by the sum of all the gradients so far."""
    import ast

    read = moved.gradient_name or moved.site.gradient.strip()
    name = _summed_name(_bound_in_update(runner.step, read, moved.site.line) or read, _item_key(moved) or _key_holding(runner, moved))
    carried = runner.state.values.get(name) if name.isidentifier() else _entry_value(runner.state.values, name)
    held = _held_beside(runner, moved, name) if carried is None else None
    keyed = _held_entry(runner, moved, name) if carried is None and held is None else None
    listed = _held_in_list(runner, moved) if carried is None and held is None and keyed is None else None
    where: Path | None = None
    if listed is not None:  # `for w, g in zip(self.weights, self.grads): w -= lr * g / k`, `self.grads[0] += ...` in a method
        name, where, carried, adds = listed
        held = (carried, adds)
    elif held is not None:  # `self.dW1`, added to in `backward`, read by `sgd_step`: the buffer the parameter's object holds
        carried, adds = held
    elif keyed is not None:  # `self.grads[k]`, added to as `G["W1"] += ...` in a method, `G` bound to `self.grads`
        name, carried, adds = keyed
        held = (carried, adds)
    if not isinstance(carried, np.ndarray) or np.shape(carried) != np.shape(gradient) or not np.any(carried):
        return None
    if held is None:
        written = _unparsed(name)
        adds = [n for s in runner.step.prefix for n in ast.walk(s) if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add)
                and (ast.unparse(n.target) == written or _keyed_alike(n.target, written))]
        adds = adds or _added_in_called(runner, written)
    if not adds:
        return None
    gradient = np.asarray(gradient, dtype=np.float64)
    if name != (moved.gradient_name or moved.site.gradient.strip()) and keyed is None:  # `grads[k] / batch`: the update reads the sum as a multiple of it
        after = runner.run()
        summed = np.asarray(resolve(after, where) if where is not None else after.get(name) if name.isidentifier() else _entry_value(after, name), dtype=np.float64)
        if summed.shape != gradient.shape or not np.any(summed):
            return None
        multiple = float(np.vdot(gradient, summed) / np.vdot(summed, summed))
        if not np.allclose(gradient, multiple * summed, rtol=1e-9, atol=0.0):
            return None
        carried = multiple * carried
    again = _measure(name, adds[0].lineno, gradient - carried, base, loss_moved, base_loss, rng)
    # against a loss that fixes no scale (`scales` beyond 1: an implied sum, a loss it only reports), any
    # constant factor (the batch a per-sample loop sums over, a mean) leaves the sum the explanation
    scaled = (again.proportional or again.single) and again.factor is not None and (
        again.factor > 0 if len(scales) > 1 else any(abs(again.factor / s - 1) <= again.tolerance for s in scales)
    )
    if (again.wrong and not scaled) or again.unused or again.inconclusive:
        return None
    loop = runner.step.loop
    before = loop.lineno if loop is not None else adds[0].lineno
    tree = source_tree(runner.path)[1]
    root = name.partition("[")[0]  # `grads` of `grads['W1']`: the dictionary made once, before the loop
    if held is not None and listed is None and keyed is None and tree is not None:
        # a buffer the parameter's object holds (`self.dW += ...` in its `backward`): set where the class assigns it
        # (`self.dW = np.zeros_like(self.W)` in `__init__`), never again
        attribute = name.rpartition(".")[2]
        zeroed = [
            n.lineno for c in tree_walk(tree) if isinstance(c, ast.ClassDef) and any(_inside(c, a) for a in adds) for n in ast.walk(c)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == attribute and isinstance(t.value, ast.Name) and t.value.id == "self" for t in n.targets)
        ]  # fmt: skip
        return name, (max(zeroed) if zeroed else None), adds[0].lineno
    zeroed = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.lineno < before
              and any(isinstance(t, ast.Name) and t.id == root or ast.unparse(t) == name or t is top and ast.unparse(t) == root for top in n.targets for t in ast.walk(top))] if tree is not None else []
    zeroed += _filled_before(tree, root, before)
    if keyed is not None and tree is not None and (called := _zeroing_calls_before(tree, root, before)):
        zeroed = called  # `model.zero_grad()` once, before the loop: the reset that belongs in it
    return name, (max(zeroed) if zeroed else None), adds[0].lineno


def _inside(outer: Any, node: Any) -> bool:
    """`node` lies within `outer`'s lines."""
    return outer.lineno <= node.lineno <= (outer.end_lineno or outer.lineno)


def _zeroing_calls_before(tree: Any, root: str, before: int) -> list[int]:
    """Lines before the loop that call a method of a class of the file (`model.zero_grad()`) whose body sets the entries
    of `root` (`self.grads`) to zero (`self.grads[k][...] = 0.0`, `.fill(0)`, `= np.zeros_like(...)`): a reset run once."""
    import ast

    from backprop_doctor.static.resets import _zeroing

    if not root.startswith("self."):
        return []
    zeroing = {
        f.name for c in tree_walk(tree) if isinstance(c, ast.ClassDef) for f in c.body if isinstance(f, ast.FunctionDef)
        and f.name != "__init__" and any((t := _zeroing(n)) is not None and (t == root or t.startswith((root + "[", root + "."))) for n in ast.walk(f))
    }  # fmt: skip
    return [
        n.lineno for n in tree_walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
        and n.value.func.attr in zeroing and n.lineno < before
    ]  # fmt: skip


def _filled_before(tree: Any, root: str, before: int) -> list[int]:
    """Lines before the loop that set the entries of `root` to zero in place (`grads[k].fill(0.0)`)."""
    import ast

    if tree is None:
        return []
    return [
        n.lineno for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fill" and n.lineno < before
        and next((m.id for m in ast.walk(n.func.value) if isinstance(m, ast.Name)), None) == root
    ]  # fmt: skip


def _added_in_called(runner: Runner, written: str) -> list[Any]:
    """The statements adding to `written` (`grads['Why'] += ...`, a module's dictionary) in the functions
    of the program's file that the step calls by name (`loss, h = loss_fun(inputs, targets, h)`), where
    the function does not bind the dictionary's name itself (a parameter, a local)."""
    import ast

    tree = source_tree(runner.path)[1]
    if tree is None:
        return []
    root = written.partition("[")[0]
    called = {n.func.id for s in runner.step.prefix for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    found = []
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in called):
        arguments = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
        bound = {t.id for n in ast.walk(function) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        if root in arguments or root in bound:
            continue
        found += [n for n in ast.walk(function) if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and ast.unparse(n.target) == written]
    return found


def _target_owner(statement: str) -> str | None:
    """`self.l[i]` of the update `self.l[i].W = ...` (or `self.l[i].W -= ...`): what holds the attribute it writes."""
    import ast
    import textwrap

    try:
        node = ast.parse(textwrap.dedent(statement)).body[0]
    except (SyntaxError, IndexError):
        return None
    target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
    return ast.unparse(target.value) if isinstance(target, ast.Attribute) else None


def _held_beside(runner: Runner, moved: Moved, name: str) -> tuple[Any, list[Any]] | None:
    """(the value, the statements adding to it) of a gradient buffer the parameter's own object holds:
    `self.W1 -= lr * self.dW1` in a method, where `self.dW1 += X.T @ dz1` in another method of the class
    adds each pass's gradient to what the step began with. None for anything else."""
    owner, _, attribute = name.partition(".")
    if not owner.isidentifier() or not attribute.isidentifier():
        # `self.l[i].W = self.l[i].W - self.lr * self.l[i].dLdW`: the buffer beside the parameter in the object
        # the update's own target reaches the same way (an optimizer stepping its model's layers)
        owner, _, attribute = name.rpartition(".")
        if not attribute.isidentifier() or owner != _target_owner(moved.site.update.source):
            return None
    if moved.path is None or len(moved.path) < 2 or moved.path[-1][0] != "attr":
        return None
    try:
        holder = resolve(runner.state.values, moved.path[:-1])
    except (KeyError, AttributeError, IndexError, TypeError):
        return None
    carried = getattr(holder, attribute, None)
    tree = source_tree(runner.path)[1]
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == type(holder).__name__] if tree is not None else []
    adds = [
        n for c in classes for n in ast.walk(c)
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Attribute) and n.target.attr == attribute
        and isinstance(n.target.value, ast.Name) and n.target.value.id == "self"
    ]  # fmt: skip
    return (carried, adds) if isinstance(carried, np.ndarray) and adds else None


def _bound_in_update(step: TrainingStep, name: str, before: int) -> str | None:
    """The expression the update's own statements bind `name` to before line `before` (`g = acc[k] / k`,
    then `cache[k] += g ** 2` and `params[k] -= lr * g / ...`); None when they do not bind it once."""
    loop = step.loop
    if not name.isidentifier() or not isinstance(loop, (ast.For, ast.While)):
        return None
    bound = [
        n.value for s in loop.body if step.update_line <= s.lineno <= step.update_end_line for n in ast.walk(s)
        if isinstance(n, ast.Assign) and n.lineno < before and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
    ]  # fmt: skip
    return ast.unparse(bound[0]) if len(bound) == 1 else None


def _held_in_list(runner: Runner, moved: Moved) -> tuple[str, Path, Any, list[Any]] | None:
    """(`net.grads[0]`, its path, its value, the statements adding to it) for a parameter held in a list
    of its object (`net.weights[0]`) beside another list of as many arrays (`self.grads`) whose entry at
    the same place has the gradient's shape and that a method of the object's class adds into
    (`self.grads[0] += self.x.T @ d_h`): the update walks the two together (`zip(self.weights, self.grads)`).
    None for anything else."""
    path = moved.path
    if path is None or len(path) < 3 or path[-1][0] != "item" or path[-2][0] != "attr" or not isinstance(path[-1][1], int):
        return None
    index, own = path[-1][1], path[-2][1]
    try:
        holder = resolve(runner.state.values, path[:-2])
        weights = getattr(holder, own)
    except (KeyError, AttributeError, IndexError, TypeError):
        return None
    tree = source_tree(runner.path)[1]
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == type(holder).__name__] if tree is not None else []
    for attribute, value in vars(holder).items() if hasattr(holder, "__dict__") else ():
        if attribute == own or not isinstance(value, (list, tuple)) or len(value) != len(weights):
            continue
        entry = value[index]
        if not isinstance(entry, np.ndarray) or entry.shape != np.shape(moved.gradient) or entry is weights[index]:
            continue
        adds = [
            n for c in classes for n in ast.walk(c)
            if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Subscript)
            and ast.unparse(n.target.value) == f"self.{attribute}"
        ]  # fmt: skip
        at = [n for n in adds if isinstance(n.target.slice, ast.Constant) and n.target.slice.value == index]
        adds = at or adds  # `self.grads[0] += ...` for the first weight, when each entry is added to by its own statement
        if adds:
            where = (*path[:-2], ("attr", attribute), ("item", index))
            return describe(where), where, entry, adds
    return None


def _held_entry(runner: Runner, moved: Moved, expression: str) -> tuple[str, Any, list[Any]] | None:
    """(`self.grads['W1']`, its value, the statements adding to it) for an update reading an entry of a
    dictionary its object holds under the loop's key (`self.params[k] -= lr * self.grads[k]`), when a
    method of the object's class adds into that dictionary's entries, directly or through a name bound
    to it (`P, G = self.params, self.grads`, then `G["W2"] += H.T @ d`). None for anything else."""
    found = re.fullmatch(r"\s*((?:[^\W\d]\w*\.)+[^\W\d]\w*)\[\s*[^\W\d]\w*\s*\]\s*", expression)
    key = _item_key(moved)
    if found is None or key is None:
        return None
    container = found[1]
    owner, *attributes = container.split(".")
    value = runner.state.values.get(owner)
    if value is None and owner == "self":
        value = _self_of(runner, moved)  # the update in a method the loop calls (`model.step(lr)`): `self` is the parameter's holder
    holder = value
    try:
        for attribute in attributes:
            value = getattr(value, attribute)
        carried = value[key]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    if owner != "self" or len(attributes) != 1 or not isinstance(carried, np.ndarray):
        return None
    tree = source_tree(runner.path)[1]
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == type(holder).__name__] if tree is not None else []
    adds = []
    for function in (f for c in classes for f in ast.walk(c) if isinstance(f, ast.FunctionDef)):
        aliases = {container}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs = (
                    zip(node.targets[0].elts, node.value.elts)
                    if isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Tuple) and len(node.targets[0].elts) == len(node.value.elts)
                    else [(node.targets[0], node.value)]
                )
                aliases |= {t.id for t, v in pairs if isinstance(t, ast.Name) and ast.unparse(v) == container}
        adds += [
            n for n in ast.walk(function)
            if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Subscript) and ast.unparse(n.target.value) in aliases
        ]  # fmt: skip
    return (f"{container}[{key!r}]", carried, adds) if adds else None


def _self_of(runner: Runner, moved: Moved) -> Any:
    """The object an update written in a method (`self.params[k] -= lr * self.grads[k]`) moves the parameter of, read
    from where the loop's frame holds the parameter (`model.params['W1']`): the path without the steps the update's
    target takes after `self` (`.params`, `[k]`). None when the target does not start at `self` or the path is shorter."""
    target = moved.site.update.target
    if moved.path is None or not target.startswith("self."):
        return None
    steps = len(re.findall(r"\.[^\W\d]\w*|\[[^\]]*\]", target[len("self"):]))
    if steps == 0 or len(moved.path) <= steps:
        return None
    try:
        return resolve(runner.state.values, moved.path[:-steps])
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _keyed_alike(target: Any, written: str) -> bool:
    """`acc[k] += g[k]` in a loop over the keys adds to `acc['W1']`: the same container under a loop's key."""
    import ast

    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and isinstance(target.slice, ast.Name)):
        return False
    return written.partition("[")[0] == target.value.id and written != target.value.id


def _summed_name(expression: str, key: Any) -> str:
    """The name or entry a gradient expression reads its sum from: `dW1` of `dW1`, `grads['W2']` of
    `(grads[k]) / (batch)` for the parameter under the key 'W2'; `expression` when it reads no one."""
    import ast

    from backprop_doctor.static.steps import _names_gradient

    if expression.isidentifier():
        return expression
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return expression
    entries = [n for n in ast.walk(node) if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)]
    if len(entries) == 1:
        return _entry(ast.unparse(entries[0]), key) or expression
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and _names_gradient(n)]
    return names[0] if len(names) == 1 and not entries else expression


def _entry_value(values: dict[str, Any], name: str) -> Any:
    """The value of `grads['W2']` (a dictionary's or a list's entry under a literal key) in `values`; None otherwise."""
    import ast

    try:
        node = ast.parse(name, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant)):
        return None
    try:
        return values.get(node.value.id)[node.slice.value]
    except (TypeError, KeyError, IndexError):
        return None


def _unparsed(text: str) -> str:
    """`text` as `ast.unparse` writes it (`grads["W2"]` and `grads['W2']` alike)."""
    import ast

    try:
        return ast.unparse(ast.parse(text, mode="eval").body)
    except SyntaxError:
        return text


TRUNCATING = 100  # a truncation length below this cuts a recurrent step's backward pass short


def _truncated(runner: Runner, moved: Moved) -> tuple[str, int, int] | None:
    """(the truncation as written, its loop's line, its value) when the update's gradient is summed in
    a backward loop through time bounded by a truncation length (`max(0, t - self.bptt_truncate)`)
    that is short at the program's state: truncated BPTT, not the loss's gradient by design."""
    from backprop_doctor.static.truncation import truncated_at

    found = truncated_at(source_tree(moved.site.file or runner.path)[1], moved.gradient_name or moved.site.gradient.strip())
    if found is None:
        return None
    text, line = found
    namespace = dict(runner.state.values)
    if text.startswith("self.") and moved.path and len(moved.path) >= 2:
        with contextlib.suppress(Exception):
            namespace["self"] = resolve(runner.state.values, moved.path[:-1])  # the object that holds the parameter
    try:
        value = eval(text, {}, namespace)  # noqa: S307 - a name or attribute of the user's own state
    except Exception:  # noqa: BLE001 - not readable at the step's state: not judged a truncation
        return None
    return (text, line, int(value)) if isinstance(value, (int, np.integer)) and 0 <= value < TRUNCATING else None


def _wrong_untruncated(runner: Runner, moved: Moved, truncation: str, base: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator) -> bool:
    """Whether the gradient is still wrong when the step runs again with its truncation length
    (`self.bptt_truncate`) longer than any sequence: a mistake through time, which truncation only
    hides. A gradient the longer walk leaves as it was, while it changes another, is wrong as it is.
    False when that cannot be run (the gradient is computed where the step cannot read it)."""
    name = moved.gradient_name or moved.site.gradient.strip()
    head, _, attribute = truncation.partition(".")
    if head == "self" and moved.path is not None and len(moved.path) >= 2:
        path: Path = (*moved.path[:-1], ("attr", attribute))  # on the object that holds the parameter
    elif not attribute and truncation.isidentifier():
        path = (("name", truncation),)
    else:
        return False
    try:
        namespace = runner.run([(path, 10**9)])
    except Exception:  # noqa: BLE001 - the step does not run with it lifted: not judged
        return False
    lifted = namespace.get(name) if name.isidentifier() else None
    if not isinstance(lifted, np.ndarray) or lifted.shape != np.shape(moved.gradient):
        return False
    if np.array_equal(lifted, moved.gradient):
        others = [(namespace.get(n), m.gradient) for m in runner.capture.moved if (n := m.gradient_name or m.site.gradient.strip()) != name and n.isidentifier()]
        return any(isinstance(a, np.ndarray) and np.shape(a) == np.shape(b) and not np.array_equal(a, b) for a, b in others)
    return _measure(name, None, lifted, base, loss_moved, base_loss, rng).wrong


def _penalty_left_out(measured: Measured, gradient: Any, base: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator) -> float | None:
    """λ when the loss's gradient is this gradient plus `λ·p`: the loss holds an L2 penalty λ/2·Σp² the
    gradient leaves out (measured again with that term added, it agrees in every direction)."""
    if not isinstance(base, np.ndarray) or base.size < 3 or not measured.directions:
        return None
    own = _unit(np.asarray(gradient, dtype=np.float64))
    along = measured.directions[0]
    projected = float(np.sum(base * own)) if own is not None else 0.0
    if own is None or abs(projected) <= 1e-12 * max(_scale(base), 1e-300):
        return None
    penalty = (along.numerical - along.analytic) / projected
    if not 0 < penalty <= MAX_DECAY:
        return None
    again = _measure(measured.name, measured.line, np.asarray(gradient, dtype=np.float64) + penalty * base, base, loss_moved, base_loss, rng)
    return penalty if not (again.unused or again.inconclusive or again.wrong) else None


PENALTY_SHARE = 0.1  # a term off from the loss's penalty by less than this share of its own pull is the same term (rounding)


def _penalty_factor(runner: Runner, moved: Moved, extra: float) -> PenaltyFactor | None:
    """The gradient's own L2 term on this parameter when it pulls `extra` × the parameter more (less, when
    negative) than the loss's gradient does, yet the loss holds a penalty on it too: the one term the file's
    gradients add for it (`static.penalty_strength.decay_terms`: `dW1 + 2 * self.reg * W1`, scaled by a
    setting the loss squares with) pulls by `c · S` (S the setting's value as the step ran), and the loss's
    own penalty by `c · S − extra`, which is neither 0 (a penalty the loss leaves out: `step-penalty-mismatch`)
    nor the term's pull (no penalty left out). None otherwise."""
    from backprop_doctor.replay.curve import _strength_held
    from backprop_doctor.static.penalty_strength import decay_terms, parameter_name, penalty_held

    name = parameter_name(describe(moved.path))
    terms = [t for t in decay_terms(source_tree(runner.path)[1]) if parameter_name(t.parameter) == name]
    if len({(t.setting, t.factor) for t in terms}) != 1 or not terms[0].factor > 0:
        return None
    term = terms[0]
    strength = _strength_held(runner.state.values, term.name)
    if strength is None:
        return None
    written = term.factor * strength
    own = written - extra  # the loss's penalty's pull on the parameter
    asked_text = None
    floor = PENALTY_SHARE
    held = penalty_held(source_tree(runner.path)[1], term.parameter, term.name)
    if held is not None:  # the file's loss squares this very parameter beside the setting: a weak pull of its own is real
        floor = HELD_SHARE
        value = _coefficient_value(runner, held.coefficient)
        others = {n.id for n in ast.walk(ast.parse(held.coefficient, mode="eval")) if isinstance(n, ast.Name)} - {term.name}
        if others and value is not None and own > 0 and abs(2 * value - own) <= PENALTY_SHARE * own:
            asked_text = held.derivative  # a coefficient beside the setting (`lam / (2 * m)`): say it as the loss writes it
    if not (floor * written <= own and abs(own - written) >= PENALTY_SHARE * written):
        return None
    return PenaltyFactor(term.setting, term.parameter, term.factor, own / strength, strength, term.line, asked_text)


HELD_SHARE = 1e-3  # with the loss's penalty on the parameter written, its pull may be this small a share of the term's (`lam / m` beside `lam`)


def _coefficient_value(runner: Runner, expression: str) -> float | None:
    """The number a penalty's coefficient (`lam / (2 * m)`) held as the step ran, from the program's own values."""
    names = {n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)}
    values = {n: runner.state.values.get(n) for n in names}
    if any(not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) for v in values.values()):
        return None
    try:
        return float(eval(compile(ast.parse(expression, mode="eval"), "<coefficient>", "eval"), {"__builtins__": {}}, values))
    except Exception:  # noqa: BLE001 - an expression the values do not evaluate names no number
        return None


def _decayed_at_scale(runner: Runner, moved: Moved, measured: Measured, base_loss: float, rng: np.random.Generator, scale: float) -> Measured:
    """`measured`, or the update measured again as `scale` times the loss's gradient plus a penalty
    (`_decayed`) once the other parameters showed that scale (`_program_scale`): a wrong one could not
    be told from a penalised one before the scale was known. Only for an update a penalty's own
    statement was added into (`Moved.penalised`): a wrong gradient of a few numbers can pass for a
    scaled one plus a decay in two directions, so the program must have written one."""
    if not moved.penalised or not measured.wrong or measured.unused or measured.decay is not None or not isinstance(moved.value, np.ndarray) or moved.value.size < 3:
        return measured
    again = _parameter(runner, moved, base_loss, rng, scales=(scale,))
    if again is None or again.decay is None:
        return measured
    again.scale, again.proportional = scale, True
    return again


def _writes_sign(runner: Runner, moved: Moved) -> bool:
    """Whether the program writes the sign of a parameter into this update: its own penalty statement
    folded in (`Moved.penalised`), `np.sign(` in the update, or in a statement of the step that forms the
    gradient it reads (`dW += lam * np.sign(W)`). An L1 penalty is only fitted where it is written: a
    wrong gradient plus a constant on weights of one sign is λ·sign(W) too."""
    if moved.penalised or "sign(" in moved.site.gradient:
        return True
    name = moved.gradient_name or moved.site.gradient.strip()
    if not name:
        return False
    for statement in runner.step.prefix:
        text = ast.unparse(statement)
        if "sign(" in text and re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text):
            return True
    return False


def _decayed(
    measured: Measured, gradient: Any, base: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator,
    scales: tuple[float, ...] = (1.0,), settings: dict[str, float] | None = None, l1: bool = False,
) -> Measured | None:
    """The gradient is `s` times the loss's plus `λ·p`, an L2 penalty (weight decay) the loss leaves
    out, or plus `λ·sign(p)`, an L1 penalty's subgradient (`W -= lr * (dW + lam * np.sign(W))`):
    measured again without that term, it agrees in every direction (as `s` times the loss's, for
    each candidate scale `s`: a mean over the batch where the loss is a sum). None when no such λ > 0
    explains the difference. The decay kept is in the loss's units, λ / s. A λ that is a strength the
    program sets by name (`settings`: `weight_decay = 5.0`, the update `W -= lr * (dW + weight_decay * W)`)
    is a decay beyond `MAX_DECAY` too; `decay_setting` then says which, and how many times the loss's own
    slope its pull is."""
    if not isinstance(base, np.ndarray) or base.size < 3 or not measured.directions:
        return None  # with fewer numbers, two directions leave too little to tell a penalty from chance
    own = _unit(np.asarray(gradient, dtype=np.float64))
    if own is None:
        return None
    along = measured.directions[0]
    for kind, term in (("L2", base), ("L1", np.sign(base))) if l1 else (("L2", base),):
        projected = float(np.sum(term * own))
        if abs(projected) <= 1e-12 * max(_scale(term), 1e-300):
            continue
        for scale in scales:
            decay = (along.analytic - scale * along.numerical) / projected
            setting = next((name for name, v in (settings or {}).items() if decay > 0 and abs(decay / v - 1) <= COMMON), None)
            if not (0 < decay <= MAX_DECAY or setting is not None):
                continue  # a penalty the gradient leaves out is a wrong gradient: the walk finds its line
            if abs(decay * projected) <= measured.tolerance * abs(along.analytic) and decay < SMALLEST_DECAY:
                continue  # a term within the tolerance of the slope (6e-10 · W): rounding, not a penalty
            again = _measure(measured.name, measured.line, np.asarray(gradient, dtype=np.float64) - decay * term, base, loss_moved, base_loss, rng)
            if again.unused or again.inconclusive:
                continue
            if scale == 1.0 and not again.wrong:
                again.decay, again.decay_kind = decay, kind
                if setting is not None:
                    again.decay_setting = (setting, abs(decay * projected) / max(abs(along.numerical), 1e-300))
                return again
            if scale != 1.0 and again.proportional and again.factor is not None and abs(again.factor / scale - 1) <= COMMON:
                again.decay, again.decay_kind = decay / scale, kind
                return again
    return None


def _constant_entry(expression: str) -> str | None:
    """`layer['db']` for `layer["db"]` (one spelling of an entry under a constant string key); None otherwise."""
    import ast

    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return f"{node.value.id}[{node.slice.value!r}]"
    return None


def _entry(expression: str, key: Any) -> str | None:
    """`grads['b1']` for the gradient `grads[k]` of the parameter stored under the key 'b1', or for
    `grads["b1"]` itself (as `static.step_functions.inner_assigned` spells an entry); None for any
    other expression."""
    import re

    found = re.fullmatch(r"\s*(\w+(?:\.\w+)?)\[\s*[^\W\d]\w*\s*\]\s*", expression)
    if found and key is not None:
        return f"{found[1]}[{key!r}]"
    prefixed = re.fullmatch(r"""\s*(\w+)\[\s*(['"])(\w+)\2\s*\+\s*[^\W\d]\w*\s*\]\s*""", expression)  # `grads['d' + k]`
    if prefixed and isinstance(key, str):
        return f"{prefixed[1]}[{prefixed[3] + key!r}]"
    constant = re.fullmatch(r"""\s*(\w+)\[\s*(['"])(\w+)\2\s*\]\s*""", expression)  # `grads['dw']` itself
    if constant:
        return f"{constant[1]}[{constant[3]!r}]"
    return _layer_entry(expression, key)


def _layer_entry(expression: str, key: Any) -> str | None:
    """`grads['dW1']` for the gradient `grads["dW" + str(l)]` (or `grads[f"dW{l}"]`) of the parameter stored under
    'W1' by a key computed the same way (`net["W" + str(l)]`): the gradient's key spells the parameter's, its
    layer number and all, behind a prefix of its own (`d`)."""
    import ast

    from backprop_doctor.static.updates import key_stem

    if not isinstance(key, str) or (own := re.match(r"[^\W\d]+", key)) is None:
        return None
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)) or isinstance(node.slice, ast.Constant):
        return None
    stem = key_stem(node.slice)
    if stem is None or not stem.endswith(own[0]) or stem == own[0]:
        return None
    return f"{node.value.id}[{stem[: -len(own[0])] + key!r}]"


def _owned_entry(entry: str) -> str | None:
    """`self.grads['V']` for `net.grads['V']`: the entry as the methods of `net`'s class spell it
    (`static.step_functions.inner_assigned`); None for an entry of a plain name."""
    holder, dot, rest = entry.partition(".")
    return f"self.{rest}" if dot and holder.isidentifier() and holder != "self" else None


def _imported_line(step: TrainingStep, expression: str, key: Any) -> tuple[int, str] | None:
    """Where a gradient is computed inside a function the loop imports from another file of the
    user's (`grads["b1"] = ...` in `nn_utils.backward`), as (line, file); None when it is not."""
    import re

    entry = _entry(expression, key)
    names = [entry] if entry else []
    names += [n for n in re.findall(r"[^\W\d]\w*", expression) if n not in step.assigned and n not in step.inner_assigned]
    found = next((step.imported_assigned[n] for n in names if n in step.imported_assigned), None)
    return (found[1], found[0]) if found else None


def _clipped(step: TrainingStep, result: StepResult, tree: Any = None) -> str | None:
    """The step's gradient-clipping call, when it explains the updates: most parameters' gradients
    are the gradient times one factor below 1 (`clip_grads(grads, max_norm)` rescales them all by
    `max_norm / norm`). That factor is then the program's own scale (`Measured.scale`): the
    parameters at it are right, any other is judged against it."""
    import ast

    from backprop_doctor.static.clipping import step_clip

    found = step_clip(tree, step)  # `clip_grads(...)`, also in `backward_pass`, which clips before it returns
    if found is None:
        return _clipped_inline(step, result)
    call = ast.unparse(found.call)
    factors = [m.factor for _, m in result.wrong if m.proportional and m.factor is not None and 0 < m.factor < 1]
    best = _shared_factor(factors)
    if best is None or 2 * sum(abs(g / best - 1) <= COMMON for g in factors) < len(result.parameters):
        return call if _clipped_each(found, result) or _rescaled_together(found, result) else None
    for _, measured in result.parameters:
        measured.scale = best
    return call


def _clipped_each(found: Any, result: StepResult) -> bool:
    """Whether the clip rescales gradients each by a factor of its own, to the clip's one threshold
    (`g *= max_norm / norm` for each array whose norm passes it): a wrong parameter's gradient that
    is the gradient times a factor below 1 (a one-number one: its one factor), and whose program's
    gradient, the one it stepped with, has the threshold's norm to within `COMMON`, is right at its
    own factor (`Measured.scale`). Any other stays wrong: a gradient wrong otherwise, or rescaled
    to any other norm. False when none is explained so."""
    from backprop_doctor.replay.clipping import clip_threshold

    runner = getattr(result, "runner", None)
    threshold = clip_threshold(found, dict(getattr(getattr(runner, "state", None), "values", {}) or {}))
    return threshold is not None and _rescaled_to(threshold[1], result)


def _rescaled_together(found: Any, result: StepResult) -> bool:
    """Whether the clip rescaled every gradient by one factor to the clip's one threshold, whatever the
    factor's size: the gradients the program stepped with have, together, the threshold's norm to within
    `COMMON`, and most parameters are the loss's gradient times one positive factor. A factor above 1 is a
    clip that scales small gradients up (`scale = max_norm / norm` with no `min(1, ...)`: `step-clip-always-
    rescales` names it), not a gradient computed wrong; that factor is then the program's own scale
    (`Measured.scale`), and any parameter at another is judged against it. A program's gradients scaled up
    by a mistake of their own (a factor 2, a missing `/ m`) and passed through a clip that did not clip
    have another norm, and stay wrong."""
    from backprop_doctor.replay.clipping import clip_threshold

    runner = getattr(result, "runner", None)
    threshold = clip_threshold(found, dict(getattr(getattr(runner, "state", None), "values", {}) or {}))
    gradients = [moved.gradient for moved, _ in result.parameters]
    if threshold is None or not gradients or any(g is None for g in gradients):
        return False
    try:
        norm = math.sqrt(sum(float(np.sum(np.square(np.asarray(g, dtype=float)))) for g in gradients))
    except (TypeError, ValueError):
        return False
    if not math.isfinite(norm) or abs(norm / threshold[1] - 1) > COMMON:
        return False
    factors = [m.factor for _, m in result.wrong if (m.proportional or m.single) and m.factor is not None and m.factor > 0]
    best = _shared_factor(factors)
    if best is None or 2 * sum(abs(g / best - 1) <= COMMON for g in factors) < len(result.parameters):
        return False
    for _, measured in result.parameters:
        measured.scale = best
    return True


def _clipped_inline(step: TrainingStep, result: StepResult) -> str | None:
    """A norm clip the step writes out (`static.clipping.inline_clip`: `if norm > c: g = g * c / norm` in the
    loop that updates), when it explains the updates its way (`_rescaled_to`): that rescaling, as written."""
    from backprop_doctor.replay.clipping import _number
    from backprop_doctor.static.clipping import inline_clip

    found = inline_clip(step)
    if found is None:
        return None
    runner = getattr(result, "runner", None)
    limit = _number(found.threshold, dict(getattr(getattr(runner, "state", None), "values", {}) or {}))
    if limit is None:
        return None
    if _rescaled_to(limit, result):
        return ast.unparse(found.statement)
    _grown_by_clip(found, limit, result)
    return None


def _grown_by_clip(found: Any, limit: float, result: StepResult) -> None:
    """A wrong gradient that leaves the clip the step writes out (`g = g * norm / c`, the quotient upside down)
    with a norm above its threshold: a clip never lets one out so, so the clip's rescaling is where it goes
    wrong, and the gradient is named there (`Measured.line`). Only the gradients the update reads under the
    name the clip rebinds (`g`)."""
    target = found.statement.targets[0] if hasattr(found.statement, "targets") else found.statement.target
    name = getattr(target, "id", None)
    for moved, measured in result.wrong:
        if moved.site.gradient.strip() != name or moved.gradient is None:
            continue
        norm = float(np.linalg.norm(np.asarray(moved.gradient, dtype=float)))
        if math.isfinite(norm) and norm > limit * (1 + COMMON):
            measured.line, measured.file = found.statement.lineno, None


def _rescaled_to(limit: float, result: StepResult) -> bool:
    """`_clipped_each` at the clip's threshold `limit`: the wrong parameters whose gradient is the loss's
    times a factor below 1 and whose program's gradient has the threshold's norm are right at that factor.
    A factor between -1 and 0 so explained is the clip's size with the sign flipped (`p += lr * g` after
    the clip climbs): judged at the size alone, it stays wrong, as minus the gradient."""
    explained = [
        measured
        for moved, measured in result.wrong
        if (measured.proportional or measured.single)
        and measured.factor is not None
        and 0 < abs(measured.factor) < 1
        and moved.gradient is not None
        and abs(float(np.linalg.norm(np.asarray(moved.gradient, dtype=float))) / limit - 1) <= COMMON
    ]
    for measured in explained:
        measured.scale = abs(measured.factor)
    return bool(explained)


def _blame_updates(result: StepResult) -> None:
    """A wrong gradient formed inside its update (`W += lr * X.T @ dz`) from adjoints shown right
    (another update reads `dz` and is right, or the walk measured `dz` right) is wrong in the update
    itself: its line is the update's, not `dz`'s. So is a gradient of the opposite sign that its
    update adds (`p[k] += lr * grads[k]`): turning `+` into `-` is the one-line fix."""
    import re

    def names(moved: Moved) -> list[str]:
        expression = moved.gradient_name or moved.site.gradient
        # a name a function the step calls forms (`dW1 / len(xs)`, `dW1` summed record by record in `add_record`) counts:
        # the count beside it (`xs`), which the right updates read too, is not what the gradient is formed from
        return [n for n in re.findall(r"[^\W\d]\w*", expression) if n in result.step.assigned or n in result.step.inner_assigned]

    right = {n for moved, m in result.parameters if not m.wrong and not m.unused and not m.inconclusive for n in names(moved)}
    right |= {a.name for a, m in result.adjoints if not m.wrong}
    for moved, measured in result.parameters:
        expression = moved.gradient_name or moved.site.gradient
        read = names(moved)
        if not measured.wrong:
            continue
        walked = moved.gradient_name is None and moved.site.listwise is not None and _scaled_element(expression, moved.site.listwise[1])
        if walked:
            continue  # `(eta / len(mini_batch)) * nw`: the list's entry scaled by counts, computed where the list is filled
        if not re.fullmatch(r"[\w.]+(\[[^\]]+\])*", expression.strip()) and read and set(read) <= right:
            measured.line, measured.file = velocity_formed(moved) or moved.site.line, moved.site.file
        elif moved.site.sign > 0 and measured.proportional and measured.factor is not None and abs(measured.factor + 1) < COMMON:
            measured.line, measured.file = moved.site.line, moved.site.file  # `p[k] += lr * grads[k]`: `-=` makes it follow the gradient
        elif (
            measured.proportional and measured.factor is not None and abs(measured.factor + 1) < COMMON and (formed := velocity_formed(moved)) is not None
            and any(not m.wrong and not m.unused and other.site.sign == -moved.site.sign for other, m in result.parameters)
        ):  # fmt: skip
            measured.line = formed  # `v0 = 0.9 * v0 - 0.5 * np.dot(l0.T, d0)` beside `v1 = 0.9 * v1 + ...`, right: the sign written in the velocity


def velocity_formed(moved: Moved) -> int | None:
    """The line of the velocity a momentum update adds, when the gradient is written out in it
    (`v1 = 0.9 * v1 + 0.5 * np.dot(l1.T, l2_delta)` then `syn1 += v1`): a product, a call, not a name
    or an entry computed elsewhere; None otherwise."""
    import ast

    if moved.site.velocity is None or moved.gradient_name is not None or moved.site.file is not None:
        return None
    try:
        written = ast.parse(moved.site.gradient.strip(), mode="eval").body
    except SyntaxError:
        return None
    return moved.site.velocity[0] if isinstance(written, (ast.BinOp, ast.Call, ast.UnaryOp)) else None


def _computed_line(runner: Runner, expression: str, line: int | None) -> int | None:
    """Past a line that only stores the gradient (`grads["dW" + str(l)] = dW`, an entry of a tuple
    a function returns) to the one that computes it, in the checked file (`static.origins`)."""
    import re

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.origins import computed_at, entry_computed_at

    tree = source_tree(runner.path)[1]
    if tree is None:
        return line
    built = re.fullmatch(r"""\s*(\w+)\[\s*(['"])(\w+)\2\s*\+.*\]\s*""", expression)  # `grads['dW' + str(l)]`
    if built is not None:
        return entry_computed_at(tree, built[1], built[3]) or line
    return (computed_at(tree, line) if line is not None else None) or line


def _gradient_line(step: TrainingStep, expression: str, key: Any = None, inside: bool = False) -> int | None:
    """The line that computes the gradient expression's first name (`dW1`, `grads`): in the loop, or
    inside the function the loop took it from (`dw = grads["dw"]` after `grads, cost = propagate(...)`).
    For `grads[k]` moving the parameter stored under `key`, the line of `grads[key]` where it is set.
    `inside`: the expression is read in a function the loop calls, whose names are its own."""
    import ast
    import re

    entry = _entry(expression, key)
    if entry in step.inner_assigned:
        return step.inner_assigned[entry]
    if entry and (owned := _owned_entry(entry)) in step.inner_assigned:
        return step.inner_assigned[owned]  # `net.grads[k]` of `self.grads["V"] = ...` in the method the loop calls
    leading = re.match(r"\s*\w+\[[^\]]*\]", expression)  # `grads['dW']` of `grads['dW'].T` read where the update runs
    entry = entry or (_entry(leading[0], None) if leading else None)
    if entry in step.inner_assigned:
        return step.inner_assigned[entry]
    returned = f"return{entry[entry.index('['):]}" if entry else None
    if returned in step.inner_assigned:  # `grads = net.backward(...)` of a `return {"db": db, ...}`
        return step.inner_assigned[returned]
    if entry and (anyone := f"{entry[: entry.index('[')]}[*]") in step.inner_assigned:
        return step.inner_assigned[anyone]  # `grads["W" + k] += s["z"].T @ da[k]` in the function's loop: every entry's line
    if inside and leading and leading[0].strip() == expression.strip() and (found := _constant_entry(expression)) in step.inner_assigned:
        return step.inner_assigned[found]  # `layer['db']` of `for layer in layers`, set by the backward's own loop over them
    if entry is not None and (stored := _entry_stored(step.prefix, entry)) is not None:
        return stored  # `grads["W1"] = X.T @ dh` in the loop, read as `grads[key]` by an optimizer's `update`
    attributes = [a for a in re.findall(r"[^\W\d]\w*\.[^\W\d]\w*", expression) if a in step.inner_assigned]
    if attributes and not any(n in step.assigned for n in re.findall(r"[^\W\d]\w*", expression)):
        return step.inner_assigned[attributes[0]]  # `eta * self.delta * x`: where the method set `self.delta`

    backward_name = re.compile(r"(?i)delta|grad|nabla|^d_?[A-Za-z]|err")
    names = [n for n in re.findall(r"[^\W\d]\w*", expression) if n in step.assigned and not inside]
    # `gW1`, `gb2`, `gU`: g before the parameter's name, as d is
    backward = [n for n in names if backward_name.search(n) or re.fullmatch(r"g(?:[A-Z_]\w*|[a-z]\d+)", n)]
    if names and not backward and not re.fullmatch(r"\s*[^\W\d]\w*\s*", expression):
        return None  # `1 / m * X.T @ (h - y)`: the gradient is written out in the update itself, not in `h`'s line
    chosen = backward or names
    inner = [n for n in re.findall(r"[^\W\d]\w*", expression) if n in step.inner_assigned and (backward_name.search(n) or re.fullmatch(r"g(?:[A-Z_]\w*|[a-z]\d+)", n))]
    if not chosen and inner:
        return step.inner_assigned[inner[0]]  # `self.w_in += grad_in` in the method that computed `grad_in`
    if not chosen:
        keys = re.findall(r"""\[\s*['"](\w+)['"]\s*\]""", expression)  # `grads['dW1']` read where the update runs
        return next((step.inner_assigned[k] for k in keys if k in step.inner_assigned), None)
    name = max(chosen, key=lambda n: step.assigned[n])
    line = step.assigned[name]
    stmt = next((s for s in step.prefix if s.lineno == line), None)
    written = [s.lineno for s in step.prefix if s.lineno > line and name in _changed(s) and name not in _targets(s)]
    if written:
        return written[-1]  # `d[range(N), y] -= 1` after `d = p.copy()`: the gradient is complete there
    value = getattr(stmt, "value", None)
    if _empty_holder(value) and (filled := _filled_inside(step.prefix, name, line)):
        return filled[-1]  # `dW = {}`, then `dW[l] = A[l - 1].T @ dZ` in a loop over the layers: computed there
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and value.slice.value in step.inner_assigned:
        return step.inner_assigned[value.slice.value]  # `dw = grads["dw"]`: where `dw` is computed
    if isinstance(value, ast.Call) and name in step.inner_assigned:
        return step.inner_assigned[name]  # `dW1, db1 = b_propagation(...)`: the function's own `dW1`
    if isinstance(value, ast.Call) and not re.search(rf"\b{re.escape(name)}\s*\[", expression) and (place := _unpacked_place(stmt, name)) is not None:
        called = value.func.id if isinstance(value.func, ast.Name) else getattr(value.func, "attr", "")
        if (returned := f"{called}()[{place}]") in step.inner_assigned:
            return step.inner_assigned[returned]  # `ga, gb = compute_grads(...)` of `return grad_a, grad_b`: where `grad_b` is computed
    return line


def _unpacked_place(stmt: Any, name: str) -> int | None:
    """The place of `name` in the one tuple a statement unpacks a call into (`ga, gb, gc = f(...)`), None
    for any other statement or a name bound at a starred place."""
    import ast

    targets = getattr(stmt, "targets", None)
    if not isinstance(stmt, ast.Assign) or len(targets) != 1 or not isinstance(targets[0], (ast.Tuple, ast.List)):
        return None
    elts = targets[0].elts
    if any(isinstance(e, ast.Starred) for e in elts):
        return None
    places = [i for i, e in enumerate(elts) if isinstance(e, ast.Name) and e.id == name]
    return places[0] if len(places) == 1 else None


def _empty_holder(value: Any) -> bool:
    """`{}`, `[]`, `dict()`, `np.zeros_like(W)`: a container or buffer made to be filled in afterwards; a list of
    places, one per layer (`[None] * L`, `[0] * len(W)`, `[None for _ in layers]`, `[np.zeros_like(w) for w in W]`)."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        listed = value.left if isinstance(value.left, ast.List) else value.right if isinstance(value.right, ast.List) else None
        return listed is not None and bool(listed.elts) and all(isinstance(e, ast.Constant) and e.value in (None, 0) for e in listed.elts)
    if isinstance(value, ast.ListComp):
        return (isinstance(value.elt, ast.Constant) and value.elt.value in (None, 0)) or _empty_holder(value.elt)
    if isinstance(value, (ast.Dict, ast.List)):
        return not (value.keys if isinstance(value, ast.Dict) else value.elts)
    if isinstance(value, ast.Call):
        called = ast.unparse(value.func).rpartition(".")[2]
        return (called in ("dict", "list") and not value.args) or called in ("zeros", "zeros_like", "empty", "empty_like")
    return False


def _filled_inside(prefix: tuple[ast.stmt, ...], name: str, after: int) -> list[int]:
    """The lines, after `after`, of the statements nested in the pass's loops and branches that store into
    an entry of `name` (`dW[l] = ...`, `dW[i] += ...`): where a container made empty is filled."""
    found = []
    for stmt in prefix:
        if stmt.lineno <= after or not isinstance(stmt, (ast.For, ast.While, ast.If, ast.With)):
            continue
        for node in ast.walk(stmt):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in targets):
                found.append(node.lineno)
    return sorted(found)


def _bound_in_updater(runner: Runner, site: Any, expression: str) -> int | None:
    """The last line before the update, in the function that makes it, that binds the one gradient-named
    name of `expression` (`nabla_w` of `nw` walked from `zip(self.weights, nabla_w)`)."""
    import ast
    import re

    from backprop_doctor.static.definitions import find_function

    tree = source_tree(runner.path)[1]
    function = find_function(tree, site.update.function) if tree is not None and site.update.function else None
    names = [n for n in re.findall(r"[^\W\d]\w*", expression) if re.search(r"(?i)delta|grad|nabla|^d_?[A-Za-z]", n)]
    if function is None or len(set(names)) != 1:
        return None
    lines = [
        node.lineno for node in ast.walk(function) if isinstance(node, (ast.Assign, ast.AugAssign)) and node.lineno < site.line
        and names[0] in {t.id for top in (node.targets if isinstance(node, ast.Assign) else [node.target]) for t in ast.walk(top) if isinstance(t, ast.Name)}
    ]  # fmt: skip
    return max(lines) if lines else None


def _stored_under(tree: Any, expression: str, key: str) -> int | None:
    """The one line of the file that stores the entry `key` of the container `expression` reads
    (`self.grads[k]` of the key 'b0'), under a key written as a pattern: `self.grads[f"b{i}"] = ...`
    in a loop over the layers, `grads["d" + name] = ...`. None unless exactly one line matches."""
    import ast

    container = re.fullmatch(r"\s*([^\W\d][\w.]*)\[\s*[^\W\d]\w*\s*\]\s*", expression)
    if tree is None or container is None:
        return None

    def pattern(index: ast.AST) -> str | None:
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return re.escape(index.value)
        if isinstance(index, ast.JoinedStr):
            parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in index.values]
            return "".join(parts)
        if isinstance(index, ast.BinOp) and isinstance(index.op, ast.Add):
            left, right = pattern(index.left), pattern(index.right)
            return f"{left or '.+'}{right or '.+'}" if left or right else None
        if isinstance(index, ast.BinOp) and isinstance(index.op, ast.Mod) and isinstance(index.left, ast.Constant) and isinstance(index.left.value, str):
            return re.sub(r"%[-+ #0-9.]*[a-z]", ".+", re.escape(index.left.value).replace("%", "%"))  # `"W%d" % i`
        return None

    lines = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == container[1]:
                written = pattern(target.slice)
                if written is not None and ".+" in written and re.fullmatch(written, key):
                    lines.add(node.lineno)
    return lines.pop() if len(lines) == 1 else None


def _key_holding(runner: Runner, moved: Moved) -> Any:
    """The key under which the dictionary the update indexes (`params` of `params[k] -= lr * grads[k]`)
    holds the parameter the update moved, found as the program's own variable (`Wxh`, listed in
    `params` too); None where the update indexes no dictionary of the state or none holds it."""
    found = re.fullmatch(r"\s*([^\W\d]\w*)\[\s*[^\W\d]\w*\s*\]\s*", moved.site.update.target)
    container = runner.state.values.get(found[1]) if found is not None and moved.path is not None else None
    if not isinstance(container, dict):
        return None
    try:
        live = runner.state_value(moved.path)
    except Exception:  # noqa: BLE001 - a path the state no longer has
        return None
    keys = [k for k, v in container.items() if v is live]
    return keys[0] if len(keys) == 1 else None


def _scaled_element(expression: str, element: str) -> bool:
    """`lr / len(pick) * g`, `(eta / len(mini_batch)) * nw` of `nw`: the element a list comprehension's update walks,
    a factor of a product whose other factors read no array of the step's (numbers, counts)."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return False
    factors: list[tuple[bool, ast.expr]] = []  # (a divisor, the factor)

    def split(n: ast.expr, divided: bool = False) -> None:
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            split(n.left, divided)
            split(n.right, divided)
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div):
            split(n.left, divided)
            split(n.right, not divided)
        else:
            factors.append((divided, n))

    split(node)
    own = [d for d, f in factors if isinstance(f, ast.Name) and f.id == element]
    others = [f for d, f in factors if not (isinstance(f, ast.Name) and f.id == element)]
    return own == [False] and bool(others) and not any(isinstance(n, ast.Name) and n.id == element for f in others for n in ast.walk(f))


def _list_entry_line(tree: Any, line: int, name: str, index: int, length: int) -> int | None:
    """The statement of the function holding `line` that stores entry `index` of the list `name` (of `length`
    entries): one whose index is that number (`nabla_b[-1]` for the last), else the one store whose index is a
    variable (`nabla_b[-l]` in a loop over the layers); None when neither is one statement."""
    from backprop_doctor.static.steps import _scope_of

    name = re.sub(r"\[\s*-?\d+\s*\]$", "", name.strip())  # `nabla_w[0]`: the program's own name for the entry
    if tree is None or not re.fullmatch(r"[^\W\d]\w*", name) or length < 1:
        return None
    scope = _scope_of(tree, line)
    numbered: set[int] = set()
    variable: set[int] = set()
    for node in ast.walk(scope):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name):
                continue
            try:
                at = ast.literal_eval(target.slice)
            except ValueError:
                variable.add(node.lineno)
                continue
            if isinstance(at, int) and at % length == index % length:
                numbered.add(node.lineno)
    if len(numbered) == 1:
        return numbered.pop()
    return variable.pop() if not numbered and len(variable) == 1 else None


def _item_key(moved: Moved) -> Any:
    """The key a parameter is stored under in its container (`'W1'` of `params['W1']`), None for any other."""
    return moved.path[-1][1] if moved.path and moved.path[-1][0] == "item" else None


def _entry_parts(entry: str) -> tuple[str, Any] | None:
    """("grads", "W1") of the entry `grads['W1']`; None when its key is no literal."""
    name, _, rest = entry.partition("[")
    try:
        return name, ast.literal_eval(rest[:-1])
    except (ValueError, SyntaxError):
        return None


def _entry_literal(prefix: tuple[Any, ...], entry: str) -> Any:
    """The expression stored under the dict entry `entry` (`g['B']`) by a dict literal bound to the dict's
    name in the pass (`g = {"A": x.T @ dh, "B": h.T @ dr}`), the last one; None otherwise."""
    if (parts := _entry_parts(entry)) is None:
        return None
    name, key = parts
    found = None
    for stmt in prefix:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets) and isinstance(node.value, ast.Dict):
                found = next((v for k, v in zip(node.value.keys, node.value.values) if isinstance(k, ast.Constant) and k.value == key), None)
    return found


def _entry_stored(prefix: tuple[Any, ...], entry: str) -> int | None:
    """The last line of the pass that stores the dict entry `entry` (`grads['W1']`): an assignment
    to it, or the value under its key in a dict literal bound to the dict's name
    (`grads = {"W2": h.T @ ds, ...}`)."""
    if (parts := _entry_parts(entry)) is None:
        return None
    name, key = parts
    found = None
    for stmt in prefix:
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name:
                    if isinstance(target.slice, ast.Constant) and target.slice.value == key:
                        found = node.lineno
                elif isinstance(target, ast.Name) and target.id == name and isinstance(node.value, ast.Dict):
                    for k, v in zip(node.value.keys, node.value.values):
                        if isinstance(k, ast.Constant) and k.value == key:
                            found = v.lineno
    return found


def comparable(value: Any, forward: Any) -> Any:
    """`value` as an adjoint of `forward`, or None: a number of a number (scalar weights: `d_out_o1`
    of `out_o1`), or a float array of an array of the same shape."""
    if number(value) is not None and number(forward) is not None and not isinstance(forward, np.ndarray):
        return number(value)
    if not (isinstance(value, np.ndarray) and isinstance(forward, np.ndarray)) or value.shape != forward.shape:
        return None
    return value if forward.dtype.kind == "f" else None


def _resolved(adjoint: Adjoint, namespace: dict[str, Any]) -> Adjoint:
    """The forward value `adjoint` differentiates: the first its name means, or, when that one has
    another shape, the next that fits (`delta2` of `z1` where layers are counted from the input)."""
    value = namespace.get(adjoint.name)
    for forward, index in ((adjoint.forward, adjoint.forward_index), *adjoint.others):
        if np.shape(namespace.get(forward)) == np.shape(value):
            return adjoint if forward == adjoint.forward else dataclasses.replace(adjoint, forward=forward, forward_index=index)
    return adjoint


def _adjoint(runner: Runner, adjoint: Adjoint, namespace: dict[str, Any], base_loss: float, rng: np.random.Generator) -> Measured | None:
    step = runner.step
    value = namespace.get(adjoint.name)
    if step.assigned.get(adjoint.forward) != step.prefix[adjoint.forward_index].lineno:
        return None  # the forward value is computed again later: its last value is not the one differentiated
    if _rebound_in_a_loop(step, adjoint):
        value = _value_at(runner, adjoint)  # `dh = dout @ V.T`, then `dh = cell.backward(dh, ...)` back through time: its own statement's
    forward = namespace.get(adjoint.forward)
    value = comparable(value, forward)
    if value is None:
        return None

    def loss_moved(delta: Any) -> float:
        return runner.loss(after=adjoint.forward_index, later=[(adjoint.forward, lambda f: f + delta)])

    swaps = _argument_swaps(step, adjoint, namespace, value, forward)  # read before any measuring run changes the namespace
    measured = measure_adjoint(adjoint.name, adjoint.line, value, forward, loss_moved, base_loss, rng, runner.scalar_scale)
    if measured.wrong:
        measured.output_of = _output_of(step, adjoint, namespace, value, forward, loss_moved, base_loss, rng)
    if measured.wrong and measured.output_of is None:
        measured.extra_slope = _extra_slope(step, adjoint, namespace, value, forward, loss_moved, base_loss, rng)
    inside = step.returned.get((adjoint.forward_index, adjoint.forward))
    code = code_of(runner.namespace, inside[0]) if inside is not None and measured.unused else None
    if inside is None or code is None:
        # unused counts as wrong: a loss recomputed from the parameters alone (`calculate_loss(model)`)
        # moves with none of the step's values, and the walk's other evidence decides
        return _swaps_measured(measured, swaps, adjoint, forward, loss_moved, base_loss, rng)
    # the loss does not read the value after its statement: made beside the output in one call
    # (`z1, a1, out = forward(X)`), it is moved where that call computes it
    site, local = inside

    def moved_inside(delta: Any) -> float:
        hooks = Hooks({site.function: code})
        hooks.after(site, local, lambda f: f + delta)
        loss = runner.loss(hooks=hooks)
        if local not in hooks.read or hooks.calls.get(site.function) != 1:
            raise NotReplayable(f"`{local}` could not be moved inside `{site.function}`")
        return loss

    measured = measure_adjoint(adjoint.name, adjoint.line, value, forward, moved_inside, base_loss, rng, runner.scalar_scale)
    return None if measured.unused else _swaps_measured(measured, swaps, adjoint, forward, moved_inside, base_loss, rng)


def _rebound_in_a_loop(step: TrainingStep, adjoint: Adjoint) -> bool:
    """Whether a loop of the pass after the adjoint's statement binds its name anew (`dh = cell.backward(dh, ...)` in
    `for t in reversed(range(T))`): the pass's last value is then another array's gradient. Not a later statement
    that finishes it in place (`dscores[rows, y] -= 1`, `dscores /= N`)."""
    for stmt in step.prefix[adjoint.index + 1 :]:
        if not isinstance(stmt, (ast.For, ast.While)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    if any(isinstance(n, ast.Name) and n.id == adjoint.name for n in names):
                        return True
    return False


def _value_at(runner: Runner, adjoint: Adjoint) -> Any:
    """The value `adjoint`'s own statement binds, when a later statement of the pass binds its name again (the
    adjoint handed back through a loop over time steps): the pass's last value is another array's gradient."""
    kept: list[Any] = []

    def keep(value: Any) -> Any:
        kept.append(value.copy() if isinstance(value, np.ndarray) else value)
        return value

    try:
        runner.run(after=adjoint.index, later=[(adjoint.name, keep)])
    except Exception:  # noqa: BLE001 - the user's statements: a pass that cannot run again leaves it unjudged
        return None
    return kept[0] if kept else None


def _swaps_measured(measured: Measured, swaps: Any, adjoint: Adjoint, forward: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator) -> Measured:
    """A wrong adjoint no slope explains, measured again as each of `_argument_swaps` computes it: `argument`
    names the swap that makes it right (judged again at the program's scale when the walk learns it)."""
    if measured.wrong and not measured.unused and measured.output_of is None and measured.extra_slope is None and measured.through is None:
        state = np.random.get_state()  # the program's helper runs again: NumPy's global generator is left as it was
        try:
            tries = swaps()
        finally:
            np.random.set_state(state)
        measured.swapped = [(swap, _measure(adjoint.name, adjoint.line, again, forward, loss_moved, base_loss, rng)) for swap, again in tries]
        measured.argument = _swap_right(measured.swapped, None)
    return measured


def _extra_slope(
    step: TrainingStep, adjoint: Adjoint, namespace: dict[str, Any], value: Any, forward: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator
) -> tuple[str, str, str] | None:
    """`dz = (p - y) * p * (1 - p)` under a cross-entropy: the statement multiplies by an activation's slope
    (`p * (1 - p)`, `1 - a ** 2`) a gradient that already holds it, and the adjoint is right once that
    factor is divided out. (the activation, its output's name, the factor as written)."""
    import ast
    import re

    stmt = step.prefix[adjoint.index]
    text = ast.unparse(stmt)
    for name in sorted(reads(stmt) - {adjoint.name}):
        for activation, slope in slopes(namespace.get(name)):
            if activation == "relu" or np.shape(slope) != np.shape(value) or not np.all(np.abs(slope) > 1e-8):
                continue
            factor = re.search(_slope_written(activation, name), text)
            if factor is None:
                continue
            retried = _measure(adjoint.name, adjoint.line, value / slope, forward, loss_moved, base_loss, rng)
            if not retried.wrong and not retried.unused:
                return activation, name, factor.group(0)
    return None


def _argument_swaps(step: TrainingStep, adjoint: Adjoint, namespace: dict[str, Any], value: Any, forward: Any) -> Any:
    """`dz1 = da1 * sigmoid(a1)` with `a1 = softplus(z1)`: the derivative helper may be right and its argument
    not (the activation's output where its input is meant, or the converse, `sigmoid_prime(z1)` where
    `sigmoid_prime(a) = a * (1 - a)` takes the output). The statement computed again with the one helper
    call of the program it makes handed the other side of the activation. Returns, read before any
    measuring run changes the namespace, what computes them only when asked (the adjoint found wrong):
    [((the helper, the argument given, the other), the adjoint's value then)], to be measured; [] when the
    statement is not one assignment with one such call, or no longer makes the adjoint's value (`dz *= mask`
    after it)."""
    stmt = step.prefix[adjoint.index]
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name) or stmt.targets[0].id != adjoint.name:
        return list
    calls = [c for c in ast.walk(stmt.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and _program_function(namespace.get(c.func.id))]
    if len(calls) != 1 or len(calls[0].args) != 1 or calls[0].keywords or not isinstance(calls[0].args[0], ast.Name):
        return list
    call, given = calls[0], calls[0].args[0].id
    between = step.prefix[adjoint.forward_index + 1 : adjoint.index]
    if given == adjoint.forward:  # handed the input: the outputs of the activations computed from it
        others = [_targets(s)[0] for s in between if len(_targets(s)) == 1 and adjoint.forward in reads(s)]
        others += [t for t in _targets(step.prefix[adjoint.forward_index]) if t != given]  # `Z1, A1 = forward(X)`
    else:  # handed an output: the input it is computed from
        made = [s for s in between if given in _targets(s)]
        together = given in _targets(step.prefix[adjoint.forward_index])
        others = [adjoint.forward] if (made and adjoint.forward in reads(made[-1])) or together else []
    names = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)} | set(others)
    scope = dict(namespace)
    scope.update({n: namespace[n].copy() for n in names if isinstance(namespace.get(n), np.ndarray)})

    def computed(argument: str) -> Any:
        swapped = _Renamed(call, given, argument).visit(ast.parse(ast.unparse(stmt.value), mode="eval"))
        with np.errstate(all="ignore"):
            return eval(compile(ast.fix_missing_locations(swapped), "<argument>", "eval"), dict(scope))  # noqa: S307 - the program's own expression

    def tries() -> list[tuple[tuple[str, str, str], Any]]:
        found: list[tuple[tuple[str, str, str], Any]] = []
        try:
            if not np.allclose(computed(given), value, rtol=1e-9, atol=0.0, equal_nan=True):
                return []
            for other in dict.fromkeys(others):
                if other == given or np.shape(scope.get(other)) != np.shape(scope.get(given)):
                    continue
                again = comparable(computed(other), forward)
                if again is not None and np.all(np.isfinite(again)):
                    found.append(((call.func.id, given, other), again))
        except Exception:  # noqa: BLE001 - the program's helper, handed another value, may fail: no try
            return found
        return found

    return tries if others else list


def _swap_right(swapped: list[tuple[tuple[str, str, str], Measured]], scale: float | None) -> tuple[str, str, str] | None:
    """The first swap whose adjoint is right (at the program's scale, once known)."""
    for swap, retried in swapped:
        if scale is not None:
            retried.scale, retried.exact_scale = scale, True
        if not retried.wrong and not retried.unused:
            return swap
    return None


def _program_function(value: Any) -> bool:
    """A plain function the program defines (a `def` or a lambda of its own), not NumPy's or a class."""
    import types

    return isinstance(value, types.FunctionType) and not (getattr(value, "__module__", "") or "").startswith(("numpy", "backprop_doctor"))


class _Renamed(ast.NodeTransformer):
    """The expression with the one call's argument `given` read as `other` instead."""

    def __init__(self, call: ast.Call, given: str, other: str) -> None:
        self.text, self.given, self.other = ast.unparse(call), given, other

    def visit_Call(self, node: ast.Call) -> Any:
        if ast.unparse(node) == self.text:
            node.args = [ast.Name(id=self.other, ctx=ast.Load())]
            return node
        return self.generic_visit(node)


def _output_of(
    step: TrainingStep, adjoint: Adjoint, namespace: dict[str, Any], value: Any, forward: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator
) -> tuple[str, str] | None:
    """`delta1 = delta2 @ W2.T`, paired with `z1` where `a1 = sigmoid(z1)` follows: wrong for `z1`, it is
    right times the slope of an activation computed from `z1` (the gradient of `a1`, its derivative left
    out): (the activation, its output's name)."""
    for stmt in step.prefix[adjoint.forward_index + 1 : adjoint.index]:
        targets = _targets(stmt)
        if len(targets) != 1 or adjoint.forward not in reads(stmt):
            continue
        for activation, slope in slopes(namespace.get(targets[0])):
            if np.shape(slope) != np.shape(value):
                continue
            retried = _measure(adjoint.name, adjoint.line, value * slope, forward, loss_moved, base_loss, rng)
            if not retried.wrong and not retried.unused:
                return activation, targets[0]
    return None


def _inner_adjoint(runner: Runner, adjoint: InnerAdjoint, base_loss: float, rng: np.random.Generator) -> Measured | None:
    """`dZ1` inside `backward` against the loss with `Z1` moved inside `forward`, right after it is computed."""
    codes = {}
    for site in (adjoint.forward_at, adjoint.adjoint):
        code = code_of(runner.namespace, site)
        if code is None:
            return None
        codes[site.function] = code
    hooks = Hooks(codes)
    hooks.after(adjoint.forward_at, adjoint.forward)
    if adjoint.handed:
        hooks.before(adjoint.adjoint, adjoint.name)
    else:
        hooks.after(adjoint.adjoint, adjoint.name)
    site = runner.loss_site
    method = adjoint.adjoint.function.rpartition(".")[2]
    # `loss = net.train(X, y)`: the loss is what the call that updates returns, computed in it before its updates
    returned = adjoint.in_update and site is not None and not site.in_prefix and f".{method}(" in f".{site.expression}"
    if adjoint.in_update:  # `nn.backward(X, y, lr)` updates as it goes: run it too, to read its adjoint
        try:
            ran = runner.run_through_updates(hooks)
        except NotReplayable:
            return None
        # a loss the updating call itself returns (`loss = net.train(X, y)`) was computed in that one call,
        # before its updates: the same run, read again only by calling it a second time
        loss = base_loss if returned else runner.loss_of(ran)
    else:
        loss = runner.loss(hooks=hooks)
    if loss != base_loss or any(hooks.calls.get(name) != 1 for name in codes):
        return None  # a function runs more than once per step: its locals have no one value
    forward = hooks.read.get(adjoint.forward)
    read = hooks.read.get(adjoint.name)
    if adjoint.reshaped and isinstance(read, np.ndarray) and isinstance(forward, np.ndarray) and read.size == forward.size:
        read = read.reshape(forward.shape)  # `return dx.reshape(N, self.C)`: the gradient as the function hands it back
    value = comparable(read, forward)
    if value is None:
        return None
    returned = returned or (not adjoint.in_update and _recomputed(runner, adjoint, codes, forward, base_loss))

    def loss_moved(delta: Any) -> float:
        moved = Hooks(codes)
        moved.after(adjoint.forward_at, adjoint.forward, lambda f: f + delta)
        if returned:  # the loss is what the call that updates returns: call it under the hooks
            found = runner.loss_read_under(moved)
            if found is None:
                raise NotReplayable("the step's loss could not be computed again")
            loss = found
        else:
            loss = runner.loss(hooks=moved)
        if adjoint.forward not in moved.read:
            raise NotReplayable(f"`{adjoint.forward}` could not be moved inside `{adjoint.forward_at.function}`")
        return loss

    measured = measure_adjoint(adjoint.name, adjoint.line, value, forward, loss_moved, base_loss, rng, runner.scalar_scale)
    if measured.unused and not adjoint.in_update and (mirror := _mirrored(runner, adjoint.forward, forward)) is not None:
        # the loss recomputes the forward pass in a function of its own (`poisson_nll(params)` beside
        # `backprop(params)`): the value of the same name there is the one to move
        measured = measure_adjoint(adjoint.name, adjoint.line, value, forward, mirror, base_loss, rng)
        return None if measured.unused else measured
    if measured.wrong and not measured.unused:
        measured.aliases = _a_parameter(runner, forward)
    if measured.aliases is not None:
        # `dW3` of `W3 = model['W3']` beside `reg_loss = 0.5 * reg * np.sum(W3 * W3)`: the data term of the parameter's
        # gradient, which the loss's penalty's term (`grads['W3'] = dW3 + reg * W3`) is added to afterwards, not a wrong adjoint
        measured.penalty_left_out = _penalty_left_out(measured, value, forward, loss_moved, base_loss, rng)
    if measured.wrong and not measured.unused and measured.penalty_left_out is None:
        measured.extra_slope = _inner_extra_slope(runner, adjoint, value, forward, loss_moved, base_loss, rng)
    return None if measured.unused else measured


def _a_parameter(runner: Runner, forward: Any) -> Moved | None:
    """The parameter the step updates whose value, as it was before the update, the forward value an adjoint is
    measured against holds (`W3 = model['W3']` in the function the step calls); None when it is no parameter."""
    if not isinstance(forward, np.ndarray) or forward.size < 3:
        return None
    moved = getattr(getattr(runner, "capture", None), "moved", None) or ()
    return next(
        (m for m in moved if isinstance(m.value, np.ndarray) and m.value.shape == forward.shape and np.array_equal(m.value, forward)), None
    )


def _parameters_own(measured: Measured, result: StepResult) -> bool:
    """A wrong inner adjoint that is a parameter's own gradient, not judged as an adjoint: its forward value is the
    parameter (`dW3` of `W3 = model['W3']`), and the difference is the L2 penalty the loss puts on it (the data term,
    the penalty's term added after it: `grads['W3'] = dW3 + reg * W3`), or the parameter's gradient was measured right
    (`W3` bound after the forward pass read `model['W3']`: moving the name moves the penalty alone), or only its
    penalty's term is wrong (left out, or at another strength). The parameter's own measurement judges it."""
    if not measured.wrong or measured.aliases is None:
        return False
    if measured.penalty_left_out is not None:
        return True
    return any(
        moved is measured.aliases and not m.unused and not m.inconclusive
        and (not m.wrong or m.penalty_left_out is not None or m.penalty_factor is not None)  # its data term right: the penalty's is not
        for moved, m in result.parameters
    )  # fmt: skip


def _recomputed(runner: Runner, adjoint: InnerAdjoint, codes: dict[str, Any], forward: Any, base_loss: float) -> bool:
    """Whether the step's loss is a call read after the step (`print(NN.costFunction(X, y))`) that runs the
    forward value's function again, to the same value: `costFunctionPrime` ran `self.forward(X)` for the
    gradients, `costFunction` runs it again for the loss. The value to move is then the one in the loss's
    own run. A number counts as well as an array: a network of scalar weights (`h2` of `forward(x1, x2)`,
    called by `gradients(x1, x2, t)` and again by the loss its output error implies)."""
    site = runner.loss_site
    scalar = not isinstance(forward, np.ndarray) and number(forward) is not None
    if site is None or site.in_prefix or site.accumulated or not (isinstance(forward, np.ndarray) or scalar):
        return False
    again = Hooks(codes)
    again.after(adjoint.forward_at, adjoint.forward)
    try:
        loss = runner.loss_read_under(again)
    except NotReplayable:
        return False
    value = again.read.get(adjoint.forward)
    if scalar:
        same = not isinstance(value, np.ndarray) and number(value) is not None and number(value) == number(forward)
    else:
        same = isinstance(value, np.ndarray) and value.shape == forward.shape and np.array_equal(value, forward)
    return loss == base_loss and again.calls.get(adjoint.forward_at.function) == 1 and same


def _mirrored(runner: Runner, name: str, value: Any) -> Callable[[Any], float] | None:
    """`loss_moved` for a loss that is a call of a function of the file computing a local `name` once,
    at the top of its body, to the same value as the step's own `name` (`eta` in `poisson_nll(p)` and
    in `backprop(p)`): the loss with that local moved right after it is computed. None otherwise."""
    from backprop_doctor.static.step_functions import _first_line

    site = runner.loss_site
    tree = source_tree(runner.path)[1]
    if site is None or site.in_prefix or site.implied or tree is None:
        return None
    try:
        call = ast.parse(site.expression, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == call.func.id), None)
    if node is None:
        return None
    assigning = [st for st in node.body if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets)]
    if len(assigning) != 1 or any(isinstance(n, (ast.For, ast.While)) for n in node.body):
        return None
    at = Site(node.name, _first_line(node), assigning[0].lineno, assigning[0].end_lineno or assigning[0].lineno)
    code = code_of(runner.namespace, at)
    if code is None:
        return None
    seen = Hooks({node.name: code})
    seen.after(at, name)
    if runner.loss_read_under(seen) is None or seen.calls.get(node.name) != 1:
        return None
    theirs = seen.read.get(name)
    if not (isinstance(theirs, np.ndarray) and isinstance(value, np.ndarray) and theirs.shape == value.shape and np.allclose(theirs, value, rtol=1e-12, atol=0.0)):
        return None  # computed otherwise, or at another state: not the same value

    def moved(delta: Any) -> float:
        hooks = Hooks({node.name: code})
        hooks.after(at, name, lambda f: f + delta)
        loss = runner.loss_read_under(hooks)
        if loss is None or name not in hooks.read or hooks.calls.get(node.name) != 1:
            raise NotReplayable(f"`{name}` could not be moved inside `{node.name}`")
        return loss

    return moved


def _slope_written(activation: str, output: str) -> str:
    """The pattern of an activation's slope written from its output's name: `p * (1 - p)` for a sigmoid,
    `1 - a ** 2` (or `1 - a * a`) for a tanh."""
    import re

    n = re.escape(output)
    return {
        "sigmoid": rf"{n}\s*\*\s*\(\s*1(?:\.0)?\s*-\s*{n}\s*\)|\(\s*1(?:\.0)?\s*-\s*{n}\s*\)\s*\*\s*{n}",
        "tanh": rf"1(?:\.0)?\s*-\s*{n}\s*\*\*\s*2|1(?:\.0)?\s*-\s*{n}\s*\*\s*{n}",
    }[activation]


def _inner_extra_slope(
    runner: Runner, adjoint: InnerAdjoint, value: Any, forward: Any, loss_moved: Any, base_loss: float, rng: np.random.Generator
) -> tuple[str, str, str] | None:
    """`_extra_slope` inside a function the step calls: `dz2 = (self.a2 - y) * self.a2 * (1 - self.a2)`
    under a cross-entropy, where `self.a2 = sigmoid(self.z2)`. The slope is computed from the forward value
    the adjoint is paired with (`self.z2`), and the adjoint is right once it is divided out."""
    import ast
    import re

    from backprop_doctor.static.derivatives import activation_applied

    tree = source_tree(runner.path)[1]
    if tree is None or len(adjoint.fed) != 1 or not isinstance(forward, np.ndarray) or forward.dtype.kind != "f":
        return None
    applied = activation_applied(tree, adjoint.fed[0][1])
    if applied is None or applied.kind not in ("sigmoid", "tanh") or applied.given != adjoint.forward:
        return None
    statement = next((n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == adjoint.line), None)
    factor = re.search(_slope_written(applied.kind, applied.output), ast.unparse(statement)) if statement is not None else None
    if factor is None:
        return None
    with np.errstate(all="ignore"):
        out = 1 / (1 + np.exp(-forward)) if applied.kind == "sigmoid" else np.tanh(forward)
        slope = out * (1 - out) if applied.kind == "sigmoid" else 1 - out**2
    if np.shape(slope) != np.shape(value) or not np.all(np.abs(slope) > 1e-8):
        return None
    retried = _measure(adjoint.name, adjoint.line, value / slope, forward, loss_moved, base_loss, rng)
    return (applied.kind, applied.output, factor.group(0)) if not retried.wrong and not retried.unused else None


def _telling(moved: Moved, measured: Measured, shape: tuple[int, ...]) -> bool:
    """Whether a parameter measured right says its adjoint (of `shape`) is right: not one number beside an
    adjoint of several that is off by more than a scale (`db2 = np.sum(dZ2)` of one output agrees with a
    wrong `dZ2` by its one sum); the caller passes `()` for an adjoint off by a scale only."""
    if measured.wrong or measured.inconclusive or _all_zero(moved.gradient):
        return False  # a gradient of zeros (`w3 -= lr * d_h2 * x1` at `x1 == 0`) is right whatever the adjoint
    return not (np.size(moved.value) == 1 and int(np.prod(shape)) > 1)


def _all_zero(gradient: Any) -> bool:
    """Whether a gradient is zero in every entry (a number, or an array of numbers)."""
    try:
        values = np.asarray(gradient, dtype=float)
    except (TypeError, ValueError):
        return False
    return values.size > 0 and not np.any(values)


def _inner_contradicted(adjoint: InnerAdjoint, result: StepResult, shape: tuple[int, ...] = ()) -> bool:
    """A parameter measured right has its gradient named from `adjoint`'s function (`dW1` from `dZ1`).

    The same guard as `_contradicted`, for the names a function gives its gradients: the key of a
    right parameter (`W1`) prefixed as a gradient (`dW1`, `d_W1`, `grad_W1`) and read from the adjoint.
    Not when the adjoint is off by more than a scale (`shape`) and a wrong parameter's gradient is read
    from it too: `db2 = dS.sum(axis=0)` agrees by its sum over the batch while `dW2 = h.T @ dS` does not,
    so the adjoint is wrong in a few of its entries (a `max(0, .)` left out), not misnamed.
    """
    right = {_key(moved) for moved, measured in result.parameters if _telling(moved, measured, shape)}
    names = {f"{prefix}{key}" for key in right if key for prefix in ("d", "d_", "grad_")}
    if shape:  # off by more than a scale: a wrong gradient computed from it as well says the right one agrees by its sum only
        wrong = {_key(moved) for moved, measured in result.parameters if measured.wrong and not measured.unused}
        if set(adjoint.feeds) & {f"{prefix}{key}" for key in wrong if key for prefix in ("d", "d_", "grad_")}:
            return False
    return bool(set(adjoint.feeds) & names)


def _key(moved: Moved) -> str | None:
    if moved.path is None:
        return None
    kind, key = moved.path[-1]
    return str(key)


def _contradicted(step: TrainingStep, adjoint: Adjoint, result: StepResult, shape: tuple[int, ...] = ()) -> bool:
    """A parameter whose gradient is computed straight from `adjoint` was measured right.

    `dh[h <= 0] = 0` turns `dh` into the gradient of the ReLU's input, not of `h`: measured
    against `h` it looks wrong, yet `db1 = dh.sum(axis=0)` is right. Such an adjoint is not blamed;
    unless it is off by more than a scale (`shape`) and a wrong gradient is computed straight from it too.
    """
    lines = {stmt.lineno: stmt for stmt in step.prefix}
    if shape and any(measured.wrong and not measured.unused and _computed_from(step, lines, adjoint, moved, straight=True) for moved, measured in result.parameters):
        return False  # off by more than a scale, and a wrong gradient is computed from it too: a sum agreeing clears nothing
    return any(_telling(moved, measured, shape) and _computed_from(step, lines, adjoint, moved) for moved, measured in result.parameters)


def _computed_from(step: TrainingStep, lines: dict[int, ast.stmt], adjoint: Adjoint, moved: Moved, straight: bool = False) -> bool:
    """Whether the update's gradient is computed straight from `adjoint`: its statement, or the update, reads it.
    `straight`: only the statement binding the gradient's own name (`dW2 = h.T @ dS` of `W2 -= lr * dW2`) or the
    update's own expression, not the statement a gradient written out in the update is read from (`delta_h` of
    `w_h -= eta * (xb.T @ delta_h + l2 * w_h)`)."""
    from backprop_doctor.static.steps import reads

    expression = moved.gradient_name or moved.site.gradient
    key = _item_key(moved)
    entry = _entry(expression, key) if key is not None else None
    value = _entry_literal(step.prefix, entry) if entry is not None else None
    if value is not None:  # `g = {"A": x.T @ dh, "B": h.T @ dr}` read as `g[k]`: the value under its own key
        return adjoint.name in {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    line = _gradient_line(step, expression) if moved.gradient_name is not None or not straight else None
    stmt = lines.get(line) if line is not None else None
    if stmt is not None and adjoint.name in reads(stmt):
        return True
    return adjoint.name in _names_in(expression)  # `w2[j] -= lr * dy * h[j]`: computed from it in the update itself


def _names_in(expression: str) -> set[str]:
    import ast

    try:
        return {n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _batch_sizes(capture: Capture, namespace: dict[str, Any], tree: Any = None) -> tuple[int, ...]:
    """Leading sizes of the arrays the step starts from or makes (a minibatch drawn in the step):
    what a factor of the batch size would be. The second axis of a 2-D array whose rows are the samples
    (its first axis as long as a 1-D array of targets or labels the step reads: `ids` (150, 5) beside
    `labels` (150,)) is a size too, but of something else (the tokens of a sample), named (`Size`)."""
    from backprop_doctor.static.steps import reads

    assert capture.state is not None
    used = {n for stmt in capture.step.prefix for n in (*reads(stmt), *_targets(stmt))}  # not an earlier loop's leftovers
    parameters = {id(moved.value) for moved in capture.moved}
    arrays = [
        (name, value) for name, value in [*capture.state.values.items(), *namespace.items()]
        if name in used and isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] > 1
    ]  # fmt: skip
    widths = {int(n) for moved in capture.moved for n in np.shape(moved.value)}  # features and units, not samples
    samples = {int(value.shape[0]) for _, value in arrays if value.ndim == 1 and id(value) not in parameters} - widths  # targets, labels
    sizes: set[int] = set()
    rows: dict[int, Size] = {}  # the second axis of a row-layout array: not samples
    counted: dict[int, Size] = {}  # a list of word ids the step averages over (CBOW's `context`): its length
    for name, value in arrays:
        sizes.add(int(value.shape[0]))
        if value.ndim == 2 and value.shape[1] > 1:
            first, second = (int(n) for n in value.shape)
            if first in samples and second != first and id(value) not in parameters:
                rows.setdefault(second, Size(second, _size_named(tree, second, f"the length of axis 1 of `{name}`")))
            else:
                sizes.add(second)
    for name, value in [*capture.state.values.items(), *namespace.items()]:
        if name in used and isinstance(value, (list, tuple)) and len(value) > 1 and all(isinstance(v, (int, np.integer)) for v in value):
            counted.setdefault(len(value), Size(len(value), f"the length of `{name}`"))
    found = sizes - widths or sizes
    named = {**counted, **rows}
    return tuple(sorted([*found, *(size for n, size in named.items() if n not in found and n not in widths)]))


def _size_named(tree: Any, size: int, otherwise: str) -> str:
    """The module constant bound once to `size` (`SEQ = 5`), in backquotes, or `otherwise` when none or many are."""
    bound: dict[str, list[Any]] = {}
    for node in getattr(tree, "body", ()):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, []).append(node.value if not isinstance(node, ast.AugAssign) else None)
    names = [
        name for name, values in bound.items()
        if len(values) == 1 and isinstance(values[0], ast.Constant) and type(values[0].value) is int and values[0].value == size
    ]  # fmt: skip
    return f"`{names[0]}`" if len(names) == 1 else otherwise


def _data_sizes(capture: Capture, namespace: dict[str, Any]) -> tuple[int, ...]:
    """The sizes of the first two axes of every array the program holds (the step's, the module's): the
    counts a mean over samples, time steps, classes or entries may divide by, wherever the code that
    divides reads them."""
    assert capture.state is not None
    sizes: set[int] = set()
    for values in (capture.state.values, namespace, capture.namespace or {}):
        for value in values.values():
            if isinstance(value, np.ndarray) and value.ndim >= 1:
                sizes.update(int(n) for n in value.shape[:2] if n > 1)
    return tuple(sorted(sizes))


class Size(int):
    """A size a factor may be, with what it is the size of when that is not the batch (`of`)."""

    of: str

    def __new__(cls, value: int, of: str) -> Size:
        size = super().__new__(cls, value)
        size.of = of
        return size


__all__ = ["Measured", "StepResult", "replay_step"]
