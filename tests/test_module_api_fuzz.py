"""nn.Module API and containers: the same code on Ember and on torch must give the same result,
exception type and message (with 'torch' and 'ember' both read as 'LIB'), and warnings."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Callable

import pytest
import torch

import ember


def _observe(lib: Any, case: Callable) -> tuple:
    """What a user sees running `case(lib)`: its result or exception, and the warnings."""

    def text(s: str) -> str:
        return s.replace("torch", "LIB").replace("ember", "LIB")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Any = ("ok", text(repr(case(lib))))
        except Exception as exc:  # noqa: BLE001 (the exception is what is compared)
            result = (type(exc).__name__, text(str(exc)))
    return result, [text(str(w.message)) for w in caught]


def _same(case: Callable) -> None:
    assert _observe(ember, case) == _observe(torch, case)


def _param(lib: Any, *shape: int) -> Any:
    return lib.nn.Parameter(lib.zeros(*shape))


# ---------------------------------------------------------------- Module


def _unexpected_dotted_key(lib: Any) -> Any:
    m = lib.nn.Sequential(lib.nn.Linear(2, 2))
    sd = dict(m.state_dict())
    sd["0.weight.extra"] = lib.zeros(1)  # a dotted key under a parameter, not a child module
    return m.load_state_dict(sd)


def _tensor_assigned_to_parameter(lib: Any) -> Any:
    lib.nn.Linear(2, 2).weight = lib.zeros(2, 2)


def _tensor_registered_as_parameter(lib: Any) -> Any:
    lib.nn.Module().register_parameter("p", lib.zeros(1))


def _tensor_assigned_to_child(lib: Any) -> Any:
    m = lib.nn.Sequential(lib.nn.ReLU())
    setattr(m, "0", lib.zeros(1))


def _backward_hook_without_input_grad(lib: Any) -> Any:
    seen = []
    m = lib.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append(gin))
    m(lib.ones(1, 2)).sum().backward()
    return seen


def _sequential_of_non_module(lib: Any) -> Any:
    return lib.nn.Sequential(lib.nn.ReLU(), OrderedDict(a=1))


def _backward_hook_input_without_grad(lib: Any) -> Any:
    class Mul(lib.nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return x * y

    seen = []
    m = Mul()
    m.register_full_backward_hook(lambda mod, gin, gout: seen.append([g.tolist() for g in gin]))
    m(lib.ones(1, requires_grad=True), lib.full((1,), 3.0)).sum().backward()
    return seen


def _backward_hook_wrong_count(lib: Any) -> Any:
    m = lib.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
    m(lib.ones(1, 2, requires_grad=True)).sum().backward()


def _backward_pre_hook_wrong_count(lib: Any) -> Any:
    m = lib.nn.Linear(2, 2)
    m.register_full_backward_pre_hook(lambda mod, gout: (gout[0], gout[0]))
    m(lib.ones(1, 2, requires_grad=True)).sum().backward()


def _legacy_and_full_backward_hooks(lib: Any) -> Any:
    m = lib.nn.Linear(2, 2)
    m.register_full_backward_hook(lambda *args: None)
    m.register_backward_hook(lambda *args: None)


@pytest.mark.parametrize("case", [
    _backward_hook_input_without_grad, _backward_hook_wrong_count,
    _backward_pre_hook_wrong_count, _legacy_and_full_backward_hooks,
    _sequential_of_non_module, _unexpected_dotted_key, _tensor_assigned_to_parameter, _tensor_registered_as_parameter,
    _tensor_assigned_to_child, _backward_hook_without_input_grad,
], ids=lambda f: f.__name__)
def test_module(case: Callable) -> None:
    _same(case)


# ---------------------------------------------------------------- containers


def _seq_insert_not_module(lib: Any) -> Any:
    return lib.nn.Sequential(lib.nn.ReLU()).insert(0, 3)


def _modulelist_iadd_modulelist(lib: Any) -> Any:
    a = lib.nn.ModuleList([lib.nn.ReLU()])
    a += lib.nn.ModuleList([lib.nn.Tanh()])
    return a


def _list_dir_hides_indices(lib: Any) -> Any:
    made = [lib.nn.Sequential(lib.nn.ReLU()), lib.nn.ModuleList([lib.nn.ReLU()]),
            lib.nn.ParameterList([_param(lib, 1)])]
    return [[k for k in dir(m) if k.isdigit()] for m in made]


def _moduledict_update_not_iterable(lib: Any) -> Any:
    lib.nn.ModuleDict().update(3)


def _moduledict_update_short_pair(lib: Any) -> Any:
    lib.nn.ModuleDict().update([("a",)])


def _moduledict_update_not_pair(lib: Any) -> Any:
    lib.nn.ModuleDict().update([3])


def _parameterdict_update_not_iterable(lib: Any) -> Any:
    lib.nn.ParameterDict().update(3)


def _parameterdict_update_long_pair(lib: Any) -> Any:
    lib.nn.ParameterDict().update([(1, 2, 3)])


def _parameterdict_plain_dict_sorted(lib: Any) -> Any:
    return list(lib.nn.ParameterDict({"b": _param(lib, 1), "a": _param(lib, 1)}))


def _parameterdict_ror(lib: Any) -> Any:
    d = lib.nn.ParameterDict({"a": _param(lib, 1)})
    return list(d.__ror__(lib.nn.ParameterDict({"z": _param(lib, 1)})))


def _parameterdict_int_key(lib: Any) -> Any:
    lib.nn.ParameterDict()[1] = _param(lib, 1)


def _parameterlist_extend_not_iterable(lib: Any) -> Any:
    lib.nn.ParameterList().extend(3)


def _parameterlist_called(lib: Any) -> Any:
    return lib.nn.ParameterList()(1)


def _parameterdict_called(lib: Any) -> Any:
    return lib.nn.ParameterDict()(1)


def _unflatten_list_size_kept(lib: Any) -> Any:
    return lib.nn.Unflatten(1, [2, 3])


def _unflatten_bad_size(lib: Any) -> Any:
    return lib.nn.Unflatten(1, (2, "3"))


def _parameterdict_popitem_empty(lib: Any) -> Any:
    return lib.nn.ParameterDict().popitem()


@pytest.mark.parametrize("case", [
    _parameterdict_popitem_empty, _seq_insert_not_module, _modulelist_iadd_modulelist, _list_dir_hides_indices,
    _moduledict_update_not_iterable, _moduledict_update_short_pair, _moduledict_update_not_pair,
    _parameterdict_update_not_iterable, _parameterdict_update_long_pair,
    _parameterdict_plain_dict_sorted, _parameterdict_ror, _parameterdict_int_key,
    _parameterlist_extend_not_iterable, _parameterlist_called, _parameterdict_called,
    _unflatten_list_size_kept, _unflatten_bad_size,
], ids=lambda f: f.__name__)
def test_containers(case: Callable) -> None:
    _same(case)


def _load_outcome(lib: Any, module: Any, state: Any) -> tuple:
    """(error text or None, the module's state after loading) for comparing torch and Ember."""
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        return str(e).split(" for ")[1].split(":")[1].strip()[:40], None
    return None, {k: v.tolist() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("versioned", [True, False])
def test_norm_state_dict_versions(versioned: bool) -> None:
    # torch's norm layers are state_dict version 2 (num_batches_tracked added): a versioned
    # checkpoint without the counter is missing a key, a plain dict (an old checkpoint) loads
    # and keeps the module's own counter
    out = []
    for lib in (torch, ember):
        bn = lib.nn.Sequential(lib.nn.BatchNorm1d(2))
        state = bn.state_dict()
        meta = dict(state._metadata)
        del state["0.num_batches_tracked"]
        if not versioned:
            state = dict(state)
        bn[0].num_batches_tracked.fill_(4)
        out.append((meta, _load_outcome(lib, bn, state)))
    assert out[0] == out[1]


def test_instance_norm_drops_old_running_stats() -> None:
    # an unversioned checkpoint with running stats for an InstanceNorm that tracks none: torch
    # reports them as unexpected running stats (and drops them)
    out = []
    for lib in (torch, ember):
        m = lib.nn.InstanceNorm2d(3)
        state = {"running_mean": lib.zeros(3), "running_var": lib.ones(3)}
        out.append(_load_outcome(lib, m, state))
        out.append(_load_outcome(lib, m, {}))
    assert out[0] == out[2] and out[1] == out[3]
    assert out[0][0] is not None
