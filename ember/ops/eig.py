"""linalg.eig and linalg.eigvals: eigen-decomposition of general (non-symmetric) matrices.

The results are complex even for real input, as in torch. Eigenvectors have unit norm but are
defined only up to a phase e^{i phi} (LAPACK's geev, as torch uses, though numpy and torch may
pick different signs for real eigenvectors), so a loss must not depend on that phase; the
backward checks it as torch does.

Backward (torch's linalg_eig_backward), with V^H gV projected so the phase has no effect:

    gA = V^{-H} (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H,
    E_ij = L_j - L_i (the diagonal ignored),

and only its real part for a real A. It runs on arrays: no double backward.
"""

from __future__ import annotations

from typing import Any

from .. import backend, return_types
from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor


def _eig_arrays(A: Any) -> tuple:
    """numpy's (or cupy's) eig; on a GPU without one, on the host and back."""
    xp = backend.module_of(A)
    linalg = xp.linalg if hasattr(xp.linalg, "eig") else backend.numpy.linalg
    host = A if linalg is xp.linalg else backend.to_numpy(A)
    try:
        L, V = linalg.eig(host)
    except backend.numpy.linalg.LinAlgError as exc:
        from .decomp import LinAlgError  # noqa: PLC0415

        raise LinAlgError(f"linalg.eig: {exc}: the algorithm failed to converge") from None
    cdtype = backend.numpy.result_type(A.dtype, backend.numpy.complex64)
    L, V = L.astype(cdtype, copy=False), V.astype(cdtype, copy=False)
    if linalg is not xp.linalg:
        dev = backend.device_of(A)
        L, V = backend.to_device(L, dev), backend.to_device(V, dev)
    return L, V


class _Eig(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor) -> tuple:
        L, V = _eig_arrays(A._data)
        ctx.real_input = A._data.dtype.kind != "c"
        L, V = Tensor._make(L), Tensor._make(V)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, gL: Tensor, gV: Tensor) -> Tensor:
        L, V = (t._data for t in ctx.saved_tensors)
        xp = backend.module_of(L)
        Vh = xp.conj(xp.swapaxes(V, -1, -2))
        VhgV = Vh @ gV._data
        diag = xp.diagonal(VhgV, axis1=-2, axis2=-1)
        if not xp.allclose(diag.imag, 0, rtol=1e-2, atol=1e-2):
            raise RuntimeError(
                "linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                "multiplication by e^{i phi}. The specified loss function depends on this "
                "quantity, so it is ill-defined."
            )
        VhgV = VhgV - Vh @ (V * diag.real[..., None, :])
        Lc = xp.conj(L)
        E = Lc[..., None, :] - Lc[..., :, None]
        n = L.shape[-1]
        eye = xp.eye(n, dtype=bool)
        inner = xp.where(eye, 0, VhgV / xp.where(eye, 1, E))
        inner = inner + eye * gL._data[..., None, :]
        gA = xp.linalg.solve(Vh, inner @ Vh)
        if ctx.real_input:
            gA = gA.real
        return Tensor._make(backend.as_array(gA))


def _check(op: str, A: Any) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but got shape "
                           f"{list(A.shape)}")
    from .decomp import _check_dtype  # noqa: PLC0415

    _check_dtype(op, A, half="linalg_eig_out")


def eig(A: Tensor, *, out: Any = None) -> Any:
    """(eigenvalues, eigenvectors) of square matrices: complex, unit-norm eigenvectors."""
    _check("linalg.eig", A)
    return return_types.linalg_eig(*_Eig.apply(A))


def eigvals(A: Tensor, *, out: Any = None) -> Tensor:
    """The (complex) eigenvalues of square matrices."""
    _check("linalg.eigvals", A)
    return _Eig.apply(A)[0]
