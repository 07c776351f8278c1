"""What `ember.compile(module)` returns: torch.compile's OptimizedModule wrapper, run eagerly.

Ember has no graph compiler, but scripts depend on the wrapper's shape: its state_dict keys
carry the '_orig_mod.' prefix (nanoGPT strips it when loading), `model._orig_mod` unwraps it,
and attribute reads and writes pass through to the wrapped module, as torch's
(torch._dynamo.eval_frame.OptimizedModule).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from .nn.modules.module import Module


class OptimizedModule(Module):
    """The wrapped module under `_orig_mod`; calls run it eagerly."""

    _opt_mod_attributes = frozenset({"_orig_mod", "forward", "__dict__",
                                     "_super_module_initialized"})

    def __init__(self, mod: Module) -> None:
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_super_module_initialized", False)
        super().__init__()
        object.__setattr__(self, "_super_module_initialized", True)
        del self.__dict__["_orig_mod"]
        self._orig_mod = mod  # registered as the only child

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __len__(self) -> int:
        if isinstance(self._orig_mod, Sized):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    @property
    def training(self) -> bool:  # type: ignore[override]
        return self._orig_mod.training

    @training.setter
    def training(self, value: bool) -> None:
        if self.__dict__.get("_super_module_initialized"):  # Module.__init__'s default ignored
            self._orig_mod.training = value

    def __getattr__(self, name: str) -> Any:
        modules = self.__dict__.get("_modules")
        if modules is None or "_orig_mod" not in modules:  # while unpickling
            orig = self.__dict__.get("_orig_mod")
            if orig is None:
                raise AttributeError(name)
            return getattr(orig, name)
        if name == "_orig_mod":
            return modules["_orig_mod"]
        return getattr(modules["_orig_mod"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __dir__(self) -> list:
        own = self._orig_mod.__dir__()
        return own + [a for a in super().__dir__() if a not in own]
