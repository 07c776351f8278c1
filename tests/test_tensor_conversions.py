"""Conversions and metadata against torch: item/tolist/numpy, Python number protocols, len and
iteration, DLPack with numpy and torch, .to()/.type() casts, and shape/stride/size queries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def both(fn):
    return fn(ember), fn(torch)


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


# ------------------------------------------------------------------ item / tolist / numpy
@pytest.mark.parametrize("make", [
    lambda m: m.tensor(2.5),
    lambda m: m.tensor([7]),
    lambda m: m.tensor([[True]]),
    lambda m: m.tensor(-3, dtype=m.int8),
    lambda m: m.tensor(1.1, dtype=m.float16),
    lambda m: m.tensor(1.1, dtype=m.float64),
])
def test_item(make):
    e, t = both(make)
    assert e.item() == t.item() and type(e.item()) is type(t.item())


def test_item_of_many_elements_raises():
    for m in (ember, torch):
        with pytest.raises(RuntimeError):
            m.ones(2).item()
        with pytest.raises(RuntimeError):
            m.ones(0).item()


@pytest.mark.parametrize("make", [
    lambda m: m.tensor(2.5),
    lambda m: m.arange(6).reshape(2, 3),
    lambda m: m.tensor([[True, False]]),
    lambda m: m.zeros(2, 0),
    lambda m: m.tensor([0.1, 1e-8], dtype=m.float64),
    lambda m: m.tensor([1.5, -2.0], dtype=m.float16),
    lambda m: m.arange(4, dtype=m.uint8),
])
def test_tolist(make):
    e, t = both(make)
    el, tl = e.tolist(), t.tolist()
    assert el == tl
    flat_e = np.asarray(el).reshape(-1).tolist()
    flat_t = np.asarray(tl).reshape(-1).tolist()
    assert [type(v) for v in flat_e] == [type(v) for v in flat_t]


def test_numpy_shares_memory():
    e = ember.zeros(3)
    arr = e.numpy()
    arr[0] = 4.0
    assert e[0].item() == 4.0
    e[1] = 2.0
    assert arr[1] == 2.0
    assert arr.dtype == np.float32


def test_numpy_requires_grad_raises():
    for m in (ember, torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError):
            x.numpy()
        assert x.detach().numpy().tolist() == [1.0, 1.0]
    e = ember.ones(2, requires_grad=True)
    t = torch.ones(2, requires_grad=True)
    np.testing.assert_array_equal(e.numpy(force=True), t.numpy(force=True))
    np.testing.assert_array_equal(np.asarray(e.detach()), np.asarray(t.detach()))


# ------------------------------------------------------------------ Python number protocols
@pytest.mark.parametrize("value", [2.7, -2.7, 0.0, 3])
@pytest.mark.parametrize("proto", [float, int, bool])
def test_number_protocols(proto, value):
    for shape in [(), (1,), (1, 1)]:
        e = ember.tensor(value).reshape(shape)
        t = torch.tensor(value).reshape(shape)
        assert proto(e) == proto(t) and type(proto(e)) is type(proto(t))


@pytest.mark.parametrize("proto", [float, int, bool])
def test_number_protocols_many_elements_raise(proto):
    with pytest.raises((RuntimeError, TypeError, ValueError)) as torch_err:
        proto(torch.ones(2))
    with pytest.raises(torch_err.type):
        proto(ember.ones(2))


def test_index_protocol():
    items = list(range(10))
    for m in (ember, torch):
        assert items[m.tensor(3)] == 3
        assert items[m.tensor([4])] == 4
        assert [0, 1, 2][m.tensor(-1)] == 2
        with pytest.raises(TypeError):
            items[m.tensor(3.0)]
        with pytest.raises(TypeError):
            items[m.tensor([1, 2])]


def test_len_iteration_contains():
    e, t = both(lambda m: m.arange(6).reshape(3, 2))
    assert len(e) == len(t) == 3
    rows_e, rows_t = list(e), list(t)
    assert [r.tolist() for r in rows_e] == [r.tolist() for r in rows_t]
    assert all(isinstance(r, ember.Tensor) for r in rows_e)
    assert (4 in e) == (4 in t) and (7 in e) == (7 in t)
    assert (ember.tensor([0, 1]) in e) == (torch.tensor([0, 1]) in t)
    for m in (ember, torch):
        with pytest.raises(TypeError):
            len(m.tensor(1.0))
        with pytest.raises(TypeError):
            iter(m.tensor(1.0))
    assert len(ember.zeros(0, 3)) == 0 and list(ember.zeros(0)) == []


@pytest.mark.parametrize("spec", ["", ".2f", ">8.3f", "e", "+.1e", "05d"])
def test_format_zero_dim(spec):
    value = 3 if spec.endswith("d") else 3.14159
    e, t = ember.tensor(value), torch.tensor(value)
    assert f"{e:{spec}}" == f"{t:{spec}}".replace("torch.", "ember.")


def test_format_multi_element():
    e, t = ember.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert f"{e}" == f"{t}".replace("torch.", "ember.")
    for m in (ember, torch):
        with pytest.raises((TypeError, RuntimeError)):
            f"{m.tensor([1.0, 2.0]):.2f}"


# ------------------------------------------------------------------ DLPack
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_dlpack_from_torch_is_zero_copy(dtype):
    t = torch.arange(6).reshape(2, 3).to(getattr(torch, dtype))
    e = ember.from_dlpack(t)
    assert dtype_name(e.dtype) == dtype and tuple(e.shape) == (2, 3)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    t[0, 0] = 1
    assert e[0, 0].item() == t[0, 0].item()


def test_dlpack_to_torch_and_numpy_is_zero_copy():
    e = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    t = torch.from_dlpack(e)
    n = np.from_dlpack(e)
    assert t.dtype == torch.float32 and tuple(t.shape) == (2, 3)
    e[1, 2] = 100.0
    assert t[1, 2].item() == 100.0 and n[1, 2] == 100.0
    t[0, 0] = -1.0
    assert e[0, 0].item() == -1.0


def test_dlpack_non_contiguous_and_roundtrip():
    e = ember.arange(12.0).reshape(3, 4).t()[1:]
    t = torch.from_dlpack(e)
    ref = torch.arange(12.0).reshape(3, 4).t()[1:]
    assert t.stride() == ref.stride() and t.tolist() == ref.tolist()
    back = ember.from_dlpack(torch.from_dlpack(e))
    assert back.tolist() == e.tolist()
    e2 = ember.from_dlpack(np.arange(4.0))
    assert e2.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_dlpack_requires_grad_raises():
    with pytest.raises(BufferError):
        torch.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError):
        ember.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError):
        np.from_dlpack(ember.ones(2, requires_grad=True))


# ------------------------------------------------------------------ casts
CASTS = [
    lambda x, m: x.to(m.float64),
    lambda x, m: x.to(dtype=m.int32),
    lambda x, m: x.to("cpu"),
    lambda x, m: x.to("cpu", m.int16),
    lambda x, m: x.to(m.ones(1, dtype=m.uint8)),
    lambda x, m: x.type(m.int64),
    lambda x, m: x.float(),
    lambda x, m: x.double(),
    lambda x, m: x.half(),
    lambda x, m: x.long(),
    lambda x, m: x.int(),
    lambda x, m: x.short(),
    lambda x, m: x.char(),
    lambda x, m: x.byte(),
    lambda x, m: x.bool(),
    lambda x, m: x.cpu(),
    lambda x, m: x.type_as(m.ones(1, dtype=m.int8)),
]


@pytest.mark.parametrize("i", range(len(CASTS)))
def test_casts(i):
    values = [[-1.5, 0.0, 0.4], [2.9, 7.0, 1.0]]
    e = CASTS[i](ember.tensor(values), ember)
    t = CASTS[i](torch.tensor(values), torch)
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    if t.dtype == torch.uint8:  # negative float -> uint8 is undefined; compare the rest
        e, t = e[:, 1:], t[:, 1:]
    assert e.tolist() == t.tolist()


def test_to_same_dtype_returns_self_and_copy_flag():
    for m in (ember, torch):
        x = m.ones(2)
        assert x.to(m.float32) is x and x.float() is x
        assert x.to(m.float32, copy=True) is not x


def test_type_string():
    e, t = ember.ones(2), torch.ones(2)
    assert e.type().replace("ember", "torch") == t.type()
    assert e.type(ember.int64).dtype is ember.int64


def test_to_keeps_grad():
    e = ember.ones(2, requires_grad=True)
    y = e.to(ember.float64)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert e.grad.dtype is ember.float32 and e.grad.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ metadata
META_TENSORS = [
    lambda m: m.zeros(2, 3, 4),
    lambda m: m.zeros(2, 3, 4).transpose(0, 2),
    lambda m: m.zeros(2, 3, 4)[:, ::2],
    lambda m: m.zeros(2, 3, 4).permute(1, 2, 0),
    lambda m: m.zeros(5, dtype=m.int16)[1:4],
    lambda m: m.zeros((), dtype=m.float64),
    lambda m: m.zeros(3, 1).expand(3, 4),
    lambda m: m.zeros(0, 3, dtype=m.uint8),
    lambda m: m.zeros(4, 6)[1].unsqueeze(0),
    lambda m: m.ones(3, dtype=m.bool)[None, :, None],
    lambda m: m.zeros(4, 3)[1:, 1],
    lambda m: m.zeros(4, 3, dtype=m.int8)[2:].t()[1:],
    lambda m: m.zeros(2, 3).t()[None],
]


@pytest.mark.parametrize("i", range(len(META_TENSORS)))
def test_metadata(i):
    e, t = both(META_TENSORS[i])
    assert tuple(e.shape) == tuple(t.shape) and tuple(e.size()) == tuple(t.size())
    assert e.dim() == t.dim() == e.ndim
    assert e.numel() == t.numel() and e.nelement() == t.nelement()
    assert e.element_size() == t.element_size()
    assert e.is_contiguous() == t.is_contiguous()
    assert dtype_name(e.dtype) == dtype_name(t.dtype)
    assert str(e.device) == str(t.device) == "cpu"
    assert e.is_floating_point() == t.is_floating_point()
    assert e.is_signed() == t.is_signed()
    assert e.storage_offset() == t.storage_offset()
    if t.numel():
        assert e.stride() == t.stride()
    for d in range(-t.dim(), t.dim()):
        assert e.size(d) == t.size(d)
        if t.numel():
            assert e.stride(d) == t.stride(d)


def test_size_object():
    e, t = ember.zeros(2, 3).size(), torch.zeros(2, 3).size()
    assert isinstance(e, tuple) and e == (2, 3) and repr(e) == repr(t).replace("torch", "ember")
    assert e.numel() == t.numel() and e[1:] == (3,) and isinstance(e[1:], ember.Size)
    for m in (ember, torch):
        with pytest.raises(IndexError):
            m.zeros(2, 3).size(2)


def test_contiguous_makes_a_copy_only_when_needed():
    for m in (ember, torch):
        x = m.zeros(3, 4)
        assert x.contiguous() is x
        y = x.t().contiguous()
        assert y.is_contiguous() and y.stride() == (3, 1)
