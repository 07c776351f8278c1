"""bfloat16 ops run in float32 and round their results, as torch's CPU kernels do.

numpy has no bfloat16; ml_dtypes adds the type with elementwise loops, but matmul and einsum
have no bfloat16 kernels (or give float32), reductions accumulate in bfloat16, and a Python
float turns a bfloat16 array into float32. torch's CPU kernels load bfloat16, compute in float32
("opmath") and round the result once. Ember does the same in one place: an op whose inputs hold
bfloat16 runs its forward on float32 copies of them and rounds its float32 result to bfloat16
(`Op.apply`, `BinaryOp.apply`); its backward likewise rounds the gradient of each bfloat16 input
(`run_backward`). Single ops therefore never test for bfloat16 themselves.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import backend, dtypes

BF16: Any = backend.BFLOAT16  # the numpy dtype, or None without ml_dtypes
_F32: Any = dtypes.float32.np
_WIDE = (_F32, dtypes.float64.np)


def widen(arrays: list) -> tuple[list, tuple]:
    """float32 copies of the bfloat16 arrays in `arrays`, and which ones were bfloat16."""
    flags = tuple(backend.is_array(a) and a.dtype is BF16 for a in arrays)
    return [a.astype(_F32) if f else a for a, f in zip(arrays, flags)], flags


def narrow(node: Any, out: Any) -> Any:
    """Round a float32 result to bfloat16; a value the op saved as its output is replaced too
    (torch saves the bfloat16 result), so it is still known as the op's own output."""
    if out.__class__ is tuple:  # a multi-output op (an RNN)
        return tuple(narrow(node, o) for o in out)
    if not backend.is_array(out) or out.dtype != _F32:
        return out
    rounded = out.astype(BF16)
    saved = node.saved
    if saved and any(v is out for v in saved):
        node.saved = tuple(rounded if v is out else v for v in saved)
    return rounded


def run_backward(node: Any, grads: tuple, run: Callable[[Any, tuple], tuple]) -> tuple:
    """`run(node, grads)` on float32 gradients; each bfloat16 input's gradient rounded back."""
    grads = tuple(g.astype(_F32) if backend.is_array(g) and g.dtype is BF16 else g
                  for g in grads)
    out = run(node, grads)
    return tuple(_round_grad(g) if wanted and g is not None else g
                 for g, wanted in zip(out, node.bf16_inputs))


def _round_grad(g: Any) -> Any:
    # float64 too: a saved bfloat16 output meeting a Python float in numpy gives float64
    if backend.is_array(g):
        return g.astype(BF16) if g.dtype in _WIDE else g
    if getattr(g, "_data", None) is not None and g._data.dtype in _WIDE:  # create_graph
        return g.to(dtypes.bfloat16)
    return g
