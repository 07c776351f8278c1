"""`Module`: the base class of every layer and model.

A module owns parameters (trainable tensors), buffers (state such as BatchNorm's running mean)
and child modules. Assigning them as attributes registers them (`__setattr__` routes each kind
to its dictionary), so `named_parameters()` and `state_dict()` can name everything with dotted
paths like `features.3.weight`, exactly as torch does.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

from ... import backend, dtypes
from ...autograd.grad_mode import no_grad
from ...autograd.grad_mode import state as _grad_state
from ...doctor.flags import flags as _doctor
from ...tensor import Tensor
from ..errors import LayerInputError
from ..parameter import Buffer, Parameter

# Module.type accepts torch's legacy tensor-type names
_TENSOR_TYPE_NAMES = {f"torch.{kind}Tensor": name for kind, name in (
    ("Float", "float32"), ("Double", "float64"), ("Half", "float16"), ("Long", "int64"),
    ("Int", "int32"), ("Short", "int16"), ("Char", "int8"), ("Byte", "uint8"),
    ("Bool", "bool"))}


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


def _run_forward_hook(module: Any, hook: Callable, with_kwargs: bool, args: tuple, kwargs: dict,
                      output: Any) -> Any:
    """Call one forward hook; what it returns (if not None) replaces the output."""
    result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
    return output if result is None else result


class RemovableHandle:
    """Returned by register_*_hook; `.remove()` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


# Hooks for every module (torch.nn.modules.module.register_module_*_hook): they run before
# each module's own hooks, e.g. to trace or profile a whole model without touching its code.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: set = set()
_global_forward_hooks_always_called: set = set()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """hook(module, args) -> None or new args, before every module's forward."""
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """hook(module, args, output) -> None or new output, after every module's forward."""
    handle = _add_hook(_global_forward_hooks, hook)
    if with_kwargs:
        _global_forward_hooks_with_kwargs.add(handle.id)
    if always_call:
        _global_forward_hooks_always_called.add(handle.id)
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """hook(module, grad_output) -> None or new grad_output, for every module."""
    return _add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """hook(module, grad_input, grad_output) -> None or new grad_input, for every module."""
    return _add_hook(_global_backward_hooks, hook)


register_module_backward_hook = register_module_full_backward_hook


def register_module_parameter_registration_hook(hook: Callable) -> RemovableHandle:
    """hook(module, name, param) -> None or a replacement, whenever a parameter is registered."""
    return _add_hook(_global_parameter_registration_hooks, hook)


def register_module_module_registration_hook(hook: Callable) -> RemovableHandle:
    """hook(module, name, submodule) -> None or a replacement, whenever a child is registered."""
    return _add_hook(_global_module_registration_hooks, hook)


def register_module_buffer_registration_hook(hook: Callable) -> RemovableHandle:
    """hook(module, name, buffer) -> None or a replacement, whenever a buffer is registered."""
    return _add_hook(_global_buffer_registration_hooks, hook)


def _run_registration_hooks(hooks: OrderedDict, module: Module, name: str, value: Any) -> Any:
    for hook in list(hooks.values()):
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


class _PublicStateDictHook:
    """A hook from register_state_dict_post_hook: it must edit in place, not return."""

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> None:
        if self.hook(*args) is not None:
            raise RuntimeError("state_dict post-hook must return None")


class _WithModule:
    """A load_state_dict pre-hook registered with_module=True: gets the module first."""

    def __init__(self, hook: Callable, module: Module) -> None:
        self.hook, self.module = hook, module

    def __call__(self, *args: Any) -> Any:
        return self.hook(self.module, *args)


class _BackwardHookState:
    """Runs a module's backward hooks: identity autograd functions around its tensor inputs
    and outputs see the gradients that flow through them (torch's BackwardHook)."""

    def __init__(self, module: Module, n_inputs: int) -> None:
        self.module = module
        self.n_inputs = n_inputs
        # global hooks first, then the module's own (torch's order)
        self.pre_hooks = [*_global_backward_pre_hooks.values(),
                          *module._backward_pre_hooks.values()]
        self.hooks = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
        self.inputs_wrapped = False
        self.grad_outputs: tuple | None = None

    @classmethod
    def wrap_inputs(cls, module: Module, args: tuple) -> tuple:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        state = cls(module, len(positions))
        if any(args[i].requires_grad for i in positions):
            state.inputs_wrapped = True
            state.input_needs_grad = [args[i].requires_grad for i in positions]
            wrapped = _HookIdentity.apply(state, True, *[args[i] for i in positions])
            wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
            args = list(args)
            for i, w in zip(positions, wrapped):
                args[i] = w
            args = tuple(args)
        return state, args

    def wrap_outputs(self, output: Any) -> Any:
        single = isinstance(output, Tensor)
        outs = (output,) if single else output
        if not isinstance(outs, tuple) or not any(isinstance(o, Tensor) and o.requires_grad
                                                  for o in outs):
            return output
        positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        wrapped = _HookIdentity.apply(self, False, *[outs[i] for i in positions])
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        outs = list(outs)
        for i, w in zip(positions, wrapped):
            outs[i] = w
        return outs[0] if single else tuple(outs)

    def on_grad_outputs(self, grads: tuple) -> tuple:
        for hook in self.pre_hooks:
            result = hook(self.module, grads)
            if result is not None:
                grads = _checked_grads(result, len(grads), "Backward pre hook", "grad_output")
        self.grad_outputs = grads
        if not self.inputs_wrapped:  # no input needs a gradient: the hooks run now
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            self.on_grad_inputs((None,) * self.n_inputs)
        return grads

    def on_grad_inputs(self, grads: tuple) -> tuple:
        if self.inputs_wrapped:  # as torch: an input that needs no gradient shows zeros
            grads = tuple(g if needed or g is None else g.new_zeros(g.shape)
                          for g, needed in zip(grads, self.input_needs_grad))
        for hook in self.hooks:
            result = hook(self.module, grads, self.grad_outputs)
            if result is not None:
                grads = _checked_grads(result, len(grads), "Backward hook", "grad_input")
        return grads


def _checked_grads(result: Any, expected: int, hook_kind: str, what: str) -> tuple:
    """A backward (pre) hook's replacement gradients, one per original gradient."""
    grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(grads) != expected:
        raise RuntimeError(f"{hook_kind} returned an invalid number of {what}, got "
                           f"{len(grads)}, but expected {expected}")
    return grads


def _hook_identity_class() -> type:
    from ...autograd.function import Function  # noqa: PLC0415

    class BackwardHookFunction(Function):
        @staticmethod
        def forward(ctx: Any, state: _BackwardHookState, is_input: bool, *tensors: Tensor) -> Any:
            ctx.state, ctx.is_input = state, is_input
            return tensors if len(tensors) != 1 else tensors[0]

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            state = ctx.state
            grads = state.on_grad_inputs(grads) if ctx.is_input else state.on_grad_outputs(grads)
            return (None, None, *grads)

    return BackwardHookFunction


class _LazyHookIdentity:
    """Builds the identity Function on first use (autograd.function imports nn lazily)."""

    cls: type | None = None

    def apply(self, *args: Any) -> Any:
        if self.cls is None:
            self.cls = _hook_identity_class()
        return self.cls.apply(*args)


_HookIdentity = _LazyHookIdentity()


def _typename(value: Any) -> str:
    """torch.typename, for the error messages ('ember.FloatTensor', 'int', ...)."""
    from ...ops.strided import typename
    return typename(value)


def _as_tensor(value: Any) -> Tensor:
    """Accept what a state_dict may hold: ember tensors, arrays, torch tensors, lists."""
    from ...creation import as_tensor, from_dlpack  # noqa: PLC0415

    if isinstance(value, Tensor):
        return value
    if hasattr(value, "detach") and hasattr(value, "__dlpack__"):  # a torch tensor
        return from_dlpack(value.detach().cpu())
    return as_tensor(value)


class Module:
    """Base class for all neural-network layers and models.

    Subclasses create their parameters and submodules in `__init__` and define `forward`:

    >>> class MLP(ember.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = ember.nn.Linear(784, 256)
    ...         self.fc2 = ember.nn.Linear(256, 10)
    ...     def forward(self, x):
    ...         return self.fc2(ember.relu(self.fc1(x)))
    """

    training: bool
    _version: int = 1
    call_super_init: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs and not self.call_super_init:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if args and not self.call_super_init:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument "
                            f"but {len(args) + 1} were given")
        setter = object.__setattr__
        setter(self, "training", True)
        setter(self, "_parameters", {})
        setter(self, "_buffers", {})
        setter(self, "_non_persistent_buffers_set", set())
        setter(self, "_modules", {})
        setter(self, "_forward_pre_hooks", OrderedDict())
        setter(self, "_forward_pre_hooks_with_kwargs", set())
        setter(self, "_forward_hooks", OrderedDict())
        setter(self, "_forward_hooks_with_kwargs", set())
        setter(self, "_forward_hooks_always_called", set())
        setter(self, "_backward_hooks", OrderedDict())
        setter(self, "_backward_pre_hooks", OrderedDict())
        setter(self, "_state_dict_pre_hooks", OrderedDict())
        setter(self, "_state_dict_hooks", OrderedDict())
        setter(self, "_load_state_dict_pre_hooks", OrderedDict())
        setter(self, "_load_state_dict_post_hooks", OrderedDict())
        _doctor.modules.add(self)  # so that the doctor can name parameters and layers

    forward: Callable[..., Any]

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if _doctor.armed and self.training and not _grad_state.enabled:
                # under no_grad in training mode: did the user forget model.eval()?
                return _doctor.no_grad_call(self, args, kwargs)
            if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                    or self._backward_pre_hooks or _global_forward_pre_hooks
                    or _global_forward_hooks or _global_backward_hooks
                    or _global_backward_pre_hooks):
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        except LayerInputError as err:
            err.locate(self)  # name the layer by its path in the model
            raise

    _call_impl = __call__  # torch's internal names, which some wrappers call directly
    _wrapped_call_impl = __call__

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """torch's order: global then own pre-hooks, forward, global then own forward hooks;
        hooks registered with always_call=True also run when forward raises."""
        output = None
        called: set = set()
        forward_hooks = [*_global_forward_hooks.items(), *self._forward_hooks.items()]
        with_kwargs = _global_forward_hooks_with_kwargs | self._forward_hooks_with_kwargs
        always = _global_forward_hooks_always_called | self._forward_hooks_always_called
        try:
            for hook_id, hook in [*_global_forward_pre_hooks.items(),
                                  *self._forward_pre_hooks.items()]:
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {result}.")
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            backward_state = None
            if ((self._backward_hooks or self._backward_pre_hooks or _global_backward_hooks
                 or _global_backward_pre_hooks) and _grad_state.enabled):
                backward_state, args = _BackwardHookState.wrap_inputs(self, args)
            output = self.forward(*args, **kwargs)
            for hook_id, hook in forward_hooks:
                if hook_id in always:
                    called.add(hook_id)
                output = _run_forward_hook(self, hook, hook_id in with_kwargs, args, kwargs,
                                           output)
            if backward_state is not None:
                output = backward_state.wrap_outputs(output)
            return output
        except Exception:
            for hook_id, hook in forward_hooks:
                if hook_id not in always or hook_id in called:
                    continue
                try:
                    output = _run_forward_hook(self, hook, hook_id in with_kwargs, args, kwargs,
                                               output)
                except Exception as exc:  # the error from forward is the one to report
                    warnings.warn("forward hook with ``always_call=True`` raised an exception "
                                  f"that was silenced as another error was raised in forward: "
                                  f"{exc}", stacklevel=2)
            raise

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) -> None or new args; runs before forward.

        With with_kwargs=True: hook(module, args, kwargs) -> None or (new_args, new_kwargs).
        """
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """hook(module, args, output) -> None or new output; runs after forward (and, with
        always_call=True, also when forward raises, with output None)."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook: Callable,
                                    prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or new grad_input; runs once the
        gradients with respect to the module's positional tensor inputs are computed."""
        self._set_backward_hook_kind(full=True)
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable,
                                        prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_output) -> None or new grad_output; runs when the gradients with
        respect to the module's outputs are computed."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated in torch; runs as a full backward hook here."""
        self._set_backward_hook_kind(full=False)
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def _set_backward_hook_kind(self, full: bool) -> None:
        """torch refuses a module both kinds of backward hook (legacy and full)."""
        if self.__dict__.get("_is_full_backward_hook", full) != full:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = full

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, self.__dict__, self._buffers, self._modules)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, self.__dict__, self._parameters, self._buffers)
            modules[name] = _run_registration_hooks(_global_module_registration_hooks, self,
                                                    name, value)
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            modules[name] = _run_registration_hooks(_global_module_registration_hooks, self,
                                                    name, value)
            return
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            persistent = getattr(value, "persistent", name not in
                                 self._non_persistent_buffers_set)
            if isinstance(value, Buffer):
                value = Tensor._make(value._data)
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, *dicts: dict) -> None:
        for d in dicts:
            if name in d:
                del d[name]

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            values = d.get(store)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = list(super().__dir__()) + list(self._parameters) + list(self._modules) + \
            list(self._buffers)
        return sorted(set(keys))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             "parameters must be created explicitly.")
        if param is not None:
            param = _run_registration_hooks(_global_parameter_registration_hooks, self, name,
                                            param)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the module's state but not trained (e.g. running stats)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        if tensor is not None:
            tensor = _run_registration_hooks(_global_buffer_registration_hooks, self, name,
                                             tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_name("module", name, self._modules)
        self._modules[name] = _run_registration_hooks(_global_module_registration_hooks, self,
                                                      name, module)

    register_module = add_module

    def _check_name(self, kind: str, name: str, store: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."' +
                           (f", got: {name}" if kind == "module" else ""))
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path `target` ('' is self)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Replace (or, unless strict, add) the submodule at the dotted path `target`."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path `target`, e.g. 'features.0.weight'."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path `target`, e.g. 'bn.running_mean'."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        buffer = getattr(mod, name)
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return buffer

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple]:
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, get: Callable, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple]:
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get(module):
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple]:
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple]:
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode: Dropout drops, BatchNorm uses batch statistics."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every submodule (children first) and on self; e.g. custom init."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ device and dtype
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Replace every parameter's and buffer's data by fn(data), keeping the objects."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                new = fn(p)
                if new._data is not p._data:
                    p._data = new._data
                    p._bump_version()
                if p.grad is not None:
                    g = fn(p.grad)
                    if g._data is not p.grad._data:
                        p.grad = g
            for name, b in self._buffers.items():
                if b is not None:
                    self._buffers[name] = fn(b)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move (and/or cast floating-point) parameters and buffers; returns self."""
        from ...ops.convert import _parse_to_args  # noqa: PLC0415

        probe = Tensor._make(backend.module_for(backend.CPU).zeros(()))
        kwargs = dict(kwargs)
        fmt = kwargs.pop("memory_format", None)
        device, dtype, _ = _parse_to_args(probe, args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")
        if dtype is not None and dtype.is_complex:
            warnings.warn(
                "Complex modules are a new feature under active development whose design may "
                "change, and some modules might not work as expected when using complex tensors "
                "as parameters or buffers. Please file an issue at "
                "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml if a "
                "complex module does not work as expected.", stacklevel=2)

        def convert(t: Tensor) -> Tensor:
            out = t
            if device is not None and t.device != device:
                out = out.to(device)
            if dtype is not None and (out.is_floating_point() or out.is_complex()) and \
                    out.dtype is not dtype:  # integer buffers keep their dtype
                out = out.to(dtype)
            if fmt is not None and out.ndim in (4, 5):  # torch: only 4-D and 5-D tensors
                out = out.to(memory_format=fmt)
            return out

        return self._apply(convert)

    def to_empty(self, *, device: Any = None, recurse: bool = True) -> Module:
        """Move parameters and buffers to `device` without keeping their values."""
        from ...creation import empty_like  # noqa: PLC0415

        return self._apply(lambda t: empty_like(t, device=device), recurse)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Accepted for torch compatibility: Ember runs the module as written."""

    def cuda(self, device: Any = None) -> Module:
        return self.to("cuda" if device is None else (
            f"cuda:{device}" if isinstance(device, int) else device))

    def cpu(self) -> Module:
        return self.to("cpu")

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer (integer ones too) to dst_type."""
        if isinstance(dst_type, str) and dst_type in _TENSOR_TYPE_NAMES:
            dst_type = _TENSOR_TYPE_NAMES[dst_type]
        d = dtypes.to_dtype(dst_type)
        return self._apply(lambda t: t.to(d))

    def float(self) -> Module:
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Module:
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> Module:
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self) -> Module:
        """Floating-point parameters and buffers to bfloat16 (needs the ml_dtypes package)."""
        _ = dtypes.bfloat16.np  # without ml_dtypes: an error saying to pip install it
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def share_memory(self) -> Module:
        """Parameters and buffers into shared memory (Tensor.share_memory_): processes forked
        afterwards train one model together (a fork alone would give each a private copy)."""
        with no_grad():
            for t in list(self.parameters()) + list(self.buffers()):
                t.share_memory_()
        return self

    # ------------------------------------------------------------------ state dict
    def state_dict(self, *args: Any, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict:
        """Parameters and persistent buffers by dotted name (tensors share memory)."""
        if args:  # torch's deprecated positional form: (destination, prefix, keep_vars)
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.state_dict for details.", FutureWarning,
                          stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                destination = result
        return destination

    def _local_state_keys(self) -> list:
        """The names this module itself contributes to its state_dict (no prefix)."""
        keys = [n for n, p in self._parameters.items() if p is not None]
        keys += [n for n, b in self._buffers.items()
                 if b is not None and n not in self._non_persistent_buffers_set]
        if self._has_extra_state():
            keys.append("_extra_state")
        return keys

    def get_extra_state(self) -> Any:
        """Override (with set_extra_state) to store non-tensor state under '_extra_state'."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state: Any) -> None:
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    def _has_extra_state(self) -> bool:
        return type(self).get_extra_state is not Module.get_extra_state

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, prefix, keep_vars) before this module's state_dict is gathered."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata) after it is gathered; it edits
        the dict in place (returning something is an error, as in torch)."""
        return _add_hook(self._state_dict_hooks, _PublicStateDictHook(hook))

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """The private form: a non-None result replaces the state_dict."""
        return _add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) before this module's entries are loaded."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable,
                                           with_module: bool = False) -> RemovableHandle:
        """As above; without with_module the hook does not get the module first."""
        return _add_hook(self._load_state_dict_pre_hooks,
                         _WithModule(hook, self) if with_module else hook)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, incompatible_keys) after load_state_dict; it may edit the key lists."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if self._has_extra_state():
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def load_state_dict(self, state_dict: dict, strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values into this module's parameters and buffers (torch's keys and errors).

        Values may be Ember tensors, numpy arrays or torch tensors, so a torch model's
        state_dict loads as is. With assign=True the checkpoint's tensors replace the
        module's (no copy), keeping each parameter's requires_grad.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list = []
        unexpected: list = []
        errors: list = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata  # type: ignore[attr-defined]

        def load(module: Module, local_state: dict, prefix: str) -> None:
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            # as in torch, strict=True here: the caller decides below what is an error
            module._load_from_state_dict(local_state, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state.items()
                                 if k.startswith(child_prefix)}, child_prefix)
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")

        load(self, state_dict, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Load this module's own entries (torch's signature, so overrides that rename or
        convert old checkpoint keys work unchanged); children are loaded by the caller."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        assign = local_metadata.get("assign_to_params_buffers", False)
        local = [(n, p) for n, p in self._parameters.items() if p is not None]
        local += [(n, b) for n, b in self._buffers.items()
                  if b is not None and n not in self._non_persistent_buffers_set]
        for name, target in local:
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            try:
                value = _as_tensor(state_dict[key])
            except (TypeError, ValueError):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "torch.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(state_dict[key])}")
                continue
            if target.ndim == 0 and value.ndim == 1 and value.numel() == 1:
                value = value[0]  # old checkpoints stored scalars with shape (1,)
            if tuple(value.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}.")
                continue
            try:
                with no_grad():
                    if not assign:
                        target.copy_(value)
                    elif isinstance(target, Parameter):
                        if isinstance(value, Parameter):
                            value.requires_grad_(target.requires_grad)
                        else:
                            value = Parameter(value, target.requires_grad)
                        self._parameters[name] = value
                    else:
                        self._buffers[name] = value
            except Exception as exc:  # noqa: BLE001 (reported with the key, as torch does)
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f"in the model are {target.shape} and whose dimensions in the "
                                  f"checkpoint are {value.shape}, an exception occurred : "
                                  f"{exc.args}.")
        extra_key = prefix + "_extra_state"
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            names = {n for n, _ in local}
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    parts = key[len(prefix):].split(".", 1)
                    # a dotted key must go to a child module; a plain one to a local entry
                    known = self._modules if len(parts) > 1 else names
                    if parts[0] not in known:
                        unexpected_keys.append(key)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """Text shown inside this module's parentheses in repr (e.g. 'in_features=3, ...')."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        children = []
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            children.append(f"({name}): {text}")
        lines = lines + children
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not children:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __getstate__(self) -> dict:
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        # modules pickled before a hook kind existed get its (empty) registry
        for name in ("_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs",
                     "_forward_hooks_always_called"):
            self.__dict__.setdefault(name, set())
        for name in ("_backward_pre_hooks", "_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
