"""A check stopped at the time limit names the line of the user's code that was running, the
innermost one, wherever the user's module sits (beside the file, or the project's `common/` a
few folders up); a location in Python's own machinery (`<frozen runpy>`, line 88, `_run_code`)
is never the user's line, whatever folder the tool is run from. When no line of the user's
code was running, the report says that backprop-doctor's own checks ran out of time."""

from __future__ import annotations

from pathlib import Path

import backprop_doctor
from backprop_doctor.loading.child import _timeout
from tests.userfiles import check, line_of, write

PACKAGE = Path(backprop_doctor.__file__).resolve().parent


def _dump(*frames: tuple[str, int, str]) -> str:
    """A faulthandler dump as the worker writes it at the limit, most recent call first."""
    lines = [f'  File "{file}", line {line} in {func}' for file, line, func in frames]
    return "Timeout (0:01:00)!\nThread 0x00007f0000000000 (most recent call first):\n" + "\n".join(lines) + "\n"


RUNPY = [("<frozen runpy>", 88, "_run_code"), ("<frozen runpy>", 198, "_run_module_as_main")]


def test_a_timeout_in_the_tools_own_checks_says_so_and_names_no_line(tmp_path, monkeypatch):
    net = write(tmp_path, "chapter8/deep_convnet.py", "class DeepConvNet:\n    pass\n")
    monkeypatch.chdir(net.parent)  # run from the file's folder: `<frozen runpy>` resolves inside it
    dump = _dump(
        (str(PACKAGE / "gradcheck.py"), 300, "numerical_gradient"),
        (str(PACKAGE / "engine.py"), 480, "_run_once"),
        (str(PACKAGE / "pipeline.py"), 201, "_check_namespace"),
        (str(PACKAGE / "loading" / "worker.py"), 150, "main"),
        *RUNPY,
    )
    finding = _timeout(dump, str(net), str(net), 60.0)
    assert (finding.name, finding.file, finding.line) == ("load-timeout", str(net), None)
    assert finding.message.startswith("backprop-doctor's own checks of `deep_convnet.py` were still running after 60 s")
    assert "runpy" not in finding.message and "_run_code" not in finding.message


def test_the_users_innermost_frame_is_named_below_the_tools_frames(tmp_path, monkeypatch):
    net = write(tmp_path, "chapter8/deep_convnet.py", "class DeepConvNet:\n    def predict(self, x):\n        return x\n")
    monkeypatch.chdir(net.parent)
    dump = _dump((str(net), 3, "predict"), (str(PACKAGE / "engine.py"), 480, "_run_once"), *RUNPY)
    finding = _timeout(dump, str(net), str(net), 60.0)
    assert (finding.line, finding.message) == (
        3,
        "`deep_convnet.py` was still running line 3 in `predict` after 60 s, so backprop-doctor stopped it; "
        "make `predict` finish sooner, or raise --timeout.",
    )


SLOW_FUNCTIONS = """\
def smooth(x):
    while True:
        x = x + 0.0
    return x
"""

NET = """\
from common.functions import smooth


class Smooth:
    def forward(self, x):
        return smooth(x)

    def backward(self, dout):
        return dout
"""


def test_a_timeout_in_a_module_of_the_project_a_few_folders_up_names_its_line(tmp_path):
    functions = write(tmp_path, "common/functions.py", SLOW_FUNCTIONS)
    net = write(tmp_path, "sample/second/ch01/net.py", NET)
    report = check(net, "--timeout", "3")
    (finding,) = report["findings"]
    assert (finding["code"], finding["file"], finding["line"]) == ("BPD005", str(functions), line_of(functions, "x = x + 0.0"))
    assert "in `smooth` of functions.py" in finding["message"] and "<frozen" not in finding["message"]
