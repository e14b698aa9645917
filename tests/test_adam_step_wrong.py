"""An Adam class given one constant gradient five times must move each parameter by exactly its
rate against the gradient's sign at every update: `adam-step-wrong` (BPD208) names a step that
divides by v̂ instead of √v̂, bias corrections left out, a step count that never advances and one
that starts at zero, at the method's update line; the book's Adam, a textbook Adam with ε inside
the root and one over a list of parameters are clean."""

import pytest

from tests.userfiles import check, errors, line_of, planted, write

TEXTBOOK = """
    import numpy as np


    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
            self.t = 0
            self.m, self.v = {}, {}

        def update(self, params, grads):
            self.t += 1
            for key in params:
                if key not in self.m:
                    self.m[key] = np.zeros_like(params[key])
                    self.v[key] = np.zeros_like(params[key])
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
"""

BOOK = """
    import numpy as np


    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
            self.lr = lr
            self.beta1 = beta1
            self.beta2 = beta2
            self.iter = 0
            self.m = None
            self.v = None

        def update(self, params, grads):
            if self.m is None:
                self.m, self.v = {}, {}
                for key, val in params.items():
                    self.m[key] = np.zeros_like(val)
                    self.v[key] = np.zeros_like(val)
            self.iter += 1
            lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
            for key in params.keys():
                self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
                self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
                params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
"""

LISTS = """
    import numpy as np


    class AdamOptimizer:
        def __init__(self, learning_rate=0.01, b1=0.9, b2=0.999):
            self.learning_rate, self.b1, self.b2 = learning_rate, b1, b2
            self.step_count = 0
            self.m = self.v = None

        def step(self, params, grads):
            if self.m is None:
                self.m = [np.zeros_like(p) for p in params]
                self.v = [np.zeros_like(p) for p in params]
            self.step_count += 1
            for i, (p, g) in enumerate(zip(params, grads)):
                self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
                self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
                m_hat = self.m[i] / (1 - self.b1 ** self.step_count)
                v_hat = self.v[i] / (1 - self.b2 ** self.step_count)
                p -= self.learning_rate * m_hat / np.sqrt(v_hat + 1e-8)
"""


@pytest.mark.parametrize("text", [TEXTBOOK, BOOK, LISTS], ids=["textbook", "book", "lists"])
def test_adam_written_right_is_clean(tmp_path, text):
    report = check(write(tmp_path, "optim.py", text))
    assert [f for f in report["findings"] if f["code"] == "BPD208"] == []
    assert any(b["kind"] == "optimizer" for b in report["built"])


def _wrong(path) -> dict:
    (found,) = [f for f in check(path)["findings"] if f["code"] == "BPD208"]
    return found


def test_dividing_by_v_hat_instead_of_its_root(tmp_path):
    path = planted(tmp_path, "optim.py", TEXTBOOK, "np.sqrt(v_hat) + self.eps", "v_hat + self.eps")
    found = _wrong(path)
    assert (found["severity"], found["pattern"]) == ("error", "inverse-magnitude")
    assert found["line"] == line_of(path, "params[key] -= ")
    assert "instead of √v̂" in found["message"]


def test_bias_corrections_left_out(tmp_path):
    path = planted(tmp_path, "optim.py", TEXTBOOK, "self.lr * m_hat / (np.sqrt(v_hat)", "self.lr * self.m[key] / (np.sqrt(self.v[key])")
    found = _wrong(path)
    assert found["pattern"] == "uniform"
    assert "3.16 × as far at its first update" in found["message"]
    assert found["severity"] == "warning"  # 3.16× at first, nearer 1 later: a bias correction's own size


def test_a_step_count_that_never_advances(tmp_path):
    path = planted(tmp_path, "optim.py", TEXTBOOK, "self.t += 1", "self.t = 1")
    found = _wrong(path)
    assert found["pattern"] == "uniform"
    assert "at update 2" in found["message"]


def test_a_step_count_used_before_it_is_counted_is_an_error(tmp_path):
    text = TEXTBOOK.replace("            self.t += 1\n", "").replace(
        "                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n",
        "                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n            self.t += 1\n",
    )
    assert "self.t += 1\n" in text
    found = _wrong(write(tmp_path, "optim.py", text))
    assert (found["severity"], found["pattern"]) == ("error", "not-finite")


def test_a_second_moment_of_the_gradient_itself_is_named_at_its_line(tmp_path):
    """`v = beta2 * v + (1 - beta2) * g`: a running mean of the gradient, negative where it is, whose
    root is NaN; the count is right, so the message names the moment, not the count."""
    path = planted(tmp_path, "optim.py", TEXTBOOK, "(1 - self.beta2) * grads[key] ** 2", "(1 - self.beta2) * grads[key]")
    found = _wrong(path)
    assert (found["severity"], found["pattern"]) == ("error", "not-finite")
    assert found["line"] == line_of(path, "self.v[key] = self.beta2")
    assert "averages the gradient itself, not its square" in found["message"]
    assert "t += 1" not in found["message"]


def test_the_check_leaves_every_other_optimizer_alone(tmp_path):
    # a family the check has no rule for (RMSProp and AdaGrad are judged: tests/test_rmsprop_adagrad_step.py)
    text = TEXTBOOK.replace("class Adam:", "class Lion:").replace("np.sqrt(v_hat) + self.eps", "v_hat + self.eps")
    report = check(write(tmp_path, "optim.py", text))
    assert [f for f in report["findings"] if f["code"] == "BPD208"] == []


CS231N = """
    import numpy as np


    def adam(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("m", np.zeros_like(w))
        config.setdefault("v", np.zeros_like(w))
        config.setdefault("t", 0)
        config["t"] += 1
        config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
        config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
        mt = config["m"] / (1 - config["beta1"] ** config["t"])
        vt = config["v"] / (1 - config["beta2"] ** config["t"])
        next_w = w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"])
        return next_w, config
"""

COURSE = """
    import numpy as np


    def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
        L = len(parameters) // 2
        v_corrected, s_corrected = {}, {}
        for l in range(1, L + 1):
            for p in ("W", "b"):
                key = "d" + p + str(l)
                if (p + str(l)) not in parameters:
                    continue
                v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
                s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
                v_corrected[key] = v[key] / (1 - beta1 ** t)
                s_corrected[key] = s[key] / (1 - beta2 ** t)
                parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
        return parameters, v, s
"""


def test_cs231n_adam_written_right_is_clean(tmp_path):
    assert [f for f in check(write(tmp_path, "optim.py", CS231N))["findings"] if f["code"] == "BPD208"] == []


def test_cs231n_adam_whose_count_never_advances(tmp_path):
    path = planted(tmp_path, "optim.py", CS231N, 'config["t"] += 1', 'config["t"] = 1')
    found = _wrong(path)
    assert found["pattern"] == "uniform" and "`adam` does not step as Adam does" in found["message"]
    assert found["line"] == line_of(path, 'config["t"] = 1')  # the count set again at every update
    assert line_of(path, "next_w = w -") in found["highlight"]


def test_course_adam_written_right_is_clean(tmp_path):
    assert [f for f in check(write(tmp_path, "opt_utils.py", COURSE))["findings"] if f["code"] == "BPD208"] == []


def test_course_adam_with_the_power_outside_the_parentheses(tmp_path):
    path = planted(tmp_path, "opt_utils.py", COURSE, "(1 - beta1 ** t)", "(1 - beta1) ** t")
    found = _wrong(path)
    assert found["line"] == line_of(path, "(1 - beta1) ** t")
    assert line_of(path, "parameters[p + str(l)] = ") in found["highlight"]


LIST_FUNCTION = """
    import numpy as np


    def adam_step(params, grads, m, v, t, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
        for i in range(len(params)):
            m[i] = b1 * m[i] + (1 - b1) * grads[i]
            v[i] = b2 * v[i] + (1 - b2) * grads[i] * grads[i]
            mhat = m[i] / (1 - b1 ** t)
            vhat = v[i] / (1 - b2 ** t)
            params[i] -= lr * mhat / (np.sqrt(vhat) + eps)
"""


def test_an_adam_function_over_lists_written_right_is_clean(tmp_path):
    assert [f for f in check(write(tmp_path, "opt.py", LIST_FUNCTION))["findings"] if f["code"] == "BPD208"] == []


def test_an_adam_function_over_lists_that_multiplies_by_its_bias_correction(tmp_path):
    path = planted(tmp_path, "opt.py", LIST_FUNCTION, "vhat = v[i] / (1 - b2 ** t)", "vhat = v[i] * (1 - b2 ** t)")
    found = _wrong(path)
    assert (found["severity"], found["pattern"]) == ("error", "uniform")
    assert found["line"] == line_of(path, "vhat = v[i] * (1 - b2 ** t)")
    assert "1e+03 × as far at its first update" in found["message"]


@pytest.mark.parametrize(
    ("correct", "crossed", "ratio"),
    [
        ("v_hat = self.v[key] / (1 - self.beta2 ** self.t)", "v_hat = self.v[key] / (1 - self.beta1 ** self.t)", 10.0),
        ("m_hat = self.m[key] / (1 - self.beta1 ** self.t)", "m_hat = self.m[key] / (1 - self.beta2 ** self.t)", 100.0),
    ],
    ids=["v_hat-by-beta1", "m_hat-by-beta2"],
)
def test_a_correction_by_the_other_moments_decay_rate_is_named_at_its_line(tmp_path, correct, crossed, ratio):
    # v̂ corrected by 1 - β₁: v̂ = (1 - β₂)g² / (1 - β₁), so the first step is √((1 - β₁)/(1 - β₂)) = 10x Adam's
    path = planted(tmp_path, "optim.py", TEXTBOOK, correct, crossed)
    found = _wrong(path)
    assert (found["severity"], found["line"]) == ("error", line_of(path, crossed))
    assert found["measured"] == pytest.approx(ratio, rel=0.02)


def test_the_books_in_place_second_moment_of_the_gradient_itself_is_named_at_its_line(tmp_path):
    """The book's form, `v += (1 - beta2) * (g - v)`, with the square left out: the same running mean of
    the gradient, named at its line, not put on the count (which the book advances before it corrects)."""
    path = planted(tmp_path, "optim.py", BOOK, "(grads[key] ** 2 - self.v[key])", "(grads[key] - self.v[key])")
    found = _wrong(path)
    assert (found["severity"], found["pattern"]) == ("error", "not-finite")
    assert found["line"] == line_of(path, "self.v[key] += (1 - self.beta2)")
    assert "averages the gradient itself, not its square" in found["message"]
    assert "t += 1" not in found["message"]
