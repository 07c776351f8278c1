"""F.linear_cross_entropy / nn.LinearCrossEntropyLoss against torch: the reference path and the
chunked path (activation-checkpointed chunks) give torch's losses and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import assert_close

import ember

CASES = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"label_smoothing": 0.2},
    {"ignore_index": 1},
    {"weight": True},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
    {"bias": True},
]


def _run(lib, case, chunk):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((7, 4)), requires_grad=True)
    w = lib.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    b = lib.tensor(rng.standard_normal(6), requires_grad=True) if case.get("bias") else None
    t = lib.tensor([0, 1, 2, 5, 1, 3, 2])
    kw = {k: v for k, v in case.items() if k not in ("bias", "weight")}
    if case.get("weight"):
        kw["weight"] = lib.tensor(rng.uniform(0.5, 2.0, 6))
    if chunk and lib is ember:
        kw["options"] = ember.nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
    loss = lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, **kw)
    loss.sum().backward()
    return [loss, x.grad, w.grad] + ([b.grad] if b is not None else [])


@pytest.mark.parametrize("chunk", [None, 3, 100])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_linear_cross_entropy_matches_torch(case, chunk) -> None:
    if chunk and case.get("reduction") == "none":
        with pytest.warns(UserWarning, match="reference path"):
            got = _run(ember, case, chunk)
    else:
        got = _run(ember, case, chunk)
    for i, (e, t) in enumerate(zip(got, _run(torch, case, None))):
        assert_close(e, t, 1e-10, 1e-12, f"output {i}")


def test_k_dimensional_and_unbatched_forms_match_torch() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((4, 2, 3))
    t = rng.integers(0, 4, (5, 2))
    out = {}
    for lib in (ember, torch):
        xe = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.linear_cross_entropy(xe, lib.tensor(w), lib.tensor(t))
        loss.backward()
        one = lib.nn.functional.linear_cross_entropy(lib.tensor(x[0]), lib.tensor(w[:, 0]),
                                                     lib.tensor(2))
        probs = lib.softmax(lib.tensor(rng.standard_normal((5, 4))), 1)
        soft = lib.nn.functional.linear_cross_entropy(lib.tensor(x), lib.tensor(w[:, 0]), probs)
        out[lib.__name__] = (loss, xe.grad, one, soft)
        rng = np.random.default_rng(1)
        rng.standard_normal((5, 3)), rng.standard_normal((4, 2, 3)), rng.integers(0, 4, (5, 2))
    for e, t in zip(out["ember"], out["torch"]):
        assert_close(e, t, 1e-10, 1e-12, "K-dim / unbatched / probabilities")


def test_linear_cross_entropy_loss_module_matches_torch() -> None:
    tm = torch.nn.LinearCrossEntropyLoss(4, 5, out_features=(2,), bias=True,
                                         weight=torch.rand(5, dtype=torch.float64) + 0.5,
                                         dtype=torch.float64)
    em = ember.nn.LinearCrossEntropyLoss(4, 5, out_features=(2,), bias=True,
                                         weight=ember.ones(5, dtype=ember.float64),
                                         dtype=ember.float64)
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((6, 4))
    t = np.random.default_rng(3).integers(0, 5, (6, 2))
    le, lt = em(ember.tensor(x), ember.tensor(t)), tm(torch.tensor(x), torch.tensor(t))
    le.backward()
    lt.backward()
    assert_close(le, lt, 1e-10, 1e-12, "loss")
    assert_close(em.linear.weight.grad, tm.linear.weight.grad, 1e-10, 1e-12, "weight grad")
    assert "LinearCrossEntropyLoss" in repr(em) and "(linear): Linear" in repr(em)


def test_chunked_path_keeps_one_chunk_of_logits() -> None:
    """Backward recomputes the logits chunk by chunk: the (N, C) logits are not kept, so the
    memory held between forward and backward is a small fraction of the reference path's."""
    import tracemalloc

    x = ember.randn(512, 8, requires_grad=True)
    w = ember.randn(2000, 8, requires_grad=True)
    t = ember.randint(0, 2000, (512,))
    held = {}
    for name, opts in (("reference", None),
                       ("chunked", ember.nn.LinearCrossEntropyOptions(batch_chunk_size=32))):
        tracemalloc.start()
        loss = ember.nn.functional.linear_cross_entropy(x, w, t, options=opts)
        held[name] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        loss.backward()
        held[name + " loss"] = loss
    assert held["chunked"] * 8 < held["reference"], held
    assert_close(held["chunked loss"], held["reference loss"], 1e-5, 1e-6, "chunked loss")
    with pytest.raises(TypeError, match="LinearCrossEntropyOptions"):
        ember.nn.functional.linear_cross_entropy(x, w, t, options={"batch_chunk_size": 4})
