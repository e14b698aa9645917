"""Scripts whose variables are named in Japanese or Korean (the books' readers write them so):
the loss, the learning rate and the gradients are recognised by their words, and the report
prints the names as written."""

from __future__ import annotations

import pytest

from tests.userfiles import check, errors, planted, replayed, write

JAPANESE = '''\
# 二層ネットワーク（シグモイド + 二乗誤差）、逆伝播は手書き
import numpy as np

乱数 = np.random.RandomState(3)
入力 = 乱数.uniform(-1, 1, (90, 3))
正解 = (入力[:, :1] * 入力[:, 1:2] > 0).astype(float)
件数 = 入力.shape[0]
W1 = 0.5 * 乱数.randn(3, 10)
b1 = np.zeros((1, 10))
W2 = 0.5 * 乱数.randn(10, 1)
b2 = np.zeros((1, 1))
学習率 = 0.5
for 回 in range(500):
    隠れ = 1 / (1 + np.exp(-(入力 @ W1 + b1)))
    出力 = 隠れ @ W2 + b2
    損失 = np.mean((出力 - 正解) ** 2)
    d出力 = 2 * (出力 - 正解) / 件数
    dW2 = 隠れ.T @ d出力
    db2 = d出力.sum(axis=0, keepdims=True)
    d隠れ = d出力 @ W2.T * 隠れ * (1 - 隠れ)
    dW1 = 入力.T @ d隠れ
    db1 = d隠れ.sum(axis=0, keepdims=True)
    for 重み, 勾配 in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
        重み -= 学習率 * 勾配
'''

KOREAN = (
    JAPANESE.replace("学習率", "학습률").replace("損失", "손실").replace("重み", "가중치").replace("勾配", "기울기")
    .replace("二層ネットワーク（シグモイド + 二乗誤差）、逆伝播は手書き", "2층 신경망, 역전파를 직접 구현")
)  # fmt: skip


@pytest.mark.parametrize("text", [JAPANESE, KOREAN], ids=["japanese", "korean"])
def test_a_script_named_in_its_authors_language_is_checked(tmp_path, text):
    report = check(write(tmp_path, "train.py", text))
    assert not errors(report)
    assert [p["name"] for p in replayed(report)["parameters"]] == ["W1", "b1", "W2", "b2"]

    bug = planted(tmp_path, "bug.py", text, "db1 = d隠れ.sum(axis=0, keepdims=True)", "db1 = d隠れ.sum()")
    (finding,) = errors(check(bug))
    assert finding["name"] == "step-gradient-mismatch" and finding["param"] == "b1"
    assert "one number" in finding["message"]
