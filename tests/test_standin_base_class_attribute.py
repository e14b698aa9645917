"""A layer whose base class comes from a module that is not there (`from seq2seq import Encoder`, a
sibling chapter's file the user did not paste) and whose forward reads what the base's `__init__` sets
(`self.embed`). backprop-doctor puts an empty class in the base's place, so the attribute is missing:
the stand-in's doing, not a line of the user's to fix (a note naming the module), where a class of the
file itself that never sets the attribute is still the user's error at its line."""

from __future__ import annotations

from userfiles import check, errors, line_of, write

PROGRAM = """\
    import numpy as np
    from seq2seq_parts import Encoder


    class AttentionEncoder(Encoder):
        def forward(self, xs):
            hs = self.embed.forward(xs)
            return hs

        def backward(self, dhs):
            return self.embed.backward(dhs)
"""

OWN_BASE = """\
    import numpy as np


    class Encoder:
        def __init__(self):
            self.scale = 1.0


    class AttentionEncoder(Encoder):
        def forward(self, xs):
            hs = self.embed.forward(xs)
            return hs

        def backward(self, dhs):
            return self.embed.backward(dhs)
"""


def test_an_attribute_a_missing_base_class_sets_is_no_error_of_the_user(tmp_path):
    path = write(tmp_path, "attention.py", PROGRAM)
    report = check(path)
    assert errors(report) == []
    (note,) = [f for f in report["findings"] if f["name"] == "build-failed"]
    assert note["severity"] == "info" and "seq2seq_parts" in note["message"]


def test_an_attribute_no_class_of_the_file_sets_is_still_named(tmp_path):
    path = write(tmp_path, "attention.py", OWN_BASE)
    (error,) = errors(check(path))
    assert error["name"] == "layer-raised" and error["line"] == line_of(path, "hs = self.embed.forward(xs)")
