"""The one place where something may watch every op: the profiler and forward-mode AD.

Every op's `apply` (and `Function.apply`, and the backward engine for each node) checks
`node.op_watch.active` once. While no profiler runs and no dual level is open that flag is
False and ops pay nothing more. While it is True they come here:

* the profiler (`watchers.profiler`) opens an event before the op and closes it after;
* forward-mode AD (`watchers.forward_ad`) gives the result a tangent when an input has one;
* activation checkpointing (`watchers.capture`) notes the tensors requiring grad that a
  checkpointed function reads, and selective checkpointing (`watchers.selective`) keeps or
  reuses the results of the ops its policy saves (utils/checkpoint_selective.py);
* `allow_mutation_on_saved_tensors` (`watchers.mutation`) clones a saved tensor before an
  in-place op writes to its memory (autograd/saved_mutation.py).

While one op runs here the flag is switched off, so what happens inside it (view replays, the
computation of a tangent) runs as plain ops and is neither timed twice nor given tangents.
"""

from __future__ import annotations

import re
from typing import Any

from .node import Node
from .node import op_watch as _flag


class _Watchers:
    profiler: Any = None  # ember.profiler's recorder while it records
    forward_ad: Any = None  # ember.autograd.forward_ad's level while one is open
    capture: Any = None  # a checkpoint's forward: which outside tensors it reads
    selective: Any = None  # selective checkpointing's cache, while saving or reusing
    mutation: Any = None  # allow_mutation_on_saved_tensors' context, while it is open


watchers = _Watchers()


def update() -> None:
    """Switch the per-op check on exactly when someone watches."""
    w = watchers
    _flag.active = (w.profiler is not None or w.forward_ad is not None or
                    w.capture is not None or w.selective is not None or w.mutation is not None)


_NAMES: dict = {}
_SPECIAL = {"MatMul": "matmul", "LogSumExp": "logsumexp", "GetItem": "getitem"}


def op_name(cls: type) -> str:
    """The name an op shows in a profile: its class in snake case (Conv2d -> conv2d)."""
    name = _NAMES.get(cls)
    if name is None:
        name = _SPECIAL.get(cls.__name__) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_",
                                                    cls.__name__).lower()
        _NAMES[cls] = name
    return name


def _run_op(cls: type, args: tuple, kwargs: dict) -> Any:
    selective = watchers.selective
    if selective is not None and selective.handles(cls, args, kwargs):
        if watchers.capture is not None:
            watchers.capture.saw(op_name(cls), args)
        return selective.run(cls, args, kwargs)
    return _run_call(op_name(cls), cls.apply, args, kwargs)


def _run_call(name: str, fn: Any, args: tuple, kwargs: dict) -> Any:
    """An op written as a function that builds its graph node itself (e.g. `where`)."""
    recorder, forward_ad = watchers.profiler, watchers.forward_ad
    if watchers.capture is not None:
        watchers.capture.saw(name, args)
    _flag.active = False
    event = recorder.begin(name, args) if recorder is not None else None
    result = None
    try:
        if forward_ad is not None and forward_ad.has_tangent(args):
            result = forward_ad.apply_op(fn, args, kwargs)
        else:
            result = fn(*args, **kwargs)
    finally:
        if event is not None:
            recorder.end(event, result)
        update()
    return result


def _run_function(cls: type, args: tuple, kwargs: dict) -> Any:
    """A custom autograd.Function: the ops inside its forward are watched too (nested)."""
    recorder, forward_ad = watchers.profiler, watchers.forward_ad
    if watchers.capture is not None:
        watchers.capture.saw(cls.__name__, args)
    event = recorder.begin(cls.__name__, args) if recorder is not None else None
    result = None
    try:
        if forward_ad is not None and forward_ad.has_tangent(args):
            result = forward_ad.apply_function(cls, args, kwargs)
        else:
            result = cls._apply_with_ctx(args, kwargs)[0]
    finally:
        if event is not None:
            recorder.end(event, result)
    return result


def _run_inplace(t: Any, compute: Any, write: Any, *rest: Any) -> Any:
    """x.op_(...): saved copies are taken first; forward-mode AD moves the tangent onto the
    written tensor."""
    if watchers.mutation is not None:
        watchers.mutation.before_write(t)
    forward_ad = watchers.forward_ad
    if forward_ad is None:
        return write(t, compute, *rest)
    return forward_ad.run_inplace(t, compute, write, *rest)


def _run_backward(node: Node, grads: tuple) -> tuple:
    """One node of a backward pass; ops its formula records (create_graph) nest inside."""
    recorder = watchers.profiler
    if recorder is None:
        return node.run_backward(grads)
    event = recorder.begin(node.name(), grads)
    result = None
    try:
        result = node.run_backward(grads)
    finally:
        recorder.end(event, result)
    return result


_flag.run_op = _run_op  # type: ignore[method-assign]
_flag.run_call = _run_call  # type: ignore[method-assign]
_flag.run_function = _run_function  # type: ignore[method-assign]
_flag.run_inplace = _run_inplace  # type: ignore[method-assign]
_flag.run_backward = _run_backward  # type: ignore[method-assign]
