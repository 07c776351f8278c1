"""Inference tensors (torch.inference_mode): tensors made inside `inference_mode()` are marked,
`is_inference()` reports it, and autograd refuses to save one for a backward outside the mode
(its values may be changed without version tracking, so a gradient computed from it could be
silently wrong: torch's rule).

The mark is a weak map id -> tensor (not a WeakSet: its lookups compare tensors with ==,
which is elementwise), not a tensor field. Tensor._make reads one module global (set while an
inference_mode() region is open) before looking at the thread-local grad state, which would
cost ~35 ns per tensor; `seen` stays False until the first inference tensor exists, so a
program that never uses inference mode never looks in the map.
"""

from __future__ import annotations

import importlib
import weakref
from typing import Any

tensors: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
state = {"seen": False, "regions": 0}


def enter_region() -> None:
    """An inference_mode(True) region opens (in any thread: each tensor made while one is open
    also checks its own thread's grad state, so other threads' tensors stay normal)."""
    state["regions"] += 1
    _tell_tensor_module(True)


def exit_region() -> None:
    state["regions"] = max(0, state["regions"] - 1)
    _tell_tensor_module(state["regions"] > 0)


def _tell_tensor_module(open_: bool) -> None:
    """Set tensor.py's _INFERENCE, the global its Tensor._make reads (3 ns)."""
    # the module, not ember.tensor the function; imported here: tensor.py imports this module
    importlib.import_module("..tensor", __package__)._INFERENCE = open_


def mark(t: Any) -> None:
    """t was made inside inference_mode()."""
    tensors[id(t)] = t
    state["seen"] = True


def follow(view: Any, base: Any) -> None:
    """A view is an inference tensor exactly when the tensor it views is one (torch: a view of
    a normal tensor made inside inference_mode() stays normal)."""
    if tensors.get(id(base)) is base:
        tensors[id(view)] = view
    elif tensors.get(id(view)) is view:
        del tensors[id(view)]


def is_inference(t: Any) -> bool:
    return state["seen"] and tensors.get(id(t)) is t


def check_saved(refs: tuple) -> None:
    """Raise torch's error if a node's saved tensors (its `_saved_refs`: (tensor, version) or
    None) include an inference tensor."""
    for ref in refs:
        if ref is not None:
            t = ref[0]
            if tensors.get(id(t)) is t:
                raise RuntimeError("Inference tensors cannot be saved for backward. To work "
                                   "around you can make a clone to get a normal tensor and use "
                                   "it in autograd.")
