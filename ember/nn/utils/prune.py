"""ember.nn.utils.prune (torch.nn.utils.prune): zero out weights by a rule and keep them zero.

Pruning `module.weight` replaces the parameter by `weight_orig` (the trainable values) and a
buffer `weight_mask` (1 = kept, 0 = pruned); a forward pre-hook recomputes
`weight = weight_orig * weight_mask` before every forward, so pruned entries get zero gradient.
Pruning the same tensor again prunes among the entries still kept (torch's PruningContainer).
`remove` makes the pruning permanent: `weight` becomes a plain parameter again.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.module import Module

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "RandomStructured", "RandomUnstructured", "custom_from_mask", "global_unstructured",
           "identity", "is_pruned", "l1_unstructured", "ln_structured", "random_structured",
           "random_unstructured", "remove"]


def _validate_amount(amount: Any, tensor_size: int | None = None) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (amount > 1.0 or amount < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")
    if tensor_size is not None and isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _count(amount: Any, size: int) -> int:
    """How many entries `amount` means: an int is a count, a float a fraction (rounded)."""
    return int(amount) if isinstance(amount, numbers.Integral) else round(amount * size)


class BasePruningMethod:
    """A rule that computes a mask; `apply` installs it on a module's tensor."""

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        raise NotImplementedError

    def apply_mask(self, module: Module) -> Tensor:
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(dtype=orig.dtype)

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        scores = importance_scores if importance_scores is not None else t
        mask = default_mask if default_mask is not None else t.new_ones(t.shape)
        return t * self.compute_mask(scores, mask)

    def remove(self, module: Module) -> None:
        name = self._tensor_name
        weight = self.apply_mask(module)
        delattr(module, name)
        orig = module._parameters[name + "_orig"]
        with no_grad():
            orig.copy_(weight.detach())
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module.register_parameter(name, orig)

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Any = None,
              **kwargs: Any) -> BasePruningMethod:
        old = None
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
                break
        method: BasePruningMethod = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:  # prune again, among what the earlier masks kept
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            _remove_hook(module, old)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise AssertionError(f"importance_scores should have the same shape as parameter "
                                 f"{name} of {module}")
        if old is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = orig.detach().new_ones(orig.shape)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        scores = importance_scores if importance_scores is not None else orig
        mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        if name + "_mask" in module._buffers:
            module._buffers[name + "_mask"] = mask
        else:
            module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method


def _remove_hook(module: Module, hook: Any) -> None:
    for key, h in list(module._forward_pre_hooks.items()):
        if h is hook:
            del module._forward_pre_hooks[key]


class PruningContainer(BasePruningMethod):
    """Several pruning rules applied in sequence to one tensor."""

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple = ()
        for m in methods:
            self._tensor_name = m._tensor_name
            self.add_pruning_method(m)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if hasattr(self, "_tensor_name") and method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The newest rule, applied to the entries (or channels) the mask still keeps."""
        method = self._pruning_methods[-1]
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
            partial = method.compute_mask(t[kept], default_mask=default_mask[kept])
            new_mask = default_mask.clone()
            new_mask[kept] = partial.to(new_mask.dtype)
            return new_mask
        if method.PRUNING_TYPE == "structured":
            return method.compute_mask(t, default_mask=default_mask) * default_mask
        return method.compute_mask(t, default_mask=default_mask)


class Identity(BasePruningMethod):
    """Prunes nothing (installs the weight_orig/weight_mask machinery)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        from ... import rand, topk  # noqa: PLC0415

        _validate_amount(self.amount, t.numel())
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k:
            idx = topk(rand(t.numel(), device=t.device), k).indices
            flat = mask.reshape(-1)
            flat[idx] = 0
        return mask

    @classmethod
    def apply(cls, module: Module, name: str, amount: Any) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the `amount` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_amount(self.amount, t.numel())
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k:
            idx = t.abs().reshape(-1).topk(k, largest=False).indices
            flat = mask.reshape(-1)
            flat[idx] = 0
        return mask

    @classmethod
    def apply(cls, module: Module, name: str, amount: Any,  # type: ignore[override]
              importance_scores: Any = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t: Tensor, dim: int, keep: Any, default_mask: Tensor) -> Tensor:
    """default_mask with every slice t.select(dim, j) zeroed for j not in `keep`."""
    mask = default_mask.new_zeros(default_mask.shape)
    index = [slice(None)] * t.ndim
    index[dim] = keep
    mask[tuple(index)] = 1
    return mask * default_mask


class RandomStructured(BasePruningMethod):
    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        from ... import rand, topk  # noqa: PLC0415

        if t.ndim <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {tuple(t.shape)} with {t.ndim} "
                             "dims")
        channels = t.shape[self.dim]
        _validate_amount(self.amount, channels)
        k = _count(self.amount, channels)
        if k == 0:
            return default_mask
        keep = topk(rand(channels, device=t.device), channels - k).indices
        return _channel_mask(t, self.dim % t.ndim, keep, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: Any,  # type: ignore[override]
              dim: int = -1) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the `amount` slices along `dim` with the smallest L-n norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, n: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if t.ndim <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {tuple(t.shape)} with {t.ndim} "
                             "dims")
        dim = self.dim % t.ndim
        channels = t.shape[dim]
        _validate_amount(self.amount, channels)
        k = _count(self.amount, channels)
        if k == 0:
            return default_mask
        others = [d for d in range(t.ndim) if d != dim]
        norms = t.norm(self.n, dim=others)
        keep = norms.topk(channels - k).indices
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: Any, n: Any,  # type: ignore[override]
              dim: int, importance_scores: Any = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError("mask and default_mask must have the same shape")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# ------------------------------------------------------------------ the functional interface
def identity(module: Module, name: str) -> Module:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: Any) -> Module:
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: Any,
                    importance_scores: Tensor | None = None) -> Module:
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: Any, dim: int) -> Module:
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: Any, n: Any, dim: int,
                  importance_scores: Tensor | None = None) -> Module:
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Any, pruning_method: Callable, importance_scores: Any = None,
                        **kwargs: Any) -> None:
    """Prune across several (module, name) tensors at once, as if they were one vector."""
    from ...ops.join import cat  # noqa: PLC0415

    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores = cat([importance_scores.get((m, n), getattr(m, n)).detach().reshape(-1)
                  for m, n in parameters])
    masks = cat([getattr(m, n + "_mask", None).detach().reshape(-1)
                 if hasattr(m, n + "_mask") else getattr(m, n).detach().new_ones(
                     getattr(m, n).numel()) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final = container.compute_mask(scores, masks)
    start = 0
    for m, n in parameters:
        size = getattr(m, n).numel()
        custom_from_mask(m, n, final[start:start + size].reshape(getattr(m, n).shape))
        start += size


def remove(module: Module, name: str) -> Module:
    """Make the pruning of module.name permanent (weight = weight_orig * weight_mask)."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module: Module) -> bool:
    for sub in module.modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False

