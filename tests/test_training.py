"""`ember train`: a full run, its log and plot, early stopping, and bit-for-bit resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.training import TrainConfig, run
from ember.training import trainer as run_module


def small(tmp_path, **changes: object) -> TrainConfig:
    base = dict(dataset="digits", epochs=4, progress=False, verbose=False,
                log_dir=str(tmp_path / "log"))
    base.update(changes)
    return TrainConfig(**base)


def test_default_run_learns_digits(tmp_path) -> None:
    summary = run(small(tmp_path, epochs=6))
    assert summary["test_accuracy"] > 0.9
    log = json.loads((tmp_path / "log" / "log.json").read_text())
    assert log["test_accuracy"] == summary["test_accuracy"]
    assert [h["epoch"] for h in log["history"]] == list(range(1, 7))
    assert log["history"][-1]["train_loss"] < log["history"][0]["train_loss"]
    assert (tmp_path / "log" / "curves.png").stat().st_size > 1000


@pytest.mark.parametrize("optimizer,scheduler", [("sgd", "step"), ("adam", "onecycle"),
                                                 ("rmsprop", "plateau"), ("adagrad", "none")])
def test_optimizers_and_schedulers(tmp_path, optimizer: str, scheduler: str) -> None:
    lr = {"sgd": 0.05, "adam": 3e-3, "rmsprop": 1e-3, "adagrad": 0.05}[optimizer]
    summary = run(small(tmp_path, epochs=3, optimizer=optimizer, scheduler=scheduler, lr=lr))
    assert summary["test_accuracy"] > 0.75


def test_early_stopping(tmp_path) -> None:
    summary = run(small(tmp_path, epochs=40, patience=2, lr=3e-2, optimizer="sgd"))
    assert len(summary["history"]) < 40
    losses = [h["val_loss"] for h in summary["history"]]
    assert min(losses[:-2]) <= min(losses[-2:])  # the last `patience` epochs did not improve


def test_resume_continues_bit_for_bit(tmp_path, monkeypatch) -> None:
    full = run(small(tmp_path, checkpoint=str(tmp_path / "a")))
    real_train_epoch = run_module.train_epoch
    calls = {"n": 0}

    def crash_on_third_epoch(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated crash")
        return real_train_epoch(*args, **kwargs)

    monkeypatch.setattr(run_module, "train_epoch", crash_on_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        run(small(tmp_path, checkpoint=str(tmp_path / "b")))
    monkeypatch.setattr(run_module, "train_epoch", real_train_epoch)
    resumed = run(small(tmp_path, checkpoint=str(tmp_path / "b"), resume=True))
    timing = {"samples_per_s", "seconds"}

    def metrics(history: list) -> list:
        return [{k: v for k, v in h.items() if k not in timing} for h in history]

    assert metrics(resumed["history"]) == metrics(full["history"])
    assert resumed["test_accuracy"] == full["test_accuracy"]
    a = ember.load(tmp_path / "a" / "best_model.ckpt")
    b = ember.load(tmp_path / "b" / "best_model.ckpt")
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_bad_arguments_are_explained(tmp_path) -> None:
    with pytest.raises(SystemExit, match="unknown dataset 'imagenet'"):
        run(small(tmp_path, dataset="imagenet"))
    with pytest.raises(SystemExit, match="--resume needs --checkpoint"):
        run(small(tmp_path, resume=True))


def test_command_line(tmp_path) -> None:
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-m", "ember", "train", "--epochs", "2",
                          "--no-progress", "--log-dir", str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout
    assert (tmp_path / "log.json").exists()
    help_text = subprocess.run([sys.executable, "-m", "ember", "train", "--help"],
                               capture_output=True, text=True, env=env, timeout=60).stdout
    for option in ("--model", "--dataset", "--epochs", "--batch-size", "--lr", "--optimizer",
                   "--scheduler", "--device", "--seed", "--checkpoint", "--resume"):
        assert option in help_text


def test_augmentation_is_seeded_and_shape_preserving(tmp_path) -> None:
    from ember.training.augment import random_crop_flip

    x = ember.randn(8, 2, 6, 6)
    ember.manual_seed(3)
    a = random_crop_flip(x, 2)
    ember.manual_seed(3)
    b = random_crop_flip(x, 2)
    assert a.shape == x.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # every output row is a (possibly mirrored) shifted row of the input, or zeros
    src = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(8):
        found = any(np.array_equal(a.numpy()[i], src[i, :, r:r + 6, c:c + 6][..., ::f])
                    for r in range(5) for c in range(5) for f in (1, -1))
        assert found
    summary = run(small(tmp_path, epochs=2, augment=True))
    assert summary["test_accuracy"] > 0.5
