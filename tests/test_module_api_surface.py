"""nn.Module API and nn.init details compared with torch: the same script runs on both
libraries and must give the same results (or the same kind of error)."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch

import ember

LIBS = [torch, ember]


def outcome(fn, lib):
    try:
        return "ok", fn(lib)
    except Exception as exc:  # noqa: BLE001 (the error kind is what we compare)
        return "err", type(exc).__name__


def same(fn):
    a, b = outcome(fn, torch), outcome(fn, ember)
    assert a == b, (a, b)
    return b


# ----------------------------------------------------------------------------- registration
@pytest.mark.parametrize("case", [
    lambda t: t.nn.Module().add_module("a.b", t.nn.Linear(1, 1)),
    lambda t: t.nn.Module().add_module("", t.nn.Linear(1, 1)),
    lambda t: t.nn.Module().add_module("forward", t.nn.Linear(1, 1)),
    lambda t: t.nn.Module().register_buffer("a.b", t.zeros(1)),
    lambda t: t.nn.Module().register_parameter("w", t.zeros(1)),
    lambda t: setattr(t.nn.Linear(2, 2), "weight", t.zeros(2, 2)),
    lambda t: setattr(t.nn.BatchNorm1d(2), "running_mean", 3),
    lambda t: t.nn.Module(1),
])
def test_registration_errors(case):
    assert same(case)[0] == "err"


def _model(t):
    class M(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = t.nn.Linear(2, 3)
            self.b = t.nn.Sequential(t.nn.Linear(3, 3), t.nn.ReLU())
            self.register_buffer("rb", t.zeros(3))

        def forward(self, x, scale=1.0):
            return self.b(self.a(x)) * scale
    return M()


@pytest.mark.parametrize("target", ["b.0.bias", "rb", "b.9", "a.weight", "zz", "a.zz"])
@pytest.mark.parametrize("getter", ["get_submodule", "get_parameter", "get_buffer"])
def test_get_by_path_messages(getter, target):
    def f(t):
        try:
            got = getattr(_model(t), getter)(target)
            return "ok", type(got).__name__
        except AttributeError as exc:
            return "err", str(exc)
    assert f(torch) == f(ember)


# ----------------------------------------------------------------------------- state dict
def test_load_from_state_dict_override_with_torch_signature():
    def f(t):
        class Old(t.nn.Linear):
            def _load_from_state_dict(self, sd, prefix, local_metadata, strict, missing,
                                      unexpected, errors):
                if prefix + "w_old" in sd:
                    sd[prefix + "weight"] = sd.pop(prefix + "w_old")
                seen.append((strict, type(missing).__name__, type(errors).__name__))
                super()._load_from_state_dict(sd, prefix, local_metadata, strict, missing,
                                              unexpected, errors)
        seen = []
        m = t.nn.Sequential(Old(1, 1))
        r = m.load_state_dict({"0.w_old": t.full((1, 1), 3.0), "0.bias": t.zeros(1)},
                              strict=False)
        return m[0].weight.item(), r.missing_keys, r.unexpected_keys, seen
    assert same(f)[0] == "ok"


def test_extra_state_missing_even_when_not_strict():
    def f(t):
        class X(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.v = 1

            def get_extra_state(self):
                return {"v": self.v}

            def set_extra_state(self, state):
                self.v = state["v"]
        m = t.nn.Sequential(X())
        sd = m.state_dict()
        keys = list(sd)
        sd["0._extra_state"] = {"v": 5}
        m.load_state_dict(sd)
        return keys, m[0].v, m.load_state_dict({}, strict=False).missing_keys
    assert same(f)[1] == (["0._extra_state"], 5, ["0._extra_state"])


def test_state_dict_metadata_positional_and_assign():
    def f(t):
        m = t.nn.Linear(2, 3)
        sd = m.state_dict()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pos = list(m.state_dict({}, "q."))
        w = t.ones(3, 2)
        m.load_state_dict({"weight": w, "bias": t.zeros(3)}, assign=True)
        return (dict(sd._metadata), pos, type(m.weight).__name__, m.weight.requires_grad,
                m.weight.data_ptr() == w.data_ptr())
    same(f)


def test_size_mismatch_message_and_unexpected_keys():
    def f(t):
        m = t.nn.Sequential(t.nn.Linear(2, 3))
        r = m.load_state_dict({"0.weight": t.zeros(3, 2), "0.bias": t.zeros(3),
                               "1.x": t.zeros(1), "0.q": t.zeros(1)}, strict=False)
        try:
            m.load_state_dict({"0.weight": t.zeros(3, 3), "0.bias": t.zeros(3)})
        except RuntimeError as exc:
            msg = str(exc).replace("torch.Size", "Size").replace("ember.Size", "Size")
        return r.missing_keys, r.unexpected_keys, msg
    same(f)


def test_load_hooks():
    def f(t):
        m = t.nn.Linear(2, 2)
        log = []

        def pre(mod, sd, prefix, meta, strict, missing, unexpected, errors):
            log.append((type(mod).__name__, prefix, strict))
            sd[prefix + "bias"] = t.zeros(2)
        m.register_load_state_dict_pre_hook(pre)
        m._register_load_state_dict_pre_hook(lambda *a: log.append(len(a)))
        m.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        return log, repr(m.load_state_dict({"weight": t.zeros(2, 2)})), log
    same(f)


def test_deepcopy_parameter_drops_grad_and_keeps_ties():
    def f(t):
        a, b = t.nn.Linear(2, 2), t.nn.Linear(2, 2)
        b.weight = a.weight
        s = t.nn.Sequential(a, b)
        s(t.ones(1, 2)).sum().backward()
        s2 = copy.deepcopy(s)
        return (s2[0].weight is s2[1].weight, s2[0].weight.grad is None,
                type(s2[0].weight).__name__, s2[0].weight.tolist() == a.weight.tolist())
    assert same(f)[1] == (True, True, "Parameter", True)


def test_type_and_bfloat16():
    m = ember.nn.Linear(1, 1).type("torch.DoubleTensor")
    assert m.weight.dtype == ember.float64
    pytest.importorskip("ml_dtypes")  # without it: tests/test_bfloat16.py checks the error
    m = ember.nn.Linear(1, 1).bfloat16()
    assert m.weight.dtype == ember.bfloat16 and m.bias.dtype == ember.bfloat16


# ----------------------------------------------------------------------------- hooks
def test_forward_hooks_always_call_and_kwargs():
    def f(t):
        class Bad(t.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m, log = Bad(), []
        m.register_forward_hook(lambda mod, a, o: log.append(("x", o)), always_call=True)
        m.register_forward_hook(lambda mod, a, k, o: log.append(("k", o)), always_call=True,
                                with_kwargs=True)
        m.register_forward_hook(lambda mod, a, o: log.append("never"))
        with pytest.raises(ValueError):
            m(t.ones(1))
        m2 = t.nn.Identity()
        m2.register_forward_pre_hook(lambda mod, a, k: a, with_kwargs=True)
        try:
            m2(t.ones(1))
        except RuntimeError:
            log.append("bad pre-hook return")
        return log
    assert same(f)[1] == [("x", None), ("k", None), "bad pre-hook return"]


def test_global_module_hooks():
    def f(t):
        mm = t.nn.modules.module
        log = []
        handles = [
            mm.register_module_forward_pre_hook(lambda m, a: log.append(("pre", type(m).__name__))),
            mm.register_module_forward_hook(lambda m, a, o: log.append(("post", type(m).__name__))),
            mm.register_module_full_backward_hook(
                lambda m, gi, go: log.append(("bw", type(m).__name__))),
            mm.register_module_parameter_registration_hook(lambda m, n, p: log.append(n)),
        ]
        try:
            s = t.nn.Sequential(t.nn.Linear(2, 2), t.nn.ReLU())
            s(t.ones(1, 2, requires_grad=True)).sum().backward()
        finally:
            for h in handles:
                h.remove()
        with mm.register_module_forward_hook(lambda m, a, o: o * 0):
            zero = t.nn.Linear(2, 2)(t.ones(1, 2)).abs().sum().item()
        s(t.ones(1, 2))
        return log, zero
    same(f)


# ----------------------------------------------------------------------------- nn.init
def test_init_helpers_aliases_and_warnings():
    x = ember.empty(3, 4)
    for name in ("_no_grad_uniform_", "_no_grad_normal_", "_no_grad_trunc_normal_",
                 "_no_grad_fill_", "_no_grad_zero_"):
        assert hasattr(ember.nn.init, name) and hasattr(torch.nn.init, name)
    ember.nn.init._no_grad_fill_(x, 2.0)
    assert x.tolist() == [[2.0] * 4] * 3
    with pytest.warns(UserWarning, match="zero-element"):
        ember.nn.init.kaiming_uniform_(ember.empty(0, 3))
    with pytest.warns(UserWarning, match="more than 2 std"):
        ember.nn.init.trunc_normal_(ember.empty(10), mean=10.0)
    with pytest.raises(ValueError, match=r"\['fan_in', 'fan_out'\]"):
        ember.nn.init.kaiming_normal_(ember.empty(3, 4), mode="fan_avg")


@pytest.mark.parametrize("lib", LIBS)
def test_init_statistics(lib):
    init = lib.nn.init
    x = lib.empty(400, 500)
    init.kaiming_uniform_(x, a=0.3, mode="fan_out", nonlinearity="leaky_relu")
    bound = math.sqrt(3) * math.sqrt(2 / 1.09) / math.sqrt(400)
    assert 0.99 * bound < x.abs().max().item() <= bound
    init.xavier_normal_(x, gain=2.0)
    assert abs(x.std().item() / (2 * math.sqrt(2 / 900)) - 1) < 0.02
    init.trunc_normal_(x, std=1.0, a=-1.0, b=1.0)
    assert x.abs().max().item() <= 1 and abs(x.std().item() - 0.5379) < 0.01
    w = lib.empty(6, 10, dtype=lib.float16)  # ember computes the QR in float32
    if lib is ember:
        init.orthogonal_(w, gain=2.0)
        assert w.dtype == ember.float16
        assert lib.allclose((w.float() @ w.float().T), 4 * lib.eye(6), atol=2e-2)


def test_init_no_grad_and_identity_of_result():
    for lib in LIBS:
        p = lib.nn.Parameter(lib.empty(3, 4))
        init = lib.nn.init
        for fn, extra in ((init.xavier_uniform_, ()), (init.orthogonal_, ()), (init.eye_, ()),
                          (init.sparse_, (0.5,)), (init.trunc_normal_, ())):
            out = fn(p, *extra)
            assert out is p and out.grad_fn is None and out.requires_grad and out.is_leaf


def test_nn_modules_utils_helpers_match_torch() -> None:
    from collections import OrderedDict

    import torch.nn.modules.utils as tu

    import ember.nn.modules.utils as eu

    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(eu, name)(value) == getattr(tu, name)(value), (name, value)
    assert eu._ntuple(5)(2) == tu._ntuple(5)(2)
    assert eu._reverse_repeat_tuple((1, 2, 3), 2) == tu._reverse_repeat_tuple((1, 2, 3), 2)
    assert eu._list_with_default([None, 4], [1, 2, 7, 8]) == tu._list_with_default(
        [None, 4], [1, 2, 7, 8])
    out = []
    for mod in (eu, tu):
        sd = OrderedDict([("module.z", 0), ("module.a", 1), ("module.b.c", 2), ("x", 3)])
        sd._metadata = OrderedDict([("", {}), ("module", {}), ("module.b", {})])
        mod.consume_prefix_in_state_dict_if_present(sd, "module.")
        out.append((list(sd.items()), list(sd._metadata)))
    assert out[0] == out[1]  # keys stay in the model's order, not sorted
    assert ember.nn.modules.utils is eu  # reachable after a bare `import torch`, as torch's


def test_types_module_names() -> None:
    import ember.types as et

    assert et.Tensor is ember.Tensor and et.Size is ember.Size
    assert isinstance(ember.device("cpu"), et.Device)
