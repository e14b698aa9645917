"""A cost-and-gradient function the program calls with a function or a dict of helpers among its
arguments (cs224d's word2vec: `wrapper(skipgram, tokens, vectors, dataset, C, costAndGradient)`,
a negative-sampling cost handed `{"sample": ..., "sigmoid": ...}`) is checked on the program's own
call: the run loads the file again, so its functions are matched by where they are defined; the
function, class and helper arguments are passed as the program passed them, never replaced by
arrays; Python's `random`, which draws the contexts and the negative samples, gives the same draws
to every call; a returned gradient whose name spells no argument (`grad_center`, `gradPred`) belongs
to the one argument shaped as it is in that call."""

from tests.userfiles import check, errors, line_of, planted

MODEL_ARGUMENT = """
    import random

    import numpy as np


    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()


    def skip_pairs(center_vec, targets, out_vecs):
        cost = 0.0
        grad_center = np.zeros_like(center_vec)
        grad_out = np.zeros_like(out_vecs)
        for t in targets:
            p = softmax(out_vecs @ center_vec)
            cost -= np.log(p[t])
            p[t] -= 1
            grad_center += out_vecs.T @ p
            grad_out += np.outer(p, center_vec)
        return cost, grad_center, grad_out


    def corpus_cost(model, vectors, windows, batch):
        n = vectors.shape[0] // 2
        in_vecs, out_vecs = vectors[:n], vectors[n:]
        cost = 0.0
        grad = np.zeros_like(vectors)
        for _ in range(batch):
            center, targets = random.choice(windows)
            c, g_in, g_out = model(in_vecs[center], targets, out_vecs)
            cost += c / batch
            grad[center] += g_in / batch
            grad[n:] += g_out / batch
        return cost, grad


    def numerical_check(f, x, h=1e-5):
        state = random.getstate()
        cost, grad = f(x)
        worst = 0.0
        for ix in np.ndindex(x.shape):
            old = x[ix]
            x[ix] = old + h
            random.setstate(state)
            up, _ = f(x)
            x[ix] = old - h
            random.setstate(state)
            down, _ = f(x)
            x[ix] = old
            worst = max(worst, abs((up - down) / (2 * h) - grad[ix]))
        print("largest difference", worst)


    random.seed(3)
    np.random.seed(3)
    vectors = np.random.randn(10, 4) * 0.3
    windows = [(0, [1, 2]), (1, [0, 3]), (2, [4, 1]), (3, [2, 0]), (4, [3, 4])]
    numerical_check(lambda v: corpus_cost(skip_pairs, v, windows, 6), vectors)
"""

HELPER_DICT = """
    import random

    import numpy as np


    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))


    def negative_sampling_cost(center_vec, target, out_vecs, helpers, k=4):
        idx = [target] + [helpers["sample"]() for _ in range(k)]
        sign = np.array([1.0] + [-1.0] * k)
        u = out_vecs[idx]
        s = helpers["sigmoid"](sign * (u @ center_vec))
        cost = -np.sum(np.log(s))
        coef = (s - 1) * sign
        grad_center = u.T @ coef
        grad_out = np.zeros_like(out_vecs)
        for j, i in enumerate(idx):
            grad_out[i] += coef[j] * center_vec
        return cost, grad_center, grad_out


    random.seed(5)
    np.random.seed(5)
    in_vecs = np.random.randn(6, 3) * 0.5
    out_vecs = np.random.randn(6, 3) * 0.5
    helpers = {"sample": lambda: random.randint(0, 5), "sigmoid": sigmoid}
    for word in range(3):
        cost, g_center, g_out = negative_sampling_cost(in_vecs[word], (word + 1) % 6, out_vecs, helpers)
        print(word, cost, np.linalg.norm(g_center), np.linalg.norm(g_out))
"""


def _verdicts(report: dict, layer: str) -> dict[str, str]:
    return {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == layer}


def test_a_cost_function_handed_its_model_function_is_checked_on_the_programs_call(tmp_path):
    report = check(planted(tmp_path, "w2v.py", MODEL_ARGUMENT, "grad_center += out_vecs.T @ p", "grad_center += out_vecs.T @ p"))
    assert errors(report) == [], errors(report)
    assert _verdicts(report, "corpus_cost") == {"vectors": "ok"}, report["measurements"]
    assert _verdicts(report, "skip_pairs") == {"center_vec": "ok", "out_vecs": "ok"}, report["measurements"]


def test_a_wrong_gradient_of_the_model_function_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "w2v.py", MODEL_ARGUMENT, "grad_center += out_vecs.T @ p", "grad_center -= out_vecs.T @ p")
    report = check(path)
    assert report["root_cause"] is not None, report["findings"]
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["layer"], root["param"]) == ("BPD101", "skip_pairs", "center_vec"), root
    assert root["line"] == line_of(path, "grad_center -= out_vecs.T @ p")


def test_a_cost_function_handed_a_dict_of_helpers_is_checked_on_the_programs_call(tmp_path):
    report = check(planted(tmp_path, "neg.py", HELPER_DICT, "coef = (s - 1) * sign", "coef = (s - 1) * sign"))
    assert errors(report) == [], errors(report)
    assert _verdicts(report, "negative_sampling_cost") == {"center_vec": "ok", "out_vecs": "ok"}, report["measurements"]


def test_a_wrong_gradient_beside_the_helpers_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "neg.py", HELPER_DICT, "grad_out[i] += coef[j] * center_vec", "grad_out[i] -= coef[j] * center_vec")
    report = check(path)
    assert report["root_cause"] is not None, report["findings"]
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["layer"], root["param"]) == ("BPD101", "negative_sampling_cost", "out_vecs"), root
    assert root["line"] == line_of(path, "grad_out[i] -= coef[j] * center_vec")


def test_a_gradient_whose_name_spells_no_argument_is_told_by_its_shape(tmp_path):
    """`grad_center` is no `center_vec` by name: the program's call returned it shaped as `center_vec`
    alone, so it is that argument's gradient (cs224d's `return cost, gradPred, grad`)."""
    path = planted(tmp_path, "neg.py", HELPER_DICT, "grad_center = u.T @ coef", "grad_center = -u.T @ coef")
    report = check(path)
    assert report["root_cause"] is not None, report["findings"]
    root = report["findings"][report["root_cause"]]
    assert (root["code"], root["layer"], root["param"]) == ("BPD101", "negative_sampling_cost", "center_vec"), root
    assert root["line"] == line_of(path, "grad_center = -u.T @ coef")
