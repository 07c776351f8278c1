"""The wider torch.nn / optim / data / checkpoint surface, compared with torch.

Layers, functions and losses that the core tests do not cover (InstanceNorm, EmbeddingBag,
CTCLoss, MultiLabelMarginLoss, in-place F.* variants, ...), Module features (backward hooks,
state-dict hooks, extra state, container operators) and data/checkpoint details.
"""

from __future__ import annotations

import collections
import io
import warnings

import numpy as np
import pytest
import torch

import ember
from conformance import Input, compare, gradcheck
from nn_helpers import compare_module


def _idx(values: list) -> Input:
    return Input(np.asarray(values).shape, values=np.asarray(values, dtype=np.int64), grad=False)


# ---------------------------------------------------------------------------------------------
# functional
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, args", [
    ("relu", {"inplace": True}), ("elu_", {}), ("leaky_relu_", {"negative_slope": 0.2}),
    ("selu_", {}), ("celu_", {"alpha": 0.5}), ("threshold_", {"threshold": 0.1, "value": 2.0}),
    ("rrelu_", {}), ("hardtanh_", {}),
])
def test_inplace_activations_write_into_input(name: str, args: dict) -> None:
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    outs = []
    for m in (torch, ember):
        t = m.tensor(x.copy())
        y = getattr(m.nn.functional, name)(t, **args)
        outs.append((y.numpy(), t.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-6, atol=1e-6)


def test_silu_keeps_float16() -> None:
    compare(lambda m, x: m.nn.functional.silu(x), [Input((4, 5), grad=False)], dtype="float16")


def test_linear_with_one_dimensional_weight() -> None:
    compare(lambda m, x, w: m.nn.functional.linear(x, w), [(3, 5), (5,)])
    for m in (torch, ember):  # ... but not with a bias
        with pytest.raises(RuntimeError):
            m.nn.functional.linear(m.ones(3, 5), m.ones(5), m.ones(()))


def test_alpha_dropout_p1_and_feature_alpha_dropout() -> None:
    F = ember.nn.functional
    assert (F.alpha_dropout(ember.ones(3, 4), 1.0, True).numpy() == 0).all()
    x = ember.randn(4, 3, 5)
    assert F.feature_alpha_dropout(x, 0.5, False) is x
    y = F.feature_alpha_dropout(ember.ones(50, 40, 6), 0.5, True).numpy()
    assert (y.std(-1) < 1e-6).all()  # whole channels share one decision
    assert repr(ember.nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient() -> None:
    logits = ember.randn(3, 5, requires_grad=True)
    y = ember.nn.functional.gumbel_softmax(logits, tau=0.5, hard=True)
    assert np.allclose(y.detach().numpy().sum(-1), 1)
    assert set(np.unique(y.detach().numpy())) <= {0.0, 1.0}
    (y * ember.arange(5.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


@pytest.mark.parametrize("kw", [{}, {"eps": 1e-3}])
def test_instance_norm_function(kw: dict) -> None:
    compare(lambda m, x: m.nn.functional.instance_norm(x, **kw), [(2, 3, 4, 5)])
    compare(lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b, **kw),
            [(4, 3, 5), (3,), (3,)])


def test_instance_norm_running_stats() -> None:
    x = np.random.default_rng(0).normal(size=(4, 3, 5)).astype(np.float32)
    results = []
    for m in (torch, ember):
        rm, rv = m.zeros(3), m.ones(3)
        m.nn.functional.instance_norm(m.tensor(x), rm, rv, momentum=0.3)
        y = m.nn.functional.instance_norm(m.tensor(x), rm, rv, use_input_stats=False)
        results.append([rm.numpy(), rv.numpy(), y.numpy()])
    for e, t in zip(results[1], results[0]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


MODES = ["sum", "mean", "max"]


@pytest.mark.parametrize("mode", MODES)
def test_embedding_bag_function(mode: str) -> None:
    idx1, off = [1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5]
    compare(lambda m, w, i: m.nn.functional.embedding_bag(i, w, mode=mode),
            [(10, 3), _idx([[1, 2, 4], [4, 3, 1]])])
    compare(lambda m, w, i, o: m.nn.functional.embedding_bag(i, w, o, mode=mode),
            [(10, 3), _idx(idx1), _idx(off)])
    compare(lambda m, w, i, o: m.nn.functional.embedding_bag(i, w, o, mode=mode,
                                                             include_last_offset=True),
            [(10, 3), _idx(idx1), _idx(off + [len(idx1)])])
    compare(lambda m, w, i, o: m.nn.functional.embedding_bag(i, w, o, mode=mode, padding_idx=4),
            [(10, 3), _idx(idx1), _idx(off)])


def test_embedding_bag_per_sample_weights_and_module() -> None:
    compare(lambda m, w, p, i, o: m.nn.functional.embedding_bag(
        i, w, o, mode="sum", per_sample_weights=p), [(10, 3), (8,), _idx([1, 2, 4, 5, 4, 3, 2, 9]),
                                                      _idx([0, 2, 2, 5])])
    compare_module(lambda m: m.nn.EmbeddingBag(10, 3, mode="max", padding_idx=1),
                   [_idx([[1, 2, 4], [4, 3, 1]])])
    assert repr(ember.nn.EmbeddingBag(10, 3)) == repr(torch.nn.EmbeddingBag(10, 3))
    with pytest.raises(NotImplementedError):
        ember.nn.functional.embedding_bag(ember.tensor([[1, 2]]), ember.ones(4, 2),
                                          per_sample_weights=ember.ones(1, 2))


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, shape, steps, train", [
    (lambda m: m.nn.InstanceNorm1d(3), (4, 3, 5), 1, True),
    (lambda m: m.nn.InstanceNorm1d(3, affine=True), (3, 5), 1, True),  # unbatched
    (lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5), 3,
     True),
    (lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True, momentum=None), (2, 3, 4, 5), 2,
     True),
    (lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 5), 1, False),
    (lambda m: m.nn.InstanceNorm3d(2, affine=True, bias=False), (2, 2, 2, 3, 2), 1, True),
    (lambda m: m.nn.LocalResponseNorm(3, alpha=0.1, beta=0.5, k=2.0), (2, 5, 4, 4), 1, True),
])
def test_instance_and_local_response_norm_layers(make, shape, steps, train) -> None:
    compare_module(make, [shape], steps=steps, train=train)
    assert repr(make(ember)) == repr(make(torch))


def test_instance_norm_gradcheck() -> None:
    gradcheck(lambda m, x, w: m.nn.functional.instance_norm(x, weight=w), [(2, 3, 4), (3,)])


def test_distance_layers() -> None:
    compare(lambda m, a, b: m.nn.CosineSimilarity(dim=2)(a, b), [(4, 3, 5), (4, 3, 5)])
    compare(lambda m, a, b: m.nn.PairwiseDistance(p=1.0, keepdim=True)(a, b), [(4, 5), (4, 5)])
    assert repr(ember.nn.PairwiseDistance()) == "PairwiseDistance()"


def test_batchnorm_channel_mismatch_is_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        ember.nn.BatchNorm1d(3)(ember.ones(2, 4))
    with pytest.raises(ValueError):  # the wrong number of dims stays a ValueError, as torch
        ember.nn.BatchNorm1d(3)(ember.ones(2, 3, 4, 5))


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

MULTILABEL = [[3, 0, -1, 1, 1], [1, 2, 4, -1, 0], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(reduction: str) -> None:
    compare(lambda m, x, t: m.nn.MultiLabelMarginLoss(reduction=reduction)(x, t),
            [(4, 5), _idx(MULTILABEL)])
    compare(lambda m, x, t: m.nn.functional.multilabel_margin_loss(x, t, reduction=reduction),
            [(5,), _idx(MULTILABEL[1])])


CTC_TARGETS = [[1, 2, 4], [2, 3, 2], [3, 1, 3]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_padded_targets(reduction: str) -> None:
    compare(lambda m, x, t, il, tl: m.nn.CTCLoss(reduction=reduction)(x.log_softmax(2), t, il, tl),
            [(12, 3, 5), _idx(CTC_TARGETS), _idx([12, 10, 7]), _idx([3, 3, 2])])


def test_ctc_loss_variants() -> None:
    F = lambda m: m.nn.functional  # noqa: E731
    # concatenated targets, blank not 0, repeated labels, an empty target, tuple lengths
    compare(lambda m, x, t: F(m).ctc_loss(x.log_softmax(2), t, (10, 8), (3, 2)),
            [(10, 2, 6), _idx([1, 2, 2, 4, 5])])
    compare(lambda m, x, t: F(m).ctc_loss(x.log_softmax(2), t, (12, 10, 7), (3, 3, 2), blank=4,
                                          reduction="none"),
            [(12, 3, 5), _idx([[1, 1, 3], [2, 2, 2], [3, 3, 3]])])
    compare(lambda m, x, t: F(m).ctc_loss(x.log_softmax(2), t, (12, 10, 7), (0, 3, 2)),
            [(12, 3, 5), _idx(CTC_TARGETS)])
    # unbatched, float64, log_probs as a leaf (torch's gradient formula), zero_infinity
    compare(lambda m, x, t, il, tl: F(m).ctc_loss(x.log_softmax(1), t, il, tl),
            [(12, 5), _idx([1, 2, 2]), _idx(12), _idx(3)], dtype="float64")
    compare(lambda m, x, t: F(m).ctc_loss(x, t, (12, 10, 7), (3, 3, 2)),
            [(12, 3, 5), _idx(CTC_TARGETS)])
    compare(lambda m, x, t: F(m).ctc_loss(x.log_softmax(2), t, (3, 3), (3, 1), zero_infinity=True,
                                          reduction="none"),
            [(3, 2, 4), _idx([[1, 1, 1], [2, 3, 2]])])


# ---------------------------------------------------------------------------------------------
# Module
# ---------------------------------------------------------------------------------------------


def _hooked_linear(m, calls: list, replace: bool = False, pre_replace: bool = False):
    layer = m.nn.Linear(2, 3)
    with m.no_grad():
        layer.weight.copy_(m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        layer.bias.fill_(0.5)

    def hook(mod, grad_input, grad_output):
        calls.append(("full", [None if g is None else g.numpy().copy() for g in grad_input],
                      [g.numpy().copy() for g in grad_output]))
        if replace:
            return tuple(None if g is None else g * 2 for g in grad_input)

    def pre_hook(mod, grad_output):
        calls.append(("pre", [g.numpy().copy() for g in grad_output]))
        if pre_replace:
            return tuple(g * 3 for g in grad_output)

    layer.register_full_backward_hook(hook)
    layer.register_full_backward_pre_hook(pre_hook)
    return layer


@pytest.mark.parametrize("x_grad, replace, pre_replace", [
    (True, False, False), (False, False, False), (True, True, False), (True, False, True)])
def test_full_backward_hooks(x_grad: bool, replace: bool, pre_replace: bool) -> None:
    results = []
    for m in (torch, ember):
        calls: list = []
        layer = _hooked_linear(m, calls, replace, pre_replace)
        x = m.tensor([[1.0, -1.0], [0.5, 2.0]], requires_grad=x_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (layer(x) * m.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((calls, None if x.grad is None else x.grad.numpy(),
                        layer.weight.grad.numpy()))
    (t_calls, t_xg, t_wg), (e_calls, e_xg, e_wg) = results
    assert [c[0] for c in e_calls] == [c[0] for c in t_calls]
    for e, t in zip(e_calls, t_calls):
        for e_part, t_part in zip(e[1:], t[1:]):
            assert len(e_part) == len(t_part)
            for a, b in zip(e_part, t_part):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-6)
    if t_xg is not None:
        np.testing.assert_allclose(e_xg, t_xg, rtol=1e-6)
    np.testing.assert_allclose(e_wg, t_wg, rtol=1e-6)


def test_backward_hook_order_in_sequential() -> None:
    orders = []
    for m in (torch, ember):
        calls: list = []
        seq = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.ReLU(), m.nn.Linear(2, 1))
        for i, mod in enumerate(seq):
            mod.register_full_backward_hook(lambda mod, gi, go, i=i: calls.append(i))
        handle = seq.register_full_backward_hook(lambda mod, gi, go: calls.append("seq"))
        seq(m.ones(3, 2, requires_grad=True)).sum().backward()
        handle.remove()
        seq(m.ones(3, 2, requires_grad=True)).sum().backward()
        orders.append(calls)
    assert orders[1] == orders[0]


def test_state_dict_hooks_and_extra_state() -> None:
    logs = []
    for m in (torch, ember):
        calls: list = []
        layer = m.nn.Linear(1, 1)
        layer.register_state_dict_pre_hook(lambda mod, prefix, kv: calls.append(("pre", prefix)))
        layer.register_state_dict_post_hook(
            lambda mod, sd, prefix, meta: calls.append(("post", sorted(sd))))
        layer.register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, meta, strict, mk, uk, em: calls.append(("lpre", strict)))

        def post(mod, keys, calls=calls):
            calls.append(("lpost", list(keys.unexpected_keys)))
            keys.unexpected_keys.clear()

        layer.register_load_state_dict_post_hook(post)
        sd = layer.state_dict()
        sd["junk"] = m.ones(1)
        result = layer.load_state_dict(sd)  # the post hook forgives the unexpected key
        logs.append((calls, str(result)))
    assert logs[1] == logs[0]

    class WithExtra(ember.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = ember.nn.Linear(1, 1)
            self.value = 3

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state) -> None:
            self.value = state["value"]

    a = WithExtra()
    a.value = 7
    sd = a.state_dict()
    assert list(sd) == ["_extra_state", "layer.weight", "layer.bias"]
    b = WithExtra()
    b.load_state_dict(ember.load(io.BytesIO(ember.serialization.save_to_bytes(sd))))
    assert b.value == 7


def test_container_operators_and_parameter_containers_repr() -> None:
    reprs = []
    for m in (torch, ember):
        nn = m.nn
        seq = nn.Sequential(nn.ReLU(), nn.Tanh())
        out = [repr(seq * 2), repr(2 * seq)]
        seq *= 2
        seq += nn.Sequential(nn.ELU())
        out.append(repr(seq))
        pd = nn.ParameterDict({"a": nn.Parameter(m.ones(1)),
                               "b": m.zeros(2, 3, dtype=m.float64)})
        pl = nn.ParameterList([nn.Parameter(m.ones(2)), m.ones(3)])
        holder = nn.Module()
        holder.pd, holder.pl = pd, pl
        out += [repr(holder), repr(pd), repr(pl), pd.get("zz"), list(pd.copy().keys())]
        pd.setdefault("c", nn.Parameter(m.ones(4)))
        out += [pd.popitem()[0], list((pd | nn.ParameterDict({"q": m.ones(1)})).keys())]
        reprs.append([o.replace("torch", "T").replace("ember", "T") if isinstance(o, str) else o
                      for o in out])
    assert reprs[1] == reprs[0]
    with pytest.raises(ValueError):
        ember.nn.Sequential(ember.nn.ReLU()) * 0


def test_set_submodule_compile_to_empty() -> None:
    seq = ember.nn.Sequential(ember.nn.Linear(1, 2), ember.nn.Sequential(ember.nn.ReLU()))
    seq.set_submodule("1.0", ember.nn.Tanh())
    assert isinstance(seq[1][0], ember.nn.Tanh)
    with pytest.raises(AttributeError):
        seq.set_submodule("7", ember.nn.ReLU(), strict=True)
    assert seq.compile() is None
    layer = ember.nn.Linear(2, 3).to_empty(device="cpu")
    assert isinstance(layer.weight, ember.nn.Parameter) and tuple(layer.weight.shape) == (3, 2)


def test_utils_aliases() -> None:
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.ones(3) * 5
    with pytest.warns(FutureWarning):
        norm = ember.nn.utils.clip_grad_norm(p, 1.0)
    assert abs(float(norm) - 75 ** 0.5) < 1e-5
    assert isinstance(ember.nn.utils.skip_init(ember.nn.Linear, 3, 4), ember.nn.Linear)
    for old_name in ("dirac", "eye", "uniform", "normal", "xavier_uniform", "kaiming_normal"):
        x = ember.zeros(3, 3, 3) if old_name == "dirac" else ember.zeros(3, 3)
        with pytest.warns(FutureWarning):  # torch's deprecated spellings warn, then work
            getattr(ember.nn.init, old_name)(x)


# ---------------------------------------------------------------------------------------------
# optim, data, checkpoints
# ---------------------------------------------------------------------------------------------


def test_tensor_learning_rate() -> None:
    results = []
    for m in (torch, ember):
        w = m.nn.Parameter(m.ones(2))
        opt = m.optim.Adam([w], lr=m.tensor(0.1))
        (w * m.tensor([2.0, -3.0])).sum().backward()
        opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_collate_keeps_torch_container_types() -> None:
    Pair = collections.namedtuple("Pair", "a s")
    for m in (torch, ember):
        loader = m.utils.data.DataLoader([(1, 2.0, "a"), (3, 4.0, "b")], batch_size=2)
        batch = next(iter(loader))
        assert isinstance(batch, list) and batch[2] == ("a", "b")
        nt = m.utils.data.default_collate([Pair(m.ones(2), "x"), Pair(m.zeros(2), "y")])
        assert nt.s == ("x", "y")


def test_distributed_sampler_matches_torch_partition() -> None:
    for kw in [dict(shuffle=False), dict(shuffle=False, drop_last=True)]:
        for rank in range(3):
            t = torch.utils.data.DistributedSampler(range(10), num_replicas=3, rank=rank, **kw)
            e = ember.utils.data.DistributedSampler(range(10), num_replicas=3, rank=rank, **kw)
            assert list(e) == list(t) and len(e) == len(t)
    from ember.utils.data.distributed import DistributedSampler

    shards = []
    for rank in range(2):
        s = DistributedSampler(range(9), num_replicas=2, rank=rank, seed=3)
        s.set_epoch(1)
        shards.append(list(s))
    assert len(shards[0]) == len(shards[1]) == 5 and set(shards[0] + shards[1]) == set(range(9))
    with pytest.raises(ValueError):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_dataset_argument_errors_are_assertion_errors_like_torch() -> None:
    data = ember.utils.data
    with pytest.raises(AssertionError):
        data.TensorDataset(ember.ones(3), ember.ones(2))
    with pytest.raises(AssertionError):
        data.ConcatDataset([])


def test_checkpoint_keeps_ordered_dicts_dtypes_sizes_and_devices() -> None:
    obj = {"sd": collections.OrderedDict([("b", ember.ones(2)), ("a", 1)]),
           "dtype": ember.bool, "dt": ember.float16, "size": ember.Size([2, 3]),
           "device": ember.device("cpu")}
    out = ember.load(io.BytesIO(ember.serialization.save_to_bytes(obj)), map_location={"cuda:0": "cpu"})
    assert type(out["sd"]) is collections.OrderedDict and list(out["sd"]) == ["b", "a"]
    assert out["dtype"] is ember.bool and out["dt"] is ember.float16
    assert isinstance(out["size"], ember.Size) and tuple(out["size"]) == (2, 3)
    assert str(out["device"]) == "cpu"
    model = ember.nn.Linear(2, 2)
    loaded = ember.load(io.BytesIO(ember.serialization.save_to_bytes(model.state_dict())))
    assert type(loaded) is collections.OrderedDict
