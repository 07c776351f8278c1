"""torch.special's Bessel functions, Hurwitz zeta, Airy Ai and the classical orthogonal
polynomials. As in torch they have no derivative (backward raises); values come from scipy
(the `fast` extra) for the Bessel/zeta/Airy family, and from the three-term recurrences for the
polynomials (no scipy needed)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import backend, dtypes
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from . import special
from .unary import UnaryOp, not_implemented, sign_nan_zero, write_out
from .unary import _refuse_complex as refuse_complex


class _NoDerivative(Op):
    """out = fn(*arrays) computed on the host; backward raises as torch's does."""

    def forward(self, *args: Any) -> Any:
        *arrays, fn, name = args
        self.name = name
        xp = backend.module_of(arrays[0])
        host = [backend.to_numpy(a) for a in arrays]
        out = backend.numpy.asarray(fn(*host))
        return xp.asarray(out.astype(arrays[0].dtype, copy=False))

    def backward(self, grad: Any) -> tuple:
        raise RuntimeError(f"the derivative for 'special_{self.name}' is not implemented.")


def _float_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    from ..creation import as_tensor  # noqa: PLC0415

    t = x if isinstance(x, Tensor) else as_tensor(x, device=None if like is None else like.device)
    if not t.dtype.is_floating_point and not t.dtype.is_complex:
        t = t.to(dtypes.get_default_dtype())
    return t


def _scipy(name: str) -> Callable:
    sp = backend.special_module(backend.numpy)
    if sp is None:
        raise RuntimeError(f"special.{name} needs scipy (pip install 'ember[fast]' or scipy)")
    return sp


def _unary(name: str, compute: Callable) -> Callable:
    def fn(input: Tensor, *, out: Any = None) -> Tensor:
        x = _float_tensor(input)
        refuse_half(name, x)
        return write_out(name, _NoDerivative.apply(x.detach(), compute, name), out)  # no grad_fn

    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name} (no derivative, as in torch)."
    return fn


bessel_j0 = _unary("bessel_j0", lambda x: _scipy("bessel_j0").j0(x))
bessel_j1 = _unary("bessel_j1", lambda x: _scipy("bessel_j1").j1(x))
bessel_y0 = _unary("bessel_y0", lambda x: _scipy("bessel_y0").y0(x))
bessel_y1 = _unary("bessel_y1", lambda x: _scipy("bessel_y1").y1(x))
modified_bessel_i0 = _unary("modified_bessel_i0", lambda x: _scipy("modified_bessel_i0").i0(x))
modified_bessel_i1 = _unary("modified_bessel_i1", lambda x: _scipy("modified_bessel_i1").i1(x))
modified_bessel_k0 = _unary("modified_bessel_k0", lambda x: _scipy("modified_bessel_k0").k0(x))
modified_bessel_k1 = _unary("modified_bessel_k1", lambda x: _scipy("modified_bessel_k1").k1(x))
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0",
                                   lambda x: _scipy("scaled_modified_bessel_k0").k0e(x))
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1",
                                   lambda x: _scipy("scaled_modified_bessel_k1").k1e(x))


def _airy_ai(x: Any) -> Any:
    # Ai(x) ~ e^(-2/3 x^1.5) underflows to 0 from x = 105 on (scipy answers NaN for huge x;
    # torch's Ai(inf) is NaN)
    return backend.numpy.where((x > 200) & (x < math.inf), 0.0, _scipy("airy_ai").airy(x)[0])


airy_ai = _unary("airy_ai", _airy_ai)


def _spherical_j0(x: Any) -> Any:
    np_ = backend.numpy
    with np_.errstate(divide="ignore", invalid="ignore"):  # sin(x) / x: 1 at 0, 0 at +-inf
        out = np_.where(x == 0, 1.0, np_.sin(x) / np_.where(x == 0, 1.0, x))
        return np_.where(np_.isinf(x), 0.0, out)


spherical_bessel_j0 = _unary("spherical_bessel_j0", _spherical_j0)


def zeta(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """The Hurwitz zeta function sum_k (k + q)^-x (torch.special.zeta(x, q))."""
    like = input if isinstance(input, Tensor) else other
    x, q = _float_tensor(input, like), _float_tensor(other, like)
    from ._util import broadcast_shapes  # noqa: PLC0415

    shape = broadcast_shapes(tuple(x.shape), tuple(q.shape))
    d = dtypes.promote_types(x.dtype, q.dtype)
    refuse_half("zeta", x.to(d))
    return write_out("zeta", SpecialZeta.apply(x.to(d).expand(*shape), q.to(d).expand(*shape)),
                      out)


class SpecialZeta(Op):
    """zeta(x, q) from scipy (NaN for q = inf, as torch); d/dq = -x zeta(x + 1, q), while
    d/dx raises as in torch."""

    def forward(self, x: Any, q: Any) -> Any:
        xp = backend.module_of(x)
        self.save_for_backward(x, q)
        out = backend.numpy.asarray(_scipy("zeta").zeta(backend.to_numpy(x), backend.to_numpy(q)))
        out = backend.numpy.where((backend.to_numpy(q) == math.inf) & (backend.to_numpy(x) != 1),
                                  math.nan, out)
        return xp.asarray(out.astype(x.dtype, copy=False))

    def backward(self, grad: Any) -> tuple:
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = self.saved_tensors
        if isinstance(x, Tensor):
            return None, grad * -x * zeta(x + 1, q)
        return None, grad * -x * SpecialZeta().forward(x + 1, q)


# ------------------------------------------------------------------ orthogonal polynomials
def _recurrence(p0: Callable, p1: Callable, step: Callable) -> Callable:
    """P_n(x) by P_{k+1} = step(k, x, P_k, P_{k-1}), for every element's own n (n < 0: 0)."""
    def compute(x: Any, n: Any) -> Any:
        np_ = backend.numpy
        n = np_.broadcast_to(n, np_.broadcast_shapes(x.shape, n.shape)).astype("int64")
        x = np_.broadcast_to(x, n.shape).astype("float64")
        out = np_.zeros(n.shape)
        prev, cur = p0(x), p1(x)
        out = np_.where(n == 0, prev, out)
        out = np_.where(n == 1, cur, out)
        top = int(n.max()) if n.size else 0
        for k in range(1, top):
            prev, cur = cur, step(k, x, cur, prev)
            out = np_.where(n == k + 1, cur, out)
        return out

    return compute


def _polynomial(name: str, compute: Callable, shift: bool = False) -> Callable:
    def fn(input: Any, n: Any, *, out: Any = None) -> Tensor:
        like = input if isinstance(input, Tensor) else n
        x = _float_tensor(input, like)
        n_t = n if isinstance(n, Tensor) else _float_tensor(n, like)
        from ._util import broadcast_shapes  # noqa: PLC0415

        shape = broadcast_shapes(tuple(x.shape), tuple(n_t.shape))
        d = dtypes.promote_types(x.dtype, n_t.dtype) if n_t.dtype.is_floating_point else x.dtype
        refuse_half(name, x.to(d) if isinstance(n, Tensor) else x)
        xs = (2 * x.detach() - 1) if shift else x.detach()  # no grad_fn, as torch
        return write_out(name, _NoDerivative.apply(xs.to(d).expand(*shape),
                                                   n_t.detach().to(d).expand(*shape), compute,
                                                   name), out)

    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}(x, n) (no derivative, as in torch)."
    return fn


def _ones(x: Any) -> Any:
    return backend.numpy.ones_like(x)


_cheb = lambda k, x, c, p: 2 * x * c - p  # noqa: E731 (T, U, V, W share the recurrence)
chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _recurrence(_ones, lambda x: x,
                                                                           _cheb))
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _recurrence(_ones,
                                                                           lambda x: 2 * x, _cheb))
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _recurrence(
    _ones, lambda x: 2 * x - 1, _cheb))
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _recurrence(
    _ones, lambda x: 2 * x + 1, _cheb))
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", _recurrence(
    _ones, lambda x: x, _cheb), shift=True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", _recurrence(
    _ones, lambda x: 2 * x, _cheb), shift=True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", _recurrence(
    _ones, lambda x: 2 * x - 1, _cheb), shift=True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", _recurrence(
    _ones, lambda x: 2 * x + 1, _cheb), shift=True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _recurrence(
    _ones, lambda x: 2 * x, lambda k, x, c, p: 2 * x * c - 2 * k * p))
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _recurrence(
    _ones, lambda x: x, lambda k, x, c, p: x * c - k * p))
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _recurrence(
    _ones, lambda x: 1 - x, lambda k, x, c, p: ((2 * k + 1 - x) * c - k * p) / (k + 1)))
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _recurrence(
    _ones, lambda x: x, lambda k, x, c, p: ((2 * k + 1) * x * c - k * p) / (k + 1)))


# ------------------------------------------------------------------ differentiable ones
# I0, I1 (plain and e^-|x| scaled), erfcx, ndtri and entr: values from ops/special.py (scipy, or
# its numpy fallbacks), gradients by torch's formulas, so the edge values (0, inf, NaN) agree.
class I0(UnaryOp):
    def forward(self, x: Any) -> Any:
        refuse_complex("i0_vml_cpu", x)
        self.save_for_backward(x)
        return special.i0(x)

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors  # d/dx I0 = I1
        return grad * (_tensor_call("i1", x) if isinstance(x, Tensor) else special.i1(x))


class SpecialI0E(UnaryOp):
    def forward(self, x: Any) -> Any:
        refuse_complex("i0e_cpu", x)
        y = special.i0e(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        x, y = self.saved_tensors  # d/dx e^-|x| I0(x) = I1e(x) - sgn(x) I0e(x)
        i1e_x = _tensor_call("i1e", x) if isinstance(x, Tensor) else special.i1e(x)
        return grad * (i1e_x - sign_nan_zero(x) * y)


class _HalfBackwardRefused(UnaryOp):
    def refuse_half_backward(self, kernel: str, x: Any) -> None:
        """torch's I1 gradients have float32/float64 kernels only."""
        if self.bf16_inputs is not None:
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'BFloat16'")
        if str(x.dtype).endswith("float16"):
            raise NotImplementedError(f"\"{kernel}\" not implemented for 'Half'")


class SpecialI1(_HalfBackwardRefused):
    def forward(self, x: Any) -> Any:
        refuse_complex("i1_cpu", x)
        y = special.i1(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        # d/dx I1 = I0(x) - I1(x) / x, 1/2 where |x| <= eps (NaN included, as torch)
        x, y = self.saved_tensors
        self.refuse_half_backward("i1_backward", x)
        xp = array_namespace(grad)
        safe, tiny = _safe_nonzero(xp, x)
        i0_x = _tensor_call("i0", safe) if isinstance(safe, Tensor) else special.i0(safe)
        return grad * xp.where(tiny, 0.5, i0_x - y / safe)


class SpecialI1E(_HalfBackwardRefused):
    def forward(self, x: Any) -> Any:
        refuse_complex("i1e_cpu", x)
        y = special.i1e(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        # d/dx e^-|x| I1(x) = I0e(x) - I1e(x) (sgn(x) + 1/x), 1/2 where |x| <= eps (as torch)
        x, y = self.saved_tensors
        self.refuse_half_backward("i1e_backward", x)
        xp = array_namespace(grad)
        safe, tiny = _safe_nonzero(xp, x)
        i0e_x = _tensor_call("i0e", safe) if isinstance(safe, Tensor) else special.i0e(safe)
        return grad * xp.where(tiny, 0.5, i0e_x - y * (sign_nan_zero(safe) + 1 / safe))


class SpecialErfcx(UnaryOp):
    def forward(self, x: Any) -> Any:
        refuse_complex("erfcx_cpu", x)
        y = special.erfcx(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, grad: Any) -> Any:
        x, y = self.saved_tensors  # d/dx erfcx = 2 x erfcx(x) - 2 / sqrt(pi)
        return grad * (2 * x * y - 2 / math.sqrt(math.pi))


class SpecialNdtri(UnaryOp):
    def forward(self, p: Any) -> Any:
        refuse_complex("ndtri_cpu", p)
        y = special.ndtri(p)
        self.save_for_backward(y)
        return y

    def backward(self, grad: Any) -> Any:
        (y,) = self.saved_tensors  # 1 / Phi'(y) = sqrt(2 pi) e^(y^2 / 2)
        return grad * math.sqrt(2 * math.pi) * array_namespace(grad).exp(y * y / 2)


class SpecialEntr(UnaryOp):
    def forward(self, x: Any) -> Any:
        refuse_complex("entr_cpu", x)
        xp = backend.module_of(x)
        self.save_for_backward(x)
        with backend.errstate(xp, all="ignore"):  # -x ln x; +0 at 0, -inf below, NaN kept
            out = -x * xp.log(xp.where(x > 0, x, 1))
            return xp.where(x < 0, -math.inf, xp.where(x == 0, 0.0, out))

    def backward(self, grad: Any) -> Any:
        (x,) = self.saved_tensors  # d/dx (-x ln x) = -(1 + ln x): inf at 0, NaN below
        return grad * -(1 + array_namespace(grad).log(x))


def _safe_nonzero(xp: Any, x: Any) -> tuple:
    """(x with every |x| <= eps (and NaN) replaced by eps, that mask): torch's guard in the
    I1 gradients, whose limit at 0 is 1/2."""
    eps = float(backend.numpy.finfo(x.dtype if not isinstance(x, Tensor) else x.dtype.np).eps)
    tiny = ~(xp.abs(x) > eps)
    return xp.where(tiny, eps, x), tiny


def _tensor_call(name: str, x: Tensor) -> Tensor:
    from .. import special as ember_special  # noqa: PLC0415 (ember.special imports this)

    return getattr(ember_special, name)(x)


def refuse_half(name: str, x: Tensor) -> None:
    """torch has no float16 / bfloat16 / complex kernel for these functions: neither has
    Ember."""
    if x.dtype in (dtypes.float16, dtypes.bfloat16) or x.dtype.is_complex:
        raise not_implemented(f"{name}_cpu", x._data)
