"""Methods that are plain functions in disguise: they never read the instance.

Many networks written as one class keep their activations and derivatives as methods
(`def sigmoid(self, z)`, `def sigmoid_backward(self, dA, Z)`, `def tanh_prime(self, x)`). Such
a method can be checked like a module function, without building the network, when its body
reads `self` only to call another method of the same kind (`s = self.sigmoid(Z)`).
`discovery` then calls it on a bare instance of its class, whose `__init__` never runs.

Example (both methods are self-free; `forward` is not, it reads `self.W`):

    class Net:
        def sigmoid(self, z):
            return 1 / (1 + np.exp(-z))

        def sigmoid_prime(self, z):
            return self.sigmoid(z) * (1 - self.sigmoid(z))

        def forward(self, x):
            return self.sigmoid(x @ self.W)
"""

from __future__ import annotations

import ast


def self_free(nodes: dict[str, tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]]) -> set[str]:
    """The names, of `name -> (the name of its instance argument or None, its def)`, whose bodies read
    the instance only through calls of other names in the result (None: a static method)."""
    free = set(nodes)
    changed = True
    while changed:
        changed = False
        for name in sorted(free):
            own, node = nodes[name]
            if own is not None and not _reads_only_calls(node, own, free):
                free.discard(name)
                changed = True
    return free


def _reads_only_calls(node: ast.AST, own: str, free: set[str]) -> bool:
    """Every use of the name `own` in `node` is `own.method(...)` with `method` in `free`."""
    allowed: set[int] = set()
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == own
            and call.func.attr in free
        ):
            allowed.add(id(call.func.value))
    return all(
        id(name) in allowed for name in ast.walk(node) if isinstance(name, ast.Name) and name.id == own
    )
