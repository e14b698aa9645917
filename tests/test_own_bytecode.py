"""The tool compiles its own modules once, into its own folder, and nowhere else.

Children run with `PYTHONDONTWRITEBYTECODE=1` so that a user's imports never leave a
`__pycache__` beside their files; the parent compiles the tool's package beforehand so the
children do not compile it from source on every check.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_doctor.loading import bytecode


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a process that has compiled nothing yet."""
    monkeypatch.setattr(bytecode, "_DONE", type(bytecode._DONE)())
    monkeypatch.setattr(sys, "dont_write_bytecode", True)


def package(tmp_path: Path) -> Path:
    root = tmp_path / "tool"
    (root / "inner").mkdir(parents=True)
    (root / "__init__.py").write_text("", encoding="utf-8")
    (root / "engine.py").write_text("def step(x):\n    return 2 * x\n", encoding="utf-8")
    (root / "inner" / "__init__.py").write_text("# 内部\n", encoding="utf-8")
    return root


def cached(source: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(source)))


def test_the_package_is_compiled_into_its_own_pycache_even_when_bytecode_writing_is_off(fresh: None, tmp_path: Path) -> None:
    root = package(tmp_path)
    assert bytecode.compile_package(str(root)) is True
    for source in (root / "__init__.py", root / "engine.py", root / "inner" / "__init__.py"):
        assert cached(source).is_file(), source
    outside = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if "tool" not in p.parts)
    assert outside == []


def test_it_compiles_once_per_process(fresh: None, tmp_path: Path) -> None:
    first, second = package(tmp_path / "a"), package(tmp_path / "b")
    bytecode.compile_package(str(first))
    bytecode.compile_package(str(second))
    assert cached(first / "engine.py").is_file()
    assert not cached(second / "engine.py").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a folder the user cannot write")
def test_a_read_only_install_is_left_alone_without_an_error(fresh: None, tmp_path: Path) -> None:
    root = package(tmp_path)
    for folder in (root, root / "inner"):
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert bytecode.compile_package(str(root)) is False
    finally:
        for folder in (root, root / "inner"):
            folder.chmod(stat.S_IRWXU)
    assert not (root / "__pycache__").exists()


def test_a_check_leaves_no_bytecode_beside_the_users_files(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("import numpy as np\n\ndef double(x):\n    return 2 * x\n", encoding="utf-8")
    user = tmp_path / "net.py"
    user.write_text(
        "import numpy as np\nfrom helpers import double\n\n\nclass Scale:\n"
        "    def forward(self, x):\n        return double(x)\n\n    def backward(self, dout):\n        return 2 * dout\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-m", "backprop_doctor", "check", str(user), "--no-training"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helpers.py", "net.py"]
