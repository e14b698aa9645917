"""misspelled-method and imported-not-checked, checked in this process (issue 15, twelfth round): each
misspelled method of a layer is a warning at its line with its class and both names; classes a network
imports and never builds are listed with the file to check them in. The files are `test_conventions.py`'s."""

from __future__ import annotations

import os
import textwrap

from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_conventions import CASES, LAYERS_MODULE, NETWORK_USING_SOME

from backprop_doctor.options import Options
from backprop_doctor.pipeline import check_file


def test_each_misspelled_method_is_a_warning_at_its_line_and_the_layer_is_still_checked(tmp_path):
    path, findings = checked(tmp_path, "misspelled_ok.py", (CASES / "misspelled_ok.py").read_text(encoding="utf-8"))
    found = sorted(((f.line, f.layer, f.message, f.highlight, f.severity, f.file) for f in findings if f.name == "misspelled-method"))
    foward, backword, backwards = line_of(path, "def foward("), line_of(path, "def backword("), line_of(path, "def backwards(")
    assert found == [
        (foward, "Sigmoid", f"`Sigmoid.foward` is a misspelled `forward` (line {foward}): rename it to `forward`; code that calls "
         "`layer.forward(...)` raises AttributeError. It was checked under the name `foward`.", (foward,), "warning", str(path)),
        (backword, "Sigmoid", f"`Sigmoid.backword` is a misspelled `backward` (line {backword}): rename it to `backward`; code that "
         "calls `layer.backward(...)` raises AttributeError. It was checked under the name `backword`.", (backword,), "warning", str(path)),
        (backwards, "Linear", f"`Linear.backwards` is a misspelled `backward` (line {backwards}): rename it to `backward`; code that "
         "calls `layer.backward(...)` raises AttributeError. It was checked under the name `backwards`.", (backwards,), "warning", str(path)),
    ]
    assert [f for f in findings if f.severity == "error"] == []


def test_classes_imported_and_never_built_are_listed_with_the_file_that_defines_them(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "common" / "layers.py").write_text(textwrap.dedent(LAYERS_MODULE), encoding="utf-8")
    path = tmp_path / "two_layer_net.py"
    path.write_text(textwrap.dedent(NETWORK_USING_SOME), encoding="utf-8")
    report = check_file(path, Options(training=False))
    (note,) = [f for f in report.findings if f.name == "imported-not-checked"]
    assert note.message == f"imported, not checked: Convolution, Pooling — run backprop-doctor {os.path.join('common', 'layers.py')}"
    assert (note.severity, note.file, note.line) == ("info", str(path), None)
    assert report.extras["imported_not_checked"] == ["Convolution", "Pooling"]  # the JSON report's extras


SCALE = """\
import numpy as np


class Scale:
    def forward(self, x):
        return 2.0 * x

    def backward(self, dout):
        return 2.0 * dout
"""


def test_classes_imported_from_two_files_name_both_files(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "common" / "layers.py").write_text(textwrap.dedent(LAYERS_MODULE), encoding="utf-8")
    (tmp_path / "common" / "more.py").write_text(SCALE, encoding="utf-8")
    text = textwrap.dedent(NETWORK_USING_SOME).replace("from common.layers import *\n", "from common.layers import *\nfrom common.more import Scale\n", 1)
    _, findings = checked(tmp_path, "two_layer_net.py", text)
    (note,) = [f for f in findings if f.name == "imported-not-checked"]
    assert note.message == (
        f"imported, not checked: Convolution, Pooling, Scale — run backprop-doctor {os.path.join('common', 'layers.py')} "
        f"and backprop-doctor {os.path.join('common', 'more.py')}"
    )


def test_a_file_importing_nothing_unchecked_or_not_parsing_gets_no_such_note(tmp_path):
    _, findings = checked(tmp_path, "misspelled_ok.py", (CASES / "misspelled_ok.py").read_text(encoding="utf-8"))
    assert [f for f in findings if f.name == "imported-not-checked"] == []
    _, broken = checked(tmp_path, "broken.py", "import numpy as np\n\nclass Dense(:\n    pass\n")
    assert [f.name for f in broken if f.name in ("imported-not-checked", "check-crashed")] == []
