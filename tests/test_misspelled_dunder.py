"""misspelled-dunder (BPD010): near misses of special method names, read from the source."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from backprop_doctor import rules, static
from backprop_doctor.checks import misspelled_dunder
from backprop_doctor.context import CheckContext, SourceFile
from backprop_doctor.options import Options

SEED = Path(__file__).parents[1] / ".." / "shared" / "seed" / "two_layer_net_question.py"


def source_file(tmp_path: Path, text: str, name: str = "layers.py") -> SourceFile:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    read = path.read_text(encoding="utf-8")
    return SourceFile(str(path), read, ast.parse(read))


def findings(source: SourceFile | None):
    return list(misspelled_dunder.run(CheckContext(options=Options(), source=source)))


def typos(text: str) -> list[static.Typo]:
    text = textwrap.dedent(text)
    return static.special_method_typos(ast.parse(text), text=text)


@pytest.mark.parametrize(
    "name, intended",
    [
        ("__init", "__init__"),
        ("_init_", "__init__"),
        ("__init_", "__init__"),
        ("_init__", "__init__"),
        ("___init__", "__init__"),
        ("__init___", "__init__"),
        ("__Init__", "__init__"),
        ("__inti__", "__init__"),
        ("__intit__", "__init__"),
        ("__ini__", "__init__"),
        ("__call", "__call__"),
        ("_call_", "__call__"),
        ("__cal__", "__call__"),
        ("__getitem", "__getitem__"),
        ("__get_item__", "__getitem__"),
        ("__len", "__len__"),
        ("__iter", "__iter__"),
        ("__post_init", "__post_init__"),
        ("__add", "__add__"),
    ],
)
def test_catches_near_misses_of_special_method_names(name, intended):
    (typo,) = typos(
        f"""
        class Layer:
            def {name}(self, size):
                self.size = size
        """
    )
    assert (typo.class_name, typo.method, typo.intended, typo.line) == ("Layer", name, intended, 3)
    assert typo.fix == f"def {intended}(self, size):"
    assert typo.col == 8  # the name, after "def "


def test_never_flags_real_special_methods_or_private_helpers():
    assert (
        typos(
            """
            class Good:
                def __init__(self): self.x = 1
                def __int__(self): return 3
                def __len__(self): return 1
                def __ne__(self, other): return False
                def __iadd__(self, other): return self
                def __rmatmul__(self, other): return other
                def __array__(self, dtype=None): return None
                def __repr__(self): return ""
                def __next__(self): raise StopIteration
                def __bool__(self): return True
                def __class_getitem__(cls, item): return cls
                def __init_subclass__(cls): pass
                def __getstate__(self): return {}
                def _repr_html_(self): return ""
                def _missing_(cls, value): return None
                def _add_(self, other): return other
                def _init(self): pass
                def init_(self): pass
                def call(self, x): return x
                def __private(self): pass
                def __forward(self, x): return x
            """
        )
        == []
    )


def test_a_misspelling_the_code_calls_is_a_helper_not_a_typo():
    assert (
        typos(
            """
            class Helper:
                def __init__(self):
                    self.__init()
                def __init(self):
                    self.ready = True

            class Both:
                def __init__(self): pass
                def _init_(self): self.x = 1
            """
        )
        == []
    )


def test_int_is_taken_for_init_only_when_it_clearly_constructs():
    (typo,) = typos(
        """
        class Dense:
            def __int__(self, n):
                self.n = n

        class Count:
            def __int__(self):
                return 3
        """
    )
    assert (typo.class_name, typo.intended) == ("Dense", "__init__")
    assert "int()" in typo.reason
    assert "Dense() takes no arguments" in typo.consequence


def test_a_plain_init_that_sets_attributes_is_flagged_unless_it_is_called():
    (typo,) = typos(
        """
        class Relu:
            def init(self):
                self.mask = None
        """
    )
    assert (typo.method, typo.intended, typo.attributes) == ("init", "__init__", ("mask",))
    assert (
        typos(
            """
            class Relu:
                def init(self):
                    self.mask = None
            layer = Relu()
            layer.init()
            """
        )
        == []
    )


def test_consequence_lists_the_attributes_and_the_type_error():
    (typo,) = typos(
        """
        import numpy as np

        class Affine:
            def __init(self, W, b):
                self.W = W
                self.b = b
                self.x = None

        layer = Affine(np.zeros((2, 3)), np.zeros(3))
        """
    )
    assert typo.attributes == ("W", "b", "x")
    assert typo.parameters == ("W", "b")
    assert typo.raises_type_error and typo.failing_calls[0].line == 10
    assert typo.consequence == (
        "`Affine.__init` is never called, so `self.W`, `self.b` and `self.x` are never set when `Affine()` is "
        "created; Python's default `__init__` runs instead. `Affine(np.zeros((2, 3)), np.zeros(3))` (line 10) "
        "raises TypeError: Affine() takes no arguments."
    )


def test_a_subclass_falls_back_to_the_inherited_init_without_a_type_error():
    (typo,) = typos(
        """
        class Relu(Layer):
            def __init(self, inplace):
                self.inplace = inplace
        Relu(True)
        """
    )
    assert not typo.raises_type_error
    assert "inherited from `Layer`" in typo.consequence and "TypeError" not in typo.consequence


def test_other_dunders_name_the_protocol_that_breaks():
    (typo,) = typos(
        """
        class Batches:
            def __len(self):
                return 3
        """
    )
    assert "len() of a `Batches` raises TypeError" in typo.consequence


def test_reports_the_seed_relu_with_the_fix(seed_source):
    (finding,) = findings(seed_source)
    assert finding.code == "BPD010" and finding.name == "misspelled-dunder"
    assert finding.severity == "warning"
    assert finding.message == (
        "`Relu.__init` is a misspelled `__init__` (line 65): rename it to `__init__`; "
        "Python never calls `__init`, so `self.mask` is never initialised."
    )
    assert (finding.line, finding.column, finding.layer, finding.highlight) == (65, 9, "Relu", (65,))
    assert finding.fix == "def __init__(self):"
    assert finding.file == seed_source.path
    assert "Relu()" in dict(finding.evidence)["consequence"]


def test_is_an_error_when_a_call_in_the_file_would_raise_type_error(tmp_path):
    source = source_file(
        tmp_path,
        """
        import numpy as np

        class Affine:
            def __init(self, W, b):  # typo
                self.W = W
                self.b = b

        layer = Affine(np.zeros((2, 3)), np.zeros(3))
        """,
    )
    (finding,) = findings(source)
    assert finding.severity == "error"
    assert finding.message == (
        "`Affine.__init` is a misspelled `__init__` (line 5): rename it to `__init__`; "
        "Python never calls `__init`, so `self.W` and `self.b` are "
        "never initialised and `Affine(np.zeros((2, 3)), np.zeros(3))` (line 9) raises TypeError: "
        "Affine() takes no arguments."
    )
    assert finding.fix == "def __init__(self, W, b):  # typo"


def test_keeps_quiet_without_a_parsed_source(tmp_path):
    assert findings(None) == []
    assert findings(SourceFile(str(tmp_path / "broken.py"), "def f(:\n", None)) == []


def test_is_registered_with_its_documentation():
    rule = rules.rule("BPD010")
    assert (rule.name, rule.severity, rule.stage) == ("misspelled-dunder", "warning", "static")
    for heading in ("What it finds:", "Why it matters:", "Example:", "Fix:"):
        assert heading in rule.doc
    assert rule.run is misspelled_dunder.run


@pytest.fixture
def seed_source() -> SourceFile:
    if not SEED.exists():
        pytest.skip("the seed file ../shared/seed/ is not present")
    text = SEED.read_text(encoding="utf-8").replace("\xa0", " ")
    return SourceFile(str(SEED), text, ast.parse(text))
