"""A learning rate is blamed for a rising loss only when the program's loss is held back by it:
a recurrent net at a high rate whose loss spikes now and then (a step too long when its gradients
grow) but falls between the spikes, lower than a smaller rate brings it in as many steps, is
learning; the replay's window ending in a spike is not a loss that rises."""

from __future__ import annotations

from backprop_doctor.replay.gradients import _lower_between_spikes

# an LSTM at lr 0.5: 40 steps from step 1, spikes at steps 5-11 and 35-40, 0.038 between them
SPIKY = [0.0783, 0.0714, 0.0671, 0.0731, 0.1483, 0.4248, 0.4044, 0.3154, 0.3559, 0.2112, 0.1056, 0.0897, 0.0853,
         0.0821, 0.0792, 0.0764, 0.0738, 0.0711, 0.0685, 0.0658, 0.0632, 0.0605, 0.0580, 0.0554, 0.0530, 0.0508,
         0.0486, 0.0465, 0.0446, 0.0428, 0.0411, 0.0396, 0.0384, 0.0402, 0.0668, 0.2424, 0.3547, 0.3492, 0.2492, 0.1035]  # fmt: skip
# the same program at lr 0.05: a steady fall
SMALLER = [0.0783 - 0.00058 * i for i in range(40)]
# a rate too high: the loss climbs and stays up
CLIMBING = [0.08 * (1.05**i) for i in range(40)]


def test_a_loss_that_falls_lower_between_its_spikes_than_a_smaller_rate_is_not_held_back():
    assert _lower_between_spikes(SPIKY, SMALLER)


def test_a_climbing_loss_is_held_back_by_its_rate():
    assert not _lower_between_spikes(CLIMBING, SMALLER)


def test_a_loss_that_is_not_a_number_is_not_judged_learning():
    assert not _lower_between_spikes([*SPIKY[:-1], float("nan")], SMALLER)
