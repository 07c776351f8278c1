"""nn.utils.prune against torch: masks, parameter/buffer layout, gradients, remove."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import ember
import ember.nn.utils.prune as eprune


def _pair(make):
    torch.manual_seed(0)
    t = make(torch)
    e = make(ember)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return t, e


STEPS = {
    "l1_fraction": lambda p, m: p.l1_unstructured(m, "weight", amount=0.3),
    "l1_count_twice": lambda p, m: (p.l1_unstructured(m, "weight", amount=3),
                                    p.l1_unstructured(m, "weight", amount=0.5)),
    "ln_structured_dim0": lambda p, m: p.ln_structured(m, "weight", amount=0.34, n=2, dim=0),
    "ln_structured_l1_dim1": lambda p, m: p.ln_structured(m, "weight", amount=1, n=1, dim=1),
    "l1_then_structured": lambda p, m: (p.l1_unstructured(m, "weight", amount=4),
                                        p.ln_structured(m, "weight", amount=1, n=2, dim=0)),
    "identity_bias": lambda p, m: p.identity(m, "bias"),
    "custom_mask": lambda p, m: p.custom_from_mask(
        m, "weight", (torch if p is tprune else ember).tensor(
            (np.arange(12).reshape(3, 4) % 3 != 0).astype(np.float32))),
}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_pruning_matches_torch(name) -> None:
    t, e = _pair(lambda m: m.nn.Linear(4, 3))
    STEPS[name](tprune, t)
    STEPS[name](eprune, e)
    assert sorted(dict(e.named_parameters())) == sorted(dict(t.named_parameters()))
    assert sorted(dict(e.named_buffers())) == sorted(dict(t.named_buffers()))
    for key, tv in t.named_buffers():
        np.testing.assert_array_equal(dict(e.named_buffers())[key].numpy(), tv.numpy())
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    oe, ot = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-6)
    oe.sum().backward()
    ot.sum().backward()
    for key, tp in t.named_parameters():
        np.testing.assert_allclose(dict(e.named_parameters())[key].grad.numpy(),
                                   tp.grad.numpy(), rtol=1e-6)
    assert eprune.is_pruned(e) and tprune.is_pruned(t)
    pruned = "bias" if name == "identity_bias" else "weight"
    eprune.remove(e, pruned)
    tprune.remove(t, pruned)
    assert not eprune.is_pruned(e)
    assert sorted(e.state_dict()) == sorted(t.state_dict())
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy())


def test_global_unstructured_matches_torch() -> None:
    t, e = _pair(lambda m: m.nn.Sequential(m.nn.Linear(4, 3), m.nn.ReLU(), m.nn.Linear(3, 2)))
    tprune.global_unstructured([(t[0], "weight"), (t[2], "weight")],
                               pruning_method=tprune.L1Unstructured, amount=0.4)
    eprune.global_unstructured([(e[0], "weight"), (e[2], "weight")],
                               pruning_method=eprune.L1Unstructured, amount=0.4)
    for i in (0, 2):
        np.testing.assert_array_equal(e[i].weight_mask.numpy(), t[i].weight_mask.numpy())


def test_random_pruning_counts_and_errors_follow_torch() -> None:
    e = ember.nn.Linear(10, 6)
    eprune.random_unstructured(e, "weight", amount=0.25)
    assert int((e.weight_mask == 0).sum().item()) == 15
    eprune.random_structured(e, "weight", amount=2, dim=0)
    rows_off = (e.weight_mask.sum(1) == 0).sum().item()
    assert rows_off >= 2
    for lib, p in ((torch, tprune), (ember, eprune)):
        m = lib.nn.Linear(3, 2)
        with pytest.raises(ValueError):
            p.l1_unstructured(m, "weight", amount=1.5)
        with pytest.raises(TypeError):
            p.l1_unstructured(m, "weight", amount="a")
        with pytest.raises(ValueError):
            p.remove(lib.nn.Linear(3, 2), "weight")
        with pytest.raises(ValueError):
            p.ln_structured(lib.nn.Linear(3, 2), "bias", amount=1, n=2, dim=0)
