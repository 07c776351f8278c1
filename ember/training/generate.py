"""`ember generate CHECKPOINT --prompt "ROMEO:"`: sample text from a trained language model.

A checkpoint written by `ember train` on a text dataset carries the model's name and config
and the tokenizer, so this needs nothing but the file (or the run's directory).
"""

from __future__ import annotations

import os
from typing import Any

from .. import backend, random
from ..datasets.text import tokenizer_from_state
from ..serialization import CheckpointError, load
from .language import CHECKPOINT_FORMAT, rebuild_model, sample_text


def find_checkpoint(path: str) -> str:
    """A checkpoint file, or in a run directory its best_model.ckpt (else last.ckpt)."""
    if os.path.isdir(path):
        for name in ("best_model.ckpt", "last.ckpt"):
            candidate = os.path.join(path, name)
            if os.path.isfile(candidate):
                return candidate
        raise FileNotFoundError(f"{path} has no best_model.ckpt or last.ckpt; is it the "
                                "directory of an `ember train` run on text?")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file or run directory at {path!r}")
    return path


def load_language_model(path: str, device: Any = "cpu") -> tuple[Any, Any, dict]:
    """(model in eval mode, tokenizer, the checkpoint dict) from a language-model checkpoint."""
    file = find_checkpoint(path)
    state = load(file, map_location=device)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{file} is not a language-model checkpoint of `ember train` "
                              "(it has no model name, config and tokenizer)")
    model = rebuild_model(state["model"], state["model_config"])
    model.load_state_dict(state["state_dict"])
    return model.to(backend.as_device(device)).eval(), tokenizer_from_state(state["tokenizer"]), \
        state


def generate(path: str, prompt: str, max_new_tokens: int = 500, temperature: float = 0.8,
             top_k: int | None = None, num_samples: int = 1, seed: int | None = None,
             device: str = "cpu") -> list[str]:
    """`num_samples` continuations of `prompt` (prompt included)."""
    model, tokenizer, _ = load_language_model(path, device)
    generator = random.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    return [sample_text(model, tokenizer, prompt, max_new_tokens, backend.as_device(device),
                        temperature, top_k, generator) for _ in range(num_samples)]
