"""A step whose loss is random by design (noise drawn every pass: a VAE's sampled code, dropout's masks) is
not asked to fit five samples: its loss has no floor of 0 there, even with every gradient right
(`replay.curve.Tiny.noise`, `static.noise`). Programs written for these tests, in two styles: a script
whose loop draws the noise, a class whose method draws it from its own generator."""

from __future__ import annotations

import ast

from backprop_doctor.static.noise import drawn_noise
from tests.userfiles import check, errors, line_of, replayed, write

VAE_SCRIPT = 'import numpy as np\n\nnp.random.seed(7)\nn, d, k = 200, 6, 2\ncodes = np.random.randn(n, k)\ndata = np.sin(codes @ np.random.randn(k, d)) + 0.05 * np.random.randn(n, d)\n\nW_enc = np.random.randn(d, 16) * 0.3\nW_mean = np.random.randn(16, k) * 0.3\nW_logv = np.random.randn(16, k) * 0.01\nW_dec = np.random.randn(k, d) * 0.3\nrate = 0.1\nfor it in range(300):\n    order = np.random.permutation(n)\n    for start in range(0, n, 40):\n        x = data[order[start:start + 40]]\n        hid = np.maximum(0, x @ W_enc)\n        mean = hid @ W_mean\n        logv = hid @ W_logv\n        noise = np.random.randn(*mean.shape)\n        code = mean + np.exp(0.5 * logv) * noise\n        recon = code @ W_dec\n        rec_loss = np.sum((recon - x) ** 2) / (2 * len(x))\n        kl_loss = 0.5 * np.sum(np.exp(logv) + mean ** 2 - 1 - logv) / len(x)\n        loss = rec_loss + kl_loss\n        g_recon = (recon - x) / len(x)\n        g_dec = code.T @ g_recon\n        g_code = g_recon @ W_dec.T\n        g_mean = g_code + mean / len(x)\n        g_logv = g_code * noise * 0.5 * np.exp(0.5 * logv) + 0.5 * (np.exp(logv) - 1) / len(x)\n        g_hid = (g_mean @ W_mean.T + g_logv @ W_logv.T) * (hid > 0)\n        W_dec -= rate * g_dec\n        W_mean -= rate * hid.T @ g_mean\n        W_logv -= rate * hid.T @ g_logv\n        W_enc -= rate * x.T @ g_hid\n        if it % 500 == 0:\n            print(it, loss)\n'

VAE_CLASS = 'import numpy as np\n\n\nclass TinyVAE:\n    def __init__(self, n_in, n_hidden, n_code, seed=0):\n        self.rng = np.random.default_rng(seed)\n        self.W1 = self.rng.normal(0, 0.3, (n_in, n_hidden))\n        self.Wm = self.rng.normal(0, 0.3, (n_hidden, n_code))\n        self.Wv = self.rng.normal(0, 0.01, (n_hidden, n_code))\n        self.W2 = self.rng.normal(0, 0.3, (n_code, n_in))\n\n    def forward(self, x):\n        self.x = x\n        self.h = np.tanh(x @ self.W1)\n        self.m = self.h @ self.Wm\n        self.v = self.h @ self.Wv\n        self.eps = self.rng.standard_normal(self.m.shape)\n        self.c = self.m + np.exp(0.5 * self.v) * self.eps\n        self.out = self.c @ self.W2\n        n = len(x)\n        return (0.5 * np.sum((self.out - x) ** 2) + 0.5 * np.sum(np.exp(self.v) + self.m ** 2 - 1 - self.v)) / n\n\n    def backward(self):\n        n = len(self.x)\n        d_out = (self.out - self.x) / n\n        self.gW2 = self.c.T @ d_out\n        d_c = d_out @ self.W2.T\n        d_m = d_c + self.m / n\n        d_v = d_c * self.eps * 0.5 * np.exp(0.5 * self.v) + 0.5 * (np.exp(self.v) - 1) / n\n        self.gWm = self.h.T @ d_m\n        self.gWv = self.h.T @ d_v\n        d_h = (d_m @ self.Wm.T + d_v @ self.Wv.T) * (1 - self.h ** 2)\n        self.gW1 = self.x.T @ d_h\n\n    def update(self, lr):\n        for name in ("W1", "Wm", "Wv", "W2"):\n            setattr(self, name, getattr(self, name) - lr * getattr(self, "g" + name))\n\n\ngen = np.random.default_rng(11)\nsamples = np.tanh(gen.normal(size=(150, 2)) @ gen.normal(size=(2, 5)))\nmodel = TinyVAE(5, 12, 2)\nfor epoch in range(200):\n    idx = gen.permutation(len(samples))\n    for b in range(0, len(samples), 30):\n        loss = model.forward(samples[idx[b:b + 30]])\n        model.backward()\n        model.update(0.1)\n    if epoch % 50 == 0:\n        print(epoch, loss)\n'


def _found(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["name"] == "step-cannot-overfit"]


def test_a_vae_script_drawing_its_noise_in_the_loop_is_not_asked_to_fit_five_samples(tmp_path):
    path = write(tmp_path, "vae.py", VAE_SCRIPT)
    report = check(path, training=True)
    assert _found(report) == [] and errors(report) == []
    assert replayed(report)["tiny"]["noise"] == line_of(path, "noise = np.random.randn")


def test_a_vae_class_drawing_its_noise_in_a_method_is_not_asked_to_fit_five_samples(tmp_path):
    path = write(tmp_path, "vae_class.py", VAE_CLASS)
    report = check(path, training=True)
    assert _found(report) == [] and errors(report) == []
    assert replayed(report)["tiny"]["noise"] == line_of(path, "self.eps = self.rng.standard_normal")


def _loop(text: str) -> tuple[ast.Module, ast.stmt]:
    tree = ast.parse(text)
    return tree, next(n for n in tree.body if isinstance(n, ast.For))


def test_draws_of_indices_are_not_noise_and_draws_of_numbers_are():
    picks = "import numpy as np\nrng = np.random.default_rng(0)\nfor e in range(3):\n    p = np.random.permutation(10)\n    q = rng.choice(10, 4)\n    r = rng.integers(0, 10, 4)\n    np.random.shuffle(p)\n"
    assert drawn_noise(*_loop(picks)) is None
    masks = "import numpy as np\n\n\ndef drop(h, p):\n    return h * (np.random.rand(*h.shape) > p)\n\n\nfor e in range(3):\n    h = drop(e, 0.5)\n"
    assert drawn_noise(*_loop(masks)) == 5
