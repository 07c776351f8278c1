"""DataParallel: torch's single-process multi-GPU wrapper, as a pass-through on one device.

torch splits each batch across `device_ids`, runs a replica per GPU and gathers the outputs;
the result equals running the module on the whole batch (up to BatchNorm's per-replica
statistics). Ember runs the whole batch on `device_ids[0]`, so scripts that wrap their model
keep working and their `state_dict` keeps torch's `module.` prefix.
"""

from __future__ import annotations

from typing import Any

from ... import backend
from ...tensor import Tensor
from ..modules.module import Module


def _to(obj: Any, device: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


class DataParallel(Module):
    """Wraps `module`; forward moves the inputs to device_ids[0] and runs the module there."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.dim = dim
        if device_ids is None:
            device_ids = list(range(backend.cuda_device_count()))
        self.device_ids = [d.index or 0 if isinstance(d, backend.device) else int(d)
                           for d in device_ids]
        self.output_device = (self.device_ids[0] if output_device is None and self.device_ids
                              else output_device)
        self.src_device_obj = (backend.device("cuda", self.device_ids[0]) if self.device_ids
                               else backend.CPU)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:  # no GPU: torch's DataParallel calls the module as is
            return self.module(*inputs, **kwargs)
        for p in self.module.parameters():
            if p.device != self.src_device_obj:
                raise RuntimeError(f"module must have its parameters and buffers on device "
                                   f"{self.src_device_obj} (device_ids[0]) but found one of "
                                   f"them on device: {p.device}")
        out = self.module(*_to(inputs, self.src_device_obj), **_to(kwargs, self.src_device_obj))
        if self.output_device is not None and self.output_device != self.device_ids[0]:
            out = _to(out, backend.as_device(self.output_device))
        return out
