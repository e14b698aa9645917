"""softmax-not-per-row (BPD301): a softmax that normalises over the batch instead of each row.

Every check runs through `pipeline.check_file` on a real file: the seed question,
the samples, and small buggy/correct pairs written to a temporary folder.
`check_file` loads the user's code in this process, so an autouse fixture puts
`sys.path`, `sys.meta_path` and `sys.modules` back after each test.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop_doctor import probes
from backprop_doctor.options import Options

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SEED = ROOT.parent / "shared" / "seed" / "two_layer_net_question.py"
RULE = "softmax-not-per-row"


@pytest.fixture(autouse=True)
def restored_interpreter():
    saved = list(sys.path), list(sys.meta_path), set(sys.modules)
    yield
    sys.path[:], sys.meta_path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("__bpd") or type(sys.modules[name]).__name__ == "StubModule":
            del sys.modules[name]


def diagnose(path: Path, **options):
    from backprop_doctor.pipeline import check_file

    report = check_file(path, Options(training=False, **options))
    problems = [f for f in report.findings if f.name in ("syntax-error", "load-error", "nothing-to-check")]
    assert not problems and "internal_errors" not in report.extras, (problems, report.extras.get("internal_errors"))
    return report


def write(folder: Path, *parts: str, name: str = "net.py") -> Path:
    path = folder / name
    path.write_text("\n".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


def only(report, name: str = RULE):
    found = report.by_name(name)
    assert len(found) == 1, [(f.name, f.layer, f.line) for f in report.findings]
    return found[0]


LOSS_LAYER = """
class SoftmaxWithLoss:
    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]
"""


# --------------------------------------------------------------------------- the seed and the samples


def test_reports_wrong_softmax_axis_in_seed_model():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is absent")
    report = diagnose(SEED)
    finding = only(report)
    assert finding.severity == "error"
    assert finding.layer == "SoftmaxWithLoss.softmax"
    assert finding.line == 16  # softmax_x = exp_x / np.sum(exp_x)
    assert finding.highlight == (14, 16)  # and x = x - np.max(x)
    assert finding.column == 29
    assert report.root_cause is not None and report.root_cause.name == RULE
    assert "`SoftmaxWithLoss.softmax`" in finding.message and "whole batch" in finding.message
    assert "1/N" in finding.message and "every gradient is wrong" in finding.message
    # the network's real scores are nearly equal, so each of the 5 rows sums to about 1/5
    assert finding.measured == pytest.approx(0.8, abs=0.01)
    assert finding.threshold == 1e-6
    assert finding.fix.splitlines() == [
        "x = x - np.max(x, axis=1, keepdims=True)",
        "softmax_x = exp_x / np.sum(exp_x, axis=1, keepdims=True)",
    ]


def test_gradient_mismatches_of_the_seed_fold_under_the_softmax():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is absent")
    report = diagnose(SEED)
    root = report.root_cause
    symptoms = [f for f in report.findings if f.name in ("gradient-mismatch", "batch-coupling")]
    assert symptoms and all(f.caused_by is not None for f in symptoms)
    assert any(f.caused_by == root.key() for f in symptoms)


def test_reports_module_level_softmax_of_the_batch_softmax_sample():
    report = diagnose(SAMPLES / "two_layer_net_batch_softmax.py")
    finding = only(report)
    assert (finding.layer, finding.line, finding.highlight) == ("softmax", 12, (10, 12))
    assert report.root_cause.name == RULE
    labels = [label for label, _ in finding.evidence]
    assert labels.count("row sums") == 2  # on random scores and on the network's own scores
    assert "return exp_x / np.sum(exp_x, axis=1, keepdims=True)" in finding.fix


@pytest.mark.parametrize(
    "sample",
    [
        "two_layer_net_fixed.py",
        "cs231n_layers.py",
        "dlfs2_style.py",
        "multilayer_relu_fixed.py",
        "batchnorm_dropout_fixed.py",
        "loss_not_divided_by_batch.py",
    ],
)
def test_correct_softmax_samples_are_not_reported(sample):
    assert diagnose(SAMPLES / sample).by_name(RULE) == []


# --------------------------------------------------------------------------- buggy and correct pairs


def test_reports_a_softmax_normalised_down_the_columns(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        def softmax(x):
            e = np.exp(x - np.max(x, axis=0))
            return e / np.sum(e, axis=0)
        """,
        LOSS_LAYER,
    )
    finding = only(diagnose(path))
    assert finding.line == 6 and finding.highlight == (5, 6)
    assert "each column" in finding.message
    assert "np.sum(e, axis=-1, keepdims=True)" in finding.fix  # the file never writes axis=1


def test_book_softmax_that_transposes_first_is_correct(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        def softmax(x):
            if x.ndim == 2:
                x = x.T
                x = x - np.max(x, axis=0)
                y = np.exp(x) / np.sum(np.exp(x), axis=0)
                return y.T
            x = x - np.max(x)
            return np.exp(x) / np.sum(np.exp(x))
        """,
        LOSS_LAYER,
    )
    assert diagnose(path).by_name(RULE) == []


def test_a_global_max_shift_alone_is_harmless(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        def softmax(x):
            exp_x = np.exp(x - np.max(x))
            return exp_x / np.sum(exp_x, axis=1, keepdims=True)
        """,
        LOSS_LAYER,
    )
    assert diagnose(path).by_name(RULE) == []


def test_reports_a_softmax_written_inside_the_loss_layer(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        class SoftmaxCrossEntropy:
            def forward(self, x, t):
                self.t = t
                e = np.exp(x - x.max(axis=1, keepdims=True))
                self.y = e / e.sum()
                return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

            def backward(self, dout=1):
                return dout * (self.y - self.t) / self.t.shape[0]
        """,
    )
    finding = only(diagnose(path))
    assert finding.layer == "SoftmaxCrossEntropy.forward"
    assert finding.line == 8
    assert "self.y = e / e.sum(axis=1, keepdims=True)" in finding.fix


def test_fixed_counterpart_of_the_loss_layer_is_not_reported(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        class SoftmaxCrossEntropy:
            def forward(self, x, t):
                self.t = t
                e = np.exp(x - x.max(axis=1, keepdims=True))
                self.y = e / e.sum(axis=1, keepdims=True)
                return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

            def backward(self, dout=1):
                return dout * (self.y - self.t) / self.t.shape[0]
        """,
    )
    assert diagnose(path).by_name(RULE) == []


def test_a_softmax_that_raises_on_a_batch_is_left_to_other_checks(tmp_path):
    path = write(
        tmp_path,
        """\
        import numpy as np


        def softmax(x):
            if x.ndim != 1:
                raise ValueError("one sample at a time")
            return np.exp(x) / np.sum(np.exp(x))
        """,
        LOSS_LAYER,
    )
    from backprop_doctor.pipeline import check_file

    report = check_file(path, Options(training=False))  # not diagnose(): nothing can be compared here
    assert report.by_name(RULE) == []
    assert report.by_name("build-failed") or report.by_name("layer-raised")  # others say that it cannot run
    assert [f.pattern for f in report.by_name("nothing-to-check")] == ["nothing-compared"]


# --------------------------------------------------------------------------- probes


def test_normalisation_tells_rows_from_batch_and_columns():
    rng = np.random.default_rng(0)
    e = np.exp(rng.standard_normal((5, 4)))
    assert probes.normalisation(e / e.sum(axis=1, keepdims=True)).kind == "rows"
    batch = probes.normalisation(e / e.sum())
    assert batch.kind == "batch" and batch.sums.sum() == pytest.approx(1.0)
    assert batch.error == pytest.approx(float(np.max(np.abs(batch.sums - 1))))
    assert probes.normalisation(e / e.sum(axis=0)).kind == "columns"


@pytest.mark.parametrize(
    "array",
    [np.zeros((5, 4)), -np.ones((5, 4)) / 20, np.full((5, 4), np.nan), np.ones((1, 4)) / 4, np.ones(4) / 4, np.ones((5, 4), dtype=int)],
    ids=["zeros", "negative", "nan", "one-sample", "1-D", "integers"],
)
def test_normalisation_ignores_what_is_not_a_batch_of_probabilities(array):
    assert probes.normalisation(array) is None
