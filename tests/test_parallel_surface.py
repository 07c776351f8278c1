"""DataParallel, SyncBatchNorm, NLLLoss2d and the *_with_indices pools against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import compare
from nn_helpers import compare_module

import ember


def test_data_parallel_is_the_module_with_torch_state_dict_keys() -> None:
    torch.manual_seed(0)
    t_model = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()))
    e_model = ember.nn.DataParallel(ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU()))
    assert list(e_model.state_dict()) == list(t_model.state_dict())
    e_model.load_state_dict({k: v.numpy() for k, v in t_model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(e_model(ember.tensor(x)).detach().numpy(),
                               t_model(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert isinstance(e_model.module, ember.nn.Sequential)
    assert repr(e_model).startswith("DataParallel(")


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 2)])
def test_sync_batch_norm_on_one_process_is_batch_norm(shape) -> None:
    compare_module(lambda m: m.nn.SyncBatchNorm(3), [shape], dtype="float64", steps=2)


def test_convert_sync_batchnorm_keeps_parameters_and_statistics() -> None:
    for lib in (torch, ember):
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 1), lib.nn.BatchNorm2d(3),
                                lib.nn.Sequential(lib.nn.BatchNorm1d(4)))
        w = net[1].weight
        conv = lib.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert type(conv[1]).__name__ == "SyncBatchNorm" and conv[1].weight is w
        assert type(conv[2][0]).__name__ == "SyncBatchNorm"
        assert list(conv.state_dict()) == list(net.state_dict())


def test_nll_loss_2d_and_pool_with_indices_spellings() -> None:
    rng = np.random.default_rng(0)
    logp = np.log(rng.dirichlet(np.ones(3), size=(2, 4, 4)).transpose(0, 3, 1, 2))
    target = rng.integers(0, 3, (2, 4, 4))
    e = ember.nn.NLLLoss2d()(ember.tensor(logp), ember.tensor(target))
    t = torch.nn.NLLLoss2d()(torch.tensor(logp), torch.tensor(target))
    assert abs(e.item() - t.item()) < 1e-12
    for name, shape, args in [("max_pool1d_with_indices", (1, 2, 6), (2,)),
                              ("max_pool2d_with_indices", (1, 2, 4, 4), (2,)),
                              ("max_pool3d_with_indices", (1, 1, 4, 4, 4), (2,)),
                              ("adaptive_max_pool1d_with_indices", (1, 2, 6), (3,)),
                              ("adaptive_max_pool2d_with_indices", (1, 2, 4, 4), (2,)),
                              ("adaptive_max_pool3d_with_indices", (1, 1, 4, 4, 4), (2,))]:
        def fn(m, x, name=name, args=args):
            return getattr(m.nn.functional, name)(x, *args)
        compare(fn, [shape], dtype="float64")


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias) -> None:
    def make(m):
        return m.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6], div_value=2.0, head_bias=head_bias)

    target = np.array([0, 2, 3, 5, 6, 9, 1, 7])
    for call in (lambda mod, x: mod(x, mod_target(mod)),
                 lambda mod, x: mod.log_prob(x)):
        def mod_target(mod):
            lib = ember if isinstance(mod, ember.nn.Module) else torch
            return lib.tensor(target)

        compare_module(make, [(8, 8)], dtype="float64", call=call)
    t_mod, e_mod = compare_module(make, [(8, 8)], dtype="float64",
                                  call=lambda mod, x: mod.predict(x).to(x.dtype))
    with pytest.raises(RuntimeError):
        e_mod(ember.zeros(2, 8, dtype=ember.float64), ember.tensor([0, 10]))
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [6, 3])
