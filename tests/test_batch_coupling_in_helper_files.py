"""batch-coupling when the reduction that mixes the samples runs in a helper, in the same file or another.

A forward that calls `center(x)` from `helpers.py` and `scale(x)` of its own file is coupled
by both; the finding lists both reductions, points at the first, and highlights only lines of
the file it points at. A forward with a reduction of its own is pointed at that one alone, even
when a helper it calls (in another file, at a line number inside forward's span) reduces too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file

HELPERS = """\
import numpy as np


def center(x):
    return x - x.mean()
"""

CENTERED = """\
import numpy as np
from helpers import center


def scale(x):
    return x / x.std()


class Centered:
    def forward(self, x):
        return 2.0 * center(scale(x))

    def backward(self, dout):
        return 2.0 * dout
"""

BOTH = """\
import numpy as np
from helpers import center

class Both:
    def forward(self, x):
        y = center(x)
        return y - y.mean(axis=0)

    def backward(self, dout):
        return dout
"""


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ in ("StubModule",) or name == "helpers":
            del sys.modules[name]


def coupled(tmp_path: Path, text: str):
    (tmp_path / "helpers.py").write_text(HELPERS, encoding="utf-8")
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    [finding] = check_file(path, Options(training=False)).by_name("batch-coupling")
    return finding


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_reductions_in_helpers_of_two_files_are_all_listed_and_only_its_own_files_lines_highlighted(tmp_path):
    finding = coupled(tmp_path, CENTERED)
    own, other = line_of(CENTERED, "return x / x.std()"), line_of(HELPERS, "return x - x.mean()")
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("Centered", str(tmp_path / "net.py"), own, (own,))
    assert finding.column == CENTERED.splitlines()[own - 1].index("x.std()") + 1
    assert f"`Centered.forward` mixes the samples of a batch (line {own}): `x.std()` reduces over the whole batch" in finding.message
    assert dict(finding.evidence)["reductions"] == (
        f"line {own}: `x.std()` reduces over the whole batch (no axis)\n"
        f"line {other}: `x.mean()` reduces over the whole batch (no axis)"
    )
    assert finding.fix == "return x - x.mean(axis=1, keepdims=True)\nreturn x / x.std(axis=1, keepdims=True)"


def test_a_reduction_in_forward_itself_is_the_one_shown_not_a_helpers_in_another_file(tmp_path):
    finding = coupled(tmp_path, BOTH)
    line = line_of(BOTH, "return y - y.mean(axis=0)")
    assert line_of(BOTH, "def forward") <= line_of(HELPERS, "x.mean()") <= line  # the helper's line falls inside forward
    assert (finding.file, finding.line, finding.highlight) == (str(tmp_path / "net.py"), line, (line,))
    assert dict(finding.evidence)["reductions"] == f"line {line}: `y.mean(axis=0)` reduces over axis 0, the batch axis"
    assert finding.fix == "return y - y.mean(axis=1, keepdims=True)"
