"""linear and bilinear layers' math: y = x W^T + b, y = x1^T A x2 + b."""

from __future__ import annotations

from typing import Any

from ...amp.autocast_mode import cast_inputs
from ...autograd.node import Op, array_namespace
from ...backend import module_of
from ...ops._util import shape_str, sum_first, torch_named
from ...ops.linalg import einsum
from ...tensor import Tensor


class Linear(Op):
    """One fused op for x @ W^T + b (one graph node instead of three).

    Leading dims are folded into one (B*T, in) matrix first: numpy's matmul of a stack with a
    matrix runs one small GEMM per stacked matrix, about 2x slower than one big GEMM.
    """

    def forward(self, x: Any, weight: Any, bias: Any = None) -> Any:
        self.save_for_backward(x, weight)
        xp = module_of(x)
        if x.ndim > 2:
            y = xp.matmul(x.reshape(-1, x.shape[-1]), weight.T)
            y = y.reshape(*x.shape[:-1], weight.shape[0])
        else:
            y = xp.matmul(x, weight.T)
        if bias is not None:
            y += bias  # y is a fresh array: add in place
        return y

    def backward(self, grad: Any) -> tuple:
        # dx = g W ; dW = g^T x (summed over every leading dim) ; db = sum of g
        x, weight = self.saved_tensors
        need_x, need_w, need_b = self.next_edges
        xp = array_namespace(grad)
        out_features, in_features = weight.shape
        g2 = xp.reshape(grad, (-1, out_features))
        gx = xp.reshape(xp.matmul(g2, weight), x.shape) if need_x else None
        gw = xp.matmul(xp.swapaxes(g2, 0, 1), xp.reshape(x, (-1, in_features))) if need_w else None
        gb = None
        if need_b:
            gb = xp.sum(g2, axis=0) if isinstance(g2, Tensor) else sum_first(g2)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, for input (*, in_features) and weight (out, in)."""
    input, weight, bias = cast_inputs(input, weight, bias)
    if weight.ndim == 1 and input.ndim >= 1 and bias is None:
        # a single output unit: torch drops the out_features dimension (and takes no bias)
        return linear(input, weight.unsqueeze(0)).squeeze(-1)
    in_features = weight.shape[-1]
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features x in_features), got "
                           f"shape ({shape_str(weight.shape)})")
    if input.ndim == 0 or input.shape[-1] != in_features:
        raise RuntimeError(
            f"linear: input ({shape_str(input.shape)}) @ weight.T "
            f"({shape_str(weight.shape[::-1])}): the input's last dimension "
            f"{input.shape[-1] if input.ndim else 'scalar'} must equal in_features={in_features}"
        )
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got "
                           f"{input.dtype} and {weight.dtype}")
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), ()):
        raise RuntimeError(f"linear: bias of shape ({shape_str(bias.shape)}) does not match "
                           f"out_features={weight.shape[0]}")
    out = Linear.apply(input, weight, bias)
    # torch's node names: addmm/mm for a matrix input, a view of one for other ranks
    if input.ndim == 2:
        return torch_named(out, "Addmm" if bias is not None else "Mm")
    return torch_named(out, "View" if bias is not None or input.ndim == 1 else "UnsafeView")


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k for weight A of shape (out, in1, in2)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 ({shape_str(input1.shape)}) and input2 "
                           f"({shape_str(input2.shape)}) must have the same batch dimensions")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(
            f"bilinear: weight ({shape_str(weight.shape)}) expects inputs with last dims "
            f"{weight.shape[1]} and {weight.shape[2]}, got {input1.shape[-1]} and "
            f"{input2.shape[-1]}")
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias
