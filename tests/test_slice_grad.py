"""Gradients of slices (autograd/slice_grad.py): the engine keeps a slice's gradient unwritten
until it meets the others of the same tensor, then writes them at once. Every way they meet
is compared with torch: pieces that tile the tensor (split, chunk, unbind), pieces that do not
cover it or overlap, pieces meeting ordinary gradients in either order, and a tensor whose
gradient is looked at on the way (hooks, retain_grad, autograd.grad, a multi-output node)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.autograd.slice_grad import SliceGrad, materialized

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 12)).astype(np.float32)


def _grads(fn, x=X):
    """d(fn(lib, t))/dt for Ember and torch, t a non-leaf made from a leaf (so its gradient
    passes through the engine's buffers) and the leaf itself."""
    out = []
    for lib in (ember, torch):
        leaf = lib.tensor(x, requires_grad=True)
        fn(lib, leaf * 1.0).backward()
        direct = lib.tensor(x, requires_grad=True)
        fn(lib, direct).backward()
        out.append((leaf.grad.numpy(), direct.grad.numpy()))
    return out


def _weights(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _weighted(lib, *pieces):
    """sum of each piece times its own fixed random weights (a distinct gradient per piece)."""
    return sum((p * lib.tensor(_weights(tuple(p.shape), i))).sum() for i, p in enumerate(pieces))


CASES = {
    "split tiles the last dim": lambda m, t: _weighted(m, *t.split(4, dim=2)),
    "split with sizes, middle dim": lambda m, t: _weighted(m, *t.split([1, 2, 1], dim=1)),
    "chunk": lambda m, t: _weighted(m, *t.chunk(3, dim=0)),
    "unbind (integer keys)": lambda m, t: _weighted(m, *t.unbind(1)),
    "two of three pieces (zeros left)": lambda m, t: _weighted(m, *t.split(4, dim=2)[::2]),
    "overlapping slices": lambda m, t: _weighted(m, t[:, :3], t[:, 1:], t[..., 2:7]),
    "strided and stepped slices": lambda m, t: _weighted(m, t[:, ::2], t[:, 1::2], t[::2, :, 3]),
    "slices then a whole-tensor use": lambda m, t: _weighted(m, *t.split(6, dim=2), t * t),
    "a whole-tensor use then slices": lambda m, t: _weighted(m, t.exp(), *t.split(6, dim=2)),
    "slices of slices": lambda m, t: _weighted(m, *t[:, 1:].split(3, dim=1), t[:, 0]),
    "narrow and select": lambda m, t: _weighted(m, t.narrow(2, 3, 5), t.select(1, 2), t[0]),
    "unsqueezing keys": lambda m, t: _weighted(m, t[None, :, 1], t[:, None, :, 4:]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_slice_gradients_match_torch(name):
    (e_via, e_leaf), (t_via, t_leaf) = _grads(CASES[name])
    np.testing.assert_allclose(e_via, t_via, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e_leaf, t_leaf, rtol=1e-6, atol=1e-6)


def test_float64_and_float16_slices():
    for dtype in (np.float64, np.float16):
        (e_via, e_leaf), (t_via, t_leaf) = _grads(CASES["overlapping slices"], X.astype(dtype))
        assert e_via.dtype == dtype and e_leaf.dtype == dtype
        np.testing.assert_allclose(e_via, t_via, rtol=1e-3, atol=1e-3)


def test_hooks_retain_grad_and_autograd_grad_see_whole_arrays():
    results = []
    for lib in (ember, torch):
        leaf = lib.tensor(X, requires_grad=True)
        base = leaf * 2.0
        base.retain_grad()
        seen = []
        base.register_hook(lambda g, seen=seen: seen.append(g.clone()))
        loss = _weighted(lib, *base.split(4, dim=2))
        (g_base,) = lib.autograd.grad(loss, base, retain_graph=True)
        loss.backward()
        results.append((seen[0].numpy(), base.grad.numpy(), g_base.numpy(), leaf.grad.numpy()))
        assert type(seen[0]) is lib.Tensor and type(base.grad) is lib.Tensor
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_slices_of_a_multi_output_node():
    """An LSTM's outputs come from one node with several slots: their slices' gradients are
    written out before they enter a slot."""
    x = RNG.standard_normal((5, 2, 3)).astype(np.float32)
    torch.manual_seed(0)
    lstms = {torch: torch.nn.LSTM(3, 4), ember: ember.nn.LSTM(3, 4)}
    ember_params = dict(lstms[ember].named_parameters())
    for name, p in lstms[torch].named_parameters():  # the same weights in both
        ember_params[name].data = ember.tensor(p.detach().numpy())
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        out, (h, c) = lstms[lib](t)
        _weighted(lib, *out.split(2, dim=2), h[:, 1], c[0, :, 2:]).backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_slice_grad_writes_out_as_scatter_does():
    values = [RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(3)]
    tiled = SliceGrad((3, 12), (slice(None), slice(0, 4)), values[0])
    for i in (1, 2):
        assert tiled.merge(SliceGrad((3, 12), (slice(None), slice(4 * i, 4 * i + 4)),
                                     values[i]))
    np.testing.assert_array_equal(materialized(tiled), np.concatenate(values, axis=1))
    overlapping = SliceGrad((3, 6), (slice(None), slice(0, 4)), values[0])
    assert overlapping.merge(SliceGrad((3, 6), (slice(None), slice(2, 6)), values[1]))
    want = np.zeros((3, 6), np.float32)
    want[:, :4] += values[0]
    want[:, 2:] += values[1]
    np.testing.assert_array_equal(overlapping.materialize(), want)
    assert not overlapping.merge(SliceGrad((3, 7), (slice(None), slice(0, 4)), values[0]))
    assert materialized(want) is want
