"""What a gradient check's measurements become, for `engine.LayerCheck` (mixed into it).

`engine` runs the user's code and the probes; this turns their figures into the report:
a measurement per array that passed (and the float32 note), and for one that failed the
second tier, `_localise`: which arrays are wrong, probed alone, then which of their elements
(`gradcheck.elementwise`), told apart from kinks, named by pattern and written up with the
worst elements and the line that computes the gradient (`locate`). Shape mismatches found
before any probe are worded here too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop_doctor import gradcheck, injections, locate, rewrites
from backprop_doctor.findings import REDERIVE, WHOLE_NETWORK, Measurement
from backprop_doctor.observe import budget

if TYPE_CHECKING:
    from backprop_doctor.engine import _Array
    from backprop_doctor.static.data_terms import DataTerm

BORDERLINE = 10.0  # a joint probe within this many tolerances, with every element compared right, is a kink
REWRITES_SECONDS = 3.0  # most a wrong gradient's rewritten backward passes take (`rewrites.first_wrong`)
FLAT_LINES = "gradients computed at"  # the evidence of a `loss-flat` or logits-gradient warning naming each array's line
SATURATING = 50.0  # scores this large in absolute value saturate a softmax or sigmoid: the loss is named flat because of them
ELEMENTS_SHARE = 0.1  # most of the check's time left (`--timeout`) one failing array's elements may take


class Outcomes:
    """The findings of a `LayerCheck`: they read its adapter, options, report and random
    stream, and probe again through its `_probe`."""

    def _shape_mismatch(self, name: str, live: np.ndarray, grad: np.ndarray, x: np.ndarray) -> None:
        advice = f"compute it with the shape of `{name}`"
        pattern = None
        if grad.ndim == live.ndim == 2 and grad.shape == live.shape[::-1]:
            advice = "it is the transpose: swap the operands of the matrix product"
            pattern = "transposed"
        elif live.ndim == 1 and grad.ndim == 1 and x.ndim >= 1 and grad.shape[0] == x.shape[0]:
            advice = "it has one entry per sample: sum over the batch axis (axis=0) instead"
            pattern = "summed-over-wrong-axis"
        elif grad.size == live.size:
            advice = "reshape it to the parameter's shape"
        self._add(
            "gradient-shape-mismatch",
            f"the gradient of `{self.layer}.{name}` has shape {grad.shape} but `{name}` has shape {live.shape}: {advice}",
            param=name,
            pattern=pattern,
            evidence=(("shapes", f"{name}: {live.shape}   gradient: {grad.shape}"),),
            **self._grad_location(name).fields(),
        )
        self.report.measurements.append(Measurement(self.layer, name, None, "shape"))

    def _grad_location(self, name: str, *, traced: bool = False) -> locate.Location:
        """Where the gradient of `name` is computed; with `traced`, among assignments in
        branches (train/test), the one that ran in this check's backward."""
        placed = getattr(self.adapter, "grad_location", None)  # an adapter that knows the statement itself
        if callable(placed) and (found := placed(name)) is not None:
            return found
        target = self.adapter.backward_target()
        ran = self._backward_lines() if traced else None
        if name == "x":
            returned = locate.returned_name(target)
            found = locate.assignment(target, returned or "dx", *self.adapter.input_grad_targets(), ran=ran)
            return _delegated(target, getattr(self.adapter, "layer", None), found, ran) or found
        # `G["W1"] = ...` in a function that returns `G`: after the convention's own names (`dW1`, where
        # `G["W1"] = dW1` only stores it), before a whole returned dict (`grads`), which is a last resort
        keyed = locate.keyed_returns(target, name)
        wholes = {t.split("[")[0] for t in keyed}
        own = self.adapter.grad_targets(name)
        targets = (*(t for t in own if t not in wholes), *keyed, *(t for t in own if t in wholes))
        return locate.assignment(target, *targets, ran=ran, whole=getattr(self.adapter, "whole_assignments", False))

    def _backward_lines(self) -> set[int] | None:
        """Line numbers that ran during one more backward (only on the failure path)."""
        from backprop_doctor.probes import executed

        upstream = getattr(self, "_upstream", None)
        if upstream is None:
            return None
        try:
            _, lines = executed(lambda: self._guarded(lambda: self.adapter.backward(upstream.copy() if isinstance(upstream, np.ndarray) else upstream)))
        except Exception:
            return None
        return {line for found in lines.values() for line in found}

    def _passed(self, arrays: list[_Array], error: float, dtype: str, attempt: int) -> None:
        verdict = "ok" if attempt == 0 else "ok (jittered off a kink)"
        for a in arrays:
            self.report.measurements.append(Measurement(self.layer, a.name, error, verdict))
        if dtype != "float64":
            self._add(
                "float32-precision",
                f"`{self.layer}` computes in {dtype}; its gradients agree within the {dtype} tolerance "
                f"({self.options.tolerance(dtype):g}) — rounding, not a bug.",
                measured=error,
                threshold=self.options.tolerance(dtype),
            )
        elif self.user_dtypes & {"float32", "float16"}:
            self._add(
                "float32-precision",
                f"`{self.layer}` holds {', '.join(sorted(self.user_dtypes & {'float32', 'float16'}))} arrays; "
                "checked on float64 copies its gradients are correct. A gradient check run in float32 "
                "shows errors near 1e-3 from rounding alone: check in float64.",
                measured=error,
                threshold=self.options.tolerance("float64"),
            )

    def _localise(
        self, f: Callable[[], float], f0: float, arrays: list[_Array], h: float, tol: float, kinked: bool, joint: float
    ) -> None:
        """Second tier: find which arrays are wrong, then where inside them."""
        # element-wise steps set one element at a time: give forward copies again, so a forward
        # that writes into its input on some later call cannot disturb the other elements
        self._writes_input = True
        self._loss_call = f  # a forward and the objective, to run a rewritten backward after (`_blamed_earlier`)
        if self._takes_logits_gradient(f, f0, arrays, h, tol):
            return
        failing = []
        unresolved = []  # (array, error, the loss's change its probes expect): below the dtype's rounding
        for a in arrays:
            probes = self._probe(f, f0, [a], h, count=2)
            error = max(p.error for p in probes)
            if error > tol and self._dtype != "float64" and math.isfinite(f0) and not any(p.error > tol for p in self._resolved(f0, probes, tol)):
                # a float32 loss that none of the failing probes moved by more than its rounding: probed again with
                # larger steps, until one does
                grown = self._grown(f, f0, a, h, tol)
                if grown is None:
                    unresolved.append((a, error, max(self._expected(p) for p in probes)))
                    continue
                probes, error = grown, max(p.error for p in grown)
            if error > tol:
                # compare elements with the step the probes found straight and above rounding
                failing.append((a, error, any(p.kinked for p in probes), max(p.step for p in probes)))
            else:
                self.report.measurements.append(Measurement(self.layer, a.name, error, "ok"))
        if unresolved:
            self._unresolved(unresolved, f0, tol)
            if not failing:
                return
        if not failing:
            # Every array passes alone: give the joint probe fresh directions before believing it.
            again = self._probe(f, f0, arrays, h)
            retry = max(p.error for p in again)
            kinked = kinked or any(p.kinked for p in again)
            # a loss whose arrays each agree misses together by less than BORDERLINE tolerances: the book's
            # `np.log(y + 1e-7)` moves its gradient off `(y - t) / N` by up to 1e-4 at confident scores, and two
            # arrays probed at once add theirs; state shared between calls misses by far more
            if retry <= tol or (self.adapter.is_loss and max(joint, retry) <= BORDERLINE * tol):
                for a in arrays:
                    self.report.measurements.append(Measurement(self.layer, a.name, retry, "ok"))
                return
            verdict = "kink" if kinked else "mismatch"
            if kinked:
                self._kink(None, joint, tol)
            else:
                self._add(
                    "gradient-mismatch",
                    f"the gradients of `{self.layer}` disagree with the numerical gradient taken over all its arrays "
                    f"together (error {joint:.3g}) although each array alone agrees: look for state shared between calls",
                    measured=joint,
                    threshold=tol,
                )
            self.report.measurements.append(Measurement(self.layer, "(all)", joint, verdict))
            return
        self._failing_names = {a.name for a, *_ in failing}  # the arrays found wrong: the others must stay right (`_blamed_stage`)
        axis = getattr(self.adapter, "batch_axis", 0) if np.ndim(self.x) == 2 else 0  # `X (n_x, m)`: m samples
        batch = int(np.shape(self.x)[axis]) if np.ndim(self.x) >= 2 else None  # one 1-D sample has no batch: its length is its features
        flat = []  # arrays whose loss is flat around the point, not ignored by forward
        for a, error, a_kinked, a_step in failing:
            step = a_step * a.scale
            seen = self.localised is not None and (self.adapter.target, a.name) in self.localised
            result = gradcheck.elementwise(
                f, f0, a.live, a.grad, step, self.rng, tol=tol if self._narrow else None, atol=self.options.atol,
                enough=(lambda: True) if seen else budget.within_share(ELEMENTS_SHARE),
            )
            if self.localised is not None:
                self.localised.add((self.adapter.target, a.name))
            floor = result.floor(f0, step, self.options.atol)
            errs = result.errors(floor)
            smooth = ~result.kinked
            bad = (errs > tol) & smooth
            if not bad.any() and (result.kinked.any() or a_kinked or error < BORDERLINE * tol):
                # no element is wrong, and the joint probe missed by little: the step crossed kinks
                # spread over the array (a deep ReLU/max-pool network), not a wrong gradient
                self._kink(a.name, error, tol)
                self.report.measurements.append(Measurement(self.layer, a.name, error, "kink"))
                continue
            if not bad.any():
                # The sample missed the wrong elements; the probe's figure stands.
                bad_count, compared = 0, len(errs)
            else:
                bad_count, compared = int(bad.sum()), int(smooth.sum())
            full_a = full_n = None
            if result.full:
                full_a = a.grad
                full_n = np.empty(a.live.size)
                full_n[result.indices] = result.numerical
                full_n = full_n.reshape(a.live.shape)
            pattern = gradcheck.name_pattern(
                result.analytic[smooth],
                result.numerical[smooth],
                batch_size=batch,
                full_analytic=full_a,
                full_numerical=full_n,
                tolerance=tol,
            )
            rows = getattr(self.adapter, "rows_over", None)
            if rows and a.name != "x" and pattern is not None and pattern.factor and abs(pattern.factor * rows - 1) <= 1e-3:
                pattern = _divided_by_rows(rows, int(np.shape(self.x)[-1]))
            if pattern is not None and pattern.name == "unused-in-forward" and self._moves_far(f, f0, a):
                flat.append((a, error))
                continue
            damped = _damped_rows(a.grad, full_n, tol) if pattern is None and self.adapter.is_loss and a.name == "x" and full_n is not None else None
            if damped is not None:
                self._damped(a, error, tol, damped)
                continue
            self._mismatch(a, error, tol, result, floor, bad_count, compared, pattern)
        if flat:
            low = self._made_low_inside()
            if low is not None:
                self._unresolved([(a, error, 0.0) for a, error in flat], f0, tol, inside=low)
            else:
                self._flat(flat, f0)

    def _made_low_inside(self) -> str | None:
        """"float32" (or "float16") when the layer, checked on float64 copies, still holds arrays of that
        precision after its forward (`engine._made_inside`): its loss is flat to their rounding, not saturated."""
        from backprop_doctor.engine import _made_inside

        adapter = self.adapter
        held = getattr(adapter, "layer", None) or getattr(getattr(adapter, "network", None), "net", None)
        try:
            return _made_inside(held) if held is not None else None
        except Exception:  # noqa: BLE001 - objects whose arrays cannot be listed
            return None

    def _takes_logits_gradient(self, f: Callable[[], float], f0: float, arrays: list[_Array], h: float, tol: float) -> bool:
        """Whether a layer whose forward ends in a softmax (its output rows are probabilities) has a backward
        that takes the gradient with respect to the softmax's input, the logits, rather than its output: given
        the logits' gradient of the check's objective (the softmax's backward of the upstream gradient), its
        gradients agree. Right when its caller hands it `y_hat - y`, as a softmax with its cross-entropy gives
        it; a warning then, and no mismatch."""
        from backprop_doctor.engine import _Array

        upstream = getattr(self, "_upstream", None)
        out = getattr(self, "_softmax_out", None)  # the first output, when its rows are probabilities
        if out is None or self.adapter.is_loss or not isinstance(upstream, np.ndarray) or not isinstance(self.x, np.ndarray):
            return False
        if out.shape != upstream.shape:
            return False
        try:
            x = np.asarray(self.x, dtype=np.float64)
            if x.shape == out.shape:
                e = np.exp(x - x.max(axis=-1, keepdims=True))
                if np.allclose(out, e / e.sum(axis=-1, keepdims=True)):
                    return False  # a softmax of its own input, passing its gradient on: `_softmax_passing_through` judges it
            logits = out * (upstream - np.sum(upstream * out, axis=-1, keepdims=True))  # the softmax's backward
            f()
            dx, grads = self._backward(logits)
        except Exception:  # noqa: BLE001 - the user's code, asked something else: the mismatch stands
            return False
        given = {"x": dx, **grads}
        if any(not isinstance(given.get(a.name), np.ndarray) or np.shape(given[a.name]) != a.live.shape for a in arrays):
            return False
        other = [_Array(a.name, a.live, np.asarray(given[a.name], dtype=np.float64), a.scale) for a in arrays]
        probes = self._probe(f, f0, other, h, count=2)
        if max(p.error for p in probes) > tol:
            return False
        for a in arrays:
            self.report.measurements.append(Measurement(self.layer, a.name, max(p.error for p in probes), "ok"))
        names = ", ".join(f"`{a.name}`" for a in arrays)
        lines = [(a, self._grad_location(a.name).line) for a in arrays]  # where each gradient is computed
        self._add(
            "gradient-mismatch",
            f"`{self.layer}.forward` ends in a softmax, and its backward takes the gradient with respect to the softmax's "
            f"input (the logits), not its output: given that gradient, its gradients agree ({names}). That is right only "
            "when the caller passes `y_hat - y`, the gradient of a cross-entropy through its softmax; check that no other "
            "loss is used with it",
            severity="warning",
            pattern="takes-logits-gradient",
            evidence=((FLAT_LINES, "\n".join(f"{a.name}: line {line}" for a, line in lines if line is not None)),) if any(line for _, line in lines) else (),
            **self._grad_location("x" if any(a.name == "x" for a in arrays) else arrays[0].name).fields(),
        )
        return True

    @staticmethod
    def _expected(p: gradcheck.Probe) -> float:
        """The change of the loss a probe expects over its central difference, from the analytic or the
        numerical slope, whichever is larger."""
        return 2 * p.step * max(abs(p.analytic), abs(p.numerical))

    def _resolved(self, f0: float, probes: list[gradcheck.Probe], tol: float) -> list[gradcheck.Probe]:
        """The probes of a loss computed in float32 or float16 that move it by more than the dtype's rounding
        lets a central difference measure to `tol` (`gradcheck.resolvable_change`). A float32 model's loss
        moves by less than its own rounding when an array with a small gradient moves (the second book's
        encoder, behind a decoder: the numerical gradient comes out exactly 0): no evidence of a wrong
        gradient, either way. A wrong gradient that expects a change the loss would show is resolved."""
        need = gradcheck.resolvable_change(f0, self._dtype, tol)
        return [p for p in probes if self._expected(p) >= need]

    def _grown(self, f: Callable[[], float], f0: float, a: _Array, h: float, tol: float) -> list[gradcheck.Probe] | None:
        """The resolved probes (`_resolved`) of `a` alone with steps GROWTH, GROWTH² ... times h (up to
        MAX_GROWTH), at the first step that has any; None when none does."""
        step = h
        while step * gradcheck.GROWTH <= h * gradcheck.MAX_GROWTH:
            step *= gradcheck.GROWTH
            resolved = self._resolved(f0, self._probe(f, f0, [a], step, count=2), tol)
            if resolved:
                return resolved
        return None

    def _unresolved(self, unresolved: list[tuple[_Array, float, float]], f0: float, tol: float, inside: str | None = None) -> None:
        """The float32 note for arrays whose probes move the loss by less than its rounding: not compared. `inside`:
        the precision of the arrays a layer checked in float64 makes inside, whose loss did not move at all."""
        dtype = inside or getattr(self, "_dtype", "float32")
        names = ", ".join(f"`{a.name}`" for a, _, _ in unresolved)
        these = "these were" if len(unresolved) > 1 else "it was"
        if inside is not None:
            sentence = (
                f"`{self.layer}` makes {inside} arrays inside its forward, and moving {names} by the check's small steps does "
                f"not change its output at all (the numerical gradient is exactly 0) although forward computes with "
                f"{'them' if len(unresolved) > 1 else 'it'}: {inside} rounding hides the change, so "
            )
        else:
            expected = max(e for _, _, e in unresolved)
            needed = gradcheck.resolvable_change(f0, dtype, tol)
            sentence = (
                f"`{self.layer}` computes in {dtype}, and moving {names} changes its loss ({f0:.4g}) by less than {dtype} "
                f"rounding lets a gradient check see, even with steps {gradcheck.MAX_GROWTH} times the usual: at the usual step "
                f"the gradient{'s' if len(unresolved) > 1 else ''} backward gives expect a change of {expected:.2g}, where a "
                f"central difference in {dtype} needs about {needed:.2g} to be measured within {tol:g}. The numerical gradient "
                f"is rounding, not a sign of a wrong gradient: "
            )
        self._add(
            "float32-precision",
            f"{sentence}{these} not compared; check in float64 to compare them",
            param=unresolved[0][0].name if len(unresolved) == 1 else None,
            measured=max(error for _, error, _ in unresolved),
            threshold=tol,
            pattern="below-rounding",
        )
        for a, error, _ in unresolved:
            self.report.measurements.append(Measurement(self.layer, a.name, error, "float32"))

    def _moves_far(self, f: Callable[[], float], f0: float, a: _Array) -> bool:
        """Whether the loss changes when `a` moves by its own size or far more (`gradcheck.moves_far`); False
        when the check cannot tell (the numerical gradient's zero then stands as it is)."""
        try:
            return gradcheck.moves_far(f, f0, a.live, a.scale, self.rng)
        except BaseException as error:  # the check's own guards (read-only arrays, time): the zero stands
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            return False

    def _damped(self, a: _Array, error: float, tol: float, damped: list[tuple[int, float]]) -> None:
        """A warning for a loss layer's input gradient whose failing rows each are backward's times one
        factor between 0 and 1 (`_damped_rows`): the loss guards its log (`log(y + 1e-7)`, a clip) at
        probabilities near the guard, where the loss's own slope is y/(y + 1e-7) of backward's."""
        rows = int(np.prod(a.live.shape[:-1])) if a.live.ndim >= 2 else 1
        row, factor = min(damped, key=lambda item: item[1])
        self._add(
            "loss-flat",
            f"the loss of `{self.layer}` moves less than its backward says in {len(damped)} of {rows} rows of `{a.name}`, each "
            f"row by one factor between 0 and 1 (row {row}: {factor:.2g} of backward's dx): the loss takes the log of "
            "probabilities with a small constant added or clipped at it (`log(y + 1e-7)`), and these rows' probabilities are "
            "near that constant, where the loss is flatter than the log it stands for. Backward is the gradient of the "
            f"loss without the constant, so these rows were not compared. {_saturation(a)}",
            param=a.name,
            measured=error,
            threshold=tol,
            pattern="log-guard-at-saturation",
            **self._grad_location(a.name).fields(),
        )
        self.report.measurements.append(Measurement(self.layer, a.name, error, "flat"))

    def _flat(self, flat: list[tuple[_Array, float]], f0: float) -> None:
        """A warning for arrays whose numerical gradient is exactly zero while the loss does change when they
        move far: the floating-point loss is flat around the point (a softmax of scores so large that its
        probabilities are exactly 0 and 1, saturated units), so their gradients could not be compared."""
        names = ", ".join(f"`{a.name}`" for a, _ in flat)
        one = len(flat) == 1
        lines = [(a, self._grad_location(a.name).line) for a, _ in flat]  # where each gradient is computed
        largest = max(flat, key=lambda item: float(np.max(np.abs(item[0].live), initial=0.0)))[0]
        why = _saturation(largest) or (
            "Saturated outputs (a softmax or sigmoid at exactly 0 or 1) or units that are all off leave no slope "
            "to measure; a loss far above its usual start says the scores are too large."
        )
        self._add(
            "loss-flat",
            f"the loss of `{self.layer}` does not change at all when {names} move{'s' if one else ''} by small steps "
            f"(the numerical gradient is exactly 0, at a loss of {f0:.4g}), though forward does compute with "
            f"{'it' if one else 'them'} (the loss changes when {'it moves' if one else 'they move'} far or turn{'s' if one else ''} NaN) "
            f"and backward gives {'it a gradient' if one else 'them gradients'}: the "
            f"floating-point loss is flat here, so {'this gradient' if one else 'these gradients'} could not be compared. {why}",
            param=flat[0][0].name if one else None,
            measured=max(error for _, error in flat),
            pattern="flat-in-floating-point",
            evidence=((FLAT_LINES, "\n".join(f"{a.name}: line {line}" for a, line in lines if line is not None)),) if any(line for _, line in lines) else (),
            **self._grad_location(flat[0][0].name).fields(),
        )
        for a, error in flat:
            self.report.measurements.append(Measurement(self.layer, a.name, error, "flat"))

    def _kink(self, param: str | None, error: float, tol: float) -> None:
        self._add(
            "gradient-at-kink",
            f"the numerical gradient of `{self.layer}`{'.' + param if param else ''} crossed a kink (ReLU at 0, a max "
            "tie) even after moving the input: nothing to fix, the difference is the kink",
            param=param,
            measured=error,
            threshold=tol,
        )

    def _mismatch(
        self,
        a: _Array,
        error: float,
        tol: float,
        result: gradcheck.Elementwise,
        floor: float,
        bad_count: int,
        compared: int,
        pattern: gradcheck.Pattern | None,
    ) -> None:
        shape = a.live.shape
        worst = gradcheck.worst_elements(result, shape, floor)
        rows = [f"{'index':<14}{'numerical':>14}{'analytic':>14}{'rel. error':>12}"]
        rows += [f"{str(i):<14}{n:>14.6g}{an:>14.6g}{e:>12.3g}" for i, n, an, e in worst]
        abs_diff = np.abs(result.analytic - result.numerical)
        scope = "all elements compared" if result.full else f"{len(result.indices)} sampled of {a.live.size}"
        block = "\n".join(
            [
                f"Not equal to tolerance rtol={tol:g} (symmetric relative error, floor {floor:.1e})",
                f"Mismatched elements: {bad_count} / {compared} ({100 * bad_count / max(compared, 1):.0f}%), {scope}",
                f"Max absolute difference: {float(abs_diff.max(initial=0.0)):.6g}",
                f"Max relative difference: {float(result.errors(floor).max(initial=0.0)):.6g}",
                *rows,
            ]
        )
        what = f"the input gradient dx of `{self.layer}`" if a.name == "x" else f"the gradient of `{self.layer}.{a.name}`"
        where = self._grad_location(a.name, traced=True)
        counted = None
        if pattern is not None and pattern.name == "divided-by-rows":  # `m = A_prev.shape[0]`: where the count is taken
            counted = locate.count_divided_by(self.adapter.backward_target(), 0)
            where = counted or where
        owner = None
        if self.adapter.kind == "network" and pattern is not None and pattern.name == "not-computed":
            owner = getattr(self.adapter, "rebound_gradient", lambda _: None)(a.name)
        if owner is not None:
            layer, i = owner
            where = locate.assignment(type(layer).backward, f"self.grads[{i}]")
            if not where.text.startswith("self.grads"):  # `self.grads[i] = grad` in a loop over the gradients
                where = locate.entry_rebound(type(layer).backward, "self.grads")
            sentence = (
                f"{what} stays all zeros although the loss depends on it: `{type(layer).__name__}.backward` "
                f"binds a new array to `self.grads[{i}]`, so the network's `grads` list keeps the old one; "
                f"write into it instead (`self.grads[{i}][...] = ...`)"
            )
        elif counted is not None and pattern is not None and counted.text:
            fixed = counted.text.replace(".shape[0]", ".shape[1]")
            sentence = f"{what} is wrong, {pattern.description}: `{counted.text}` (line {counted.line}) counts the rows; write `{fixed}`"
        elif pattern:
            sentence = f"{what} is wrong, {pattern.description}: {pattern.advice}"
        elif self.adapter.kind == "network" and _has_layers(self.adapter):
            sentence = f"{what} is wrong (relative error {error:.3g}): {WHOLE_NETWORK[0]}, so fix the layer whose gradient is wrong"
        elif self.adapter.kind == "network":  # no layer objects: the network's gradient method computes it all
            sentence = (
                f"{what} is wrong (relative error {error:.3g}): {WHOLE_NETWORK[1]}, so re-derive "
                "it from the loss the network computes, with the same forward pass (the same output function) the loss uses"
            )
        else:
            sentence = f"{what} is wrong (relative error {error:.3g}): {REDERIVE}"
        evidence = [("elements", block)]
        fields = where.fields()
        blamed = self._blamed_earlier(a, result, floor, tol, where, pattern) if owner is None and counted is None and bad_count else None
        stage = self._blamed_stage(a, result, floor, tol, where) if blamed is None and owner is None and counted is None and bad_count else None
        term = self._blamed_data_term(a, result, floor, tol, where) if blamed is None and stage is None and owner is None and counted is None and bad_count else None
        if term is not None:
            measured = f", {pattern.description}" if pattern else f" (relative error {error:.3g})"
            sentence = (
                f"{what} is wrong{measured}, from `{term.text}` (line {term.line}): line {term.penalty_line} only adds the penalty of "
                f"`{a.name}` to it, and the error is no multiple of `{a.name}`, so no strength of that penalty makes it right; {REDERIVE}"
            )
            fields = {"file": where.file, "line": term.line, "end_line": term.end_line, "highlight": (term.line, term.penalty_line)}
        left_out = (
            gradcheck.penalty_left_out(result, a.live, floor, tol)
            if a.name != "x" and pattern is None and blamed is None and stage is None and term is None and owner is None and counted is None and bad_count
            else None
        )
        if left_out is not None:  # the loss adds an L2 penalty its gradient leaves out (`reg * W` never added)
            sentence = (
                f"{what} is wrong (relative error {error:.3g}): it is the loss's slope less {left_out:.3g} × `{a.name}`, the gradient of "
                f"the penalty {left_out / 2:.3g}·‖{a.name}‖² your loss adds; add `{left_out:.3g} * {a.name}` (your regularisation strength times "
                f"`{a.name}`) to it, or leave the penalty out of the loss"
            )
        if blamed is not None:
            sentence = _blamed_sentence(what, error, pattern, blamed, where)
            fields = {"file": where.file, "line": blamed.line, "end_line": blamed.end_line, "highlight": (blamed.line, blamed.store_line), "fix": blamed.fix}
        elif stage is not None:
            sentence = _stage_sentence(what, error, pattern, stage)
            fields = {"file": where.file, "line": stage.line, "end_line": stage.end_line, "highlight": (stage.line, stage.store_line)}
        if pattern:
            evidence.insert(0, ("pattern", pattern.name))
        self._add(
            "gradient-mismatch",
            sentence,
            param=a.name,
            measured=error,
            threshold=tol,
            pattern=pattern.name if pattern else "wrong-intermediate-gradient" if stage is not None else _blamed_pattern(blamed),
            evidence=tuple(evidence),
            **fields,
        )
        self.report.measurements.append(Measurement(self.layer, a.name, error, "mismatch"))

    def _blamed_earlier(
        self, a: _Array, result: gradcheck.Elementwise, floor: float, tol: float, where: locate.Location, pattern: gradcheck.Pattern | None
    ) -> rewrites.Blamed | None:
        """The statement before `where` (in the per-sample loop that stores the wrong gradient row by row,
        or among the earlier writes of the array it stores) whose one change makes every compared element
        agree (`rewrites.first_wrong`); None when the store itself is that statement, no change does, or
        the store is in no such loop and finishes no array written before."""
        f = getattr(self, "_loss_call", None)
        upstream = getattr(self, "_upstream", None)
        if f is None or where.line is None or upstream is None:
            return None
        target = self.adapter.backward_target()
        file = where.file or ""
        if not file or not locate.is_user_file(file):
            return None
        ran: list[bool] = []
        agrees = self._explaining(a, self._agreement(a, result, floor, tol, f, upstream, ran), f, upstream, ran)
        share = budget.within_share(ELEMENTS_SHARE)
        ends = time.perf_counter() + REWRITES_SECONDS
        blamed = rewrites.first_wrong(target, where.line, agrees, enough=lambda: share() or time.perf_counter() > ends, named=pattern is not None)
        if ran:
            f()  # the layer's state as the check's own forward left it
        return blamed if blamed is not None and blamed.line != where.line else None

    def _blamed_data_term(self, a: _Array, result: gradcheck.Elementwise, floor: float, tol: float, where: locate.Location) -> DataTerm | None:
        """The data term of a gradient stored at `where` by a statement that only adds its penalty to it (`dW += reg * W`
        after `dW = X.T @ dscores`, `static.data_terms`), when the error is no multiple of the array (`gradcheck.multiple_off`):
        no strength of the penalty could be what is wrong, so the term before it is. None otherwise."""
        from backprop_doctor.static.data_terms import data_term_before
        from backprop_doctor.static.files import source_tree

        file = where.file or ""
        if a.name == "x" or where.line is None or not file or not locate.is_user_file(file):
            return None
        term = data_term_before(source_tree(file)[1], where.line, a.name)
        if term is None or gradcheck.multiple_off(result, a.live, floor, tol):
            return None
        return term

    def _blamed_stage(self, a: _Array, result: gradcheck.Elementwise, floor: float, tol: float, where: locate.Location) -> injections.Blamed | None:
        """The intermediate gradient before `where` (`dvar = ...` before `dx = ...`) that is the first wrong one,
        measured through the forward value it is named after, when its right value makes every compared element
        agree (`injections.first_wrong`); None when no stage is, or the dtype is not float64."""
        f = getattr(self, "_loss_call", None)
        upstream = getattr(self, "_upstream", None)
        if f is None or where.line is None or upstream is None or getattr(self, "_dtype", "float64") != "float64":
            return None
        file = where.file or ""
        if not file or not locate.is_user_file(file):
            return None
        ran: list[bool] = []
        agrees = self._agreement(a, result, floor, tol, f, upstream, ran)
        failing = getattr(self, "_failing_names", {a.name})
        before = {b.name: np.asarray(b.grad, dtype=np.float64) for b in getattr(self, "_checked", None) or [] if b.name not in failing and isinstance(b.grad, np.ndarray)}
        right = list(before)

        def run_backward() -> None:
            ran.append(True)
            self._backward(upstream.copy() if isinstance(upstream, np.ndarray) else upstream)

        def gradients() -> dict[str, np.ndarray | None]:
            f()
            dx, grads = self._backward(upstream.copy() if isinstance(upstream, np.ndarray) else upstream)
            found = {name: dx if name == "x" else grads.get(name) for name in right}
            return {name: np.array(g, dtype=np.float64) if isinstance(g, np.ndarray) else None for name, g in found.items()}

        def agrees_and_keeps() -> bool:
            """`a` agrees, and every array that agreed before is as it was: a stage that holds another scale by the
            program's own convention (`dZ2 = A2 - Y`, the 1 / m put in `dW2`) fixes a store that left its factor
            out only by breaking the arrays that kept theirs."""
            if not agrees():
                return False
            after = gradients()
            for name, old in before.items():
                new = after.get(name)
                if old is None or new is None or old.shape != new.shape:
                    return False
                scale = max(float(np.max(np.abs(old), initial=0.0)), 1e-300)
                if float(np.max(gradcheck.relative_error(new, old, 1e-8 * scale), initial=0.0)) > tol:
                    return False
            return True

        share = budget.within_share(ELEMENTS_SHARE)
        ends = time.perf_counter() + REWRITES_SECONDS
        try:
            blamed = injections.first_wrong(
                self.adapter.backward_target(), self.adapter.forward_target(), where.line, f, run_backward, agrees_and_keeps,
                enough=lambda: share() or time.perf_counter() > ends, memo=self.__dict__.setdefault("_stages_memo", {}).setdefault(id(upstream), {}),
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - the user's code run on moved values: no blame when it fails
            blamed = None
        f()  # the layer's state as the check's own forward left it
        return blamed if blamed is not None and blamed.line != where.line else None

    def _explaining(self, a: _Array, agrees: Callable[[], bool], f: Callable[[], float], upstream: Any, ran: list[bool]) -> Callable[[], bool]:
        """`agrees`, and the change also moves every other array found wrong (`_failing_names`): a change that
        puts `a` right while another wrong gradient stays exactly as it was is not the one mistake they come from. A deep network written as functions whose seed `dAL` has its sign flipped has every layer's
        gradients negated; negating what the loop hands to the layer before (`grads['dA' + str(l)] = -dA_prev_temp`)
        puts the first layer right and leaves the others as wrong as they were."""
        others = [b for b in getattr(self, "_checked", None) or [] if b.name != a.name and b.name in getattr(self, "_failing_names", ()) and isinstance(b.grad, np.ndarray)]
        if not others:
            return agrees
        before = {b.name: np.array(b.grad, dtype=np.float64) for b in others}

        def explaining() -> bool:
            if not agrees():
                return False
            ran.append(True)
            f()
            dx, grads = self._backward(upstream.copy() if isinstance(upstream, np.ndarray) else upstream)
            for name, old in before.items():
                new = dx if name == "x" else grads.get(name)
                if isinstance(new, np.ndarray) and new.shape == old.shape and np.array_equal(np.asarray(new, dtype=np.float64), old):
                    return False
            return True

        return explaining

    def _agreement(
        self, a: _Array, result: gradcheck.Elementwise, floor: float, tol: float, f: Callable[[], float], upstream: Any, ran: list[bool]
    ) -> Callable[[], bool]:
        """Whether the backward, run now after a forward, gives `a` a gradient whose compared elements all agree."""
        smooth = ~result.kinked

        def agrees() -> bool:
            ran.append(True)
            f()
            dx, grads = self._backward(upstream.copy() if isinstance(upstream, np.ndarray) else upstream)
            grad = dx if a.name == "x" else grads.get(a.name)
            grad = np.asarray(grad, dtype=np.float64) if isinstance(grad, np.ndarray) else None
            if grad is None or grad.shape != a.live.shape:
                return False
            errors = gradcheck.relative_error(grad.reshape(-1)[result.indices], result.numerical, floor)
            return bool(np.all(errors[smooth] <= tol))

        return agrees


def _saturation(a: _Array) -> str:
    """The sentence naming an array's size when it is large enough to saturate a softmax or a sigmoid, else ''."""
    size = float(np.max(np.abs(a.live), initial=0.0))
    if not size >= SATURATING:
        return ""
    return (
        f"`{a.name}` reaches {size:.3g} in absolute value, so a softmax or sigmoid of it is 0 or 1 to the last digit: "
        "the outputs are saturated; bring the scores down (smaller initial weights, normalised inputs)."
    )


def _damped_rows(fa: np.ndarray, fn: np.ndarray, tol: float) -> list[tuple[int, float]] | None:
    """The rows (the last axis) of a loss's input gradient whose numerical row is the analytic row times one
    factor below 1 - tol, as (row, factor), when every failing row is the analytic row times one factor between
    0 and 1 (to rounding: a row at factor 1 may fail only in its tiny elements) and at least one damped row is
    not all zeros (an all-zero numerical gradient is `unused-in-forward`); None when any failing row is
    something else."""
    if fa.ndim < 1 or fa.shape != fn.shape or fa.shape[-1] < 2:
        return None
    a2, n2 = fa.reshape(-1, fa.shape[-1]), fn.reshape(-1, fn.shape[-1])
    damped = []
    for r, (a, n) in enumerate(zip(a2, n2)):
        aa = float(np.dot(a, a))
        if aa == 0.0:
            if np.any(n):
                return None
            continue
        if float(np.max(gradcheck.relative_error(a, n, 1e-8 * math.sqrt(aa)))) <= tol:
            continue
        factor = float(np.dot(a, n)) / aa
        if not (0.0 <= factor <= 1.0 + tol) or float(np.linalg.norm(n - factor * a)) > 1e-3 * math.sqrt(aa):
            return None
        if factor < 1.0 - tol:
            damped.append((r, factor))
    if not damped or all(factor == 0.0 for _, factor in damped):
        return None
    return damped


def _blamed_sentence(what: str, error: float, pattern: gradcheck.Pattern | None, blamed: rewrites.Blamed, where: locate.Location) -> str:
    """The finding's sentence when an earlier statement than the one storing the gradient is wrong."""
    measured = f", {pattern.description}" if pattern else f" (relative error {error:.3g})"
    found = f"{what} is wrong{measured}, from `{blamed.text}` (line {blamed.line})"
    store = where.text.split("=")[0].rstrip(" +-*/@") if "=" in where.text else "the row"
    if not blamed.looped and blamed.fix is None:
        return f"{found}: line {blamed.store_line} only scales it by one number, which cannot make it wrong this way; {REDERIVE}"
    if blamed.read_at is not None and blamed.fix is not None:  # `dh = da @ Wh` at the end of a step of backpropagation through time
        return (
            f"{found}, after line {blamed.store_line}: it is what the loop hands on to its next pass (line {blamed.read_at} "
            f"reads it there), so every pass after the first starts from it: write `{blamed.fix}`, with which every compared "
            "element agrees"
        )
    if not blamed.looped:
        return f"{found}, before line {blamed.store_line} finishes it: write `{blamed.fix}`, with which every compared element agrees"
    if blamed.fix is not None:
        return (
            f"{found}, computed for each sample before `{store}` stores its row (line {blamed.store_line}): write "
            f"`{blamed.fix}`, with which every compared element agrees"
        )
    return f"{found}, computed for each sample and only copied into its row by `{store}` (line {blamed.store_line}): {REDERIVE}"


def _stage_sentence(what: str, error: float, pattern: gradcheck.Pattern | None, stage: injections.Blamed) -> str:
    """The finding's sentence when an intermediate gradient before the stored one is the first wrong one."""
    measured = f", {pattern.description}" if pattern else f" (relative error {error:.3g})"
    before = ""
    if stage.right:
        names = ", ".join(f"`{n}`" for n in stage.right)
        before = f", while {names} before it {'is' if len(stage.right) == 1 else 'are'} right"
    return (
        f"{what} is wrong{measured}, from `{stage.text}` (line {stage.line}): `{stage.name}` is not the gradient with respect to "
        f"`{stage.forward}` (relative error {stage.error:.3g} against the one measured through the forward){before}, and with "
        f"that gradient in its place every compared element agrees; re-derive `{stage.name}`"
    )


def _blamed_pattern(blamed: rewrites.Blamed | None) -> str | None:
    if blamed is None:
        return None
    if blamed.read_at is not None:
        return "wrong-for-the-next-pass"  # `dh = da @ Wh` handed back to the time step before
    return "wrong-in-sample-loop" if blamed.looped else "wrong-before-it-is-finished"


def _divided_by_rows(rows: int, columns: int) -> gradcheck.Pattern:
    """A pair over columns (`A (n, m)`, one sample per column) that divides its parameter gradients by
    n, the input's rows, where the mean over the samples divides by m, its columns."""
    return gradcheck.Pattern(
        "divided-by-rows",
        f"it is divided by {rows}, the number of rows of its input (one per feature), where the samples are the input's "
        f"{columns} columns",
        "divide by the number of samples, the input's number of columns (`.shape[1]`), not its rows (`.shape[0]`)",
        1.0 / rows,
    )


def _has_layers(adapter: Any) -> bool:
    """Whether a network's gradient comes from layer objects (`self.layers`, `self.affine1`) whose
    backward passes it chains, rather than from one method that computes it all."""
    own = getattr(adapter, "has_layers", None)
    if callable(own):  # an adapter that knows (`observe.lossgrads.LossAndGrads`: the layer objects its method's object holds)
        return bool(own())
    network = getattr(adapter, "network", None)
    try:
        return bool(network is not None and network.layers())
    except Exception:  # noqa: BLE001 - the user's own objects: when in doubt, the usual wording
        return True


_RESHAPED = ("reshape", "astype", "copy", "squeeze", "ravel", "flatten")


def _delegated(target: Any, layer: Any, found: locate.Location, ran: set[int] | None) -> locate.Location | None:
    """Where a backward that hands its work to another method of its class (`dx = self.__backward(dout)`,
    then `dx = dx.reshape(...)`: the book's BatchNormalization) computes dx: that method's own
    assignment of what it returns, on the lines that ran; None when dx is not bound to such a call
    (or to one only reshaped after it)."""
    import ast

    if layer is None or not found.text or found.line is None:
        return None
    try:
        stmt = ast.parse(found.text.strip()).body[0]
    except (SyntaxError, IndexError):
        return None
    call = _self_call(stmt)
    if call is None and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        name, value = stmt.targets[0].id, stmt.value
        reshaped = isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _RESHAPED
        if reshaped and isinstance(value.func.value, ast.Name) and value.func.value.id == name:
            tree = locate._function_tree(target)
            if tree is None:
                return None
            body, start, _ = tree
            earlier = [
                n for n in ast.walk(body) if isinstance(n, ast.Assign) and start + n.lineno - 1 < found.line
                and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
            ]  # fmt: skip
            call = _self_call(max(earlier, key=lambda n: n.lineno)) if earlier else None
    if call is None:
        return None
    method = call
    if method.startswith("__") and not method.endswith("__"):
        method = f"_{type(layer).__name__.lstrip('_')}{method}"  # `self.__backward` is `_BatchNormalization__backward`
    inner = getattr(type(layer), method, None)
    if not callable(inner):
        return None
    located = locate.assignment(inner, locate.returned_name(inner) or "dx", ran=ran)
    return located if located.line is not None and located.text else None


def _self_call(stmt: Any) -> str | None:
    """`m` of `dx = self.m(...)` or `return self.m(...)`, else None."""
    import ast

    value = stmt.value if isinstance(stmt, (ast.Assign, ast.Return)) else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name) and value.func.value.id == "self":
        return value.func.attr
    return None
