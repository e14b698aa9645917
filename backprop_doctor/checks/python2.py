"""The file is Python 2; it was read as Python 3 to check it.

What it finds:
    A file that does not parse as Python 3 only because of Python 2 syntax
    (`print x`, `print >>f, x`, `except E, e:`, `raise E, "text"`, `<>`,
    `0777`, `10L`, backquotes). Each such line is read with its Python 3
    spelling (`print(x)`), every line keeping its number, and the names
    Python 3 dropped (`xrange`, `raw_input`, `unicode`, `reduce`, ...) are
    given back while the program runs, so the network it defines is checked.
    The lines read differently are listed.

Why it matters:
    Python 3 stops at the first of these lines, before anything runs. Many
    well-known tutorials (Nielsen's `network.py` among them) were written in
    Python 2; copied as they are, they do not run. Beware also of `/`: in
    Python 2 it rounds down between integers, in Python 3 it does not.

Example:
    for j in xrange(epochs):
        print "Epoch {0} complete".format(j)

Fix:
    for j in range(epochs):
        print("Epoch {0} complete".format(j))
"""

NAME = "python2"
CODE = "BPD012"
SEVERITY = "warning"
STAGE = "load"
