"""Compare an Ember layer with the same torch layer, torch's weights copied in.

    compare_module(lambda m: m.nn.Linear(3, 4), [(2, 3)])

`m` is `torch` or `ember`. The torch module's state_dict is loaded into the Ember module as is
(torch tensors), both run the same input, and outputs, input gradients, parameter gradients and
buffers (e.g. BatchNorm's running statistics) are compared.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

import ember
from conformance import DEVICE, TOLERANCES, _flatten_outputs, _leaves, as_input, assert_close, make_arrays


def build_pair(make: Callable, dtype: str = "float32") -> tuple:
    torch.manual_seed(0)
    t_mod = make(torch)
    e_mod = make(ember)
    if dtype == "float64":
        t_mod = t_mod.double()
        e_mod = e_mod.double()
    result = e_mod.load_state_dict(t_mod.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    return t_mod, e_mod.to(DEVICE)


def compare_module(make: Callable, specs: Sequence[Any], dtype: str = "float32",
                   train: bool = True, rtol: float | None = None, atol: float | None = None,
                   steps: int = 1, call: Callable | None = None, seed: int = 0) -> tuple:
    """Run both modules `steps` times on the same inputs and compare everything."""
    t_mod, e_mod = build_pair(make, dtype)
    t_mod.train(train)
    e_mod.train(train)
    default_rtol, default_atol = TOLERANCES[dtype]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    specs = [as_input(s) for s in specs]
    call = call or (lambda mod, *xs: mod(*xs))
    for step in range(steps):
        arrays = make_arrays(specs, dtype, seed + step)
        t_in = _leaves(arrays, specs, torch)
        e_in = _leaves(arrays, specs, ember)
        t_out = _flatten_outputs(call(t_mod, *t_in))
        e_out = _flatten_outputs(call(e_mod, *e_in))
        for i, (e, t) in enumerate(zip(e_out, t_out)):
            assert_close(e, t, rtol, atol, f"step {step}: output {i}")
        rng = np.random.default_rng(seed + 100 + step)
        t_diff = [o for o in t_out if isinstance(o, torch.Tensor) and o.requires_grad]
        e_diff = [o for o in e_out if isinstance(o, ember.Tensor) and o.requires_grad]
        assert len(t_diff) == len(e_diff), "differentiable outputs differ from torch's"
        if t_diff:
            grads = [rng.uniform(-1, 1, size=tuple(o.shape)).astype(dtype) for o in t_diff]
            torch.autograd.backward(t_diff, [torch.tensor(g) for g in grads])
            ember.autograd.backward(e_diff, [ember.tensor(g, device=DEVICE) for g in grads])
            for i, (e, t) in enumerate(zip(e_in, t_in)):
                if t.requires_grad:
                    assert_close(e.grad, t.grad, rtol, atol, f"step {step}: input {i} grad")
            e_params = dict(e_mod.named_parameters())
            for name, tp in t_mod.named_parameters():
                ep = e_params[name]
                if tp.grad is None:
                    assert ep.grad is None, f"{name}: Ember has a gradient, torch has none"
                else:
                    assert_close(ep.grad, tp.grad, rtol, atol, f"step {step}: {name}.grad")
        e_buffers = dict(e_mod.named_buffers())
        for name, tb in t_mod.named_buffers():
            assert_close(e_buffers[name], tb, rtol, atol, f"step {step}: buffer {name}")
    return t_mod, e_mod
