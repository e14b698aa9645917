"""The user's program raised while backprop-doctor watched it run.

What it finds:
    When a file has driver code (a script at module level, or an
    `if __name__ == "__main__":` block), backprop-doctor runs it for a few
    training iterations and checks the objects it builds on the data it feeds
    them. This finding says the program raised before that was done, at the
    line of the user's code where it did.

Why it matters:
    The same error stops the script when you run it. What the program built
    before the error is still checked on what it was given; whatever it would
    have built after it is checked with synthesized arguments instead, if
    they can be guessed.

Example:
    net = TwoLayerNet(784, 50, 10)
    x_batch = x_train[batch_mask]      # x_train was never assigned

Fix:
    Run the file on its own to see the full traceback and fix it; or pass
    --no-run to check only the definitions.
"""

NAME = "program-stopped"
CODE = "BPD021"
SEVERITY = "info"
STAGE = "load"
