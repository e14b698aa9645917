"""Loading a user's file in this process: reading, pasted characters, definitions, stubs, namespace.

Every test writes a real file to a temporary folder. `load_namespace` changes
interpreter-wide state on purpose (it is meant for the child process), so an
autouse fixture puts `sys.path`, `sys.meta_path`, `sys.modules` and
`sys.dont_write_bytecode` back after each test.
"""

from __future__ import annotations

import ast
import copy
import pickle
import sys
import textwrap
from pathlib import Path

import pytest

from backprop_doctor.loading import load_file
from backprop_doctor.static.script import definitions_only
from backprop_doctor.loading.namespace import USER_MODULE, OutputTail, load_namespace
from backprop_doctor.loading.source import classify_pasted, read_source
from backprop_doctor.loading.stubs import Stub, StubFinder, StubModule
from backprop_doctor.options import Options
from backprop_doctor.rules import rule

NBSP = "\u00a0"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "two_layer_net_question.py"


@pytest.fixture(autouse=True)
def restored_interpreter(tmp_path):
    """Undo what loading does to this process; keep real libraries (numpy cannot be imported twice)."""
    saved = (list(sys.path), list(sys.meta_path), set(sys.modules), sys.dont_write_bytecode)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    temp = str(tmp_path.parent.parent)
    for name in set(sys.modules) - saved[2]:
        module = sys.modules[name]
        places = [getattr(module, "__file__", None) or "", *(getattr(module, "__path__", None) or [])]
        if name == USER_MODULE or isinstance(module, StubModule) or any(str(p).startswith(temp) for p in places):
            del sys.modules[name]
    sys.dont_write_bytecode = saved[3]


def write(folder: Path, text: str, name: str = "net.py", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def load(path: Path, exec_module: bool = False):
    source, findings = read_source(path)
    assert source.tree is not None, findings
    namespace, more = load_namespace(source, exec_module)
    return namespace, findings + more


def named(findings, name):
    return [f for f in findings if f.name == name]


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --------------------------------------------------------------------------- reading and pasted characters


def test_no_break_spaces_in_code_are_read_as_spaces_and_strings_and_comments_keep_theirs(tmp_path):
    path = write(
        tmp_path,
        f"""\
        import numpy as np

        class Relu:
        {NBSP * 4}def forward(self, x):  # a{NBSP}comment
        {NBSP * 8}self.label = "keep{NBSP}me"
        {NBSP * 8}return np.maximum(x, 0)
        """,
    )
    source, findings = read_source(path)

    assert source.tree is not None
    compile(source.tree, str(path), "exec")
    [finding] = findings
    assert finding == finding.replace(name="text-normalised", code="BPD002", severity="info")
    assert finding.line == 4 and finding.highlight == (4, 5, 6)
    assert "20 × U+00A0 NO-BREAK SPACE" in finding.message
    assert f'"keep{NBSP}me"' in source.line(5)
    assert f"# a{NBSP}comment" in source.line(4)
    assert path.read_text(encoding="utf-8").count(NBSP) == 22  # the file on disk is unchanged

    namespace, _ = load_namespace(source, exec_module=False)
    layer = namespace["Relu"]()
    layer.forward(1.0)
    assert layer.label == f"keep{NBSP}me"


def test_ideographic_and_zero_width_spaces_become_a_space_and_nothing(tmp_path):
    path = write(tmp_path, "x\u3000= 1\nlay\u200ber = x\u202f+\u20031\ny =\ufeff2\n")
    source, [finding] = read_source(path)

    assert source.text == "x = 1\nlayer = x + 1\ny =2\n"
    assert finding.highlight == (1, 2, 3)
    for name in ("U+3000 IDEOGRAPHIC SPACE", "U+200B ZERO WIDTH SPACE", "U+202F", "U+2003", "U+FEFF"):
        assert name in finding.message


def test_a_clean_file_is_parsed_unchanged_and_without_findings(tmp_path):
    text = "# 中文注释\nx = 'a\u00a0b'  # \u3000\n"
    path = write(tmp_path, text)
    source, findings = read_source(path)
    assert findings == [] and source.text == text and source.tree is not None


def test_a_pasted_space_inside_f_string_braces_is_replaced_but_the_literal_part_is_kept(tmp_path):
    path = write(tmp_path, f"def show(x):\n    return f'x{NBSP}= {{x{NBSP}+ 1}}'\n")
    source, findings = read_source(path)
    assert source.tree is not None
    assert source.line(2) == f"    return f'x{NBSP}= {{x + 1}}'"
    assert named(findings, "text-normalised")[0].line == 2


def test_scanner_tells_code_from_strings_comments_and_f_strings():
    text = f"a{NBSP}= r'{NBSP}\\'' # {NBSP}\nb = '''{NBSP}\n{NBSP}'''{NBSP}\nc = f\"{NBSP}\" \\\n{NBSP}"
    kinds = [kind for _, kind in classify_pasted(text)]
    assert kinds == ["code", "string", "comment", "string", "string", "code", "fstring", "code"]


def test_a_long_page_of_pasted_code_is_normalised_whole(tmp_path):
    """3,000 lines of non-breaking spaces are all normalised and counted in one finding (how long it takes
    is a benchmark's question: a unit test does not time anything)."""
    body = "".join(f"{NBSP * 4}v{i} = {i}{NBSP}+ 1\n" for i in range(3000))
    path = write(tmp_path, "def big():\n" + body + f"{NBSP * 4}return 0\n")
    source, [finding] = read_source(path)
    assert source.tree is not None
    assert "15004 × U+00A0" in finding.message and "and 2996 more" in finding.message


def test_curly_quotes_used_as_code_quotes_stay_a_syntax_error_with_the_ascii_fix(tmp_path):
    source, [finding] = read_source(write(tmp_path, "x = 1\nname = “relu”\n"))
    assert source.tree is None
    assert (finding.name, finding.code, finding.severity) == ("syntax-error", "BPD001", "error")
    assert (finding.line, finding.column, finding.highlight) == (2, 8, (2,))
    assert "U+201C" in finding.message
    assert finding.fix == 'name = "relu"'


def test_full_width_parentheses_from_a_chinese_input_method_get_the_ascii_fix(tmp_path):
    _, [finding] = read_source(write(tmp_path, "import numpy as np\ny = np.dot（1, 2） + len('，')  # 点积（内积）\n"))
    assert finding.name == "syntax-error"
    assert finding.fix == "y = np.dot(1, 2) + len('，')  # 点积（内积）"


def test_a_syntax_error_names_the_line_the_one_based_column_and_pythons_message(tmp_path):
    path = write(tmp_path, "import numpy as np\n\ndef f(x):\n    return x +* 2\n")
    source, [finding] = read_source(path)
    assert source.tree is None
    assert finding.file == str(path)
    assert (finding.line, finding.column) == (4, 15)
    assert "line 4, column 15 does not parse (invalid syntax)" in finding.message


def test_python_2_print_is_a_syntax_error_that_says_python_2_and_shows_the_python_3_line(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np
        for i in xrange(3):
            print "loss:", i  # progress
        try:
            pass
        except ValueError, e:
            pass
        """,
    )
    source, [finding] = read_source(path)
    assert source.tree is not None and source.python2  # read as Python 3, one line for one line
    assert (finding.name, finding.severity, finding.line, finding.highlight) == ("python2", "warning", 3, (3, 6))
    assert "looks like Python 2; Python 3 needs print(...) as a function call; `except E as e:`" in finding.message
    assert finding.fix == '    print("loss:", i)  # progress'
    assert dict(finding.evidence)["read as"] == 'line 3: print("loss:", i)  # progress; line 6: except ValueError as e:'
    assert dict(finding.evidence)["also Python 2"] == "line 2: `xrange` → `range`"
    assert source.text.split("\n")[2] == '    print("loss:", i)  # progress'


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ("except ValueError, e:", "except ValueError as e:"),
        ("raise ValueError, 'bad'", "raise ValueError('bad')"),
        ("print 'x' % 1,", "print('x' % 1, end=\" \")"),
        ("x = 0777", "x = 0o777"),
    ],
)
def test_other_python_2_syntax_gets_its_python_3_spelling(tmp_path, line, fix):
    text = "import sys\ntry:\n    pass\n" + line + "\n    pass\n" if line.startswith("except") else line + "\n"
    source, [finding] = read_source(write(tmp_path, text))
    assert (finding.name, source.python2) == ("python2", True) and "Python 2" in finding.message
    assert finding.fix == fix


def test_errors_the_parser_lets_through_are_syntax_errors_too(tmp_path):
    source, [finding] = read_source(write(tmp_path, "x = 1\nreturn x\n"))
    assert source.tree is None and finding.name == "syntax-error" and finding.line == 2


def test_a_nul_byte_is_a_syntax_error_not_a_crash(tmp_path):
    path = tmp_path / "net.py"
    path.write_bytes(b"x = 1\ny = 2\x00\n")
    source, [finding] = read_source(path)
    assert source.tree is None and finding.name == "syntax-error" and finding.line == 2


def test_a_missing_file_is_a_usage_error(tmp_path):
    from backprop_doctor.errors import UsageError

    with pytest.raises(UsageError, match="cannot read"):
        read_source(tmp_path / "nope.py")


def test_chinese_and_japanese_comments_in_utf_8_load_without_findings(tmp_path):
    path = write(
        tmp_path,
        """\
        # -*- coding: utf-8 -*-
        import numpy as np  # 数值计算

        class Sigmoid:
            '''シグモイド関数のレイヤ'''
            def forward(self, x):
                self.out = 1 / (1 + np.exp(-x))  # 前向传播
                return self.out
        """,
    )
    namespace, findings = load(path)
    assert findings == []
    assert namespace["Sigmoid"].__doc__ == "シグモイド関数のレイヤ"


def test_a_gbk_file_without_a_coding_cookie_is_read_as_gb18030_with_a_note(tmp_path):
    path = write(tmp_path, "# 损失函数\nlabel = '损失'\n", encoding="gbk")
    source, [finding] = read_source(path)
    assert source.tree is not None and "label = '损失'" in source.text
    assert finding.name == "text-normalised" and "gb18030" in finding.message
    assert finding.fix == "# -*- coding: gb18030 -*-" and finding.line == 1


def test_a_shift_jis_file_with_a_coding_cookie_is_read_silently(tmp_path):
    path = write(tmp_path, "# -*- coding: shift_jis -*-\n# 順伝播\nname = 'レイヤ'\n", encoding="shift_jis")
    source, findings = read_source(path)
    assert findings == [] and "name = 'レイヤ'" in source.text


def test_a_shift_jis_file_without_a_cookie_is_recognised_by_its_kana(tmp_path):
    path = write(tmp_path, "# 順伝播のテスト\nx = 1\n", encoding="shift_jis")
    source, [finding] = read_source(path)
    assert "# 順伝播のテスト" in source.text and "shift_jis" in finding.message


def test_a_file_whose_coding_cookie_lies_is_read_as_utf_8_with_a_note(tmp_path):
    path = write(tmp_path, "# coding: shift_jis\n# 误差反向传播\nx = 1\n")
    source, [finding] = read_source(path)
    assert "# 误差反向传播" in source.text
    assert "declares shift_jis" in finding.message and "read as utf-8" in finding.message


def test_a_byte_order_mark_is_honoured(tmp_path):
    path = tmp_path / "net.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    source, findings = read_source(path)
    assert findings == [] and source.text == "x = 1\ny = 2\n"


def test_undecodable_bytes_are_replaced_as_a_last_resort(tmp_path):
    path = tmp_path / "net.py"
    path.write_bytes(b"x = 1\n# \x81\x81\x81\xff\xff\n")  # no candidate encoding accepts this
    source, [finding] = read_source(path)
    assert source.tree is not None and "\ufffd" in source.text
    assert "U+FFFD" in finding.message and finding.line == 2


# --------------------------------------------------------------------------- which statements run


SCRIPT = """\
'''A homework file.'''
from __future__ import annotations
import sys, os
sys.path.append(os.pardir)
os.chdir("/")
try:
    import cupy as xp
except ImportError:
    import numpy as xp
    HAS_GPU = False
import numpy as np
SIZES = (784, 50, 10)
HIDDEN = SIZES[1] * 2
EPS = 1e-7
DTYPE = np.float64
sigmoid = lambda x: 1 / (1 + np.exp(-x))
if sys.version_info >= (3, 0):
    PY3 = True
else:
    PY3 = False
if HIDDEN > 10:
    print("big")

def relu(x):
    return np.maximum(x, 0)

class Net:
    pass

data = np.load("mnist.npz")
n = data
net = Net()
for i in range(10):
    relu(i)
print("done")
if __name__ == "__main__":
    net.train()
else:
    IMPORTED = True
"""


def kept_lines(module: ast.Module) -> list[int]:
    return [node.lineno for node in module.body]


def test_definitions_only_keeps_imports_definitions_constants_and_sys_path_and_drops_the_script():
    tree = ast.parse(SCRIPT)
    kept = definitions_only(tree)
    assert kept_lines(kept) == [1, 2, 3, 4, 6, 11, 12, 13, 14, 15, 16, 17, 24, 27, 39]
    assert "chdir" not in ast.unparse(kept) and "print" not in ast.unparse(kept)


def test_definitions_keep_the_line_numbers_of_the_users_file():
    kept = definitions_only(ast.parse(SCRIPT))
    relu = next(n for n in kept.body if isinstance(n, ast.FunctionDef))
    assert (relu.lineno, relu.body[0].lineno) == (24, 25)


def test_definitions_only_does_not_change_the_tree_it_is_given():
    tree = ast.parse(SCRIPT)
    before = ast.dump(tree, include_attributes=True)
    definitions_only(tree)
    definitions_only(tree, exec_module=True)
    assert ast.dump(tree, include_attributes=True) == before


def test_exec_module_keeps_everything_but_the_main_block():
    kept = definitions_only(ast.parse(SCRIPT), exec_module=True)
    assert kept_lines(kept)[-3:] == [33, 35, 39]
    assert "net.train()" not in ast.unparse(kept)


def test_an_if_block_is_kept_only_when_it_holds_only_definitions():
    kept = definitions_only(ast.parse("import sys\nif sys.platform:\n    import os\nif sys.argv:\n    x = f()\n"))
    assert kept_lines(kept) == [1, 2]


def test_constants_that_depend_on_dropped_code_are_dropped_too():
    kept = definitions_only(ast.parse("from m import *\ndata = load()\nn = data\nm = LIMIT\n"))
    assert kept_lines(kept) == [1, 4]


# --------------------------------------------------------------------------- missing modules


def test_a_missing_module_is_stubbed_and_the_module_level_code_that_needs_it_does_not_run(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np
        from dataset.mnist import load_mnist

        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
        open("ran.txt", "w").write("trained")

        class Affine:
            def forward(self, x):
                return x
        """,
    )
    namespace, findings = load(path)
    assert "Affine" in namespace and "x_train" not in namespace
    from backprop_doctor.loading import datasets

    assert namespace["load_mnist"] is datasets.load_mnist  # a loader reached through a stub is the synthetic stand-in
    assert not (tmp_path / "ran.txt").exists()
    [finding] = findings
    assert (finding.name, finding.code, finding.severity) == ("missing-module", "BPD003", "info")
    assert finding.line == 2 and finding.file == str(path)
    assert "`dataset.mnist`" in finding.message and "skipped" in finding.message


def test_stubs_work_as_packages_attributes_decorators_and_base_classes(tmp_path):
    # packages no machine has (torch or numba may be installed where the tests run)
    path = write(
        tmp_path,
        """\
        import deepkit_not_installed.nn as nn
        import jitkit_not_installed as numba
        from dataset import mnist

        @numba.jit(nopython=True)
        def relu(x):
            return max(x, 0)

        class Net(nn.Module):
            def forward(self, x):
                return relu(x)
        """,
    )
    namespace, findings = load(path)
    assert namespace["relu"](-1) == 0
    assert namespace["Net"]().forward(3) == 3
    assert sys.modules["deepkit_not_installed.nn"].Linear(3, 4)(None) is not None
    assert sorted(f.line for f in named(findings, "missing-module")) == [1, 2, 3]


def test_an_import_guarded_by_except_import_error_is_not_stubbed(tmp_path):
    path = write(
        tmp_path,
        """\
        try:
            import cupy as xp
        except ImportError:
            import numpy as xp
        """,
    )
    namespace, findings = load(path)
    assert namespace["xp"].__name__ == "numpy" and findings == []


def test_a_python_2_module_gets_its_python_3_name(tmp_path):
    _, [finding] = load(write(tmp_path, "import cPickle\n"))
    assert "use `pickle`" in finding.message and finding.fix == "import pickle"


def test_a_module_that_exists_but_fails_to_import_is_a_load_error_not_a_stub(tmp_path):
    write(tmp_path, "raise ValueError('broken helper')\n", name="helper.py")
    namespace, [finding] = load(write(tmp_path, "import helper\n\ndef f():\n    pass\n"))
    assert finding.name == "load-error" and "broken helper" in finding.message
    assert finding.file == str(tmp_path / "helper.py") and finding.line == 1
    assert "f" in namespace


def test_only_the_users_imports_are_stubbed_and_asking_whether_a_module_exists_gets_the_truth(tmp_path):
    path = write(
        tmp_path,
        """\
        import importlib.util

        def probe():
            return importlib.util.find_spec("surely_absent_bpd")

        def late_import():
            import another_absent_bpd
            return another_absent_bpd
        """,
    )
    namespace, _ = load(path)
    assert isinstance(sys.meta_path[-1], StubFinder)
    assert namespace["probe"]() is None
    assert isinstance(namespace["late_import"](), StubModule)
    with pytest.raises(ModuleNotFoundError):
        __import__("third_absent_bpd")  # imported from the tests, not from the user's file


# --------------------------------------------------------------------------- running the definitions


def test_np_int_is_a_load_error_at_the_users_line_with_the_modern_spelling(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np

        class Affine:
            dtype = np.int

        class Relu:
            pass
        """,
    )
    namespace, [finding] = load(path)
    assert (finding.name, finding.code, finding.severity) == ("load-error", "BPD004", "error")
    assert (finding.file, finding.line, finding.column) == (str(path), 4, 13)
    assert "AttributeError" in finding.message and "use `int` instead" in finding.message
    assert finding.fix == "    dtype = int"
    assert "Relu" in namespace and "Affine" not in namespace


def test_a_form_feed_does_not_shift_the_line_of_a_load_error_or_its_fix(tmp_path):
    _, [finding] = load(write(tmp_path, "import numpy as np\n\x0c# page two\nsize = np.float\n"), exec_module=True)
    assert finding.line == 3 and finding.fix == "size = float"


def test_collections_hashable_is_a_load_error_with_the_collections_abc_fix(tmp_path):
    _, [finding, cascade] = load(write(tmp_path, "import collections\nBase = collections.Hashable\nclass A(Base): pass\n"))
    assert finding.line == 2 and finding.fix == "Base = collections.abc.Hashable"
    assert "Python 3.10 moved it" in finding.message and cascade.caused_by == finding.key()


def test_an_error_deep_in_a_call_is_placed_at_the_innermost_user_line(tmp_path):
    path = write(
        tmp_path,
        """\
        def helper():
            return undefined_name + 1

        class Net:
            size = helper()
        """,
    )
    _, [finding] = load(path)
    assert finding.line == 2 and "NameError" in finding.message
    assert ("in", "helper()") in finding.evidence


def test_a_failing_class_does_not_hide_the_ones_after_it_and_its_dependants_point_at_it(tmp_path):
    path = write(tmp_path, "import numpy as np\nclass A:\n    x = np.float\nclass B(A): pass\nclass C: pass\n")
    namespace, findings = load(path)
    first, second = findings
    assert "C" in namespace and second.caused_by == first.key()


def test_a_module_level_endless_loop_is_never_entered_in_definitions_mode(tmp_path):
    path = write(tmp_path, "def f():\n    return 1\n\nseen = []\nwhile True:\n    seen.append(1)\n")
    namespace, findings = load(path)
    assert namespace["f"]() == 1 and findings == []
    assert not namespace.get("seen")  # the loop never ran a pass (a budget stopping it would leave entries)


def test_the_main_block_never_runs_even_with_exec_module(tmp_path):
    path = write(tmp_path, "ran = []\nif __name__ == '__main__':\n    ran.append(1)\nelse:\n    imported = True\n")
    namespace, _ = load(path, exec_module=True)
    assert namespace["ran"] == [] and namespace["imported"] is True
    assert namespace["__name__"] == USER_MODULE


def test_exec_module_stops_at_the_first_error_and_keeps_what_was_defined_before(tmp_path):
    path = write(tmp_path, "def f(): pass\nx = 1 / 0\ndef g(): pass\n")
    namespace, [finding] = load(path, exec_module=True)
    assert "f" in namespace and "g" not in namespace
    assert finding.line == 2 and "ZeroDivisionError" in finding.message


def test_sys_exit_and_input_at_module_level_are_load_errors_not_exits_or_hangs(tmp_path):
    path = write(tmp_path, "import sys\nname = input('name? ')\nsys.exit(2)\n")
    _, [finding] = load(path, exec_module=True)
    assert "EOFError" in finding.message and finding.line == 2
    _, [finding] = load(write(tmp_path, "import sys\nsys.exit(2)\n"), exec_module=True)
    assert "sys.exit(2)" in finding.message and finding.line == 2


def test_user_prints_go_to_the_output_stream_not_the_terminal(tmp_path, capfd):
    path = write(tmp_path, "print('hello from the user')\nimport sys\nprint('err', file=sys.stderr)\n")
    source, _ = read_source(path)
    output = OutputTail()
    load_namespace(source, exec_module=True, output=output)
    assert "hello from the user" in output.getvalue() and "err" in output.getvalue()
    assert capfd.readouterr() == ("", "")


def test_loaded_classes_pickle_deep_copy_and_show_their_source(tmp_path):
    import inspect

    path = write(tmp_path, f"class Layer:\n{NBSP * 4}def __init__(self):\n        self.w = [1.0]\n")
    namespace, _ = load(path)
    layer = namespace["Layer"]()
    assert pickle.loads(pickle.dumps(layer)).w == [1.0]
    assert copy.deepcopy(layer).w == [1.0]
    assert inspect.getsource(namespace["Layer"]).splitlines()[1] == "    def __init__(self):"


def test_the_book_layout_with_a_common_namespace_package_in_the_parent_folder_loads(tmp_path):
    write(tmp_path, "import numpy as np\n\nclass Affine:\n    def __init__(self, W, b):\n        self.W, self.b = W, b\n", name="common/layers.py")
    write(tmp_path, "def softmax(x):\n    return x\n", name="common/functions.py")
    path = write(
        tmp_path,
        """\
        import sys, os
        sys.path.append(os.pardir)
        from common.layers import *
        from common.functions import softmax

        class TwoLayerNet:
            def __init__(self):
                self.layer = Affine(1, 2)
        """,
        name="ch05/two_layer_net.py",
    )
    namespace, findings = load(path)
    assert findings == []
    assert namespace["TwoLayerNet"]().layer.b == 2 and namespace["softmax"](3) == 3


def test_loading_creates_no_files_next_to_the_users_file(tmp_path):
    write(tmp_path, "import numpy as np\n\nclass Affine:\n    pass\n", name="common/layers.py")
    write(tmp_path, "X = 1\n", name="ch05/helper.py")
    path = write(
        tmp_path,
        f"import sys, os\nsys.path.append(os.pardir)\nfrom common.layers import *\nimport helper\n{NBSP}\n",
        name="ch05/net.py",
    )
    before = listing(tmp_path)
    mtime = path.stat().st_mtime_ns
    namespace, _ = load(path, exec_module=True)
    assert "Affine" in namespace and namespace["helper"].X == 1
    assert listing(tmp_path) == before
    assert path.stat().st_mtime_ns == mtime


def test_load_file_runs_the_whole_loading_stage(tmp_path):
    loaded = load_file(write(tmp_path, "print('hi')\nclass A: pass\nx = 1 +\n"), Options())
    assert loaded.namespace is None and [f.name for f in loaded.findings] == ["syntax-error"]
    loaded = load_file(write(tmp_path, "print('hi')\nclass A: pass\n"), Options(exec_module=True))
    assert "A" in loaded.namespace and loaded.output == "hi\n"


def test_every_loading_rule_is_registered_with_its_code_and_documented():
    expected = {
        "syntax-error": ("BPD001", "error"),
        "text-normalised": ("BPD002", "info"),
        "missing-module": ("BPD003", "info"),
        "load-error": ("BPD004", "error"),
        "load-timeout": ("BPD005", "error"),
        "load-crash": ("BPD006", "error"),
        "nothing-to-check": ("BPD007", "warning"),
        "build-failed": ("BPD008", "warning"),
    }
    for name, (code, severity) in expected.items():
        found = rule(name)
        assert (found.code, found.severity, found.stage, found.run) == (code, severity, "load", None)
        for heading in ("What it finds:", "Why it matters:", "Example:", "Fix:"):
            assert heading in found.doc


# --------------------------------------------------------------------------- the seed question


def test_the_seed_question_loads_its_layers_with_the_pasted_space_and_missing_dataset_noted():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is absent")
    before = listing(SEED.parent)
    namespace, findings = load(SEED)
    assert {"TwoLayerNet", "SoftmaxWithLoss", "Affine", "Relu"} <= set(namespace)
    [normalised] = named(findings, "text-normalised")
    assert normalised.line == 182
    assert any("`dataset.mnist`" in f.message and f.line == 4 for f in named(findings, "missing-module"))
    assert not named(findings, "load-error") and not named(findings, "syntax-error")
    assert "network" not in namespace and "x_train" not in namespace
    assert listing(SEED.parent) == before
