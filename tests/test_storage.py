"""Storages (ember/storage.py): UntypedStorage, Tensor.set_ on a storage, TypedStorage and the
legacy FloatStorage family, each run on torch and on Ember and compared: values, memory
sharing, data_ptr relations, errors (type and message, 'torch' read as 'ember')."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import warnings

import numpy as np
import pytest

import ember
import ember.storage as es

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
LIBS = (torch, ember)


def same(fn):  # noqa: ANN001, ANN201
    """fn(torch) == fn(ember); returns Ember's result."""
    expected, got = fn(torch), fn(ember)
    assert got == expected
    return got


def same_error(fn, exact: bool = True) -> None:  # noqa: ANN001
    """fn raises the same exception type on both (and the same message unless exact=False)."""
    errors = []
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            fn(lib)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0]), errors
    if exact:
        assert str(errors[1]) == str(errors[0]).replace("torch", "ember")


# ----------------------------------------------------------------------------- Tensor -> storage
VIEWS = {
    "itself": lambda a: a,
    "slice": lambda a: a[1:],
    "row": lambda a: a.view(2, 3)[1],
    "transpose": lambda a: a.view(2, 3).t(),
    "reshape": lambda a: a.reshape(3, 2),
    "unsqueeze": lambda a: a.unsqueeze(0),
    "step": lambda a: a[::2],
    "column": lambda a: a.view(2, 3)[:, 1],
    "expand": lambda a: a[:1].expand(4),
    "narrow": lambda a: a.narrow(0, 2, 3),
}


@pytest.mark.parametrize("view", VIEWS, ids=list(VIEWS))
def test_views_share_one_storage(view) -> None:  # noqa: ANN001
    def probe(lib):  # noqa: ANN001, ANN202
        a = lib.arange(6, dtype=lib.float32)
        v = VIEWS[view](a)
        s = v.untyped_storage()
        return (s.nbytes(), s.data_ptr() == a.data_ptr(), s is a.untyped_storage(),
                v.storage_offset(), v.data_ptr() - s.data_ptr())

    same(probe)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(3.0), lambda lib: lib.tensor([]), lambda lib: lib.zeros(2, 0),
    lambda lib: lib.ones(1).expand(5), lambda lib: lib.ones(2, 3).T.contiguous(),
    lambda lib: lib.ones(2, 3)[:, 1:], lambda lib: lib.tensor([1, 2], dtype=lib.int64),
])
def test_storage_sizes(make) -> None:  # noqa: ANN001
    same(lambda lib: (make(lib).untyped_storage().nbytes(),
                      make(lib).untyped_storage().data_ptr() == 0))


def test_storage_of_an_array_with_gaps() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        base = np.arange(6.0)
        t = lib.from_numpy(np.lib.stride_tricks.as_strided(base, (3,), (16,)))
        s = t.untyped_storage()
        s[15] = 0  # the top byte of base[1]
        return (s.nbytes(), s.data_ptr() == t.data_ptr(), s.data_ptr() == base.ctypes.data,
                base.tolist(), s is t[1:].untyped_storage())

    same(probe)


@pytest.mark.parametrize("values,dtype", [
    ([0.0, 1.0, -2.5], "float32"), ([1.5, -3.0], "float64"), ([1.0, 65504.0], "float16"),
    ([1, -2, 300], "int64"), ([7, -7], "int32"), ([1, 255], "uint8"), ([True, False], "bool"),
    ([1 + 2j], "complex64"), ([1.5, 2.0], "bfloat16"),
])
def test_storage_bytes_match_torch(values, dtype) -> None:  # noqa: ANN001
    same(lambda lib: lib.tensor(values, dtype=getattr(lib, dtype)).untyped_storage().tolist())


def test_untyped_storage_attributes() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.arange(6, dtype=lib.float32).untyped_storage()
        return (len(s), s.size(), s.nbytes(), s.element_size(), str(s.device), s.is_cuda,
                s.get_device(), s.is_shared(), s.is_pinned(), s.is_sparse, hasattr(s, "dtype"),
                s.type().replace("torch", "ember"), s.untyped() is s, s.cpu() is s,
                s.to(device="cpu") is s, lib.is_storage(s), lib.is_storage(lib.ones(1)))

    same(probe)
    for values in ([1, 2], []):
        same(lambda lib, v=values: repr(lib.UntypedStorage(v)).replace("torch", "ember"))


def test_untyped_getitem() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        a = lib.arange(6, dtype=lib.float32)
        s = a.untyped_storage()
        part = s[4:8]
        return (s[4], s[7], s[-1], s[np.int64(6)], part.tolist(), part.nbytes(),
                part.data_ptr() - s.data_ptr(), type(part).__name__, part is s[4:8],
                part.resizable(), s[-4:].tolist(), s[20:100].tolist(), s[5:2].nbytes(),
                list(s[:4]))

    same(probe)
    s = lambda lib: lib.arange(6, dtype=lib.float32).untyped_storage()  # noqa: E731
    for idx in (24, -25, 1.0, True, None, slice(0, 8, 2)):
        same_error(lambda lib, i=idx: s(lib)[i])
    same_error(lambda lib: s(lib)[lib.tensor(1)])
    same_error(lambda lib: lib.UntypedStorage(0)[0])


def test_a_slice_is_a_storage_of_its_own() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.arange(6, dtype=lib.float32).untyped_storage()
        part = s[4:8]
        t = lib.tensor([], dtype=lib.uint8).set_(part)
        t[0] = 9
        return (t.untyped_storage().data_ptr() - s.data_ptr(), t.untyped_storage().nbytes(),
                t.untyped_storage() is part, s[4])

    same(probe)


def test_untyped_setitem_writes_show_in_the_tensor() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        b = lib.zeros(3, dtype=lib.int32)
        s = b.untyped_storage()
        s[0] = 1
        s[4:6] = 5
        s[9] = -1
        s[10:100] = 300
        s[1] = True
        s[np.int64(2)] = 7
        return b.tolist(), s.tolist()

    same(probe)


@pytest.mark.parametrize("idx,value", [
    (0, 1.7), (0, [1, 2]), (0, np.int64(3)), (1.0, 1), (True, 5), (1.5, 2.5), (-1, 5),
    (4, 1), (slice(0, 4, 2), 1),
])
def test_untyped_setitem_errors(idx, value) -> None:  # noqa: ANN001
    def write(lib):  # noqa: ANN001, ANN202
        lib.UntypedStorage(4)[idx] = value

    same_error(write)


@pytest.mark.parametrize("value", [lambda lib: lib.tensor([1], dtype=lib.uint8),
                                   lambda lib: lib.UntypedStorage(1)])
def test_untyped_setitem_takes_ints_only(value) -> None:  # noqa: ANN001
    same_error(lambda lib: lib.UntypedStorage(4).__setitem__(0, value(lib)))


def test_fill_copy_clone() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        a = lib.zeros(2)
        s = a.untyped_storage()
        filled = s.fill_(300) is s
        src = lib.tensor([1.0, 2.0]).untyped_storage()
        copied = s.copy_(src) is s
        typed = lib.UntypedStorage(8).copy_(lib.tensor([3.0, 4.0]).storage()).tolist()
        c = s.clone()
        c.fill_(0)
        return (filled, copied, a.tolist(), typed, type(c).__name__, c.data_ptr() != s.data_ptr(),
                s.tolist() != c.tolist(), c.resizable(), lib.UntypedStorage(2).fill_(-1).tolist(),
                lib.UntypedStorage(2).fill_(True).tolist(), copy.copy(s).tolist() == s.tolist(),
                copy.deepcopy(s).data_ptr() != s.data_ptr())

    same(probe)
    same_error(lambda lib: lib.UntypedStorage(4).fill_(2.5))
    same_error(lambda lib: lib.UntypedStorage(4).fill_(np.int64(3)))
    same_error(lambda lib: lib.UntypedStorage(4).copy_(lib.UntypedStorage(3)))
    same_error(lambda lib: lib.UntypedStorage(4).copy_(lib.ones(1)))
    same_error(lambda lib: lib.UntypedStorage(4).copy_([1, 2, 3, 4]))
    same_error(lambda lib: lib.zeros(2).storage().copy_(lib.ones(2, dtype=lib.float64).storage()))


@pytest.mark.parametrize("args", [(), (3,), ([1, 2, 255],), ([1, -1, 300],), (b"ab",), ((1, 2),),
                                  ([True],), (np.int64(3),)])
def test_untyped_construction(args) -> None:  # noqa: ANN001
    same(lambda lib: lib.UntypedStorage(*args).nbytes())
    if args and not isinstance(args[0], (int, np.integer)):
        same(lambda lib: lib.UntypedStorage(*args).tolist())
    same(lambda lib: (lib.UntypedStorage(*args).device.type, lib.UntypedStorage(*args).resizable()))


@pytest.mark.parametrize("args", [(1.5,), ([1.5],), ("a",), (True,), ([np.int64(3)],), (1, 2)])
def test_untyped_construction_errors(args) -> None:  # noqa: ANN001
    same_error(lambda lib: lib.UntypedStorage(*args), exact=len(args) == 1)
    if len(args) == 2:
        with pytest.raises(TypeError, match="received an invalid combination of arguments"):
            ember.UntypedStorage(*args)
    same_error(lambda lib: lib.UntypedStorage(-1), exact=False)


def test_untyped_copy_of_a_storage() -> None:
    same(lambda lib: lib.UntypedStorage(lib.tensor([1.0]).untyped_storage()).tolist())
    same(lambda lib: (lambda s: lib.UntypedStorage(s).data_ptr() != s.data_ptr())(
        lib.tensor([1.0]).untyped_storage()))


def test_untyped_casts() -> None:
    for cast in ("float", "double", "long", "int", "short", "char", "byte", "bool", "half",
                 "bfloat16", "complex_float", "complex_double"):
        same(lambda lib, c=cast: getattr(lib.UntypedStorage([1, 2, 0]), c)().tolist())
        same(lambda lib, c=cast: (lambda s: getattr(s, c)().data_ptr() != s.data_ptr())(
            lib.UntypedStorage([1, 2])))
    same(lambda lib: lib.tensor([1.5, -2.0]).storage().long().tolist())
    same(lambda lib: type(lib.tensor([1.5]).storage().double()).__name__)


# ----------------------------------------------------------------------------- resize_
def test_resize_an_owned_storage() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.UntypedStorage([1, 2, 3])
        grown = s.resize_(5) is s
        kept = s.tolist()[:3]
        size = s.nbytes()
        s.resize_(2)
        return grown, kept, size, s.tolist(), s.resizable()

    same(probe)
    same_error(lambda lib: lib.UntypedStorage(3).resize_(2.0))
    same_error(lambda lib: lib.UntypedStorage(3).resize_(-1), exact=False)
    same_error(lambda lib: lib.from_numpy(np.ones(3)).untyped_storage().resize_(100))
    same(lambda lib: lib.from_numpy(np.ones(3)).untyped_storage().resizable())
    same(lambda lib: lib.frombuffer(bytearray(b"abcd"), dtype=lib.uint8).untyped_storage()
         .resizable())


def test_resize_moves_the_tensors_built_on_the_storage() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.UntypedStorage(8).fill_(0)
        t = lib.tensor([], dtype=lib.int32).set_(s)
        s.resize_(16)
        t.fill_(7)
        return t.tolist(), s.tolist()[:8], t.data_ptr() == s.data_ptr()

    same(probe)


def test_typed_resize() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.FloatStorage([1.0, 2.0])
        s.resize_(5)
        return s.size(), s.tolist()[:2], s.nbytes()

    same(probe)


def test_ember_only_resizes_storages_it_allocated_for_the_storage() -> None:
    # torch can move a tensor's storage under it; an Ember tensor's array cannot be moved
    s = ember.ones(3).untyped_storage()
    assert torch.ones(3).untyped_storage().resizable() and not s.resizable()
    with pytest.raises(RuntimeError, match="Trying to resize storage that is not resizable"):
        s.resize_(20)


# ----------------------------------------------------------------------------- set_
SET_CASES = {
    "whole, default dtype": lambda lib, s: lib.tensor([]).set_(s),
    "whole, uint8": lambda lib, s: lib.tensor([], dtype=lib.uint8).set_(s),
    "offset, size, stride": lambda lib, s: lib.tensor([]).set_(s, 1, (2,), (1,)),
    "keywords": lambda lib, s: lib.tensor([]).set_(s, storage_offset=1, size=(2,), stride=(1,)),
    "size only": lambda lib, s: lib.tensor([]).set_(s, 1, (2,)),
    "list size": lambda lib, s: lib.tensor([]).set_(s, 0, [4]),
    "Size size": lambda lib, s: lib.tensor([]).set_(s, 0, lib.Size([2, 2])),
    "stride None": lambda lib, s: lib.tensor([]).set_(s, 0, (2, 2), None),
    "float64": lambda lib, s: lib.tensor([], dtype=lib.float64).set_(s, 0, (2,), (1,)),
    "int16 2-d": lambda lib, s: lib.tensor([], dtype=lib.int16).set_(s, 1, (2, 3), (3, 1)),
    "strided": lambda lib, s: lib.tensor([], dtype=lib.int16).set_(s, 0, (2, 2), (1, 4)),
    "typed": lambda lib, s: lib.tensor([], dtype=lib.int32).set_(
        lib.TypedStorage(wrap_storage=s, dtype=lib.int32)),
}


@pytest.mark.parametrize("case", SET_CASES, ids=list(SET_CASES))
def test_set_on_a_storage(case) -> None:  # noqa: ANN001
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.UntypedStorage(list(range(16)))
        t = SET_CASES[case](lib, s)
        return (t.tolist(), tuple(t.shape), t.stride(), t.storage_offset(),
                t.untyped_storage() is s, t.data_ptr() - s.data_ptr(), t.dtype.itemsize)

    same(probe)


def test_set_shares_memory_both_ways() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.UntypedStorage(16).fill_(0)
        x = lib.tensor([]).set_(s, 0, (4,), (1,))
        y = lib.tensor([]).set_(s, 1, (2,), (1,))
        x.fill_(1.0)
        s[15] = 64
        return y.tolist(), x.tolist(), s.tolist()[:8], x.data_ptr() == s.data_ptr()

    same(probe)


def test_set_on_a_tensors_storage() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        a = lib.arange(4.0)
        t = lib.tensor([]).set_(a.untyped_storage())
        u = lib.tensor([]).set_(a.storage(), 1, (2,))
        t[0] = 10.0
        returned = t.set_(a.untyped_storage(), 0, (2,), (1,)) is t
        v = lib.tensor([1.0, 2.0])
        w = v.view(2)
        v.set_(a.untyped_storage())
        return (t.tolist(), u.tolist(), a.tolist(), t.untyped_storage() is a.untyped_storage(),
                returned, w.data_ptr() == v.data_ptr(), lib.tensor([]).set_().tolist())

    same(probe)


def test_set_with_storage_does_not_take_requires_grad() -> None:
    same(lambda lib: lib.tensor([]).set_(
        lib.arange(4.0, requires_grad=True).untyped_storage()).requires_grad)
    same_error(lambda lib: lib.arange(4.0, requires_grad=True).set_(lib.UntypedStorage(16)),
               exact=False)


def test_set_grows_a_resizable_storage_as_torch() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.UntypedStorage(16)
        t = lib.tensor([]).set_(s, 3, (2,), (1,))
        return s.nbytes(), tuple(t.shape), t.untyped_storage() is s

    same(probe)


@pytest.mark.parametrize("call", [
    lambda lib, s: lib.tensor([]).set_(s, 3, (2,), (1,)),
    lambda lib, s: lib.tensor([]).set_(s, 0, (2,), (-1,)),
    lambda lib, s: lib.tensor([]).set_(s, -1, (2,), (1,)),
    lambda lib, s: lib.tensor([]).set_(s, 0, (2, 2), (1,)),
    lambda lib, s: lib.tensor([], dtype=lib.int64).set_(lib.ones(2).storage()),
    lambda lib, s: lib.tensor([], dtype=lib.float16).set_(lib.ones(2).storage(), 0, (1,)),
    lambda lib, s: lib.tensor([], dtype=lib.bool).set_(lib.ones(2).storage()),
    lambda lib, s: lib.tensor([], dtype=lib.float32).set_(lib.ones(2, dtype=lib.int8).storage()),
], ids=["out of bounds", "negative stride", "negative offset", "lengths", "typed int64",
        "typed half", "typed bool", "typed float"])
def test_set_errors(call) -> None:  # noqa: ANN001
    same_error(lambda lib: call(lib, lib.from_numpy(np.zeros(4, np.float32)).untyped_storage()))


def test_set_argument_errors() -> None:
    for args in [(1,), (1.0, (2,))]:
        same_error(lambda lib, a=args: lib.tensor([]).set_(lib.UntypedStorage(16), *a),
                   exact=False)
    same_error(lambda lib: lib.tensor([]).set_([1, 2]), exact=False)


# ----------------------------------------------------------------------------- TypedStorage
def _deprecations(caught: list) -> list:
    return [w for w in caught if "TypedStorage is deprecated" in str(w.message)]


def test_storage_warns_once_as_torch() -> None:
    for lib, module in ((torch, torch.storage), (ember, es)):
        module._reset_warn_typed_storage_removal()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t = lib.ones(2)
            s = t.storage()
            s.size()
            t.storage()
        first = _deprecations(caught)
        assert len(first) == 1
        assert first[0].category is UserWarning and first[0].filename == __file__
        assert str(first[0].message) == (
            "TypedStorage is deprecated. It will be removed in the future and UntypedStorage "
            "will be the only storage class. This should only matter to you if you are using "
            "storages directly.  To access UntypedStorage directly, use "
            "tensor.untyped_storage() instead of tensor.storage()")
    for lib, module in ((torch, torch.storage), (ember, es)):  # any public method warns first
        module._reset_warn_typed_storage_removal()
        s = lib.ones(2)._typed_storage()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s.tolist()
        assert len(_deprecations(caught)) == 1


def test_typed_storage_of_a_tensor() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        a = lib.arange(6, dtype=lib.float32)
        ts = a.storage()
        return (type(ts).__name__, str(ts.dtype).split(".")[1], ts.size(), len(ts), ts[1],
                type(ts[1]).__name__, ts[-1], ts.tolist(), ts.nbytes(), ts.element_size(),
                ts.data_ptr() == a.data_ptr(), ts.untyped() is a.untyped_storage(),
                ts._untyped_storage is a.untyped_storage(), a.storage() is a.storage(),
                a.storage() == a.storage(), ts.pickle_storage_type(),
                ts.type().replace("torch", "ember"), str(ts.device), ts.is_cuda,
                ts.get_device(), ts.is_shared(), ts.resizable() == a.untyped_storage().resizable(),
                a[2:].storage().size(), a[2:].storage().data_ptr() == a.data_ptr(),
                isinstance(ts, lib.TypedStorage), isinstance(ts, lib.FloatStorage),
                isinstance(ts, lib.DoubleStorage), lib.is_storage(ts))

    same(probe)
    same(lambda lib: repr(lib.tensor([1.0, 2.0]).storage()).replace("torch", "ember"))
    same(lambda lib: repr(lib.FloatStorage(0)).replace("torch", "ember"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32",
                                   "int16", "int8", "uint8", "bool", "complex64", "complex128"])
def test_typed_storage_per_dtype(dtype) -> None:  # noqa: ANN001
    def probe(lib):  # noqa: ANN001, ANN202
        t = lib.tensor([1, 0, 1], dtype=getattr(lib, dtype))
        s = t.storage()
        return (s[0], type(s[0]).__name__, s.tolist(), s.element_size(),
                s.pickle_storage_type(), s.type().replace("torch", "ember"))

    same(probe)


def test_typed_storage_writes() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        b = lib.zeros(3)
        s = b.storage()
        s[1] = 7
        s[-1] = 2.5
        first = b.tolist()
        s[0:2] = 4
        returned = s.fill_(1.5) is s
        return first, b.tolist(), returned, lib.zeros(2, dtype=lib.bool).storage().fill_(1).tolist()

    same(probe)


@pytest.mark.parametrize("call", [
    lambda s: s[6], lambda s: s[-7], lambda s: s[1:2], lambda s: s[1.0], lambda s: s[True],
    lambda s: s[np.int64(1)], lambda s: s.__setitem__(1.0, 1.0),
    lambda s: s.__setitem__(1, s.untyped()),
])
def test_typed_storage_index_errors(call) -> None:  # noqa: ANN001
    same_error(lambda lib: call(lib.arange(6, dtype=lib.float32).storage()))
    same_error(lambda lib: lib.zeros(3).storage().__setitem__(5, 1.0), exact=False)


CONSTRUCTIONS = [  # (make, whether its values are initialised)
    (lambda lib: lib.FloatStorage(3), False), (lambda lib: lib.FloatStorage([1, 2]), True),
    (lambda lib: lib.LongStorage([1, 2]), True), (lambda lib: lib.BoolStorage([1, 0]), True),
    (lambda lib: lib.HalfStorage([1.5]), True), (lambda lib: lib.DoubleStorage(3), False),
    (lambda lib: lib.FloatStorage(), True), (lambda lib: lib.IntStorage((5, 6)), True),
    (lambda lib: lib.ByteStorage([1, 255]), True), (lambda lib: lib.CharStorage([-1]), True),
    (lambda lib: lib.ShortStorage([3]), True), (lambda lib: lib.BFloat16Storage([1.5]), True),
    (lambda lib: lib.ComplexFloatStorage([1j]), True),
    (lambda lib: lib.ComplexDoubleStorage([1]), True),
    (lambda lib: lib.FloatStorage(wrap_storage=lib.UntypedStorage([0, 0, 128, 63])), True),
    (lambda lib: lib.TypedStorage(3), False),
    (lambda lib: lib.TypedStorage(3, dtype=lib.int64), False),
    (lambda lib: lib.TypedStorage([1, 2], dtype=lib.int64), True),
    (lambda lib: lib.TypedStorage(), True),
    (lambda lib: lib.TypedStorage(wrap_storage=lib.UntypedStorage(7), dtype=lib.float32), False),
    (lambda lib: lib.FloatStorage.from_buffer(np.ones(2, np.float32).tobytes(), "native"), True),
    (lambda lib: lib.TypedStorage.from_buffer(np.arange(2, dtype=">i4").tobytes(), "big",
                                              dtype=lib.int32), True),
]


@pytest.mark.parametrize("make,initialised", CONSTRUCTIONS)
def test_legacy_and_typed_construction(make, initialised) -> None:  # noqa: ANN001
    def probe(lib):  # noqa: ANN001, ANN202
        s = make(lib)
        return (type(s).__name__, str(s.dtype).split(".")[1], s.size(), s.nbytes(),
                s.tolist() if initialised else None, s.resizable(),
                isinstance(s, lib.FloatStorage), isinstance(s, lib.LongStorage))

    same(probe)


def test_legacy_classes() -> None:
    names = ["DoubleStorage", "FloatStorage", "HalfStorage", "LongStorage", "IntStorage",
             "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "BFloat16Storage",
             "ComplexDoubleStorage", "ComplexFloatStorage"]
    for name in names:
        same(lambda lib, n=name: (issubclass(getattr(lib, n), lib.TypedStorage),
                                  repr(getattr(lib, n)).replace("torch", "ember"),
                                  str(getattr(lib, n).dtype).split(".")[1]))
    same(lambda lib: isinstance(lib.UntypedStorage(4), lib.FloatStorage))
    same(lambda lib: isinstance(lib.FloatStorage(1), lib.TypedStorage))


@pytest.mark.parametrize("call", [
    lambda lib: lib.FloatStorage(1, 2), lambda lib: lib.FloatStorage(1.5),
    lambda lib: lib.FloatStorage(3, dtype=lib.float32),
    lambda lib: lib.FloatStorage(wrap_storage=lib.FloatStorage(1)),
    lambda lib: lib.TypedStorage(wrap_storage=lib.UntypedStorage(4)),
    lambda lib: lib.TypedStorage(wrap_storage=lib.FloatStorage(1), dtype=lib.float32),
    lambda lib: lib.TypedStorage(1, wrap_storage=lib.UntypedStorage(4), dtype=lib.float32),
    lambda lib: lib.TypedStorage(1, 2), lambda lib: lib.TypedStorage(1.5),
])
def test_typed_construction_errors(call) -> None:  # noqa: ANN001
    same_error(call)


def test_typed_storage_copies_and_sharing() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        s = lib.FloatStorage([1, 2])
        c = s.clone()
        c.fill_(0)
        deep = copy.deepcopy(s)
        return (type(c).__name__, s.tolist(), c.tolist(), deep.tolist(),
                deep.data_ptr() != s.data_ptr(), s.cpu().data_ptr() == s.data_ptr(),
                lib.zeros(2).storage().copy_(lib.ones(2).storage()).tolist(),
                s == lib.FloatStorage([1, 2]), lib.FloatStorage(2).share_memory_().is_shared(),
                pickle.loads(pickle.dumps(s)).tolist())

    same(probe)


def test_untyped_pickle_round_trip() -> None:
    # torch 2.13 cannot unpickle an UntypedStorage (no dtype attribute); Ember can
    s = pickle.loads(pickle.dumps(ember.UntypedStorage([1, 2, 255])))
    assert s.tolist() == [1, 2, 255] and s.resizable()


# ----------------------------------------------------------------------------- shared memory
def _write_sevens(s) -> None:  # noqa: ANN001
    ember.tensor([], dtype=ember.uint8).set_(s).fill_(7)


def test_share_memory_moves_the_storage_and_its_tensor() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        b = lib.ones(3)
        s = b.untyped_storage()
        before = s.data_ptr()
        returned = s.share_memory_() is s
        return (returned, s.is_shared(), b.is_shared(), before == s.data_ptr(),
                b.data_ptr() == s.data_ptr(), b.tolist(), b.untyped_storage() is s,
                s.share_memory_().data_ptr() == s.data_ptr())

    same(probe)

    def view_probe(lib):  # noqa: ANN001, ANN202
        base = lib.arange(4.0)
        view = base[1:]
        view.share_memory_()
        view[0] = 9.0
        return (base.is_shared(), view.is_shared(), view.storage_offset(), base.tolist(),
                view.untyped_storage().nbytes())

    same(view_probe)


def test_a_shared_storage_is_written_by_a_forked_child() -> None:
    s = ember.UntypedStorage(4).fill_(0).share_memory_()
    t = ember.tensor([], dtype=ember.uint8).set_(s)
    p = multiprocessing.get_context("fork").Process(target=_write_sevens, args=(s,))
    p.start()
    p.join()
    assert p.exitcode == 0
    assert s.tolist() == [7, 7, 7, 7] and t.tolist() == [7, 7, 7, 7]


def test_frombuffer_storage_views_the_buffer() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        buf = bytearray(b"abcd")
        s = lib.frombuffer(buf, dtype=lib.uint8).untyped_storage()
        s[0] = 65
        return bytes(buf), s.nbytes(), s.resizable()

    same(probe)


def test_from_buffer_copies() -> None:
    def probe(lib):  # noqa: ANN001, ANN202
        buf = bytearray(b"abcd")
        s = lib.UntypedStorage.from_buffer(buf, dtype=lib.uint8)
        s[0] = 65
        return bytes(buf), s.tolist(), s.resizable()

    same(probe)
    same_error(lambda lib: lib.UntypedStorage.from_buffer(b"abcd"))
    same_error(lambda lib: lib.UntypedStorage.from_buffer(b"abcd", dtype=lib.float32))


# ----------------------------------------------------------------------------- save / load
def test_saved_tensors_that_share_memory_load_sharing(tmp_path) -> None:  # noqa: ANN001
    def probe(lib):  # noqa: ANN001, ANN202
        w = lib.arange(6.0).view(2, 3)
        emb = lib.nn.Embedding(2, 3)
        head = lib.nn.Linear(3, 2, bias=False)
        head.weight = emb.weight  # tied weights
        state = {"w": w, "again": w, "view": w.view(2, 3), "model": head.state_dict(),
                 "emb": emb.state_dict(), "c": lib.tensor([1j, 2j], dtype=lib.complex128)}
        state["c_again"] = state["c"]
        path = tmp_path / f"{lib.__name__}.pt"
        lib.save(state, path)
        out = lib.load(path)
        out["w"][0, 0] = 100.0
        out["model"]["weight"][0, 0] = 5.0
        out["c"][0] = 3j
        return (out["again"][0, 0].item(), out["view"][0, 0].item(),
                out["emb"]["weight"][0, 0].item(), out["c_again"][0].item(),
                out["w"].data_ptr() == out["again"].data_ptr())

    same(probe)


def test_saved_views_of_one_storage_load_as_copies(tmp_path) -> None:  # noqa: ANN001
    # Ember's checkpoints hold tensors' values, not storages: a slice loads as its own copy
    base = ember.arange(6.0)
    ember.save({"base": base, "slice": base[2:]}, tmp_path / "views.pt")
    out = ember.load(tmp_path / "views.pt")
    out["base"][2] = 100.0
    assert out["slice"].tolist() == [2.0, 3.0, 4.0, 5.0]
