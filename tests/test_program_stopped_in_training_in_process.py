"""layer-raised's rewording of a program that stops inside its own training loop, checked in this process
(issue 15, fourteenth round): at an update whose gradient is its parameter's transpose it names the update,
both shapes and the fix; a stop at another line of the loop is an error that names the loop. The program is
`test_training_loop_broken_by_its_own_lines.py`'s; every line from the file's text."""

from __future__ import annotations

from inprocess import checked, line_of, program_runs, restored_interpreter  # noqa: F401 - fixtures used by name
from test_training_loop_broken_by_its_own_lines import SCRIPT


def stopped(findings):
    (finding,) = [f for f in findings if f.name == "program-stopped"]
    return finding


def test_a_transposed_gradient_is_named_at_the_update_it_stops(tmp_path, program_runs):
    path, findings = checked(tmp_path, "net.py", SCRIPT.replace("dW2 = h.T @ ds", "dW2 = ds.T @ h"))
    finding = stopped(findings)
    update = line_of(path, "W2 -= lr * dW2")
    assert (finding.severity, finding.pattern, finding.line, finding.highlight) == ("error", "stopped-in-training", update, (update,))
    assert finding.message == (
        f"your program stopped at line {update} with ValueError (operands could not be broadcast together with shapes "
        "(32,3) (3,32) (32,3) ): the update of `W2` (line {0}) gets `dW2` of shape (3, 32) for `W2` of shape (32, 3), the "
        "transpose: compute `dW2` in `W2`'s shape (swap the factors of its product and transpose each)".format(update)
    )


def test_a_stop_at_another_line_of_the_loop_is_an_error_that_names_the_loop(tmp_path, program_runs):
    path, findings = checked(tmp_path, "net.py", SCRIPT.replace("dh = ds @ W2.T", "dh = ds @ W2"))
    finding = stopped(findings)
    line, loop = line_of(path, "dh = ds @ W2"), line_of(path, "for it in range(100):")
    assert (finding.severity, finding.pattern, finding.line) == ("error", "stopped-in-training", line)
    assert finding.message.startswith(f"your program stopped at line {line} with ValueError (matmul")
    assert finding.message.endswith(f"), inside your training loop (line {loop}), so it never trains: fix that line")


def test_the_right_loop_does_not_stop(tmp_path, program_runs):
    _, findings = checked(tmp_path, "net.py", SCRIPT)
    assert [f for f in findings if f.name == "program-stopped"] == []
