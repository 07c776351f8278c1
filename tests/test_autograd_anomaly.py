"""Anomaly mode (which op, and which line of the caller, first produced NaN/inf) and gradcheck."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

import ember
from autograd_helpers import LIBS, check_same_error, rand

HERE = os.path.basename(__file__)

# numpy warns where it makes NaN/inf (torch does not); these tests make them on purpose
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered",
                                        "ignore:divide by zero", "ignore:overflow encountered")


def _line_of(marker: str) -> int:
    """The line number of this file that contains `marker` (a comment at the op's call)."""
    with open(__file__) as f:
        for n, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return n
    raise AssertionError(marker)


# ------------------------------------------------------------------ forward anomalies
def test_forward_nan_names_the_op_and_the_call_site():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as err:
            x.log()  # ANOMALY-LOG
    message = str(err.value)
    assert "Log" in message and "nan" in message
    assert HERE in message and f"line {_line_of('ANOMALY-LOG')}" in message


def test_forward_zero_over_zero():
    x = ember.zeros(3, requires_grad=True)
    with ember.autograd.detect_anomaly(), pytest.raises(RuntimeError) as err:
        x / x  # ANOMALY-DIV
    assert "Div" in str(err.value) and f"line {_line_of('ANOMALY-DIV')}" in str(err.value)


def test_forward_inf_is_reported():
    x = ember.tensor([1000.0], requires_grad=True)
    ember.autograd.set_detect_anomaly(True)
    try:
        assert ember.autograd.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="Exp.*inf"):
            x.exp()
    finally:
        ember.autograd.set_detect_anomaly(False)
    assert not ember.autograd.is_anomaly_enabled()


def test_nan_propagated_from_an_input_is_not_blamed_on_the_next_op():
    x = ember.tensor([-1.0, 1.0], requires_grad=True)
    y = x.log()  # the NaN is made outside anomaly mode
    with ember.autograd.detect_anomaly():
        z = y * 2 + 1  # only propagates it: no error
    assert np.isnan(z.detach().numpy()[0])


def test_no_error_without_anomaly_mode():
    for m in LIBS:
        x = m.tensor([1.0, -1.0], requires_grad=True)
        y = x.log().sqrt()
        y.sum().backward()
        assert np.isnan(x.grad.numpy()[1])


def test_masked_fill_minus_inf_then_softmax_is_legitimate():
    def run(m):
        x = m.tensor(rand(2, 4), requires_grad=True)
        mask = m.tensor([[False, True, False, True], [False, False, False, True]])
        with m.autograd.detect_anomaly():
            p = x.masked_fill(mask, float("-inf")).softmax(-1)
            (p * m.tensor(rand(2, 4, seed=1))).sum().backward()
        return p, x.grad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that anomaly mode is slow
        t_p, t_g = run(torch)
    e_p, e_g = run(ember)
    np.testing.assert_allclose(e_p.detach().numpy(), t_p.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(e_g.numpy(), t_g.numpy(), rtol=1e-12)


def test_anomaly_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with ember.autograd.detect_anomaly():
            raise ValueError
    assert not ember.autograd.is_anomaly_enabled()


# ------------------------------------------------------------------ backward anomalies
def test_backward_nan_names_the_backward_node():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt()  # ANOMALY-SQRT (finite forward, infinite derivative at 0)
        with pytest.raises(RuntimeError) as err:
            (y * 0).sum().backward()  # 0 * inf = nan in SqrtBackward0
    message = str(err.value)
    assert "SqrtBackward0" in message
    assert HERE in message and f"line {_line_of('ANOMALY-SQRT')}" in message


def test_backward_nan_from_custom_function():
    def run(m):
        class BadGrad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * float("nan")

        x = m.tensor([1.0, 2.0], requires_grad=True)
        with m.autograd.detect_anomaly():
            BadGrad.apply(x).sum().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        err = check_same_error(run, "BadGradBackward", "nan")
    assert HERE in str(err)


def test_backward_nan_is_silent_without_anomaly_mode():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


# ------------------------------------------------------------------ gradcheck
def test_gradcheck_passes_for_correct_ops():
    x = ember.tensor(rand(2, 3), requires_grad=True)
    w = ember.tensor(rand(3, 2, seed=1), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert ember.autograd.gradcheck(lambda a: (a.exp(), a.sum(0)), (x,))  # several outputs


def _wrong_square():
    class WrongSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    return WrongSquare


def test_gradcheck_catches_a_wrong_backward():
    x = ember.tensor(rand(2, 3), requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(_wrong_square().apply, (x,))
    assert issubclass(ember.autograd.GradcheckError, RuntimeError)  # as torch's
    assert ember.autograd.gradcheck(_wrong_square().apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_double_backward():
    class WrongCubeBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x.detach() ** 2  # right values, but not differentiable in x

    x = ember.tensor(rand(2, 2), requires_grad=True)
    assert ember.autograd.gradcheck(WrongCubeBackward.apply, (x,))
    assert not ember.autograd.gradgradcheck(WrongCubeBackward.apply, (x,), raise_exception=False)


def test_gradcheck_warns_for_float32_inputs():
    for m in LIBS:
        x = m.tensor(rand(2, 2, dtype="float32"), requires_grad=True)
        with pytest.warns(UserWarning, match="double precision"):
            m.autograd.gradcheck(lambda a: a * 2, (x,), eps=1e-3, atol=1e-2, rtol=1e-2)


def test_gradcheck_ignores_inputs_without_grad():
    x = ember.tensor(rand(2, 3), requires_grad=True)
    c = ember.tensor(rand(2, 3, seed=1))
    assert ember.autograd.gradcheck(lambda a, b: a * b.exp(), (x, c))
