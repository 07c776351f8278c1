"""Dropout: during training, zero each element with probability p and scale the survivors by
1 / (1 - p) ("inverted dropout"), so that evaluation needs no rescaling."""

from __future__ import annotations

from typing import Any

from ...autograd.node import Op
from ...backend import device_of
from ...random import _generator_for
from ...tensor import Tensor


class Dropout(Op):
    def forward(self, x: Any, p: float, mask_shape: tuple) -> Any:
        rng = _generator_for(device_of(x), None).rng
        keep = rng.random(mask_shape, dtype="float32") >= p
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - p)
        self.mask = mask
        return x * mask

    def backward(self, grad: Any) -> Any:
        return grad * self.mask  # the same elements are dropped and scaled


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply(input: Tensor, p: float, training: bool, inplace: bool, mask_shape: tuple) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        out = input * 0.0
        return input.copy_(out) if inplace else out
    if inplace:
        return input._inplace(lambda s: Dropout.apply(s, p, mask_shape), False)
    return Dropout.apply(input, p, mask_shape)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero elements with probability p while training (identity when training=False)."""
    return _apply(input, p, training, inplace, tuple(input.shape))


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, spatial: int,
                     name: str) -> Tensor:
    """Drop whole channels: one decision per (sample, channel), shared over `spatial` dims."""
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D input, but "
                           f"received a {input.ndim}D input")
    lead = input.ndim - spatial
    mask_shape = tuple(input.shape[:lead]) + (1,) * spatial
    return _apply(input, p, training, inplace, mask_shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def _alpha(input: Tensor, p: float, training: bool, inplace: bool, mask_shape: tuple) -> Tensor:
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        out = input * 0.0
        return input.copy_(out) if inplace else out
    from ...random import rand  # noqa: PLC0415

    alpha_p = -1.7580993408473766  # -selu_scale * selu_alpha
    keep = (rand(*mask_shape, dtype=input.dtype, device=input.device) >= p).to(input.dtype)
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    b = -a * alpha_p * p
    out = (input * keep + alpha_p * (1 - keep)) * a + b
    return input.copy_(out) if inplace else out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps mean and variance by setting dropped units to the
    SELU saturation value and applying an affine correction."""
    return _alpha(input, p, training, inplace, tuple(input.shape))


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout that drops whole channels (one decision per sample and channel)."""
    if input.ndim < 2:
        raise RuntimeError(f"feature_alpha_dropout: expected an input with at least 2 dims "
                           f"(N, C, ...), got {input.ndim}D")
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha(input, p, training, inplace, mask_shape)
