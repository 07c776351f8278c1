"""`Optimizer`: the bookkeeping every optimizer shares (param groups, state, checkpoints).

As in torch, an optimizer holds `param_groups` (a list of dicts: the tensors plus their options,
e.g. `lr`) and `state` (a dict from parameter to its buffers, e.g. Adam's moments). As in MLX, a
concrete optimizer only says two things, each in its own file (`adam.py`, `sgd.py`...):

- `_init_state(param, state, group)`: create the buffers of one parameter before its first step;
- `_update(param, grad, state, group)`: apply one step to one parameter, in place, with the
  array module's in-place operations on raw backend arrays (so no autograd graph is recorded
  and few temporaries are made).

`step()` calls them for every parameter that has a gradient and bumps its version counter, so
autograd notices that a tensor saved for backward was changed.

Hooks, as in torch: `register_step_pre_hook` / `register_step_post_hook` run around every
`step()`, including the `step` of a subclass that writes its own (LBFGS); the module functions
`register_optimizer_step_pre_hook` / `_post_hook` do the same for every optimizer. `state_dict()`
and `load_state_dict()` have pre and post hooks too.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..creation import as_tensor
from ..creation import tensor as _tensor
from ..doctor.flags import flags as _doctor
from ..dtypes import float32
from ..nn.modules.module import RemovableHandle
from ..tensor import Tensor

_ndarray = backend.ndarray
ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks an option that has no default and must be given per group (torch's `required`)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

StepPreHook = Callable[["Optimizer", tuple, dict], "tuple[tuple, dict] | None"]
StepPostHook = Callable[["Optimizer", tuple, dict], None]

# hooks that run around the step() of every optimizer (torch.optim.optimizer's globals)
_global_optimizer_pre_hooks: OrderedDict[int, StepPreHook] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, StepPostHook] = OrderedDict()


def register_optimizer_step_pre_hook(hook: StepPreHook) -> RemovableHandle:
    """Run `hook(optimizer, args, kwargs)` before the `step()` of every optimizer; it may
    return `(new_args, new_kwargs)` to replace the step's arguments."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: StepPostHook) -> RemovableHandle:
    """Run `hook(optimizer, args, kwargs)` after the `step()` of every optimizer."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an optimizer's `step` so that the step hooks run around it, in torch's order:
    global pre hooks, the optimizer's pre hooks, step, its post hooks, global post hooks.

    A `step` that calls `super().step()` runs the hooks once, not once per level.
    """

    @functools.wraps(step)
    def step_with_hooks(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        self._opt_called = True  # for the schedulers' step-order warning, as torch
        own_pre = self.__dict__.get("_optimizer_step_pre_hooks")
        own_post = self.__dict__.get("_optimizer_step_post_hooks")
        if self.__dict__.get("_inside_step_hooks") or not (
            own_pre or own_post or _global_optimizer_pre_hooks or _global_optimizer_post_hooks
        ):
            return step(*args, **kwargs)  # no hooks (the common case), or already inside
        for hook in [*_global_optimizer_pre_hooks.values(), *(own_pre or {}).values()]:
            result = hook(self, args, kwargs)
            if result is None:
                continue
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(
                    f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                    f"{result}."
                )
            args, kwargs = result
        self._inside_step_hooks = True
        try:
            out = step(*args, **kwargs)
        finally:
            self._inside_step_hooks = False
        for hook in [*(own_post or {}).values(), *_global_optimizer_post_hooks.values()]:
            hook(self, args, kwargs)
        return out

    step_with_hooks.hooked = True  # type: ignore[attr-defined]
    return step_with_hooks


class Optimizer:
    """Base class of all optimizers: holds the parameter groups and the per-parameter state.

    >>> opt = ember.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    # Sparse gradients (nn.Embedding(sparse=True)): SGD, Adagrad and SparseAdam take them;
    # the others refuse them with torch's message.
    _supports_sparse_grads = False
    _sparse_grad_message = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)  # a subclass's own step runs the hooks too

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict[int, StepPreHook] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, StepPostHook] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)
        if _doctor.optimizer:
            _doctor.optimizer_created(self)

    def __getstate__(self) -> dict[str, Any]:
        """Pickling and deepcopy leave the hooks out, as torch does (they are often lambdas)."""
        return {k: v for k, v in self.__dict__.items()
                if k not in _HOOK_TABLES and k != "_inside_step_hooks"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling: the hook tables start empty."""
        self.__dict__.update(state)
        for name in _HOOK_TABLES:
            self.__dict__.setdefault(name, OrderedDict())

    # ------------------------------------------------------------------ what subclasses define
    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create the buffers of `param` (called once, before its first update)."""

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update `param._data` in place from `grad` (its gradient's backend array)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # ------------------------------------------------------------------ the training loop
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if _doctor.optimizer:  # the training doctor's step-time checks
            _doctor.before_step(self)
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad._data
                if grad.__class__ is not _ndarray and not self._supports_sparse_grads and \
                        getattr(grad, "is_sparse_payload", False):
                    raise RuntimeError(self._sparse_grad_message or
                                       f"{type(self).__name__} does not support sparse gradients")
                state = self.state[param]
                if len(state) == 0:
                    self._init_state(param, state, group)
                if grad.dtype.kind == "c":
                    self._update_as_real(param, grad, state, group)
                else:
                    self._update(param, grad, state, group)
                if len(state) == 0:  # e.g. SGD without momentum keeps no state, like torch
                    del self.state[param]
                param._bump_version()
        if _doctor.optimizer:
            _doctor.after_step(self)
        return loss

    def _update_as_real(self, param: Tensor, grad: Any, state: dict[str, Any],
                        group: dict[str, Any]) -> None:
        """A complex parameter, as torch (view_as_real): the update runs on real views of the
        parameter, its gradient and its complex buffers, so the real and imaginary parts are
        updated as independent real numbers (|g|^2 is not g*g)."""
        real = {key: _real_view(value) for key, value in state.items()}
        made = dict(real)
        self._update(_real_view(param), _real_view(grad), real, group)
        for key, value in real.items():  # buffers that _update created (SGD's momentum)
            if made.get(key) is not value:
                state[key] = Tensor._make(value._data.view(param._data.dtype))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: drop them (the default) or fill them with zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad._data.fill(0)
                grad._bump_version()
        if _doctor.optimizer:
            _doctor.zero_grad(self, set_to_none)

    # ------------------------------------------------------------------ parameter groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers mid-training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead."
            )
        else:
            params = list(params)

        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{_typename(param)}"
                )
            if not self.defaults.get("differentiable", None) and not (
                param.is_leaf or param.retains_grad
            ):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        lr = param_group.get("lr")
        if isinstance(lr, Tensor):  # torch accepts a 1-element tensor lr; the math wants a number
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
            param_group["lr"] = lr.item()

        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information",
                stacklevel=3,
            )

        seen: set[Tensor] = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add "
                    f"param group {which} to the optimizer"
                )
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in torch's format: tensors replaced by their index.

        `{'state': {0: {'step': tensor(3.), 'exp_avg': ...}, ...},
          'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}, ...]}`
        Indices count parameters across groups in order. The state tensors are not copied.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            (index_of[id(p)] if isinstance(p, Tensor) else p): s for p, s in self.state.items()
        }
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a `state_dict()` (ours, or torch's with its tensors turned into numpy arrays).

        State tensors are copied onto each parameter's device and, except `step`, its dtype.
        """
        state_dict = state_dict.copy()  # shallow: pre hooks may edit it, not the caller's
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if [len(g["params"]) for g in groups] != [len(s["params"]) for s in saved_groups]:
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        param_of = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in groups), strict=True))

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = _cast_state(param, value)
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups, strict=True):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: StepPreHook) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` before each `step()`; returning
        `(new_args, new_kwargs)` replaces the step's arguments."""
        return _add_hook(self._optimizer_step_pre_hooks, hook, prepend=False)

    def register_step_post_hook(self, hook: StepPostHook) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` after each `step()`."""
        return _add_hook(self._optimizer_step_post_hooks, hook, prepend=False)

    def register_state_dict_pre_hook(self, hook: Callable[[Optimizer], None],
                                     prepend: bool = False) -> RemovableHandle:
        """Run `hook(optimizer)` at the start of `state_dict()`."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(
        self, hook: Callable[[Optimizer, dict[str, Any]], dict[str, Any] | None],
        prepend: bool = False,
    ) -> RemovableHandle:
        """Run `hook(optimizer, state_dict)` at the end of `state_dict()`; a returned dict
        replaces the state dict."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(
        self, hook: Callable[[Optimizer, dict[str, Any]], dict[str, Any] | None],
        prepend: bool = False,
    ) -> RemovableHandle:
        """Run `hook(optimizer, state_dict)` before `load_state_dict()` loads anything (it gets
        a shallow copy of the dict); a returned dict is loaded instead."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[[Optimizer], None],
                                           prepend: bool = False) -> RemovableHandle:
        """Run `hook(optimizer)` after `load_state_dict()` has loaded the state."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


Optimizer.step = _with_step_hooks(Optimizer.step)  # type: ignore[method-assign]


_HOOK_TABLES = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# ---------------------------------------------------------------------- helpers for subclasses
def zeros_state(param: Tensor, fill_value: float = 0.0) -> Tensor:
    """A buffer shaped like `param`, on its device and of its dtype (e.g. Adam's `exp_avg`).

    On a complex parameter both parts take `fill_value` (torch's complex(value, value))."""
    data = param._data
    xp = backend.module_of(data)
    if data.dtype.kind == "c":
        fill_value = complex(fill_value, fill_value)
    return Tensor._make(xp.full_like(data, fill_value) if fill_value else xp.zeros_like(data))


def scalar_state(value: float = 0.0) -> Tensor:
    """A float32 scalar on the CPU: how torch 2.x keeps `step` (and NAdam's `mu_product`)."""
    return _tensor(float(value), dtype=float32)


def count_step(state: dict[str, Any]) -> float:
    """Add one to `state['step']` in place and return the new step number as a Python float."""
    counter = state["step"]._data
    counter += 1
    return float(counter)


def check_fused_foreach(fused: bool | None, foreach: bool | None,
                        differentiable: bool) -> None:
    """Accept torch's implementation switches (they only choose kernels) and its conflicts."""
    if differentiable:
        raise NotImplementedError(
            "differentiable=True (autograd through optimizer.step) is not supported by Ember"
        )
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _real_view(value: Any) -> Any:
    """A complex array or Tensor seen as reals (its last axis twice as long, sharing memory);
    anything else as it is."""
    data = value._data if isinstance(value, Tensor) else value
    if not backend.is_array(data) or data.dtype.kind != "c":
        return value
    view = data.view(data.real.dtype)
    return Tensor._make(view) if isinstance(value, Tensor) else view


def _cast_state(param: Tensor, value: Any, key: Any = None) -> Any:
    """Deep-copy a loaded state value; tensors and arrays become Tensors on param's device."""
    if isinstance(value, Tensor) or backend.is_array(value):
        if key == "step":  # torch keeps the step counter as saved: a float32 CPU scalar
            loaded = as_tensor(value)
        else:
            dtype = param.dtype if param.is_floating_point() else None
            loaded = as_tensor(value, dtype=dtype, device=param.device)
        return Tensor._make(loaded._data.copy())  # never share memory with the checkpoint
    if key == "step" and isinstance(value, (int, float)):  # checkpoints from torch 1.x
        return scalar_state(value)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, key=k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return "ember.Tensor"
    return f"{type(obj).__module__}.{type(obj).__qualname__}".removeprefix("builtins.")


_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def check_hyperparameters(betas: tuple | None = None, **values: float) -> None:
    """torch's argument checks: a negative hyperparameter or a beta outside [0, 1) is a
    ValueError naming it ("Invalid learning rate: -1.0")."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS.get(name, name + ' value')}: {value}")
    for i, beta in enumerate(betas or ()):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def check_lr(lr: Any) -> None:
    """torch's checks of a learning rate given as a float or as a one-element tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
