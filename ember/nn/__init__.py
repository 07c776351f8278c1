"""ember.nn: neural-network building blocks (torch.nn's names and behaviour).

Modules hold parameters and call `ember.nn.functional`; `ember.nn.init` initialises weights;
`ember.nn.utils` clips gradients.
"""

from . import functional, init, utils
from .modules import *  # noqa: F403 (the layer classes, as torch.nn exports them)
from .modules import __all__ as _modules_all
from .functional.linear_cross_entropy import LinearCrossEntropyOptions
from .parameter import Buffer, Parameter

from . import attention  # noqa: E402 (torch.nn.attention: sdpa_kernel, SDPBackend)
from . import parallel  # noqa: E402
from .parallel import DataParallel  # noqa: E402

__all__ = ["Buffer", "DataParallel", "LinearCrossEntropyOptions", "Parameter", "functional",
           "init", "utils", *_modules_all]
