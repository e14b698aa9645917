"""Read a user's file safely and run its definitions.

    source.py       bytes -> text -> parsed tree; pasted characters, encodings, syntax errors
    notebook.py     IPython commands of a notebook saved as a script, read as comments
    definitions.py  which statements run: definitions only, or the module without its main block
    stubs.py        stand-ins for modules the file imports but this machine lacks
    python2_imports.py  the user's own Python 2 modules, imported as their Python 3 reading
    past_builtins.py  Python 2's names and meanings: `xrange`, `cPickle` as `pickle`, and `zip`/`map`/
                    `filter`/`range` returning lists in a file that is Python 2 code
    datasets.py     synthetic data for missing data loaders and data files (MNIST, CIFAR-10 batches,
                    word vectors a line a word, a char-RNN's text)
    im2col.py, learn.py, progress.py  stand-ins that work: cs231n's unbuilt Cython extension,
                    scikit-learn's helpers, tqdm and progressbar
    numpy_compat.py, python_compat.py  names NumPy and Python removed (`np.float`, `time.clock`), put back
    siblings.py     the forward half of a backward function, from the file named after it beside it
                    (a `_with_<x>` variant's plain forward from the helper module beside it)
    package.py      the package a file belongs to, and its root first on `sys.path`
    namespace.py    run the definitions as module `__bpd_user__` in this process
    child.py        run a whole check in a child process with a time limit
    worker.py       the child's entry point
    forkserver.py   warm workers for runs of several files: children forked from one server

`load_file` is the loading stage of the pipeline (in the child process);
`run_isolated` is how the parent starts that child.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from backprop_doctor.context import SourceFile
from backprop_doctor.findings import Finding, Report
from backprop_doctor.options import Options

__all__ = ["Loaded", "load_file", "load_report", "read_source", "load_namespace", "run_isolated"]


@dataclass
class Loaded:
    """What the loading stage hands to discovery."""

    source: SourceFile
    namespace: dict[str, Any] | None  # None when the file does not parse
    findings: list[Finding] = field(default_factory=list)
    output: str = ""  # what the user's code printed while it was loaded (the tail of it)


def load_file(path: str | os.PathLike[str], options: Options) -> Loaded:
    """Read, normalise, parse and run the definitions of `path` in this process."""
    from backprop_doctor.loading.namespace import OutputTail, load_namespace
    from backprop_doctor.loading.source import read_source

    source, findings = read_source(path)
    if source.tree is None:
        return Loaded(source, None, findings)
    output = OutputTail()
    namespace, more = load_namespace(source, options.exec_module, output=output)
    return Loaded(source, namespace, findings + more, output.getvalue())


def load_report(path: str, options: Options) -> Report:
    """Only the loading stage, as a report (a `run_isolated` target for tests and debugging)."""
    loaded = load_file(path, options)
    report = Report(findings=list(loaded.findings), seed=options.seed, file=path)
    if loaded.namespace is not None:
        names = sorted(k for k in loaded.namespace if not k.startswith("__"))
        report.extras["names"] = names
    if loaded.output:
        report.extras["load_output"] = loaded.output
    return report


def __getattr__(name: str) -> Any:
    if name == "read_source":
        from backprop_doctor.loading.source import read_source

        return read_source
    if name == "load_namespace":
        from backprop_doctor.loading.namespace import load_namespace

        return load_namespace
    if name == "run_isolated":
        from backprop_doctor.loading.child import run_isolated

        return run_isolated
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
