"""A layer or network in the file could not be constructed for checking.

What it finds:
    A class that looks checkable but whose constructor could not be called:
    it needs arguments backprop-doctor cannot infer (no literal call in the
    file, no defaults, no --build), or calling it raised. The finding shows the
    call that was tried and the error it gave. When the error came from a
    missing module's stand-in (`np` undefined because `from common.layers
    import *` found nothing, `im2col(x) * 0.5` with `im2col` from a missing
    module), it is an info note naming that module (pattern `stand-in`), at the
    line that met the stand-in: the error is not the code's own. A whole model
    whose backward returns its parameters' gradients alone, under names that
    say nothing (`return g1, g2, g3, g4`), with two parameters of one shape
    (`W1` and `W2` both (8, 8)), cannot be paired with them by shape: it is
    not checked as a layer, only through its training step, and says so in an
    info note (pattern `unpaired-gradients`).

Why it matters:
    A class that cannot be built cannot be checked; its gradients may be wrong
    and nothing here would say so.

Example:
    class Convolution:
        def __init__(self, W, b, stride, pad):   # no call in the file shows the shapes

Fix:
    Tell backprop-doctor how to build it:
        backprop-doctor net.py --build "Convolution(np.random.randn(4, 3, 3, 3), np.zeros(4), 1, 1)"
    or add a small literal construction under `if __name__ == "__main__":`.
"""

NAME = "build-failed"
CODE = "BPD008"
SEVERITY = "warning"
STAGE = "load"
