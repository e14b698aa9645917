"""A network whose loss takes its labels first (`loss(contexts, target)`, skip-gram style) gets the
training probe's made-up Gaussian inputs where one-hot labels belong: its cross-entropy then starts
above zero and goes below it in some run, which no cross-entropy of real labels does. Such runs
judge the made-up data, not the training (`training.probe._misfit`), so no training finding comes
of them; a loss that stays at or above zero, or data the user gave, is judged as before."""

from backprop_doctor.training.probe import Probe, _misfit
from backprop_doctor.training.run import Run
from backprop_doctor.training.settings import script_settings


def _probe(yours: list[float], smaller: list[float] | None = None) -> Probe:
    run = Run("yours", 0.1, 5, len(yours), losses=yours)
    lower = [Run("lr 0.01", 0.01, 5, len(smaller), losses=smaller)] if smaller is not None else []
    return Probe("SkipGram", "SkipGram(6, 8)", None, object, script_settings(None), "synthetic: 6 Gaussian clusters", run, smaller=lower)


def test_a_loss_that_starts_above_zero_and_goes_below_it_is_made_up_data_that_does_not_fit():
    assert _misfit(_probe([2.60, 5.0, 12.59], smaller=[2.60, 0.3, -4.06]), None)


def test_a_loss_that_stays_at_or_above_zero_is_judged():
    assert not _misfit(_probe([2.60, 5.0, 12.59], smaller=[2.60, 1.1, 0.0]), None)


def test_a_loss_below_zero_from_the_start_is_judged_as_it_is():
    """A log-likelihood the program maximises is negative by construction: not a misfit of the data."""
    assert not _misfit(_probe([-1.8, -5.0, -15.7]), None)


def test_the_users_own_data_is_always_judged():
    assert not _misfit(_probe([2.60, 0.5, -4.06]), "data.npz")
