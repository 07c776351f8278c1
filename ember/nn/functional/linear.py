"""linear and bilinear layers' math: y = x W^T + b, y = x1^T A x2 + b."""

from __future__ import annotations

from typing import Any

from ...amp.autocast_mode import cast_inputs
from ...autograd.node import Op, array_namespace
from ...backend import module_of, numpy
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
        self.scalar_bias = bias is not None and bias.ndim == 0  # its gradient sums everything
        xp = module_of(x)
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x
        if bias is not None and _bias_in_product(x2, weight, bias):
            y = _with_bias_column(xp, x2, weight, bias)
        else:
            y = xp.matmul(x2, weight.T)
            if bias is not None:
                y += bias  # y is a fresh array: add in place
        return y.reshape(*x.shape[:-1], weight.shape[0]) if x.ndim > 2 else y

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
            if self.scalar_bias:
                gb = xp.sum(gb)
        return gx, gw, gb


# The bias joins the product when the output is this many values or more (a pass over it then
# leaves the cache) and at least twice as wide as the input (copying x with a column of ones
# costs less than that pass): GPT's 128 -> 512 layer 1.52 -> 1.38 ms, 128 -> 384 1.13 -> 1.06
BIAS_IN_PRODUCT_OUTPUTS = 1 << 19


def _bias_in_product(x2: Any, weight: Any, bias: Any) -> bool:
    out_features, in_features = weight.shape
    return (x2.__class__ is weight.__class__ is bias.__class__ is numpy.ndarray
            and x2.dtype == weight.dtype == bias.dtype and x2.dtype.kind == "f"
            and x2.ndim == 2 and out_features >= 2 * in_features
            and x2.shape[0] * out_features >= BIAS_IN_PRODUCT_OUTPUTS)


def _with_bias_column(xp: Any, x2: Any, weight: Any, bias: Any) -> Any:
    """x W^T + b as one product, [x, 1] [W, b]^T: numpy's matmul cannot accumulate onto a
    bias (BLAS's beta = 1), and adding it afterwards is a pass over the whole output."""
    rows, k = x2.shape
    x_ones = xp.empty((rows, k + 1), dtype=x2.dtype)
    x_ones[:, :k] = x2
    x_ones[:, k] = 1
    w_bias = xp.empty((weight.shape[0], k + 1), dtype=weight.dtype)
    w_bias[:, :k] = weight
    w_bias[:, k] = bias
    return xp.matmul(x_ones, w_bias.T)


def _refuse_non_tensors(input: Any, weight: Any) -> None:
    for position, (name, t) in enumerate((("input", input), ("weight", weight)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(t).__name__}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, for input (*, in_features) and weight (out, in)."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):  # every forward: cheap
        _refuse_non_tensors(input, weight)
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
