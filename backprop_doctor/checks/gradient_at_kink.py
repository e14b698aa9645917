"""The numerical gradient crossed a kink (ReLU at 0, a max tie); not a bug.

What it finds:
    A probe whose one-sided slopes differ: the step `h` crossed a point where
    the function is not differentiable, such as a ReLU input at exactly 0 or two
    equal values in a max-pool window. The input is moved slightly and the
    check retried; this note remains only when the kink cannot be avoided.

Why it matters:
    At a kink the central difference is the average of two slopes, so it
    differs from any analytic gradient. Reporting that as a wrong gradient
    would be a false alarm.

Example:
    x = np.array([[0.0, 1.0]])          # ReLU input sitting on its kink

Fix:
    Nothing to fix in the layer. Check with inputs away from 0.
"""

NAME = "gradient-at-kink"
CODE = "BPD104"
SEVERITY = "info"
STAGE = "gradient"
