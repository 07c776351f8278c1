"""Where a finding happened: the user's call site, the source line, parameter names.

The user's frame is the first one, from the innermost outwards, whose code is not Ember's
machinery. Ember's `training/` and `models/` folders count as user code: they are the kind of
code a user writes (a training loop, a model), so `ember train` gets useful locations too.
"""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

from .flags import flags

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_USER_LIKE = tuple(_EMBER_DIR + d + os.sep for d in ("training", "models"))
_internal: dict = {}  # code object -> bool


def is_internal(code: Any) -> bool:
    """Whether a code object belongs to Ember's machinery (not to user-like code)."""
    known = _internal.get(code)
    if known is None:
        filename = os.path.abspath(code.co_filename)
        known = filename.startswith(_EMBER_DIR) and not filename.startswith(_USER_LIKE)
        if len(_internal) > 100_000:
            _internal.clear()
        _internal[code] = known
    return known


def user_frame() -> Any:
    """The innermost frame outside Ember's machinery (None if every frame is Ember's)."""
    frame = sys._getframe(1)
    while frame is not None and is_internal(frame.f_code):
        frame = frame.f_back
    return frame


def site_of(frame: Any) -> tuple:
    """(filename, lineno) of a frame, or of the outermost frame if none is the user's."""
    if frame is None:
        frame = sys._getframe(1)
        while frame.f_back is not None:
            frame = frame.f_back
    return frame.f_code.co_filename, frame.f_lineno


def user_site() -> tuple:
    """(filename, lineno) of the user's code that led here."""
    return site_of(user_frame())


def source_line(site: tuple) -> str:
    line = linecache.getline(site[0], site[1]).strip()
    return line


def describe(site: tuple) -> str:
    """`train.py:31 (loss = loss_fn(model(x), y))` for messages and the report."""
    line = source_line(site)
    place = f"{os.path.basename(site[0])}:{site[1]}"
    return f"{place} ({line})" if line else place


# ---------------------------------------------------------------------------------------------
# Naming parameters and layers
# ---------------------------------------------------------------------------------------------


def _owner(params: list, context: list) -> Any:
    """The live module that holds the most of `params`, then of `context` (ties: the biggest,
    i.e. the root model, whose names are the full dotted paths)."""
    wanted = {id(p) for p in params}
    around = {id(p) for p in context}
    best, best_key = None, (0, 0, 0, 0)
    for module in list(flags.modules):
        ids = [id(p) for p in module.parameters()]
        key = (sum(1 for i in ids if i in wanted), sum(1 for i in ids if i in around), len(ids),
               sum(1 for _ in module.modules()))  # a container outranks the layer it holds
        if key[0] and key > best_key:
            best, best_key = module, key
    return best


def param_names(params: list, context: list | None = None,
                optimizer: Any = None) -> list[str]:
    """Dotted names (`encoder.0.weight`) for `params`, found in the model that holds
    `context` (the optimizer's parameters); a shape for a parameter no module holds."""
    names: dict = {}
    if optimizer is not None:
        for group in optimizer.param_groups:
            for name, p in zip(group.get("param_names", ()), group["params"], strict=False):
                names[id(p)] = name
    unnamed = [p for p in params if id(p) not in names]
    while unnamed:  # each round names what the best-placed model holds
        owner = _owner(unnamed, context or params)
        if owner is None:
            break
        for name, p in owner.named_parameters():
            names.setdefault(id(p), name)
        unnamed = [p for p in unnamed if id(p) not in names]
    return [names.get(id(p), f"<parameter of shape {tuple(p.shape)}>") for p in params]


def module_name(module: Any) -> str:
    """`net.2 (ReLU)`: a module's dotted path in the biggest live model that holds it."""
    best_size, path = -1, None
    for root in list(flags.modules):
        for name, sub in root.named_modules():
            if sub is module and name:
                size = sum(1 for _ in root.modules())
                if size > best_size:
                    best_size, path = size, name
                break
    kind = type(module).__name__
    return f"{path} ({kind})" if path else kind


def short_list(names: list[str], limit: int = 6) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
