"""Observe the user's own program: run its driver code and record what it builds and feeds.

    driver.py   does the file have driver code (a script, a main block) worth running?
    record.py   the record: plain dataclasses of instances, calls and loss values
    tracer.py   the small `sys.settrace` recorder that fills the record and stops the run
    run.py      run the whole file in this (child) process under the recorder
    check.py    check the recorded objects on the recorded inputs

The checks read the record, never the live tracer (the model is coverage.py's
collector: a small tracer, plain data, and a program that runs as it would
without it until the recorder stops it).
"""
