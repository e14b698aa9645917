"""Misspelled special methods in classes: `__init`, `_init_`, `__inti__`..."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backprop_doctor.static.calls import Call, constructor_calls
from backprop_doctor.static.text import _Text, _source
from backprop_doctor.static.tree import FunctionNode, walk


_OPERATOR_CORES = "add sub mul matmul truediv floordiv div mod divmod pow lshift rshift and xor or".split()
_REAL_DUNDERS = frozenset(
    f"__{core}__"
    for core in (
        "new init del repr str bytes format lt le eq ne gt ge hash bool getattr getattribute setattr delattr "
        "dir get set delete set_name init_subclass class_getitem call len length_hint getitem setitem delitem "
        "missing iter next reversed contains neg pos abs invert complex int float index round trunc floor ceil "
        "enter exit aenter aexit await aiter anext copy deepcopy getstate setstate reduce reduce_ex getnewargs "
        "getnewargs_ex getinitargs sizeof subclasshook instancecheck subclasscheck prepare mro_entries fspath "
        "post_init buffer release_buffer array array_ufunc array_function array_finalize array_wrap "
        "array_prepare array_interface array_priority array_namespace dlpack dlpack_device "
        "nonzero unicode cmp coerce long oct hex getslice setslice delslice rich rich_repr rich_console "
        "html signature"
    ).split()
    + _OPERATOR_CORES
    + [f"r{c}" for c in _OPERATOR_CORES]
    + [f"i{c}" for c in _OPERATOR_CORES]
)
# Single-underscore hooks of Enum and IPython: real names, never typos.
_SUNDERS = frozenset(
    "_missing_ _generate_next_value_ _ignore_ _order_ _name_ _value_ _numeric_repr_ _add_alias_ "
    "_add_value_alias_ _repr_html_ _repr_markdown_ _repr_svg_ _repr_png_ _repr_jpeg_ _repr_latex_ "
    "_repr_json_ _repr_javascript_ _repr_pdf_ _repr_mimebundle_ _repr_pretty_ _ipython_display_ "
    "_ipython_key_completions_".split()
)
# The protocols a near miss is most likely meant for; fuzzy matches are only tried against these.
_INTENDED = (
    "__init__", "__call__", "__repr__", "__len__", "__getitem__", "__setitem__", "__iter__", "__str__",
    "__eq__", "__hash__", "__enter__", "__exit__", "__del__", "__new__", "__post_init__", "__next__",
    "__contains__",
)  # fmt: skip


@dataclass(frozen=True)
class Typo:
    """A method whose name is a near miss of a special method, so Python never calls it."""

    class_name: str
    method: str  # as written: "__init"
    intended: str  # "__init__"
    line: int  # the def line
    col: int  # 0-based column of the method name on that line
    consequence: str  # what goes wrong, in full sentences
    reason: str = ""  # "Python never calls `__init`"
    effect: str = ""  # the clause after "so": "`self.mask` is never initialised"
    attributes: tuple[str, ...] = ()  # the self attributes the method assigns
    parameters: tuple[str, ...] = ()  # its parameters after self
    failing_calls: tuple[Call, ...] = ()  # constructor calls in the file that raise TypeError because of it
    fix: str = ""  # the corrected def line: "def __init__(self):"

    @property
    def raises_type_error(self) -> bool:
        return bool(self.failing_calls)


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance counting a swap of two neighbours as one edit (`inti` -> `init`)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _intended_dunder(name: str) -> str | None:
    """The special method a name misspells, or None (`__init` -> `__init__`, `__inti__` -> `__init__`)."""
    if name in _REAL_DUNDERS:
        return None
    core = name.strip("_")
    leading = len(name) - len(name.lstrip("_"))
    trailing = len(name) - len(name.rstrip("_"))
    if not core or leading == 0 or (leading == 1 and trailing == 0) or name in _SUNDERS:
        return None  # `init_` avoids a keyword, `_init` is a private helper, `_missing_` is Enum's
    lowered = core.lower()
    ordered = list(_INTENDED)
    if (leading, trailing) != (1, 1):  # `_name_` is how Enum and IPython spell their own hooks
        ordered += sorted(_REAL_DUNDERS - set(_INTENDED))
    for real in ordered:
        if real[2:-2] == lowered:
            return real  # the right letters with the wrong underscores or case
    if leading == 0 or trailing == 0:
        return None  # a private `__name` is only taken as a typo when its letters match exactly
    best: tuple[int, str] | None = None
    for real in _INTENDED:
        wanted = real[2:-2]
        limit = 0 if len(wanted) <= 2 else 1 if len(wanted) <= 4 else 2
        distance = _edit_distance(lowered, wanted)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, real)
    return best[1] if best else None


def _self_attributes(method: FunctionNode) -> tuple[str, ...]:
    arguments = [*method.args.posonlyargs, *method.args.args]
    if not arguments:
        return ()
    this = arguments[0].arg
    found: dict[str, None] = {}
    for node in walk(method):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == this
        ):
            found.setdefault(node.attr)
    return tuple(found)


def _parameters_after_self(method: FunctionNode) -> tuple[str, ...]:
    args = method.args
    names = [a.arg for a in [*args.posonlyargs, *args.args][1:]]
    names += [f"*{args.vararg.arg}"] if args.vararg else []
    names += [a.arg for a in args.kwonlyargs]
    names += [f"**{args.kwarg.arg}"] if args.kwarg else []
    return tuple(names)


def _referenced_names(tree: ast.AST) -> set[str]:
    """Attribute names the file reads as the end of a path (`self.__init()`, `obj.init`), and string constants."""
    inner_values = {id(node.value) for node in walk(tree) if isinstance(node, ast.Attribute)}
    found = set()
    for node in walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and id(node) not in inner_values:
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return found


def _phrase(attributes: tuple[str, ...]) -> str:
    shown = [f"`self.{a}`" for a in attributes]
    if len(shown) > 4:
        shown = shown[:3] + [f"{len(shown) - 3} more attributes"]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _never(attributes: tuple[str, ...], verb: str) -> str:
    """"`self.W` and `self.b` are never set"."""
    return f"{_phrase(attributes)} {'is' if len(attributes) == 1 else 'are'} never {verb}"


_EFFECTS = {
    "__call__": "calling a `{C}` instance raises TypeError: '{C}' object is not callable",
    "__repr__": "repr() shows the default `<{C} object at 0x...>`",
    "__str__": "print() and str() show the default `<{C} object at 0x...>`",
    "__len__": "len() of a `{C}` raises TypeError: object of type '{C}' has no len()",
    "__getitem__": "indexing a `{C}` raises TypeError: '{C}' object is not subscriptable",
    "__setitem__": "assigning to an item of a `{C}` raises TypeError: '{C}' object does not support item assignment",
    "__iter__": "iterating over a `{C}` raises TypeError: '{C}' object is not iterable",
    "__next__": "next() on a `{C}` raises TypeError: '{C}' object is not an iterator",
    "__contains__": "`in` falls back to iterating over the `{C}` (or raises TypeError)",
    "__eq__": "== compares `{C}` objects by identity, not by value",
    "__hash__": "hash() of a `{C}` uses its identity",
    "__enter__": "`with {C}(...):` raises TypeError: '{C}' object does not support the context manager protocol",
    "__exit__": "`with {C}(...):` raises TypeError: '{C}' object does not support the context manager protocol",
    "__del__": "it never runs when a `{C}` is garbage-collected",
    "__new__": "it is never used to create `{C}` objects",
}


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for decorator in cls.decorator_list:
        node = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
        if name == "dataclass":
            return True
    return False


def _def_line_fix(method: FunctionNode, intended: str, src: _Text | None) -> tuple[str, int]:
    """(corrected def line, 0-based column of the method name)."""
    if src is not None:
        line = src.line(method.lineno)
        match = re.search(rf"\bdef\s+({re.escape(method.name)})(?!\w)", line)
        if match:
            fixed = line[: match.start(1)] + intended + line[match.end(1) :]
            return fixed.strip(), match.start(1)
    prefix = "async def" if isinstance(method, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(method.returns)}" if method.returns is not None else ""
    return f"{prefix} {intended}({ast.unparse(method.args)}){returns}:", method.col_offset + len(prefix) + 1


def special_method_typos(tree: ast.AST, *, text: str | None = None) -> list[Typo]:
    """Methods whose names are near misses of special methods, so Python never calls them.

    Caught: the right letters with the wrong underscores or case (`__init`,
    `_init_`, `__init_`, `_init__`, `___init__`, `__init___`, `__Init__`) for any
    special method (a single `_name_` only for the common ones below: Enum and
    IPython spell their own hooks that way, `_missing_`); small misspellings inside double underscores (`__inti__`,
    `__intit__`, `__ini__`, `__cal__`, `__get_item__`) of the common ones
    (`__init__`, `__call__`, `__len__`, `__getitem__`...); `__int__` (a real
    method, int conversion) when the class has no `__init__` and it takes
    arguments or sets attributes; and a method `init` that sets attributes in a
    class without `__init__` that nothing calls.  Real special methods, private
    helpers (`_init`), names the file calls or reads (`self.__init()`), and near
    misses in a class that also defines the intended method are never flagged.
    """
    src = _source(text)
    referenced = _referenced_names(tree)
    calls: dict[str, list[Call]] = {}
    found: list[Typo] = []
    for cls in (node for node in walk(tree) if isinstance(node, ast.ClassDef)):
        methods = [s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        defined = {m.name for m in methods}
        for method in methods:
            attributes = _self_attributes(method)
            parameters = _parameters_after_self(method)
            reason = f"Python never calls `{method.name}`"
            intended: str | None = None
            if method.name == "__int__":
                if "__init__" not in defined and (parameters or attributes):
                    intended = "__init__"
                    reason = "`__int__` is the int() conversion hook, not the constructor"
            elif method.name == "init":
                if "__init__" not in defined and attributes and "init" not in referenced:
                    intended = "__init__"
                    reason = "Python calls `__init__` when an object is created, never `init`"
            else:
                intended = _intended_dunder(method.name)
                # Python mangles `__name` inside its class, so only the class itself can call it.
                mangled = method.name.startswith("__") and not method.name.endswith("__")
                used = method.name in (_referenced_names(cls) if mangled else referenced)
                if intended is not None and (intended in defined or used):
                    intended = None
            if intended is None:
                continue
            if intended == "__init__" and not calls and isinstance(tree, ast.Module):
                calls = constructor_calls(tree) or {"": []}  # only needed to name the calls that raise
            found.append(_typo(cls, method, intended, reason, attributes, parameters, calls, src))
    return sorted(found, key=lambda t: (t.line, t.col))


def _typo(
    cls: ast.ClassDef,
    method: FunctionNode,
    intended: str,
    reason: str,
    attributes: tuple[str, ...],
    parameters: tuple[str, ...],
    calls: dict[str, list[Call]],
    src: _Text | None,
) -> Typo:
    name = cls.name
    fix, col = _def_line_fix(method, intended, src)
    bases = [b for b in cls.bases if not (isinstance(b, ast.Name) and b.id == "object")]
    failing: tuple[Call, ...] = ()
    if intended == "__init__":
        if bases:
            default = f"the `__init__` inherited from `{ast.unparse(bases[0])}` runs instead"
        elif _is_dataclass(cls):
            default = "the dataclass-generated `__init__` runs instead"
        else:
            default = "Python's default `__init__` runs instead"
            if "__new__" not in {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}:
                failing = tuple(c for c in calls.get(name, []) if c.args or c.kwargs)
        set_part = _never(attributes, "set") if attributes else "its body never runs"
        never = "runs only for int(obj)" if method.name == "__int__" else "is never called"
        consequence = f"`{name}.{method.name}` {never}, so {set_part} when `{name}()` is created; {default}."
        type_error = f"TypeError: {name}() takes no arguments"
        if failing:
            consequence += f" `{failing[0].source}` (line {failing[0].line}) raises {type_error}."
        elif parameters and not bases and not _is_dataclass(cls):
            consequence += f" Creating it with arguments, as in `{name}({', '.join(parameters)})`, raises {type_error}."
        effects = []
        if attributes:
            effects.append(_never(attributes, "initialised"))
        if failing:
            effects.append(f"`{failing[0].source}` (line {failing[0].line}) raises {type_error}")
        effect = " and ".join(effects) or f"its body never runs when `{name}()` is created"
    elif intended == "__post_init__":
        set_part = _never(attributes, "set") if attributes else "its body never runs"
        effect = set_part
        consequence = (
            f"`{name}.{method.name}` is never called: a dataclass calls only `__post_init__` after `__init__`, "
            f"so {set_part}."
        )
    else:
        effect = _EFFECTS.get(intended, f"Python never uses it for `{intended}`").format(C=name)
        consequence = f"`{name}.{method.name}` is never called by Python, so {effect}."
    return Typo(
        class_name=name,
        method=method.name,
        intended=intended,
        line=method.lineno,
        col=col,
        consequence=consequence,
        reason=reason,
        effect=effect,
        attributes=attributes,
        parameters=parameters,
        failing_calls=failing,
        fix=fix,
    )
