"""The "language translation with nn.Transformer" recipe on a toy copy-reverse task:
TokenEmbedding scaled by sqrt(d), a sinusoidal PositionalEncoding buffer, masks from
generate_square_subsequent_mask and padding, Seq2SeqTransformer.encode/decode, teacher forcing
with shifted targets, ignore_index=PAD, and a greedy decoding loop."""

import math

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}

PAD_IDX, BOS_IDX, EOS_IDX = 0, 1, 2
VOCAB = 12


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 32):
        super().__init__()
        den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_layers, emb_size, nhead, vocab, dim_feedforward=32, dropout=0.0):
        super().__init__()
        self.transformer = Transformer(
            d_model=emb_size,
            nhead=nhead,
            num_encoder_layers=num_layers,
            num_decoder_layers=num_layers,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
        )
        self.generator = nn.Linear(emb_size, vocab)
        self.src_tok_emb = TokenEmbedding(vocab, emb_size)
        self.tgt_tok_emb = TokenEmbedding(vocab, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                memory_key_padding_mask):  # fmt: skip
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(
            src_emb, tgt_emb, src_mask, tgt_mask, None,
            src_padding_mask, tgt_padding_mask, memory_key_padding_mask,
        )  # fmt: skip
        return self.generator(outs)

    def encode(self, src: Tensor, src_mask: Tensor):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor):
        return self.transformer.decoder(
            self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask
        )


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz))) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)
    return mask


def create_mask(src, tgt):
    src_seq_len, tgt_seq_len = src.shape[0], tgt.shape[0]
    tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


def collate_fn(batch):
    src_batch, tgt_batch = [], []
    for src, tgt in batch:
        src_batch.append(torch.cat([torch.tensor([BOS_IDX]), src, torch.tensor([EOS_IDX])]))
        tgt_batch.append(torch.cat([torch.tensor([BOS_IDX]), tgt, torch.tensor([EOS_IDX])]))
    src_batch = nn.utils.rnn.pad_sequence(src_batch, padding_value=PAD_IDX)
    tgt_batch = nn.utils.rnn.pad_sequence(tgt_batch, padding_value=PAD_IDX)
    return src_batch, tgt_batch


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for _ in range(max_len - 1):
        tgt_mask = generate_square_subsequent_mask(ys.size(0)).type(torch.bool)
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {"mask": generate_square_subsequent_mask(4)}
    out["builtin_mask"] = Transformer.generate_square_subsequent_mask(4)
    out["nn_mask"] = nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    model = sync(Seq2SeqTransformer(1, 16, 2, VOCAB))
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    sync(model)  # the re-initialised weights
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    losses = []
    for step in range(3):
        pairs = []
        for n in (4, 2, 3):
            src = torch.from_numpy(rng.randint(3, VOCAB, size=n))
            pairs.append((src, src.flip(0)))
        src, tgt = collate_fn(pairs)  # (S, B), (T, B)
        tgt_input = tgt[:-1, :]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                       src_padding_mask)  # fmt: skip
        optimizer.zero_grad()
        tgt_out = tgt[1:, :]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["padded"] = [src, tgt]
    out["padding_masks"] = [src_padding_mask, tgt_padding_mask]
    # the key biases get zero gradients (softmax ignores a constant per query): Adam turns their
    # rounding noise into full-size steps, so that third of each in_proj_bias is left out
    out["state"] = {
        k: torch.cat(v.chunk(3)[::2]) if k.endswith("in_proj_bias") else v
        for k, v in model.state_dict().items()
    }
    model.eval()
    with torch.no_grad():
        src = torch.tensor([BOS_IDX, 5, 7, 4, EOS_IDX]).view(-1, 1)
        num_tokens = src.shape[0]
        src_mask = torch.zeros(num_tokens, num_tokens).type(torch.bool)
        out["decoded"] = greedy_decode(model, src, src_mask, max_len=num_tokens + 3,
                                       start_symbol=BOS_IDX).flatten()  # fmt: skip
        memory = model.encode(src, src_mask)
        out["memory"] = memory
    return out
