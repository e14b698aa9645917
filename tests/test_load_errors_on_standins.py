"""A module of the user's that the file imports computes at its top level with a module missing here
(`import tabular as tb`, `n_users = tb.read("ratings.csv").user.max() + 1`): backprop-doctor loads it
with a stand-in for that module, the line raises on the stand-in, and that is said as it is, a warning
to install the module, not an error to fix in the file. An error of the module's own stays an error."""

from tests.userfiles import check, line_of, write

SIBLING = """
    import tabular_nowhere as tb

    table = tb.read("ratings.csv")
    n_users = table.user.max() + 1
"""

ON_A_STANDIN = """
    import numpy as np
    from ratings import n_users


    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T
"""


def test_a_line_that_raises_on_a_standin_is_a_warning_naming_the_module(tmp_path):
    sibling = write(tmp_path, "ratings.py", SIBLING)
    report = check(write(tmp_path, "mf.py", ON_A_STANDIN))
    (load,) = [f for f in report["findings"] if f["code"] == "BPD004"]
    assert (load["severity"], load["line"]) == ("warning", line_of(sibling, "n_users = "))
    assert "stand-in for `tabular_nowhere`" in load["message"], load["message"]


def test_an_error_of_the_files_own_is_still_an_error(tmp_path):
    write(tmp_path, "ratings.py", SIBLING.replace("n_users = table.user.max() + 1", "n_users = len(None)"))
    (load,) = [f for f in check(write(tmp_path, "mf.py", ON_A_STANDIN))["findings"] if f["code"] == "BPD004"]
    assert load["severity"] == "error", load
