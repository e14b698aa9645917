"""An indexed `+=` inside the function that returns the gradients (`g_emb[ids] += d_rows`, `ids` with
repeated word ids), unpacked by the training loop (`loss, g_emb, g_out = loss_and_grads(...)`): the
finding goes to that line, with `np.add.at` as the fix, not to the call."""

from tests.userfiles import check, errors, line_of, planted, write

BAG_OF_WORDS = """
    import numpy as np

    # 단어 임베딩 평균 분류기: 같은 단어가 한 배치에 여러 번 나온다
    rng = np.random.default_rng(4)
    V, D, C, B = 30, 8, 3, 64
    words = rng.integers(0, V, (400, 5))
    labels = words[:, 0] % C


    def loss_and_grads(emb, out, ids, y):
        n = len(ids)
        h = emb[ids].mean(axis=1)
        s = h @ out
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        ds = p.copy()
        ds[np.arange(n), y] -= 1
        ds /= n
        g_out = h.T @ ds
        dh = ds @ out.T
        g_emb = np.zeros_like(emb)
        d_rows = np.repeat(dh[:, None, :] / ids.shape[1], ids.shape[1], axis=1)
        np.add.at(g_emb, ids, d_rows)
        return loss, g_emb, g_out


    emb = rng.normal(0, 0.1, (V, D))
    out = rng.normal(0, 0.1, (D, C))
    for epoch in range(20):
        for i in range(0, len(words), B):
            ids, y = words[i:i + B], labels[i:i + B]
            loss, g_emb, g_out = loss_and_grads(emb, out, ids, y)
            emb -= 0.5 * g_emb
            out -= 0.5 * g_out
        print(epoch, loss)
"""


def test_np_add_at_is_clean(tmp_path):
    assert errors(check(write(tmp_path, "bow.py", BAG_OF_WORDS))) == []


def test_an_indexed_add_that_drops_repeats_is_named_inside_the_function(tmp_path):
    path = planted(tmp_path, "bow.py", BAG_OF_WORDS, "np.add.at(g_emb, ids, d_rows)", "g_emb[ids] += d_rows")
    found = errors(check(path))
    assert [(f["code"], f["line"], f["pattern"]) for f in found] == [("BPD108", line_of(path, "g_emb[ids] += d_rows"), "repeated-index-add")], found
    assert "np.add.at(g_emb, ids, d_rows)" in found[0]["message"]
