"""A layer's forward or backward raised an exception on a valid input.

What it finds:
    An exception from the user's `forward`, `backward`, `loss` or `gradient`
    when called on an input of the shapes the network uses, with the line in
    the user's file where it was raised. A loss layer that returns an array
    instead of a scalar is reported here too.

Why it matters:
    A layer that cannot run cannot be trained; often the exception points at a
    shape mistake (`np.dot` of mismatched arrays) or a missing attribute
    (an `__init__` that never ran).

Example:
    def forward(self, x):
        return np.dot(self.W, x)        # (50, 784) · (N, 784) does not align

Fix:
    def forward(self, x):
        return np.dot(x, self.W)
"""

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from backprop_doctor.findings import Finding

NAME = "layer-raised"
CODE = "BPD105"
SEVERITY = "error"
STAGE = "gradient"


_SCALAR = "only 0-dimensional arrays can be converted to Python scalars"


def run(context: Any) -> Iterator[Finding]:
    """Complete in place a layer that raised because NumPy 2 turns only 0-dimensional arrays into
    numbers (`float(b)` of a (1, 1, 1) bias, as course code of the NumPy 1 years writes it): say
    what works in every version. A layer that raised on a `None` an exercise left as its placeholder
    (`L2_regularization_cost = None` under "START CODE HERE") is not written yet: a warning."""
    for i, finding in enumerate(context.findings):
        placeholder = _placeholder(finding) if finding.name == NAME and "NoneType" in finding.message else None
        if placeholder is not None:
            function, name, line = placeholder
            context.findings[i] = finding = finding.replace(
                severity="warning",
                pattern="not-written",
                fix=None,
                message=(
                    f"`{function}` is not written yet: `{name}` is still the `None` placeholder it started as (line {line}) "
                    f"when line {finding.line} uses it; write it"
                ),
            )
        index = _list_index(finding) if finding.name in (NAME, "program-stopped") and ("IndexError" in finding.message or "ValueError" in finding.message) else None
        if index is not None:
            written, as_tuple = index
            # the program's own run stopped by it: a line of the user's that fails on this NumPy, an error
            context.findings[i] = finding = finding.replace(
                severity="error",
                fix=as_tuple,
                pattern="list-of-index-arrays",
                message=_stop_only(finding) + f"; `{written}` indexes with a list of index arrays, which NumPy before 1.23 read as one "
                f"array per axis and NumPy {np.__version__} reads as one index array on the first axis: write `{as_tuple}`",
            )
        global_name = _global_of_the_program(finding) if finding.name == NAME and "NameError" in finding.message else None
        if global_name is not None:
            name, bound_at, keyed = global_name
            instead = f"read it from what it is given (`{keyed}`)" if keyed else "take it as an argument"
            early = re.search(r"as it builds `(\w+)` at line (\d+), before line \d+ sets", finding.message)
            consequence = (
                f"your program builds `{early[1]}` at line {early[2]}, before line {bound_at} binds `{name}`, so your program stops there "
                "with this NameError too"
                if early is not None  # `build._built_before_set`
                else f"your program binds it at line {bound_at}, outside the function, so the function computes with that global rather than with its own arguments"
            )
            context.findings[i] = finding = finding.replace(
                pattern="reads-a-global",
                fix=None,
                message=(
                    f"{_function_named(finding.message.partition(' raised NameError')[0])} reads `{name}` (line {finding.line}), which it neither takes "
                    f"nor defines: {consequence}: {instead}"
                ),
            )
        stale = _left_by_a_loop(finding) if finding.name in (NAME, "program-stopped") and "ValueError" in finding.message else None
        if stale is not None:
            read_at = stale[1]
            context.findings[i] = finding = finding.replace(
                severity="error",
                line=read_at,
                highlight=tuple(sorted({read_at, finding.line})),
                pattern="left-by-a-loop",
                fix=None,
                message=f"{_stop_only(finding).partition(': fix')[0]}; it starts at line {read_at}, which " + left_by_a_loop_words(stale),
            )
        if finding.name == "program-stopped" and finding.severity == "info":
            stopped = _stopped_in_training(context, finding)
            if stopped is not None:
                context.findings[i] = finding = stopped
        if finding.name == NAME and _SCALAR in finding.message and ".item()" not in finding.message:
            context.findings[i] = finding.replace(
                message=finding.message + "; NumPy 2 turns only a 0-dimensional array into a number: write `b.item()` "
                "(the one number of a size-1 array) where the line has `float(b)` or `int(b)`"
            )
    yield from ()


def on_made_up_input(finding: Finding, loop_line: int) -> Finding:
    """A layer that raised on the inputs backprop-doctor made for it, while the program's own training
    step (the loop at `loop_line`) runs it on the program's inputs and its parameters' gradients were
    compared there: the made-up input is what did not fit (an RNN's sequence given as a batch), not
    the layer: a note."""
    return finding.replace(
        severity="info",
        pattern="made-up-input",
        fix=None,
        message=(
            f"{finding.message.partition(': fix')[0]}, an input backprop-doctor made up; your program's own training step "
            f"(the loop at line {loop_line}) runs it on its own inputs, where its gradients were compared, so only the layer "
            "check on made-up inputs is left out"
        ),
    )


def run_by_the_program(finding: Finding, call_line: int | None) -> Finding:
    """A forward that raised on the inputs backprop-doctor made up for it (a width or a layout guessed
    from nothing), while the program's own run called it (at `call_line`) and it returned: the guess
    did not fit the program's data, the forward did: a note, not an error."""
    where = f" (line {call_line})" if call_line else ""
    return finding.replace(
        severity="info",
        pattern="made-up-input",
        fix=None,
        message=(
            f"{finding.message.partition(': fix')[0]}, an input backprop-doctor made up; your program's own call{where} runs it "
            "on its own data without an error, so only the check on made-up inputs is left out"
        ),
    )


def _stopped_in_training(context: Any, finding: Finding) -> Finding | None:
    """A program that stopped inside its own training loop never trains: an error, not a note. At an
    update whose gradient has the parameter's shape transposed (NumPy's "(32,3) (3,32)"), it says so."""
    import os
    import re

    source = context.source
    if source is None or not finding.line or (finding.file and os.path.abspath(finding.file) != os.path.abspath(source.path)):
        return None
    if getattr(context.extras.get("observed_record"), "standin", None) or "stand-in" in finding.message or "Stub" in finding.message:
        return None  # stopped on what a missing module's stand-in gave: not the program's own error
    if any(f.severity == "error" for f in context.findings if f is not finding):
        return None  # a wrong gradient already found explains the stop (a bias gradient per sample that cannot update the bias)
    step = next((s for s in source.facts.training_steps if s.first_line <= finding.line <= s.update_end_line and not s.loopless), None)
    if step is None:
        return None
    head = _stop_only(finding)
    held = getattr(context.extras.get("observed_record"), "shapes", None) or {}
    if (tree := getattr(source, "tree", None)) is not None and (broadcast := column_against_vector(tree, step, finding.line, held)) is not None:
        line, text, column, vector = broadcast
        message = (
            f"{head}, inside your training loop (line {step.loop_line}); it starts at line {line}: `{text}` combines `{column}` of shape "
            f"{held[column]} with `{vector}` of shape {held[vector]}, which NumPy broadcasts to {(held[column][0], held[vector][0])}, every "
            f"sample against every other, so the loss and every gradient after it are wrong: make them one shape "
            f"(`{vector}.reshape(-1, 1)`, once, where `{vector}` is made)"
        )
        return finding.replace(severity="error", pattern="column-against-vector", line=line, highlight=tuple(sorted({line, finding.line})), message=message)
    shapes = re.search(r"shapes \((\d+),\s*(\d+)\) \((\d+),\s*(\d+)\)", finding.message)
    if shapes is None or shapes.group(1, 2) != shapes.group(4, 3) or shapes.group(1) == shapes.group(2):
        message = f"{head}, inside your training loop (line {step.loop_line}), so it never trains: fix that line"
        return finding.replace(severity="error", pattern="stopped-in-training", message=message)
    parameter, given = f"({shapes.group(1)}, {shapes.group(2)})", f"({shapes.group(3)}, {shapes.group(4)})"
    sites = [u for u in step.updates if u.line == finding.line and u.file is None]
    if len(sites) > 1:  # `W1 -= ...; W2 -= ...` on one line: the one whose array has the shape
        namespace = context.namespace or {}
        sites = [u for u in sites if np.shape(namespace.get(u.update.target)) == (int(shapes.group(1)), int(shapes.group(2)))]
    if len(sites) == 1:
        target, gradient = sites[0].update.target, sites[0].gradient
        message = (
            f"{head}: the update of `{target}` (line {finding.line}) gets `{gradient}` of shape {given} for `{target}` of shape "
            f"{parameter}, the transpose: compute `{gradient}` in `{target}`'s shape (swap the factors of its product and transpose each)"
        )
    else:
        message = (
            f"{head}: an update on line {finding.line} gets a gradient of shape {given} for a parameter of shape {parameter}, "
            "the transpose: compute that gradient in its parameter's shape (swap the factors of its product and transpose each)"
        )
    return finding.replace(severity="error", pattern="stopped-in-training", message=message)


def column_against_vector(tree: Any, step: Any, stopped: int, shapes: dict[str, tuple[int, ...]], named: bool = False) -> tuple[int, str, str, str] | None:
    """The first statement of the loop's pass, up to the line it stopped at, that subtracts or adds
    a column of N rows and a vector of N entries (`out - y`, `out` (100, 1), `y` (100,)): NumPy makes
    an (N, N) array of them, which is what the shape error further on meets. (line, the operation,
    the column's name, the vector's name); None when no such operation is written there. `named`: an
    attribute (`self.out`) is looked up in `shapes` as written too."""
    import ast

    def shape(node: ast.AST) -> tuple[int, ...] | None:
        if isinstance(node, ast.Name):
            return shapes.get(node.id)
        return shapes.get(ast.unparse(node)) if named and isinstance(node, ast.Attribute) else None

    for stmt in step.prefix:
        if stmt.lineno > stopped:
            break
        for node in ast.walk(stmt):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add))):
                continue
            left, right = shape(node.left), shape(node.right)
            for (a, sa), (b, sb) in (((node.left, left), (node.right, right)), ((node.right, right), (node.left, left))):
                if sa is not None and sb is not None and len(sa) == 2 and sa[1] == 1 and len(sb) == 1 and sa[0] == sb[0] > 1:
                    return stmt.lineno, ast.unparse(node), ast.unparse(a), ast.unparse(b)
    return None


def _function_named(head: str) -> str:
    """`lstm_cell_backward` for the pair's "`lstm_cell_forward/lstm_cell_backward.backward`"."""
    import re

    return re.sub(r"`([^`/]+)/([^`]+?)\.(forward|backward)`", lambda m: f"`{m.group(1) if m.group(3) == 'forward' else m.group(2)}`", head)


def _global_of_the_program(finding: Finding) -> tuple[str, int, str | None] | None:
    """(name, line that binds it, `parameters["Wf"]` when the file reads it so) for a function that raised
    NameError on a name only a top-level statement the definitions leave out binds (a notebook's test
    cell: `Wf = np.random.randn(...)`, read by `lstm_cell_backward` instead of `parameters["Wf"]`)."""
    import os
    import re

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.script import top_level_binding

    found = re.search(r"NameError \(name '(\w+)' is not defined\)", finding.message)
    if found is None or not finding.file or not finding.line:
        return None
    name = found.group(1)
    bound = top_level_binding(source_tree(os.path.abspath(finding.file))[1], name)
    return (name, *bound) if bound is not None else None


def _stop_only(finding: Finding) -> str:
    """"your program stopped at line 11 with IndexError (...)", without the advice on running it again:
    the cause is known, and its fix follows."""
    if finding.name == "program-stopped":
        return finding.message.partition(" while backprop-doctor watched it run")[0]
    return finding.message


def _list_index(finding: Finding) -> tuple[str, str] | None:
    """The raising line's `m[[rows, cols]]`, written for the NumPy of before 1.23 (`static.literals`)."""
    import os

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.literals import list_of_index_arrays

    if not finding.file or not finding.line:
        return None
    return list_of_index_arrays(source_tree(os.path.abspath(finding.file))[1], finding.line)


def left_by_a_loop_words(stale: tuple[str, int, int, int, str | None], consequence: str = "") -> str:
    """The words after "line 61 ...": "reads `z`: the loop at line 60 never sets `z`, so every pass
    reads the last value the loop at line 52 left in it[, consequence]: read this pass's value from `zs`, ..."."""
    name, _, loop_line, set_at, kept = stale
    instead = f"read this pass's value from `{kept}`, where that loop keeps each one" if kept else f"compute `{name}` in this loop"
    return (
        f"reads `{name}`: the loop at line {loop_line} never sets `{name}`, so every pass reads the last value the loop at line {set_at} "
        f"left in it{consequence}: {instead}"
    )


def _left_by_a_loop(finding: Finding) -> tuple[str, int, int, int, str | None] | None:
    """`static.stale.left_by_a_loop` at the raising line: a loop variable of an earlier loop read by
    the loop that raised (a shape error from the last layer's `z` met by another layer's values)."""
    import os

    from backprop_doctor.static.files import source_tree
    from backprop_doctor.static.stale import left_by_a_loop

    if not finding.file or not finding.line:
        return None
    tree = source_tree(os.path.abspath(finding.file))[1]
    return left_by_a_loop(tree, finding.line) if tree is not None else None


def _placeholder(finding: Finding) -> tuple[str, str, int] | None:
    """(function, name, line) of a name the raising line reads whose last assignment before it, in
    the same function, is `name = None`."""
    import ast
    import os

    from backprop_doctor.static.definitions import enclosing, find_function
    from backprop_doctor.static.files import source_tree

    if not finding.file or not finding.line:
        return None
    path = os.path.abspath(finding.file)
    tree = source_tree(path)[1]
    where = enclosing(path, finding.line)
    node = find_function(tree, where.qualname) if tree is not None and where is not None else None
    if node is None:
        return None
    here = [s for s in ast.walk(node) if isinstance(s, ast.stmt) and s.lineno == finding.line]
    read = {n.id for s in here for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in sorted(read):
        bound = [s for s in ast.walk(node) if isinstance(s, ast.Assign) and s.lineno < finding.line and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)]
        last = max(bound, key=lambda s: s.lineno, default=None)
        if last is not None and isinstance(last.value, ast.Constant) and last.value.value is None:
            return where.qualname, name, last.lineno
    return None
