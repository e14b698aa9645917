"""Old home of the adapters; they live in `backprop_doctor.conventions` now, one module per
calling convention. This module only re-exports the names other modules import."""

from backprop_doctor.conventions._base import (  # noqa: F401
    FORWARD_SEED,
    GRAD_NAMES,
    LAST_LAYER_NAMES,
    TRAIN_FLAGS,
    Adapter,
    is_float_array,
    isolated,
    promote_to_float64,
    source_of,
)
from backprop_doctor.conventions._classlayer import ClassLayer, Methods, is_loss_layer  # noqa: F401
from backprop_doctor.conventions.cs231n import FunctionPair, LossFunction  # noqa: F401
from backprop_doctor.conventions.dlfs2 import dlfs2_names  # noqa: F401
from backprop_doctor.conventions.networks import Network, NetworkAdapter  # noqa: F401
from backprop_doctor.conventions._base import (  # noqa: F401  (old private names, for branches that still use them)
    is_array_list as _is_array_list,
    is_gradient_like as _is_gradient_like,
    parameters as _parameters,
    required_positional as _required_positional,
    train_kwargs as _train_kwargs,
)
