"""Statements of a training pass that scale a parameter in place beside its gradient step.

    for P, G in zip(params, grads):
        P *= wd                 # meant: P *= (1 - wd), decoupled weight decay
        P -= lr * G

`scalings` reads one pass of a training loop: a statement that multiplies (or divides) an array the
pass's gradient step updates by a factor made of settings alone (`P *= wd`, `layer.W *= (1 - lr * wd)`,
`params[k] = params[k] * decay`), not a factor read off the array itself (a max-norm constraint's
`W *= c / np.linalg.norm(W)`) nor an elementwise mask. The replay's capture measures what each did to
the parameter at the first pass (after ÷ before, `replay.capture.Scaled`), and
`checks/step_decay_wrong.py` names one whose factor is far from 1: a decay written wrongly.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.tree import walk


@dataclass(frozen=True)
class Scaling:
    line: int
    end_line: int
    target: str  # the parameter as written (`P`, `layer.W`, `params[k]`)
    factor: str  # the factor as written (`wd`, `(1 - lr * wd)`), a divisor's as `1 / (...)`
    statement: str


def _same_parameter(a: str, b: str) -> bool:
    """`P` and `P`; `params[k]` and `params[key]`: one container's entry under whatever key a loop walks."""
    if a == b:
        return True
    try:
        x, y = ast.parse(a, mode="eval").body, ast.parse(b, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(x, ast.Subscript) and isinstance(y, ast.Subscript) and ast.unparse(x.value) == ast.unparse(y.value)


def _setting_only(factor: ast.expr, target: str) -> bool:
    """A factor made of numbers, names and attributes alone (no call, no subscript, not the parameter itself).

    A setting held beside the parameter on the same object counts (`self.W *= self.wd` in a layer's
    `step(self)`, `layer.W *= layer.decay`); the parameter, or what is read off it (`W *= W.dtype...`), does not."""
    held = target.split("[", 1)[0]  # `self.W` of `self.W`, `params` of `params[k]`, `P` of `P`
    for node in walk(factor):
        if isinstance(node, (ast.Call, ast.Subscript, ast.Compare, ast.Lambda, ast.IfExp)):
            return False
        if isinstance(node, (ast.Name, ast.Attribute)):
            read = ast.unparse(node)
            if read == held or read.startswith(held + "."):
                return False
    return True


def _measured_in(loop: ast.AST, factor: ast.expr) -> bool:
    """A factor naming something the loop computes with a call (`scale = c / np.linalg.norm(W)` for a max-norm
    constraint's `W *= scale`): read off the arrays, not a setting."""
    names = {ast.unparse(n) for n in walk(factor) if isinstance(n, (ast.Name, ast.Attribute))}  # `self.scale` too
    for node in walk(loop):
        if isinstance(node, ast.Assign) and any(isinstance(t, (ast.Name, ast.Attribute)) and ast.unparse(t) in names for t in node.targets):
            if any(isinstance(n, (ast.Call, ast.Subscript)) for n in walk(node.value)):
                return True
    return False


def _scaled(stmt: ast.stmt) -> tuple[str, ast.expr, bool] | None:
    """(target, factor, divided) of `t *= f`, `t /= f`, `t = t * f`, `t = f * t`, `t = t / f`."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Mult, ast.Div)):
        return ast.unparse(stmt.target), stmt.value, isinstance(stmt.op, ast.Div)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, (ast.Mult, ast.Div)):
        target = ast.unparse(stmt.targets[0])
        left, right = stmt.value.left, stmt.value.right
        if ast.unparse(left) == target:
            return target, right, isinstance(stmt.value.op, ast.Div)
        if isinstance(stmt.value.op, ast.Mult) and ast.unparse(right) == target:
            return target, left, False
    return None


def scalings(loop: ast.AST | None, targets: list[str]) -> list[Scaling]:
    """The statements in `loop` (not in functions it defines) that scale one of the updated `targets`
    by a factor of settings alone."""
    if loop is None or not targets:
        return []
    found: list[Scaling] = []
    for node in walk(loop):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        got = _scaled(node)
        if got is None:
            continue
        target, factor, divided = got
        if not any(_same_parameter(target, t) for t in targets) or not _setting_only(factor, target) or _measured_in(loop, factor):
            continue
        if isinstance(factor, ast.Constant) and factor.value == 0 and not divided:
            continue  # `W *= 0`: emptied on purpose, no factor of a decay
        text = ast.unparse(factor)
        found.append(Scaling(node.lineno, node.end_lineno or node.lineno, target, f"1 / ({text})" if divided else text, ast.unparse(node)))
    return found


# ---------------------------------------------------------- a weight decay added, not taken away

_STRENGTH = re.compile(r"(?i)^(lam\w*|lmb\w*|lmd\w*|\w*lambda\w*|reg|reg_\w*|\w+_reg|l2\w*|\w*weight_decay\w*|wd|decay|\w*penalty\w*)$")


@dataclass(frozen=True)
class AddedDecay:
    """An update that multiplies a parameter by one plus a penalty's strength (`(1 + eta * (lmbda / n)) * w`),
    where L2 weight decay multiplies it by one minus it: the weights grow by that factor at every step."""

    line: int
    end_line: int
    parameter: str  # the parameter as the statement reads it (`w` of the comprehension, `self.W`)
    factor: str  # as written: `(1 + eta * (lmbda / n))`
    fixed: str  # `(1 - eta * (lmbda / n))`
    statement: str


def _strength(node: ast.expr) -> bool:
    """Whether `node` reads a penalty's strength by its name (`lmbda`, `self.reg`, `config["weight_decay"]`)."""
    for n in walk(node):
        name = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else None
        if name is None and isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str):
            name = n.slice.value
        if name is not None and _STRENGTH.match(name):
            return True
    return False


def _one(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == 1


def _one_plus(node: ast.expr) -> ast.expr | None:
    """X of `1 + X` (or `X + 1`), X reading a penalty's strength and no sign of its own."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    other = node.right if _one(node.left) else node.left if _one(node.right) else None
    if other is None or not _strength(other) or any(isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) for n in walk(other)):
        return None
    return other


def _added_factor(value: ast.expr, parameter: str) -> ast.expr | None:
    """The `1 + X` that `value` multiplies `parameter` by in a term it adds: `(1 + X) * p - step`, `p * (1 + X)`."""
    pending: list[tuple[ast.expr, int]] = [(value, 1)]
    while pending:
        node, sign = pending.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            pending += [(node.left, sign), (node.right, sign if isinstance(node.op, ast.Add) else -sign)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and sign > 0:
            for factor, other in ((node.left, node.right), (node.right, node.left)):
                if ast.unparse(other) == parameter and _one_plus(factor) is not None:
                    return factor
    return None


def added_decays(tree: ast.AST | None) -> list[AddedDecay]:
    """Every statement that updates a parameter by multiplying it by one plus a penalty's strength:
    `self.weights = [(1 + eta * (lmbda / n)) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]`,
    `W = W * (1 + lr * reg) - lr * dW`, `W *= 1 + lr * wd`. The name of the strength tells the factor is a
    weight decay's (`lmbda`, `lam`, `reg`, `weight_decay`, `wd`), which must be `1 - ...`: a momentum's
    `(1 + mu)` or a plain `(1 + eps)` is not one. A comprehension's element counts as the parameter when it
    walks the list the statement rebinds (`for w, nw in zip(self.weights, ...)`)."""
    found: list[AddedDecay] = []
    for node in walk(tree) if tree is not None else []:
        factor: ast.expr | None = None
        parameter = ""
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Mult) and _one_plus(node.value) is not None:
            factor, parameter = node.value, ast.unparse(node.target)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = ast.unparse(node.targets[0]), node.value
            if isinstance(value, ast.ListComp) and len(value.generators) == 1:
                generator = value.generators[0]
                names = generator.target.elts if isinstance(generator.target, ast.Tuple) else [generator.target]
                walked = generator.iter.args if isinstance(generator.iter, ast.Call) and ast.unparse(generator.iter.func) == "zip" else [generator.iter]
                for name, over in zip(names, walked):
                    if isinstance(name, ast.Name) and ast.unparse(over) == target:
                        factor, parameter = _added_factor(value.elt, name.id), name.id
                        break
            else:
                factor, parameter = _added_factor(value, target), target
        if factor is None:
            continue
        written = ast.unparse(factor)
        inner = _one_plus(factor)
        assert inner is not None
        found.append(AddedDecay(node.lineno, node.end_lineno or node.lineno, parameter, f"({written})", f"(1 - {ast.unparse(inner)})", ast.unparse(node)))
    return sorted(found, key=lambda d: d.line)


__all__ = ["AddedDecay", "Scaling", "added_decays", "scalings"]
