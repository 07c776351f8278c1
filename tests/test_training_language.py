"""`ember train` on text and `ember generate`: a language model learns, its checkpoints resume
bit for bit, and the saved model samples text."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from ember.training.generate import generate, load_language_model
from ember.training.language import LMConfig, lr_at, run_language_model

# a text with a rhythm a tiny model picks up in a few dozen steps
TEXT = "".join(f"ROMEO:\nO, {w}, {w}!\n\nJULIET:\nAy me, {w}.\n\n"
               for w in ["love", "night", "light", "Romeo", "sweet"] * 60)


def small(tmp_path, **changes) -> LMConfig:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    base = dict(dataset="text", text_file=str(corpus), steps=60, block_size=16, batch_size=16,
                n_layer=1, n_head=2, n_embd=32, eval_interval=30, eval_iters=2,
                sample_length=20, warmup_steps=5, lr=1e-2, progress=False, verbose=False,
                checkpoint=str(tmp_path / "run"))
    base.update(changes)
    return LMConfig(**base)


def test_gpt_learns_checkpoints_and_samples(tmp_path):
    summary = run_language_model(small(tmp_path))
    history = summary["history"]
    assert [h["step"] for h in history] == [30, 60]
    assert history[-1]["val_loss"] < 1.5 < 3.0 < history[0]["running_loss"] + 1.5
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert log["best_val_loss"] == min(h["val_loss"] for h in history)
    model, tokenizer, state = load_language_model(str(tmp_path / "run"))
    assert state["model"] == "gpt" and not model.training
    texts = generate(str(tmp_path / "run"), "ROMEO:", 30, temperature=0.5, seed=0,
                     num_samples=2)
    assert len(texts) == 2 and all(t.startswith("ROMEO:") and len(t) == 36 for t in texts)
    assert texts == generate(str(tmp_path / "run"), "ROMEO:", 30, temperature=0.5, seed=0,
                             num_samples=2)


def test_resume_continues_bit_for_bit(tmp_path):
    full = run_language_model(small(tmp_path))
    (tmp_path / "half").mkdir()
    half = small(tmp_path / "half")
    _run_until(half, 30)  # killed right after the first evaluation's checkpoint
    resumed = run_language_model(dataclasses.replace(half, resume=True))
    assert [h["val_loss"] for h in resumed["history"]] == [h["val_loss"] for h in
                                                           full["history"]]
    assert resumed["history"][0]["step"] == 30


def _run_until(config: LMConfig, stop: int) -> None:
    """Run `config` but crash right after the checkpoint of step `stop` is written."""
    from ember.training import language  # noqa: PLC0415

    real_save = language.save

    def save_then_crash(obj, path):
        real_save(obj, path)
        if path.endswith("last.ckpt") and obj["step"] == stop:
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(language, "save", save_then_crash)
        with pytest.raises(KeyboardInterrupt):
            run_language_model(config)


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    config = LMConfig(steps=1000, warmup_steps=100, lr=1e-3)
    assert lr_at(0, config) == pytest.approx(1e-5)
    assert lr_at(99, config) == pytest.approx(1e-3)
    assert lr_at(550, config) == pytest.approx(5.5e-4)
    assert lr_at(1000, config) == pytest.approx(1e-4)


@pytest.mark.parametrize("model", ["char-lstm", "char-gru"])
def test_recurrent_language_models_train_and_sample(tmp_path, model):
    summary = run_language_model(small(tmp_path, model=model, n_embd=48, lr=1e-2))
    assert summary["history"][-1]["val_loss"] < 2.0
    text = generate(str(tmp_path / "run"), "JULIET:", 10, seed=1)[0]
    assert text.startswith("JULIET:") and len(text) == 17


def test_command_line_train_and_generate(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    run_dir = tmp_path / "cli"
    train = subprocess.run(
        [sys.executable, "-m", "ember", "train", "--model", "gpt", "--dataset", "text",
         "--text-file", str(corpus), "--steps", "4", "--eval-interval", "2", "--eval-iters", "1",
         "--block-size", "8", "--n-layer", "1", "--n-embd", "16", "--n-head", "2",
         "--sample-length", "10", "--prompt", "ROMEO:", "--checkpoint", str(run_dir),
         "--no-progress"], capture_output=True, text=True, check=True)
    assert "val loss" in train.stdout and "---- sample ----\nROMEO:" in train.stdout
    out = subprocess.run([sys.executable, "-m", "ember", "generate", str(run_dir), "--prompt",
                          "JULIET:", "--max-new-tokens", "12", "--seed", "3"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("JULIET:") and len(out.stdout.rstrip("\n")) >= 7


def test_command_line_errors_are_explained(tmp_path):
    def ember_cli(*args):
        return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True,
                              text=True)

    wrong = ember_cli("train", "--model", "gpt", "--dataset", "digits")
    assert wrong.returncode != 0 and "language model" in wrong.stderr
    wrong = ember_cli("train", "--model", "mlp", "--dataset", "shakespeare")
    assert wrong.returncode != 0 and "pick a language model" in wrong.stderr
    wrong = ember_cli("train", "--model", "gpt", "--dataset", "shakespeare", "--epochs", "3")
    assert wrong.returncode != 0 and "--steps" in wrong.stderr
    missing = ember_cli("generate", str(tmp_path))
    assert missing.returncode == 1 and "best_model.ckpt" in missing.stderr
    image_ckpt = tmp_path / "x.ckpt"
    import ember  # noqa: PLC0415

    ember.save({"w": ember.zeros(2)}, image_ckpt)
    not_lm = ember_cli("generate", str(image_ckpt))
    assert not_lm.returncode == 1 and "not a language-model checkpoint" in not_lm.stderr
