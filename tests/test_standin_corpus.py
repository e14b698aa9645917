"""A language model trained on a text corpus whose loader (`sentences, word2idx = get_...()`) exits
because the corpus is not on this machine, or reads it through a module that is not installed and
gives no sentences (the program then goes past its training loop without running it): the loader's call is given
a synthetic corpus, sentences of word indices and a vocabulary that knows the words the program asks
it for (`word2idx['START']`), and the training step is replayed on it."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, replayed, write

CORPUS = """\
    import os
    import sys


    def get_sentences_and_vocab(folder="corpus"):
        if not os.path.isdir(folder):
            print("download the corpus into", folder)
            sys.exit(1)
        word2idx = {"START": 0, "END": 1}
        sentences = []
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name)) as handle:
                for line in handle:
                    sentences.append([word2idx.setdefault(w, len(word2idx)) for w in line.split()])
        return sentences, word2idx
"""

# the corpus comes through `wordbank`, installed nowhere: its stand-in gives no sentences
EMPTY_CORPUS = """\
    import wordbank


    def get_sentences_and_vocab():
        word2idx = {"START": 0, "END": 1}
        sentences = []
        for sentence in wordbank.sents():
            sentences.append([word2idx.setdefault(w, len(word2idx)) for w in sentence])
        return sentences, word2idx
"""

# a bigram model, one sentence a step, its words one-hot
BIGRAM = """\
    import numpy as np

    from corpus import get_sentences_and_vocab


    def softmax(a):
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


    sentences, word2idx = get_sentences_and_vocab()
    V = len(word2idx)
    start, end = word2idx["START"], word2idx["END"]
    W = np.random.randn(V, V) / np.sqrt(V)
    lr = 0.1
    for sentence in sentences:
        seq = [start] + sentence + [end]
        n = len(seq)
        inputs = np.zeros((n - 1, V))
        targets = np.zeros((n - 1, V))
        inputs[np.arange(n - 1), seq[:-1]] = 1
        targets[np.arange(n - 1), seq[1:]] = 1
        P = softmax(inputs @ W)
        loss = -np.sum(targets * np.log(P)) / (n - 1)
        dA = (P - targets) / (n - 1)
        W -= lr * inputs.T @ dA
    print(loss)
"""


def test_a_bigram_model_whose_corpus_loader_exits_is_trained_on_a_synthetic_corpus_and_clean(tmp_path):
    write(tmp_path, "corpus.py", CORPUS)
    path = write(tmp_path, "bigram.py", BIGRAM)
    report = check(path)
    assert errors(report) == []
    assert [p["name"] for p in replayed(report)["parameters"]] == ["W"]
    (synthetic,) = [f for f in report["findings"] if f["code"] == "BPD022"]
    assert synthetic["line"] == line_of(path, "= get_sentences_and_vocab()")
    assert "sentences of 3 to 12 word indices and a vocabulary of 40 words" in synthetic["message"]


def test_a_softmax_gradient_multiplied_by_the_probabilities_is_found_at_its_line(tmp_path):
    write(tmp_path, "corpus.py", CORPUS)
    wrong = "dA = (P - targets) * P / (n - 1)"
    path = planted(tmp_path, "bigram.py", BIGRAM, "dA = (P - targets) / (n - 1)", wrong)
    assert {f["line"] for f in errors(check(path))} == {line_of(path, wrong)}


def test_a_bigram_model_whose_corpus_is_empty_here_is_trained_on_a_synthetic_corpus_and_clean(tmp_path):
    write(tmp_path, "corpus.py", EMPTY_CORPUS)
    path = write(tmp_path, "bigram.py", BIGRAM)
    report = check(path)
    assert errors(report) == []
    assert [p["name"] for p in replayed(report)["parameters"]] == ["W"]
    (synthetic,) = [f for f in report["findings"] if f["code"] == "BPD022"]
    assert synthetic["line"] == line_of(path, "= get_sentences_and_vocab()")
    assert synthetic["message"].startswith("your program never reached its training on what its own data loader")


def test_its_gradient_with_the_sign_flipped_is_found_at_its_line(tmp_path):
    write(tmp_path, "corpus.py", EMPTY_CORPUS)
    wrong = "dA = (targets - P) / (n - 1)"
    path = planted(tmp_path, "bigram.py", BIGRAM, "dA = (P - targets) / (n - 1)", wrong)
    assert {f["line"] for f in errors(check(path))} == {line_of(path, wrong)}
