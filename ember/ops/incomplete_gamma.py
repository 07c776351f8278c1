"""igamma / igammac: the regularised lower and upper incomplete gamma functions P(a, x) and
Q(a, x) (torch.special.gammainc / gammaincc), values from scipy; differentiable in x only, as
in torch."""

from __future__ import annotations

import math
from typing import Any

from .. import backend
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from .unary import torch_dtype_name, write_out


def _igamma(op: str, input: Any, other: Any, upper: bool) -> Tensor:
    """P(a, x) (or Q = 1 - P) from scipy.special; the gradient flows to x only, as in torch:
    dP/dx = x^(a-1) e^-x / Gamma(a)."""
    from .. import dtypes  # noqa: PLC0415

    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):  # torch takes tensors only
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, "
                            f"not {type(value).__name__}")
    a, x = input, other
    dtype = dtypes.result_type(a, x)
    if not dtype.is_floating_point:
        raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                  f"'{torch_dtype_name(a.to(dtype)._data)}'")
    a, x = a.to(dtype), x.to(dtype)
    if a._requires_grad and grad_state.enabled:
        raise NotImplementedError(f"the derivative for '{op}: input' is not implemented.")
    return Igamma.apply(a, x, upper)


class Igamma(Op):
    def forward(self, a: Any, x: Any, upper: bool) -> Any:
        xp = backend.module_of(x)
        sp = backend.special_module(xp)
        if sp is None:
            raise RuntimeError("igamma: needs scipy (scipy.special.gammainc) installed")
        self.upper = upper
        self.save_for_backward(a, x)
        fn = sp.gammaincc if upper else sp.gammainc
        with backend.errstate(xp, all="ignore"):
            out = fn(a, x).astype(x.dtype, copy=False)
        a_nan, x_nan = xp.isnan(a), xp.isnan(x)
        if a_nan.any() or x_nan.any():  # torch's order of cases decides before a NaN spreads:
            # x = 0 gives P = 0 and x = inf P = 1 whatever a; a = inf gives P = 0 whatever x
            lower = xp.where(a_nan & (x == 0), 0.0, xp.where(a_nan & (x == math.inf), 1.0,
                                                             xp.where(x_nan & (a == math.inf),
                                                                      0.0, math.nan)))
            fill = ~xp.isnan(lower)
            out = xp.where(fill, 1 - lower if upper else lower, out).astype(x.dtype, copy=False)
        return out

    def backward(self, grad: Any) -> Any:
        a, x = self.saved_tensors
        xp = array_namespace(grad)
        if isinstance(a, Tensor):
            log_gamma_a = a.lgamma()
        else:
            from .pointwise import _lgamma_array  # noqa: PLC0415

            log_gamma_a = _lgamma_array(a)
        pdf = xp.exp((a - 1) * xp.log(x) - x - log_gamma_a)
        return None, (-grad * pdf if self.upper else grad * pdf), None


def igamma(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other)."""
    return write_out("igamma", _igamma("igamma", input, other, False), out)


def igammac(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P."""
    return write_out("igammac", _igamma("igammac", input, other, True), out)


