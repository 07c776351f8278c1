"""ember.func (torch.func): `functional_call`, calling a module with its parameters and buffers
replaced by the tensors in a dict (the building block of stateless training), and the function
transforms grad, grad_and_value, vjp, jacrev, jacfwd, hessian and vmap (func_transforms.py), jvp
and linearize (func_forward_mode.py), stack_module_state for model ensembles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

from .func_forward_mode import jvp, linearize
from .func_transforms import grad, grad_and_value, hessian, jacfwd, jacrev, vjp, vmap
from .nn.modules.module import Module
from .nn.utils.stateless import _functional_call
from .ops.join import stack
from .tensor import Tensor

__all__ = ["functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd",
           "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_",
           "stack_module_state", "vjp", "vmap"]


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


def _stacked_leaf(tensors: list, name: str) -> Tensor:
    wants = [t.requires_grad for t in tensors]
    if any(wants) and not all(wants):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if all(wants) else result


def stack_module_state(models: Sequence[Module]) -> tuple[dict, dict]:
    """(params, buffers): each model's tensors stacked along a new first dim, by name, for an
    ensemble run with vmap + functional_call. The stacked parameters are new leaves.

    >>> params, buffers = ember.func.stack_module_state([nn.Linear(3, 3) for _ in range(5)])
    >>> params["weight"].shape
    ember.Size([5, 3, 3])
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: _stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root: Module) -> Module:
    """Make every BatchNorm in root use batch statistics only (no running stats), in place, so
    that a vmapped model does not write to shared buffers."""
    from .nn.modules.batchnorm import _BatchNorm  # noqa: PLC0415

    for module in root.modules():
        if isinstance(module, _BatchNorm) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """torch.func.functionalize: the same function, returned as is.

    torch rewrites in-place ops and views into out-of-place ones so that graph-capturing
    transforms see a pure function. Ember captures no graphs for compilation, and its eager
    in-place ops already have the semantics functionalization preserves (results, gradients,
    mutations of the inputs), so there is nothing to rewrite: calling the result is calling
    `func`.
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n"
                           "     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place "
                           "equivalents.\n"
                           "     remove='mutations_and_views': In addition to the above, all "
                           "aliasing operators {view} will be replaced with their non-aliasing "
                           "counterparts, {view}_copy.\n")

    def functionalized(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    functionalized.__wrapped__ = func  # type: ignore[attr-defined]
    functionalized.__name__ = getattr(func, "__name__", "functionalized")
    return functionalized
