"""A layer without weights written for one image at a time (`h, w, c = image.shape`, as the popular
CNN-from-scratch tutorials write their max pooling) is checked on one (H, W, C) image; that image has
no batch axis, so no batch-wide probe (coupling between samples, softmax over rows) applies to it."""

from tests.userfiles import check, errors, line_of, planted

POOL = """
    import numpy as np


    class MaxPool2:
        def regions(self, image):
            h, w, _ = image.shape
            for i in range(h // 2):
                for j in range(w // 2):
                    yield image[i * 2:i * 2 + 2, j * 2:j * 2 + 2], i, j

        def forward(self, image):
            self.last_input = image
            h, w, c = image.shape
            out = np.zeros((h // 2, w // 2, c))
            for region, i, j in self.regions(image):
                out[i, j] = np.amax(region, axis=(0, 1))
            return out

        def backprop(self, d_out):
            d_input = np.zeros(self.last_input.shape)
            for region, i, j in self.regions(self.last_input):
                h, w, c = region.shape
                amax = np.amax(region, axis=(0, 1))
                for i2 in range(h):
                    for j2 in range(w):
                        for k in range(c):
                            if region[i2, j2, k] == amax[k]:
                                d_input[i * 2 + i2, j * 2 + j2, k] = d_out[i, j, k]
            return d_input
"""


def test_a_pooling_layer_for_one_image_is_checked_on_one_image(tmp_path):
    report = check(planted(tmp_path, "maxpool.py", POOL, "= d_out[i, j, k]", "= d_out[i, j, k]"))
    assert errors(report) == []
    (built,) = [b for b in report["built"] if b["what"] == "MaxPool2"]
    assert built["shapes"].startswith("one unbatched sample") and built["skipped"] is None
    assert not any(f["code"] in ("BPD301", "BPD302") for f in report["findings"])


def test_its_gradient_sent_to_the_wrong_place_is_found(tmp_path):
    path = planted(tmp_path, "maxpool.py", POOL, "d_input[i * 2 + i2, j * 2 + j2, k] = d_out[i, j, k]", "d_input[i * 2 + j2, j * 2 + i2, k] = d_out[i, j, k]")
    (found,) = errors(check(path))
    assert found["code"] == "BPD101"
    assert found["line"] in (line_of(path, "d_input[i * 2 + j2"), line_of(path, "return d_input"))
