"""Backward passes written for an upstream gradient with one nonzero entry.

A softmax layer trained only under the cross-entropy of its own output gets, from that loss, an
upstream gradient that is zero but at the label: `dout = np.zeros(10); dout[label] = -1 / out[label]`.
Its backward may be written for that alone, looping over the entries of the upstream gradient,
skipping the zeros, and returning from inside the loop at the first entry that is not:

    for i, gradient in enumerate(d_L_d_out):
        if gradient == 0:
            continue
        ...
        return d_L_d_inputs

`one_nonzero_upstream` recognises it; such a layer is checked on the upstream gradients it is written
for, one entry at a time (`engine`), and a general one would find it wrong by design.
"""

from __future__ import annotations

import ast

from backprop_doctor.static.tree import walk


def _skips_zero(statement: ast.stmt, element: str) -> bool:
    """`if element == 0: continue` (or `if not element: continue`)."""
    if not (isinstance(statement, ast.If) and len(statement.body) == 1 and isinstance(statement.body[0], ast.Continue)):
        return False
    test = statement.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id == element
    return (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.left, ast.Name) and test.left.id == element
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == 0
    )  # fmt: skip


def one_nonzero_upstream(function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """Whether `function` loops over the entries of its upstream gradient (its first argument after
    `self`), skips the zero ones and returns from inside the loop."""
    if function is None:
        return False
    params = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    if not params:
        return False
    upstream = params[0]
    for loop in walk(function):
        if not isinstance(loop, ast.For):
            continue
        over = loop.iter
        if isinstance(over, ast.Call) and isinstance(over.func, ast.Name) and over.func.id == "enumerate" and over.args:
            over, target = over.args[0], loop.target.elts[1] if isinstance(loop.target, ast.Tuple) and len(loop.target.elts) == 2 else None
        else:
            target = loop.target
        if not (isinstance(over, ast.Name) and over.id == upstream and isinstance(target, ast.Name)):
            continue
        if any(_skips_zero(s, target.id) for s in loop.body) and any(isinstance(s, ast.Return) for s in loop.body):
            return True
    return False
