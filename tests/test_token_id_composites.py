"""Composite layers of token ids in the style of the book's sequel: an encoder whose forward hands
its ids to an embedding (`self.embed.forward(xs)`) and whose backward takes `dhs`, and a decoder
built from guessed sizes. Neither is an activation to build with made-up floats (a float vocabulary
size is the guess's error, not a Python 2 division of the user's), and a layer that indexes with
its input is not blamed for rejecting the float batch backprop-doctor made up."""

from tests.userfiles import check, errors, write

LAYERS = """
    import numpy as np


    class Embedding:
        def __init__(self, W):
            self.params, self.grads = [W], [np.zeros_like(W)]
            self.idx = None

        def forward(self, idx):
            self.idx = idx
            return self.params[0][idx]

        def backward(self, dout):
            dW = self.grads[0]
            dW[...] = 0
            np.add.at(dW, self.idx, dout)


    class Encoder:
        def __init__(self, vocab_size, wordvec_size):
            V, D = vocab_size, wordvec_size
            self.embed = Embedding((np.random.randn(V, D) / 100).astype("f"))
            self.params, self.grads = self.embed.params, self.embed.grads

        def forward(self, xs):
            hs = self.embed.forward(xs)
            return hs

        def backward(self, dhs):
            self.embed.backward(dhs)


    class Decoder:
        def __init__(self, vocab_size, wordvec_size):
            self.embed = Embedding((np.random.randn(vocab_size, wordvec_size) / 100).astype("f"))

        def forward(self, xs, enc_hs):
            return self.embed.forward(xs) + enc_hs.mean()

        def backward(self, dout):
            self.embed.backward(dout)
"""


def test_composites_of_token_ids_get_no_error_from_made_up_input(tmp_path):
    report = check(write(tmp_path, "seq.py", LAYERS))
    assert errors(report) == [], errors(report)
    assert not any("write `//`" in f["message"] for f in report["findings"])


def test_an_encoder_is_built_with_integer_sizes_not_as_an_activation(tmp_path):
    report = check(write(tmp_path, "seq.py", LAYERS))
    built = {b["what"]: b for b in report["built"]}
    assert built["Encoder"]["skipped"] is None and "vocab_size=" in built["Encoder"]["how"], built["Encoder"]
