"""misspelled-dunder, checked in this process (issue 15, twelfth round): `samples/misspelled_init.py`'s two
misspelled constructors, a warning where nothing raises and an error where the layer raised for an attribute
the misspelled method would have set (also when no call passes it arguments), with every field at the typo."""

from __future__ import annotations

from pathlib import Path

from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name

SAMPLE = (Path(__file__).parents[1] / "samples" / "misspelled_init.py").read_text(encoding="utf-8")
NO_ARGUMENTS = SAMPLE.replace("def __inti__(self, dropout_ratio=0.5):\n        self.dropout_ratio = dropout_ratio",
                              "def __inti__(self):\n        self.dropout_ratio = 0.5")


def column_of(path, line: int, name: str) -> int:
    """The 1-based column of `name` on `line` of `path`, as editors count it."""
    return path.read_text(encoding="utf-8").splitlines()[line - 1].index(name) + 1


def dunders(findings):
    return {f.layer: f for f in findings if f.name == "misspelled-dunder"}


def test_a_misspelled_constructor_nothing_needs_is_a_warning_at_the_typo(tmp_path):
    path, findings = checked(tmp_path, "misspelled_init.py", SAMPLE)
    relu = dunders(findings)["Relu"]
    line = line_of(path, "def _init_(self):")
    assert (relu.severity, relu.file, relu.line, relu.column, relu.highlight) == ("warning", str(path), line, column_of(path, line, "_init_"), (line,))
    assert relu.message == (
        f"`Relu._init_` is a misspelled `__init__` (line {line}): rename it to `__init__`; Python never calls `_init_`, "
        "so `self.mask` is never initialised."
    )
    assert relu.fix == "def __init__(self):"
    assert relu.evidence == (("consequence", "`Relu._init_` is never called, so `self.mask` is never set when `Relu()` is created; "
                              "Python's default `__init__` runs instead."),)


def test_a_misspelled_constructor_whose_attribute_a_layer_raised_for_is_an_error(tmp_path):
    """`Dropout()` takes no arguments here, so only the layer that raised for `dropout_ratio` makes it an error."""
    path, findings = checked(tmp_path, "misspelled_init.py", NO_ARGUMENTS)
    assert "'Dropout' object has no attribute 'dropout_ratio'" in next(f.message for f in findings if f.name == "layer-raised")
    dropout = dunders(findings)["Dropout"]
    line = line_of(path, "def __inti__(self):")
    assert (dropout.severity, dropout.layer, dropout.line, dropout.column) == ("error", "Dropout", line, column_of(path, line, "__inti__"))
    assert dropout.fix == "def __init__(self):"
    assert dunders(findings)["Relu"].severity == "warning"
