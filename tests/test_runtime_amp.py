"""Process settings (threads, determinism, compile, backends), GradScaler and activation
checkpointing, each compared with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.utils.checkpoint as ember_checkpoint
import torch.utils.checkpoint as torch_checkpoint


def test_num_threads_round_trip():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(before)
    assert ember.get_num_threads() == before
    with pytest.raises(RuntimeError):
        ember.set_num_threads(0)


def test_settings_read_back_like_torch():
    ember.use_deterministic_algorithms(True, warn_only=True)
    assert ember.are_deterministic_algorithms_enabled()
    assert ember.is_deterministic_algorithms_warn_only_enabled()
    ember.use_deterministic_algorithms(False)
    assert not ember.are_deterministic_algorithms_enabled()
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    ember.set_float32_matmul_precision("high")
    assert ember.get_float32_matmul_precision() == "high"
    ember.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError):
        ember.set_float32_matmul_precision("fast")


def test_backends_answer_for_this_machine():
    assert ember.backends.mps.is_available() is False
    assert ember.backends.cudnn.is_available() is False  # Ember never calls cuDNN
    ember.backends.cudnn.benchmark = True  # scripts set these flags
    ember.backends.cuda.matmul.allow_tf32 = True
    assert ember.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()


def test_compile_returns_a_working_callable():
    model = ember.nn.Linear(3, 2)
    compiled = ember.compile(model, mode="reduce-overhead")
    x = ember.randn(4, 3)
    np.testing.assert_array_equal(compiled(x).detach().numpy(), model(x).detach().numpy())

    @ember.compile
    def f(x):
        return x * 2

    @ember.compile(fullgraph=True)
    def g(x):
        return x + 1

    assert f(ember.tensor(3.0)).item() == 6.0 and g(ember.tensor(3.0)).item() == 4.0


def test_compile_wraps_a_module_as_torch():
    """torch.compile(model) is an OptimizedModule: '_orig_mod.' state_dict keys (nanoGPT strips
    them when loading), `._orig_mod` unwraps, attributes and train/eval pass through."""
    import copy
    import io

    results = []
    for lib in (torch, ember):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        c = lib.compile(net)
        out = [type(c).__name__, c._orig_mod is net, list(c.state_dict()), c.training]
        c.eval()
        out += [net.training, c.training, net[1].training]
        c.train()
        c.foo = 3
        out += [net.foo, len(c), repr(c), [n for n, _ in c.named_parameters()]]
        out += [[n for n, _ in c.named_modules()], hasattr(c, "weight")]
        d = copy.deepcopy(c)
        out += [type(d).__name__, d._orig_mod is not net]
        buf = io.BytesIO()
        lib.save(c, buf)
        buf.seek(0)
        e = lib.load(buf, weights_only=False)
        out += [type(e).__name__, list(e.state_dict())[:1], str(c.load_state_dict(c.state_dict()))]
        out += [tuple(c(lib.ones(3, 2)).shape), lib.compile(net, disable=True) is net]
        results.append(str(out).replace("ember", "torch"))
    assert results[1] == results[0]


# ---------------------------------------------------------------------------------------------
# GradScaler
# ---------------------------------------------------------------------------------------------


def _scaler_run(m, scaler_cls, poison_steps):
    """Train a tiny model with a scaler; at `poison_steps` one gradient becomes inf."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    xs = rng.standard_normal((6, 5, 4)).astype(np.float32)
    w = m.tensor(w0, requires_grad=True)
    opt = m.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = scaler_cls("cpu", init_scale=1024.0, growth_interval=2)
    scales, weights = [], []
    for step, x in enumerate(xs):
        opt.zero_grad()
        loss = (m.tensor(x) @ w.T).square().mean()
        scaler.scale(loss).backward()
        if step in poison_steps:
            w.grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        weights.append(w.detach().numpy().copy())
    return scales, weights


def test_grad_scaler_matches_torch_with_skipped_steps_and_growth():
    e_scales, e_weights = _scaler_run(ember, ember.amp.GradScaler, {1, 4})
    t_scales, t_weights = _scaler_run(torch, torch.amp.GradScaler, {1, 4})
    assert e_scales == t_scales
    for a, b in zip(e_weights, t_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_grad_scaler_unscale_then_clip_and_state_dict():
    for m in (ember, torch):
        w = m.ones(2, requires_grad=True)
        opt = m.optim.SGD([w], lr=1.0)
        scaler = m.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale((w * 3).sum()).backward()
        scaler.unscale_(opt)
        np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])
        with pytest.raises(RuntimeError, match="unscale_"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step"):
            scaler.step(opt)
        scaler.update()
        state = scaler.state_dict()
        assert state["scale"] == 8.0 and state["_growth_tracker"] == 1
    with pytest.raises(RuntimeError, match="Closure"):
        ember.amp.GradScaler("cpu").step(opt, lambda: 0)


def test_cuda_scaler_and_autocast_disable_themselves_without_a_gpu():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = ember.cuda.amp.GradScaler()
        with ember.autocast("cuda"):
            y = ember.nn.functional.linear(ember.randn(2, 3), ember.randn(4, 3))
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    assert y.dtype == ember.float32
    assert len(caught) == 2
    loss = ember.tensor(2.0)
    assert scaler.scale(loss) is loss


def test_cpu_autocast_defaults_to_bfloat16_and_can_be_disabled():
    pytest.importorskip("ml_dtypes")  # without it: tests/test_bfloat16.py checks the error
    with ember.autocast("cpu"), torch.autocast("cpu"):
        assert ember.get_autocast_dtype("cpu") == ember.bfloat16
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    with ember.autocast("cpu", enabled=False):
        assert not ember.amp.is_autocast_enabled("cpu")


# ---------------------------------------------------------------------------------------------
# Activation checkpointing
# ---------------------------------------------------------------------------------------------


def _block(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(4, 8), m.nn.GELU(), m.nn.Linear(8, 8), m.nn.Tanh(),
                           m.nn.Linear(8, 3))


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_gradients_match_torch(segments):
    x0 = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    results = {}
    for m, cp in ((ember, ember_checkpoint), (torch, torch_checkpoint)):
        net = _block(m)
        if m is ember:  # the same weights in both
            net.load_state_dict({k: ember.tensor(v.detach().numpy())
                                 for k, v in _block(torch).state_dict().items()})
        x = m.tensor(x0, requires_grad=True)
        y = cp.checkpoint(net, x, use_reentrant=False) if segments == 1 else \
            cp.checkpoint_sequential(net, segments, x, use_reentrant=False)
        (y * m.arange(3.0)).sum().backward()
        results[m.__name__] = [y.detach().numpy(), x.grad.numpy()] + \
            [p.grad.numpy() for p in net.parameters()]
    for a, b in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_checkpoint_replays_dropout_and_reaches_parameters_without_input_grad():
    net = ember.nn.Sequential(ember.nn.Linear(4, 16), ember.nn.Dropout(0.5), ember.nn.Linear(16, 2))
    x = ember.randn(8, 4)  # no requires_grad: only the parameters need gradients
    ember.manual_seed(3)
    net(x).sum().backward()
    plain = [p.grad.numpy().copy() for p in net.parameters()]
    net.zero_grad()
    ember.manual_seed(3)
    out = ember_checkpoint.checkpoint(net, x, use_reentrant=False)
    out.sum().backward()
    for p, g in zip(net.parameters(), plain):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def _autocast_run(m):
    m.manual_seed(0)
    lin = m.nn.Linear(4, 3)
    conv = m.nn.Conv2d(2, 3, 3)
    rng = np.random.default_rng(0)
    x = m.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    img = m.tensor(rng.standard_normal((1, 2, 5, 5)).astype(np.float32))
    q = m.tensor(rng.standard_normal((1, 2, 4, 8)).astype(np.float32))
    with m.autocast("cpu", dtype=m.float16):
        outs = [lin(x), x @ x.T, conv(img), m.bmm(q[0], q[0].mT),
                m.nn.functional.scaled_dot_product_attention(q, q, q)]
    loss = sum(o.float().square().sum() for o in outs)
    loss.backward()
    return outs, lin, conv


def test_autocast_runs_products_in_float16_like_torch():
    e_outs, e_lin, e_conv = _autocast_run(ember)
    t_outs, t_lin, t_conv = _autocast_run(torch)
    e_lin.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_lin.state_dict().items()})
    for a, b in zip(e_outs, t_outs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1] == "float16"
    assert e_lin.weight.grad.dtype == ember.float32  # parameters and their gradients stay float32
    with ember.autocast("cpu", dtype=ember.float16):
        assert ember.amp.is_autocast_enabled("cpu")
    assert not ember.amp.is_autocast_enabled("cpu")


def test_autocast_linear_values_and_gradients_match_torch():
    rng = np.random.default_rng(1)
    w0, x0 = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    grads = {}
    for m in (ember, torch):
        w = m.tensor(w0.astype(np.float32), requires_grad=True)
        x = m.tensor(x0.astype(np.float32), requires_grad=True)
        with m.autocast("cpu", dtype=m.float16):
            y = m.nn.functional.linear(x, w)
        (y.float() * m.arange(15.0).reshape(5, 3)).sum().backward()
        grads[m.__name__] = (y.detach().float().numpy(), w.grad.numpy(), x.grad.numpy())
    for a, b in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-2)


def test_accelerator_queries_follow_torch_on_this_machine() -> None:
    import torch

    assert ember.accelerator.is_available() == torch.accelerator.is_available()
    ours, theirs = ember.accelerator.current_accelerator(), torch.accelerator.current_accelerator()
    assert (ours is None) == (theirs is None)
    if theirs is None:
        assert ember.accelerator.device_count() == torch.accelerator.device_count() == 0
        for lib in (torch, ember):
            with pytest.raises(RuntimeError):
                lib.accelerator.current_device_index()
        device = ember.accelerator.current_accelerator() if ember.accelerator.is_available() \
            else "cpu"
        assert ember.zeros(1, device=device).device.type == "cpu"
    assert ember.cuda.is_bf16_supported() is (ember.cuda.is_available()
                                               and ember.backend.cuda_bfloat16_supported())
    assert ember.cuda.memory_reserved() >= 0
