"""Matrix functions built from differentiable ops: matrix_exp, householder_product, geqrf, and
the weight-norm helpers (norm_except_dim, _weight_norm). Their gradients come from the ops
they are made of, so they need no backward of their own."""

from __future__ import annotations

import math

from .. import backend
from ..tensor import Tensor
from ._util import torch_named


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """torch.norm_except_dim(v, pow, dim): the pow-norm over every dim but `dim`, kept
    broadcastable against v; dim=-1 means the norm of the whole tensor (a scalar)."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.ndim
    others = [d for d in range(v.ndim) if d != dim]
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """torch._weight_norm: v * g / ||v|| (norm over all dims but `dim`)."""
    return v * (g / norm_except_dim(v, 2, dim))


def _eye_like(n: int, k: int, like: Tensor) -> Tensor:
    from ..creation import eye  # noqa: PLC0415

    return eye(n, k, dtype=like.dtype, device=like.device)


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) of a (batch of) square matrices by scaling and squaring: Taylor series of
    A / 2^s (norm <= 1/2, degree 18 keeps the error below float64 eps), squared s times.
    Built from differentiable ops, so the gradient follows."""
    from .decomp import _square  # noqa: PLC0415

    _square("linalg.matrix_exp", A)
    xp = backend.module_of(A._data)
    norm = float(xp.abs(A._data).sum(axis=-2).max()) if A.numel() else 0.0  # 1-norm bound
    s = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0 else 0
    B = A / (2.0 ** s)
    eye = _eye_like(A.shape[-1], A.shape[-1], A)
    E = eye
    for j in range(18, 0, -1):  # Horner: I + B/1 (I + B/2 (I + ... (I + B/18)))
        E = eye + (B @ E) / j
    for _ in range(s):
        E = E @ E
    return torch_named(E, "LinalgMatrixExp")


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """torch.linalg.householder_product: the first k columns of H_1 ... H_k, where
    H_i = I - tau_i v_i v_i^H and v_i is column i of A below the diagonal with a unit on it;
    k = tau.shape[-1] reflectors, which may be fewer than A's columns."""
    name = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.dim()} and input.ndim is equal to {A.dim()}")
    n, m, k = A.shape[-2], A.shape[-1], tau.shape[-1]
    if n < m:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if m < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    from .decomp import _check_dtype, _torch_dtype_name  # noqa: PLC0415

    _check_dtype(name, A, half="orgqr", integer="orgqr")
    if tau._data.dtype != A._data.dtype:
        raise RuntimeError(f"{name}: tau dtype {_torch_dtype_name(tau._data)} does not match "
                           f"input dtype {_torch_dtype_name(A._data)}")
    V = A.tril(-1) + _eye_like(n, m, A)  # (*, n, m) the reflectors
    Q = _eye_like(n, m, A).expand(*A.shape[:-2], n, m)
    if k == 0:  # the identity, connected to A with a zero gradient as torch's
        return Q + A.masked_fill(_eye_like(1, 1, A).bool(), 0.0)
    for i in range(k - 1, -1, -1):  # apply H_k first, H_1 last
        v = V[..., :, i:i + 1]  # (*, n, 1)
        t = tau[..., i:i + 1].unsqueeze(-1)  # (*, 1, 1)
        Q = Q - (t * v) @ (v.mH @ Q)
    return Q


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """torch.ormqr: `other` multiplied by the Q of geqrf's reflectors (input, tau), Q = H_1 ...
    H_k with H_i = I - tau_i v_i v_i^H: Q C (left), C Q (not left), Q^H in place of Q with
    transpose. The reflectors are applied one by one, so Q is never formed."""
    name = "torch.ormqr"
    if input.dim() < 2 or other.dim() < 2:
        raise RuntimeError(f"{name}: input and other must have at least 2 dimensions.")
    if tau.dim() != input.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.dim()} and input.ndim is equal to "
                           f"{input.dim()}")
    m = other.shape[-2] if left else other.shape[-1]
    if input.shape[-2] != m:
        raise RuntimeError(f"{name}: Expected input.shape[-2] to be equal to "
                           f"other.shape[{-2 if left else -1}], but got {input.shape[-2]} != {m}")
    k = tau.shape[-1]
    if k > m or k > input.shape[-1]:
        raise RuntimeError(f"{name}: tau.shape[-1] must be less than or equal to "
                           f"min(input.shape[-2], input.shape[-1])")
    if not (input._data.dtype == tau._data.dtype == other._data.dtype):
        raise RuntimeError(f"{name}: Expected input, tau and other to have the same dtype")
    V = input.tril(-1) + _eye_like(*input.shape[-2:], input)  # (*, m, n): v_i is column i
    C = other
    steps = range(k) if left == transpose else range(k - 1, -1, -1)
    for i in steps:
        v = V[..., :, i:i + 1]  # (*, m, 1)
        t = tau[..., i:i + 1].unsqueeze(-1)  # (*, 1, 1)
        if transpose:
            t = t.conj()
        C = C - (t * v) @ (v.mH @ C) if left else C - ((C @ v) * t) @ v.mH
    return C


def geqrf(A: Tensor) -> tuple[Tensor, Tensor]:
    """torch.geqrf (no gradient): LAPACK's compact QR, reflectors below the diagonal, R on and
    above it, plus the reflectors' scales tau."""
    xp = backend.module_of(A._data)
    data = A._data
    flat = data.reshape(-1, *data.shape[-2:])
    outs, taus = [], []
    for m in flat:
        h, tau = xp.linalg.qr(m, mode="raw")  # h is LAPACK's output, transposed
        outs.append(h.T)
        taus.append(tau)
    k = min(data.shape[-2:])
    out = xp.stack(outs).reshape(data.shape) if outs else data.copy()
    tau = xp.stack(taus).reshape(*data.shape[:-2], k) if taus else \
        xp.zeros((*data.shape[:-2], k), dtype=data.dtype)
    return Tensor._make(xp.ascontiguousarray(out)), Tensor._make(tau)
