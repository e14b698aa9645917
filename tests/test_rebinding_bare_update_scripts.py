"""A script that moves its weights by rebinding them to themselves plus a matrix product, with no
learning rate and no loss variable (`w = w + inputs.T.dot(delta)`, the rebinding twin of
`w += ...`), is a training loop: its step is replayed against the loss its output error implies, and
a wrong derivative is found. Written with tabs and a `squash(x, deriv)` helper, or with spaces and a
step taken off (`w = w - ...`)."""

from tests.userfiles import check, errors, line_of, planted, replayed, step_verdicts

TABS = (
    "import numpy as np\n"
    "\n"
    "def squash(v, deriv=False):\n"
    "\tif deriv:\n"
    "\t\treturn v * (1 - v)\n"
    "\treturn 1 / (1 + np.exp(-v))\n"
    "\n"
    "rows = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 1]])\n"
    "wanted = np.array([[1, 0, 1, 0, 1]]).T\n"
    "np.random.seed(4)\n"
    "first = 2 * np.random.random((3, 5)) - 1\n"
    "second = 2 * np.random.random((5, 1)) - 1\n"
    "\n"
    "for n in range(5000):\n"
    "\thid = squash(np.dot(rows, first))\n"
    "\tfin = squash(np.dot(hid, second))\n"
    "\tmiss = wanted - fin\n"
    "\tfin_delta = miss * squash(fin, True)\n"
    "\thid_delta = fin_delta.dot(second.T) * squash(hid, True)\n"
    "\tsecond = second + hid.T.dot(fin_delta)\n"
    "\tfirst = first + rows.T.dot(hid_delta)\n"
)

SPACES = """
    import numpy as np

    np.random.seed(9)
    features = np.random.rand(30, 2)
    answers = (features.sum(axis=1, keepdims=True) > 1).astype(float)
    mix = np.random.normal(0, 0.5, (2, 1))

    for sweep in range(400):
        guess = 1 / (1 + np.exp(-(features @ mix)))
        slope = (guess - answers) * guess * (1 - guess)
        mix = mix - np.dot(features.T, slope)
"""


def test_the_correct_tabbed_script_is_replayed_clean(tmp_path):
    report = check(planted(tmp_path, "two_layer.py", TABS, "squash(hid, True)", "squash(hid, True)"))
    assert errors(report) == []
    replayed(report)
    assert step_verdicts(report) == {"second": "ok", "first": "ok"}


def test_a_wrong_derivative_in_the_tabbed_script_is_found(tmp_path):
    path = planted(tmp_path, "two_layer.py", TABS, "* squash(hid, True)", "* squash(hid)")
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD108", found
    assert step_verdicts(report)["first"] == "mismatch" and step_verdicts(report)["second"] == "ok"
    assert found[0]["line"] in (line_of(path, "hid_delta = "), line_of(path, "first = first + "))


def test_the_correct_spaced_script_is_replayed_clean(tmp_path):
    report = check(planted(tmp_path, "one_layer.py", SPACES, "guess * (1 - guess)", "guess * (1 - guess)"))
    assert errors(report) == []
    replayed(report)
    assert step_verdicts(report) == {"mix": "ok"}


def test_a_wrong_slope_in_the_spaced_script_is_found(tmp_path):
    # no loss is computed, so the step is told as following none of the losses its error implies
    path = planted(tmp_path, "one_layer.py", SPACES, "guess * (1 - guess)", "(1 - guess)")
    found = [f for f in check(path)["findings"] if f["code"] == "BPD108"]
    assert [f["line"] for f in found] == [line_of(path, "mix = mix - ")], found
    assert "follow none of the losses" in found[0]["message"]
