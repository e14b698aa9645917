"""A policy gradient (REINFORCE, a score-function estimate) steps along `(onehot(a) - pi) * advantage` for
actions drawn from the policy the parameters make: the gradient of no deterministic loss of the parameters,
only of a surrogate `-mean(advantage * log pi(a))` while the drawn actions are held. Against a regret or an
expected cost the program prints, such an update is not compared (an info note says so); against a
surrogate the step computes, or the file's loss function written beside the gradient function with its
parameters (`episode_loss(theta, visits, ret)` beside `episode_grad(theta, visits, ret)`), it is, and a
wrong one is found. Draws that are no sample of the policy (a mini-batch's indices, a dropout mask) leave
a step judged as before.
"""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted

BANDIT = '''\
import numpy as np

rng = np.random.default_rng(21)
n_features, n_arms = 5, 4
arm_weights = rng.normal(size=(n_features, n_arms))
W = np.zeros((n_features, n_arms))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def score_function_grad(W, X, chosen, advantage):
    pi = softmax(X @ W)
    pi[np.arange(len(chosen)), chosen] -= 1.0
    return X.T @ (pi * advantage[:, None]) / len(chosen)


def expected_shortfall(W, X):
    values = X @ arm_weights
    return np.mean(values.max(axis=1) - (softmax(X @ W) * values).sum(axis=1))


X_test = rng.normal(size=(300, n_features))
avg_reward = 0.0
for step in range(200):
    X = rng.normal(size=(48, n_features))
    loss = expected_shortfall(W, X)
    pi = softmax(X @ W)
    u = rng.random(48)
    chosen = np.array([np.searchsorted(np.cumsum(row), x) for row, x in zip(pi, u)]).clip(0, n_arms - 1)
    reward = (X @ arm_weights)[np.arange(48), chosen]
    advantage = reward - avg_reward
    avg_reward += 0.05 * (reward.mean() - avg_reward)
    W -= 0.4 * score_function_grad(W, X, chosen, advantage)
    if step % 40 == 0:
        print("step", step, "loss", loss, "held out", expected_shortfall(W, X_test))
'''

EPISODES = '''\
import numpy as np

rng = np.random.default_rng(5)
n_states, n_actions, horizon = 6, 2, 8
theta = np.zeros((n_states, n_actions))


def policy(theta, s):
    z = theta[s] - theta[s].max()
    p = np.exp(z)
    return p / p.sum()


def move(s, a):
    s2 = min(s + 1, n_states - 1) if a == 1 else max(s - 1, 0)
    return s2, (1.0 if s2 == n_states - 1 else -0.05)


def episode_loss(theta, visits, ret):
    return -ret * sum(np.log(policy(theta, s)[a]) for s, a in visits)


def episode_grad(theta, visits, ret):
    grad = np.zeros_like(theta)
    for s, a in visits:
        p = policy(theta, s)
        grad[s] -= p
        grad[s, a] += 1.0
    return -ret * grad


def expected_cost(theta):
    # exact: the value of the start state under the policy, by backward induction over the horizon
    v = np.zeros(n_states)
    for _ in range(horizon):
        new = np.zeros(n_states)
        for s in range(n_states):
            p = policy(theta, s)
            for a in range(n_actions):
                s2, r = move(s, a)
                new[s] += p[a] * (r + v[s2])
        v = new
    return -v[0]


for episode in range(150):
    s, ret = 0, 0.0
    visits = []
    for t in range(horizon):
        p = policy(theta, s)
        a = rng.choice(n_actions, p=p)
        visits.append((s, a))
        s, r = move(s, a)
        ret += r
    theta -= 0.1 * episode_grad(theta, visits, ret)
    if episode % 30 == 0:
        print(episode, "loss", expected_cost(theta))
'''

ROLLOUT_FUNCTION = '''\
import numpy as np

rng = np.random.default_rng(5)
n_states, n_actions, horizon = 6, 2, 8
theta = np.zeros((n_states, n_actions))


def policy(theta, s):
    z = theta[s] - theta[s].max()
    p = np.exp(z)
    return p / p.sum()


def move(s, a):
    s2 = min(s + 1, n_states - 1) if a == 1 else max(s - 1, 0)
    return s2, (1.0 if s2 == n_states - 1 else -0.05)


def expected_cost(theta):
    # exact: the value of the start state under the policy, by backward induction over the horizon
    v = np.zeros(n_states)
    for _ in range(horizon):
        new = np.zeros(n_states)
        for s in range(n_states):
            p = policy(theta, s)
            for a in range(n_actions):
                s2, r = move(s, a)
                new[s] += p[a] * (r + v[s2])
        v = new
    return -v[0]


def rollout(theta):
    s, ret = 0, 0.0
    visits = []
    for t in range(horizon):
        p = policy(theta, s)
        a = rng.choice(n_actions, p=p)
        visits.append((s, a, p))
        s, r = move(s, a)
        ret += r
    return visits, ret


for episode in range(150):
    grad = np.zeros_like(theta)
    visits, ret = rollout(theta)
    for s_t, a_t, p_t in visits:
        grad[s_t] -= p_t
        grad[s_t, a_t] += 1.0
    theta += 0.1 * ret * grad
    if episode % 30 == 0:
        print(episode, "loss", expected_cost(theta))
'''

DROPOUT_BATCHES = '''\
import numpy as np

rng = np.random.default_rng(2)
X = rng.normal(size=(200, 4))
y = (X[:, 0] - X[:, 2] > 0).astype(float)[:, None]
W1 = rng.normal(scale=0.5, size=(4, 16))
W2 = rng.normal(scale=0.5, size=(16, 1))
keep = 0.8
for it in range(300):
    idx = rng.choice(len(X), 32, replace=False)
    xb, yb = X[idx], y[idx]
    h = np.maximum(0, xb @ W1)
    mask = (rng.random(h.shape) < keep) / keep
    hd = h * mask
    p = 1 / (1 + np.exp(-(hd @ W2)))
    loss = -np.mean(yb * np.log(p) + (1 - yb) * np.log(1 - p))
    dz = (p - yb) / len(xb)
    dW2 = hd.T @ dz
    dh = dz @ W2.T * mask * (h > 0)
    dW1 = xb.T @ dh
    W1 -= 0.5 * dW1
    W2 -= 0.5 * dW2
    if it % 100 == 0:
        print(it, loss)
'''

ADVANTAGE = "    return X.T @ (pi * advantage[:, None]) / len(chosen)\n"
EVALUATED = "    loss = expected_shortfall(W, X)\n"
SURROGATE = "    logp = np.log(softmax(X @ W))\n    loss = -np.mean(advantage * logp[np.arange(48), chosen])\n"


def _notes(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-not-replayed"]


def test_a_bandit_policy_gradient_is_not_compared_with_the_regret_it_evaluates(tmp_path):
    report = check(planted(tmp_path, "ok.py", BANDIT, EVALUATED, EVALUATED), training=True)
    assert errors(report) == []
    (note,) = _notes(report)
    assert note["severity"] == "info" and "`W`" in note["message"] and "drawn from the policy" in note["message"]


def _with_surrogate(text: str) -> str:
    return text.replace(EVALUATED, "").replace("    avg_reward += 0.05", SURROGATE + "    avg_reward += 0.05")


def test_a_bandit_policy_gradient_is_compared_with_the_surrogate_the_step_computes(tmp_path):
    report = check(planted(tmp_path, "ok.py", _with_surrogate(BANDIT), ADVANTAGE, ADVANTAGE), training=True)
    assert errors(report) == []
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"W": "ok"}


def test_a_bandit_gradient_without_its_advantage_is_still_found_against_the_surrogate(tmp_path):
    wrong = "    return X.T @ pi / len(chosen)\n"
    (first, *_) = errors(check(planted(tmp_path, "bug.py", _with_surrogate(BANDIT), ADVANTAGE, wrong), training=True))
    assert first["name"] == "step-gradient-mismatch" and "score_function_grad" in first["message"]


def _without_twin(text: str) -> str:
    start, end = text.index("def episode_loss"), text.index("def episode_grad")
    return text[:start] + text[end:]


PROBABILITY = "        grad[s] -= p\n"


def test_an_episode_policy_gradient_is_not_compared_with_the_expected_cost(tmp_path):
    report = check(planted(tmp_path, "ok.py", _without_twin(EPISODES), PROBABILITY, PROBABILITY), training=True)
    assert errors(report) == []
    (note,) = _notes(report)
    assert "`theta`" in note["message"]


def test_an_episode_policy_gradient_is_compared_with_the_loss_function_beside_it(tmp_path):
    report = check(planted(tmp_path, "ok.py", EPISODES, PROBABILITY, PROBABILITY), training=True)
    assert errors(report) == []
    assert {m["param"]: m["verdict"] for m in report["measurements"] if m["layer"] == "training step"} == {"theta": "ok"}


def test_a_wrong_episode_gradient_is_found_against_the_loss_function_beside_it(tmp_path):
    (first, *_) = errors(check(planted(tmp_path, "bug.py", EPISODES, PROBABILITY, "        grad[s] += p\n"), training=True))
    assert first["name"] == "step-gradient-mismatch" and "episode_loss" in first["message"]


def test_actions_drawn_in_a_rollout_function_the_pass_calls_are_sampled_too(tmp_path):
    report = check(planted(tmp_path, "ok.py", ROLLOUT_FUNCTION, "    visits, ret = rollout(theta)\n", "    visits, ret = rollout(theta)\n"), training=True)
    assert errors(report) == []
    (note,) = _notes(report)
    assert "`theta`" in note["message"]


MASK = "    dh = dz @ W2.T * mask * (h > 0)\n"


def test_random_batches_and_a_dropout_mask_are_no_sampled_policy(tmp_path):
    report = check(planted(tmp_path, "ok.py", DROPOUT_BATCHES, MASK, MASK), training=True)
    assert errors(report) == [] and _notes(report) == []
    path = planted(tmp_path, "bug.py", DROPOUT_BATCHES, MASK, "    dh = dz @ W2.T * (h > 0)\n")
    assert [f["line"] for f in errors(check(path, training=True))][:1] == [line_of(path, "dh = dz @ W2.T * (h > 0)")]
