"""synthetic-data's findings for the loaders the observed run replaced (issue 15, twelfth round).

The replacements happen in the CLI's child process; here their records (`loading.datasets.REPLACED`'s
tuples: loader, what was given, file, line) are handed to `synthetic_data.findings` for real files in
`tmp_path`, the checked one shown by the name the user typed."""

from __future__ import annotations

from backprop_doctor.checks import synthetic_data

GIVEN = "so backprop-doctor gave your program synthetic data of the same shapes instead"


def files(tmp_path):
    checked = tmp_path / "train.py"
    checked.write_text("from dataset.mnist import load_mnist\nload_mnist()\n", encoding="utf-8")
    loader = tmp_path / "dataset.py"
    loader.write_text("import numpy as np\nnp.load('mnist.npz')\n", encoding="utf-8")
    return str(checked), str(loader)


def test_a_loader_of_the_checked_file_is_shown_there_at_its_line(tmp_path, monkeypatch):
    """The checked file shown by the name typed in its folder."""
    checked, _ = files(tmp_path)
    monkeypatch.chdir(tmp_path)
    (finding,) = synthetic_data.findings([("load_mnist", "60000 digits", checked, 2)], "train.py")
    assert finding.message == (
        f"`load_mnist` (line 2) is missing or would download, {GIVEN} (60000 digits): "
        "the observed run and its loss curve use that data, not yours"
    )
    assert (finding.name, finding.severity, finding.file, finding.line, finding.highlight) == ("synthetic-data", "info", "train.py", 2, (2,))


def test_a_loader_in_another_file_is_shown_in_that_file_by_its_name(tmp_path):
    checked, loader = files(tmp_path)
    (finding,) = synthetic_data.findings([("np.load", "a (100, 4) array", loader, 2)], checked)
    assert finding.message.startswith(f"`np.load` (line 2 of dataset.py) is missing or would download, {GIVEN} (a (100, 4) array)")
    assert (finding.file, finding.line) == (loader, 2)


def test_a_loader_with_no_place_is_your_programs_in_the_checked_file(tmp_path):
    checked, _ = files(tmp_path)
    (finding,) = synthetic_data.findings([("fetch_openml", "mnist_784", None, None)], checked)
    assert finding.message.startswith(f"`fetch_openml` (your program) is missing or would download, {GIVEN} (mnist_784)")
    assert (finding.file, finding.line, finding.highlight) == (checked, None, ())


def test_one_finding_per_loader_and_place_in_the_order_first_called(tmp_path):
    checked, loader = files(tmp_path)
    replaced = [
        ("load_mnist", "60000 digits", checked, 2),
        ("load_mnist", "10000 digits", checked, 2),
        ("np.load", "an array", checked, 2),
        ("load_mnist", "60000 digits", loader, 2),
        ("load_mnist", "60000 digits", checked, 1),
    ]
    found = synthetic_data.findings(replaced, checked)
    assert [(f.file, f.line, f.message.split(" ", 1)[0]) for f in found] == [
        (checked, 2, "`load_mnist`"), (checked, 2, "`np.load`"), (loader, 2, "`load_mnist`"), (checked, 1, "`load_mnist`"),
    ]
    assert "(60000 digits)" in found[0].message
