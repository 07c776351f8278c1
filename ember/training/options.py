"""Checks of `ember train` options shared by the image and the language-model trainers."""

from __future__ import annotations

from collections.abc import Iterable


def require_choice(what: str, value: str, choices: Iterable[str], unknown: str = "unknown") -> None:
    """Stop with a message listing the valid names when `value` is not one of `choices`."""
    choices = list(choices)
    if value not in choices:
        raise SystemExit(f"ember train: {unknown} {what} '{value}' (choose from {', '.join(choices)})")


def require_checkpoint_for_resume(resume: bool, checkpoint: str | None) -> None:
    if resume and not checkpoint:
        raise SystemExit("ember train: --resume needs --checkpoint DIR (where the run was saved)")
