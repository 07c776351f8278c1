"""Matrix functions and decompositions: inv, det, slogdet, solve, cholesky, qr, eigh, svd,
pinv, lstsq, matrix_power, matrix norms.

Each is an `autograd.Function`: forward calls the backend's LAPACK routine on the arrays,
backward is the standard matrix-calculus formula written with Ember's differentiable ops, so
gradients of gradients work too. All work on batches of matrices in the last two dims.

Real and complex inputs share one formula: a Function's backward receives and returns torch's
complex gradient (dL/dx + i dL/dy for z = x + iy), and in that convention the real formulas
hold with every transpose a conjugate transpose (`.mH`, which is `.mT` for real tensors) and
every scalar factor conjugated (det's). Decompositions with a phase freedom (eigh, svd) also
drop, or check as torch does, the part of the gradient that only turns that phase.
"""

from __future__ import annotations

import math
from typing import Any

from .. import backend, dtypes, return_types
from ..autograd.function import Function
from ..tensor import Tensor
from ._util import shape_str, torch_named
from .complex import _dtype_name
from .join import cat
from .unary import torch_dtype_name


def _mT(x: Tensor) -> Tensor:  # noqa: N802
    return x.transpose(-2, -1)


def _wrap(array: Any) -> Tensor:
    return Tensor._make(backend.as_array(array))


def _square(op: str, A: Tensor, *, half: str | None = None, integer: str | None = None) -> None:
    """torch's checks of a batch of square matrices: a Tensor, 2 or more dims, square, and a
    dtype the op's LAPACK kernel takes (see `_check_dtype` for `half` and `integer`)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    _at_least_2d(op, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    _check_dtype(op, A, half=half, integer=integer)


def _at_least_2d(op: str, A: Tensor, name: str = "A") -> None:
    if A.dim() < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")


_LOW_PRECISION = ("float16", "bfloat16")


_torch_dtype_name = torch_dtype_name  # torch's names in messages (BFloat16, Float, Long...)


def _check_dtype(op: str, A: Tensor, *, half: str | None = None,
                 integer: str | None = None) -> None:
    """torch's dtype errors. Integer and bool inputs: a RuntimeError, or with `integer` (the
    name of torch's CPU kernel) a NotImplementedError as torch's dispatch gives. float16 and
    bfloat16: accepted when `half` is None, a RuntimeError when it is "low" (torch's "Low
    precision dtypes not supported"), else the kernel's NotImplementedError."""
    data = A._data
    name = _torch_dtype_name(data)
    if str(data.dtype) in _LOW_PRECISION:
        if half == "low":
            raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {name}")
        if half is not None:
            raise NotImplementedError(f"{op}: \"{half}_cpu\" not implemented for '{name}'")
    elif data.dtype.kind not in "fc":
        if integer is not None:
            raise NotImplementedError(f"{op}: \"{integer}_cpu\" not implemented for '{name}'")
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{name}")


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular or non-positive-definite matrix (a RuntimeError)."""


def _lapack(op: str, fn: Any, *args: Any) -> Any:
    try:
        with backend.linalg_errors(backend.module_of(args[0])):
            return fn(*args)
    except backend.numpy.linalg.LinAlgError as exc:
        raise LinAlgError(f"{op}: {exc}: the input matrix is singular or not positive "
                          "definite") from None


def _eye_like(x: Tensor, n: int) -> Tensor:
    xp = backend.module_of(x._data)
    return _wrap(xp.eye(n, dtype=x._data.dtype))


# --------------------------------------------------------------------- inverse, det, solve
class _Inv(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Tensor:
        xp = backend.module_of(A._data)
        Y = _wrap(_lapack("linalg.inv", xp.linalg.inv, A._data))
        ctx.save_for_backward(Y)
        return Y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (Y,) = ctx.saved_tensors  # d(A^-1) = -A^-1 dA A^-1, so gA = -A^-H g A^-H
        Yh = Y.mH
        return -(Yh @ g @ Yh)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix."""
    _square("linalg.inv", A, half="low")
    return torch_named(_Inv.apply(A), "LinalgInvEx")


class _Det(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Tensor:
        xp = backend.module_of(A._data)
        d = _wrap(xp.asarray(xp.linalg.det(A._data)))
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        A, d = ctx.saved_tensors  # d det(A) = det(A) tr(A^-1 dA): gA = g conj(det) A^-H
        try:
            return (g * d.conj())[..., None, None] * inv(A).mH
        except LinAlgError:  # singular: det's derivative is the adjugate (finite), gA = g adj^H
            return g[..., None, None] * _adjugate(A).mH


def _adjugate(A: Tensor) -> Tensor:
    """adj(A) = det(A) A^-1, also where A is singular: with A = U S V^H,
    adj(A) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H."""
    U, S, Vh = svd(A, full_matrices=False)
    n = S.shape[-1]
    eye = _eye_like(S, n).bool()
    others = S.unsqueeze(-2).expand(*S.shape[:-1], n, n).masked_fill(eye, 1.0).prod(-1)
    phase = (_Det.apply(U) * _Det.apply(Vh))[..., None, None]
    return phase * (Vh.mH * others.unsqueeze(-2)) @ U.mH


def det(A: Tensor) -> Tensor:
    _square("linalg.det", A, half="lu")
    return torch_named(_Det.apply(A), "LinalgDet")


class _Slogdet(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor) -> tuple:
        xp = backend.module_of(A._data)
        sign, logabs = xp.linalg.slogdet(A._data)
        sign = _wrap(xp.asarray(sign))
        ctx.save_for_backward(A, sign)
        return sign, _wrap(xp.asarray(logabs))

    @staticmethod
    def backward(ctx: Any, g_sign: Any, g_log: Tensor) -> Tensor:
        # d log|det A| = Re tr(A^-1 dA) and d sign = i sign Im tr(A^-1 dA), so
        # gA = (g_log - i Im(conj(g_sign) sign)) A^-H; a real sign is piecewise constant
        A, sign = ctx.saved_tensors
        g = g_log
        if A.is_complex() and g_sign is not None:
            turn = (g_sign.conj() * sign).imag * -1j
            g = turn if g is None else g + turn
        if g is None:
            return A * 0
        try:
            return g[..., None, None] * inv(A).mH
        except LinAlgError:  # A^-1 = adj(A) / det(A): infinite where A is singular
            d = _Det.apply(A)[..., None, None]
            return g[..., None, None] * (_adjugate(A) / d).mH


def slogdet(A: Tensor) -> Any:
    """(sign, log|det|) of each square matrix."""
    _square("linalg.slogdet", A, half="low")
    sign, logabs = _Slogdet.apply(A)
    return return_types.linalg_slogdet(sign, torch_named(logabs, "LinalgSlogdet"))


def logdet(A: Tensor) -> Tensor:
    """log det A: NaN where a real det is negative; for complex A, log(sign) + log|det|."""
    _square("logdet", A, half="low")
    sign, logabs = slogdet(A)
    if A.is_complex():
        return sign.log() + logabs
    out = logabs.masked_fill(sign < 0, math.nan).masked_fill(sign == 0, -math.inf)
    return torch_named(out, "Where")  # torch's last step


class _Solve(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor, B: Tensor) -> Tensor:
        xp = backend.module_of(A._data)
        X = _wrap(_lapack("linalg.solve", xp.linalg.solve, A._data, B._data))
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        A, X = ctx.saved_tensors  # X = A^-1 B: gB = A^-H g, gA = -gB X^H
        gB = _Solve.apply(A.mH, g)
        return -(gB @ X.mH), gB


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (or X A = B when left=False); B may be a vector or a batch of them."""
    _square("linalg.solve", A, half="lu")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A "
                           f"of type {_dtype_name(A._data)} and B of type "
                           f"{_dtype_name(B._data)} instead")
    vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left:
        if vector:  # torch takes no vector B for X A = B
            n = A.shape[-1]
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"XA = B ({n}x{n} and {B.shape[-1]}x1)")
        return _mT(solve(_mT(A), _mT(B)))
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({shape_str(A.shape)} and {shape_str(B.shape)})")
    batch = _broadcast_batch(A.shape[:-2], rhs.shape[:-2])
    A_b = A.expand(*batch, *A.shape[-2:])
    rhs = rhs.expand(*batch, *rhs.shape[-2:])
    X = _Solve.apply(A_b, rhs)
    return torch_named(X.squeeze(-1) if vector else X, "LinalgSolveEx")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (X A = B if not left) reading only A's upper or lower triangle (and
    taking its diagonal as ones if unitriangular). A solve of the masked matrix: the mask
    makes the gradient of A triangular too."""
    _square("linalg.solve_triangular", A, half="triangular_solve", integer="triangular_solve")
    if B.dim() < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    if B._data.dtype != A._data.dtype:  # torch's result takes A's dtype
        B = B.to(A.dtype)
    T = A.triu(1 if unitriangular else 0) if upper else A.tril(-1 if unitriangular else 0)
    if unitriangular:
        from ..creation import eye  # noqa: PLC0415

        T = T + eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return solve(T, B, left=left)


def _broadcast_batch(a: Any, b: Any) -> tuple:
    from ._util import broadcast_shapes  # noqa: PLC0415

    return broadcast_shapes(tuple(a), tuple(b))


# --------------------------------------------------------------------- cholesky, qr
class _Cholesky(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Tensor:
        xp = backend.module_of(A._data)
        try:
            with backend.linalg_errors(xp):
                L = _wrap(xp.linalg.cholesky(A._data))
        except backend.numpy.linalg.LinAlgError:
            raise LinAlgError(_not_positive_definite("linalg.cholesky", A._data)) from None
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx: Any, gL: Tensor) -> Tensor:
        (L,) = ctx.saved_tensors
        # gA = L^-H Phi(L^H gL) L^-1, Phi: the lower triangle, made Hermitian with half diagonal
        P = (L.mH @ gL).tril()
        S = 0.5 * (P + P.tril(-1).mH)
        Linv = inv(L)
        return Linv.mH @ S @ Linv


def _not_positive_definite(op: str, a: Any) -> str:
    """torch's message for the first matrix of the batch `a` that has no Cholesky factor,
    naming its first leading minor that is not positive definite."""
    np_ = backend.numpy
    flat = backend.to_numpy(a).reshape((-1,) + a.shape[-2:])
    for b, matrix in enumerate(flat):
        for k in range(1, matrix.shape[-1] + 1):
            try:
                np_.linalg.cholesky(matrix[:k, :k])
            except np_.linalg.LinAlgError:
                where = f"(Batch element {b}): " if len(a.shape) > 2 else ""
                return (f"{op}: {where}The factorization could not be completed because the "
                        f"input is not positive-definite (the leading minor of order {k} is "
                        "not positive-definite).")
    return f"{op}: the input is not positive-definite"


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The lower Cholesky factor L with A = L L^H (U = L^H when upper=True); A Hermitian
    (symmetric when real) positive definite, read from its lower triangle."""
    _square("linalg.cholesky", A, half="cholesky")
    L = torch_named(_Cholesky.apply(A), "LinalgCholeskyEx")
    return torch_named(L.mH, "LinalgCholeskyEx") if upper else L


class _QR(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor, mode: str) -> tuple:
        xp = backend.module_of(A._data)
        Q, R = xp.linalg.qr(A._data, mode="complete" if mode == "complete" else "reduced")
        Q, R = _wrap(Q), _wrap(R)
        ctx.save_for_backward(Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx: Any, gQ: Tensor, gR: Tensor) -> tuple:
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if m < n:
            raise NotImplementedError("linalg.qr: the derivative is implemented for inputs "
                                      "with at least as many rows as columns only")
        # A = QR (m >= n): M = R gR^H - gQ^H Q ; gA = (gQ + Q copyltu(M)) R^-H, where
        # copyltu(M) = tril(M, -1) + tril(M, -1)^H + Re diag(M) (LAPACK's R has a real diagonal)
        M = R @ gR.mH - gQ.mH @ Q
        lower = M.tril(-1)
        copyltu = lower + lower.mH + _diag_embed(M.diagonal(0, -2, -1).real)
        return (gQ + Q @ copyltu) @ inv(R).mH, None


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """A = QR with orthonormal (unitary) Q and upper-triangular R."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.qr: expected a Tensor, got {type(A).__name__}")
    _at_least_2d("linalg.qr", A)
    _check_dtype("linalg.qr", A, half="geqrf")
    m, n = A.shape[-2:]
    if m < n and mode != "r":
        # wide A = Q [R1 | R2]: QR of the square left block (differentiable), then R2 = Q^H A2
        Q, R1 = _QR.apply(A[..., :m], "reduced")
        torch_named(Q, "LinalgQr")
        return return_types.linalg_qr(Q, cat([R1, Q.mH @ A[..., m:]], dim=-1))
    Q, R = _QR.apply(A, mode)
    torch_named(R, "LinalgQr")  # renames the node both come from
    if mode == "r":
        empty = Tensor._make(backend.module_of(A._data).zeros(0, A._data.dtype))
        return return_types.linalg_qr(empty, R)
    return return_types.linalg_qr(Q, R)


# --------------------------------------------------------------------- eigh, svd
class _Eigh(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor, uplo: str) -> tuple:
        xp = backend.module_of(A._data)
        w, V = xp.linalg.eigh(A._data, UPLO=uplo)
        w, V = _wrap(w), _wrap(V)
        ctx.save_for_backward(w, V)
        return w, V

    @staticmethod
    def backward(ctx: Any, gw: Any, gV: Any) -> tuple:
        w, V = ctx.saved_tensors
        # gA = V (diag(gw) + skew(V^H gV) / E) V^H, E_ij = w_j - w_i off the diagonal;
        # the skew-Hermitian part keeps gA Hermitian, as torch returns it
        inner = 0
        if gV is not None:
            E = w.unsqueeze(-2) - w.unsqueeze(-1)
            eye = _eye_like(w, w.shape[-1]).bool()
            E = E.masked_fill(eye, 1.0)
            VhgV = V.mH @ gV
            if V.is_complex():
                _check_phase_invariant("linalg_eigh_backward", "eigenvectors",
                                       VhgV.diagonal(0, -2, -1).imag)
            inner = (0.5 * (VhgV - VhgV.mH) / E).masked_fill(eye, 0.0)
        if gw is not None:
            inner = inner + _diag_embed(gw)
        return V @ inner @ V.mH, None


_PHASE_DEPENDENCE = {  # the end of torch's message, worded differently for the two
    "linalg_eigh_backward": "The specified loss function depends on this quantity, so it is "
                            "ill-defined.",
    "svd_backward": "The specified loss function depends on this phase term, making it "
                    "ill-defined.",
}


def _check_phase_invariant(op: str, what: str, im_diag: Tensor) -> None:
    """torch's check that a loss does not depend on the free phase e^{i phi} of each complex
    eigen- or singular vector: Im diag(V^H gV) must vanish."""
    if not bool((im_diag.detach().abs() <= 1e-2).all()):
        raise RuntimeError(f"{op}: The {what} in the complex case are specified up to "
                           f"multiplication by e^{{i phi}}. {_PHASE_DEPENDENCE[op]}")


def _diag_embed(v: Tensor) -> Tensor:
    n = v.shape[-1]
    return v.unsqueeze(-1) * _eye_like(v, n)


def eigh(A: Tensor, UPLO: str = "L") -> Any:  # noqa: N803 (torch's name)
    """Eigenvalues (real, ascending) and eigenvectors of Hermitian (real: symmetric) matrices,
    read from the triangle UPLO names. Complex eigenvectors are unique only up to a phase per
    column: a loss of them must not depend on it (V diag(f(L)) V^H, |V|...)."""
    _square("linalg.eigh", A, half="linalg_eigh", integer="linalg_eigh")
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    values, vectors = _Eigh.apply(A, UPLO)
    # renames the node both come from
    return return_types.linalg_eigh(torch_named(values, "LinalgEigh"), vectors)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    return eigh(A, UPLO).eigenvalues


class _SVD(Function):
    @staticmethod
    def forward(ctx: Any, A: Tensor, full_matrices: bool = False) -> tuple:
        xp = backend.module_of(A._data)
        U, S, Vh = _lapack("linalg.svd", xp.linalg.svd, A._data, full_matrices)
        U, S, Vh = _wrap(U), _wrap(S), _wrap(Vh)
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx: Any, gU: Any, gS: Any, gVh: Any) -> tuple:
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        # the first k singular vectors only, as torch's (with full_matrices the others are any
        # orthonormal completion: a loss of them has no defined gradient)
        if U.shape[-1] != k or Vh.shape[-2] != k:
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = gU[..., :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        m, n = U.shape[-2], Vh.shape[-1]
        V = Vh.mH
        if gU is None and gVh is None:
            return (U * gS.unsqueeze(-2)) @ Vh, None
        eye = _eye_like(S, k).bool()
        gV = gVh.mH if gVh is not None else None
        S2 = S * S
        E = (S2.unsqueeze(-2) - S2.unsqueeze(-1)).masked_fill(eye, 1.0)
        # gA = U (skew(U^H gU) S / E + S skew(V^H gV) / E + diag(gS)) V^H, skew(X) = X - X^H,
        # plus for complex A the phase term i Im diag(U^H gU) / S
        inner = 0
        UhgU = VhgV = None
        if gU is not None:
            UhgU = U.mH @ gU
            inner = inner + (UhgU - UhgU.mH) * S.unsqueeze(-2) / E
        if gV is not None:
            VhgV = V.mH @ gV
            inner = inner + S.unsqueeze(-1) * (VhgV - VhgV.mH) / E
        inner = inner.masked_fill(eye, 0.0)
        if U.is_complex():  # a loss may not turn u_j -> u_j e^{i phi}, v_j -> v_j e^{i phi}
            im_u = UhgU.diagonal(0, -2, -1).imag if UhgU is not None else S * 0
            im_v = VhgV.diagonal(0, -2, -1).imag if VhgV is not None else S * 0
            _check_phase_invariant("svd_backward", "singular vectors", im_u + im_v)
            inner = inner + _diag_embed((im_u - im_v) / (2 * S)) * 1j
        if gS is not None:
            inner = inner + _diag_embed(gS)
        if m > k and gU is not None:
            gA = U @ inner
            gUSinv = gU / S.unsqueeze(-2)
            gA = (gA + gUSinv - U @ (U.mH @ gUSinv)) @ Vh
        elif n > k and gV is not None:
            gA = inner @ Vh
            SinvgVh = gV.mH / S.unsqueeze(-1)
            gA = U @ (gA + SinvgVh - (SinvgVh @ V) @ Vh)
        else:
            gA = U @ inner @ Vh
        return gA, None


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> Any:
    """A = U diag(S) Vh. With full_matrices (m != n), the gradient flows through the first
    min(m, n) columns of U and rows of Vh only, as torch's."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.svd: expected a Tensor, got {type(A).__name__}")
    _at_least_2d("linalg.svd", A)
    _check_dtype("linalg.svd", A, half="linalg_svd")
    U, S, Vh = _SVD.apply(A, bool(full_matrices) and A.shape[-1] != A.shape[-2])
    return return_types.linalg_svd(U, torch_named(S, "LinalgSvd"), Vh)  # renames their node


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    return svd(A, full_matrices=False).S


def torch_slogdet(input: Tensor) -> Any:
    """torch.slogdet: linalg.slogdet under torch.return_types.slogdet's name."""
    return return_types.slogdet(*slogdet(input))


def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """torch.svd: (U, S, V) with V (not V^H); without compute_uv, U and V are zero square
    matrices (m x m and n x n) whatever `some` says."""
    if not compute_uv:
        from ..creation import zeros  # noqa: PLC0415

        m, n = input.shape[-2:]
        batch, opts = tuple(input.shape[:-2]), {"dtype": input.dtype, "device": input.device}
        return return_types.svd(zeros(*batch, m, m, **opts), svdvals(input),
                                 zeros(*batch, n, n, **opts))
    U, S, Vh = svd(input, full_matrices=not some)
    return return_types.svd(U, S, Vh.mH)


def _check_pinv_input(op: str, A: Tensor) -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(A).__name__}")
    if A.dim() < 2 or A._data.dtype.kind not in "fc" or str(A._data.dtype) in _LOW_PRECISION:
        raise RuntimeError(f"{op}({_torch_dtype_name(A._data)}{{{list(A.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")


def _cutoff(A: Tensor, S: Tensor, atol: Any, rtol: Any) -> Tensor:
    """torch's threshold for the singular (or |eigen-) values S (..., k) of A, as (..., 1):
    max(atol, rtol * S.max()); rtol defaults to eps * max(m, n) where atol is not > 0, else 0.
    atol and rtol may be numbers or tensors broadcast against A's batch dims."""
    def column(x: Any) -> Any:
        return x.detach().to(S.dtype).unsqueeze(-1) if isinstance(x, Tensor) else x

    atol, rtol = column(atol), column(rtol)
    smax = S.amax(-1, keepdim=True) if S.shape[-1] else S.new_zeros((*S.shape[:-1], 1))
    default_rtol = max(A.shape[-2:]) * dtypes.finfo(S.dtype).eps
    if rtol is None:
        if atol is None:
            rtol = default_rtol
        elif isinstance(atol, Tensor):
            rtol = (atol <= 0).to(S.dtype) * default_rtol
        else:
            rtol = default_rtol if atol <= 0 else 0.0
    cutoff = smax * rtol
    if atol is None:
        return cutoff
    return cutoff.clamp(min=atol) if not isinstance(atol, Tensor) else cutoff.maximum(atol)


class _PinvHermitian(Function):
    """Attaches torch's pinv_backward (which does not assume A Hermitian) to the pseudo-inverse
    P that eigh gave, so that the gradient is the one of pinv(A, hermitian=False) as torch's."""

    @staticmethod
    def forward(ctx: Any, A: Tensor, P: Tensor) -> Tensor:
        ctx.save_for_backward(A, P)
        return _wrap(P._data)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple:
        A, P = ctx.saved_tensors  # A is square, so one branch of torch's formula suffices
        Ph, gh = P.mH, g.mH
        K = gh @ P
        KPh = K @ Ph
        return -(P @ K).mH + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A), None


def pinv(A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None,
         rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, dropping singular values at or below the tolerance
    max(atol, rtol * s_max); `rcond` is torch's older name for rtol. hermitian=True reads only
    the lower triangle and inverts through eigh."""
    _check_pinv_input("linalg.pinv", A)
    if rcond is not None:
        if rtol is not None:
            raise TypeError("linalg.pinv() received both rcond and rtol; use rtol")
        rtol = rcond
    if hermitian:
        w, V = eigh(A.detach())
        keep = w.abs() > _cutoff(A, w.abs(), atol, rtol)
        w_inv = (1.0 / w.masked_fill(~keep, 1.0)).masked_fill(~keep, 0.0)
        P = V @ (w_inv.unsqueeze(-1) * V.mH)  # V w^-1 V^H
        return torch_named(_PinvHermitian.apply(A, P), "LinalgPinv")
    U, S, Vh = svd(A, full_matrices=False)
    keep = S.detach() > _cutoff(A, S.detach(), atol, rtol)
    S_inv = (1.0 / S.masked_fill(~keep, 1.0)).masked_fill(~keep, 0.0)
    return torch_named(Vh.mH @ (S_inv.unsqueeze(-1) * U.mH), "LinalgPinv")  # V S^-1 U^H


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None) -> Tensor:
    """The number of singular values (|eigenvalues| if hermitian) above max(atol, rtol *
    s_max); `tol` is torch's older spelling of atol (with rtol 0)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_rank: expected a Tensor, got {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at "
                           "least 2 dimensions.")
    if A._data.dtype.kind not in "fc" or str(A._data.dtype) in _LOW_PRECISION:
        raise RuntimeError("linalg.matrix_rank: This function doesn't handle types other than "
                           "float and double")
    if tol is not None:
        atol, rtol = tol, 0.0
    A = A.detach()
    S = eigvalsh(A).abs() if hermitian else svdvals(A)
    return (S > _cutoff(A, S, atol, rtol)).sum(-1)


def _check_lstsq_inputs(A: Tensor, B: Tensor) -> None:
    op = "torch.linalg.lstsq"
    if A.dim() < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if A._data.dtype.kind not in "fc" or str(A._data.dtype) in _LOW_PRECISION:
        raise RuntimeError(f"{op}: This function doesn't handle types other than float and "
                           "double")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_dtype_name(A._data)} and other's dtype "
                           f"{_dtype_name(B._data)}")
    if not 0 <= A.dim() - B.dim() <= 1:
        raise RuntimeError(f"{op}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    rows = B.shape[-1] if B.dim() == A.dim() - 1 else B.shape[-2]
    if rows != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2)")


def lstsq(A: Tensor, B: Tensor, rcond: Any = None, *, driver: Any = None) -> Any:
    """Least-squares solution of A X = B (through the pseudo-inverse, so it is differentiable).
    The other outputs as LAPACK's drivers give them in torch: `rank` except for 'gels',
    `singular_values` for 'gelsd' and 'gelss', and the squared residuals |A X - B|^2 of each
    column except for 'gelsy' (the CPU default) when A is tall and of full rank."""
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    driver = driver or "gelsy"
    _check_lstsq_inputs(A, B)
    vector = B.dim() == A.dim() - 1
    rhs = B.unsqueeze(-1) if vector else B
    X = pinv(A, rtol=rcond) @ rhs
    xp = backend.module_of(A._data)
    empty = Tensor._make(xp.zeros(0, A.real._data.dtype if A.is_complex() else A._data.dtype))
    rank = Tensor._make(xp.zeros(0, "int64")) if driver == "gels" else \
        matrix_rank(A, rtol=rcond)
    S = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty
    m, n = A.shape[-2], A.shape[-1]
    residuals = empty
    if driver != "gelsy" and m > n and bool((matrix_rank(A, rtol=rcond) == n).all()):
        residuals = ((A @ X - rhs).abs() ** 2).sum(-2)  # (*, k)
    return return_types.linalg_lstsq(X.squeeze(-1) if vector else X, residuals, rank, S)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0 uses the inverse)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_power: expected a Tensor, got {type(A).__name__}")
    _at_least_2d("linalg.matrix_power", A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    if n < 0:  # through the inverse: floating and complex only
        _check_dtype("linalg.inv", A, half="low")
    if A._data.dtype.kind == "b" and n >= 2:
        raise NotImplementedError("linalg.matrix_power: \"addmm_impl_cpu_\" not implemented for "
                                  "'Bool'")
    if n == 0:  # the identity, connected to A with a zero gradient as in torch
        eye = _eye_like(A, A.shape[-1]).to(A.dtype)
        return A * 0 + eye if A.requires_grad else eye.expand(A.shape).clone()
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def multi_dot(tensors: Any) -> Tensor:
    """The product of a chain of matrices (the first may be a row, the last a column vector)."""
    tensors = list(tensors)
    op = "multi_dot()"
    if len(tensors) < 2:
        raise RuntimeError(f"{op}: expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        where = "the first tensor" if i == 0 else "the last tensor" if i == len(tensors) - 1 \
            else f"tensor {i}"
        if t.dim() != 2 and not (t.dim() == 1 and where != f"tensor {i}"):
            allowed = "2D" if where == f"tensor {i}" else "1D or 2D"
            raise RuntimeError(f"{op}: {where} must be {allowed} but got {t.dim()}D")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError(f"{op}: all tensors must have be the same dtype but tensor 0 is "
                               f"{tensors[0].dtype.name} and tensor {i} {t.dtype.name}")
        if i and tensors[i - 1].shape[-1] != t.shape[0]:
            raise RuntimeError(f"{op}: tensors {i - 1} and {i} with shapes "
                               f"{list(tensors[i - 1].shape)} and {list(t.shape)} cannot be "
                               "multiplied")
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """sum(conj(x) * y) over `dim`, broadcasting x and y."""
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {_dtype_name(x._data)} and y of type {_dtype_name(y._data)} "
                           "instead")
    _check_dtype("linalg.vecdot", x)
    return ((x.conj() if x.is_complex() else x) * y).sum(dim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """Matrix norms: 'fro', 'nuc', 2/-2 (extreme singular values), 1/-1 (column sums),
    inf/-inf (row sums)."""
    from ..linalg import _check_norm_input  # noqa: PLC0415

    op = "linalg.matrix_norm"
    _at_least_2d(op, A)
    _check_norm_input(op, A, dtype)
    if dtype is not None:
        A = A.to(dtype)
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (_wrap_dim(d, A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return A.norm(2, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        if str(A._data.dtype) in _LOW_PRECISION:
            raise RuntimeError(f"{op}: Low precision dtypes not supported. Got "
                               f"{_torch_dtype_name(A._data)}")
        moved = A.movedim((d0, d1), (-2, -1))
        S = svdvals(moved)
        out = S.sum(-1) if ord == "nuc" else (_amax(S, -1) if ord == 2 else S.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(sum_dim, keepdim=True)
        out = _amax(sums, red_dim, True) if ord > 0 else sums.amin(red_dim, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def _amax(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """The max of non-negative values, 0 over an empty dim (torch's norms; amin still raises)."""
    return x.sum(dim, keepdim=keepdim) if x.shape[dim] == 0 else x.amax(dim, keepdim=keepdim)


def _wrap_dim(d: int, ndim: int) -> int:
    if not -ndim <= d < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {d})")
    return d % ndim


def cond(A: Tensor, p: Any = None) -> Tensor:
    """Condition number: s_max / s_min for p = None or 2 (s_min / s_max for -2, both for any
    shape), otherwise norm(A, p) * norm(A^-1, p) of square A, inf where A is singular."""
    if A.dim() < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p not in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if p in (None, 2, -2):
        s = svdvals(A)
        if s.shape[-1] == 0:  # torch: 0 for empty matrices
            return s.sum(-1)
        big, small = s.amax(-1), s.amin(-1)
        return big / small if p != -2 else small / big
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    _check_dtype("linalg.inv", A, half="low")
    if A.numel() == 0:
        return matrix_norm(A, p)
    from ..linalg import inv_ex  # noqa: PLC0415

    inverse, info = inv_ex(A)
    return (matrix_norm(A, p) * matrix_norm(inverse, p)).masked_fill(info > 0, math.inf)
