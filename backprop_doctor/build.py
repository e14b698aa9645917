"""Instantiate what discovery found, with inputs of the right shapes.

Networks are built in `network_build` (re-exported here): with the constructor
call the user's own script makes when its arguments are literals
(`TwoLayerNet(input_size=784, ...)`), or the `--build` expression, else with
small sizes inferred from argument names (`infer_kwargs`). Standalone layers
and function pairs get synthesized parameters, in the configurations where
bugs hide: several samples and a single one, 4-D input for convolution,
pooling and batch-norm, windows that overlap (stride smaller than the window)
and padding. A layer that makes its weights in a set-up method of its own
(`prepare(batch_size)`, `set_input_shape(shape)` then `initialize(optimizer)`)
gets that call first (`_set_up`), as the network that adds it would make it.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import re
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_doctor.conventions import FORWARD_SEED, ClassLayer, _through_call, is_float_array, is_loss_layer
from backprop_doctor.conventions import column_pairs
from backprop_doctor.conventions._base import required_positional
from backprop_doctor.conventions._classlayer import layer_methods, one_entry_upstream
from backprop_doctor.conventions.cs231n import two_outputs
from backprop_doctor.static.imports import imports_name
from backprop_doctor.static.tree import walk as tree_walk

CLASSES = 4  # classes of synthetic targets when nothing says otherwise


def last_width(params: dict[str, Any]) -> int | None:
    """The columns of a network's last weight (`W2` of shape (H, C)): its class count where
    nothing else tells it, as `scores = h @ W2 + b2` has one column per class."""
    last = next((v for v in reversed(list(params.values())) if is_float_array(v) and v.ndim >= 2), None)
    return last.shape[-1] if last is not None else None


@dataclass
class Built:
    """One object ready for checking, and the inputs to check it on."""

    name: str
    obj: Any
    how: str
    cases: list[tuple[str, np.ndarray, Any]] = field(default_factory=list)  # (label, x, t)
    line: int | None = None


class BuildError(Exception):
    """Why an object could not be built; becomes a `build-failed` finding."""


class _ForcedFailed(BuildError):
    """The user's `--build` call does not construct the class it names."""


class UserCodeRaised(BuildError):
    """The user's own constructor or forward raised: a `layer-raised` error at the user's line."""

    def __init__(self, message: str, error: BaseException, note: str = ""):
        super().__init__(message)
        self.error = error
        self.note = note  # what the user's program does at that line, said in the finding


class Unsupported(BuildError):
    """A kind of object the checks do not handle yet; an info-level `build-failed` finding."""


class StandInRaised(Unsupported):
    """The user's code raised on a missing module's stand-in (`im2col(x) * 0.5` with `im2col` from it):
    an info-level `build-failed` finding naming the module, never the user's error."""

    def __init__(self, message: str, module: str, error: BaseException):
        super().__init__(message)
        self.module = module
        self.error = error


def _raised(message: str, error: BaseException, *, literal: bool = False, guessed: Any = ()) -> BuildError:
    """A `UserCodeRaised` when the user's own code raised for a reason no argument explains
    (`np.zeors_like`, a float shape from `/`), or on the arguments the user's own script passes
    (`literal`); else a `BuildError`: the tool's guess at an argument was wrong, `--build` helps.
    `guessed` holds the arguments the tool made up: a float among them (a rate guessed for a
    name that holds a width) explains a float shape."""
    if isinstance(error, BuildError):
        return error
    if _user_line(error).line is None or _argument_error(error):
        return BuildError(message)
    if not literal and _float_shape(error) and any(isinstance(v, float) for v in guessed):
        return BuildError(message)
    unset = _set_by_the_script(error)
    early = _built_before_set(error, unset) if unset is not None else None
    if early is not None:  # `relu = ReLU()` at line 52, `x = relu.forward(arr)` at line 55: the program raises there too
        cls, built, bound = early
        return UserCodeRaised(message, error, note=f"your program raises it too, as it builds `{cls}` at line {built}, before line {bound} sets `{error.name}`")  # type: ignore[attr-defined]
    if unset is not None:
        return BuildError(f"it reads `{error.name}`, which your file sets at line {unset} in a statement "  # type: ignore[attr-defined]
                          "backprop-doctor does not run when it builds objects on its own")

    if literal or _no_argument_explains(error):
        return UserCodeRaised(message, error)
    return BuildError(message)


def _no_argument_explains(error: BaseException) -> bool:
    """A misspelled name (`np.zeors_like`, an undefined variable), an attribute read before it
    is set, or Python 2 division in a shape: wrong whatever the arguments."""
    text = str(error)
    if isinstance(error, NameError) or _float_shape(error) or _scalar_of_array(error) or _none_shape(error):
        return True
    if _whole_array_into_mask(error):
        return True
    if isinstance(error, (AttributeError, TypeError)) and "NoneType" in text and _none_placeholder(error):
        return True  # `Z = None` left under "START CODE HERE", then `Z.shape`: not written yet
    return isinstance(error, AttributeError) and (text.startswith("module ") or not text.startswith(("'int'", "'float'", "'list'", "'tuple'", "'dict'", "'NoneType'", "'str'")))


def _set_by_the_script(error: BaseException) -> int | None:
    """The line of the module-level statement that binds the name a NameError misses, when the file
    binds it: the name exists when the program runs (`SCALE = float(np.sqrt(2))` above the class),
    but objects are built from the file's definitions alone, which leave such statements out."""
    name = getattr(error, "name", None)
    if not isinstance(error, NameError) or not name:
        return None
    from backprop_doctor.static.files import source_tree

    file = _user_line(error).file
    tree = source_tree(file)[1] if file else None
    todo = list(tree.body) if tree is not None else []
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            return node.lineno
        todo.extend(ast.iter_child_nodes(node))
    return None


def _whole_array_into_mask(error: BaseException) -> bool:
    """`A[Z < 0] = 0.01 * Z`: the user's line stores a value computed from the whole array the mask
    compares into the masked elements only (`0.01 * Z[Z < 0]` was meant); NumPy refuses it for any
    array with elements on both sides of the test, whatever the arguments."""
    if not isinstance(error, (TypeError, ValueError)) or "boolean array indexing assignment" not in str(error):
        return False
    where = _user_line(error)
    if where.file is None:
        return False
    from backprop_doctor.static.files import source_tree

    tree = source_tree(where.file)[1]
    if tree is None:
        return False
    for node in tree_walk(tree):
        if not (isinstance(node, ast.Assign) and node.lineno == where.line and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Compare)):
            continue
        compared = {n.id for n in ast.walk(target.slice) if isinstance(n, ast.Name)}
        inside = {id(n) for s in ast.walk(node.value) if isinstance(s, ast.Subscript) for n in ast.walk(s)}
        whole = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and id(n) not in inside}
        if compared & whole:
            return True
    return False


def _scalar_of_array(error: BaseException) -> bool:
    """`float(b)` of a (1, 1, 1) bias: NumPy 2 converts only 0-dimensional arrays to Python numbers,
    whatever size-1 array the caller hands it."""
    return isinstance(error, TypeError) and "only 0-dimensional arrays can be converted to Python scalars" in str(error)


def _none_placeholder(error: BaseException) -> bool:
    """Whether the user's line that raised reads a name whose last assignment before it, in the same
    function, is `name = None`: a placeholder an exercise left to be written, whatever the inputs."""
    from backprop_doctor import locate

    frame = None
    for f, lineno in traceback.walk_tb(error.__traceback__):
        if locate.is_user_file(f.f_code.co_filename) and os.path.isfile(f.f_code.co_filename):
            frame = (f.f_code, lineno)
    if frame is None:
        return False
    code, line = frame
    from backprop_doctor.static.files import source_tree

    tree = source_tree(code.co_filename)[1]
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == code.co_name
                 and n.lineno <= line <= (n.end_lineno or n.lineno)] if tree is not None else []  # fmt: skip
    if not functions:
        return False
    node = min(functions, key=lambda n: (n.end_lineno or n.lineno) - n.lineno)  # the innermost
    read = {n.id for s in ast.walk(node) if isinstance(s, ast.stmt) and s.lineno == line for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in read:
        bound = [s for s in ast.walk(node) if isinstance(s, ast.Assign) and s.lineno < line and any(isinstance(t, ast.Name) and t.id == name for t in s.targets)]
        last = max(bound, key=lambda s: s.lineno, default=None)
        if last is not None and isinstance(last.value, ast.Constant) and last.value.value is None:
            return True
    return False


def _none_shape(error: BaseException) -> bool:
    """`np.zeros(None)`: NumPy 2 refuses None as a shape (older NumPy read it as `()`), whatever the
    arguments the layer was given."""
    return isinstance(error, TypeError) and "Use () not None as shape arguments" in str(error)


def _standin_of(error: BaseException) -> str | None:
    """The missing module whose stand-in made the user's code raise `error` (see `locate.standin_behind`)."""
    from backprop_doctor.locate import standin_behind

    return standin_behind(error)


def _user_line(error: BaseException) -> Any:
    """The innermost traceback frame in a user's file that exists on disk (compiled NumPy
    frames name `.pyx` sources by relative paths, which are not the user's)."""
    from backprop_doctor import locate

    chosen = locate.Location(None, None)
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        file = frame.f_code.co_filename
        if locate.is_user_file(file) and os.path.isfile(file) and file.endswith(".py"):
            chosen = locate.Location(file, lineno)
    return chosen


def unimportable_name(error: BaseException) -> str | None:
    """The name of a NameError that an import was meant to provide (`from .im2col_cython import
    col2im_cython` inside try/except, or `from cs231n.layers import *` of a module that did not
    load): the environment lacks a module, the user's code is not wrong."""
    if not isinstance(error, NameError):
        return None
    name = getattr(error, "name", None) or (str(error).split("'")[1] if "'" in str(error) else None)
    file = _user_line(error).file
    if not name or not file:
        return None
    return name if imports_name(file, name) else None


def unimportable_reason(error: BaseException, name: str) -> str:
    """The words after "uses `sigmoid`, " for a name `unimportable_name` found: "which comes from a module
    that could not be imported here", unless every module the file imports it from was imported and
    none defines it (`from utils import *` finding a `utils.py` without `sigmoid`): then they say so."""
    import sys

    from backprop_doctor.loading.stubs import is_stub
    from backprop_doctor.static.files import source_tree

    file = _user_line(error).file
    tree = source_tree(file)[1] if file else None
    statements = [
        node for node in (tree_walk(tree) if tree is not None else ())
        if isinstance(node, ast.ImportFrom) and any(a.name in (name, "*") or a.asname == name for a in node.names)
    ]  # fmt: skip
    modules = [sys.modules.get(node.module or "") if not node.level else None for node in statements]
    if not modules or any(m is None or is_stub(m) or not getattr(m, "__file__", None) for m in modules):
        return "which comes from a module that could not be imported here"
    folder = os.path.dirname(os.path.abspath(file or "."))
    shown = " and ".join(dict.fromkeys(f"`{m.__name__}` at {os.path.relpath(m.__file__, folder)}" for m in modules))
    return f"which none of its imports gives: {shown} {'has' if len(set(map(id, modules))) == 1 else 'have'} no `{name}`"


CHECKED_METHODS = ("__init__", "forward", "backward", "forward_pass", "backward_pass")


def _missing_attribute(cls: type, error: BaseException) -> str | None:
    """The attribute of `'X' object has no attribute 'a'` when it is the object's own (not another
    object's, raised inside it: `'Affine' object has no attribute 'dW'` inside `TimeAffine`)."""
    text = str(error)
    if not isinstance(error, AttributeError) or "has no attribute" not in text or text.count("'") < 2:
        return None
    owner = getattr(getattr(error, "obj", None), "__class__", None)
    if owner is not None and not issubclass(cls, owner) and not issubclass(owner, cls):
        return None
    return text.rsplit("'", 2)[-2]


def _assigned_by(cls: type) -> dict[str, set[str]]:
    """For each method other than the checked ones, the attributes it sets on the instance,
    directly or through the methods it calls on it (`prepare_training(batch)` calling
    `init_temps(batch)`)."""
    from backprop_doctor.conventions._classlayer import assigned_attributes, function_node
    from backprop_doctor.static.methods import self_calls

    def sets(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        node = function_node(getattr(cls, name, None))
        if node is None or name in seen:
            return set()
        return assigned_attributes(node).union(*(sets(called, seen | {name}) for called in self_calls(node)))

    names = {name for klass in cls.__mro__[:-1] for name, value in vars(klass).items() if inspect.isfunction(value) and name not in CHECKED_METHODS}
    return {name: sets(name) for name in sorted(names)}


def _setters(cls: type, wanted: set[str]) -> list[str]:
    """The methods other than the checked ones that set one of the `wanted` attributes, those
    setting the most attributes first."""
    found = _assigned_by(cls)
    return sorted((name for name, attrs in found.items() if attrs & wanted), key=lambda name: -len(found[name]))


def _set_elsewhere(cls: type, error: BaseException) -> str | None:
    """For `'X' object has no attribute 'a'`: a method other than `__init__` that sets `self.a`
    (NNFS-style `new_pass()`, `finalize()`): the object needs that call first."""
    attr = _missing_attribute(cls, error)
    setters = _setters(cls, {attr}) if attr else []
    return setters[0] if setters else None


SETUP_INPUTS = 3  # the first inputs tried before and after a set-up call, to tell whether it changed anything
SETUP_ROUNDS = 3  # set-up calls tried before a layer's forward runs (`init_weights()`, then `init_cache(batch)`)


def _setup_arguments(method: Callable, batch: int, sample: tuple[int, ...]) -> list[list[Any]]:
    """What a set-up method may be given, in the order tried: the batch size for `batch_size`
    (`n`, `m`); for `shape` (`input_shape`) one sample's shape, then the batch's (ML-From-Scratch's
    `set_input_shape((features,))`, fmscole's `OutShape([batch, features])`; a convolution's
    `(channels, height, width)` first); a rate-1 optimizer
    for `optimizer` (the layer steps its weights with it in backward: `optimizer_objects`). None
    when it wants anything else."""
    from backprop_doctor.conventions.optimizer_objects import UnitStep

    choices: list[list[Any]] = [[]]
    for name in required_positional(method):
        low = name.lower()
        if "batch" in low or low in ("n", "m", "size", "n_samples", "samples"):
            values: list[Any] = [batch]
        elif "shape" in low:
            values = [*_sample_shapes(type(getattr(method, "__self__", None)), sample), tuple(sample), [batch, *sample]]
        elif low in ("optimizer", "optimiser", "opt", "optim"):
            values = [UnitStep()]
        else:
            return []
        choices = [[*c, v] for c in choices for v in values]
    return choices


def _wanted(layer: Any, error: BaseException | None) -> set[str]:
    """The attributes a call that raised `error` lacked: the one named by `'X' object has no
    attribute 'a'`, else every attribute the object still holds as None (`self.W = None` until
    `initialize()`: `None * x` or `x @ None` raised)."""
    if error is None:
        return set()
    attr = _missing_attribute(type(layer), error)
    if attr is not None:
        return {attr}
    return {k for k, v in vars(layer).items() if v is None} if isinstance(error, (TypeError, ValueError, AttributeError)) else set()


def _set_up(layer: Any, rng: np.random.Generator, batch: int, train: bool) -> tuple[Any, list[str]]:
    """The layer after the set-up calls its forward needs, when it raises for an attribute a public
    method of its own sets (kormang's `prepare_training(batch_size)` makes the weights, fmscole's
    `OutShape(shape)` sizes them from the input, ML-From-Scratch's `initialize(optimizer)` after
    `set_input_shape(shape)`), and the calls as written. A call is kept only when the forward then
    raises something else, or nothing, on one of the inputs tried."""
    calls: list[str] = []
    for _ in range(SETUP_ROUNDS):
        errors = _setup_errors(layer, rng, batch, train)
        if not errors or None in errors:
            break
        work, made = _copy(layer), []
        wanted = set().union(*(_wanted(layer, e) for e in errors))
        if not _call_setter(work, wanted, (batch, SETUP_WIDTH), made, depth=2):
            break
        if _signatures(_setup_errors(work, rng, batch, train)) == _signatures(errors):
            break
        layer, calls = work, calls + made
    return layer, calls


def _setup_errors(layer: Any, rng: np.random.Generator, batch: int, train: bool) -> list[BaseException | None]:
    """What the forward raises on each of the first inputs tried, up to the first it runs on
    (None): a layer that runs costs one trial forward."""
    from itertools import islice

    errors: list[BaseException | None] = []
    for x in islice(_input_candidates(layer, batch, rng), SETUP_INPUTS):
        errors.append(_trial_error(layer, x, None, train))
        if errors[-1] is None:
            break
    return errors


def _signatures(errors: list[BaseException | None]) -> list[tuple[type, str] | None]:
    """The errors by type and words, to tell whether a set-up call changed what the forward does."""
    return [None if e is None else (type(e), str(e)) for e in errors]


def _call_setter(layer: Any, wanted: set[str], shape: tuple[int, ...], calls: list[str], depth: int, skip: frozenset[str] = frozenset()) -> bool:
    """Call on `layer` the first public method (not in `skip`) that sets one of `wanted` and takes
    what `_setup_arguments` gives for inputs of `shape`, after the set-up it needs in turn (`depth`
    levels: `initialize(optimizer)` reading what `set_input_shape(shape)` sets); note it in `calls`."""
    for name in (n for n in _setters(type(layer), wanted) if not n.startswith("_") and n not in skip):  # never a misspelled `__inti__`
        for args in _setup_arguments(getattr(layer, name), shape[0], shape[1:]):
            error = _outcome(lambda: getattr(layer, name)(*args))[1]
            if error is not None and depth > 1 and _call_setter(layer, _wanted(layer, error), shape, calls, depth - 1, skip | {name}):
                error = _outcome(lambda: getattr(layer, name)(*args))[1]
            if error is None:
                calls.append(f"{name}({', '.join(map(_shown, args))})")
                return True
    return False


def _shown(value: Any) -> str:
    """An argument as the report shows a set-up call: `UnitStep()` by its class, the rest as written."""
    return repr(value) if isinstance(value, (int, float, str, tuple, list)) else f"{type(value).__name__}()"


SETUP_WIDTH = 12  # the input width handed to a set-up method that takes the input's shape
IMAGE_SAMPLE = (3, 6, 6)  # one image's shape handed first to a convolution's set-up (`set_input_shape`)
SEQUENCE_SAMPLE = (3, 6)  # one sequence's (steps, features) handed first to a recurrent layer's set-up
IMAGE_WORDS = ("conv", "pool", "padding", "upsampl")
SEQUENCE_WORDS = ("rnn", "lstm", "gru", "recurrent")


def _sample_shapes(cls: type, sample: tuple[int, ...]) -> list[tuple[int, ...]]:
    """One sample's shape a layer of its kind takes, tried before a flat `sample`: an image's
    (channels, height, width) for a convolution or a pooling, a sequence's (steps, features)
    for a recurrent layer."""
    name = cls.__name__.lower()
    if len(sample) != 1:
        return []
    if any(word in name for word in IMAGE_WORDS):
        return [IMAGE_SAMPLE]
    return [SEQUENCE_SAMPLE] if any(word in name for word in SEQUENCE_WORDS) else []


def _copy(layer: Any) -> Any:
    """A deep copy of `layer`, or `layer` itself when it will not copy."""
    try:
        return copy.deepcopy(layer)
    except Exception:
        return layer


def _float_shape(error: BaseException) -> bool:
    """Python 2 division in a shape: `np.zeros(n / 2)` raises TypeError in Python 3."""
    return isinstance(error, TypeError) and says_float_shape(str(error))


def says_float_shape(text: str) -> bool:
    """Whether an error's text is Python's or NumPy's for a float given as a size: `range(6.0)`,
    `np.random.randn(6.0)`, `np.zeros(6.0)`."""
    return "'float' object cannot be interpreted as an integer" in text or re.search(
        r"expected a sequence of integers or a single integer, got '-?\d+\.\d*'", text
    ) is not None


def _argument_error(error: BaseException) -> bool:
    """A TypeError about the call itself (`__init__() missing 1 required positional argument`)."""
    text = str(error)
    return isinstance(error, TypeError) and ("positional argument" in text or "keyword argument" in text or "takes no arguments" in text)


def _built_before_set(error: BaseException, unset: int) -> tuple[str, int, int] | None:
    """(class, line, line that first binds the name) when the constructor that raised NameError is called by a statement of the
    file's own script that runs before the first statement binding the missing name (`unset`): the
    user's program meets the same NameError, so it is the user's error, not a statement the build
    left out. Only statements of the module's top level (and of its top-level `if` blocks, the main
    guard) count, where their order is the order they run in."""
    instance = None
    for frame, _line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_name == "__init__" and "self" in frame.f_locals:
            instance = frame.f_locals["self"]
    file = _user_line(error).file
    if instance is None or not file:
        return None
    from backprop_doctor.static.files import source_tree

    tree = source_tree(file)[1]
    if tree is None:
        return None
    todo, lines = list(tree.body), [unset]
    while todo:  # the first line that binds it, at any depth outside definitions
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == getattr(error, "name", None):
            lines.append(node.lineno)
        todo.extend(ast.iter_child_nodes(node))
    unset = min(lines)
    names = {klass.__name__ for klass in type(instance).__mro__[:-1]}
    statements = list(tree.body)
    statements += [inner for node in tree.body if isinstance(node, ast.If) for inner in node.body]
    for node in sorted(statements, key=lambda n: n.lineno):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If)) or node.lineno >= unset:
            continue
        for call in ast.walk(node):  # the call's own line: a loop may bind the name above it
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in names and call.lineno < unset:
                return call.func.id, call.lineno, unset
    return None


def failure_finding(label: str, obj: Any, error: BaseException) -> Any:
    """The finding for an object that could not be built: `layer-raised` at the user's line when
    the user's own code raised, else `build-failed` (info when the kind is not supported yet, or when
    a missing module's stand-in made the user's code raise)."""
    from backprop_doctor import locate
    from backprop_doctor.findings import STAND_IN
    from backprop_doctor.rules import rule

    if isinstance(error, UserCodeRaised) or (not isinstance(error, BuildError) and _user_line(error).line is not None):
        cause = error.error if isinstance(error, UserCodeRaised) else error
        module = locate.standin_behind(cause)
        if module is not None:  # `np` of a missing `from common.layers import *`: the stand-in's error, not the user's
            message = f"`{label}` was not checked: {locate.standin_reason('building it', cause, module)}"
            return rule("build-failed").finding(message, severity="info", layer=label, pattern=STAND_IN, **_user_line(cause).fields())
        note = f" ({error.note})" if isinstance(error, UserCodeRaised) and error.note else ""
        return rule("layer-raised").finding(
            f"building `{label}` raised {locate.describe(cause)} in your code{note}: fix that line so `{label}` can be created and run",
            layer=label,
            **_user_line(cause).fields(),
        )
    location = locate.where(obj if not isinstance(obj, tuple) else obj[0])
    if isinstance(error, StandInRaised):  # at the line that met the stand-in
        return rule("build-failed").finding(
            f"`{label}` was not checked: {error}", severity="info", layer=label, pattern=STAND_IN, **_user_line(error.error).fields()
        )
    if isinstance(error, Unsupported):
        return rule("build-failed").finding(f"`{label}` was not checked: {error}", severity="info", layer=label, **location.fields())
    if isinstance(error, _ForcedFailed):
        return rule("build-failed").finding(f"`{label}` could not be built to check it: {error}", layer=label, **location.fields())
    return rule("build-failed").finding(
        f"`{label}` could not be built to check it ({error}): pass `--build '{label}(...)'` with literal arguments",
        layer=label,
        **location.fields(),
    )


GRADIENT_DICT = (
    "its backward returns its parameters' gradients by name (`return {held}`), not the gradient of its input: "
    "it is a whole model, checked through the training step that updates with those gradients, not as a layer"
)


def gradients_returned_by_name(cls: type) -> str | None:
    """The name of the dict a model's backward returns its parameters' gradients in (`grads = {}` ...
    `grads["W%d" % i] = ...` ... `return grads`), when it returns nothing else, no entry is the
    input's gradient (`grads["dx"]`) and it keeps none in an attribute (`self.grad_in = ...`, a layer's:
    `Methods.dx`); None otherwise."""
    import ast

    from backprop_doctor.conventions import layer_methods
    from backprop_doctor.conventions._classlayer import function_node
    from backprop_doctor.static.methods import returned_gradient_dict

    methods = layer_methods(cls)
    if methods is not None and methods.dx:
        return None  # a layer returning its parameters' gradients by name beside the input's it keeps
    found = returned_gradient_dict(function_node(getattr(cls, methods.backward if methods else "backward", None)))
    if found is None:
        return None
    name, keys = found
    if any(isinstance(k, ast.Constant) and str(k.value).lower() in ("dx", "x", "dinput", "dinputs", "d_input", "input") for k in keys):
        return None
    return name


# --------------------------------------------------------------------------- arguments


WEIGHT_NAMES = ("w", "weight", "weights", "w1")
BIAS_NAMES = ("b", "bias")


def _as_called(cls: type, calls: Sequence[Any]) -> dict[str, Any] | None:
    """The keyword arguments of the first of the file's calls of `cls` whose arguments are all
    literals (names bound to literals included) and that constructs it; None where none does."""
    for call in calls:
        if not getattr(call, "literal", False):
            continue
        try:
            bound = inspect.signature(cls.__init__).bind(None, *call.args, **call.kwargs)
        except TypeError:
            continue
        kwargs = {k: v for k, v in bound.arguments.items() if k != "self"}
        if _trial(lambda kwargs=kwargs: cls(**copy.deepcopy(kwargs))) is not None:
            return kwargs
    return None


_INIT_FN = re.compile(r"(?P<kind>weights?|w|bias(?:es)?|b)_?init(?:iali[sz]er)?_?(?:fn|func|function)?")


class InitFunction:
    """An initialiser handed to a constructor (`weight_init_fn(d0, d1)`, `bias_init_fn(d)`): normal draws of
    the shape it is asked for, times `scale`."""

    def __init__(self, scale: float, rng: np.random.Generator, *, bias: bool = False, row: bool = False):
        self.scale, self._rng, self.bias, self.row = scale, rng, bias, row

    def __call__(self, *shape: Any) -> np.ndarray:
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        dims = tuple(int(d) for d in dims)
        if self.row and len(dims) == 1:
            dims = (1, *dims)  # the 2020 course's `bias_init_fn(d)` returns `np.zeros((1, d))`
        return self.scale * self._rng.standard_normal(dims)

    def as_row(self) -> InitFunction:
        """This initialiser, giving a (1, d) row where it is asked for d."""
        return InitFunction(self.scale, self._rng, bias=self.bias, row=True)

    def __repr__(self) -> str:
        return f"<normal draws × {self.scale:g}>"


def _value_for(name: str, cls_name: str, default: Any, rng: np.random.Generator, sizes: dict[str, Any]) -> Any:
    """A plausible constructor argument from its name."""
    low = name.lower()
    conv = "conv" in cls_name.lower()
    if isinstance(default, bool):
        return default  # a switch keeps its default, whatever it is called (`Linear(fan_in, fan_out, bias=True)`)
    if low in WEIGHT_NAMES:
        return 0.3 * rng.standard_normal((3, 2, 3, 3) if conv else (6, 4))
    if low in BIAS_NAMES:
        return 0.1 * rng.standard_normal(3 if conv else 4)
    if low == "gamma":
        return 1.0 + 0.1 * rng.standard_normal(sizes.get("features", 6))
    if low == "beta":
        return 0.1 * rng.standard_normal(sizes.get("features", 6))
    if low in ("pool_h", "pool_w", "pool_height", "pool_width", "pool_size"):
        return 2
    if low in ("filter_shape", "kernel_shape") and default is inspect.Parameter.empty:
        return (3, 3)
    if low == "stride":
        return 1  # smaller than the window: windows overlap
    if low in ("pad", "padding"):
        return default if isinstance(default, str) else 1 if conv else 0  # `padding='valid'` is a mode, not a size
    if default is not inspect.Parameter.empty:
        return default
    if (suffixed := _SUFFIXED_COUNT.fullmatch(low)) is not None:
        # `units_num`, `inputs_num`, `heads_num`, `output_node_num`: the count's noun first, sized as `num_<noun>` is
        return _value_for(f"num_{suffixed['noun']}", cls_name, default, rng, sizes)
    if re.fullmatch(r"(?:cell|seq(?:uence)?|time|bptt|unroll)_?(?:len(?:gth)?|steps?|size)|time_?steps", low):
        return SEQUENCE_LENGTH  # the time steps a recurrent model unrolls (`cell_length`, `seq_len`, `time_steps`)
    if (init := _INIT_FN.fullmatch(low)) is not None:  # CMU 11-785's `Linear(in_feature, out_feature, weight_init_fn, bias_init_fn)`
        return InitFunction(0.1, rng, bias=True) if init["kind"].startswith("b") else InitFunction(0.3, rng)
    if low in ("input_size", "n_in", "in_features", "input_dim") and not isinstance(sizes.get(low), tuple):
        return 12
    if (channels := _CHANNELS.fullmatch(low)) is not None:  # `Conv1D(in_channels, out_channels, kernel_size)`
        return 3 if channels["side"] in ("out", "output") else 2
    if low in ("kernel_size", "filter_size", "kernel", "ksize", "k_size", "window", "window_size", "kernel_length"):
        return 3  # smaller than the inputs tried (6 to 8 long)
    if re.fullmatch(r"(?:down|up)_?sampling_?(?:factor|rate|ratio)|(?:down|up)sample|scale_factor", low):
        return 2
    if re.fullmatch(r"max_?(?:len|length|seq_?len|sequence_?length|positions?)", low):
        return 16  # a positional table at least as long as any sequence tried
    if (letter := _letter_size(name)) is not None:
        return letter
    if re.fullmatch(r"sizes|dims|architecture|topology|structure|(?:net(?:work)?|layers?|model)_?(?:dims?|sizes?|shape|structure|widths)", low):
        return [12, 8, 8, CLASSES]  # `MLP(sizes)`, `Net(layer_dims)`: every layer's width, the input's first
    if low.endswith("_list") or low.endswith("_sizes"):  # `hidden_size_list`: one size per layer
        return [8, 6]
    size = re.fullmatch(r"(?:(?:num|n|number)_?(?:of_?)?)?(in|out|hidden)(?:put)?s?_?(?:size|dim|units?|nodes?|num|neurons?|features?|count|len|length)?|(?:size|dims?|dimension|fan)_?(in|out|hidden)", low)
    if size is not None and (size.group(1) or size.group(2)) and (low not in ("in", "out", "input", "output", "inputs", "outputs", "hidden")):
        # `input_units`, `output_num`, `sizeIn`, `dim_in`, `fan_in`, `number_of_inputs`, `n_hidden_units`
        return {"in": 12, "out": CLASSES, "hidden": 8}[size.group(1) or size.group(2)]
    if low.startswith(("hidden_size", "n_hidden", "hidden_dim")):
        return 8
    if low in WIDTHS:  # `Softmax(input_len, nodes)`: the layer's own width
        return CLASSES
    if low in ("output_size", "n_out", "num_classes", "output_dim", "out_features"):
        return CLASSES
    if low in ("n_heads", "num_heads", "heads", "n_head", "num_head"):
        return 2  # attention heads: the model's width must divide by it
    if re.fullmatch(r"d_?(?:m|model|k|v|ff|hidden|emb|embed)", low):
        return 8  # a transformer's widths (`d_model`, `d_k`, `d_ff`), abbreviated or not
    if low.endswith("_size") or low.endswith("_dim") or low.startswith("n_") or low.startswith("num_"):
        return 6
    if re.fullmatch(r"(?:transformation|transform|weights?|w)_shape", low) and default is inspect.Parameter.empty:
        return (12, CLASSES)  # `LayerFullyConnected(transformation_shape)`: the weight's (inputs, outputs)
    if "ratio" in low or low in ("p", "dropout", "drop", "rate", "keep_prob", "dropout_rate", "drop_rate", "drop_prob"):
        return 0.5
    if low in ("momentum",):
        return 0.9
    if low in ("eps", "epsilon"):
        return 1e-5
    if low in ("lr", "learning_rate"):
        return 0.1
    if low in ("seed", "random_state", "rng_seed"):
        return 0  # a model that seeds its own generator: any fixed seed builds it
    if low in ("rng", "generator", "random_generator", "prng", "rs", "random"):
        return np.random.default_rng(int(rng.integers(2**31)))  # `Linear(n_in, n_out, rng)`: a generator to draw its weights from
    if any(word in low for word in ("activation", "func", "prime", "derivative")) or low in ("fn", "f", "df"):
        raise Unsupported(f"its constructor takes a function (`{name}`): its subclasses that pass one are checked")
    raise BuildError(f"cannot guess a value for the constructor argument `{name}`")


# `units_num`, `inputs_num`, `heads_num`, `output_node_num`: a count named by its noun first (`num_<noun>` spelled backwards)
# (sizes only: `epoch_num`, `iter_num`, `sample_num` count passes or data, not a layer's width)
_SUFFIXED_COUNT = re.compile(
    r"(?P<noun>(?:[a-z]+_)?(?:units?|inputs?|outputs?|hidden|neurons?|nodes?|heads?|class(?:es)?|features?|channels?|filters?"
    r"|cells?|layers?|labels?|categories|words?|tokens?|vocab|embed(?:ding)?s?))_?(?:num|number|count|cnt)"
)
# the shape a reshaping layer gives each sample (`Reshape(shape)`, `new_shape`, `target_shape`)
RESHAPED = ("shape", "new_shape", "newshape", "target_shape", "output_shape", "out_shape", "reshape", "to_shape")
RESHAPED_TO = (3, 4)
SEQUENCE_LENGTH = 3  # time steps of a recurrent model's sequences: as many as the sequences `_input_candidates` tries (N, 3, D)

# `in_channels`, `out_channel`, `input_channels`, `n_channels`: a convolution's channels
_CHANNELS = re.compile(r"(?:(?P<side>in|out|input|output)_?|(?:n|num|number_of)_?)channels?")


# the one-letter sizes of cs231n and its heirs (`FeedForwardNet(D, C, H)`, `TwoLayerNet(D_in, H, D_out)`, `RNN(V, D, H)`)
LETTER_SIZES = {"D": 12, "H": 8, "C": CLASSES, "K": CLASSES, "V": 6, "E": 6, "M": 6, "N": 6, "T": 4, "F": 4, "L": 2}
_LETTER = re.compile(r"(?P<letter>[DHCKVEMNTFL])(?:_?(?P<side>in|out|h|x|\d))?")


def _letter_size(name: str) -> int | None:
    """The size a one-letter argument names: an input dimension `D`, classes `C`, hidden `H` (`H1`, `H2`),
    `D_in` and `D_out`; upper case only (`f`, `p`, `w` in lower case are a function, a rate, a weight)."""
    match = _LETTER.fullmatch(name)
    if match is None:
        return None
    if match["side"] == "out":
        return CLASSES
    if match["side"] == "in":
        return 12
    return LETTER_SIZES[match["letter"]]


def integer_size(name: str, cls_name: str = "") -> int | None:
    """The integer size `_value_for` gives an argument named `name` with no default (`n_out`, `vocab_size`,
    `D`), or None when the name says no size."""
    try:
        value = _value_for(name, cls_name, inspect.Parameter.empty, np.random.default_rng(0), {})
    except (BuildError, Unsupported):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and "seed" not in name.lower() else None


WIDTHS = ("nodes", "units", "neurons", "n_nodes", "n_units", "n_neurons", "num_nodes", "num_units", "num_neurons")
# `DenseLayer(inputs, outputs, ...)`: the two words are sizes only side by side (alone, `inputs` may be data)
PAIRED_SIZES = {"inputs": 12, "outputs": CLASSES}

LARGE_SIZE = 100  # a default size above this (`vocab_size=10000`, `hidden_size=650`) is replaced by a small one
SMALL_SIZES = (6,)  # the first small size; larger defaults get the next ones


def _large_size(low: str, default: Any) -> bool:
    """A size default that would make every check slow: the book's `Rnnlm(vocab_size=10000, ...)`."""
    sized = low.endswith(("_size", "_dim")) or low.startswith(("n_", "num_"))
    return sized and isinstance(default, int) and not isinstance(default, bool) and default > LARGE_SIZE


def made(cls: type, rng: np.random.Generator, kwargs: dict[str, Any] | None = None) -> Any:
    """An instance of `cls` on `kwargs` (by default the arguments `infer_kwargs` guesses); what its
    constructor raised (user code, or arguments the tool cannot guess) as a `BuildError` naming it.
    The caller seeds NumPy's global stream first, as the program would have it."""
    try:
        return cls(**(infer_kwargs(cls, rng) if kwargs is None else kwargs))
    except Exception as error:  # noqa: BLE001 - user code
        raise _raised(f"{cls.__name__}(...) raised {type(error).__name__}: {error}", error) from error


def infer_kwargs(cls: type, rng: np.random.Generator) -> dict[str, Any]:
    try:
        params = list(inspect.signature(cls).parameters.values())  # without the instance, whatever it is called
    except (TypeError, ValueError):
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    params = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    # Large size defaults shrink, equal ones alike and in the same order: a model that ties its
    # output weights to the embedding needs `wordvec_size == hidden_size` still.
    large = sorted({p.default for p in params if _large_size(p.name.lower(), p.default)})
    small = {size: SMALL_SIZES[0] + i for i, size in enumerate(large)}
    kwargs: dict[str, Any] = {}
    paired = set(PAIRED_SIZES) <= {p.name.lower() for p in params}
    for p in params:
        if _large_size(p.name.lower(), p.default) and p.default in small:  # a dict default is not hashable
            kwargs[p.name] = small[p.default]
        elif paired and p.name.lower() in PAIRED_SIZES and p.default is inspect.Parameter.empty:
            kwargs[p.name] = PAIRED_SIZES[p.name.lower()]
        elif p.default is inspect.Parameter.empty and (key := _table_key(cls, p.name)) is not None:
            kwargs[p.name] = key
        elif p.default is inspect.Parameter.empty and p.name.lower() in RESHAPED and _reshapes(cls):
            kwargs[p.name] = RESHAPED_TO  # `Reshape(shape)`: each sample's new shape, 12 numbers as (3, 4)
        else:
            kwargs[p.name] = _value_for(p.name, cls.__name__, p.default, rng, {})
        if _annotated_pair(p) and isinstance(kwargs[p.name], int) and not isinstance(kwargs[p.name], bool):
            kwargs[p.name] = (kwargs[p.name], kwargs[p.name])  # `pool_size: Tuple[int, int]`
        if isinstance(kwargs[p.name], np.random.Generator) and _legacy_draws(cls, p.name):
            kwargs[p.name] = np.random.RandomState(int(rng.integers(2**31)))  # `rng.randn(n_in, n_out)`
    return _sized_nones(cls, params, kwargs)


def _sized_nones(cls: type, params: list[inspect.Parameter], kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with each size left at its default None (`Dense(units_num, inputs_num=None)`) given the size its
    name says, when the constructor raises on the None (`1 / np.sqrt(self.inputs_num)`) and runs on the sizes;
    a None the constructor takes (a width read from the first input later) is kept."""
    sizes = {p.name: size for p in params if p.default is None and kwargs.get(p.name) is None and (size := integer_size(p.name, cls.__name__)) is not None}
    if not sizes:
        return kwargs
    state = np.random.get_state()  # trial constructions draw nothing the check's own build would not
    try:
        if _trial_error_of(lambda: cls(**copy.deepcopy(kwargs))) is None:
            return kwargs
        sized = {**kwargs, **sizes}
        return sized if _trial_error_of(lambda: cls(**copy.deepcopy(sized))) is None else kwargs
    finally:
        np.random.set_state(state)


def _reshapes(cls: type) -> bool:
    """Whether the class's own code reshapes (a `Reshape(shape)` layer, not a network's list of widths)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return False
    return re.search(r"\breshape\s*\(", source) is not None and re.search(r"\b(?:zip|len|range)\s*\(\s*(?:self\.)?(?:sizes|shape)\b", source) is None


# the methods only NumPy's legacy `RandomState` has: a generator passed in is drawn from as one
_LEGACY = re.compile(r"\.(?:randn|rand|randint|random_sample|random_integers)\s*\(")


def _legacy_draws(cls: type, name: str) -> bool:
    """Whether the constructor of `cls` calls a `RandomState`-only method on its argument `name`."""
    try:
        source = inspect.getsource(cls.__init__)
    except (OSError, TypeError):
        return False
    return any(_LEGACY.match(source, m.end()) for m in re.finditer(rf"\b{re.escape(name)}\b", source))


def _annotated_pair(p: inspect.Parameter) -> bool:
    """A parameter annotated as a tuple (`pool_size: Tuple[int, int]`, `kernel: tuple[int, int]`)."""
    annotation = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", None) or repr(p.annotation)
    return p.annotation is not inspect.Parameter.empty and re.search(r"(?i)\btuple\b", str(annotation)) is not None


def _table_key(cls: type, name: str) -> str | None:
    """The first key of the module's dict that the constructor looks its argument up in
    (`self.activation_func = activation_functions[name]()`): a name the layer is built from."""
    init = getattr(cls, "__init__", None)
    try:
        source = inspect.getsource(init)
    except (TypeError, OSError):
        return None
    for table in re.findall(rf"(\w+)\[\s*{re.escape(name)}\s*\]", source):
        held = getattr(init, "__globals__", {}).get(table)
        if isinstance(held, dict) and held and all(isinstance(k, str) for k in held):
            return next(iter(held))
    return None


_PAIRED = re.compile(r"(?i)size|stride|pad|kernel|pool|window|dilation")


def _wants_pairs(error: BaseException) -> bool:
    """`self.s_h, self.s_w = stride` given an int: the constructor takes (height, width) pairs."""
    return isinstance(error, TypeError) and ("unpack" in str(error) or "not subscriptable" in str(error) or "not iterable" in str(error))


def as_pairs(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The same arguments with each integer size, stride, padding or kernel given as a (v, v) pair;
    None when there is none to pair."""
    paired = {k: (v, v) if _PAIRED.search(k) and isinstance(v, int) and not isinstance(v, bool) else v for k, v in kwargs.items()}
    return paired if paired != kwargs else None


_LISTED = re.compile(r"(?i)hidden|(?:units|layers|dims|neurons|nodes|widths)$")


def _wants_lists(error: BaseException) -> bool:
    """`[dim_in] + hidden_units + [dim_out]`, `for h in hidden_units` given an int: the constructor
    takes one width per hidden layer."""
    text = str(error)
    return isinstance(error, TypeError) and (
        "can only concatenate list" in text or "'int' object is not iterable" in text
        or "object of type 'int' has no len()" in text or "'int' object is not subscriptable" in text
    )  # fmt: skip


def as_lists(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The same arguments with each integer guessed for hidden widths (`hidden_units`, `hidden_dims`,
    `layers`) given as a list of two such widths; None when there is none."""
    listed = {k: [v, v] if _LISTED.search(k) and isinstance(v, int) and not isinstance(v, bool) else v for k, v in kwargs.items()}
    return listed if listed != kwargs else None


def _as_sizes(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The same arguments with each guessed float given as a size: a rate guessed for a name
    (`p`, `rate`) that the constructor uses as a width; None when there is no float."""
    sized = {k: SMALL_SIZES[0] if isinstance(v, float) else v for k, v in kwargs.items()}
    return sized if sized != kwargs else None


def _describe(name: str, args: tuple, kwargs: dict[str, Any]) -> str:
    def show(v: Any) -> str:
        if isinstance(v, np.random.Generator):
            return "np.random.default_rng(...)"  # its repr holds an address, different every run
        if isinstance(v, np.random.RandomState):
            return "np.random.RandomState(...)"
        return f"array{tuple(v.shape)}" if isinstance(v, np.ndarray) else repr(v)

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


# --------------------------------------------------------------------------- layers


def _numeric_array(value: Any) -> bool:
    return is_float_array(value) or (isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.size > 0)


def _input_candidates(layer: Any, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    if one_column(type(layer)):
        yield rng.standard_normal((6, 1))  # one sample as a column vector: its Jacobian is np.identity(n)
        return
    if any(isinstance(v, tuple) and v == RESHAPED_TO for v in vars(layer).values()):
        # built as `Reshape(shape=(3, 4))`: a batch of samples of 12 numbers (`X.reshape(len(X), *self.shape)`),
        # else 12 numbers in all (`x.reshape(self.shape)`, DeZero's)
        yield rng.standard_normal((n, int(np.prod(RESHAPED_TO))))
        yield rng.standard_normal(RESHAPED_TO[::-1])
    declared = getattr(layer, "input_shape", None)  # one sample's shape, set by the constructor or `set_input_shape`
    if isinstance(declared, (tuple, list)) and 1 <= len(declared) <= 3 and all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 64 for d in declared):
        yield rng.standard_normal((n, *declared))
    arrays = {k: v for k, v in vars(layer).items() if _numeric_array(v)}  # integer weights size inputs too
    for name, held in vars(layer).items():
        # a list of arrays (`params`, `self.weights = [W1, W2]`): its first entry is what the input meets
        if isinstance(held, list) and held and all(isinstance(p, np.ndarray) for p in held):
            arrays.update({f"{name}[{i}]": p for i, p in enumerate(held) if _numeric_array(p)})
        elif isinstance(held, dict) and held and all(isinstance(p, np.ndarray) for p in held.values()):  # `self.params = {"W0": ...}`
            arrays.update({f"{name}[{k!r}]": p for k, p in held.items() if _numeric_array(p)})
    weights = [v for k, v in arrays.items() if v.ndim in (2, 4)]
    if not weights:  # layers it made itself (`self.layers.append(Dense(...))`): the first one's weight meets the input
        weights = _members_weights(layer)
    if weights and weights[0].ndim == 2 and _declared_axes(type(layer)) == 3:
        yield rng.standard_normal((n, 3, weights[0].shape[0]))  # `x: N x n x d_m` in the forward's docstring: a sequence first
    if weights:
        w = weights[0]
        if w.ndim == 4:
            yield rng.standard_normal((n, w.shape[1], 6, 6))
            yield rng.standard_normal((n, 6, 6, w.shape[2]))  # channels last, w (h_f, w_f, c_f, n_f)
        else:
            if w.shape[0] == 1 < w.shape[1] and all(v.shape[0] == 1 for v in weights if v.ndim == 2):
                yield rng.standard_normal((n, w.shape[1]))  # rows only (`gamma = np.ones((1, n))`): scales of the features
            yield rng.standard_normal((n, w.shape[0]))
            yield rng.standard_normal((n, 3, w.shape[0]))  # a sequence (N, T, D) for a time layer
            yield rng.standard_normal((n, w.shape[1]))  # weights kept (out, in): `x @ self.W.T`
            if _weights_first(type(layer)):
                yield rng.standard_normal((w.shape[1], n))  # column vectors: np.dot(self.W, x)
                yield rng.standard_normal((w.shape[1], 1))  # one column at a time (`self.bias -= lr * dout`)
    kernels = [v for v in arrays.values() if v.ndim == 3]
    if kernels and not weights:  # a 1-D convolution's kernel, (out, in, k) or (k, in, out): a sequence of channels
        channels = kernels[0].shape[1]
        yield rng.standard_normal((n, channels, 8))
        yield rng.standard_normal((n, 8, channels))
    if not weights and not kernels and _declared_axes(type(layer)) == 3:
        yield rng.standard_normal((n, 2, 8))  # `A: (batch_size, in_channels, width)`: a 1-D resampling or pooling layer
    vectors = [v for k, v in arrays.items() if v.ndim == 1]
    if vectors and not weights:
        d = vectors[0].shape[0]
        yield rng.standard_normal((n, d))
        for c in (d,):
            yield rng.standard_normal((n, c, 3, 3))
    yield rng.standard_normal((n, 6))
    yield rng.standard_normal((n, 2, 6, 6))
    yield rng.standard_normal((n, 3, 4, 4))
    yield rng.standard_normal((n, 6, 6, 2))  # channels last (N, H, W, C), a pooling layer with no weights


def _members_weights(layer: Any) -> list[np.ndarray]:
    """The 2-D and 4-D weights of the layers a layer holds in a list of its own (as a network holds
    them), in their order; none when it holds none."""
    found = []
    for held in vars(layer).values():
        if isinstance(held, list) and held and not any(isinstance(p, np.ndarray) for p in held):
            for member in held:
                found += [v for v in getattr(member, "__dict__", {}).values() if _numeric_array(v) and v.ndim in (2, 4)]
    return found


# `x: N x n x d_m`, `x: (N, T, D)`, `x of shape (N, T, D)`: how many axes a forward's docstring gives its input
_DECLARED = r"\b(?:x|X|inputs?|xs{named})\b[^\n]{{0,40}}?(?:\(\s*(\w+(?:\s*,\s*\w+)+)\s*\)|\b(\w+(?:\s*[x×*]\s*\w+)+)\b)"


def _declared_axes(cls: type) -> int | None:
    """The number of axes the forward's docstring gives its input (`x: N x n x d_m` -> 3); None when it says none."""
    from backprop_doctor.conventions import layer_methods

    methods = layer_methods(cls)
    forward = getattr(cls, methods.forward if methods else "forward", None)
    doc = inspect.getdoc(forward) or ""
    try:  # the forward's own name for its input too (`A (np.array): (batch_size, in_channels, width)`)
        first = [p.name for p in inspect.signature(forward).parameters.values()][1:2]
    except (TypeError, ValueError):
        first = []
    named = "".join(f"|{re.escape(name)}" for name in first)
    found = re.search(_DECLARED.format(named=named), doc)
    if found is None:
        return None
    axes = re.split(r"\s*[,x×*]\s*", found.group(1) or found.group(2))
    return len(axes) if 2 <= len(axes) <= 5 else None


def one_column(cls: type) -> bool:
    """A layer without weights whose backward builds the full Jacobian of one sample
    (`np.identity(np.size(self.output))`): it takes one column vector at a time."""
    from backprop_doctor.conventions import layer_methods

    methods = layer_methods(cls)
    try:
        source = inspect.getsource(getattr(cls, methods.backward if methods else "backward"))
    except (TypeError, OSError, AttributeError):
        return False
    return bool(re.search(r"(identity|eye)\(\s*(np\.)?size\(|(identity|eye)\(\s*n\s*\)", source)) and "size(" in source


def _weights_first(cls: type) -> bool:
    """A forward written over column vectors, weights on the left: `np.dot(self.W, x)`, `self.W @ x`."""
    try:
        source = inspect.getsource(getattr(cls, layer_methods_forward(cls)))
    except (TypeError, OSError, AttributeError):
        return False
    return bool(re.search(r"dot\(\s*\w+\.\w+\s*,|\w+\.\w+\s*@\s*\w", source))


def layer_methods_forward(cls: type) -> str:
    from backprop_doctor.conventions import layer_methods

    methods = layer_methods(cls)
    return methods.forward if methods else "forward"


def _targets(n: int, classes: int, rng: np.random.Generator) -> list[np.ndarray]:
    labels = rng.integers(0, classes, n)
    return [np.eye(classes)[labels], labels]


def _outcome(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """(what `call()` returns, None) or (None, what it raised), as a trial run of user code: NumPy's
    global RNG is seeded as before every forward, and restored afterwards."""
    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        return call(), None
    except Exception as error:
        return None, error
    finally:
        np.random.set_state(state)


def _trial(call: Callable[[], Any], default: Any = None) -> Any:
    """`call()` as a trial run of user code, `default` when it raises."""
    result, error = _outcome(call)
    return default if error is not None else result


def _runs(layer: Any, x: np.ndarray, t: Any, train: bool, *, backward: bool = False) -> bool:
    try:
        work = copy.deepcopy(layer)
    except Exception:  # an object that will not copy is tried as it is
        work = layer
    return _trial(lambda: _exercise(work, x, t, train, backward=backward), default=False)


def _exercise(work: Any, x: np.ndarray, t: Any, train: bool, *, backward: bool) -> bool:
    """Forward (and backward) of the layer `work` on `x`: whether it gave an array (a finite scalar loss)."""
    adapter = ClassLayer(work, train=train)
    out = adapter.forward(x.copy(), t)
    if adapter.is_loss:
        ok = bool(np.size(out) == 1 and np.isfinite(out).all())
        if ok and backward:  # a loss's backward may take the shape its forward only tolerated
            adapter.backward(1.0)
        return ok
    if backward and isinstance(out, np.ndarray):
        adapter.backward(np.ones_like(out))
    return isinstance(out, np.ndarray) and out.size > 0  # an empty output (a window larger than the input) checks nothing


def _constructs(cls: type, kwargs: dict[str, Any]) -> bool:
    """Whether `cls(**kwargs)` runs its constructor and a forward on a sequence of the shape its `Wx` implies."""
    def call() -> bool:
        layer = cls(**copy.deepcopy(kwargs))
        wx = next(v for k, v in kwargs.items() if k.lower() in ("wx", "w_x"))
        x = np.random.default_rng(0).standard_normal((2, 3, wx.shape[0]))
        return isinstance(ClassLayer(layer).forward(x), np.ndarray)

    return bool(_trial(call, default=False))


def _input_cases(layer: Any, batch: int, rng: np.random.Generator, train: bool) -> list[tuple[str, np.ndarray, Any]]:
    """The inputs a layer that takes no target is checked on: the first candidate its forward (and
    backward) runs on, and a single sample of it."""
    cls = type(layer)
    cases: list[tuple[str, np.ndarray, Any]] = []
    # one sample at a time through a forward that flattens all of it (`input.flatten()` then `input @ self.weights`):
    # a feature map (h, w, c) of as many numbers as the weight has rows, else the vector itself; no batch axis
    for sample in _flattened_samples(layer, rng):
        if _runs(layer, sample, None, train, backward=True):
            cases.append((f"{UNBATCHED} x {sample.shape}", sample, None))
            break
    columns, forward_only = _weights_first(cls), None  # a column layout is tried with its backward too
    for x in _input_candidates(layer, batch, rng) if not cases else ():
        if _runs(layer, x, None, train):
            if x.ndim == 2 and not _runs(layer, x, None, train, backward=True):
                # `np.matmul(self.input_data.transpose(0, 2, 1), error)`: a backward written for sequences (N, T, D) only
                sequence = rng.standard_normal((len(x), 3, x.shape[1]))
                x = sequence if _runs(layer, sequence, None, train, backward=True) else x
            single = x[:1].copy()
            if (
                x.ndim == 2 and len(x) > 1 and not _runs(layer, x, None, train, backward=True)
                and _runs(layer, single, None, train, backward=True)
            ):  # fmt: skip
                # `self.bias -= lr * output_error` with a (1, n) bias: written for one row at a time
                cases.append((f"one sample x {single.shape} (its backward raises on a batch of {len(x)})", single, None))
                break
            if columns and not _runs(layer, x, None, train, backward=True):
                forward_only = x if forward_only is None else forward_only
                continue
            if (positive := _in_domain(layer, x, train)) is not None:
                # `np.log(x)`, `np.sqrt(x)`: NaN where x < 0 is the right output, not an overflow
                x, single = positive, positive[:1].copy()
                cases.append((f"positive x {x.shape} (forward gives NaN for x < 0)", x, None))
            else:
                cases.append((f"x {x.shape}", x, None))
            if _runs(layer, single, None, train) and not _uses_batch_statistics(cls, train):
                cases.append((f"single sample x {single.shape}", single, None))
            break
    if not cases and forward_only is not None:  # backward raises on every shape: the engine says where
        cases.append((f"x {forward_only.shape}", forward_only, None))
    if not cases and not any(_numeric_array(v) for v in vars(layer).values()):
        # a layer with no weights written for one image at a time (`h, w, c = input.shape`): no batch axis
        image = rng.standard_normal((6, 6, 2))
        if _runs(layer, image, None, train, backward=True):
            cases.append((f"{UNBATCHED} x {image.shape}", image, None))
    methods = layer_methods(cls) if cases else None
    if methods is not None and one_entry_upstream(cls, methods.backward):  # the engine sends it what it is written for
        cases = [(f"{label}, an upstream gradient with one nonzero entry (what its backward is written for)", x, t) for label, x, t in cases]
    return cases


def _flattened_samples(layer: Any, rng: np.random.Generator) -> list[np.ndarray]:
    """One sample of the size a flattening forward's 2-D weight takes (its rows), as a 3-D feature map
    when that size has three factors of 2 or more, and as a vector; none for another forward."""
    from backprop_doctor.conventions._classlayer import function_node

    weights = [v for v in vars(layer).values() if _numeric_array(v) and v.ndim == 2]
    if not weights:  # read before the forward's source is parsed: most layers stop here
        return []
    methods = layer_methods(type(layer))
    node = function_node(getattr(type(layer), methods.forward if methods else "forward", None))
    given = [a.arg for a in node.args.args[1:2]] if node is not None else []
    flattens = bool(given) and any(  # `input.flatten()`, `image.ravel()`: the whole input, not `x.reshape(len(x), -1)`
        isinstance(n, ast.Call) and not n.args and isinstance(n.func, ast.Attribute) and n.func.attr in ("flatten", "ravel")
        and isinstance(n.func.value, ast.Name) and n.func.value.id == given[0]
        for n in ast.walk(node)
    )  # fmt: skip
    if not flattens:
        return []
    d = weights[0].shape[0]
    shapes = [(a, b, d // (a * b)) for a in range(2, 7) for b in range(2, 7) if d % (a * b) == 0 and d // (a * b) >= 2][:1]
    return [rng.standard_normal(shape) for shape in [*shapes, (d,)]]


def _in_domain(layer: Any, x: np.ndarray, train: bool) -> np.ndarray | None:
    """`x` made positive (|x| + 0.5) when forward on `x` gives NaN and on that gives finite numbers only:
    a function defined for positive inputs (a logarithm, a square root), whose NaN for x < 0 is the
    right output; None otherwise (a forward that overflows on any input keeps `x`)."""
    def nan_out(value: np.ndarray) -> bool | None:
        def call() -> Any:
            return ClassLayer(_copy(layer), train=train).forward(value.copy())

        out = _trial(call)
        if not is_float_array(out):
            return None
        if np.isnan(out).any():
            return True
        return False if np.isfinite(out).all() else None  # inf without NaN: an overflow, not a domain

    if not (is_float_array(x) and (x <= 0).any()) or nan_out(x) is not True:
        return None
    positive = np.abs(x) + 0.5
    return positive if nan_out(positive) is False else None


UNBATCHED = "one unbatched sample"  # a case whose first axis is not a batch: no batch-wide probe applies


def _weights_out_first(kwargs: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    """The same arguments with the bias sized by the rows of the 2-D weight, 1-D and (1, rows), for
    a layer that keeps its weight (out, in) and computes `x @ W.T + b`; none without a 2-D weight
    and a bias."""
    weight = next((v for k, v in kwargs.items() if k.lower() in WEIGHT_NAMES and isinstance(v, np.ndarray) and v.ndim == 2), None)
    if weight is None or not any(k.lower() in BIAS_NAMES for k in kwargs):
        return []
    bias = 0.1 * rng.standard_normal(weight.shape[0])
    return [{k: b if k.lower() in BIAS_NAMES else v for k, v in kwargs.items()} for b in (bias, bias[None, :])]


def _bias_rows(
    cls: type, kwargs: dict[str, Any], layer: Any, cases: list[Any], batch: int, rng: np.random.Generator, train: bool
) -> tuple[Any, dict[str, Any], list[Any]] | None:
    """(layer, arguments, cases) built with each bias initialiser giving a (1, d) row, when the layer
    built with 1-D biases keeps a gradient of another shape than its bias and the row's fits; else None."""
    inits = [k for k, v in kwargs.items() if isinstance(v, InitFunction) and v.bias and not v.row]
    if not inits or not cases or _gradients_fit(layer, cases[0][1], train, BIAS_NAMES):
        return None
    rows = {k: v.as_row() if k in inits else v for k, v in kwargs.items()}
    other = _trial(lambda: cls(**rows))
    found = _input_cases(other, batch, rng, train) if other is not None else []
    return (other, rows, found) if found and _gradients_fit(other, found[0][1], train, BIAS_NAMES) else None


def _gradients_fit(layer: Any, x: np.ndarray, train: bool, names: tuple[str, ...]) -> bool:
    """Whether one forward and backward of a copy of `layer` on `x` leaves the gradient of each
    parameter named in `names` in the parameter's shape: of two layouts of a bias the layer's
    forward takes alike, the one its backward computes (`np.sum(dout, axis=0, keepdims=True)`
    for a (1, n) bias)."""
    def fit() -> bool:
        adapter = ClassLayer(_copy(layer), train=train)
        before = adapter.attribute_ids()
        out = adapter.forward(x.copy())
        adapter.backward(np.ones_like(out))
        adapter.discover_params(before)
        grads = adapter.gradients_from(adapter.gradient_snapshot())
        return all(np.shape(grads.get(name)) == p.shape for name, p in adapter.params().items() if name.lower() in names)

    return bool(_trial(fit, default=False))


def build_layer(
    cls: type, rng: np.random.Generator, *, train: bool = True, batch: int = 5, calls: Sequence[Any] = (), forced: Any = None
) -> Built:
    """A layer with synthesized parameters and inputs that its forward accepts. `calls`: the file's
    own calls of the class, whose literal arguments build it where no argument can be guessed by
    its name (`GRU(D, H)` after `N, T, D, H = 200, 8, 1, 12`); `forced`: the user's `--build` call
    of it, which builds it whatever the names say."""
    from backprop_doctor.conventions.recurrent import recurrent_kwargs

    try:
        if forced is not None:
            kwargs = _as_called(cls, [forced])
            if kwargs is None:
                raise _ForcedFailed(f"--build `{forced.name}(...)` does not construct it: give the arguments its __init__ takes")
        else:
            kwargs = infer_kwargs(cls, rng)
    except _ForcedFailed:
        raise
    except BuildError:
        # DLFS-2 time layers: Wx, Wh, b shaped for an RNN, an LSTM (4H) or a GRU (3H)
        kwargs = next((kw for k in (1, 4, 3) if (kw := recurrent_kwargs(cls, rng, k)) is not None and _constructs(cls, kw)), None)
        kwargs = kwargs if kwargs is not None else _as_called(cls, calls)
        if kwargs is None:
            raise
    try:
        layer = cls(**kwargs)
    except Exception as error:
        paired = (as_lists(kwargs) or as_pairs(kwargs)) if _wants_pairs(error) or _wants_lists(error) else _as_sizes(kwargs) if _float_shape(error) else None
        layer, again = _outcome(lambda: cls(**paired)) if paired else (None, None)
        if layer is None:
            if again is not None and _float_shape(again):  # a float shape with sizes given: the user's own
                error, kwargs = again, paired
            raise _raised(f"{_describe(cls.__name__, (), kwargs)} raised {type(error).__name__}: {error}", error, guessed=kwargs.values()) from error
        kwargs = paired
    if (lengths := _length_arguments(layer)):
        raise Unsupported(
            f"its forward takes the sequences' lengths ({', '.join(f'`{n}`' for n in lengths)}) beside the scores and the targets: "
            "a sequence loss over padded batches (CTC) is not checked yet"
        )
    layer, setup = _set_up(layer, rng, batch, train) if not is_loss_layer(layer) else (layer, [])
    built = Built(cls.__name__, layer, " then ".join([_describe(cls.__name__, (), kwargs), *setup]))
    if is_loss_layer(layer) and not _returns_scalar(layer, rng, train):
        raise Unsupported(
            f"`{cls.__name__}.forward` takes two inputs and returns an array (like the book's MulLayer and "
            "AddLayer): layers with two inputs are not gradient-checked yet"
        )
    if is_loss_layer(layer):
        built.cases += _loss_cases(layer, batch, rng, train)
    else:
        built.cases += _input_cases(layer, batch, rng, train)
        running = []  # `DenseLayer(w, b)` with w (units_curr, units_prev): `x @ self.w.T + self.b`
        for rows in _weights_out_first(kwargs, rng) if not built.cases else []:
            other = _trial(lambda rows=rows: cls(**rows))
            found = _input_cases(other, batch, rng, train) if other is not None else []
            if found:
                running.append((other, rows, found))
        if running:  # the bias layout whose gradient backward computes in its shape, else the first
            layer, kwargs, built.cases[:] = next((r for r in running if _gradients_fit(r[0], r[2][0][1], train, BIAS_NAMES)), running[0])
            built.obj, built.how = layer, " then ".join([_describe(cls.__name__, (), kwargs), *setup])
        rowed = _bias_rows(cls, kwargs, layer, built.cases, batch, rng, train)
        if rowed is not None:  # `bias_init_fn(d)` made (1, d), which backward's `db` keeps
            layer, kwargs, built.cases[:] = rowed
            built.obj, built.how = layer, " then ".join([_describe(cls.__name__, (), kwargs), *setup])
    if not built.cases:
        for x in _index_candidates(layer, batch, rng):
            if _runs(layer, x, None, train):
                built.cases.append((f"integer indices {x.shape}", x, None))
                break
    if not built.cases:
        # Nothing runs: check it on the first plausible input anyway, so the engine
        # reports what forward raises, at the user's line.
        first = next(_input_candidates(layer, batch, rng))
        t = _targets(batch, CLASSES, rng)[0] if is_loss_layer(layer) else None
        x = rng.standard_normal((batch, CLASSES)) if is_loss_layer(layer) else first
        error = _trial_error(layer, x, t, train)
        if error is not None and (setup := _set_elsewhere(cls, error)):
            raise Unsupported(f"its forward raised {type(error).__name__} ({error}): it needs `{setup}()` called first")
        if error is not None and (missing := unimportable_name(error)):
            raise Unsupported(f"it uses `{missing}`, {unimportable_reason(error, missing)}")
        if error is not None and (module := _standin_of(error)) is not None:
            from backprop_doctor.locate import standin_reason

            raise StandInRaised(standin_reason("its forward", error, module), module, error)
        if error is not None and not _no_argument_explains(error) and _through_call.not_usable(layer, error) is None:
            # a shape error on shapes the tool guessed: maybe the guess, maybe the code (a DeZero function whose
            # `__call__` cannot be used is left to the engine, which notes why)
            raise Unsupported(
                f"its forward raised {type(error).__name__} ({error}) on every input shape tried "
                f"({x.shape} first): pass `--build` to give it a layer and check it inside a network"
            )
        built.cases.append((f"x {x.shape} (forward raised on every input shape tried)", x, t))
    elif not is_loss_layer(layer):
        _, x, t = built.cases[0]
        if (held := gradients_returned_by_name(cls)) is not None:
            raise Unsupported(GRADIENT_DICT.format(held=held))
        if _fused_softmax(layer, x, train):
            raise Unsupported(
                "its forward ends in a softmax and its backward takes the gradient with respect to the softmax's input "
                "(ŷ − y, as a cross-entropy gives it), not its output: it is right or wrong only together with its loss"
            )
        error = _trial_error_of(lambda: _exercise(copy.deepcopy(layer), x, t, train, backward=True))
        work, calls = _copy(layer), []
        if error is not None and _call_setter(work, _wanted(layer, error), x.shape, calls, depth=2):
            # `self.input_shape` that backward reads, set by `set_input_shape(shape)` as a network adds the layer
            error = _trial_error_of(lambda: _exercise(copy.deepcopy(work), x, t, train, backward=True))
            if error is None:
                layer = built.obj = work
                built.how = " then ".join([built.how, *calls])
        if error is not None and (setup := _set_elsewhere(cls, error)):
            # `self.input_shape` set by `set_input_shape()`, which the user's network calls when it adds the layer
            raise Unsupported(f"its backward raised {type(error).__name__} ({error}): it needs `{setup}()` called first")
    return built


_LENGTHS = re.compile(r"(?:\w+_)?(?:lengths?|lens|seq_?lens?)")


def _length_arguments(layer: Any) -> list[str]:
    """The arguments after the first two of a forward that are lengths (`CTCLoss.forward(logits, target,
    input_lengths, target_lengths)`): integers per sample, not arrays a gradient could be taken of."""
    from backprop_doctor.conventions._classlayer import required_inputs

    forward = getattr(layer, layer_methods_forward(type(layer)), None)
    names = required_inputs(forward) if callable(forward) else []
    return [n for n in names[2:] if _LENGTHS.fullmatch(n.lower())]


def _fused_softmax(layer: Any, x: np.ndarray, train: bool) -> bool:
    """A layer with weights whose output rows are probabilities and whose dx moves when one number
    is added to every entry of dout, which no output whose rows always sum to 1 allows (its
    Jacobian sends that direction to zero): the backward skips the softmax, written for a
    cross-entropy that hands it ŷ − y (kormang's `SoftmaxCrossEntropyLayer`). Checked alone it
    would seem wrong."""
    if not any(is_float_array(v) and v.ndim >= 2 for v in vars(layer).values()):
        return False  # a softmax of its own is checked (and a pass-through backward worded) as one

    def dx(shift: float) -> Any:
        work = _copy(layer)
        adapter = ClassLayer(work, train=train)
        out = adapter.forward(x.copy())
        if not (is_float_array(out) and out.ndim == 2 and out.shape[1] > 1 and np.all(out >= 0) and np.allclose(out.sum(axis=1), 1)):
            return None
        return adapter.backward(np.random.default_rng(0).standard_normal(out.shape) + shift)[0]

    plain, shifted = _trial(lambda: dx(0.0)), _trial(lambda: dx(1.0))
    if not (is_float_array(plain) and is_float_array(shifted) and plain.shape == shifted.shape):
        return False
    return bool(np.max(np.abs(shifted - plain)) > 1e-6 * max(1.0, float(np.max(np.abs(plain)))))


def _trial_error_of(call: Callable[[], Any]) -> BaseException | None:
    """What `call()` raises as a trial run of user code, or None."""
    return _outcome(call)[1]


def _trial_error(layer: Any, x: np.ndarray, t: Any, train: bool) -> BaseException | None:
    """What `forward(x[, t])` raises on a copy of `layer`, or None."""
    def call() -> None:
        ClassLayer(copy.deepcopy(layer), train=train).forward(x.copy(), t)

    state = np.random.get_state()
    try:
        np.random.seed(FORWARD_SEED)
        call()
    except Exception as error:
        return error
    finally:
        np.random.set_state(state)
    return None


def _loss_cases(layer: Any, batch: int, rng: np.random.Generator, train: bool) -> list[tuple[str, np.ndarray, Any]]:
    """Scores and targets a loss layer accepts: multi-class (one-hot, else labels) and, for a
    binary loss, 0/1 targets of shape (N, 1) and (N,); probabilities when the loss takes them."""
    probabilities = _takes_probabilities(type(layer))
    binary = _is_binary_loss(type(layer))
    both = _reads_either_target(type(layer))
    cases: list[tuple[str, np.ndarray, Any]] = []
    for n in (batch, 1):
        candidates: list[tuple[str, np.ndarray, np.ndarray]] = []
        if binary:
            z = rng.standard_normal((n, 1))
            bits = rng.integers(0, 2, (n, 1))  # integers: some code indexes with them (DLFS-2's y[arange, t])
            # (N,) first: code written for (N, 1) columns mostly runs on (N,) unchanged, while code
            # written for (N,) (DLFS-2 stacks np.c_[1 - y, y]) misreads (N, 1)
            candidates += [("binary t (N,)", z[:, 0].copy(), bits[:, 0].copy()), ("binary t (N, 1)", z, bits)]
        if not binary:  # a binary loss given four classes computes something else
            scores = rng.standard_normal((n, CLASSES))
            candidates += [(f"t {'one-hot' if t.ndim == 2 else 'labels'}", scores, t) for t in _targets(n, CLASSES, rng)]
            sequence = rng.standard_normal((n, 3, CLASSES))  # a time loss: scores (N, T, V), labels (N, T)
            candidates.append(("sequence of labels (N, T)", sequence, rng.integers(0, CLASSES, (n, 3))))
        kinds: set[str] = set()  # the kind of target that ran
        for label, x, t in candidates:
            kind = "binary" if label.startswith("binary") else "multi-class"
            if kinds and not (both and label == "t labels" and _same_loss(layer, cases[-1], x, t, train)):
                continue  # one kind of target: a binary loss averages over its (N, 1) output alone
            if probabilities:
                x = 1 / (1 + np.exp(-x)) if kind == "binary" else _softmax_rows(x)
            if _runs(layer, x, t, train, backward=True):
                cases.append((f"batch {n}, {label}" + (", probabilities" if probabilities else ""), x, t))
                kinds.add(kind)
    return cases


def _same_loss(layer: Any, one_hot: tuple[str, np.ndarray, Any], x: np.ndarray, labels: np.ndarray, train: bool) -> bool:
    """Whether the loss of `labels` equals that of the one-hot case just kept for the same scores and
    the same classes: the layer then reads both kinds of target (a loss written for one-hot targets
    that only broadcasts a label runs, but computes something else)."""
    _label, scores, targets = one_hot
    if not (np.shape(scores) == np.shape(x) and np.array_equal(np.argmax(targets, axis=-1), labels)):
        return False

    def loss(t: Any) -> float:
        work = copy.deepcopy(layer)
        return float(np.asarray(ClassLayer(work, train=train).forward(x.copy(), copy.deepcopy(t))))

    first, second = _trial(lambda: loss(targets), default=None), _trial(lambda: loss(labels), default=None)
    return first is not None and second is not None and np.isfinite(first) and bool(np.isclose(first, second, rtol=1e-9, atol=1e-12))


def _softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _loss_sources(cls: type) -> str:
    texts = []
    for name in ("forward", "calculate"):
        try:
            texts.append(inspect.getsource(getattr(cls, name)))
        except (AttributeError, TypeError, OSError):
            continue
    return "\n".join(texts)


TARGET_FORM = re.compile(r"\.size\s*==|\.ndim\s*(==|>|!=)|\bargmax\(")


def _reads_either_target(cls: type) -> bool:
    """A loss that tells one-hot targets from labels itself (the book's `if self.t.size ==
    self.y.size:` in backward, `argmax` in its cross-entropy): checked with both, since a bug
    may sit in the branch one of them never takes."""
    texts = [_loss_sources(cls)]
    try:
        texts.append(inspect.getsource(cls.backward))
    except (AttributeError, TypeError, OSError):
        pass
    return bool(TARGET_FORM.search("\n".join(texts)))


def _takes_probabilities(cls: type) -> bool:
    """A loss that clips its input into (0, 1) and takes no exponential: it is given
    probabilities (NNFS's `Loss_CategoricalCrossentropy`), not scores."""
    text = _loss_sources(cls)
    return "clip(" in text and "exp(" not in text


def _is_binary_loss(cls: type) -> bool:
    """A sigmoid / binary cross-entropy loss, by its name or the sigmoid in its forward."""
    name = cls.__name__.lower()
    return any(word in name for word in ("sigmoid", "binary", "bce", "logistic")) or "1 + np.exp(-" in _loss_sources(cls)


def _returns_scalar(layer: Any, rng: np.random.Generator, train: bool) -> bool:
    """Whether forward(x, t) gives one number, as a loss layer's does (MulLayer's does not)."""
    scores = rng.standard_normal((3, CLASSES))
    for t in _targets(3, CLASSES, rng):
        out = _trial(lambda t=t: ClassLayer(copy.deepcopy(layer), train=train).forward(scores.copy(), t))
        if out is not None:
            return bool(np.size(out) == 1)
    return True  # it raises (or returns nothing) either way: let the engine report it


def _index_candidates(layer: Any, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Integer inputs for layers that look rows up (an Embedding's `W[idx]`)."""
    tables = [v for v in vars(layer).values() if is_float_array(v) and v.ndim == 2]
    params = getattr(layer, "params", None)
    if isinstance(params, list):
        tables += [p for p in params if is_float_array(p) and p.ndim == 2]
    for table in tables[:1]:
        yield rng.integers(0, table.shape[0], n)
        yield rng.integers(0, table.shape[0], (n, 3))


def _uses_batch_statistics(cls: type, train: bool) -> bool:
    name = cls.__name__.lower()
    return train and ("batchnorm" in name or "batch_norm" in name or "batchnormalization" in name)


# --------------------------------------------------------------------------- function pairs



def _pair_cases(base: str, forward: Callable, rng: np.random.Generator, batch: int) -> list[tuple[str, np.ndarray, list[Any]]]:
    names = list(inspect.signature(forward).parameters)[1:]
    low = base.lower()
    n = max(batch // 2, 2)
    cases: list[tuple[str, np.ndarray, list[Any]]] = []
    coursera = "hparameters" in [a.lower() for a in names] or (names and names[0] == "A_prev")
    if "conv" in low and coursera:  # the deep-learning course: channels last, W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C)
        for stride, pad in ((1, 1), (2, 0)):
            x = rng.standard_normal((n, 7, 7, 3))
            w, b = 0.3 * rng.standard_normal((3, 3, 3, 4)), 0.1 * rng.standard_normal((1, 1, 1, 4))
            cases.append((f"stride {stride}, pad {pad}, channels last", x, [w, b, {"stride": stride, "pad": pad}]))
        return cases
    if "pool" in low and coursera:
        for stride in (1, 2):
            x = rng.standard_normal((n, 6, 6, 3))
            window = "overlapping windows" if stride == 1 else "stride 2"
            cases.append((f"{window}, channels last", x, [{"f": 2, "stride": stride}]))
        return cases
    if "conv" in low:  # the parameter dicts carry both spellings of a key some copies renamed (`padding`, `pool_stride`)
        for stride, pad in ((1, 1), (2, 0)):
            x = rng.standard_normal((n, 3, 7, 7))
            w, b = 0.3 * rng.standard_normal((4, 3, 3, 3)), 0.1 * rng.standard_normal(4)
            cases.append((f"stride {stride}, pad {pad}", x, [w, b, {"stride": stride, "pad": pad, "padding": pad}]))
        return cases
    if "pool" in low:
        for stride in (1, 2):
            x = rng.standard_normal((n, 3, 6, 6))
            window = "overlapping windows" if stride == 1 else "stride 2"
            cases.append((window, x, [{"pool_height": 2, "pool_width": 2, "stride": stride, "pool_stride": stride}]))
        return cases
    recurrent = _recurrent_case(low, forward, rng, n)
    if recurrent is not None:
        return recurrent
    if "temporal" in low and [a.lower() for a in names[:2]] in (["w", "b"], ["weight", "bias"]):
        x = rng.standard_normal((n, 4, 5))  # (N, T, D): one affine map applied at every time step
        return [(f"x {x.shape}", x, [0.3 * rng.standard_normal((5, 4)), 0.1 * rng.standard_normal(4)])]
    spatial = "spatial" in low
    x = rng.standard_normal((n, 3, 4, 4)) if spatial else rng.standard_normal((batch, 6))
    features = x.shape[1]
    args: list[Any] = []
    for name in names:
        lname = name.lower()
        if lname in ("w", "weight", "weights"):
            args.append(0.3 * rng.standard_normal((int(np.prod(x.shape[1:])), 4)))
        elif lname in ("b", "bias"):
            args.append(0.1 * rng.standard_normal(4))
        elif lname == "gamma":
            args.append(1.0 + 0.1 * rng.standard_normal(features))
        elif lname == "beta":
            args.append(0.1 * rng.standard_normal(features))
        elif lname.endswith("_param") or lname.endswith("_params") or lname == "param":
            if "drop" in low:
                args.append({"p": 0.5, "mode": "train"})
            else:
                args.append({"mode": "train", "eps": 1e-5, "momentum": 0.9})
        else:
            inspected = inspect.signature(forward).parameters[name]
            if inspected.default is not inspect.Parameter.empty:
                break
            choice = _compared_string(forward, name)
            if choice is None:
                raise BuildError(f"cannot guess a value for `{name}` of {forward.__name__}")
            args.append(choice)  # `activation == "sigmoid"`: one of the modes the function tells apart
    cases.append((f"x {x.shape}", x, args))
    if "affine" in low and not spatial:
        x4 = rng.standard_normal((n, 2, 3, 1))
        cases.append((f"x {x4.shape} (reshaped to 2-D)", x4, args))
    return cases


def _compared_string(func: Callable, name: str) -> str | None:
    """The first string `func` compares its argument `name` with (`if activation == "sigmoid":`),
    a mode it tells apart; None when it compares it with none."""
    try:
        tree = ast.parse(_dedented(inspect.getsource(func)))
    except (TypeError, OSError, SyntaxError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            sides = [node.left, node.comparators[0]]
            if any(isinstance(n, ast.Name) and n.id == name for n in sides):
                literal = next((n.value for n in sides if isinstance(n, ast.Constant) and isinstance(n.value, str)), None)
                if literal is not None:
                    return literal
    return None


def _dedented(source: str) -> str:
    import textwrap

    return textwrap.dedent(source)


HIDDEN_STATES = ("prev_h", "h0", "h_prev", "prev_c", "c0", "c_prev")


def _recurrent_case(base: str, forward: Callable, rng: np.random.Generator, n: int) -> list[tuple[str, np.ndarray, list[Any]]] | None:
    """cs231n's recurrent pairs: `rnn_step_forward(x, prev_h, Wx, Wh, b)` on x (N, D),
    `rnn_forward(x, h0, Wx, Wh, b)` on a sequence x (N, T, D); an LSTM's weights hold its four
    gates side by side (`Wx (D, 4H)`), a GRU's three."""
    names = [p.lower() for p in list(inspect.signature(forward).parameters)[1:]]
    if not {"wx", "wh"} <= set(names):
        return None
    steps, features, hidden = 4, 5, 6
    gates = 4 if "lstm" in base else 3 if "gru" in base else 1
    sequence = "step" not in base and any(h in names for h in ("h0", "c0"))
    x = rng.standard_normal((n, steps, features) if sequence else (n, features))
    args: list[Any] = []
    for name in names:
        if name in HIDDEN_STATES:
            args.append(rng.standard_normal((n, hidden)))
        elif name == "wx":
            args.append(rng.standard_normal((features, gates * hidden)) / np.sqrt(features))
        elif name == "wh":
            args.append(rng.standard_normal((hidden, gates * hidden)) / np.sqrt(hidden))
        elif name in ("b", "bias", "bh", "b_h"):
            args.append(0.1 * rng.standard_normal(gates * hidden))
        else:
            return None
    return [(f"x {x.shape}, hidden state ({n}, {hidden})", x, args)]


def build_pair(forward: Callable, backward: Callable, rng: np.random.Generator, batch: int = 5) -> list[tuple[str, np.ndarray, list[Any]]]:
    base = forward.__name__.split("_forward")[0]
    working = []
    raised: list[BaseException] = []
    for label, x, args in column_pairs.cases(forward, rng) or _pair_cases(base, forward, rng, batch):
        result, error = _outcome(lambda x=x, args=args: forward(x.copy(), *copy.deepcopy(args)))
        if error is not None:
            raised.append(error)
        if two_outputs(result) is not None:  # an LSTM step: (next_h, next_c, cache)
            working.append((label, x, args))
            continue
        if isinstance(result, np.ndarray) and result.shape == x.shape and len(required_positional(backward)) == 2:
            working.append((label, x, args))  # `relu(Z) -> A` with `relu_backward(dA, Z)`: the cache is Z or A
            continue
        if isinstance(result, tuple) and len(result) == 2:
            working.append((label, x, args))
            error = _trial_error_of(lambda result=result: backward(np.ones_like(result[0]), copy.deepcopy(result[1])))
            if error is not None and (missing := unimportable_name(error)):
                raise Unsupported(f"{backward.__name__} uses `{missing}`, {unimportable_reason(error, missing)}")
    if not working:
        raise _not_run(forward, raised)
    return working


def _not_run(forward: Callable, errors: list[BaseException]) -> BuildError:
    """Why no synthesized input ran through `forward`, naming what it raised at the user's line: a
    `UserCodeRaised` when no argument explains the error (a shape from Python 2's `/`, a misspelled
    name), `Unsupported` when a name its imports were meant to give is missing here."""
    from backprop_doctor import locate

    if not errors:
        return BuildError(f"no synthesized input runs through {forward.__name__}")
    error = next((e for e in errors if _no_argument_explains(e) and _user_line(e).line is not None), errors[0])
    if (missing := unimportable_name(error)) is not None:
        return Unsupported(f"{forward.__name__} uses `{missing}`, {unimportable_reason(error, missing)}")
    if (module := locate.standin_behind(error)) is not None:
        return StandInRaised(locate.standin_reason(forward.__name__, error, module), module, error)
    where = _user_line(error)
    at = f" at line {where.line}" + ("" if where.file == _file_of(forward) else f" of {os.path.basename(where.file)}") if where.line else ""
    return _raised(f"no synthesized input runs through {forward.__name__}: it raised {locate.describe(error)}{at}", error)


def _file_of(func: Callable) -> str | None:
    """The file `func` is defined in, or None."""
    try:
        return inspect.getsourcefile(func)
    except (TypeError, OSError):
        return None


# Networks are built in `network_build`; their names stay importable from here.
from backprop_doctor.network_build import build_network, network_inputs  # noqa: E402

__all__ = ["CLASSES", "Built", "BuildError", "UserCodeRaised", "build_layer", "build_network", "build_pair", "network_inputs"]
