"""Two networks trained in turn in one loop, each with its own loss (a GAN: the discriminator's loss
and update, then the generator's loss, computed through the updated discriminator, and its update).
Each update is replayed against the loss computed since the update before it: the generator's
gradient against the generator's loss, not the discriminator's. A network named `G` beside `D` is a
parameter container, not gradients. The right programs are clean; a wrong gradient through the
discriminator is named at its line."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, step_verdicts

# style 1: parameter dicts, functions returning (loss, grads), update loops over the keys
DICTS = """\
import numpy as np

rng = np.random.default_rng(11)


def init(n_in, n_hidden, n_out):
    return {"A": rng.normal(0, 0.5, (n_in, n_hidden)), "a": np.zeros(n_hidden),
            "B": rng.normal(0, 0.5, (n_hidden, n_out)), "c": np.zeros(n_out)}


def forward(net, x):
    h = np.tanh(x @ net["A"] + net["a"])
    return h, h @ net["B"] + net["c"]


def backward(net, x, h, dy):
    grads = {"B": h.T @ dy, "c": dy.sum(axis=0)}
    dh = dy @ net["B"].T * (1 - h ** 2)
    grads["A"] = x.T @ dh
    grads["a"] = dh.sum(axis=0)
    return grads, dh @ net["A"].T


def sig(v):
    return 1 / (1 + np.exp(-v))


def critic_loss(D, real, fake):
    h1, s1 = forward(D, real)
    h2, s2 = forward(D, fake)
    p1, p2 = sig(s1), sig(s2)
    loss = -np.mean(np.log(p1)) - np.mean(np.log(1 - p2))
    g1, _ = backward(D, real, h1, (p1 - 1) / len(real))
    g2, _ = backward(D, fake, h2, p2 / len(fake))
    return loss, {k: g1[k] + g2[k] for k in g1}


def maker_loss(G, D, noise):
    hg, fake = forward(G, noise)
    hd, s = forward(D, fake)
    p = sig(s)
    loss = -np.mean(np.log(p))
    ds = (p - 1) / len(noise)
    _, dfake = backward(D, fake, hd, ds)
    grads, _ = backward(G, noise, hg, dfake)
    return loss, grads


G = init(2, 8, 2)
D = init(2, 8, 1)
lr_g, lr_d = 0.05, 0.05
for it in range(300):
    real = rng.normal([2.0, -1.0], 0.3, (32, 2))
    noise = rng.normal(size=(32, 2))
    _, fake = forward(G, noise)
    loss_d, grads_d = critic_loss(D, real, fake)
    for k in D:
        D[k] -= lr_d * grads_d[k]
    noise = rng.normal(size=(32, 2))
    loss_g, grads_g = maker_loss(G, D, noise)
    for k in G:
        G[k] -= lr_g * grads_g[k]
    if it % 100 == 0:
        print(it, loss_d, loss_g)
"""

# style 2: plain arrays, the whole pass written inline, one-layer generator and discriminator
INLINE = """\
import numpy as np

np.random.seed(4)
Wg = np.random.randn(3, 1) * 0.3
bg = np.zeros(1)
Wd = np.random.randn(1, 1) * 0.3
bd = np.zeros(1)
lr = 0.05


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


for i in range(400):
    real = np.random.normal(1.5, 0.2, (16, 1))
    z = np.random.randn(16, 3)
    fake = z @ Wg + bg
    p_real = sigmoid(real @ Wd + bd)
    p_fake = sigmoid(fake @ Wd + bd)
    loss_disc = -np.mean(np.log(p_real) + np.log(1 - p_fake))
    e_real = (p_real - 1) / 16
    e_fake = p_fake / 16
    gWd = real.T @ e_real + fake.T @ e_fake
    gbd = e_real.sum(axis=0) + e_fake.sum(axis=0)
    Wd -= lr * gWd
    bd -= lr * gbd
    z = np.random.randn(16, 3)
    fake = z @ Wg + bg
    score = fake @ Wd + bd
    p_fake = sigmoid(score)
    loss_gen = -np.mean(np.log(p_fake))
    d_score = (p_fake - 1) / 16
    d_fake = d_score @ Wd.T
    gWg = z.T @ d_fake
    gbg = d_fake.sum(axis=0)
    Wg -= lr * gWg
    bg -= lr * gbg
    if i % 100 == 0:
        print(i, loss_disc, loss_gen)
"""


def test_two_networks_trained_in_turn_are_each_replayed_against_their_own_loss(tmp_path):
    for name, text, generator in (("dicts.py", DICTS, "G['A']"), ("inline.py", INLINE, "Wg")):
        report = check(planted(tmp_path / name.removesuffix(".py"), name, text, "", ""))
        assert errors(report) == [], (name, errors(report))
        steps = report["extras"]["replay"]
        assert len(steps) == 2 and all(s["not_replayed"] is None for s in steps), (name, steps)
        verdicts = step_verdicts(report)
        assert verdicts.get(generator) == "ok" and set(verdicts.values()) == {"ok"}, (name, verdicts)


def test_a_wrong_generator_gradient_through_the_discriminator_is_named_at_its_line(tmp_path):
    for name, text, right, wrong in (
        ("dicts.py", DICTS, "    ds = (p - 1) / len(noise)\n", "    ds = p / len(noise)\n"),
        ("inline.py", INLINE, "    d_score = (p_fake - 1) / 16\n", "    d_score = p_fake / 16\n"),
    ):
        path = planted(tmp_path / name.removesuffix(".py"), name, text, right, wrong)
        report = check(path)
        assert report["root_cause"] is not None, (name, errors(report))
        root = report["findings"][report["root_cause"]]
        assert (root["name"], root["line"]) == ("step-gradient-mismatch", line_of(path, wrong.strip())), (name, root)
