"""Stand-ins for modules the user's code imports but this machine does not have.

`from dataset.mnist import load_mnist` is the first line of half the files
people ask about, and the data set is nowhere near. The layers do not need it,
so `StubFinder`, installed last on `sys.meta_path`, answers for a module no
other finder can find with a `StubModule` whose every attribute is a `Stub`:
a callable that returns itself, works as a decorator (`@jit` returns the
function), as a base class, and iterates as empty.

A top-level package that nothing on `sys.path` has but a folder a few levels
above the user's holds (the project's `common/`, see `ancestor_with_package`)
is imported from there before any stand-in is made.

It answers only for imports made by the user's own code (the user's file and
files next to it or in its parent folder, outside any installed package), and
not for an import written inside `try: ... except ImportError:`, because that
code wants the ImportError (except cs231n's unbuilt `im2col_cython`, which has
a complete NumPy stand-in, see `im2col`). Libraries probing for optional dependencies keep
getting ImportError. A module that exists but fails to import is never
stubbed: that is the user's load error. Every stubbed module is recorded with
the file and line of the import, for the `missing-module` finding.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import linecache
import os
import re
import site
import sys
import sysconfig
import traceback
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backprop_doctor.loading import im2col, past_builtins
from backprop_doctor.static.imports import ancestor_with_package, flattened_module_fits, guarded_import_lines, guarded_lines_of, star_imported

if TYPE_CHECKING:
    import ast

_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)
_IMPORT_MACHINERY = (os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep, _HERE + os.sep)


@dataclass(frozen=True)
class StubRecord:
    module: str  # "dataset.mnist"
    file: str | None  # the file that imported it
    line: int | None  # the line of the import statement


class Stub:
    """Stands for anything reached through a missing module."""

    __slots__ = ("_bpd_name",)

    def __init__(self, name: str):
        object.__setattr__(self, "_bpd_name", name)

    def __getattr__(self, attr: str) -> Any:
        if (attr.startswith("__") and attr.endswith("__")) or attr == "_bpd_name":
            raise AttributeError(attr)  # `_bpd_name` unset: never look it up through itself
        return _attribute(f"{self._bpd_name}.{attr}")

    def __setattr__(self, attr: str, value: Any) -> None:
        pass

    def __copy__(self) -> Stub:
        return self  # inert: a copy of the network that holds it may share it

    def __deepcopy__(self, memo: dict[int, Any]) -> Stub:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and (inspect.isroutine(args[0]) or isinstance(args[0], type)):
            return args[0]  # used as a decorator: keep what it decorates
        return self

    def __getitem__(self, key: Any) -> Stub:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        pass  # `cvxopt.solvers.options['show_progress'] = False`: a setting of the missing module, ignored

    def __iter__(self) -> Any:
        return iter(())

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (stub_class(self._bpd_name),)

    def __instancecheck__(self, instance: Any) -> bool:
        """`isinstance(layer, Dropout)` with `Dropout` from a missing module: true of the user's own classes
        derived from it alone (`class MyDropout(Dropout)`), as of the class it stands for."""
        return isinstance(instance, stub_class(self._bpd_name))

    def __subclasscheck__(self, subclass: Any) -> bool:
        return isinstance(subclass, type) and issubclass(subclass, stub_class(self._bpd_name))

    def __repr__(self) -> str:
        return f"<missing {self._bpd_name}>"


_STUB_CLASSES: dict[str, type] = {}


def stub_class(name: str) -> type:
    """An empty class standing for `name`, so `class Net(missing.Module):` still defines Net."""
    if name not in _STUB_CLASSES:
        module, _, short = name.rpartition(".")
        _STUB_CLASSES[name] = type(short or name, (), {"__module__": module or name, "__doc__": f"stand-in for {name}"})
    return _STUB_CLASSES[name]


class StubModule(types.ModuleType):
    """A missing module (always a package, so its submodules can be imported too)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _attribute(f"{self.__name__}.{attr}")


def _attribute(qualified: str) -> Any:
    """A data loader's synthetic stand-in (see `datasets`), `subplots` of a missing plotting library,
    else an inert `Stub`."""
    from backprop_doctor.loading.datasets import standin

    if qualified.endswith("pyplot.subplots"):
        return _subplots
    return standin(qualified) or Stub(qualified)


def _subplots(nrows: Any = 1, ncols: Any = 1, *_: Any, squeeze: Any = True, **__: Any) -> tuple[Stub, Any]:
    """`fig, ax = plt.subplots(2, 5)`: a figure and its axes, all inert, so the unpacking holds; the
    axes laid out as pyplot lays them (`fig, (ax1, ax2, ax3) = plt.subplots(1, 3)`): one axes for a
    1 x 1 grid, a row of them when one side is 1, else a grid, unless `squeeze=False`."""
    import numpy as np

    rows, columns = (n if isinstance(n, int) and 0 < n <= 100 else 1 for n in (nrows, ncols))
    grid = np.empty((rows, columns), dtype=object)
    for index in np.ndindex(grid.shape):
        grid[index] = Stub("matplotlib.axes.Axes")
    if squeeze:
        grid = grid[0, 0] if grid.size == 1 else grid.ravel() if 1 in grid.shape else grid
    return Stub("matplotlib.figure.Figure"), grid


class _Renamed(importlib.abc.Loader):
    """Loads a Python 2 module Python 3 renamed (`cPickle`) as its namesake (`past_builtins.renamed_module`)."""

    def __init__(self, module: types.ModuleType):
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The last finder on `sys.meta_path`: a stub for a missing module the user's code imports."""

    def __init__(self, user_file: str, roots: Sequence[str], trees: dict[str, ast.Module] | None = None):
        self.user_file = os.path.realpath(user_file)
        self.roots = tuple(os.path.realpath(r) for r in roots)
        self.records: list[StubRecord] = []
        self._trees = dict(trees or {})
        self._guarded: dict[str, frozenset[int]] = {}
        self._library = _library_dirs()
        self._ancestors: list[str] = []  # folders above the user's that held a package it imports

    # -- finder
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        frame = _importing_frame()
        if frame is None:
            return None
        filename = os.path.realpath(frame.f_code.co_filename)
        if not self.is_user_file(filename):
            return None
        if frame.f_lineno in self._guarded_lines(filename) and not im2col.stands_for(fullname):
            return None
        if path is None:
            found = self._from_user_folder(fullname) or self._from_ancestor_folder(fullname)
            if found is not None:
                from backprop_doctor.loading.python2_imports import adopted

                return adopted(found)  # a module of the user's written in Python 2 is read as Python 3 too
        flattened = self._flattened(fullname, path, filename, frame.f_lineno)
        if flattened is not None:
            from backprop_doctor.loading.python2_imports import adopted

            site = (frame.f_code.co_filename, frame.f_lineno)  # its packages' stand-ins are no missing module of that import
            self.records = [r for r in self.records if not ((r.file, r.line) == site and fullname.startswith(r.module + "."))]
            return adopted(flattened)
        self.records.append(StubRecord(fullname, frame.f_code.co_filename, frame.f_lineno))
        renamed = past_builtins.renamed_module(fullname)
        if renamed is not None:  # `import cPickle`: Python 2's name of `pickle`, which is here
            return importlib.machinery.ModuleSpec(fullname, _Renamed(renamed))
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    # -- loader
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = StubModule(spec.name)
        module.__path__ = []
        module.__file__ = None
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # `from rnn_utils import *` copies only what the module holds: put the stand-ins there
        from backprop_doctor.loading.datasets import star_names

        for name in star_names(module.__name__):
            setattr(module, name, _attribute(f"{module.__name__}.{name}"))

    # -- helpers
    def _from_user_folder(self, fullname: str) -> importlib.machinery.ModuleSpec | None:
        """The module a relative `sys.path` entry finds from the user's own folder.

        `sys.path.append("../..")` is written for a script run from its own folder;
        the program runs elsewhere (the sandbox's folder), where that entry finds
        nothing. A module found there is the user's, not a missing one.
        """
        folders = [f for f in self._relative_folders() if f not in sys.path]
        if not folders:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, folders)

    def _from_ancestor_folder(self, fullname: str) -> importlib.machinery.ModuleSpec | None:
        """The package a folder above the user's holds (a few levels up, see `ancestor_with_package`),
        when nothing on `sys.path` has it: `common.layers` of the project's root, imported by
        `sample/second/ch01/two_layer_net.py` with or without `sys.path.append("..")`."""
        root = ancestor_with_package(os.path.dirname(self.user_file), fullname)
        if root is None or root in sys.path:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, [root])
        if spec is not None and os.path.realpath(root) not in self._ancestors:
            self._ancestors.append(os.path.realpath(root))  # its modules are the user's (their own imports get stand-ins)
        return spec

    def _flattened(self, fullname: str, path: Any, filename: str, line: int) -> importlib.machinery.ModuleSpec | None:
        """The file beside the importing one that a missing package's module is named after, when the
        user keeps the course's package flattened in one folder: `from cs231n.classifiers.linear_svm
        import *` in `assignment1/linear_classifier.py`, with `assignment1/linear_svm.py` there. Only
        inside a package that is a stand-in (nothing else has it), and only a file that defines what
        the statement imports (`static.imports.flattened_module_fits`), so a script that happens to
        share the name is never run in its place."""
        parent = sys.modules.get(fullname.rpartition(".")[0])
        if path is None or "." not in fullname or not isinstance(parent, StubModule):
            return None
        sibling = os.path.join(os.path.dirname(filename), fullname.rpartition(".")[2] + ".py")
        if os.path.realpath(sibling) in (filename, self.user_file) or not os.path.isfile(sibling):
            return None
        if not flattened_module_fits(self._trees.get(filename), filename, line, fullname, sibling):
            return None
        return importlib.util.spec_from_file_location(fullname, sibling)

    def _relative_folders(self) -> list[str]:
        """The folders that the relative `sys.path` entries name, taken from the user's own folder, else
        from the nearest of the two folders above it that has them: `sys.path.append('mytorch')` in a
        course handout's `hw2/hw2.py`, written to be run from the handout's root, which holds `mytorch/`."""
        base = os.path.dirname(self.user_file)
        relative = [p for p in sys.path if isinstance(p, str) and p and not os.path.isabs(p) and p not in (".", os.curdir)]
        folders = []
        for p in relative:
            for start in (base, os.path.dirname(base), os.path.dirname(os.path.dirname(base))):
                folder = os.path.normpath(os.path.join(start, p))
                if os.path.isdir(folder):
                    folders.append(folder)
                    break
        return list(dict.fromkeys(folders))

    def is_user_file(self, filename: str) -> bool:
        if filename == self.user_file:
            return True
        if not os.path.isabs(filename) or filename.startswith(self._library):
            return False
        parts = filename.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            return False
        # the project's other folders too, when the file reaches them with `sys.path.append("../..")`:
        # `models/vgg.py` there imports `common.layers` from the same project
        roots = (*self.roots, *(os.path.realpath(f) for f in self._relative_folders()), *self._ancestors)
        return any(filename.startswith(root + os.sep) for root in roots)

    def _guarded_lines(self, filename: str) -> frozenset[int]:
        if filename not in self._guarded:
            tree = self._trees.get(filename)
            self._guarded[filename] = guarded_lines_of(filename) if tree is None else guarded_import_lines(tree)
        return self._guarded[filename]

    def missing(self) -> list[StubRecord]:
        """One record per import statement, naming the deepest module it needed."""
        by_site: dict[tuple[str | None, int | None], StubRecord] = {}
        for record in self.records:
            where = (record.file, record.line)
            if where not in by_site or len(record.module) > len(by_site[where].module):
                by_site[where] = record
        return list(by_site.values())


def install(user_file: str, roots: Sequence[str], trees: dict[str, ast.Module] | None = None) -> StubFinder:
    """Put a fresh `StubFinder` last on `sys.meta_path` (replacing an earlier one)."""
    uninstall()
    finder = StubFinder(user_file, roots, trees)
    sys.meta_path.append(finder)
    return finder


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, StubFinder)]


def is_stub(value: Any) -> bool:
    return isinstance(value, (Stub, StubModule)) or value in _STUB_CLASSES.values()


def standin_behind(error: BaseException) -> str | None:
    """The missing module whose stand-in made the user's code raise `error`, or None when the error is
    the code's own: a NameError for a name the module's `from missing import *` would have given it
    (`np` of `from common.layers import *`), or an error a `Stub` took part in (`im2col(x) * 0.5` with
    `im2col` from a missing module: "unsupported operand type(s) for *: 'Stub' and 'float'")."""
    steps = list(traceback.walk_tb(error.__traceback__))
    frames = [frame for frame, _ in steps]
    if isinstance(error, NameError) and not isinstance(error, UnboundLocalError) and getattr(error, "name", None):
        for frame in reversed(frames):
            module = _starred_standin(frame)
            if module is not None and error.name not in frame.f_globals:
                return module
        return None
    if isinstance(error, AttributeError) and (based := _standin_base(error, frames)) is not None:
        return based
    if "'Stub'" not in str(error) and "<missing " not in str(error):
        return None
    for frame, line in reversed(steps):  # a stand-in named on the line that raised: `im2col(x) * 0.5`
        text = linecache.getline(frame.f_code.co_filename, line)
        for name, value in {**frame.f_globals, **frame.f_locals}.items():
            module = _standin_module(value)
            if module and re.search(rf"\b{re.escape(name)}\b", text):
                return module
    for frame in reversed(frames):  # else one the function holds (`self.col = im2col(x)` an attribute away)
        found = next((m for m in map(_standin_module, frame.f_locals.values()) if m), None)
        if found is not None:
            return found
    return next((name for name, module in list(sys.modules.items()) if isinstance(module, StubModule)), None)  # a `Stub` took part


def _standin_base(error: AttributeError, frames: list[types.FrameType]) -> str | None:
    """The missing module of a stand-in base class of the object an attribute is missing from
    (`class AttentionEncoder(Encoder)` with `Encoder` from a missing module, whose `__init__` would
    have set `self.embed`): the error is the stand-in's, not the subclass's."""
    owner = getattr(error, "obj", None)
    if owner is None:  # before Python 3.10 the object is not on the error: the frame's `self`
        owner = next((f.f_locals["self"] for f in reversed(frames) if "self" in f.f_locals), None)
    if owner is None or isinstance(owner, (Stub, StubModule)):
        return None
    for base in type(owner).__mro__[1:]:
        if base in _STUB_CLASSES.values():
            return base.__module__
    return None


def _starred_standin(frame: types.FrameType) -> str | None:
    """The stand-in module the module of `frame` star-imports (`from common.layers import *`), if any."""
    from backprop_doctor.static.files import source_tree

    filename = frame.f_code.co_filename
    if filename.startswith("<"):
        return None
    return next((m for m in star_imported(source_tree(filename)[1]) if isinstance(sys.modules.get(m), StubModule)), None)


def _standin_module(value: Any) -> str | None:
    """The missing module `value` stands for or came from: `convertions` of the `Stub` `convertions.im2col`."""
    if isinstance(value, StubModule):
        dotted = value.__name__
    elif isinstance(value, Stub):
        dotted = object.__getattribute__(value, "_bpd_name")
    else:
        return None
    parts = dotted.split(".")
    return next((m for m in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if isinstance(sys.modules.get(m), StubModule)), None)


def _importing_frame() -> types.FrameType | None:
    """The frame that executed the import statement (or called `importlib.import_module`).

    None when the import machinery was only asked whether the module exists
    (`importlib.util.find_spec`): code that asks wants the honest answer.
    """
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if not (filename.startswith("<frozen") or os.path.abspath(filename).startswith(_IMPORT_MACHINERY)):
            return frame
        if code.co_name == "find_spec" and filename.endswith(("importlib.util>", os.sep + "util.py")):
            return None
        frame = frame.f_back
    return None


def _library_dirs() -> tuple[str, ...]:
    """Folders of the interpreter, its standard library, installed packages and backprop-doctor."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, _PACKAGE}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            dirs.add(sysconfig.get_path(key))
        except KeyError:
            pass
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:
        pass
    user_site = getattr(site, "USER_SITE", None)
    if user_site:
        dirs.add(user_site)
    real = {os.path.realpath(d) for d in dirs if d}
    return tuple(sorted(d + os.sep for d in real if os.path.dirname(d) != d))  # never the root folder
