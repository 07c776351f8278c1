"""Selective activation checkpointing (torch.utils.checkpoint's SAC): inside a checkpoint, keep
the results of the ops a policy chooses (typically the expensive matmuls) and recompute only
the others in backward.

    def policy(ctx, op, *args, **kwargs):
        return CheckpointPolicy.MUST_SAVE if op is MatMul else CheckpointPolicy.PREFER_RECOMPUTE

    checkpoint(fn, x, use_reentrant=False,
               context_fn=lambda: create_selective_checkpoint_contexts(policy))

`op` is Ember's op class (`ember.ops.linalg.MatMul`, `ember.nn.functional.linear.Linear`...);
a list policy may name ops by class or by their profiler name ("matmul", "linear").

How: during the checkpoint's forward a saved op runs recorded, and its graph node (its output
and whatever its backward formula keeps besides its inputs) is cached, with its inputs left
out; during the recomputation that op is not run again: the cached node is attached to the
recomputed inputs. View ops and ops with several outputs are always recomputed.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from typing import Any

from ..autograd import op_watch
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import op_watch as _flag
from ..autograd.node import record
from ..tensor import Tensor

__all__ = ["SAC_IGNORED_OPS", "CheckpointPolicy", "SelectiveCheckpointContext",
           "create_selective_checkpoint_contexts"]


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with one op's result."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_SAVE = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE)

# ops whose results are never worth caching (torch's set holds detach and friends)
SAC_IGNORED_OPS: set = set()


class SelectiveCheckpointContext:
    """Passed to the policy: whether this call is during the recomputation."""

    def __init__(self, *, is_recompute: bool, op_output: Any = None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


class _Cache:
    """Per checkpointed call: the saved ops' nodes, per op class, in the order they ran."""

    def __init__(self, policy: Callable, allow_mutation: bool) -> None:
        self.policy = policy
        self.allow_mutation = allow_mutation
        self.entries: dict = {}
        self.recomputing = False

    # -- asked by op_watch for every op ------------------------------------------------------
    def handles(self, cls: type, args: tuple, kwargs: dict) -> bool:
        from ..ops.shape import ViewOp  # noqa: PLC0415

        if issubclass(cls, ViewOp) or cls in SAC_IGNORED_OPS or \
                getattr(cls, "num_outputs", 1) != 1 or cls.__name__ == "Recurrence":
            return False
        ctx = SelectiveCheckpointContext(is_recompute=self.recomputing)
        if self._decide(ctx, cls, args, kwargs) not in _SAVE:
            return False
        return not self.recomputing or bool(self.entries.get(cls))  # else: recomputed

    def _decide(self, ctx: SelectiveCheckpointContext, cls: type, args: tuple,
                kwargs: dict) -> CheckpointPolicy:
        decision = self.policy(ctx, cls, *args, **kwargs)
        if isinstance(decision, bool):  # torch's older boolean policies
            decision = CheckpointPolicy.MUST_SAVE if decision else \
                CheckpointPolicy.PREFER_RECOMPUTE
        if not isinstance(decision, CheckpointPolicy):
            raise ValueError(f"policy_fn must return a CheckpointPolicy, got {decision!r}")
        return decision

    def run(self, cls: type, args: tuple, kwargs: dict) -> Tensor:
        if self.recomputing:
            return self._reuse(cls, args, kwargs)
        return self._save(cls, args, kwargs)

    # -- forward: run recorded, keep the node ------------------------------------------------
    def _save(self, cls: type, args: tuple, kwargs: dict) -> Tensor:
        stand_ins = [Tensor._make(a._data, a._data.dtype.kind in "fcV")
                     if isinstance(a, Tensor) else a for a in args]
        recording = grad_state.enabled
        grad_state.enabled = True
        _flag.active = False  # the op itself runs plain, unwatched
        try:
            result = cls.apply(*stand_ins, **kwargs)
        finally:
            grad_state.enabled = recording
            op_watch.update()
        node = result.grad_fn
        if node is None:  # an integer result: nothing to differentiate, nothing to cache
            return result
        arrays = [a._data if isinstance(a, Tensor) else None for a in stand_ins]
        slots = []  # saved values that are inputs: dropped now, the recomputed ones used later
        saved = list(node.saved)
        for i, value in enumerate(saved):
            for j, array in enumerate(arrays):
                if array is not None and value is array:
                    slots.append((i, j))
                    saved[i] = None
                    break
        node.saved = tuple(saved)
        node.next_edges, node._saved_refs = (), ()
        out = result._data.copy() if self.allow_mutation else result._data
        plain = Tensor._make(result._data)
        plain._vc = [0]
        self.entries.setdefault(cls, []).append((node, out, slots, plain._vc))
        return plain

    # -- recomputation: attach the cached node to the recomputed inputs ----------------------
    def _reuse(self, cls: type, args: tuple, kwargs: dict) -> Tensor:
        from .checkpoint import CheckpointError  # noqa: PLC0415

        node, out, slots, version = self.entries[cls].pop(0)
        if not self.allow_mutation and version[0] != 0:
            raise CheckpointError(
                "Selective checkpointing: a tensor saved by the policy was modified in-place "
                "after the forward; pass allow_cache_entry_mutation=True to "
                "create_selective_checkpoint_contexts if that is intended.")
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        saved = list(node.saved)
        for i, j in slots:
            saved[i] = arrays[j]
        node.saved = tuple(saved)
        result = Tensor._make(out)
        if grad_state.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args):
            record(node, result, args, arrays)
        return result

    @contextlib.contextmanager
    def phase(self, recomputing: bool) -> Iterator[None]:
        prev = op_watch.watchers.selective
        self.recomputing = recomputing
        op_watch.watchers.selective = self
        op_watch.update()
        try:
            yield
        finally:
            op_watch.watchers.selective = prev
            op_watch.update()


def _policy_from_list(ops: list) -> Callable:
    from ..autograd.op_watch import op_name  # noqa: PLC0415

    classes = {op for op in ops if isinstance(op, type)}
    names = {op for op in ops if isinstance(op, str)}

    def policy(ctx: SelectiveCheckpointContext, op: type, *args: Any, **kwargs: Any) -> Any:
        if op in classes or op_name(op) in names:
            return CheckpointPolicy.MUST_SAVE
        return CheckpointPolicy.PREFER_RECOMPUTE

    return policy


def create_selective_checkpoint_contexts(
        policy_fn_or_list: Callable | list, allow_cache_entry_mutation: bool = False,
) -> tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
    """The (forward, recompute) context pair for checkpoint(context_fn=...): the first caches
    the ops the policy saves, the second reuses them instead of running them again."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, (type, str)):
                raise ValueError(f"Expected op in `op_list` to be an op class or an op name, "
                                 f"but got {op} of type {type(op)}")
        policy = _policy_from_list(policy_fn_or_list)
    elif callable(policy_fn_or_list):
        policy = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    cache = _Cache(policy, allow_cache_entry_mutation)
    return cache.phase(False), cache.phase(True)
