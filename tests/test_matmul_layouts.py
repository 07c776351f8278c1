"""Stacked products whose right operand is a transposed view (attention's q @ k^T): small
matrices are copied to contiguous memory first (ops/_util.right_operand). Values and gradients
must not depend on that choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.ops._util as util


@pytest.mark.parametrize("copy_below", [util.SMALL_MATRIX, 0])
@pytest.mark.parametrize("shapes", [
    ((3, 2, 5, 4), (3, 2, 6, 4)),  # q @ k^T, per-head matrices
    ((2, 5, 4), (6, 4)),  # a broadcast right operand (stride 0 over the batch)
    ((4, 70, 64), (4, 80, 64)),  # matrices above the copy threshold
])
def test_products_with_a_transposed_right_operand_match_torch(monkeypatch, copy_below, shapes):
    monkeypatch.setattr(util, "SMALL_MATRIX", copy_below)
    rng = np.random.RandomState(0)
    a, b = (rng.randn(*s).astype(np.float32) for s in shapes)
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = x @ y.transpose(-2, -1)
        weight = lib.tensor(rng.randn(*out.shape).astype(np.float32))
        (out * weight).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
        rng = np.random.RandomState(0)
        a, b = (rng.randn(*s).astype(np.float32) for s in shapes)
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_right_operand_copies_only_small_transposed_stacks():
    stack = np.zeros((8, 32, 64), np.float32)
    assert util.right_operand(np, stack.swapaxes(-1, -2)).flags.c_contiguous
    assert util.right_operand(np, stack) is stack  # rows already contiguous
    big = np.zeros((2, 128, 128), np.float32).swapaxes(-1, -2)
    assert util.right_operand(np, big) is big
    broadcast = np.broadcast_to(np.zeros((4, 3), np.float32).T, (5, 3, 4))
    assert util.right_operand(np, broadcast) is broadcast  # would materialise the batch
