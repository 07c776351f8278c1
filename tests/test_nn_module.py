"""Module mechanics against torch: registration, state_dict, modes, hooks, containers, repr,
device/dtype moves, and the default initialisations."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

import ember


def make_model(m: object) -> object:
    """The same small architecture written once for both frameworks."""
    nn = m.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.norm = nn.LayerNorm(4)
            self.register_buffer("scale", m.ones(4))
            self.register_buffer("scratch", m.zeros(2), persistent=False)

        def forward(self, x: object) -> object:
            return self.norm(self.fc(x)) * self.scale

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))
            self.blocks = nn.ModuleList([Block(), Block()])
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1)})
            self.extra = nn.Parameter(m.zeros(2))
            self.dropout = nn.Dropout(0.1)

        def forward(self, x: object) -> object:
            x = self.stem(x)
            for block in self.blocks:
                x = block(x)
            return self.heads["a"](self.dropout(x)) + self.extra

    return Model()


def test_names_and_state_dict_keys_match_torch() -> None:
    t, e = make_model(torch), make_model(ember)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    for (_, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert tuple(ep.shape) == tuple(tp.shape)


def test_repr_matches_torch() -> None:
    t, e = make_model(torch), make_model(ember)
    assert repr(e) == repr(t)
    layers = ["Linear(3, 4, bias=False)", "BatchNorm2d(3, momentum=None)", "LayerNorm((2, 3))",
              "GroupNorm(2, 4, affine=False)", "Embedding(10, 3, padding_idx=0)",
              "LeakyReLU(0.2, inplace=True)", "Dropout(0.3)", "GELU('tanh')", "Softmax(dim=1)",
              "PReLU(3)", "Flatten(0, 2)", "RMSNorm(4, eps=1e-6)", "Hardtanh(-2.0, 2.0)",
              "CrossEntropyLoss()", "Sequential(Linear(1, 2), Tanh())"]
    for text in layers:
        assert repr(eval("ember.nn." + text.replace("Sequential(", "Sequential(ember.nn.")
                         .replace("), Tanh", "), ember.nn.Tanh"))) == \
            repr(eval("torch.nn." + text.replace("Sequential(", "Sequential(torch.nn.")
                      .replace("), Tanh", "), torch.nn.Tanh"))), text


def test_load_torch_state_dict_and_match_outputs() -> None:
    torch.manual_seed(0)
    t, e = make_model(torch), make_model(ember)
    e.load_state_dict(t.state_dict())  # torch tensors, as is
    t.eval()
    e.eval()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    as_numpy = {k: v.numpy() for k, v in t.state_dict().items()}
    e2 = make_model(ember)
    e2.load_state_dict(as_numpy)  # plain arrays load too
    for k, v in e2.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), as_numpy[k])


def test_load_state_dict_errors_like_torch() -> None:
    t, e = torch.nn.Linear(3, 2), ember.nn.Linear(3, 2)
    bad = {"weight": np.ones((3, 3), np.float32), "extra": np.ones(1, np.float32)}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(bad)
    for fragment in ("Error(s) in loading state_dict for Linear", 'Missing key(s) in state_dict: "bias"',
                     'Unexpected key(s) in state_dict: "extra"', "size mismatch for weight"):
        assert fragment in str(te.value) and fragment in str(ee.value)
    result = e.load_state_dict({"weight": np.ones((2, 3), np.float32), "x": np.ones(1)},
                               strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["x"]
    np.testing.assert_array_equal(e.weight.detach().numpy(), np.ones((2, 3)))


def test_state_dict_shares_memory_and_is_detached() -> None:
    e = ember.nn.Linear(2, 2)
    sd = e.state_dict()
    assert not sd["weight"].requires_grad
    with ember.no_grad():
        e.weight.fill_(3.0)
    assert np.all(sd["weight"].numpy() == 3.0)
    assert e.state_dict(keep_vars=True)["weight"] is e.weight


def test_train_eval_zero_grad_requires_grad() -> None:
    e = make_model(ember)
    e.eval()
    assert all(not m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    out = e(ember.randn(4, 3)).sum()
    out.backward()
    assert all(p.grad is not None for p in e.heads["a"].parameters())
    e.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in e.heads["a"].parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())


def test_apply_and_to_keep_parameter_identity() -> None:
    e = make_model(ember)
    params_before = list(e.parameters())

    def init(module: object) -> None:
        if isinstance(module, ember.nn.Linear):
            ember.nn.init.constant_(module.weight, 0.5)

    e.apply(init)
    assert np.all(e.heads["b"].weight.detach().numpy() == 0.5)
    e.double()
    assert all(p.dtype == ember.float64 for p in e.parameters())
    assert [id(p) for p in e.parameters()] == [id(p) for p in params_before]
    assert e.blocks[0].scale.dtype == ember.float64
    e.to(ember.float32)
    assert all(p.dtype == ember.float32 for p in e.parameters())
    assert e.stem[2].num_batches_tracked.dtype == ember.int64  # integer buffers stay
    with pytest.raises(TypeError, match="floating point"):
        e.to(ember.int64)


def test_forward_hooks() -> None:
    e = ember.nn.Linear(2, 2)
    calls = []
    h1 = e.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = e.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = e(ember.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(),
                               np.broadcast_to(e.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    out = e(ember.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(),
                               (ember.ones(3, 2) @ e.weight.t() + e.bias).detach().numpy())
    e.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 2,), kwargs),
                                with_kwargs=True)
    np.testing.assert_allclose(e(ember.ones(1, 2)).detach().numpy(),
                               (2 * ember.ones(1, 2) @ e.weight.t() + e.bias).detach().numpy())


def test_sequential_behaves_like_torch() -> None:
    def build(m: object) -> object:
        return m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU(), m.nn.Linear(3, 1))

    t, e = build(torch), build(ember)
    assert len(e) == len(t) == 3
    assert repr(e[1:]) == repr(t[1:])
    assert isinstance(e[-1], ember.nn.Linear)
    e.append(ember.nn.Sigmoid())
    t.append(torch.nn.Sigmoid())
    e.insert(1, ember.nn.Tanh())
    t.insert(1, torch.nn.Tanh())
    del e[0]
    del t[0]
    assert repr(e) == repr(t)
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    from collections import OrderedDict

    named = ember.nn.Sequential(OrderedDict([("first", ember.nn.Linear(1, 1))]))
    assert list(named.state_dict()) == ["first.weight", "first.bias"]


def test_modulelist_moduledict_parameterlist() -> None:
    ml = ember.nn.ModuleList([ember.nn.Linear(1, 1)])
    ml.append(ember.nn.Linear(1, 2))
    ml.extend([ember.nn.Linear(2, 2)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    assert list(dict(ml.named_parameters())) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                 "2.weight", "2.bias"]
    md = ember.nn.ModuleDict({"a": ember.nn.Linear(1, 1)})
    md["b"] = ember.nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "a" in md
    pl = ember.nn.ParameterList([ember.nn.Parameter(ember.ones(2)), ember.zeros(3)])
    assert len(list(pl.parameters())) == 2
    assert isinstance(pl[1], ember.nn.Parameter)
    pd = ember.nn.ParameterDict({"w": ember.ones(2)})
    assert list(dict(pd.named_parameters())) == ["w"]


def test_setattr_routing_and_errors() -> None:
    m = ember.nn.Module()
    m.w = ember.nn.Parameter(ember.ones(2))
    m.sub = ember.nn.Linear(1, 1)
    m.register_buffer("buf", ember.zeros(1))
    assert "w" in m._parameters and "sub" in m._modules and "buf" in m._buffers
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = ember.ones(2)
    m.w = None
    assert m.w is None
    with pytest.raises(KeyError, match="attribute 'sub' already exists"):
        m.register_buffer("sub", ember.zeros(1))
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        m.nothing  # noqa: B018


def test_deepcopy_gives_independent_parameters() -> None:
    e = make_model(ember)
    clone = copy.deepcopy(e)
    with ember.no_grad():
        clone.heads["a"].weight.fill_(7.0)
    assert not np.all(e.heads["a"].weight.detach().numpy() == 7.0)
    assert isinstance(clone.extra, ember.nn.Parameter)


def test_get_submodule_and_parameter() -> None:
    e = make_model(ember)
    assert e.get_submodule("blocks.1.fc") is e.blocks[1].fc
    assert e.get_parameter("heads.b.bias") is e.heads["b"].bias
    with pytest.raises(AttributeError):
        e.get_submodule("blocks.7")


# ------------------------------------------------------------------ initialisation
def test_default_initialisations_follow_torch() -> None:
    ember.manual_seed(0)
    lin = ember.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    emb = ember.nn.Embedding(1000, 64).weight.detach().numpy()
    assert abs(emb.mean()) < 0.01 and abs(emb.std() - 1) < 0.01
    bn = ember.nn.BatchNorm2d(3)
    assert np.all(bn.weight.numpy(force=True) == 1) and np.all(bn.bias.numpy(force=True) == 0)
    bil = ember.nn.Bilinear(50, 20, 30).weight.detach().numpy()
    assert np.abs(bil).max() <= 1 / math.sqrt(50)


@pytest.mark.parametrize("name,args", [("relu", ()), ("tanh", ()), ("leaky_relu", (0.2,)),
                                       ("selu", ()), ("linear", ()), ("sigmoid", ()),
                                       ("conv2d", ())])
def test_calculate_gain(name: str, args: tuple) -> None:
    assert ember.nn.init.calculate_gain(name, *args) == pytest.approx(
        torch.nn.init.calculate_gain(name, *args))


def test_init_distributions() -> None:
    ember.manual_seed(0)
    w = ember.empty(500, 300)
    ember.nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 800)
    assert w.abs().max().item() <= bound and abs(w.std().item() - bound / math.sqrt(3)) < 1e-3
    ember.nn.init.xavier_normal_(w, gain=2.0)
    assert abs(w.std().item() - 2 * math.sqrt(2 / 800)) < 1e-3
    ember.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.std().item() - math.sqrt(2) / math.sqrt(500)) < 1e-3
    ember.nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    assert w.abs().max().item() <= 1 / math.sqrt(300)
    ember.nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert w.min().item() >= -1.0 and w.max().item() <= 2.0
    t = torch.empty(500, 300)
    torch.nn.init.trunc_normal_(t, mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert abs(w.mean().item() - t.mean().item()) < 0.02
    assert abs(w.std().item() - t.std().item()) < 0.02
    q = ember.empty(6, 10)
    ember.nn.init.orthogonal_(q, gain=1.5)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, 1.5**2 * np.eye(6), atol=1e-5)
    for fn in ("zeros_", "ones_"):
        getattr(ember.nn.init, fn)(q)
    ember.nn.init.constant_(q, 0.25)
    assert np.all(q.numpy() == 0.25)
    ember.nn.init.eye_(q)
    np.testing.assert_array_equal(q.numpy(), np.eye(6, 10))
    d_e, d_t = ember.empty(4, 2, 3, 3), torch.empty(4, 2, 3, 3)
    ember.nn.init.dirac_(d_e, groups=2)
    torch.nn.init.dirac_(d_t, groups=2)
    np.testing.assert_array_equal(d_e.numpy(), d_t.numpy())
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        ember.nn.init.xavier_uniform_(ember.empty(3))


def test_init_runs_on_parameters_without_grad_errors() -> None:
    p = ember.nn.Parameter(ember.empty(3, 3))
    ember.nn.init.normal_(p)  # a leaf that requires grad: init works under no_grad
    assert p.requires_grad and p.grad_fn is None
