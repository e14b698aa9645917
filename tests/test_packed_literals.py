"""A long run of numbers in the source is parsed without a node per number, and means what Python says.

`static.packed.parse` either returns a tree that runs exactly like the file
(same values, same types, same positions for every other node) or None, and
the loader then parses the file as it is.
"""

from __future__ import annotations

import ast
import math

import pytest
from hypothesis import given, settings, strategies as st

from backprop_doctor.loading.source import read_source
from backprop_doctor.static import packed
from backprop_doctor.static.tree import DATA_MIN, is_data, walk

N = DATA_MIN + 200


def column(values, indent="    "):
    return "".join(f"{indent}{v},\n" for v in values)


def run(code) -> dict:
    namespace: dict = {}
    exec(code, namespace)
    namespace.pop("__builtins__", None)
    return namespace


def same_values(a, b) -> bool:
    """Equal, with the same types all the way down and -0.0 told from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def assert_runs_like_python(text: str) -> ast.Module:
    tree = packed.parse(text, "data.py")
    assert tree is not None, "expected the run of numbers to be packed"
    mine, python = run(compile(tree, "data.py", "exec")), run(compile(text, "data.py", "exec"))
    assert mine.keys() == python.keys()
    for name in python:
        if not callable(python[name]):
            assert same_values(mine[name], python[name]), name
    return tree


def positions(tree: ast.Module) -> list[tuple]:
    return [
        (type(n).__name__, getattr(n, "lineno", None), getattr(n, "col_offset", None),
         getattr(n, "end_lineno", None), getattr(n, "end_col_offset", None))
        for n in walk(tree)
    ]  # fmt: skip


FLOATS = [((i * 7919) % 10007) / 10007 for i in range(N)]
MIXED = ["-0.0", "+5", ".5", "5.", "1e-3", "-2.5E+4", "1_000", "00", "0", "-7", "3_1.4_1", "6e1_0", "-0"] * (N // 13 + 1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("DATA = [\n" + column(FLOATS) + "]\n", id="a list, one number a line"),
        pytest.param("DATA = [" + ", ".join(map(str, range(N))) + "]\n", id="a list on one line"),
        pytest.param("DATA = (\n" + column(FLOATS[:-1]) + f"    {FLOATS[-1]}\n)\n", id="a tuple without a trailing comma"),
        pytest.param("DATA = " + ", ".join(map(str, FLOATS)) + "\n", id="a tuple without brackets"),
        pytest.param("SEEN = {" + ", ".join(str(i % 977) for i in range(N)) + "}\n", id="a set with repeats"),
        pytest.param("TOTAL = max(" + ", ".join(map(str, FLOATS)) + ")\n", id="a call's arguments"),
        pytest.param("DATA = [\n" + column(MIXED) + "]\n", id="signs, exponents, underscores, -0.0"),
        pytest.param("A, B = 2, 3\nDATA = [A,\n" + column(FLOATS) + "B]\n", id="names around the numbers"),
        pytest.param(
            "DATA = [\n" + column(FLOATS) + "    # the second day\n" + column(FLOATS) + "]\nCOUNT = len(DATA)\n",
            id="two runs split by a comment",
        ),
        pytest.param("def load():\n    return [\n" + column(FLOATS, " " * 8) + "    ]\nDATA = load()\n", id="inside a function"),
        pytest.param("rows = [[1, 2], [3, 4]]\nDATA = [\n" + column(range(N)) + "]\nLAST = DATA[-1] * rows[1][1]\n", id="ints"),
    ],
)
def test_a_packed_run_builds_what_python_builds(text):
    assert_runs_like_python(text)


def test_every_node_outside_the_data_keeps_its_place():
    text = (
        "import numpy as np\n\nDATA = [\n" + column(FLOATS) + "]\nX = np.array(DATA)  # é\n"
        "\ndef f(x):\n    return x * 2 + DATA[0]\n\nY = ('start',\n     " + ", ".join(map(str, range(N))) + ", 'end')\n"
    )
    tree = packed.parse(text)
    assert tree is not None
    assert positions(tree) == positions(ast.parse(text))
    containers = [n for n in walk(tree) if isinstance(n, (ast.List, ast.Tuple)) and is_data(n)]
    assert len(containers) == 2
    assert ast.get_source_segment(text, tree.body[1]) == "DATA = [\n" + column(FLOATS) + "]"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('NOTE = """\n' + column(FLOATS) + '"""\n', id="inside a string"),
        pytest.param("x = 1  # " + ", ".join(map(str, range(N))) + ",\n", id="inside a comment"),
        pytest.param("DATA = [\n" + column(["007"] + list(range(N))) + "]\n", id="a number Python refuses"),
        pytest.param("DATA = [\n" + column(range(N)) + "    e,\n" + column(range(N)) + "]\n", id="a name among the numbers"),
        pytest.param("short = [1, 2, 3]\n", id="no long run"),
    ],
)
def test_what_cannot_be_packed_is_left_to_python(text):
    assert packed.parse(text) is None


def test_a_run_that_is_not_a_containers_elements_is_left_to_python():
    text = "a = 5\nb = a -" + ", ".join(map(str, range(N))) + "\n"  # `a - 0`, then the numbers
    assert packed.parse(text) is None
    text = "a = 5\nb = -1 if a else -" + ", ".join(map(str, range(N))) + "\n"
    tree = packed.parse(text)
    assert tree is None or same_values(run(compile(tree, "f", "exec")), run(compile(text, "f", "exec")))


def test_the_loader_reports_a_syntax_error_after_the_data_at_its_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("DATA = [\n" + column(FLOATS) + "]\n\ndef f(x)\n    return x\n", encoding="utf-8")
    source, findings = read_source(path)
    assert source.tree is None
    assert [(f.name, f.line) for f in findings] == [("syntax-error", N + 4)]


def test_return_outside_a_function_is_still_an_error_below_packed_data(tmp_path):
    path = tmp_path / "script.py"
    path.write_text("DATA = [\n" + column(FLOATS) + "]\nreturn DATA\n", encoding="utf-8")
    source, findings = read_source(path)
    assert source.tree is None
    assert [(f.name, f.line) for f in findings] == [("syntax-error", N + 3)]


def test_the_loaders_tree_keeps_the_numbers_after_the_syntax_check(tmp_path):
    path = tmp_path / "data.py"
    path.write_text("DATA = [\n" + column(FLOATS) + "]\n", encoding="utf-8")
    source, findings = read_source(path)
    assert findings == []
    assert run(compile(source.tree, str(path), "exec"))["DATA"] == FLOATS


number = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:.3e}"),
    st.sampled_from([".5", "5.", "-0.0", "+1", "1_000", "1e1_0", "00"]),
)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(number, min_size=1, max_size=40),
    st.sampled_from([", ", ",", ",\n    ", " ,\t", ",\n\n"]),
    st.sampled_from(["[{}]", "({})", "{{{}}}", "sum([{}])", "[[1, 2], {}]"]),
)
def test_any_run_of_number_literals_means_what_python_says(numbers, separator, shape):
    numbers = numbers * (DATA_MIN // len(numbers) + 1)
    text = "DATA = " + shape.format(separator.join(numbers) + ",") + "\n"
    assert_runs_like_python(text)
