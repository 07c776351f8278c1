"""amp.custom_fwd/custom_bwd, random.fork_rng, nn.utils.convert_conv*_weight_memory_format,
testing.assert_allclose: compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import assert_close

import ember


def _scaled_square(m):  # noqa: ANN001, ANN202
    class ScaledSquare(m.autograd.Function):
        @staticmethod
        @m.amp.custom_fwd(device_type="cpu", cast_inputs=m.float64)
        def forward(ctx, x, scale):  # noqa: ANN001, ANN205
            ctx.save_for_backward(x)
            ctx.scale = scale
            ctx.seen = (x.dtype, m.is_autocast_enabled("cpu"))
            return x * x * scale

        @staticmethod
        @m.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):  # noqa: ANN001, ANN205
            (x,) = ctx.saved_tensors
            ctx.seen_bwd = m.is_autocast_enabled("cpu")
            return 2 * x * g * ctx.scale, None

    return ScaledSquare


def test_custom_fwd_casts_inputs_and_disables_autocast_like_torch() -> None:
    seen = {}
    for m in (ember, torch):
        fn = _scaled_square(m)
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        with m.autocast("cpu", dtype=m.float16):
            y = fn.apply(x, 0.5)
        y.sum().backward()
        seen[m.__name__] = (str(y.dtype).split(".")[-1], y.detach().tolist(),
                            x.grad.tolist(), y.grad_fn is not None)
        assert y.dtype == m.float64
    assert seen["ember"] == seen["torch"]


def test_custom_fwd_without_cast_records_the_autocast_state() -> None:
    for m in (ember, torch):
        class Identity(m.autograd.Function):
            @staticmethod
            @m.amp.custom_fwd(device_type="cpu")
            def forward(ctx, x):  # noqa: ANN001, ANN205
                return x.clone()

            @staticmethod
            @m.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):  # noqa: ANN001, ANN205
                assert m.is_autocast_enabled("cpu") == ctx._fwd_used_autocast
                return g

        x = m.ones(2, requires_grad=True)
        with m.autocast("cpu", dtype=m.float16):
            y = Identity.apply(x)
        y.sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="device_type"):
        ember.amp.custom_fwd(device_type=3)
    assert ember.amp.is_autocast_available("cpu") and ember.amp.is_autocast_available("cuda")
    assert not ember.amp.is_autocast_available("tpu")
    with pytest.warns(FutureWarning, match="deprecated"):
        ember.cuda.amp.custom_fwd(lambda ctx, x: x)


def test_fork_rng_restores_the_cpu_stream_like_torch() -> None:
    draws = {}
    for m in (ember, torch):
        m.manual_seed(3)
        a = m.rand(3)
        with m.random.fork_rng():
            inside = m.rand(3)
        b = m.rand(3)
        m.manual_seed(3)
        m.rand(3)
        expected_b = m.rand(3)
        assert m.equal(b, expected_b) and m.equal(inside, expected_b)
        with m.random.fork_rng(enabled=False):
            m.rand(1)
        draws[m.__name__] = a
    with pytest.raises(ZeroDivisionError):
        with ember.random.fork_rng():
            ember.rand(2)
            raise ZeroDivisionError
    ember.manual_seed(0)


def test_convert_conv_weight_memory_format_matches_torch() -> None:
    def build(m):  # noqa: ANN001, ANN202
        return m.nn.Sequential(m.nn.Conv2d(3, 4, 3), m.nn.Sequential(m.nn.ConvTranspose2d(4, 2, 2)),
                               m.nn.Conv3d(2, 2, 2), m.nn.Linear(2, 2))

    em, tm = build(ember), build(torch)
    assert ember.nn.utils.convert_conv2d_weight_memory_format(em, ember.channels_last) is em
    torch.nn.utils.convert_conv2d_weight_memory_format(tm, torch.channels_last)
    ember.nn.utils.convert_conv3d_weight_memory_format(em, ember.channels_last_3d)
    torch.nn.utils.convert_conv3d_weight_memory_format(tm, torch.channels_last_3d)
    for (name, e), (_, t) in zip(em.named_parameters(), tm.named_parameters()):
        assert e.stride() == t.stride(), name


def test_assert_allclose_follows_the_old_rules() -> None:
    with pytest.warns(FutureWarning, match="deprecated"):
        ember.testing.assert_allclose(ember.tensor([1.0, float("nan")]), [1.00001, float("nan")])
    with pytest.warns(FutureWarning):
        with pytest.raises(AssertionError):
            ember.testing.assert_allclose(ember.tensor([1.0]), [1.1])
    with pytest.warns(FutureWarning):
        ember.testing.assert_allclose(ember.tensor([1, 2]), ember.tensor([1.0, 2.0]))
    with pytest.warns(FutureWarning):
        torch.testing.assert_allclose(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    x = np.float32(1.0)
    assert_close(ember.tensor([x]), torch.tensor([x]), 0, 0, "sanity")


@pytest.mark.skipif(ember.cuda.is_available(), reason="torch's CPU build answers; no GPU here")
def test_cuda_utilities_without_a_gpu_answer_like_torchs_cpu_build() -> None:
    for name in ("max_memory_allocated", "max_memory_reserved", "memory_allocated",
                 "memory_stats", "get_arch_list", "get_rng_state_all", "is_initialized",
                 "seed", "seed_all"):
        e, t = getattr(ember.cuda, name)(), getattr(torch.cuda, name)()
        assert e == t or (not e and not t), name
    for name in ("mem_get_info", "get_rng_state", "initial_seed", "init",
                 "get_device_capability"):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            getattr(ember.cuda, name)()
        with pytest.raises((AssertionError, RuntimeError)):
            getattr(torch.cuda, name)()
    ember.cuda.reset_peak_memory_stats()
    assert "No GPU" in ember.cuda.memory_summary()
    assert not isinstance(ember.zeros(2), ember.cuda.FloatTensor)


def _autocast_state(m: Any) -> tuple:
    return (m.is_autocast_enabled("cpu"), str(m.get_autocast_dtype("cpu")).split(".")[-1],
            m.is_autocast_cpu_enabled(), str(m.get_autocast_cpu_dtype()).split(".")[-1],
            str(m.get_autocast_gpu_dtype()).split(".")[-1], m.is_autocast_cache_enabled())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_autocast_state_functions_follow_torch() -> None:
    # the flag and the dtype are separate settings: a dtype set while disabled is used when
    # enabled, `autocast(...)` without a dtype takes the one set, and leaving restores both
    seen = []
    for m in (torch, ember):
        trace = [_autocast_state(m)]
        m.set_autocast_dtype("cpu", m.float16)
        trace.append(_autocast_state(m))
        m.set_autocast_enabled("cpu", True)
        trace.append(_autocast_state(m))
        x = m.ones(2, 2)
        trace.append(str((x @ x).dtype).split(".")[-1])
        m.set_autocast_enabled("cpu", False)
        with m.autocast("cpu", cache_enabled=False):
            trace.append(_autocast_state(m))
            trace.append(str((x @ x).dtype).split(".")[-1])
        with m.autocast("cpu", dtype=m.bfloat16, enabled=False):
            trace.append(_autocast_state(m))
        trace.append(_autocast_state(m))
        m.set_autocast_cpu_dtype(m.bfloat16)
        m.set_autocast_cpu_enabled(True)
        trace.append(_autocast_state(m))
        m.set_autocast_cpu_enabled(False)
        trace.append((m.autocast_increment_nesting(), m.autocast_decrement_nesting()))
        m.set_autocast_cache_enabled(False)
        trace.append(m.is_autocast_cache_enabled())
        m.set_autocast_cache_enabled(True)
        m.clear_autocast_cache()
        trace.append(_autocast_state(m))
        seen.append(trace)
    assert seen[0] == seen[1]


@pytest.mark.parametrize("name", ["is_autocast_cpu_enabled", "get_autocast_cpu_dtype",
                                  "get_autocast_gpu_dtype"])
def test_legacy_autocast_getters_are_deprecated(name: str) -> None:
    for m in (torch, ember):
        with pytest.warns(DeprecationWarning, match=name):
            getattr(m, name)()
