"""What a folder's file costs a forked child of its own: no file beside it parsed that cannot import
the module looked at, and the tool's start-up not made again in a process that has made it."""

from __future__ import annotations

import ast
import linecache
import pkgutil
import textwrap

import pytest

from backprop_doctor.loading import worker
from backprop_doctor.static import files
from backprop_doctor.static.importers import importer_trees

HELPER = """
import numpy as np

def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""

# two ways of importing the helper, each read as an importer
FROM_IMPORT = """
from utils import softmax

def predict(W, x):
    return softmax(W @ x)
"""

MODULE_IMPORT = """
import utils as u

def predict(W, x):
    return u.softmax(W @ x)
"""

# a file that never names the helper module: nothing in it can import it
UNRELATED = """
import numpy as np

def relu(x):
    return np.maximum(x, 0)
"""


@pytest.fixture
def parsed(monkeypatch):
    """The files `ast.parse` read, by their text."""
    seen: list[str] = []
    real = ast.parse

    def counting(source, *args, **kwargs):
        seen.append(source if isinstance(source, str) else "")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return seen


@pytest.mark.parametrize("importer", [FROM_IMPORT, MODULE_IMPORT], ids=["from-import", "module-import"])
def test_a_file_that_never_names_the_module_is_not_parsed(tmp_path, parsed, importer):
    (tmp_path / "utils.py").write_text(textwrap.dedent(HELPER))
    (tmp_path / "model.py").write_text(textwrap.dedent(importer))
    (tmp_path / "other.py").write_text(textwrap.dedent(UNRELATED))
    linecache.checkcache()
    found = importer_trees(str(tmp_path / "utils.py"), "softmax")
    assert len(found) == 1 and any(isinstance(n, ast.FunctionDef) and n.name == "predict" for n in found[0].body)
    assert not any("relu" in text for text in parsed)  # other.py: read, never parsed
    files._TREES.pop(str(tmp_path / "model.py"), None)


def test_an_unrelated_folder_gives_no_importer_and_no_parse(tmp_path, parsed):
    (tmp_path / "utils.py").write_text(textwrap.dedent(HELPER))
    for i in range(5):
        (tmp_path / f"other{i}.py").write_text(textwrap.dedent(UNRELATED))
    linecache.checkcache()
    assert importer_trees(str(tmp_path / "utils.py"), "softmax") == []
    assert parsed == []


def test_the_preload_is_made_once_per_process(monkeypatch):
    """A fork server's child inherits everything `_preload` imported: it does not walk the package again."""
    worker._preload()
    walks: list[object] = []
    real = pkgutil.walk_packages

    def counting(*args, **kwargs):
        walks.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pkgutil, "walk_packages", counting)
    worker._preload()
    assert walks == []
