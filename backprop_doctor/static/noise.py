"""Noise a training pass draws for its loss: a step whose loss is random by design.

    for epoch in range(150):
        ...
        eps = np.random.randn(xb.shape[0], Z)      # the reparameterisation's noise, drawn every pass
        loss, grads = loss_and_grads(params, xb, eps)

    class Dropout:
        def forward(self, x):
            self.mask = rng.random(x.shape) > self.p   # a mask drawn in a method the pass calls
            ...

`drawn_noise` finds a draw of random numbers (normal, uniform, a Bernoulli mask) in a loop's body or in
the file's functions and methods the body calls (to `DEPTH` calls). A draw of indices (`permutation`,
`choice`, `randint`, `shuffle`, `integers`) picks samples and is not noise. Such a model's loss has no
floor of 0 on a few samples even with right gradients (a VAE's KL term against a sampled code, dropout's
masked units), so the tiny-batch fit is not asked of it.
"""

from __future__ import annotations

import ast
import builtins

NOISE = frozenset({
    "randn", "rand", "normal", "standard_normal", "uniform", "random", "random_sample", "ranf",
    "binomial", "bernoulli", "gauss", "normalvariate", "laplace", "logistic", "gumbel", "exponential",
})  # fmt: skip
DEPTH = 3


def _is_draw(call: ast.Call) -> bool:
    """`np.random.randn(...)`, `rng.normal(...)`, `self.rng.random(...)`, `random.gauss(...)`."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in NOISE:
        return False
    owner = func.value
    if isinstance(owner, ast.Attribute) and owner.attr == "random":
        return True  # np.random.*, numpy.random.*
    if isinstance(owner, ast.Name) and owner.id == "random":
        return True  # Python's random module
    name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
    return "rng" in name.lower() or "random" in name.lower() or name.lower() in ("gen", "generator", "rs", "prng")


def drawn_noise(tree: ast.Module | None, loop: ast.stmt | None) -> int | None:
    """The line of the first draw of noise one pass of `loop` makes, in its body or in a function or
    method of the file it calls; None when it draws none."""
    if tree is None or not isinstance(loop, (ast.For, ast.While)):
        return None
    functions: dict[str, list[ast.AST]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions.setdefault(item.name, []).append(item)
    seen: set[int] = set()

    def visit(nodes: list[ast.AST], depth: int) -> int | None:
        found: list[int] = []
        for top in nodes:
            for node in ast.walk(top):
                if not isinstance(node, ast.Call):
                    continue
                if _is_draw(node):
                    found.append(node.lineno)
                    continue
                if depth >= DEPTH:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                targets = functions.get(name or "", [])
                if isinstance(func, ast.Name) and name not in functions and not hasattr(builtins, name):
                    targets = functions.get("__call__", [])  # `net(x)`: an instance called
                for target in targets:
                    if id(target) not in seen:
                        seen.add(id(target))
                        inner = visit(list(target.body), depth + 1)  # type: ignore[attr-defined]
                        if inner is not None:
                            found.append(inner)
        return min(found) if found else None

    return visit(list(loop.body), 0)
