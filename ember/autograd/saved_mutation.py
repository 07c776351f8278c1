"""allow_mutation_on_saved_tensors: in-place ops may change tensors saved for backward.

Normally backward raises when a tensor it saved was modified in place. Inside this context
every saved tensor goes through saved-tensor hooks that remember it, and every in-place op
(seen through `op_watch`, before it writes) first copies the saved tensors that share the
written memory (the same version counter: the tensor, its base or its views); backward then
gets the copies. Writes autograd never sees (`.data`, optimizers' raw updates) are not copied:
backward raises torch's "modified by an inplace operation" error for them instead.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from . import node as _node
from . import op_watch, saved_hooks


class _Handle:
    """What the graph keeps for one saved tensor; the context maps it to the tensor."""


class _AllowMutationOnSavedContext:
    """The state of one `allow_mutation_on_saved_tensors` block (cleared when it closes)."""

    def __init__(self) -> None:
        self.original: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # handle -> t
        self.cloned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # handle -> copy
        self.versions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # at save
        self.handle_of: dict = {}  # (id(t), version) -> weak handle: a tensor saved twice
        self.sharing: dict = {}  # id(version counter) -> (counter, [weak handles])

    def clear(self) -> None:
        self.original.clear()
        self.cloned.clear()
        self.versions.clear()
        self.handle_of.clear()
        self.sharing.clear()

    def pack(self, tensor: Any) -> _Handle:
        key = (id(tensor), tensor._version)
        ref = self.handle_of.get(key)
        handle = ref() if ref is not None else None
        if handle is not None and self.original.get(handle) is tensor:
            return handle
        handle = _Handle()
        self.handle_of[key] = weakref.ref(handle)
        self.original[handle] = tensor
        self.versions[handle] = tensor._version
        counter = tensor._shared_version_counter()
        self.sharing.setdefault(id(counter), (counter, []))[1].append(weakref.ref(handle))
        return handle

    def unpack(self, handle: _Handle) -> Any:
        if not _enabled[0] or (handle not in self.cloned and handle not in self.original):
            raise AssertionError("Trying to backward outside of the "
                                 "'allow_mutation_on_saved_tensors' context in which the graph "
                                 "was originally recorded.")
        copy = self.cloned.get(handle)
        if copy is not None:
            return copy
        tensor = self.original[handle]
        if tensor._version != self.versions[handle]:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                "inplace operation that allow_mutation_on_saved_tensors could not see (through "
                ".data or on the raw array): it is at version "
                f"{tensor._version}; expected version {self.versions[handle]} instead.")
        return tensor

    def before_write(self, t: Any) -> None:
        """Copy every saved tensor sharing `t`'s memory before an in-place op writes to it."""
        counter = t._vc
        entry = self.sharing.get(id(counter)) if counter is not None else None
        if entry is None or entry[0] is not counter:
            return
        for ref in entry[1]:
            handle = ref()
            if handle is None or handle in self.cloned:
                continue
            original = self.original.get(handle)
            if original is not None:
                copy = _node.Tensor._make(original._data.copy())
                self.cloned[handle] = copy
                del self.original[handle]


_enabled = [False]


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_AllowMutationOnSavedContext]:
    """Context manager under which mutating tensors saved for backward is allowed: they are
    cloned on mutation, so backward still sees the saved values. Run both the forward and the
    backward inside it.

    >>> with allow_mutation_on_saved_tensors():
    ...     a = ember.ones(2, 3, requires_grad=True)
    ...     b = a.clone()
    ...     out = (b ** 2).sum()
    ...     b.sin_()
    ...     out.backward()
    """
    if _enabled[0]:
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    ctx = _AllowMutationOnSavedContext()
    saved_hooks.push(ctx.pack, ctx.unpack)
    op_watch.watchers.mutation = ctx
    op_watch.update()
    _enabled[0] = True
    try:
        yield ctx
    finally:
        _enabled[0] = False
        op_watch.watchers.mutation = None
        op_watch.update()
        saved_hooks.pop()
        ctx.clear()
