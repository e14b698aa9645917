"""A loss function that computes a log-likelihood: the cross-entropy without its minus sign.

    loss = np.sum(np.log(probs[np.arange(N), y])) / N + reg * np.sum(W * W)

Every log of a probability in the statement that computes the loss counts positively, so the
value grows as the fit improves; the gradient the function returns (that of the negative
log-likelihood) then disagrees with it in sign. `log_likelihood_line` finds that statement. A
log of a sum of exponentials (`np.log(np.sum(np.exp(scores), axis=1)) - correct`, the
log-sum-exp form of a correct cross-entropy) is not a log of a probability and never counts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from backprop_doctor.static.definitions import find_function
from backprop_doctor.static.tree import walk

LOSS_NAME = re.compile(r"loss|cost", re.IGNORECASE)


def log_likelihood_line(tree: ast.Module, qualname: str) -> int | None:
    """The line of the function `qualname` that computes its loss as a log-likelihood, or None."""
    function = find_function(tree, qualname)
    if function is None:
        return None
    for stmt in sorted((s for s in walk(function) if isinstance(s, (ast.Assign, ast.AugAssign))), key=lambda s: s.lineno):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if not any(isinstance(t, ast.Name) and LOSS_NAME.search(t.id) for t in targets):
            continue
        if _likelihood(stmt.value, -1 if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Sub) else 1):
            return stmt.lineno
    return None


def returned_log_likelihood(tree: ast.Module, qualname: str) -> int | None:
    """The line of the one `return` of the function `qualname` when it returns a log-likelihood
    (`return y * np.log(p) + (1 - y) * np.log(1 - p)`; not `return -np.sum(t * np.log(y)) / N`)."""
    function = find_function(tree, qualname)
    returns = [r for r in walk(function) if isinstance(r, ast.Return) and r.value is not None] if function is not None else []
    if len(returns) != 1:
        return None
    return returns[0].lineno if _likelihood(returns[0].value, 1) else None


def _likelihood(value: ast.expr, sign: int) -> bool:
    """Whether `value`, entering with `sign`, holds logs of probabilities that all enter with a plus sign."""
    logs = list(_signed_logs(value, sign))
    return bool(logs) and all(sign > 0 and not _log_sum_exp(call) for sign, call in logs)


def _signed_logs(node: ast.AST, sign: int) -> Iterator[tuple[int, ast.Call]]:
    """Each `log(...)` call in `node` with the sign it enters the value with."""
    if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("log"):
        yield sign, node
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield from _signed_logs(node.operand, -sign)
        return
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Sub):
            yield from _signed_logs(node.left, sign)
            yield from _signed_logs(node.right, -sign)
            return
        if isinstance(node.op, (ast.Mult, ast.Div)):
            left, right = sign * _constant_sign(node.right), sign * _constant_sign(node.left)
            yield from _signed_logs(node.left, left)
            yield from _signed_logs(node.right, right)
            return
    for child in ast.iter_child_nodes(node):
        yield from _signed_logs(child, sign)


def _constant_sign(node: ast.AST) -> int:
    """-1 for a negative number (`-1`, `-0.5`), else 1."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -1
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and node.value < 0:
        return -1
    return 1


def _log_sum_exp(call: ast.Call) -> bool:
    """`log(sum(exp(...)))`: the log-sum-exp of a correct cross-entropy, not a log of a probability."""
    if not call.args:
        return False
    inner = call.args[0]
    return isinstance(inner, ast.Call) and ast.unparse(inner.func).endswith("sum") and any(
        isinstance(n, ast.Call) and ast.unparse(n.func).endswith("exp") for n in ast.walk(inner)
    )
