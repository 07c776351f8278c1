"""ember.special: torch.special's functions that Ember provides."""

from __future__ import annotations

from .ops.reduce import logsumexp  # noqa: F401
from .ops.softmax import log_softmax, softmax  # noqa: F401
from .ops.unary import erf, erfc, erfinv, exp2, expm1, log1p, logit  # noqa: F401
from .ops.unary import sigmoid as expit  # noqa: F401
