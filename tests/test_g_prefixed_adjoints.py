"""Adjoints written with a `g` before the forward value's name (`gy` of `y`, `ga` of `a`, `gh` of `h`,
as DeZero writes `gy`) are paired with that value and measured, in a script's own loop and inside the
backward function a step calls, so a wrong one is named with the derivative it needs; a `g` before a
name the pass never bound (`gamma`, `grads`) pairs with nothing."""

from tests.userfiles import check, errors, line_of, planted, replayed

SCRIPT = """
    import numpy as np

    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    t = np.tanh(X[:, :1] - 0.5 * X[:, 2:])
    U = rng.normal(size=(3, 7)) * 0.5
    u0 = np.zeros(7)
    V = rng.normal(size=(7, 1)) * 0.5
    v0 = np.zeros(1)
    lr = 0.1

    for it in range(250):
        h = X @ U + u0
        a = np.tanh(h)
        y = a @ V + v0
        loss = 0.5 * np.sum((y - t) ** 2) / len(X)
        gy = (y - t) / len(X)
        gV = a.T @ gy
        gv0 = gy.sum(axis=0)
        ga = gy @ V.T
        gh = ga * (1 - a ** 2)
        gU = X.T @ gh
        gu0 = gh.sum(axis=0)
        U -= lr * gU
        u0 -= lr * gu0
        V -= lr * gV
        v0 -= lr * gv0
"""

FUNCTIONS = """
    import numpy as np


    def run_forward(inp, net):
        pre = inp @ net["M1"] + net["m1"]
        act = np.maximum(pre, 0.0)
        out = act @ net["M2"] + net["m2"]
        return out, (inp, pre, act)


    def run_backward(gout, saved, net):
        inp, pre, act = saved
        grads = {}
        grads["M2"] = act.T @ gout
        grads["m2"] = gout.sum(axis=0)
        gact = gout @ net["M2"].T
        gpre = gact * (pre > 0)
        grads["M1"] = inp.T @ gpre
        grads["m1"] = gpre.sum(axis=0)
        return grads


    gen = np.random.default_rng(8)
    data = gen.normal(size=(36, 4))
    goal = (data[:, :1] * data[:, 3:] > 0).astype(float)
    net = {"M1": gen.normal(size=(4, 9)) * 0.5, "m1": np.full(9, 0.1), "M2": gen.normal(size=(9, 1)) * 0.5, "m2": np.zeros(1)}

    for epoch in range(150):
        out, saved = run_forward(data, net)
        cost = np.mean((out - goal) ** 2)
        gout = 2 * (out - goal) / out.size
        grads = run_backward(gout, saved, net)
        for name in net:
            net[name] -= 0.05 * grads[name]
"""


def _adjoints(report: dict) -> dict[str, bool]:
    return {a["name"]: a["wrong"] for a in replayed(report)["adjoints"]}


def test_the_correct_script_is_clean(tmp_path):
    report = check(planted(tmp_path, "gscript.py", SCRIPT, "gh = ga * (1 - a ** 2)", "gh = ga * (1 - a ** 2)"))
    assert errors(report) == []


def test_a_wrong_g_adjoint_in_a_script_is_named_with_its_derivative(tmp_path):
    path = planted(tmp_path, "gscript.py", SCRIPT, "gh = ga * (1 - a ** 2)", "gh = ga * (1 - a)")
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD108", found
    assert found[0]["line"] == line_of(path, "gh = ga * (1 - a)")
    assert "`gh`" in found[0]["message"] and "1 - a ** 2" in found[0]["message"]
    assert _adjoints(report) == {"gy": False, "ga": False, "gh": True}


def test_the_correct_functions_are_clean(tmp_path):
    report = check(planted(tmp_path, "gfunctions.py", FUNCTIONS, "gpre = gact * (pre > 0)", "gpre = gact * (pre > 0)"))
    assert errors(report) == []


def test_a_wrong_g_adjoint_in_a_backward_function_is_named(tmp_path):
    path = planted(tmp_path, "gfunctions.py", FUNCTIONS, "gpre = gact * (pre > 0)", "gpre = gact * (pre > 0) * pre")
    report = check(path)
    found = errors(report)
    assert found and found[0]["code"] == "BPD108", found
    assert found[0]["line"] == line_of(path, "gpre = gact * (pre > 0) * pre")
    assert "`gpre`" in found[0]["message"] and "ReLU" in found[0]["message"]
    assert _adjoints(report)["gpre"] is True
    assert _adjoints(report)["gact"] is False
