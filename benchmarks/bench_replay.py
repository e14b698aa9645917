"""What the training-step replay costs, as a multiple of one step of the user's own program.

Two programs of the shapes the replay exists for, written to a temporary folder:
a script-style 784-100-10 network (module-level loop, minibatch of 100, plain SGD)
and a hand-written LSTM over 25 time steps (a `loss_fun` returning the loss and
every gradient, a `while` loop, SGD). Each is captured once (the program run up to
its first update) and its step replayed; the figure is the replay's wall time
divided by the median time of one pass of the program's own loop, both measured
here, side by side, so it does not depend on how fast the machine is.

    python benchmarks/bench_replay.py            # 5 repeats
    python benchmarks/bench_replay.py --repeat 1
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backprop_doctor.loading.source import read_source  # noqa: E402
from backprop_doctor.observe.run import run_program  # noqa: E402
from backprop_doctor.replay.capture import StepCapture  # noqa: E402
from backprop_doctor.replay.gradients import replay_step  # noqa: E402
from backprop_doctor.replay.runner import Runner  # noqa: E402

MLP = """
import numpy as np

rng = np.random.default_rng(0)
x_train = rng.random((2000, 784))
t_train = rng.integers(0, 10, 2000)
W1 = rng.standard_normal((784, 100)) * np.sqrt(2 / 784)
b1 = np.zeros(100)
W2 = rng.standard_normal((100, 10)) * np.sqrt(2 / 100)
b2 = np.zeros(10)
lr = 0.1
for it in range(10000):
    idx = rng.choice(2000, 100)
    x, t = x_train[idx], t_train[idx]
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    scores = h @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(100), t]).mean()
    dscores = probs.copy()
    dscores[np.arange(100), t] -= 1
    dscores /= 100
    dW2 = h.T @ dscores
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dz1 = dh * (z1 > 0)
    dW1 = x.T @ dz1
    db1 = dz1.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
"""

LSTM = """
import numpy as np

text = "the quick brown fox jumps over the lazy dog " * 40
chars = sorted(set(text))
V, H, T = len(chars), 64, 25
ix = {c: i for i, c in enumerate(chars)}
rng = np.random.default_rng(1)
Wf, Wi, Wo, Wc = (rng.standard_normal((H, H + V)) * 0.1 for _ in range(4))
bf, bi, bo, bc = (np.zeros((H, 1)) for _ in range(4))
Wy = rng.standard_normal((V, H)) * 0.1
by = np.zeros((V, 1))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss_fun(inputs, targets, h_prev, c_prev):
    zs, fs, is_, os_, cbars, cs, hs, ps = {}, {}, {}, {}, {}, {-1: c_prev}, {-1: h_prev}, {}
    loss = 0.0
    for t in range(len(inputs)):
        x = np.zeros((V, 1))
        x[inputs[t]] = 1
        zs[t] = np.vstack((hs[t - 1], x))
        fs[t] = sigmoid(Wf @ zs[t] + bf)
        is_[t] = sigmoid(Wi @ zs[t] + bi)
        os_[t] = sigmoid(Wo @ zs[t] + bo)
        cbars[t] = np.tanh(Wc @ zs[t] + bc)
        cs[t] = fs[t] * cs[t - 1] + is_[t] * cbars[t]
        hs[t] = os_[t] * np.tanh(cs[t])
        y = Wy @ hs[t] + by
        ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
        loss += -np.log(ps[t][targets[t], 0])
    grads = {k: np.zeros_like(v) for k, v in (("Wf", Wf), ("Wi", Wi), ("Wo", Wo), ("Wc", Wc), ("bf", bf), ("bi", bi), ("bo", bo), ("bc", bc), ("Wy", Wy), ("by", by))}
    dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        grads["Wy"] += dy @ hs[t].T
        grads["by"] += dy
        dh = Wy.T @ dy + dh_next
        do = dh * np.tanh(cs[t]) * os_[t] * (1 - os_[t])
        dc = dh * os_[t] * (1 - np.tanh(cs[t]) ** 2) + dc_next
        dcbar = dc * is_[t] * (1 - cbars[t] ** 2)
        di = dc * cbars[t] * is_[t] * (1 - is_[t])
        df = dc * cs[t - 1] * fs[t] * (1 - fs[t])
        for gate, d in (("f", df), ("i", di), ("o", do), ("c", dcbar)):
            grads["W" + gate] += d @ zs[t].T
            grads["b" + gate] += d
        dz = Wf.T @ df + Wi.T @ di + Wo.T @ do + Wc.T @ dcbar
        dh_next = dz[:H]
        dc_next = fs[t] * dc
    return loss, grads, hs[len(inputs) - 1], cs[len(inputs) - 1]


params = {"Wf": Wf, "Wi": Wi, "Wo": Wo, "Wc": Wc, "bf": bf, "bi": bi, "bo": bo, "bc": bc, "Wy": Wy, "by": by}
learning_rate = 0.05
n, p = 0, 0
while n < 100000:
    if p + T + 1 >= len(text) or n == 0:
        h_prev, c_prev = np.zeros((H, 1)), np.zeros((H, 1))
        p = 0
    inputs = [ix[ch] for ch in text[p:p + T]]
    targets = [ix[ch] for ch in text[p + 1:p + T + 1]]
    loss, grads, h_prev, c_prev = loss_fun(inputs, targets, h_prev, c_prev)
    for key in params:
        params[key] -= learning_rate * grads[key]
    p += T
    n += 1
"""


def measure(name: str, text: str, folder: Path, repeat: int) -> dict:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    source, _ = read_source(str(path))
    (step,) = source.facts.training_steps
    ratios, replays, steps, runs, wrong = [], [], [], [], []
    for _ in range(repeat):
        capture = StepCapture(str(path.resolve()), step, budget=60)
        run_program(source, 60, seed=0, recorder=capture)
        runner = Runner(capture.capture, str(path.resolve()))
        one = []
        for _ in range(5):
            started = time.perf_counter()
            runner.run()
            one.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = replay_step(capture.capture, str(path.resolve()), seed=0, budget=60)
        seconds = time.perf_counter() - started
        step_time = statistics.median(one)
        replays.append(seconds)
        steps.append(step_time)
        ratios.append(seconds / step_time)
        runs.append(result.runs)
        wrong.append(sum(m.wrong for _, m in result.parameters))
        assert not result.why, result.why
    return {
        "program": name,
        "parameters": len(result.parameters),
        "replays": runs[0],
        "one step ms": 1000 * statistics.median(steps),
        "replay ms": 1000 * statistics.median(replays),
        "replay / step": (min(ratios), statistics.median(ratios)),
        "wrong": max(wrong),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure("mlp_784_100_10", MLP, Path(folder), args.repeat), measure("lstm_25_steps", LSTM, Path(folder), args.repeat)]
    print(f"{'program':<18}{'params':>8}{'replays':>9}{'step ms':>10}{'replay ms':>11}{'replay/step (min/median)':>27}{'wrong':>7}")
    for row in rows:
        low, mid = row["replay / step"]
        print(
            f"{row['program']:<18}{row['parameters']:>8}{row['replays']:>9}{row['one step ms']:>10.2f}"
            f"{row['replay ms']:>11.1f}{f'{low:.1f}× / {mid:.1f}×':>27}{row['wrong']:>7}"
        )


if __name__ == "__main__":
    main()
