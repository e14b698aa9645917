"""A layer demo that reads a picture with OpenCV (`img = cv2.imread('photo.png')`, then
`layer.forward(np.array([img]) / 255.0)`), with OpenCV missing: the picture is a synthetic
32 x 32 colour one, said so, and the layer observed on it is checked, not run on an object array
made of a stand-in."""

from __future__ import annotations

from tests.userfiles import check, errors, line_of, planted, write

DEMO = """\
import numpy as np


class ChannelScale:
    def __init__(self, channels):
        self.gamma = np.random.randn(channels)

    def forward(self, x):
        self.x = x
        return x * self.gamma

    def backward(self, dout):
        self.dgamma = (dout * self.x).sum(axis=(0, 1, 2))
        return dout * self.gamma


if __name__ == "__main__":
    import cv2

    img = cv2.imread('photo.png')
    batch = np.array([img]) / 255.0
    layer = ChannelScale(batch.shape[-1])
    out = layer.forward(batch)
    print(out.shape)
"""


def test_a_layer_run_on_a_picture_read_without_opencv_is_checked_on_a_synthetic_picture(tmp_path):
    path = write(tmp_path, "demo.py", DEMO)
    report = check(path)
    assert errors(report) == []
    (layer,) = [b for b in report["built"] if b["what"].startswith("ChannelScale")]
    assert "(1, 32, 32, 3)" in layer["shapes"]
    (synthetic,) = [f for f in report["findings"] if f["name"] == "synthetic-data"]
    assert synthetic["line"] == line_of(path, "cv2.imread")
    assert "cv2.imread('photo.png')" in synthetic["message"]


def test_a_wrong_gradient_of_that_layer_is_found(tmp_path):
    path = planted(tmp_path, "demo.py", DEMO, "return dout * self.gamma", "return dout * self.gamma * 2")
    wrong = errors(check(path))
    assert wrong and {f["line"] for f in wrong} == {line_of(path, "self.gamma * 2")}
