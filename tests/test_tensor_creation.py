"""Creating tensors, compared with torch: dtype inference, memory sharing, factories, defaults."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def assert_same(e: ember.Tensor, t: torch.Tensor) -> None:
    """Same shape, dtype name and values (NaNs equal) as the torch tensor."""
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != torch's {tuple(t.shape)}"
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
        f"dtype {e.dtype} != torch's {t.dtype}"
    en, tn = e.detach().numpy(), t.detach().numpy()
    if tn.dtype.kind == "f":
        np.testing.assert_allclose(en.astype(np.float64), tn.astype(np.float64), rtol=1e-6,
                                   atol=1e-7, equal_nan=True)
    else:
        np.testing.assert_array_equal(en, tn)


def both(fn):
    """fn(ember) and fn(torch)."""
    return fn(ember), fn(torch)


# ------------------------------------------------------------------ tensor() inference
PY_DATA = [
    True,
    3,
    -2.5,
    [True, False],
    [1, 2, 3],
    [1.0, 2.0],
    [1, 2.5],
    [True, 2],
    [True, 2.0],
    [[1, 2], [3, 4]],
    [[1.5], [2]],
    [],
    [[], []],
    (1, 2),
    [[True], [False]],
    [2**40, -1],
]


@pytest.mark.parametrize("data", PY_DATA, ids=repr)
def test_tensor_from_python(data):
    assert_same(*both(lambda m: m.tensor(data)))


NP_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_tensor_from_numpy_keeps_dtype(np_dtype):
    arr = (np.arange(6).reshape(2, 3) % 3).astype(np_dtype)
    assert_same(*both(lambda m: m.tensor(arr)))
    assert_same(*both(lambda m: m.tensor(arr[0, 1])))  # a numpy scalar
    assert_same(*both(lambda m: m.as_tensor(arr)))
    assert_same(*both(lambda m: m.from_numpy(arr)))


@pytest.mark.parametrize("np_dtype", NP_DTYPES)
def test_tensor_dtype_override(np_dtype):
    data = [[0, 1, 2], [3, 4, 5]]
    e = ember.tensor(data, dtype=getattr(ember, np_dtype))
    t = torch.tensor(data, dtype=getattr(torch, np_dtype))
    assert_same(e, t)


def test_tensor_copies_numpy():
    arr = np.ones(3, dtype=np.float32)
    e = ember.tensor(arr)
    arr[0] = 5
    assert e[0].item() == 1.0


def test_tensor_from_zero_dim_tensors_in_list():
    e = ember.tensor([ember.tensor(1.5), ember.tensor(2.0)])
    t = torch.tensor([torch.tensor(1.5), torch.tensor(2.0)])
    assert_same(e, t)
    e = ember.tensor([ember.tensor(1), ember.tensor(2)])
    t = torch.tensor([torch.tensor(1), torch.tensor(2)])
    assert_same(e, t)
    assert_same(ember.tensor(ember.tensor([1, 2])), torch.tensor(torch.tensor([1, 2])))


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([m.tensor(1, dtype=m.int32), m.tensor(2, dtype=m.int32)]),
    lambda m: m.tensor([m.tensor(1, dtype=m.int32), m.tensor(2, dtype=m.int16)]),
    lambda m: m.tensor([m.tensor(1, dtype=m.uint8), m.tensor(2, dtype=m.int8)]),
    lambda m: m.tensor([m.tensor(1.0, dtype=m.float64), 2]),
    lambda m: m.tensor([[m.tensor(1.5, dtype=m.float16)], [3]]),
    lambda m: m.tensor([m.tensor(True), 2.5]),
    lambda m: m.tensor([m.tensor(1, dtype=m.int8), 1000]),
    lambda m: m.tensor([np.float64(1.5), 2]),
    lambda m: m.tensor([np.float32(1.5), 2]),
    lambda m: m.tensor([np.int8(1), True]),
    lambda m: m.tensor([[np.int32(1)], [np.int32(2)]]),
    lambda m: m.tensor([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)]),
    lambda m: m.tensor([np.bool_(True), False]),
])
def test_tensor_infers_dtype_from_typed_leaves(make):
    """Tensors and numpy values inside lists keep their dtypes, promoted together."""
    assert_same(*both(make))


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64])
def test_tensor_int_overflow_raises(value):
    with pytest.raises((ValueError, OverflowError, RuntimeError)):
        torch.tensor([value])
    with pytest.raises((ValueError, OverflowError, RuntimeError)):
        ember.tensor([value])
    assert ember.tensor([2**63 - 1]).tolist() == [2**63 - 1]
    assert_same(ember.tensor([value], dtype=ember.float64),
                torch.tensor([value], dtype=torch.float64))


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1, 2], dtype=float),
    lambda m: m.zeros(2, dtype=float),
    lambda m: m.ones(2).to(float),
    lambda m: m.arange(3, dtype=int),
    lambda m: m.tensor([0, 2], dtype=bool),
])
def test_python_types_as_dtypes(make):
    assert_same(*both(make))  # float means float64 to torch, whatever the default dtype


def test_tensor_from_tensor_copies():
    src = ember.tensor([1.0, 2.0])
    copy = ember.tensor(src)
    copy[0] = 7.0
    assert src[0].item() == 1.0


@pytest.mark.parametrize("data", [[1, 2], [True], 3])
def test_requires_grad_on_non_float_raises(data):
    with pytest.raises(RuntimeError):
        torch.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError):
        ember.tensor(data, requires_grad=True)


def test_requires_grad_float():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    assert e.requires_grad and e.is_leaf and e.grad is None


def test_ragged_raises():
    with pytest.raises((ValueError, TypeError)):
        torch.tensor([[1, 2], [3]])
    with pytest.raises((ValueError, TypeError)):
        ember.tensor([[1, 2], [3]])


# ------------------------------------------------------------------ shared memory
def test_as_tensor_and_from_numpy_share_memory():
    for make in (ember.as_tensor, ember.from_numpy, ember.asarray):
        arr = np.zeros(4, dtype=np.float32)
        e = make(arr)
        arr[1] = 3.0
        assert e[1].item() == 3.0, make.__name__
        e[2] = 5.0
        assert arr[2] == 5.0, make.__name__


def test_as_tensor_copies_on_dtype_change():
    arr = np.zeros(3, dtype=np.float32)
    e, t = ember.as_tensor(arr, dtype=ember.float64), torch.as_tensor(arr, dtype=torch.float64)
    arr[0] = 1.0
    assert_same(e, t)
    assert e[0].item() == 0.0


def test_as_tensor_of_tensor_is_same_object():
    e = ember.tensor([1.0, 2.0])
    assert ember.as_tensor(e) is e
    t = torch.tensor([1.0, 2.0])
    assert torch.as_tensor(t) is t


def test_asarray_copy_and_lists():
    arr = np.arange(3, dtype=np.int32)
    e = ember.asarray(arr, copy=True)
    arr[0] = 9
    assert e[0].item() == 0
    assert_same(*both(lambda m: m.asarray([1, 2.0])))
    assert_same(*both(lambda m: m.asarray(np.float64(2.5))))
    e = ember.asarray([1.0, 2.0], requires_grad=True)
    assert e.requires_grad


def test_from_numpy_rejects_unsupported():
    arr = np.zeros(2, dtype="S3")  # byte strings: torch refuses them too
    with pytest.raises(TypeError):
        ember.from_numpy(arr)
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


# ------------------------------------------------------------------ factories
FACTORIES = [
    lambda m: m.zeros(2, 3),
    lambda m: m.zeros((2, 3)),
    lambda m: m.zeros([2, 0]),
    lambda m: m.zeros(()),
    lambda m: m.zeros(2, dtype=m.int32),
    lambda m: m.ones(3, dtype=m.bool),
    lambda m: m.ones(2, 2, dtype=m.float64),
    lambda m: m.empty(2, 3).shape,
    lambda m: m.empty(0, dtype=m.int8),
    lambda m: m.full((2, 2), 7),
    lambda m: m.full((2, 2), 7.5),
    lambda m: m.full((2,), True),
    lambda m: m.full((2,), 3, dtype=m.float16),
    lambda m: m.full([], -1.0),
    lambda m: m.arange(5),
    lambda m: m.arange(2, 9, 3),
    lambda m: m.arange(5.0),
    lambda m: m.arange(0, 1, 0.1),
    lambda m: m.arange(1, 2.5, 0.5),
    lambda m: m.arange(10, 0, -3),
    lambda m: m.arange(5, -5, -2.5),
    lambda m: m.arange(3, 3),
    lambda m: m.arange(-1.0, 1.0, 0.25, dtype=m.float64),
    lambda m: m.arange(5, dtype=m.float32),
    lambda m: m.arange(0, 5, 1.5, dtype=m.int64),
    lambda m: m.arange(0.5, 5, 1.5, dtype=m.int32),
    lambda m: m.arange(5.5, 0, -1.5, dtype=m.uint8),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(-3, 3, 7, dtype=m.float64),
    lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    lambda m: m.linspace(2, 2, 1),
    lambda m: m.linspace(0, 1, 0),
    lambda m: m.logspace(0, 3, 4),
    lambda m: m.logspace(0, 2, 3, base=2.0),
    lambda m: m.logspace(-1, 1, 5, dtype=m.float64),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 4, dtype=m.int64),
    lambda m: m.eye(3, 2, dtype=m.bool),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32)),
    lambda m: m.ones_like(m.ones(2, 3), dtype=m.float64),
    lambda m: m.full_like(m.ones(2, dtype=m.int64), 3.7),
    lambda m: m.full_like(m.ones(2), 2, dtype=m.int16),
    lambda m: m.empty_like(m.ones(3, 1, dtype=m.uint8)).shape,
    lambda m: m.empty_like(m.ones(3, 1, dtype=m.uint8)).dtype,
    lambda m: m.zeros_like(m.ones(2, 3).t()).stride(),
    lambda m: m.ones_like(m.ones(2, 3, 4).permute(2, 0, 1), dtype=m.int32).stride(),
    lambda m: m.full_like(m.ones(4, 6)[:, ::2], 2.5).stride(),
    lambda m: m.empty_like(m.ones(3, 1).expand(3, 4)).stride(),
    lambda m: m.zeros(m.tensor(3)),
    lambda m: m.ones(2, m.tensor(2)),
    lambda m: m.scalar_tensor(3),
    lambda m: m.scalar_tensor(2, dtype=m.int64),
    lambda m: m.diag(m.tensor([1, 2, 3])),
    lambda m: m.diag(m.tensor([1.0, 2.0]), 1),
    lambda m: m.diag(m.arange(9.0).reshape(3, 3), -1),
    lambda m: m.tril_indices(3, 4, 1),
    lambda m: m.triu_indices(4, 3, -1),
    lambda m: m.meshgrid(m.arange(3), m.arange(2), indexing="ij"),
    lambda m: m.meshgrid(m.arange(3.0), m.arange(2.0), m.arange(4.0), indexing="xy"),
    lambda m: m.meshgrid([m.arange(2), m.arange(3)], indexing="ij"),
]


def _outputs(out):
    return list(out) if isinstance(out, tuple) and not hasattr(out, "numel") else [out]


@pytest.mark.parametrize("i", range(len(FACTORIES)))
def test_factory_matches_torch(i):
    e_out, t_out = both(FACTORIES[i])
    if isinstance(t_out, (torch.Size, tuple)) and not isinstance(t_out[0], torch.Tensor):
        assert tuple(e_out) == tuple(t_out)
        return
    if isinstance(t_out, torch.dtype):
        assert str(e_out).split(".")[-1] == str(t_out).split(".")[-1]
        return
    e_list, t_list = _outputs(e_out), _outputs(t_out)
    assert len(e_list) == len(t_list)
    for e, t in zip(e_list, t_list, strict=True):
        assert_same(e, t)


@pytest.mark.parametrize("call", [
    lambda m: m.arange(0, 5, 0),
    lambda m: m.arange(5, 0, 1),
    lambda m: m.zeros(2, -1),
    lambda m: m.linspace(0, 1, -1),
])
def test_factory_errors(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(ember)


def test_int_arange_step_truncating_to_zero_raises():
    with pytest.raises(ValueError):
        torch.arange(0, 2, 0.3, dtype=torch.int64)
    with pytest.raises(ValueError):
        ember.arange(0, 2, 0.3, dtype=ember.int64)


def test_meshgrid_mixed_dtypes_raises():
    with pytest.raises(RuntimeError):
        torch.meshgrid(torch.arange(2), torch.arange(2.0), indexing="ij")
    with pytest.raises(RuntimeError):
        ember.meshgrid(ember.arange(2), ember.arange(2.0), indexing="ij")


def test_factory_requires_grad():
    for make in (lambda m: m.zeros(2, requires_grad=True),
                 lambda m: m.ones(2, 2, requires_grad=True),
                 lambda m: m.full((2,), 1.5, requires_grad=True),
                 lambda m: m.arange(3.0, requires_grad=True),
                 lambda m: m.linspace(0, 1, 3, requires_grad=True),
                 lambda m: m.eye(2, requires_grad=True)):
        e, t = both(make)
        assert e.requires_grad == t.requires_grad and e.is_leaf


# ------------------------------------------------------------------ default dtype
@pytest.fixture
def default_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.5, 2.0]),
    lambda m: m.tensor(2.5),
    lambda m: m.tensor([1, 2]),
    lambda m: m.tensor([]),
    lambda m: m.zeros(2),
    lambda m: m.ones(1),
    lambda m: m.full((2,), 1.5),
    lambda m: m.arange(3.0),
    lambda m: m.linspace(0, 1, 3),
    lambda m: m.eye(2),
    lambda m: m.tensor([1, 2]) * 1.5,
    lambda m: m.tensor([1, 2]) / 2,
    lambda m: m.tensor(np.ones(2, dtype=np.float32)),
    lambda m: m.Tensor([1, 2]),
])
def test_set_default_dtype_float64(default_float64, make):
    assert ember.get_default_dtype() is ember.float64
    assert_same(*both(make))


def test_set_default_dtype_rejects_int():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)
    assert ember.get_default_dtype() is ember.float32


# ------------------------------------------------------------------ legacy constructor
def test_legacy_constructor():
    e, t = both(lambda m: m.Tensor(2, 3))
    assert tuple(e.shape) == tuple(t.shape) and e.dtype is ember.float32
    assert_same(*both(lambda m: m.Tensor([1, 2])))
    assert_same(*both(lambda m: m.Tensor([[True, False]])))
    assert_same(*both(lambda m: m.Tensor()))
    e, t = both(lambda m: m.Tensor(m.Size([4, 1])))
    assert tuple(e.shape) == tuple(t.shape) == (4, 1)
    assert isinstance(ember.Tensor(2), ember.Tensor) and tuple(ember.Tensor(2).shape) == (2,)


def test_default_device_setting_and_context_follow_torch() -> None:
    import torch

    assert ember.get_default_device() == ember.device("cpu")
    assert str(ember.get_default_device()) == str(torch.get_default_device())
    with ember.device("cpu") as dev:
        assert dev == ember.device("cpu")
        assert ember.zeros(2).device.type == "cpu"
        assert ember.get_default_device() == ember.device("cpu")
    ember.set_default_device("cpu")
    try:
        assert ember.nn.Linear(2, 3).weight.device.type == "cpu"
        assert ember.tensor([1.0]).device.type == "cpu"
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")


@pytest.mark.parametrize("call", ["zeros", "ones", "empty", "rand", "randn"])
def test_creation_takes_size_as_a_keyword_as_torch(call):
    shapes = []
    for lib in (torch, ember):
        fn = getattr(lib, call)
        shapes.append([tuple(fn(size=(2, 3)).shape), tuple(fn(size=[4]).shape),
                       tuple(fn(size=()).shape), tuple(fn(2, 3).shape), tuple(fn((2, 3)).shape),
                       fn(size=(2,), dtype=lib.float64).dtype == lib.float64])
    assert shapes[1] == shapes[0]


@pytest.mark.parametrize("data", [[2**63, 1], [-2**63 - 1], [True, 2**64], [1, "a"], [[1], ["a"]],
                                  ["a", 1], [2**63, 1.5], [-2**63]],
                         ids=lambda d: repr(d)[:20])
def test_tensor_from_python_overflow_and_strings(data: list) -> None:
    # numpy 2 turns [2**63, 1] into float64 (it wrapped to -2**63); torch refuses an int beyond
    # int64 with ValueError, and a string after a number with TypeError (first: ValueError)
    import torch  # noqa: PLC0415

    outcome = []
    for m in (torch, ember):
        try:
            outcome.append(m.tensor(data).tolist())
        except (TypeError, ValueError) as e:
            outcome.append(type(e).__name__)
    assert outcome[0] == outcome[1]
