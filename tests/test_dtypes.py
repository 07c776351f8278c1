"""Type promotion against torch: every dtype pair, every operand kind, the arithmetic operators
and comparisons; result_type, promote_types, can_cast, finfo and iinfo."""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = {"bool": True, "int": 3, "float": 2.5}
OPS = {
    "+": operator.add,
    "*": operator.mul,
    "-": operator.sub,
    "/": operator.truediv,
    "<": operator.lt,
    "==": operator.eq,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
    "&": operator.and_,
    "where": lambda a, b: _lib(a, b).where(_lib(a, b).tensor(True), a, b),
    "trunc": lambda a, b: _lib(a, b).div(a, b, rounding_mode="trunc"),
}


def _lib(a, b):
    return ember if isinstance(a, ember.Tensor) or isinstance(b, ember.Tensor) else torch


def name(dtype) -> str:
    return str(dtype).split(".")[-1]


def operand(m, kind: str, dtype: str):
    """A dimensioned tensor ("dim"), a zero-dim tensor ("zero") or a Python scalar."""
    if kind == "dim":
        return m.ones(2, dtype=getattr(m, dtype))
    if kind == "zero":
        return m.ones((), dtype=getattr(m, dtype))
    return SCALARS[dtype]


def check_op(op_name: str, a_spec: tuple, b_spec: tuple) -> str | None:
    """None if Ember agrees with torch on op(a, b) (dtype, values, or both raising)."""
    op = OPS[op_name]
    try:
        t = op(operand(torch, *a_spec), operand(torch, *b_spec))
    except RuntimeError:
        try:
            op(operand(ember, *a_spec), operand(ember, *b_spec))
        except RuntimeError:
            return None
        return f"{a_spec} {op_name} {b_spec}: torch raises, Ember does not"
    try:
        e = op(operand(ember, *a_spec), operand(ember, *b_spec))
    except Exception as exc:  # noqa: BLE001 (reported as a mismatch)
        return f"{a_spec} {op_name} {b_spec}: Ember raised {exc!r}"
    if name(e.dtype) != name(t.dtype):
        return f"{a_spec} {op_name} {b_spec}: dtype {name(e.dtype)}, torch {name(t.dtype)}"
    if tuple(e.shape) != tuple(t.shape):
        return f"{a_spec} {op_name} {b_spec}: shape {tuple(e.shape)}, torch {tuple(t.shape)}"
    if not np.allclose(e.numpy().astype(np.float64), t.numpy().astype(np.float64)):
        return f"{a_spec} {op_name} {b_spec}: values {e.tolist()}, torch {t.tolist()}"
    return None


TENSOR_KINDS = ["dim", "zero"]


@pytest.mark.parametrize("a_kind,b_kind", list(itertools.product(TENSOR_KINDS, TENSOR_KINDS)))
@pytest.mark.parametrize("op_name", list(OPS))
def test_tensor_tensor_promotion(op_name, a_kind, b_kind):
    errors = []
    for a, b in itertools.product(DTYPES, DTYPES):
        err = check_op(op_name, (a_kind, a), (b_kind, b))
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("t_kind", TENSOR_KINDS)
@pytest.mark.parametrize("scalar_first", [False, True],
                         ids=["tensor-op-scalar", "scalar-op-tensor"])
@pytest.mark.parametrize("op_name", list(OPS))
def test_tensor_scalar_promotion(op_name, scalar_first, t_kind):
    errors = []
    for d, s in itertools.product(DTYPES, SCALARS):
        specs = [(t_kind, d), ("scalar", s)]
        if scalar_first:
            specs.reverse()
        err = check_op(op_name, *specs)
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


NUMPY_SCALARS = {"np.float64": np.float64(2.5), "np.float32": np.float32(2.5),
                 "np.int64": np.int64(3)}


@pytest.mark.parametrize("op_name", list(OPS))
def test_numpy_scalars_promote_as_python_numbers(op_name):
    """float32 tensor * np.sqrt(2.0) is float32: a numpy scalar is a Python number to torch
    (CS231n's random_weight), though numpy 2 alone computes float32 * np.float64 in float64."""
    errors = []
    for d, (s, value) in itertools.product(DTYPES, NUMPY_SCALARS.items()):
        SCALARS[s] = value
        try:
            for specs in ([("dim", d), ("scalar", s)], [("scalar", s), ("zero", d)]):
                err = check_op(op_name, *specs)
                if err:
                    errors.append(err)
        finally:
            del SCALARS[s]
    assert not errors, "\n".join(errors)


def test_clamp_with_numpy_scalar_bounds():
    for m in (torch, ember):
        x = m.tensor([0.2, 0.7, 1.4])
        assert name(m.clamp(x, min=np.float64(0.5)).dtype) == "float32"
        assert name(x.clamp(np.float32(0.5), np.float64(1.0)).dtype) == "float32"
        assert name(m.arange(3).clamp(max=np.float64(1.5)).dtype) == "float32"
        assert m.arange(3).clamp(max=np.float64(1.5)).tolist() == [0.0, 1.0, 1.5]


@pytest.mark.parametrize("op_name", ["+", "-", "*", "/"])
def test_inplace_promotion(op_name):
    """x op= y keeps x's dtype and raises where the result type cannot be cast back."""
    iop = {"+": operator.iadd, "-": operator.isub, "*": operator.imul, "/": operator.itruediv}
    errors = []
    for a, b in itertools.product(DTYPES, DTYPES):
        results = []
        for m in (torch, ember):
            x = m.ones(2, dtype=getattr(m, a))
            y = m.ones(2, dtype=getattr(m, b))
            try:
                out = iop[op_name](x, y)
                results.append((name(out.dtype), out.tolist()))
            except RuntimeError:
                results.append("raises")
        if results[0] != results[1]:
            errors.append(f"{a} {op_name}= {b}: Ember {results[1]}, torch {results[0]}")
    assert not errors, "\n".join(errors)


def test_promote_types_all_pairs():
    for a, b in itertools.product(DTYPES, DTYPES):
        e = ember.promote_types(getattr(ember, a), getattr(ember, b))
        t = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert name(e) == name(t), (a, b)


@pytest.mark.parametrize("a_kind", ["dim", "zero", "scalar"])
@pytest.mark.parametrize("b_kind", ["dim", "zero", "scalar"])
def test_result_type(a_kind, b_kind):
    a_dtypes = list(SCALARS) if a_kind == "scalar" else DTYPES
    b_dtypes = list(SCALARS) if b_kind == "scalar" else DTYPES
    for a, b in itertools.product(a_dtypes, b_dtypes):
        t = torch.result_type(operand(torch, a_kind, a), operand(torch, b_kind, b))
        e = ember.result_type(operand(ember, a_kind, a), operand(ember, b_kind, b))
        assert name(e) == name(t), (a_kind, a, b_kind, b)


def test_can_cast_all_pairs():
    for a, b in itertools.product(DTYPES, DTYPES):
        e = ember.can_cast(getattr(ember, a), getattr(ember, b))
        t = torch.can_cast(getattr(torch, a), getattr(torch, b))
        assert e == t, (a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_attributes(dtype):
    e, t = getattr(ember, dtype), getattr(torch, dtype)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert repr(e) == repr(t).replace("torch", "ember")
    assert ember.ones(1, dtype=e).element_size() == torch.ones(1, dtype=t).element_size()


def test_dtype_aliases():
    for alias in ["half", "float", "double", "short", "int", "long"]:
        assert name(getattr(ember, alias)) == name(getattr(torch, alias)), alias


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo(dtype):
    e, t = ember.finfo(getattr(ember, dtype)), torch.finfo(getattr(torch, dtype))
    for attr in ["bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"]:
        assert getattr(e, attr) == getattr(t, attr), attr
    assert ember.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError):
        ember.finfo(ember.int32)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(dtype):
    e, t = ember.iinfo(getattr(ember, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (e.bits, e.min, e.max) == (t.bits, t.min, t.max)
    with pytest.raises(TypeError):
        ember.iinfo(ember.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_every_dtype(dtype):
    """Casting float values (negative, fractional, large) follows torch (truncation toward 0)."""
    values = [-2.7, -1.0, -0.5, 0.0, 0.5, 1.9, 3.0, 100.25]
    e = ember.tensor(values).to(getattr(ember, dtype))
    t = torch.tensor(values).to(getattr(torch, dtype))
    if dtype == "uint8":  # negative floats to uint8 are undefined in C; compare the rest
        e, t = e[4:], t[4:]
    assert name(e.dtype) == name(t.dtype)
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "log1p", "erf", "erfc", "erfinv",
                                  "logit", "expm1", "lgamma", "digamma",
                                  "nn.functional.silu", "nn.functional.glu", "special.expit"])
def test_float16_unary_ops_keep_float16_and_torch_s_values(name):
    """float16 in, float16 out (scipy's special functions return float64 for half inputs),
    with torch's values: torch computes half in float32 and rounds once."""
    x = np.linspace(-0.9, 0.9, 64).astype(np.float16)
    results = []
    for lib in (ember, torch):
        fn = lib
        for part in name.split("."):
            fn = getattr(fn, part)
        t = lib.tensor(x, requires_grad=True)
        y = fn(t)
        y.backward(lib.ones_like(y))
        results.append((y, t.grad))
    (ey, eg), (ty, tg) = results
    assert str(ey.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1] == "float16"
    assert str(eg.dtype).split(".")[-1] == "float16"
    np.testing.assert_allclose(ey.detach().numpy().astype(np.float64),
                               ty.detach().numpy().astype(np.float64), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(eg.numpy().astype(np.float64), tg.numpy().astype(np.float64),
                               rtol=4e-3, atol=4e-3)
