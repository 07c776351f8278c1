"""The allowlist of classes a checkpoint may hold (torch.serialization.add_safe_globals).

Ember's checkpoints hold data, never code: tensors, numbers, strings and containers of them.
A script that also saves, say, its `argparse.Namespace` or a dataclass of hyper-parameters
registers the class once with `add_safe_globals([Namespace])`; `ember.save` then stores such an
object as its class name plus its attributes (data again), and `ember.load` rebuilds it only
for registered classes. Loading with `weights_only=False` rebuilds any class by importing it
(torch's trusted-file mode), which runs that module's code: only for files you trust.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import threading
from collections.abc import Iterator
from typing import Any

class UnsafeClassError(RuntimeError, pickle.UnpicklingError):
    """A checkpoint holds an object of a class nobody allowed (torch raises UnpicklingError)."""


_allowed: dict[str, type] = {}  # "module.qualname" (or a chosen name) -> class
_trust = threading.local()  # trust.any: load(weights_only=False) is running on this thread


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes in checkpoints; an entry may be a class or (class, "saved.name")."""
    for entry in safe_globals:
        cls, name = entry if isinstance(entry, tuple) else (entry, None)
        if not isinstance(cls, type):
            raise TypeError(f"add_safe_globals: expected classes (or (class, name) pairs), got "
                            f"{cls!r}")
        _allowed[name or _name(cls)] = cls


def get_safe_globals() -> list:
    return [cls if name == _name(cls) else (cls, name) for name, cls in _allowed.items()]


def clear_safe_globals() -> None:
    _allowed.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list) -> Iterator[None]:
    """add_safe_globals for the duration of a with block."""
    before = dict(_allowed)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _allowed.clear()
        _allowed.update(before)


def saved_name(obj: Any) -> str | None:
    """The name to save `obj` under, if its class is allowed; else None."""
    cls = type(obj)
    for name, allowed in _allowed.items():
        if allowed is cls:
            return name
    return None


def state_of(obj: Any) -> Any:
    getstate = getattr(obj, "__getstate__", None)
    state = getstate() if getstate is not None else None
    return vars(obj) if state is None else state


@contextlib.contextmanager
def trusting(trust: bool) -> Iterator[None]:
    before = getattr(_trust, "any", False)
    _trust.any = trust
    try:
        yield
    finally:
        _trust.any = before


def class_name(obj: Any) -> str:
    """The name a class (or a function) is saved under."""
    return _name(obj)


def is_global(obj: Any) -> bool:
    """Whether a class or function can be found again by its module and name (not a lambda
    or a function defined inside another)."""
    return "<" not in getattr(obj, "__qualname__", "<") and bool(getattr(obj, "__module__", None))


def resolve(name: str, module: str) -> Any:
    """The class or function saved as `name`: an allowed class, or, when loading with
    weights_only=False, whatever `module` defines under that name (importing the module)."""
    found = _allowed.get(name)
    if found is not None:
        return found
    if not getattr(_trust, "any", False):
        short = name.rsplit(".", 1)[-1]
        raise UnsafeClassError(
            f"ember.load: the checkpoint holds an object of class {name}, which is not an "
            f"allowed class; if you trust this file, allow it with "
            f"ember.serialization.add_safe_globals([{short}]) (or the safe_globals context "
            f"manager), or load with weights_only=False")
    found = importlib.import_module(module)
    for part in name[len(module) + 1:].split("."):
        found = getattr(found, part)
    return found


def rebuild(name: str, module: str, state: Any) -> Any:
    """An object of the class saved as `name` (defined in `module`), attributes restored
    (state None: not yet, see restore)."""
    cls = resolve(name, module)
    obj = cls.__new__(cls)
    return obj if state is None else restore(obj, state)


def restore(obj: Any, state: Any) -> Any:
    """Give a rebuilt object its saved attributes."""
    cls = type(obj)
    custom = getattr(cls, "__setstate__", None) not in (None, getattr(object, "__setstate__",
                                                                      None))
    if custom or not isinstance(state, dict):
        obj.__setstate__(state)
    else:
        obj.__dict__.update(state)
    return obj
