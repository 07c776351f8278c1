"""Check 1, `train_mode_inference`: a model run under no_grad() while still in training mode.

`Module.__call__` hands the call here only when grad is off, the module is in training mode
and the check is on. The outermost such call is examined (its submodules' calls go straight
through), and it warns when the model

* has trainable parameters (a frozen teacher or an EMA copy is left alone), and
* holds active layers: Dropout with p > 0, or BatchNorm tracking running statistics that is
  not being recalibrated. Recalibration (torch.optim.swa_utils.update_bn style) is legitimate:
  `momentum=None`, or running statistics that were just reset (`num_batches_tracked == 0`) and
  have only been updated by these no_grad passes since.

A module in eval mode whose own submodules were switched back to training (Monte-Carlo dropout
done the explicit way) is not examined: the outermost module decides.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.dropout import _DropoutNd
from ..nn.modules.module import Module
from .config import already_reported, emit
from .where import is_internal, short_list, user_site

CHECK = "train_mode_inference"
_local = threading.local()
_recalibrating: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # bn -> batches seen
_CALL_CODES = (Module.__call__.__code__, Module._call_with_hooks.__code__)


def forget() -> None:
    _recalibrating.clear()


def _plain_call(module: Any, args: tuple, kwargs: dict) -> Any:
    if not (module._forward_pre_hooks or module._forward_hooks):
        return module.forward(*args, **kwargs)
    return module._call_with_hooks(args, kwargs)


def _nested() -> bool:
    """Whether this module call runs inside another module's call (its parent decides)."""
    calls = 0
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code in _CALL_CODES:
            calls += 1
            if calls == 2:
                return True
        frame = frame.f_back
    return False


def no_grad_call(module: Any, args: tuple, kwargs: dict) -> Any:
    """Module.__call__ for a module in training mode while grad is off."""
    if (getattr(_local, "busy", False) or is_internal(sys._getframe(3).f_code)
            or _nested()):  # a submodule, or Ember's own deliberate call (ember.summary)
        return _plain_call(module, args, kwargs)
    _local.busy = True
    try:
        recalibrating = _examine(module)
        out = _plain_call(module, args, kwargs)
    finally:
        _local.busy = False
    for bn in recalibrating:  # remember where its statistics stand after this pass
        _recalibrating[bn] = int(bn.num_batches_tracked._data)
    return out


def _is_recalibrating(bn: Any) -> bool:
    if bn.momentum is None:
        return True
    batches = int(bn.num_batches_tracked._data)
    return batches == 0 or _recalibrating.get(bn) == batches


def _examine(module: Any) -> list:
    """Warn if `module` has active Dropout/BatchNorm; return its recalibrating BatchNorms."""
    if not any(p._requires_grad for p in module.parameters()):
        return []
    active, recalibrating = [], []
    for name, sub in module.named_modules():
        if not sub.training:
            continue
        if isinstance(sub, _DropoutNd) and sub.p > 0:
            active.append((name, sub))
        elif (isinstance(sub, _BatchNorm) and sub.track_running_stats
              and sub.num_batches_tracked is not None):
            if _is_recalibrating(sub):
                recalibrating.append(sub)
            else:
                _recalibrating.pop(sub, None)
                active.append((name, sub))
    if not active:
        return recalibrating
    site = user_site()
    if not already_reported(CHECK, site):
        emit(CHECK, _message(module, active), site)
    return recalibrating


def _message(module: Any, active: list) -> str:
    def label(name: str, sub: Any) -> str:
        kind = type(sub).__name__
        detail = f"{kind}, p={sub.p}" if isinstance(sub, _DropoutNd) else kind
        return f"{name or '(the model itself)'} ({detail})"

    dropout = any(isinstance(sub, _DropoutNd) for _, sub in active)
    batchnorm = any(isinstance(sub, _BatchNorm) for _, sub in active)
    kinds = " and ".join(k for k, present in (("Dropout", dropout), ("BatchNorm", batchnorm))
                         if present)
    why = []
    if dropout:
        why.append("Dropout zeroes a random share of the activations on every call, so the "
                   "outputs are noisy and the scores lower than the model's real ones")
    if batchnorm:
        why.append("BatchNorm normalizes with the statistics of the batch at hand instead of "
                   "its running averages, and folds this data into those averages, changing "
                   "the model")
    return (
        f"{type(module).__name__} was called under no_grad() while in training mode: its "
        f"{kinds} layers are active: {short_list([label(n, s) for n, s in active])}.\n"
        f"  Why it matters: in training mode {'; '.join(why)}.\n"
        "  Fix: call model.eval() before evaluating or predicting, and model.train() before "
        "training again. If this is deliberate (Monte-Carlo dropout), wrap it in "
        "`with ember.doctor.silence(\"train_mode_inference\"):`."
    )
