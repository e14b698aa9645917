"""sandbox-blocked's findings for the actions the sandbox refused (issue 15, twelfth round).

The sandbox runs only in the CLI's child process; here its records (`loading.sandbox.Blocked`) are
handed to `sandbox_blocked.findings` for real files in `tmp_path`, the checked one shown by the name
the user typed, one beside it, and a link to the checked one (the same file)."""

from __future__ import annotations


import pytest

from backprop_doctor.checks import sandbox_blocked
from backprop_doctor.loading.sandbox import Blocked

REFUSED = "which backprop-doctor's sandbox refused: the code got a PermissionError there, nothing of yours was changed, and the check went on without it"


@pytest.fixture
def files(tmp_path):
    checked = tmp_path / "train.py"
    checked.write_text("open('model.npz', 'w')\n", encoding="utf-8")
    helper = tmp_path / "helper.py"
    helper.write_text("import os\nos.remove('old.npz')\n", encoding="utf-8")
    link = tmp_path / "link.py"
    link.symlink_to(checked)
    return str(checked), str(helper), str(link)


@pytest.mark.parametrize(
    ("action", "target", "what"),
    [
        ("write", "model.npz", "writes to `model.npz`"),
        ("delete", "old.npz", "deletes `old.npz`"),
        ("rename", "a.npz", "renames or moves `a.npz`"),
        ("truncate", "log.txt", "truncates `log.txt`"),
        ("create", "out", "creates `out`"),
        ("change", "run.sh", "changes the permissions or times of `run.sh`"),
        ("network", "example.org:443", "opens a network connection (example.org:443)"),
        ("process", "git pull", "starts a process (`git pull`)"),
        ("signal", "12", "signals process 12"),
        ("stdin", "", "reads standard input"),
        ("mmap", "weights.bin", "mmap weights.bin"),
    ],
)
def test_each_refused_action_is_worded_at_its_line_of_the_checked_file(files, action, target, what):
    checked, _, _ = files
    (finding,) = sandbox_blocked.findings([Blocked(action, target, checked, 1)], checked, "train.py")
    assert finding.message == f"line 1 {what}, {REFUSED}"
    assert (finding.name, finding.severity, finding.file, finding.line, finding.highlight) == ("sandbox-blocked", "warning", "train.py", 1, (1,))
    assert finding.evidence == (("refused", f"{action}: {target}"),)


def test_an_action_of_another_file_is_shown_in_that_file_by_its_name(files):
    checked, helper, _ = files
    (finding,) = sandbox_blocked.findings([Blocked("delete", "old.npz", helper, 2, count=3)], checked, "train.py")
    assert finding.message == f"line 2 of helper.py deletes `old.npz` (3 times), {REFUSED}"
    assert (finding.file, finding.line) == (helper, 2)


def test_a_link_to_the_checked_file_is_that_file(files):
    checked, _, link = files
    (finding,) = sandbox_blocked.findings([Blocked("write", "model.npz", link, 1)], checked, "train.py")
    assert finding.message.startswith("line 1 writes to `model.npz`, which")
    assert finding.file == "train.py"


def test_an_action_with_no_user_frame_is_your_codes_with_no_line(files):
    checked, _, _ = files
    (finding,) = sandbox_blocked.findings([Blocked("network", "10.0.0.1:80", None, None)], checked, "train.py")
    assert finding.message == f"your code opens a network connection (10.0.0.1:80), {REFUSED}"
    assert (finding.file, finding.line, finding.highlight) == ("train.py", None, ())


def test_a_long_target_is_cut_to_120_characters_in_the_message_and_the_evidence(files):
    checked, _, _ = files
    long, just = "x" * 121, "y" * 120
    cut, kept = sandbox_blocked.findings([Blocked("write", long, checked, 1), Blocked("write", just, checked, 1, count=2)], checked, "train.py")
    assert f"writes to `{'x' * 117}...`, which" in cut.message
    assert cut.evidence == (("refused", "write: " + "x" * 117 + "..."),)
    assert f"writes to `{just}` (2 times), which" in kept.message
