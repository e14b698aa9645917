"""A learning rate named in Latin letters after its Chinese, Japanese or Korean word (`xuexilv` for
学习率, `gakushuritsu` for 学習率, `hakseupryul` for 학습률), as readers of the books' translations
write it: the rate of the update, not a factor of a gradient (before, `xuexilv * dW1` was read as the
gradient, 0.05 times the loss's: BPD108 errors on correct code), and the setting a rate too high is
named at. The programs here are written for these tests.
"""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, line_of, planted, write

PRICES = '''\
import numpy as np

np.random.seed(3)
n = 200
mianji = np.random.uniform(50, 150, n)      # 面积
niandai = np.random.uniform(1990, 2020, n)  # 年代
fangjia = 0.8 * mianji + 2.0 * (niandai - 1990) + np.random.randn(n) * 5
X = np.stack([mianji, niandai], axis=1)
X = (X - X.mean(axis=0)) / X.std(axis=0)
y = ((fangjia - fangjia.mean()) / fangjia.std()).reshape(-1, 1)

W1 = np.random.randn(2, 16) * np.sqrt(1 / 2)
b1 = np.zeros((1, 16))
W2 = np.random.randn(16, 1) * np.sqrt(1 / 16)
b2 = np.zeros((1, 1))

xuexilv = 0.05  # 学习率
for lun in range(2000):
    h = np.tanh(X @ W1 + b1)
    yuce = h @ W2 + b2
    wucha = yuce - y
    loss = np.mean(wucha ** 2)
    d_yuce = 2 * wucha / n
    dW2 = h.T @ d_yuce
    db2 = d_yuce.sum(axis=0, keepdims=True)
    dh = d_yuce @ W2.T * (1 - h ** 2)
    dW1 = X.T @ dh
    db1 = dh.sum(axis=0, keepdims=True)
    W1 -= xuexilv * dW1
    b1 -= xuexilv * db1
    W2 -= xuexilv * dW2
    b2 -= xuexilv * db2
'''


@pytest.mark.parametrize("name", ["xuexilv", "gakushuritsu", "hakseupryul"])
def test_a_rate_named_after_its_word_is_the_updates_rate(tmp_path, name):
    report = check(write(tmp_path, "prices.py", PRICES.replace("xuexilv", name)), training=True)
    assert not errors(report)


def test_such_a_rate_set_too_high_is_named_at_its_setting(tmp_path):
    bug = planted(tmp_path, "prices.py", PRICES, "xuexilv = 0.05", "xuexilv = 2.0")
    (finding,) = errors(check(bug, training=True))
    assert (finding["code"], finding["line"]) == ("BPD608", line_of(bug, "xuexilv = 2.0"))
    assert "`xuexilv = 2` (line" in finding["message"]
