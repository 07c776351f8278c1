"""ember.utils.checkpoint beyond checkpoint() itself, against torch.utils.checkpoint: the two
use_reentrant variants' rules, autograd.grad through a checkpoint, kwargs, the determinism
check, selective checkpointing, and the small helpers torch exports."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp
from autograd_helpers import check_same, check_same_error

import ember
import ember.utils.checkpoint as ecp
from ember.ops.linalg import MatMul

RNG = np.random.default_rng(0)
W1, W2, X = RNG.standard_normal((8, 4)), RNG.standard_normal((3, 8)), RNG.standard_normal((5, 4))


def cp(m):
    return ecp if m is ember else tcp


def _net(m):
    w1 = m.tensor(W1, requires_grad=True)
    w2 = m.tensor(W2, requires_grad=True)
    return w1, w2, lambda x, scale=1.0: (x @ w1.T).tanh() @ w2.T * scale


def test_non_reentrant_supports_autograd_grad_kwargs_and_closures() -> None:
    def run(m):
        w1, w2, f = _net(m)
        x = m.tensor(X, requires_grad=True)
        y = cp(m).checkpoint(f, x, use_reentrant=False, scale=2.0)
        return [y, *m.autograd.grad((y * y).sum(), [x, w1, w2]), y.requires_grad]
    check_same(run)


def test_non_reentrant_reaches_parameters_when_no_input_requires_grad() -> None:
    def run(m):
        w1, w2, f = _net(m)
        y = cp(m).checkpoint(f, m.tensor(X), use_reentrant=False)
        y.sum().backward()
        return [y, w1.grad, w2.grad]
    check_same(run)


def test_non_reentrant_double_backward() -> None:
    def run(m):
        x = m.tensor(X, requires_grad=True)
        y = cp(m).checkpoint(lambda t: (t ** 3).sum(), x, use_reentrant=False)
        (g,) = m.autograd.grad(y, x, create_graph=True)
        return [g, *m.autograd.grad(g.sum(), x)]
    check_same(run)


def test_reentrant_backward_matches_torch() -> None:
    def run(m):
        w1, w2, f = _net(m)
        x = m.tensor(X, requires_grad=True)
        y = cp(m).checkpoint(f, x, use_reentrant=True)
        y.sum().backward()
        return [y, x.grad, w1.grad, w2.grad, "CheckpointFunctionBackward" in repr(y.grad_fn)]
    check_same(run)


@pytest.mark.parametrize("case", ["grad", "kwargs", "context_fn", "debug", "determinism"])
def test_checkpoint_argument_errors_match_torch(case: str) -> None:
    def run(m):
        w1, _, f = _net(m)
        x = m.tensor(X, requires_grad=True)
        if case == "grad":
            y = cp(m).checkpoint(f, x, use_reentrant=True)
            return m.autograd.grad(y.sum(), x)
        if case == "kwargs":
            return cp(m).checkpoint(f, x, use_reentrant=True, scale=2.0)
        if case == "context_fn":
            return cp(m).checkpoint(f, x, use_reentrant=True, context_fn=lambda: (None, None))
        if case == "debug":
            return cp(m).checkpoint(f, x, use_reentrant=True, debug=True)
        return cp(m).checkpoint(f, x, use_reentrant=False, determinism_check="x")
    words = {"grad": ("use_reentrant=False",), "kwargs": ("Unexpected keyword", "scale"),
             "context_fn": ("context_fn",), "debug": ("debug",), "determinism": ("default",)}
    check_same_error(run, *words[case])


def test_missing_use_reentrant_warns_and_means_reentrant() -> None:
    for m in (ember, torch):
        x = m.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
            y = cp(m).checkpoint(lambda t: t * 2, x)
        assert "CheckpointFunctionBackward" in repr(y.grad_fn)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
            z = cp(m).checkpoint(lambda t: t * 2, m.ones(2), use_reentrant=True)
        assert not z.requires_grad


def test_recomputation_that_changes_shape_raises_checkpoint_error() -> None:
    def run(m, debug):
        calls = []

        def changing(t):
            calls.append(1)
            return t[: 5 - len(calls)] ** 2  # shorter on the recomputation

        y = cp(m).checkpoint(changing, m.ones(5, requires_grad=True), use_reentrant=False,
                             debug=debug)
        y.sum().backward()

    for m in (ember, torch):
        with pytest.raises(cp(m).CheckpointError, match="different metadata"):
            run(m, False)
    with pytest.raises(ecp.CheckpointError, match="Operators run in the forward"):
        run(ember, True)
    with ecp.set_checkpoint_debug_enabled(True), \
            pytest.raises(ecp.CheckpointError, match="Operators run in the forward"):
        run(ember, False)
    # determinism_check="none" lets it through (torch then fails elsewhere; Ember computes)
    y = ecp.checkpoint(lambda t: t * 2, ember.ones(3, requires_grad=True), use_reentrant=False,
                       determinism_check="none")
    y.sum().backward()


def test_dropout_masks_are_replayed() -> None:
    def run(m):
        m.manual_seed(0)
        x = m.ones(64, requires_grad=True)
        y = cp(m).checkpoint(lambda t: m.nn.functional.dropout(t, 0.5) * t, x,
                             use_reentrant=False)
        y.sum().backward()
        return bool(((x.grad != 0) == (y != 0)).all())
    assert run(ember) and run(torch)


def _count_matmul_forwards(monkeypatch) -> list:
    calls = []
    original = MatMul.forward

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MatMul, "forward", counting)
    return calls


@pytest.mark.parametrize("policy_kind", ["function", "list_of_names", "list_of_classes"])
def test_selective_checkpointing_saves_matmuls_and_recomputes_the_rest(monkeypatch,
                                                                        policy_kind) -> None:
    seen = []

    def policy(ctx, op, *args, **kwargs):
        seen.append((ctx.is_recompute, op.__name__))
        return ecp.CheckpointPolicy.MUST_SAVE if op is MatMul else \
            ecp.CheckpointPolicy.PREFER_RECOMPUTE

    chosen = {"function": policy, "list_of_names": ["matmul"],
              "list_of_classes": [MatMul]}[policy_kind]

    def run(m, context_fn=None):
        w1, w2, f = _net(m)
        x = m.tensor(X, requires_grad=True)
        kw = {"context_fn": context_fn} if context_fn else {}
        y = cp(m).checkpoint(f, x, use_reentrant=False, **kw)
        return [y, *m.autograd.grad((y * y).sum(), [x, w1, w2])]

    theirs = run(torch)
    calls = _count_matmul_forwards(monkeypatch)
    ours = run(ember, lambda: ecp.create_selective_checkpoint_contexts(chosen))
    assert len(calls) == 2  # the forward's two, not run again (backward uses its formulas)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
    if policy_kind == "function":
        assert (False, "MatMul") in seen and (True, "MatMul") in seen and \
            (True, "Tanh") in seen


def test_without_selective_policy_matmuls_are_recomputed(monkeypatch) -> None:
    calls = _count_matmul_forwards(monkeypatch)
    _, _, f = _net(ember)
    x = ember.tensor(X, requires_grad=True)
    ecp.checkpoint(f, x, use_reentrant=False).sum().backward()
    assert len(calls) == 2 + 2  # the forward's, then the recomputation's


def test_selective_cache_entry_mutation_is_refused() -> None:
    def f(x):
        y = x @ x.T
        y.add_(1)  # mutates the saved matmul result
        return y.sum()

    def ctx_fn():
        return ecp.create_selective_checkpoint_contexts(["matmul"])

    y = ecp.checkpoint(f, ember.ones(2, 2, requires_grad=True), use_reentrant=False,
                       context_fn=ctx_fn)
    with pytest.raises(ecp.CheckpointError, match="allow_cache_entry_mutation"):
        y.backward()
    def allowed():
        return ecp.create_selective_checkpoint_contexts(["matmul"],
                                                        allow_cache_entry_mutation=True)

    x = ember.ones(2, 2, requires_grad=True)
    ecp.checkpoint(f, x, use_reentrant=False, context_fn=allowed).backward()
    assert x.grad.tolist() == [[4.0, 4.0], [4.0, 4.0]]


def test_policy_enum_and_context_match_torch() -> None:
    assert [p.name for p in ecp.CheckpointPolicy] == [p.name for p in tcp.CheckpointPolicy]
    assert ecp.SelectiveCheckpointContext(is_recompute=True).is_recompute
    check_same_error(lambda m: cp(m).create_selective_checkpoint_contexts(3), "policy")


def test_helpers_match_torch() -> None:
    def run(m):
        x = m.ones(2, requires_grad=True)
        detached = cp(m).detach_variable((x, 3))
        with cp(m).set_checkpoint_early_stop(False):
            y = cp(m).checkpoint(lambda t: t * 3, x, use_reentrant=False)
        y.sum().backward()
        fwd, rec = cp(m).noop_context_fn()
        with fwd, rec:
            pass
        return [detached[0].requires_grad, detached[0].grad_fn is None, detached[1], x.grad,
                cp(m).get_device_states(x), cp(m).DefaultDeviceType.get_device_type()]
    check_same(run)
    check_same_error(lambda m: cp(m).detach_variable([m.ones(1)]), "tuple")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="None of the inputs"):
            ecp.check_backward_validity([ember.ones(1)])


def test_checkpoint_sequential_variants_match_torch() -> None:
    def run(m, reentrant):
        m.manual_seed(0)
        layers = [m.nn.Linear(4, 4).double() for _ in range(4)]
        for i, layer in enumerate(layers):
            with m.no_grad():
                layer.weight.copy_(m.tensor(np.random.default_rng(i).standard_normal((4, 4))))
                layer.bias.zero_()
        net = m.nn.Sequential(*layers)
        x = m.tensor(X, requires_grad=True)
        y = cp(m).checkpoint_sequential(net, 2, x, use_reentrant=reentrant)
        y.sum().backward()
        return [y, x.grad, layers[0].weight.grad]
    check_same(lambda m: run(m, False))
    check_same(lambda m: run(m, True))
