"""One module per check; `backprop_doctor.rules` finds them.

Code ranges: BPD0xx loading and static analysis, BPD1xx gradients,
BPD2xx layer contracts, BPD3xx batch axis, BPD4xx parameter sharing,
BPD5xx loss reduction and initialisation, BPD6xx training dynamics.
"""
