"""Rows of a factor matrix moved one sample at a time, the gradient written inline in the update
(`P[u] += lr * (err * Q[i] - reg * P[u])`, Funk-style matrix factorisation), the loss a running sum
the loop reports under any name (`total += err ** 2`). The step is the pass of one rating: its
gradient is the half of the squared error's (the 2 is the program's scale against a loss it only
reports), the `reg` term weight decay that loss leaves out; a wrong row update is named at its line,
and the running sum's terms, one sample after another, are no curve that rises."""

from tests.userfiles import check, errors, line_of, planted, replayed, write

FACTORS = """
    import numpy as np

    # 行列分解: 評価を一つずつ見て行を更新する
    rng = np.random.default_rng(0)
    n_users, n_items, k = 30, 40, 5
    true_u = rng.normal(size=(n_users, k))
    true_v = rng.normal(size=(n_items, k))
    ratings = [(u, i, true_u[u] @ true_v[i]) for u in range(n_users) for i in range(n_items) if rng.random() < 0.3]

    P = 0.1 * rng.normal(size=(n_users, k))
    Q = 0.1 * rng.normal(size=(n_items, k))
    lr, reg = 0.02, 0.01

    for epoch in range(30):
        total = 0.0
        for u, i, r in ratings:
            err = r - P[u] @ Q[i]
            total += err ** 2
            pu = P[u].copy()
            P[u] += lr * (err * Q[i] - reg * P[u])
            Q[i] += lr * (err * pu - reg * Q[i])
        print(epoch, total / len(ratings))
"""


def test_correct_factorisation_is_checked_and_clean(tmp_path):
    report = check(write(tmp_path, "mf.py", FACTORS), training=True)
    assert errors(report) == [], errors(report)
    assert replayed(report)["parameters"], report["extras"]["replay"]
    decays = {f["line"] for f in report["findings"] if f["code"] == "BPD109"}
    path = tmp_path / "mf.py"
    assert decays == {line_of(path, "P[u] += lr"), line_of(path, "Q[i] += lr")}, report["findings"]


def test_a_row_update_with_the_wrong_factor_is_named_at_its_line(tmp_path):
    path = planted(tmp_path, "mf.py", FACTORS, "Q[i] += lr * (err * pu", "Q[i] += lr * (err * Q[i]")
    found = errors(check(path))
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, "Q[i] += lr"))], found


def test_the_sum_named_as_a_loss_reads_the_same(tmp_path):
    path = write(tmp_path, "mf.py", FACTORS.replace("total", "loss_sum"))
    assert errors(check(path, training=True)) == []


PAIRWISE = """
    import numpy as np

    # BPR: 对每个 (用户, 正样本, 负样本) 三元组做一次梯度上升
    rng = np.random.default_rng(3)
    n_users, n_items, k = 20, 30, 4
    liked = {u: set(rng.choice(n_items, 5, replace=False)) for u in range(n_users)}
    U = 0.1 * rng.normal(size=(n_users, k))
    V = 0.1 * rng.normal(size=(n_items, k))
    lr, lam = 0.05, 0.001


    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))


    for epoch in range(20):
        objective = 0.0
        for _ in range(200):
            u = rng.integers(n_users)
            i = rng.choice(list(liked[u]))
            j = rng.integers(n_items)
            while j in liked[u]:
                j = rng.integers(n_items)
            x = U[u] @ (V[i] - V[j])
            s = sigmoid(-x)
            objective += np.log(sigmoid(x))
            uu = U[u].copy()
            U[u] += lr * (s * (V[i] - V[j]) - lam * U[u])
            V[i] += lr * (s * uu - lam * V[i])
            V[j] += lr * (-s * uu - lam * V[j])
        print(epoch, objective / 200)
"""


def test_rows_drawn_at_random_climbing_a_log_likelihood_are_checked_and_clean(tmp_path):
    """The rows are picked by names the pass draws (`u = rng.integers(...)`), the objective is a
    log-likelihood the updates climb, and each update decays its row a little."""
    report = check(write(tmp_path, "bpr.py", PAIRWISE))
    assert errors(report) == [], errors(report)
    assert len(replayed(report)["parameters"]) == 3, report["extras"]["replay"]


def test_a_row_climbing_the_wrong_way_is_named_at_its_line_not_as_a_stale_read(tmp_path):
    """`V[j]` is read after `V[i]` moved: another row, which that update did not touch."""
    path = planted(tmp_path, "bpr.py", PAIRWISE, "V[j] += lr * (-s * uu", "V[j] += lr * (s * uu")
    found = errors(check(path))
    assert [(f["code"], f["line"]) for f in found] == [("BPD108", line_of(path, "V[j] += lr"))], found
    assert "after line" not in found[0]["message"], found[0]["message"]
