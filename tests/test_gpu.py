"""The CUDA (CuPy) path: the same models and training steps on the GPU as on the CPU.

Skipped where no GPU is visible. The op-by-op comparison with torch runs on the GPU too with
`EMBER_TEST_DEVICE=cuda python -m pytest tests/test_op_table.py tests/test_nn_*.py` (the helpers
put Ember's tensors on that device); this file covers what those helpers do not: device moves,
whole models and optimizers, checkpoints, mixed precision and the command line.
"""

from __future__ import annotations

import copy
import io
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.models
import ember.nn as nn
import ember.nn.functional as F

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU (cupy)")


def host(t: ember.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def test_device_queries_and_moves() -> None:
    assert ember.cuda.device_count() >= 1
    assert isinstance(ember.cuda.get_device_name(), str)
    x = ember.arange(6.0).reshape(2, 3)
    g = x.cuda()
    assert g.is_cuda and not x.is_cuda
    assert g.device == ember.device("cuda", 0) or str(g.device).startswith("cuda")
    assert g.to("cpu").device.type == "cpu"
    np.testing.assert_array_equal(host(g * 2), np.arange(6.0).reshape(2, 3) * 2)
    assert (g.sum()).item() == 15.0
    assert g.tolist() == x.tolist()
    z = ember.zeros(2, 3, device="cuda")
    assert z.is_cuda and z.dtype == ember.float32
    with pytest.raises(TypeError, match="cpu"):
        g.numpy()
    with pytest.raises(RuntimeError, match="cuda"):
        _ = x + g
    before = ember.cuda.memory_allocated()
    big = ember.empty(1 << 20, device="cuda")
    assert ember.cuda.memory_allocated() >= before + big.numel() * 4 - 1
    ember.cuda.synchronize()


def test_random_on_gpu_is_seeded_and_dropout_scales() -> None:
    ember.manual_seed(3)
    a = ember.randn(1000, device="cuda")
    ember.manual_seed(3)
    b = ember.randn(1000, device="cuda")
    np.testing.assert_array_equal(host(a), host(b))
    assert abs(host(a).mean()) < 0.15 and 0.8 < host(a).std() < 1.2
    x = ember.ones(100_000, device="cuda")
    y = F.dropout(x, p=0.25, training=True)
    kept = host(y) != 0
    assert 0.73 < kept.mean() < 0.77
    np.testing.assert_allclose(host(y)[kept], 1 / 0.75, rtol=1e-6)


def _same_training(make, inputs, loss_fn, steps: int = 3, opt=None, rtol=1e-7, atol=1e-9):
    """Train the same float64 model on CPU and GPU; losses and weights must agree."""
    ember.manual_seed(0)
    cpu_model = make().double()
    gpu_model = copy.deepcopy(cpu_model).to("cuda")
    opt = opt or (lambda ps: ember.optim.AdamW(ps, lr=1e-2, weight_decay=0.1))
    results = []
    for model, dev in ((cpu_model, "cpu"), (gpu_model, "cuda")):
        optimizer = opt(model.parameters())
        losses = []
        for _ in range(steps):
            xs = [x.to(dev) for x in inputs]
            optimizer.zero_grad()
            loss = loss_fn(model, *xs)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results.append((losses, {k: host(v) for k, v in model.state_dict().items()}))
    (cpu_losses, cpu_state), (gpu_losses, gpu_state) = results
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=rtol, atol=atol)
    for k, v in cpu_state.items():
        np.testing.assert_allclose(gpu_state[k], v, rtol=rtol * 10, atol=atol * 10, err_msg=k)
    for p in gpu_model.parameters():
        assert p.is_cuda and (p.grad is None or p.grad.is_cuda)


def _images(n: int, c: int, size: int, classes: int = 10) -> tuple:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((n, c, size, size)))
    y = ember.tensor(rng.integers(0, classes, n))
    return x, y


def test_lenet5_trains_the_same_on_gpu() -> None:
    x, y = _images(8, 1, 28)
    _same_training(lambda: ember.models.lenet5(), [x, y],
                   lambda m, x, y: F.cross_entropy(m(x), y))


def test_resnet20_with_batchnorm_trains_the_same_on_gpu() -> None:
    x, y = _images(6, 1, 28)
    _same_training(lambda: ember.models.resnet20(in_channels=1), [x, y],
                   lambda m, x, y: F.cross_entropy(m(x), y, label_smoothing=0.1),
                   opt=lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))


def test_efficientnet_with_depthwise_conv_and_se_trains_the_same_on_gpu() -> None:
    x, y = _images(2, 3, 32)
    stages = [(1, 3, 1, 16, 8, 1), (6, 3, 2, 8, 16, 2), (6, 5, 2, 16, 24, 1)]

    def make():
        return ember.models.EfficientNet([ember.models.MBConvConfig(*s) for s in stages],
                                         dropout=0.0, stochastic_depth_prob=0.0, num_classes=10)

    _same_training(make, [x, y], lambda m, x, y: F.cross_entropy(m(x), y), steps=2)


def test_vit_trains_the_same_on_gpu() -> None:
    x, y = _images(4, 3, 32)
    _same_training(lambda: ember.models.vit_tiny(num_classes=10, dropout=0.0), [x, y],
                   lambda m, x, y: F.cross_entropy(m(x), y))


def test_gpt_trains_the_same_on_gpu() -> None:
    from ember.models.gpt import GPT, GPTConfig

    cfg = GPTConfig(block_size=16, vocab_size=40, n_layer=2, n_head=2, n_embd=32)
    rng = np.random.default_rng(0)
    idx = ember.tensor(rng.integers(0, 40, (4, 16)))
    tgt = ember.tensor(rng.integers(0, 40, (4, 16)))

    def loss(m, idx, tgt):
        _, loss = m(idx, tgt)
        return loss

    _same_training(lambda: GPT(cfg), [idx, tgt], loss)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_packed_bidirectional_rnn_trains_the_same_on_gpu(mode: str) -> None:
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((3, 7, 5)))
    lengths = ember.tensor([7, 4, 2])

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = getattr(nn, mode)(5, 6, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Linear(12, 1)

        def forward(self, x):
            packed = pack_padded_sequence(x, lengths, batch_first=True)
            out, _ = self.rnn(packed)
            out, _ = pad_packed_sequence(out, batch_first=True)
            return self.head(out).pow(2).mean()

    _same_training(Net, [x], lambda m, x: m(x),
                   opt=lambda ps: ember.optim.RMSprop(ps, lr=1e-2, momentum=0.5))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
                                  "RAdam", "Adadelta", "ASGD", "Rprop"])
def test_every_optimizer_steps_the_same_on_gpu(name: str) -> None:
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((16, 4)))
    y = ember.tensor(rng.standard_normal((16, 2)))
    kwargs = {"lr": 1e-2} if name != "Adadelta" else {}
    _same_training(lambda: nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2)), [x, y],
                   lambda m, x, y: F.mse_loss(m(x), y), steps=4,
                   opt=lambda ps: getattr(ember.optim, name)(ps, **kwargs))


def test_losses_on_gpu_match_cpu() -> None:
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((6, 5))
    target = rng.integers(0, 5, 6)
    probs = 1 / (1 + np.exp(-rng.standard_normal((6, 5))))
    a, b, c = (rng.standard_normal((6, 4)) for _ in range(3))
    log_probs = np.log(np.exp(rng.standard_normal((12, 2, 6))).cumsum(-1) / 10)
    cases = [
        lambda d: F.cross_entropy(d(logits), d(target), label_smoothing=0.2),
        lambda d: F.nll_loss(F.log_softmax(d(logits), 1), d(target), reduction="sum"),
        lambda d: F.binary_cross_entropy(d(probs), d((probs > 0.5) * 1.0)),
        lambda d: F.binary_cross_entropy_with_logits(d(logits), d(probs)),
        lambda d: F.huber_loss(d(a), d(b), delta=0.5) + F.l1_loss(d(a), d(c)),
        lambda d: F.triplet_margin_loss(d(a), d(b), d(c)),
        lambda d: F.kl_div(F.log_softmax(d(a), 1), F.softmax(d(b), 1), reduction="batchmean"),
        lambda d: F.ctc_loss(F.log_softmax(d(log_probs), 2), d(np.array([[1, 2, 3], [2, 2, 4]])),
                             d(np.array([12, 10])), d(np.array([3, 3]))),
    ]
    for i, case in enumerate(cases):
        values, grads = [], []
        for dev in ("cpu", "cuda"):
            leaves = []

            def d(arr, dev=dev, leaves=leaves):
                t = ember.tensor(arr, device=dev)
                if t.is_floating_point():
                    t.requires_grad_(True)
                    leaves.append(t)
                return t

            out = case(d)
            out.backward()
            values.append(out.item())
            grads.append([host(t.grad) for t in leaves])
        np.testing.assert_allclose(values[1], values[0], rtol=1e-9, err_msg=f"loss {i}")
        for g_gpu, g_cpu in zip(grads[1], grads[0]):
            np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-8, atol=1e-10, err_msg=f"loss {i}")


def test_checkpoint_of_gpu_model_loads_on_cpu_and_gpu() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).cuda()
    opt = ember.optim.Adam(model.parameters())
    model(ember.randn(2, 1, 5, 5, device="cuda")).sum().backward()
    opt.step()
    buf = io.BytesIO()
    ember.save({"model": model.state_dict(), "opt": opt.state_dict()}, buf)
    buf.seek(0)
    on_gpu = ember.load(buf)
    assert all(v.is_cuda for v in on_gpu["model"].values())
    buf.seek(0)
    on_cpu = ember.load(buf, map_location="cpu")
    assert not any(v.is_cuda for v in on_cpu["model"].values())
    cpu_model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    cpu_model.load_state_dict(on_cpu["model"])
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(host(cpu_model.state_dict()[k]), host(v), err_msg=k)
    opt2 = ember.optim.Adam(cpu_model.parameters())
    opt2.load_state_dict(on_cpu["opt"])


def test_autocast_and_grad_scaler_on_gpu() -> None:
    lin = nn.Linear(8, 4).cuda()
    x = ember.randn(3, 8, device="cuda")
    with ember.autocast("cuda"):
        y = lin(x)
        assert y.dtype == ember.float16
        z = y.float().mean()  # a sum would send 65536 into float16 grads: inf, a skipped step
    scaler = ember.amp.GradScaler("cuda")
    opt = ember.optim.SGD(lin.parameters(), lr=0.1)
    before = host(lin.weight).copy()
    scaler.scale(z).backward()
    assert lin.weight.grad.dtype == ember.float32
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 65536.0
    assert not np.allclose(host(lin.weight), before)


def test_pinned_loader_batches_move_to_gpu() -> None:
    from ember.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(ember.arange(20.0).reshape(10, 2), ember.arange(10))
    batches = list(DataLoader(ds, batch_size=4, pin_memory=True))
    x, y = batches[0]
    xg = x.to("cuda", non_blocking=True)
    assert xg.is_cuda and host(xg).tolist() == x.tolist()


def test_command_line_trains_on_gpu(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ember", "train", "--model", "mlp", "--dataset", "digits",
         "--epochs", "1", "--device", "cuda", "--no-progress", "--checkpoint", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "device cuda" in out.stdout


def test_default_device_puts_factories_and_layers_on_the_gpu() -> None:
    with ember.device("cuda"):
        assert ember.zeros(2).is_cuda and ember.randn(3).is_cuda and ember.tensor([1.0]).is_cuda
        layer = nn.Linear(3, 2)
        assert layer.weight.is_cuda
        assert not ember.zeros_like(ember.zeros(2, device="cpu")).is_cuda  # *_like: input's device
        assert not ember.from_numpy(np.zeros(2)).is_cuda
    assert not ember.zeros(2).is_cuda
    ember.set_default_device("cuda")
    try:
        assert ember.arange(3).is_cuda and ember.full((2,), 1.0).is_cuda
    finally:
        ember.set_default_device(None)


def test_cpu_scalar_tensor_meets_gpu_tensor_as_in_torch() -> None:
    g = ember.ones(3, device="cuda")
    out = g * ember.tensor(2.0) + ember.tensor(1.0)
    assert out.is_cuda and host(out).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(RuntimeError, match="same device"):
        _ = g + ember.ones(3)


def test_cpu_scalar_leaf_gets_a_cpu_gradient_from_gpu_ops() -> None:
    w = ember.tensor(2.0, requires_grad=True)  # a 0-d CPU leaf
    g = ember.ones(3, device="cuda")
    (g * w).sum().backward()
    assert not w.grad.is_cuda and w.grad.item() == 3.0


def test_accelerator_properties_and_events_on_gpu() -> None:
    assert ember.accelerator.is_available()
    assert ember.accelerator.current_accelerator() == ember.device("cuda")
    assert ember.accelerator.device_count() >= 1 and ember.accelerator.current_device_index() == 0
    props = ember.cuda.get_device_properties(0)
    assert props.total_memory > 0 and props.major >= 7 and isinstance(props.name, str)
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    start.record()
    x = ember.randn(512, 512, device="cuda")
    _ = x @ x
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0.0
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated() > 0
