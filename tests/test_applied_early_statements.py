"""`static.applied_early` on loop bodies of its own: an update reading a gradient the pass sets only
after it, from a value the pass computed before it; not a pass that starts with its update, not a
learning rate set after the update from the loop's counter alone, not an update inside a nested block."""

from __future__ import annotations

import ast
import textwrap

from backprop_doctor.static.applied_early import applied_early


def body(text: str) -> list[ast.stmt]:
    (loop,) = ast.parse(textwrap.dedent(text)).body
    return list(loop.body)


def test_the_update_before_the_backward_is_found_with_the_forward_it_reads():
    statements = body(
        """
        for i in range(10):
            out, keep = forward(params, xs[i])
            step(params, grads, 0.1)
            grads = backward(params, keep)
        """
    )
    found = applied_early(statements, 4, 4)
    assert found is not None
    assert (found.name, found.update, found.computed, found.forward, found.forward_name) == ("grads", 4, 5, 3, "keep")


def test_the_gradient_computed_through_statements_after_the_update_is_followed_back():
    statements = body(
        """
        for i in range(10):
            h = np.tanh(x @ W)
            W -= lr * gW
            err = h - y
            gW = x.T @ (err * (1 - h ** 2))
        """
    )
    found = applied_early(statements, 4, 4)
    assert found is not None and (found.name, found.computed, found.forward_name) == ("gW", 6, "h")


def test_a_pass_that_starts_with_its_update_is_left_alone():
    statements = body(
        """
        for i in range(10):
            W -= lr * gW
            h = np.tanh(x @ W)
            gW = x.T @ ((h - y) * (1 - h ** 2))
        """
    )
    assert applied_early(statements, 3, 3) is None


def test_a_name_set_after_the_update_from_nothing_the_pass_computed_before_is_left_alone():
    statements = body(
        """
        for i in range(10):
            h = np.tanh(x @ W)
            gW = x.T @ ((h - y) * (1 - h ** 2))
            W -= lr * gW
            lr = base / (1 + i)
        """
    )
    assert applied_early(statements, 5, 5) is None


def test_an_update_inside_a_nested_block_is_left_alone():
    statements = body(
        """
        for i in range(10):
            out, keep = forward(params, xs[i])
            if i % 2:
                step(params, grads, 0.1)
            grads = backward(params, keep)
        """
    )
    assert applied_early(statements, 5, 5) is None
