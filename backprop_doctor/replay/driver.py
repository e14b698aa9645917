"""A driver for a file that defines its training but never runs it.

A library-style file holds a class with a `fit(X, Y, num_iterations, learning_rate)` method,
or a `train(X, y, epochs, lr)` function, whose loop updates the parameters, and no code that
calls it (the program that does lives elsewhere, or nowhere yet). The replay needs the loop to
run. `candidates` writes the few statements a user would write to run it — build the object,
make a small batch, call the method — appended after the file's last line, so every line of
the user's code keeps its number:

    __bpd_net = DeepNeuralNetwork(layers_dim=[12, 8, 1], activations=['relu', 'sigmoid'])
    __bpd_net.fit(__bpd_X, __bpd_Y, num_iterations=3, learning_rate=0.05)

Where the samples lie and what the targets are cannot be read from the file, so each
candidate tries one layout (rows with integer labels, rows one-hot, a 0/1 column; samples in
columns with a 0/1 row or one-hot columns); the replay keeps the first that runs a step.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from backprop_doctor.context import SourceFile
from backprop_doctor.static.steps import TrainingStep
from backprop_doctor.static.updates import _LEARNING_RATE

FEATURES, CLASSES, SAMPLES, PASSES = 12, 3, 32, 3
WIDTH = 8  # a hidden layer's width

_X = re.compile(r"(?i)x|x_?(train|batch|data)|inputs?|data|features|train_?(x|data|set_?x)|samples|input_?data|training_?(set_?)?inputs?|tokens|(input_?)?seq(uence)?|words|sentence")
_Y = re.compile(r"(?i)y|y_?(train|batch|true)|t|t_?train|labels?|targets?|train_?(y|labels|set_?y)|outputs?|training_?(set_?)?outputs?|(next|nxt)(_?(ids?|tokens?|chars?|words?))?")
# validation and test arrays (`train(X, y, X_val, y_val, ...)`, cs231n's): the same batch stands in
_X_HELD = re.compile(r"(?i)x_?(val|valid|validation|test|dev)")
_Y_HELD = re.compile(r"(?i)(y|t)_?(val|valid|validation|test|dev)")
_PASSES = re.compile(r"(?i)(num_|n_|max_)?(epochs?|iter(ation)?s?|steps|passes)|number_of_\w*iterations")
_BATCH = re.compile(r"(?i)(mini_?)?batch(_?size)?")
_FLAG = re.compile(r"(?i)print\w*|verbose|show\w*|plot\w*|debug|log\w*")
_ACTIVATIONS = re.compile(r"(?i)activations|activation_?functions|acts")
# a linear model's own parameters handed in (deeplearning.ai's `optimize(w, b, X, Y, ...)`): one weight per feature, a bias
_WEIGHTS = re.compile(r"w|W|theta|weights?|coef")
_BIAS = re.compile(r"b|bias|b0|intercept")

# (samples in columns, targets): the layouts tried, in this order
LAYOUTS = (
    (False, "labels"),
    (False, "one-hot"),
    (False, "binary"),
    (True, "binary"),
    (True, "one-hot"),
)


# a recurrent model over a sequence of token ids (`self.U[:, x[t]]`, `xs[t][inputs[t]] = 1`): one
# sequence of `SEQUENCE` ids below FEATURES, and the next id of each as its target
TOKENS = (False, "tokens")
SEQUENCE = 6
# the same over a batch of sequences (`for i, ix in enumerate(inputs[t]): xs[t][ix, i] = 1`): SEQUENCE
# time steps of TOKEN_BATCH ids each, the model built with that batch size (`BatchedLSTM(..., batch_size)`)
TOKEN_BATCHES = (False, "token-batches")
TOKEN_BATCH = 4
# a recurrent model over a batch of sequences of feature vectors that it walks along its time axis
# (`x = X.transpose(1, 0, 2)`, `X[:, t, :]`): SAMPLES sequences of SEQUENCE steps of FEATURES features,
# the targets one per sequence in each layout of LAYOUTS that puts samples in rows
SEQUENCES = tuple((False, f"sequences-{targets}") for columns, targets in LAYOUTS if not columns)
_SEQUENCE_LENGTH = re.compile(r"(?i)(max_?)?seq(uence)?_?(len(gth)?|size|steps)|(n_|num_)?time_?steps?|timesteps|n_?steps")
_VOCABULARY = re.compile(r"(?i)((n|num|number_of)_?)?(word|vocab|vocabulary|chars?|characters|tokens|symbols|n_?vocab|num_?words|input)_?(dims?|size|len|length|count)?|vocab")


@dataclass(frozen=True)
class Driver:
    said: str  # what it calls, for the report: "DeepNeuralNetwork(...).fit(X (12, 32), Y (1, 32), ...)"
    source: SourceFile


def candidates(source: SourceFile, step: TrainingStep, namespace: dict[str, Any], definitions: bool = False) -> list[Driver]:
    """Drivers for the loop of `step`, one per layout that its function's arguments allow; with
    `definitions`, each runs after the file's definitions alone, not its own top level."""
    if source.tree is None or step.function is None:
        return []
    owner, _, name = step.function.rpartition(".")
    function = _definition(source.tree, owner, name)
    if function is None or "." in owner:
        return []
    arguments = _arguments(function, method=bool(owner))
    if arguments is None:
        return []
    drivers = []
    model = next((n for n in source.tree.body if isinstance(n, ast.ClassDef) and n.name == owner), None) if owner else function
    layouts = (*LAYOUTS, TOKENS) if _indexes_by_sequence(model) else (*LAYOUTS, TOKEN_BATCHES) if _walks_sequence_items(model) else LAYOUTS
    if _walks_time_axis(model):
        layouts = (*SEQUENCES, *layouts)
    # sizes guessed from their names alone (`feature_size=6`) may not fit the ones the class derives
    # (`hidden_size // feature_size` rows reshaped to `feature_size` columns): then each is the width
    for built, guessed in [(b, g) for g in (None, WIDTH) for b in (_owners(source.tree, owner, namespace) if owner else [""])]:
        if guessed is not None and not built:
            continue
        for columns, targets in layouts:
            outputs = {"binary": 1, "sequences-binary": 1, "tokens": FEATURES, "token-batches": FEATURES}.get(targets, CLASSES)
            lines = [_data(columns, targets)]
            if built:
                cls = namespace.get(built)
                steps = SEQUENCE if targets.startswith("sequences-") else None
                kwargs = _constructor(getattr(cls, "__init__", None), outputs, TOKEN_BATCH if targets == "token-batches" else None, guessed, steps) if isinstance(cls, type) else None
                if kwargs is None or (guessed is not None and kwargs == _constructor(cls.__init__, outputs, TOKEN_BATCH if targets == "token-batches" else None, None, steps)):
                    break
                lines.append(f"__bpd_it = {built}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")
                call = f"__bpd_it.{name}({arguments})"
                said = f"{built}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}).{name}({_shown(arguments, columns, targets)})"
            else:
                call = f"{name}({arguments})"
                said = f"{name}({_shown(arguments, columns, targets)})"
            lines.append(call)
            drivers.append(Driver(said, _appended(source, lines, definitions)))
    return drivers


def _owners(tree: ast.Module, owner: str, namespace: dict[str, Any]) -> list[str]:
    """The class whose method trains, then the file's classes that inherit it: cs231n's
    `LinearClassifier.train` calls a `loss` only its subclasses (`LinearSVM`, `Softmax`) write."""
    base = namespace.get(owner)
    heirs = [
        n.name for n in tree.body
        if isinstance(n, ast.ClassDef) and n.name != owner and isinstance(base, type)
        and isinstance(namespace.get(n.name), type) and issubclass(namespace[n.name], base)
    ]  # fmt: skip
    return [owner, *heirs]


def _indexes_by_sequence(node: ast.AST | None) -> bool:
    """Whether `node` indexes with an item of a sequence (`self.U[:, x[t]]`, `xs[t][inputs[t]] = 1`):
    a model that reads token ids one time step at a time."""
    return node is not None and any(
        isinstance(n, ast.Subscript) and any(isinstance(i, ast.Subscript) and isinstance(i.value, ast.Name) and isinstance(i.slice, ast.Name) for i in _indices(n.slice))
        for n in ast.walk(node)
    )


def _walks_time_axis(node: ast.AST | None) -> bool:
    """Whether `node` puts a batch of sequences time-major (`X.transpose(1, 0, 2)`,
    `np.swapaxes(X, 0, 1)`) or reads one time step of all of them (`X[:, t, :]`, `X[:, t]`): a
    recurrent model fed sequences of feature vectors, (samples, time, features)."""
    if node is None:
        return False
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            args = [a.value for a in n.args if isinstance(a, ast.Constant)]
            if n.func.attr == "transpose" and len(n.args) == 3 and args == [1, 0, 2]:
                return True
            if n.func.attr == "swapaxes" and args[-2:] in ([0, 1], [1, 0]):
                return True
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and _X.fullmatch(n.value.id) and isinstance(n.slice, ast.Tuple):
            first, *rest = n.slice.elts
            if isinstance(first, ast.Slice) and first.lower is None and first.upper is None and rest and isinstance(rest[0], ast.Name):
                return True
    return False


def _walks_sequence_items(node: ast.AST | None) -> bool:
    """Whether `node` loops over the items of one time step of a sequence (`for i, ix in
    enumerate(inputs[t])`, `for ix in targets[t]`): a model fed a batch of token sequences."""
    if node is None:
        return False
    for loop in ast.walk(node):
        if not isinstance(loop, ast.For):
            continue
        walked = loop.iter.args[0] if isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "enumerate" and loop.iter.args else loop.iter
        if isinstance(walked, ast.Subscript) and isinstance(walked.value, ast.Name) and _X.fullmatch(walked.value.id) and isinstance(walked.slice, ast.Name):
            return True
    return False


def _indices(index: ast.expr) -> list[ast.expr]:
    return list(index.elts) if isinstance(index, ast.Tuple) else [index]


def _definition(tree: ast.Module, owner: str, name: str) -> ast.FunctionDef | None:
    body = tree.body
    if owner:
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner), None)
        if cls is None:
            return None
        body = cls.body
    return next((n for n in body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _data(columns: bool, targets: str) -> str:
    """The statements that make a small learnable batch in one layout, and the weights of a linear
    model handed in with it (`_weights`)."""
    made = "__import__('backprop_doctor.replay.driver', fromlist=['batch']).batch"
    return (
        f"__bpd_rng = __import__('numpy').random.default_rng(0); __bpd_X, __bpd_Y = {made}({columns}, {targets!r}, __bpd_rng); "
        f"__bpd_W = __bpd_rng.normal(scale=0.01, size={_weights(columns, targets)})"
    )


def _weights(columns: bool, targets: str) -> tuple[int, ...]:
    """The shape of a linear model's weights that fits the targets of one layout: a vector beside a
    vector of labels (`X.dot(theta) - y`, the Coursera course's `gradientDescent`), a column beside
    a column of targets or a row of them (`X @ w - y`, `w.T @ X`; both take it)."""
    return (FEATURES,) if targets == "labels" and not columns else (FEATURES, 1)


def batch(columns: bool, targets: str, rng: Any, samples: int = SAMPLES, features: int = FEATURES, classes: int = CLASSES) -> tuple[Any, Any]:
    """A learnable batch of `samples` in one layout (`LAYOUTS`): `features` normal features each, in rows
    or in columns; a sample's class is how many of 0 and 1 its features' sum exceeds (of more
    than three classes: which of as many equal bands of that sum it falls in)."""
    import numpy as np

    if targets == "tokens":
        ids = rng.integers(features, size=SEQUENCE + 1)
        return ids[:-1], ids[1:]
    if targets == "token-batches":
        ids = rng.integers(features, size=(SEQUENCE + 1, TOKEN_BATCH))
        return ids[:-1], ids[1:]
    if targets.startswith("sequences-"):  # one target per sequence, from the sum over all its steps
        targets = targets.removeprefix("sequences-")
        x = rng.normal(size=(samples, SEQUENCE, features)) / np.sqrt(SEQUENCE)
        score = x.sum(axis=(1, 2))
    else:
        x = rng.normal(size=(features, samples) if columns else (samples, features))
        score = x.sum(axis=0 if columns else 1)
    if classes == CLASSES:
        labels = (score > 0).astype(int) + (score > 1).astype(int)
    else:
        labels = np.searchsorted(np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]), score)
    if targets == "labels":
        return x, labels
    if targets == "binary":
        return x, (score > 0).astype(float).reshape((1, -1) if columns else (-1, 1))
    hot = np.eye(classes)[labels]
    return x, hot.T if columns else hot


def _arguments(function: ast.FunctionDef, method: bool) -> str | None:
    """The call's arguments by parameter name; None when one cannot be given."""
    import inspect

    import numpy as np

    from backprop_doctor.build import _value_for

    params = function.args.args[1:] if method else function.args.args
    defaults = dict(zip([a.arg for a in params][len(params) - len(function.args.defaults):], function.args.defaults))
    given = []
    for param in params:
        name = param.arg
        if _X.fullmatch(name) or _X_HELD.fullmatch(name):
            given.append(f"{name}=__bpd_X")
        elif _Y.fullmatch(name) or _Y_HELD.fullmatch(name):
            given.append(f"{name}=__bpd_Y")
        elif _PASSES.fullmatch(name):
            given.append(f"{name}={PASSES}")
        elif _LEARNING_RATE.fullmatch(name):
            given.append(f"{name}=0.05")
        elif _WEIGHTS.fullmatch(name) and name not in defaults:
            given.append(f"{name}=__bpd_W")
        elif _BIAS.fullmatch(name) and name not in defaults:
            given.append(f"{name}=0.0")
        elif _BATCH.fullmatch(name):
            given.append(f"{name}=8")  # a default of 200 drawn without replacement from a batch of 32 raises
        elif name in defaults:
            continue  # its own default (`print_cost=False`, `print_num=100`)
        elif _FLAG.fullmatch(name):
            given.append(f"{name}=False")
        else:
            try:
                value = _value_for(name, "", inspect.Parameter.empty, np.random.default_rng(0), {})
            except Exception:  # noqa: BLE001 - no value to guess: this function cannot be driven
                return None
            if not _literal(value):
                return None
            given.append(f"{name}={value!r}")
    if not any("__bpd_X" in g for g in given) or not any("__bpd_Y" in g for g in given):
        return None  # it does not take a batch: it is not what trains
    return ", ".join(given)


def _constructor(init: Any, outputs: int, batch: int | None = None, guessed: int | None = None, steps: int | None = None) -> dict[str, Any] | None:
    """Literal constructor arguments sized for FEATURES inputs and `outputs` outputs (and `batch`
    samples, where given and the constructor takes a batch size; `steps` time steps, where given and
    it takes a sequence length); with `guessed`, every size guessed from its name alone is that one number."""
    import inspect

    import numpy as np

    from backprop_doctor.build import _value_for

    try:
        params = [p for p in inspect.signature(init).parameters.values() if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        return None
    kwargs: dict[str, Any] = {}
    sizes = [FEATURES, WIDTH, outputs]
    for p in params:
        low = p.name.lower()
        if batch is not None and _BATCH.fullmatch(p.name):
            kwargs[p.name] = batch
        elif steps is not None and _SEQUENCE_LENGTH.fullmatch(p.name):
            kwargs[p.name] = steps
        elif _ACTIVATIONS.fullmatch(p.name):
            kwargs[p.name] = ["relu"] * (len(sizes) - 2) + ["sigmoid" if outputs == 1 else "softmax"]
        elif re.fullmatch(r"(n_|num_)?hidden(_layer)?(_?(size|dim|units|nodes|neurons|width))?|n_?h", low):
            kwargs[p.name] = sizes[1]  # one hidden width (`hidden_layer_size`), not a list of layers (`hidden_layer_sizes`)
        elif re.search(r"layers?_?(dims?|sizes?)|sizes|architecture|topology|shape", low) and p.default is p.empty:
            kwargs[p.name] = sizes
        elif low in ("input_size", "n_in", "input_dim", "n_inputs", "num_inputs", "input_nodes", "inputnodes", "n_features") or _VOCABULARY.fullmatch(low):
            kwargs[p.name] = FEATURES
        elif low in ("output_size", "n_out", "output_dim", "n_outputs", "num_outputs", "output_nodes", "outputnodes", "num_classes", "n_classes"):
            kwargs[p.name] = outputs
        elif p.default is not p.empty:
            continue
        else:
            try:
                kwargs[p.name] = _value_for(p.name, "", p.default, np.random.default_rng(0), {})
            except Exception:  # noqa: BLE001 - an argument nothing can stand for
                return None
            if not _literal(kwargs[p.name]):
                return None
            if guessed is not None and type(kwargs[p.name]) is int and kwargs[p.name] > 1:
                kwargs[p.name] = guessed
    return kwargs


def _literal(value: Any) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError):
        return False


def _shown(arguments: str, columns: bool, targets: str) -> str:
    x, y = described(columns, targets)
    return arguments.replace("=__bpd_X", f"={x}").replace("=__bpd_Y", f"={y}").replace("=__bpd_W", f"=small random {_weights(columns, targets)}")


def described(columns: bool, targets: str, samples: int = SAMPLES, features: int = FEATURES, classes: int = CLASSES) -> tuple[str, str]:
    """The inputs and the targets of `batch` in one layout, in words for the report."""
    if targets == "tokens":
        return f"a sequence of {SEQUENCE} token ids below {features}", f"the next token ids ({SEQUENCE},)"
    if targets == "token-batches":
        return f"{TOKEN_BATCH} sequences of {SEQUENCE} token ids below {features}", f"the next token ids ({SEQUENCE}, {TOKEN_BATCH})"
    if targets.startswith("sequences-"):
        x, y = described(columns, targets.removeprefix("sequences-"), samples, features, classes)
        return f"{samples} sequences X ({samples}, {SEQUENCE}, {features})", y
    x = f"X ({features}, {samples})" if columns else f"X ({samples}, {features})"
    y = {
        "labels": f"integer labels ({samples},)",
        "one-hot": f"one-hot Y ({classes}, {samples})" if columns else f"one-hot Y ({samples}, {classes})",
        "binary": f"0/1 Y (1, {samples})" if columns else f"0/1 Y ({samples}, 1)",
    }[targets]
    return x, y


def _appended(source: SourceFile, lines: list[str], definitions: bool = False) -> SourceFile:
    """`source` with `lines` run after its last line (its own lines keep their numbers); with
    `definitions`, after its definitions alone (a program whose own top level stops early)."""
    from backprop_doctor.static.script import definitions_only

    assert source.tree is not None
    last = len(source.text.split("\n"))
    extra = ast.parse("\n" * last + "\n".join(lines) + "\n")
    body = definitions_only(source.tree).body if definitions else source.tree.body
    tree = ast.Module(body=[*body, *extra.body], type_ignores=[])
    return SourceFile(path=source.path, text=source.text, tree=tree)
