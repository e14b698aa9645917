"""python2's `/` hint, checked in this process (issue 15, twelfth round): a size that `/` made a float is an
error completed with the line of that division, followed through the names that pass it on, worded for a
Python 2 file or a Python 3 one; a float made without `/` keeps the engine's words. Lines from the files' text."""

from __future__ import annotations

import textwrap

from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_python2_division_hint import NET, POOL

FLOAT = "'float' object cannot be interpreted as an integer"
NO_PRINT = ("        print 'built', hidden\n", "")


def raised(findings):
    (finding,) = [f for f in findings if f.severity == "error" and FLOAT in f.message]
    return finding


def test_a_python2_files_division_is_named_as_python2s_with_both_lines_highlighted(tmp_path):
    path, findings = checked(tmp_path, "net.py", NET)
    finding = raised(findings)
    division, used = line_of(path, "hidden = input_dim / 2"), line_of(path, "np.random.randn(input_dim, hidden)")
    assert finding.message.endswith(
        f"in your code: fix that line so `Net` can be created and run; this is Python 2 code, where `/` between two "
        f"integers rounded down: write `//` at line {division}"
    )
    assert (finding.pattern, finding.line, finding.highlight, finding.name) == ("python2-division", used, (division, used), "layer-raised")


def test_the_same_division_in_a_python3_file_is_worded_for_python3(tmp_path):
    path, findings = checked(tmp_path, "net.py", NET.replace(*NO_PRINT))
    finding = raised(findings)
    assert finding.message.endswith(
        "; `/` between two integers gives a float in Python 3 (Python 2 rounded it down): "
        f"write `//` at line {line_of(path, 'hidden = input_dim / 2')}"
    )


def test_a_division_reached_through_a_tuple_target_and_a_name_that_passes_the_shape_on(tmp_path):
    path, findings = checked(tmp_path, "pool.py", POOL)
    finding = raised(findings)
    division, used = line_of(path, "oh, ow = (h - 2) / s + 1"), line_of(path, "out = np.zeros(shape)")
    assert (finding.pattern, finding.line, finding.highlight) == ("python2-division", used, (division, used))
    assert finding.message.endswith(f"write `//` at line {division}")


def test_a_division_on_the_failing_line_itself_is_that_line(tmp_path):
    path, findings = checked(tmp_path, "pool.py", POOL.replace("    shape = (n, c, oh, ow)\n    out = np.zeros(shape)\n",
                                                                "    out = np.zeros((n, c, (h - 2) / s + 1, ow))\n"))
    finding = raised(findings)
    used = line_of(path, "out = np.zeros((n, c, (h - 2) / s + 1, ow))")
    assert (finding.line, finding.highlight) == (used, (used,))
    assert finding.message.endswith(f"write `//` at line {used}")


def test_the_latest_division_before_the_line_is_named(tmp_path):
    text = POOL.replace("    shape = (n, c, oh, ow)\n", "    shape = (n, c, oh, ow)\n    oh = oh / 1\n    shape = (n, c, oh, ow)\n")
    path, findings = checked(tmp_path, "pool.py", text)
    assert raised(findings).message.endswith(f"write `//` at line {line_of(path, 'oh = oh / 1')}")


def test_a_float_made_without_true_division_keeps_the_engines_words(tmp_path):
    """`//` and `/=` are no `/`, a `/` in a comment is none either, and a later division does not count."""
    text = POOL.replace("    oh, ow = (h - 2) / s + 1, (w - 2) / s + 1\n", "    oh, ow = (h - 2) // s + 1.0, (w - 2) // s + 1\n    ow //= 1\n").replace(
        "    out = np.zeros(shape)\n", "    out = np.zeros(shape)  # (h - 2) / s + 1 in Python 2\n    oh = oh / 2\n")
    path, findings = checked(tmp_path, "pool.py", text)
    finding = raised(findings)
    assert finding.pattern is None
    assert finding.line == line_of(path, "out = np.zeros(shape)")
    assert "write `//`" not in finding.message


def test_a_size_is_followed_through_four_names_and_no_further(tmp_path):
    """shape ← t ← r ← oh: the fourth look finds the division; one more name and it is not followed."""
    chain = "    r = oh\n    t = r\n    shape = (n, c, t, t)\n"
    path, findings = checked(tmp_path, "pool.py", POOL.replace("    shape = (n, c, oh, ow)\n", chain))
    assert raised(findings).message.endswith(f"write `//` at line {line_of(path, 'oh, ow = (h - 2) / s + 1')}")
    longer = "    q = oh\n    r = q\n    t = r\n    shape = (n, c, t, t)\n"
    _, findings = checked(tmp_path / "longer", "pool.py", POOL.replace("    shape = (n, c, oh, ow)\n", longer))
    assert raised(findings).pattern is None


def test_a_slash_after_the_first_hash_of_a_line_is_comment(tmp_path):
    text = POOL.replace("    oh, ow = (h - 2) / s + 1, (w - 2) / s + 1\n", "    oh, ow = (h - 2) // s + 1.0, (w - 2) // s + 1\n").replace(
        "    out = np.zeros(shape)\n", "    out = np.zeros(shape)  # (h - 2) / s + 1 # in Python 2\n")
    assert raised(checked(tmp_path, "pool.py", text)[1]).pattern is None


def test_a_division_on_the_files_last_line_is_that_line(tmp_path):
    backward_first = (
        "import numpy as np\n\n\ndef pool_backward(dout, cache):\n    x, pool_param = cache\n    return np.zeros_like(x)\n\n\n"
        "def pool_forward(x, pool_param):\n    n, c, h, w = x.shape\n    s = pool_param[\"stride\"]\n"
        "    return np.zeros((n, c, (h - 2) / s + 1, (w - 2) // s + 1)), (x, pool_param)\n"
    )
    path, findings = checked(tmp_path, "pool.py", backward_first)
    last = len(path.read_text(encoding="utf-8").splitlines())
    finding = raised(findings)
    assert (finding.line, finding.pattern) == (last, "python2-division")
    assert finding.message.endswith(f"write `//` at line {last}")


def test_sizes_named_with_capitals_are_followed(tmp_path):
    text = POOL.replace("oh, ow = (h - 2) / s + 1, (w - 2) / s + 1", "H_out, W_out = (h - 2) / s + 1, (w - 2) / s + 1").replace(
        "shape = (n, c, oh, ow)", "Shape = (n, c, H_out, W_out)").replace("out = np.zeros(shape)", "out = np.zeros(Shape)")
    path, findings = checked(tmp_path, "pool.py", text)
    assert raised(findings).message.endswith(f"write `//` at line {line_of(path, 'H_out, W_out = (h - 2) / s + 1')}")


def test_a_python3_module_that_a_python2_script_imports_is_worded_for_python3(tmp_path):
    # a module name of its own: `nets` is benchmarks/nets.py in a process that ran the memory tests before
    (tmp_path / "py3_layers.py").write_text(textwrap.dedent(NET.replace(*NO_PRINT)), encoding="utf-8")
    script = "import numpy as np\nfrom py3_layers import Net\n\nnet = Net()\nprint 'built', net\n"
    _, findings = checked(tmp_path, "train.py", script)
    finding = raised(findings)
    assert finding.file.endswith("py3_layers.py")
    assert "`/` between two integers gives a float in Python 3 (Python 2 rounded it down)" in finding.message
    assert "this is Python 2 code" not in finding.message


def test_another_error_on_a_line_with_a_slash_gets_no_division_hint(tmp_path):
    layer = (
        "import numpy as np\n\n\nclass Dense:\n    def __init__(self):\n        self.W = np.random.default_rng(0).normal(size=(4, 3))\n\n"
        "    def forward(self, x):\n        self.x = x\n        return x @ self.W\n\n"
        "    def backward(self, dout):\n        self.dW = self.x.T @ dout\n        return dout @ self.W.T / 2\n"
    )
    path, findings = checked(tmp_path, "dense.py", layer)
    (wrong,) = [f for f in findings if f.severity == "error"]
    assert (wrong.name, wrong.line) == ("gradient-mismatch", line_of(path, "return dout @ self.W.T / 2"))
    assert "write `//`" not in wrong.message and wrong.pattern != "python2-division"
