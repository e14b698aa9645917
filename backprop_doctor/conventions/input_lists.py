"""Layers whose forward takes a list of inputs, one array per input: not checked yet.

A merge layer written for several inputs handed over as one list, `forward(X)` with `X = [x1, x2, ...]`,
adds or multiplies them element by element and its backward returns one gradient per input:

Example:
    class Sum:
        def forward(self, X):
            out = X[0].copy()
            for i in range(1, len(X)):
                out += X[i]
            return out

        def backward(self, dLdY):
            return [dLdY.copy() for _ in self.X]

Fed one array, such a layer reads its rows as the inputs and sums over the batch, so no gradient
of it compares with anything: it is listed as not checked, with the reason.

Recognised by: a layer class whose forward takes one input that it indexes by a whole number
(`X[0]`) and measures with `len(X)` or walks with a loop (`for x in X`).
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from backprop_doctor.conventions._classlayer import function_node, required_inputs
from backprop_doctor.conventions._run import Case, NotChecked

NAME = "input-lists"
KIND = "class"
ORDER = 11  # before the layer conventions, which would feed it one batch


def recognise(cls: type, namespace: dict[str, Any]) -> bool:
    forward, backward = getattr(cls, "forward", None), getattr(cls, "backward", None)
    if not (callable(forward) and callable(backward)):
        return False
    inputs = required_inputs(forward)
    node = function_node(forward)
    if len(inputs) != 1 or node is None:
        return False
    name = inputs[0]
    described = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in ("shape", "size", "ndim", "dtype")}
    indexed = any(
        isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == name
        and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, int) and id(n) not in described
        for n in ast.walk(node)
    )  # fmt: skip  # `X[0].copy()`, not `x[0].shape` (one sample's shape)
    counted = any(
        (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len" and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == name)
        or (isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Name) and n.iter.id == name)
        for n in ast.walk(node)
    )  # fmt: skip
    return indexed and counted


def label(cls: type) -> str:
    return cls.__name__


def build(cls: type, context: Any, rng: np.random.Generator) -> list[Case]:
    raise NotChecked(
        f"its forward takes a list of inputs, one array per input (`{required_inputs(cls.forward)[0]}[0]`, "
        f"`len({required_inputs(cls.forward)[0]})`): not checked yet"
    )
