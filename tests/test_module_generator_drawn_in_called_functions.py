"""A module-level random generator (`rng = np.random.RandomState(11)`) drawn from both by a function
the training pass calls (`env_batch`) and by the pass itself (`rng.choice`), the loop inside a
function (`train()` called from the main block): the replay puts that one generator back before every
run instead of drawing from a copy, so each run sees the program's own draws and the step is judged."""

from tests.userfiles import check, errors, line_of, planted, replayed, write

BANDIT = """
    import numpy as np

    rng = np.random.RandomState(11)
    W_best = rng.randn(4, 3)


    def env_batch(n):
        s = rng.randn(n, 4)
        return s, np.argmax(s @ W_best, axis=1)


    def policy(W, s):
        z = s @ W
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


    def surrogate(W, s, a, adv):
        n = len(s)
        probs = policy(W, s)
        loss = -np.mean(np.log(probs[np.arange(n), a]) * adv)
        onehot = np.eye(3)[a]
        dlogits = (probs - onehot) * adv[:, None] / n
        return loss, s.T @ dlogits


    def train(epochs=200, lr=0.5):
        W = np.zeros((4, 3))
        baseline = 0.0
        for ep in range(epochs):
            s, best = env_batch(128)
            probs = policy(W, s)
            a = np.array([rng.choice(3, p=p) for p in probs])
            r = (a == best).astype(float)
            baseline = 0.9 * baseline + 0.1 * r.mean()
            loss, dW = surrogate(W, s, a, r - baseline)
            W -= lr * dW
            if ep % 50 == 0:
                print(ep, r.mean(), loss)
        return W


    if __name__ == "__main__":
        train()
"""


def test_the_step_is_replayed_with_the_programs_own_draws_and_is_clean(tmp_path):
    report = check(write(tmp_path, "bandit.py", BANDIT))
    assert errors(report) == [], errors(report)
    assert [p["wrong"] for p in replayed(report)["parameters"]] == [False], report["extras"]["replay"]


def test_a_gradient_with_its_sign_turned_is_told(tmp_path):
    path = planted(tmp_path, "bandit.py", BANDIT, "dlogits = (probs - onehot)", "dlogits = (onehot - probs)")
    found = errors(check(path))
    assert [f["code"] for f in found] == ["BPD108"], found
    assert "sign" in found[0]["message"], found[0]["message"]
