"""torch.nn.utils parametrize / parametrizations / weight_norm / spectral_norm / fusion /
stateless, compared with torch (weights and power-iteration buffers copied from torch)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from nn_helpers import build_pair, compare_module

import ember
import ember.func

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _np(t):
    return t.detach().cpu().numpy()


def _close(e, t, tol=1e-5):
    np.testing.assert_allclose(_np(e), _np(t), rtol=tol, atol=tol)


def _layers(m):
    return {
        "linear": (m.nn.Linear(5, 4), [(3, 5)]),
        "conv2d": (m.nn.Conv2d(3, 4, 3), [(2, 3, 6, 6)]),
        "conv1d": (m.nn.Conv1d(3, 4, 3, bias=False), [(2, 3, 7)]),
        "convT2d": (m.nn.ConvTranspose2d(3, 4, 3), [(2, 3, 5, 5)]),
    }


LAYERS = ["linear", "conv2d", "conv1d", "convT2d"]


def _spec(kind):
    return _layers(torch)[kind][1]


# ------------------------------------------------------------- parametrizations.*
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(kind, dim):
    def make(m):
        return m.nn.utils.parametrizations.weight_norm(_layers(m)[kind][0], dim=dim)

    t_mod, e_mod = compare_module(make, _spec(kind), dtype="float64", steps=2)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert type(e_mod).__name__ == type(t_mod).__name__


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("train", [True, False])
def test_spectral_norm_matches_torch(kind, train):
    def make(m):
        return m.nn.utils.parametrizations.spectral_norm(_layers(m)[kind][0])

    # 3 steps: the buffers _u, _v are updated in training mode only (compared as buffers)
    t_mod, e_mod = compare_module(make, _spec(kind), dtype="float64", steps=3, train=train)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert [n for n, _ in e_mod.named_buffers()] == [n for n, _ in t_mod.named_buffers()]


def test_spectral_norm_dims_and_iterations():
    def make(m):
        lin = m.nn.Linear(6, 4)
        return m.nn.utils.parametrizations.spectral_norm(lin, n_power_iterations=3, dim=1,
                                                         eps=1e-6)

    compare_module(make, [(2, 6)], dtype="float64", steps=2)


def test_spectral_norm_vector_parameter():
    def make(m):
        return m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 4), "bias")

    compare_module(make, [(2, 3)], dtype="float64")


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_matches_torch(shape, orthogonal_map, use_trivialization):
    def make(m):
        lin = m.nn.Linear(shape[1], shape[0])
        return m.nn.utils.parametrizations.orthogonal(
            lin, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)

    t_mod, e_mod = compare_module(make, [(3, shape[1])], dtype="float64", steps=2)
    w = _np(e_mod.weight)
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)  # built in float32
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())


@pytest.mark.parametrize("orthogonal_map", [None, "householder"])
def test_orthogonal_registration_and_assignment(orthogonal_map):
    """right_inverse (what registration and `m.weight = Q` run) gives torch's originals."""
    torch.manual_seed(0)
    w = torch.randn(5, 5, dtype=torch.float64)
    t_lin, e_lin = torch.nn.Linear(5, 5).double(), ember.nn.Linear(5, 5).double()
    t_lin.weight.data.copy_(w)
    e_lin.load_state_dict(t_lin.state_dict())
    for triv in (False, True):  # assignment below needs the trivialization
        t_m = torch.nn.utils.parametrizations.orthogonal(copy.deepcopy(t_lin), orthogonal_map=
                                                         orthogonal_map, use_trivialization=triv)
        e_m = ember.nn.utils.parametrizations.orthogonal(copy.deepcopy(e_lin), orthogonal_map=
                                                         orthogonal_map, use_trivialization=triv)
        for (name, tv), (ename, ev) in zip(t_m.state_dict().items(), e_m.state_dict().items(),
                                                  strict=True):
            assert name == ename
            _close(ev, tv, 1e-9)
    q = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64))[0]
    t_m.weight = q
    e_m.weight = ember.tensor(q.numpy())
    _close(e_m.weight, t_m.weight, 1e-9)


def test_orthogonal_errors():
    P = ember.nn.utils.parametrizations
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        P.orthogonal(ember.nn.Linear(3, 3), orthogonal_map="svd")
    with pytest.raises(ValueError, match="Expected a matrix"):
        P.orthogonal(ember.nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        P.orthogonal(ember.nn.Linear(3, 3), "nope")
    with pytest.raises(ValueError, match="n_power_iterations"):
        P.spectral_norm(ember.nn.Linear(3, 3), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        P.spectral_norm(ember.nn.Linear(3, 3), dim=2)


def test_spectral_norm_convtranspose_default_dim():
    e = ember.nn.utils.parametrizations.spectral_norm(ember.nn.ConvTranspose2d(2, 5, 3))
    assert e.parametrizations.weight[0].dim == 1
    assert tuple(e.parametrizations.weight[0]._u.shape) == (5,)


def test_weight_norm_loads_old_checkpoint_keys():
    torch.manual_seed(0)
    old = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4))
    e = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(3, 4))
    e.load_state_dict(old.state_dict())
    x = torch.randn(2, 3)
    _close(e(ember.tensor(x.numpy())), old(x))


# ------------------------------------------------------------- old-style hooks
@pytest.mark.parametrize("kind", LAYERS)
def test_old_weight_norm_matches_torch(kind):
    def make(m):
        return m.nn.utils.weight_norm(_layers(m)[kind][0], dim=0)

    t_mod, e_mod = compare_module(make, _spec(kind), dtype="float64", steps=2)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())  # weight_g, weight_v
    torch.nn.utils.remove_weight_norm(t_mod)
    ember.nn.utils.remove_weight_norm(e_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert isinstance(e_mod.weight, ember.nn.Parameter)
    _close(e_mod.weight, t_mod.weight, 1e-12)
    assert not e_mod._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        ember.nn.utils.remove_weight_norm(e_mod)


def test_old_weight_norm_dim_none_and_double_registration():
    compare_module(lambda m: m.nn.utils.weight_norm(m.nn.Linear(3, 4), dim=None), [(2, 3)],
                   dtype="float64")
    e = ember.nn.utils.weight_norm(ember.nn.Linear(3, 4))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        ember.nn.utils.weight_norm(e)


@pytest.mark.parametrize("kind", LAYERS)
def test_old_spectral_norm_matches_torch(kind):
    def make(m):
        return m.nn.utils.spectral_norm(_layers(m)[kind][0])

    t_mod, e_mod = compare_module(make, _spec(kind), dtype="float64", steps=3)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())  # weight_orig, _u, _v
    t_mod.eval()
    e_mod.eval()
    x = torch.randn(*_spec(kind)[0], dtype=torch.float64)
    _close(e_mod(ember.tensor(x.numpy())), t_mod(x), 1e-10)
    torch.nn.utils.remove_spectral_norm(t_mod)
    ember.nn.utils.remove_spectral_norm(e_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    _close(e_mod.weight, t_mod.weight, 1e-10)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        ember.nn.utils.remove_spectral_norm(e_mod)


# ------------------------------------------------------------- register_parametrization
def _custom(m):
    class Symmetric(m.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    class Scale(m.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, A):
            return A / 2

    class RankOne(m.nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            U, S, Vh = m.linalg.svd(Z, full_matrices=False)
            s0 = S[0].sqrt().unsqueeze(-1)
            return U[..., :, 0] * s0, Vh[..., 0, :] * s0

    return Symmetric, Scale, RankOne


def _chained(m):
    Symmetric, Scale, _ = _custom(m)
    lin = m.nn.Linear(4, 4)
    m.nn.utils.parametrize.register_parametrization(lin, "weight", Symmetric())
    m.nn.utils.parametrize.register_parametrization(lin, "weight", Scale())
    return lin


def test_chained_parametrizations_match_torch():
    t_mod, e_mod = compare_module(_chained, [(3, 4)], dtype="float64", steps=2)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in e_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    P = ember.nn.utils.parametrize
    assert P.is_parametrized(e_mod) and P.is_parametrized(e_mod, "weight")
    assert not P.is_parametrized(e_mod, "bias")
    assert P.type_before_parametrizations(e_mod) is ember.nn.Linear
    assert isinstance(e_mod, ember.nn.Linear)
    assert type(e_mod.parametrizations.weight) is P.ParametrizationList


def test_assign_and_remove_match_torch():
    t_mod, e_mod = build_pair(_chained, "float64")
    a = torch.randn(4, 4, dtype=torch.float64)
    a = a + a.T
    t_mod.weight = a
    e_mod.weight = ember.tensor(a.numpy())
    _close(e_mod.weight, t_mod.weight, 1e-12)
    _close(e_mod.parametrizations.weight.original, t_mod.parametrizations.weight.original, 1e-12)
    original = e_mod.parametrizations.weight.original
    torch.nn.utils.parametrize.remove_parametrizations(t_mod, "weight")
    ember.nn.utils.parametrize.remove_parametrizations(e_mod, "weight")
    assert type(e_mod) is ember.nn.Linear and not hasattr(e_mod, "parametrizations")
    assert e_mod.weight is original  # same object, now holding the parametrized value
    _close(e_mod.weight, t_mod.weight, 1e-12)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())


def test_remove_leave_unparametrized_and_errors():
    P = ember.nn.utils.parametrize
    _, Scale, RankOne = _custom(ember)
    lin = ember.nn.Linear(3, 3)
    w = lin.weight.detach().clone()
    P.register_parametrization(lin, "weight", Scale())
    P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    _close(lin.weight, torch.tensor(_np(w)) / 2)  # the original: right_inverse(w)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(lin, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(lin, "foo", Scale())
    P.register_parametrization(lin, "weight", RankOne())
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(lin, "weight", leave_parametrized=False)
    P.remove_parametrizations(lin, "weight")
    assert isinstance(lin.weight, ember.nn.Parameter) and type(lin) is ember.nn.Linear

    class Bad(ember.nn.Module):
        def forward(self, X):
            return X[0]

    class NoInverse(ember.nn.Module):
        def forward(self, X):
            return 3 * X

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(ember.nn.Linear(3, 2), "weight", Bad())
    lin = P.register_parametrization(ember.nn.Linear(3, 2), "weight", NoInverse())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        lin.weight = ember.ones(2, 3)


def test_tuple_right_inverse_originals():
    def make(m):
        _, _, RankOne = _custom(m)
        return m.nn.utils.parametrize.register_parametrization(m.nn.Linear(4, 4), "weight",
                                                               RankOne())

    t_mod, e_mod = compare_module(make, [(2, 4)], dtype="float64")
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    assert list(e_mod.state_dict())[1:] == ["parametrizations.weight.original0",
                                            "parametrizations.weight.original1"]


def test_parametrized_buffer_and_train_mode():
    _, Scale, _ = _custom(ember)
    bn = ember.nn.BatchNorm1d(3)
    bn.eval()
    s = Scale()
    ember.nn.utils.parametrize.register_parametrization(bn, "running_var", s)
    assert s.training is False
    t_bn = torch.nn.BatchNorm1d(3)
    torch.nn.utils.parametrize.register_parametrization(t_bn, "running_var", _custom(torch)[1]())
    assert list(bn.state_dict()) == list(t_bn.state_dict())
    _close(bn.running_var, t_bn.running_var)  # right_inverse then forward: ones again
    _close(bn.parametrizations.running_var.original, torch.full((3,), 0.5))


def test_cached_and_copy_and_pickle():
    P = ember.nn.utils.parametrize
    lin = _chained(ember)
    with P.cached():
        a, b = lin.weight, lin.weight
        assert a is b
    assert lin.weight is not a
    twin = copy.deepcopy(lin)
    assert type(twin).__name__ == "ParametrizedLinear"
    assert twin.parametrizations.weight.original is not lin.parametrizations.weight.original
    _close(twin.weight, torch.tensor(_np(lin.weight)))
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(lin)


def test_training_step_through_parametrization():
    """SGD trains the original; the parametrized weight stays symmetric; values as torch's."""

    def run(m, t_mod=None):
        lin = _chained(m).double()
        if t_mod is not None:
            lin.load_state_dict(t_mod.state_dict())
        opt = m.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
        x = m.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
        for _ in range(3):
            opt.zero_grad()
            loss = (lin(x) ** 2).mean()
            loss.backward()
            opt.step()
        return lin

    torch.manual_seed(0)
    t_init = _chained(torch).double()
    t_lin = run(torch, t_init)
    e_lin = run(ember, t_init)
    _close(e_lin.weight, t_lin.weight, 1e-10)
    w = _np(e_lin.weight)
    np.testing.assert_allclose(w, w.T)


# ------------------------------------------------------------- fusion
@pytest.mark.parametrize("case", ["conv2d", "conv2d_nobias_noaffine", "conv1d", "convT2d"])
def test_fuse_conv_bn_eval_matches_conv_then_bn(case):
    def make(m):
        if case == "conv2d":
            return m.nn.Conv2d(3, 4, 3), m.nn.BatchNorm2d(4)
        if case == "conv2d_nobias_noaffine":
            return m.nn.Conv2d(3, 4, 3, bias=False), m.nn.BatchNorm2d(4, affine=False)
        if case == "conv1d":
            return m.nn.Conv1d(3, 4, 3), m.nn.BatchNorm1d(4)
        return m.nn.ConvTranspose2d(3, 4, 3), m.nn.BatchNorm2d(4)

    torch.manual_seed(0)
    t_conv, t_bn = make(torch)
    with torch.no_grad():
        t_bn.running_mean.uniform_(-1, 1)
        t_bn.running_var.uniform_(0.5, 2)
        if t_bn.weight is not None:
            t_bn.weight.uniform_(0.5, 2)
            t_bn.bias.uniform_(-1, 1)
    e_conv, e_bn = make(ember)
    e_conv.load_state_dict(t_conv.state_dict())
    e_bn.load_state_dict(t_bn.state_dict())
    for mod in (t_conv, t_bn, e_conv, e_bn):
        mod.eval()
    transpose = case == "convT2d"
    fused = ember.nn.utils.fuse_conv_bn_eval(e_conv, e_bn, transpose=transpose)
    t_fused = torch.nn.utils.fusion.fuse_conv_bn_eval(t_conv, t_bn, transpose=transpose)
    x = torch.randn(2, 3, 6, 6) if case != "conv1d" else torch.randn(2, 3, 7)
    _close(fused(ember.tensor(x.numpy())), t_bn(t_conv(x)), 1e-4)
    _close(fused(ember.tensor(x.numpy())), t_fused(x), 1e-5)
    assert fused is not e_conv and isinstance(fused.bias, ember.nn.Parameter)
    assert fused.bias.requires_grad == t_fused.bias.requires_grad


def test_fuse_linear_bn_eval_and_errors():
    torch.manual_seed(0)
    t_lin, t_bn = torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4)
    with torch.no_grad():
        t_bn.running_mean.uniform_(-1, 1)
        t_bn.running_var.uniform_(0.5, 2)
        t_bn.weight.uniform_(0.5, 2)
    e_lin, e_bn = ember.nn.Linear(5, 4), ember.nn.BatchNorm1d(4)
    e_lin.load_state_dict(t_lin.state_dict())
    e_bn.load_state_dict(t_bn.state_dict())
    t_lin.eval(), t_bn.eval(), e_bn.eval()
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        ember.nn.utils.fuse_linear_bn_eval(e_lin, e_bn)
    e_lin.eval()
    x = torch.randn(3, 5)
    fused = ember.nn.utils.fusion.fuse_linear_bn_eval(e_lin, e_bn)
    _close(fused(ember.tensor(x.numpy())), t_bn(t_lin(x)), 1e-5)
    with pytest.raises(AssertionError, match="bn.num_features"):
        ember.nn.utils.fuse_linear_bn_eval(e_lin, ember.nn.BatchNorm1d(3).eval())
    w, b = ember.nn.utils.fuse_linear_bn_weights(
        e_lin.weight, None, e_bn.running_mean, e_bn.running_var, 1e-5, e_bn.weight, e_bn.bias)
    tw, tb = torch.nn.utils.fuse_linear_bn_weights(
        t_lin.weight, None, t_bn.running_mean, t_bn.running_var, 1e-5, t_bn.weight, t_bn.bias)
    _close(w, tw)
    _close(b, tb)
    assert (w.requires_grad, b.requires_grad) == (tw.requires_grad, tb.requires_grad)


# ------------------------------------------------------------- functional_call
def test_functional_call_matches_torch():
    def make(m):
        return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.Linear(4, 2))

    t_mod, e_mod = build_pair(make, "float64")
    x = np.linspace(-1, 1, 15).reshape(5, 3)
    outs, grads = [], []
    for m, mod in ((torch, t_mod), (ember, e_mod)):
        leaves = {k: m.tensor(_np(v) * 2, requires_grad=True)
                  for k, v in t_mod.named_parameters()}
        out = m.func.functional_call(mod, leaves, (m.tensor(x),))
        out.pow(2).sum().backward()
        outs.append(out)
        grads.append({k: v.grad for k, v in leaves.items()})
        assert all(p.grad is None for p in mod.parameters())  # module untouched
        assert type(mod[0].weight).__name__ == "Parameter"
    _close(outs[1], outs[0], 1e-10)
    for k in grads[0]:
        _close(grads[1][k], grads[0][k], 1e-10)
    _close(e_mod[1].running_mean, t_mod[1].running_mean, 1e-10)  # buffers updated in place


def test_functional_call_options_and_errors():
    fc = ember.func.functional_call
    seq = ember.nn.Sequential(ember.nn.Linear(3, 3))
    x = ember.ones(2, 3)
    out = fc(seq, ({"0.weight": ember.eye(3)}, {"0.bias": ember.zeros(3)}), x)
    _close(out, torch.ones(2, 3))
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        fc(seq, ({"0.weight": ember.eye(3)}, {"0.weight": ember.eye(3)}), x)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'foo'"):
        fc(seq, {"foo": ember.ones(1)}, (x,), strict=True)
    lin = ember.nn.Linear(3, 3)
    tied = ember.nn.Sequential(lin, lin)  # tied weights: one value for both names
    out = fc(tied, {"0.weight": ember.eye(3), "0.bias": ember.zeros(3)}, (x,))
    _close(out, torch.ones(2, 3))
    with pytest.warns(FutureWarning):
        ember.nn.utils.stateless.functional_call(seq, {}, (x,))
