"""Transcendental functions as plain arithmetic, so that LLVM can vectorise the loops using them.

numba compiles `math.exp`/`math.erf` to scalar libm calls (no SIMD math library in the llvmlite
wheels), which makes a fused loop slower than numpy. These use only +, *, / and comparisons.

- `erf`: erf(z) = z P(z^2) / Q(z^2) on |z| <= 4.5, and erf(+-4.5) beyond (within 1e-8 of
  +-1: a caller multiplying it by a large value sets the tail itself), evaluated in float64.
  P and Q (degree 6 each) were fitted by iterated weighted linear least squares on 40,000
  points of [0, 4.5] against scipy's erf; the largest error is 8e-9 (tests/test_kernels.py
  measures it).
- `erf32`: the same P/Q evaluated in float32 (16 lanes per vector instead of 8, and a float32
  division: 2.2x faster), absolute error 3e-7 (2-3 ulp near +-1). GELU uses it: its
  1 + erf(x / sqrt 2) loses far more than that to cancellation for negative x, in torch as
  here, and the GELU errors of both against float64 are alike (largest absolute error
  1.0e-6 here, 1.1e-6 in torch, over [-8, 8]; tests/test_kernels.py measures both).
- `exp32`: e^a in float32 as 2^k e^r, k = round(a / ln 2), r = a - k ln 2 in [-0.35, 0.35]
  (ln 2 in two parts, so r is exact), e^r a degree-7 Taylor polynomial (truncation < 5e-9),
  and 2^k written directly as the bits of a float32 (exponent field k + 127). Relative error
  3e-7 (2-3 ulp; tests/test_kernels.py measures it); 0 below -87.3, inf above 88.7, NaN kept.
- `tanh32`: tanh(u) = sign(u) (1 - e) / (1 + e), e = e^(-2|u|): absolute error 3e-7, which
  is what GELU's gate needs (for |u| < 0.004, u (1 - u^2/3) keeps tiny values relative).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

FASTMATH = {"reassoc", "contract", "arcp", "nsz", "afn"}  # keeps NaN and inf semantics
# No on-disk cache: numba keys a cached kernel on its own file only, so a change in this file
# would leave callers' cached code stale. Compiling costs ~0.3 s per kernel, once per process.
JIT = dict(fastmath=FASTMATH, error_model="numpy", cache=False, nogil=True)


def jit_cached(fn: object) -> object:
    """numba.njit(**JIT) with the compiled code cached on disk: only for kernels that call no
    jitted function from another file (the staleness above cannot happen to them). Where no
    cache directory is writable (numba raises when the kernel is defined) it is not cached."""
    try:
        return numba.njit(**dict(JIT, cache=True))(fn)
    except RuntimeError:
        return numba.njit(**JIT)(fn)

_F = np.float32
_P = (1.1283791879936036, 0.1891110059524484, 0.05529387798628147, 0.004073930363018999,
      0.0004071229372721057, 6.192489343891783e-06, -6.530347325510069e-09)
_Q = (1.0, 0.5009288888879934, 0.1159779075126573, 0.01598909562622292,
      0.0013867368264073973, 7.109711366314483e-05, 1.559347893073402e-07)
P0, P1, P2, P3, P4, P5, P6 = _P
_, Q1, Q2, Q3, Q4, Q5, Q6 = _Q
ERF_LIMIT = 4.5
ONE32 = _F(1.0)


@numba.njit(**JIT)
def erf(z: float) -> float:
    """erf of a float64 (see the module docstring)."""
    c = min(max(z, -ERF_LIMIT), ERF_LIMIT)
    t = c * c
    num = (((((P6 * t + P5) * t + P4) * t + P3) * t + P2) * t + P1) * t + P0
    den = (((((Q6 * t + Q5) * t + Q4) * t + Q3) * t + Q2) * t + Q1) * t + 1.0
    return min(max(c * num / den, -1.0), 1.0)


_P32 = tuple(_F(p) for p in _P)
_Q32 = tuple(_F(q) for q in _Q)
P0_32, P1_32, P2_32, P3_32, P4_32, P5_32, P6_32 = _P32
_, Q1_32, Q2_32, Q3_32, Q4_32, Q5_32, Q6_32 = _Q32
ERF_LIMIT32 = _F(ERF_LIMIT)


@numba.njit(**JIT)
def erf32(z: float) -> float:
    """erf of a float32, in float32 arithmetic (see the module docstring)."""
    c = min(max(z, -ERF_LIMIT32), ERF_LIMIT32)
    t = c * c
    num = ((((((P6_32 * t + P5_32) * t + P4_32) * t + P3_32) * t + P2_32) * t + P1_32) * t
           + P0_32)
    den = ((((((Q6_32 * t + Q5_32) * t + Q4_32) * t + Q3_32) * t + Q2_32) * t + Q1_32) * t
           + ONE32)
    return min(max(c * num / den, -ONE32), ONE32)


@intrinsic
def _float32_from_bits(typingctx, bits):  # noqa: ANN001, ANN202 (numba's intrinsic protocol)
    """Reinterpret an int32 as the float32 with the same bits (C's memcpy type pun)."""

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


_LOG2E = _F(1 / math.log(2))
_LN2_HI = _F(0.693145751953125)  # ln 2 = _LN2_HI + _LN2_LO; k * _LN2_HI is exact in float32
_LN2_LO = _F(math.log(2) - 0.693145751953125)
_E7, _E6, _E5, _E4, _E3, _E2 = (_F(1 / math.factorial(n)) for n in (7, 6, 5, 4, 3, 2))
_EXP_LOW, _EXP_HIGH = _F(-87.3), _F(88.7)  # e^a leaves float32's normal range beyond these
_HALF32, _ZERO32, _INF32 = _F(0.5), _F(0.0), _F(np.inf)


@numba.njit(**JIT)
def exp32(a: float) -> float:
    """e^a of a float32 (see the module docstring)."""
    c = min(max(a, _EXP_LOW), _EXP_HIGH)
    k = np.floor(c * _LOG2E + _HALF32)
    r = (c - k * _LN2_HI) - k * _LN2_LO
    p = ((((((_E7 * r + _E6) * r + _E5) * r + _E4) * r + _E3) * r + _E2) * r + ONE32) * r + ONE32
    y = p * _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))
    if a < _EXP_LOW:
        return _ZERO32
    return _INF32 if a > _EXP_HIGH else y


@numba.njit(**JIT)
def largest32(row: np.ndarray, n: int) -> float:
    """max(row[:n]) of a contiguous float32 row (n >= 1), compared as integer keys.

    LLVM cannot vectorise a float max (a NaN must not be reordered) without assuming no NaNs;
    the bits of a float as an int32, with the low 31 bits flipped when the sign is set, order
    like the floats, and an integer max vectorises: 6.6x faster (0.043 vs 0.285 ms over 512K
    values). A NaN (sign bit clear) comes out as the max, so it still poisons a softmax row.
    """
    bits = row.view(np.int32)
    m = np.int32(-2147483648)
    for j in range(bits.size):  # the whole row with a select: a loop of n < 64 would not vectorise
        b = bits[j]
        key = b ^ ((b >> np.int32(31)) & np.int32(0x7FFFFFFF))
        m = max(m, key if j < n else np.int32(-2147483648))
    return _float32_from_bits(m ^ ((m >> np.int32(31)) & np.int32(0x7FFFFFFF)))


@numba.njit(**JIT)
def tanh32(u: float) -> float:
    """tanh of a float32 (see the module docstring)."""
    a = abs(u)
    e = exp32(_F(-2.0) * a)
    t = (ONE32 - e) / (ONE32 + e)
    if a < _F(0.004):
        t = a * (ONE32 - a * a * _F(1 / 3))
    return t if u >= _ZERO32 else -t
