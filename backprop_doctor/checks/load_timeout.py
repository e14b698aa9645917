"""The file's code was still running when the time limit passed.

What it finds:
    The checked file ran past --timeout (60 s by default). backprop-doctor
    stopped the process that was running it and names the line the code was
    on then, from a stack dump taken just before the limit: usually a training
    loop at module level run with --exec-module, or a layer whose `forward`
    never returns.

Why it matters:
    Nothing was checked after that point. A training loop at module level also
    runs whenever another file imports this one.

Example:
    for i in range(iters_num):          # module level, under --exec-module
        grad = network.gradient(x_batch, t_batch)

Fix:
    if __name__ == "__main__":
        for i in range(iters_num):
            grad = network.gradient(x_batch, t_batch)

    or check without --exec-module (only definitions run), or raise --timeout.
"""

NAME = "load-timeout"
CODE = "BPD005"
SEVERITY = "error"
STAGE = "load"
