"""ember.func (torch.func): `functional_call`, calling a module with its parameters and buffers
replaced by the tensors in a dict (the building block of stateless training), and the function
transforms grad, grad_and_value, vjp, jacrev, jacfwd, hessian and vmap (func_transforms.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .func_transforms import grad, grad_and_value, hessian, jacfwd, jacrev, vjp, vmap
from .nn.modules.module import Module
from .nn.utils.stateless import _functional_call

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "vjp",
           "vmap"]


def functional_call(module: Module, parameter_and_buffer_dicts: dict | Sequence[dict],
                    args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with the parameters/buffers named in the dict(s) replaced.

    >>> out = ember.func.functional_call(model, {"fc.weight": w}, (x,))
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        parameters_and_buffers = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        counts: dict = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        parameters_and_buffers = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
