"""torch._foreach_*: one op over a list of tensors, as custom optimizers and EMA code call them
(`torch._foreach_mul_(ema, decay); torch._foreach_add_(ema, params, alpha=1 - decay)`).

Each is a loop over the tensors' own ops (torch's slow path, the same numbers), so gradients flow
through the out-of-place forms. In-place forms return the list they changed; out-of-place ones a
tuple. The second operand may be a number, a list of numbers, one tensor (broadcast to all) or a
list of tensors, as torch's overloads allow.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

_UNARY = (
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor",
    "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt",
    "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
)  # fmt: skip


def _seq(tensors: Any, name: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"_foreach_{name}(): argument 'self' must be a list or tuple of Tensors")
    return list(tensors)


def _operands(other: Any, n: int, name: str) -> list:
    """The second operand per tensor: a number or one tensor for all, or one entry each."""
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            raise RuntimeError(f"_foreach_{name}: tensor lists must have the same number of "
                               f"tensors, got {n} and {len(other)}")
        return list(other)
    if isinstance(other, Tensor) and other.ndim != 0:
        raise RuntimeError("scalar tensor expected to be 0 dim but it has "
                           f"{other.ndim} dimensions and {other.numel()} elements.")
    return [other] * n


def _make_unary(name: str) -> tuple:
    def out_of_place(self: Any) -> tuple:
        return tuple(getattr(t, name)() for t in _seq(self, name))

    def in_place(self: Any) -> list:
        tensors = _seq(self, name + "_")
        for t in tensors:
            getattr(t, name + "_")()
        return self

    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"torch._foreach_{name}: {name} of each tensor."
    in_place.__doc__ = f"torch._foreach_{name}_: {name}_ on each tensor."
    return out_of_place, in_place


def _binary_op(name: str, t: Tensor, o: Any, alpha: Any, inplace: bool) -> Tensor:
    if name in ("add", "sub"):
        if alpha != 1:
            o = o * alpha
        return getattr(t, name + ("_" if inplace else ""))(o)
    if name in ("mul", "div", "pow"):
        return getattr(t, name + ("_" if inplace else ""))(o)
    # maximum/minimum and clamp_min/clamp_max accept numbers and tensors alike
    if name in ("maximum", "clamp_min"):
        return t.clamp_(min=o) if inplace else t.clamp(min=o)
    return t.clamp_(max=o) if inplace else t.clamp(max=o)


def _make_binary(name: str) -> tuple:
    def out_of_place(self: Any, other: Any, *, alpha: Any = 1) -> tuple:
        if name == "pow" and not isinstance(self, (list, tuple)):  # a number to tensor powers
            return tuple(Tensor.__rpow__(e, self) for e in _seq(other, name))
        tensors = _seq(self, name)
        ops = _operands(other, len(tensors), name)
        return tuple(_binary_op(name, t, o, alpha, False) for t, o in zip(tensors, ops))

    def in_place(self: Any, other: Any, *, alpha: Any = 1) -> list:
        tensors = _seq(self, name + "_")
        for t, o in zip(tensors, _operands(other, len(tensors), name + "_")):
            _binary_op(name, t, o, alpha, True)
        return self

    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"torch._foreach_{name}: {name} of each tensor with its operand."
    in_place.__doc__ = f"torch._foreach_{name}_: in-place {name} of each tensor."
    return out_of_place, in_place


def _values(value: Any, n: int) -> list:
    if isinstance(value, Tensor):  # one value per tensor, in a 1-D tensor
        return [v.item() for v in value.reshape(-1)] if value.ndim else [value.item()] * n
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


def _make_pointwise(name: str) -> tuple:
    def out_of_place(self: Any, tensor1: Any, tensor2: Any, value: Any = 1) -> tuple:
        tensors = _seq(self, name)
        return tuple(getattr(t, name)(a, b, value=v) for t, a, b, v in
                     zip(tensors, tensor1, tensor2, _values(value, len(tensors))))

    def in_place(self: Any, tensor1: Any, tensor2: Any, value: Any = 1) -> list:
        tensors = _seq(self, name + "_")
        for t, a, b, v in zip(tensors, tensor1, tensor2, _values(value, len(tensors))):
            getattr(t, name + "_")(a, b, value=v)
        return self

    out_of_place.__name__, in_place.__name__ = f"_foreach_{name}", f"_foreach_{name}_"
    out_of_place.__doc__ = f"torch._foreach_{name}: self + value * ({name[3:]} of the pairs)."
    in_place.__doc__ = f"torch._foreach_{name}_: the same, in place."
    return out_of_place, in_place


def _foreach_lerp(self: Any, tensors1: Any, weight: Any) -> tuple:
    """torch._foreach_lerp: self + weight * (end - self) per tensor."""
    tensors = _seq(self, "lerp")
    return tuple(t.lerp(e, w) for t, e, w in
                 zip(tensors, tensors1, _operands(weight, len(tensors), "lerp")))


def _foreach_lerp_(self: Any, tensors1: Any, weight: Any) -> list:
    """torch._foreach_lerp_: lerp_ on each tensor."""
    tensors = _seq(self, "lerp_")
    for t, e, w in zip(tensors, tensors1, _operands(weight, len(tensors), "lerp_")):
        t.lerp_(e, w)
    return self


def _foreach_zero_(self: Any) -> list:
    """torch._foreach_zero_: zero every tensor."""
    for t in _seq(self, "zero_"):
        t.zero_()
    return self


def _foreach_copy_(self: Any, src: Any, non_blocking: bool = False) -> list:
    """torch._foreach_copy_: copy src[i] into self[i]."""
    for t, s in zip(_seq(self, "copy_"), src):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_clone(self: Any) -> tuple:
    """torch._foreach_clone: a copy of each tensor."""
    return tuple(t.clone() for t in _seq(self, "clone"))


def _foreach_norm(self: Any, ord: Any = 2, dtype: Any = None) -> tuple:
    """torch._foreach_norm: the vector norm of each tensor (as torch.linalg.vector_norm)."""
    from .. import linalg  # noqa: PLC0415

    return tuple(linalg.vector_norm(t, ord, dtype=dtype) for t in _seq(self, "norm"))


def _foreach_max(self: Any) -> tuple:
    """torch._foreach_max: the largest entry of each tensor."""
    return tuple(t.max() for t in _seq(self, "max"))


def _build() -> dict:
    ops: dict = {}
    for name in _UNARY:
        ops[f"_foreach_{name}"], ops[f"_foreach_{name}_"] = _make_unary(name)
    for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min",
                 "clamp_max"):
        ops[f"_foreach_{name}"], ops[f"_foreach_{name}_"] = _make_binary(name)
    for name in ("addcmul", "addcdiv"):
        ops[f"_foreach_{name}"], ops[f"_foreach_{name}_"] = _make_pointwise(name)
    for fn in (_foreach_lerp, _foreach_lerp_, _foreach_zero_, _foreach_copy_, _foreach_clone,
               _foreach_norm, _foreach_max):
        ops[fn.__name__] = fn
    return ops


FOREACH_OPS = _build()
