"""Run the same code on Ember and on PyTorch and compare forward values and every gradient.

    compare(lambda m, x, y: m.maximum(x, y), [(3, 4), (4,)])

`m` is the module (`ember` or `torch`); tensor arguments are built from the same random numbers
for both. The outputs are compared, then both are back-propagated with the same *random*
upstream gradient (an all-ones gradient hides transposition and broadcasting bugs) and every
input's `.grad` is compared.
"""

from __future__ import annotations

import os

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

import ember

# EMBER_TEST_DEVICE=cuda runs every comparison with Ember's tensors on the GPU (torch stays on
# the CPU as the oracle), so the op table checks the CuPy path too.
DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
if DEVICE != "cpu":  # tensors a test makes itself (masks, constants) go there too
    ember.set_default_device(DEVICE)

TOLERANCES = {  # (rtol, atol) per dtype
    "float16": (1e-2, 1e-2),
    "float32": (1e-4, 1e-5),
    "float64": (1e-9, 1e-10),
    "complex64": (1e-4, 1e-5),
    "complex128": (1e-9, 1e-10),
}


@dataclass
class Input:
    """One tensor argument: its shape, value range, dtype override and whether it needs grad."""

    shape: tuple
    low: float = -2.0
    high: float = 2.0
    dtype: str | None = None  # None: the dtype under test
    grad: bool = True
    integer: bool = False  # integer values in [low, high) (indices, counts)
    values: Any = None  # fixed values (e.g. index tensors)


def as_input(spec: Any) -> Input:
    if isinstance(spec, Input):
        return spec
    return Input(tuple(spec))


def make_arrays(specs: Sequence[Any], dtype: str, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in map(as_input, specs):
        if spec.values is not None:
            arrays.append(np.asarray(spec.values))
            continue
        d = spec.dtype or dtype
        if spec.integer:
            arrays.append(rng.integers(int(spec.low), int(spec.high), size=spec.shape).astype(d))
        elif d == "bool":
            arrays.append(rng.random(spec.shape) < 0.5)
        elif np.dtype(d).kind == "c":  # real and imaginary parts each in [low, high)
            parts = rng.uniform(spec.low, spec.high, size=(2, *spec.shape))
            arrays.append((parts[0] + 1j * parts[1]).astype(d))
        else:
            arrays.append(rng.uniform(spec.low, spec.high, size=spec.shape).astype(d))
    return arrays


def _leaves(arrays: list, specs: list, lib: Any) -> list:
    out = []
    for arr, spec in zip(arrays, specs):
        t = lib.tensor(arr.copy()) if lib is torch else lib.tensor(arr.copy(), device=DEVICE)
        if spec.grad and arr.dtype.kind in "fc":
            t.requires_grad_(True)
        out.append(t)
    return out


def _flatten_outputs(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        items = []
        for o in out:
            items.extend(_flatten_outputs(o))
        return items
    return [out]


def to_numpy(t: Any) -> Any:
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().numpy()  # torch's conj() is a lazy view
    if isinstance(t, ember.Tensor):
        return t.detach().cpu().numpy()
    return t


def assert_close(actual: Any, expected: Any, rtol: float, atol: float, what: str) -> None:
    a, e = to_numpy(actual), to_numpy(expected)
    if isinstance(e, np.ndarray):
        assert isinstance(a, np.ndarray), f"{what}: expected an array, got {type(a).__name__}"
        assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
        assert str(a.dtype) == str(e.dtype), f"{what}: dtype {a.dtype} != torch's {e.dtype}"
        if e.dtype.kind in "biu":
            np.testing.assert_array_equal(a, e, err_msg=what)
        else:
            wide = np.complex128 if e.dtype.kind == "c" else np.float64
            np.testing.assert_allclose(a.astype(wide), e.astype(wide), rtol=rtol,
                                       atol=atol, err_msg=what, equal_nan=True)
    else:
        assert a == e or (np.isnan(a) and np.isnan(e)), f"{what}: {a!r} != torch's {e!r}"


def compare(
    fn: Callable,
    specs: Sequence[Any],
    dtype: str = "float32",
    rtol: float | None = None,
    atol: float | None = None,
    grad: bool = True,
    seed: int = 0,
) -> None:
    """Assert that fn(ember, *inputs) matches fn(torch, *inputs) in values and gradients."""
    specs = [as_input(s) for s in specs]
    default_rtol, default_atol = TOLERANCES.get(dtype, (1e-4, 1e-5))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    arrays = make_arrays(specs, dtype, seed)
    t_in = _leaves(arrays, specs, torch)
    e_in = _leaves(arrays, specs, ember)
    t_out = _flatten_outputs(fn(torch, *t_in))
    e_out = _flatten_outputs(fn(ember, *e_in))
    assert len(t_out) == len(e_out), f"{len(e_out)} outputs, torch has {len(t_out)}"
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        assert_close(e, t, rtol, atol, f"output {i}")
    if not grad:
        return
    rng = np.random.default_rng(seed + 1)
    t_diff, e_diff, grads = [], [], []
    for e, t in zip(e_out, t_out):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert isinstance(e, ember.Tensor) and e.requires_grad, \
                "torch's output requires grad but Ember's does not"
            g = rng.uniform(-1, 1, size=tuple(t.shape))
            if t.is_complex():
                g = g + 1j * rng.uniform(-1, 1, size=tuple(t.shape))
            g = g.astype(str(t.dtype).split(".")[-1])
            t_diff.append(t)
            e_diff.append(e)
            grads.append(g)
    if not t_diff:
        return
    torch.autograd.backward(t_diff, [torch.tensor(g) for g in grads])
    ember.autograd.backward(e_diff, [ember.tensor(g, device=DEVICE) for g in grads])
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert e.grad is None or not np.any(to_numpy(e.grad)), \
                f"input {i}: Ember has a gradient where torch has none"
            continue
        assert e.grad is not None, f"input {i}: no gradient (torch has one)"
        assert_close(e.grad, t.grad, rtol, atol, f"gradient of input {i}")


def gradcheck(fn: Callable, specs: Sequence[Any], seed: int = 0, **kwargs: Any) -> None:
    """Ember's own gradcheck (float64 central differences) on fn(ember, *inputs)."""
    specs = [as_input(s) for s in specs]
    arrays = make_arrays(specs, "float64", seed)
    inputs = _leaves(arrays, specs, ember)

    def run(*xs: Any) -> Any:
        out = _flatten_outputs(fn(ember, *xs))
        return tuple(o for o in out if isinstance(o, ember.Tensor) and o.is_floating_point())

    assert ember.autograd.gradcheck(run, tuple(inputs), **kwargs)
