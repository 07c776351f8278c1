"""Recurrent-layer options scripts rely on: a two-layer bidirectional LSTM with proj_size
(h_n of size proj_size, c_n of hidden_size, weight_hr_l*), a bidirectional GRU tagger over
pack_padded_sequence(enforce_sorted=False) and pad_packed_sequence(total_length=...), the
packed batch's sorted/unsorted indices and PackedSequence.to(dtype), unpad_sequence /
unpack_sequence, pad_sequence(padding_side='left') for a decoder-only batch, truncated BPTT with
hidden states detached between chunks, nn.RNN(nonlinearity='relu', bias=False),
flatten_parameters(), unbatched (L, H_in) inputs to LSTM/GRU and 1-D inputs to LSTMCell, and
all_weights / _flat_weights_names."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}


class GRUTagger(nn.Module):
    def __init__(self, vocab=15, emb=6, hidden=5, tags=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, tags)

    def forward(self, x, lengths, total_length):
        packed = pack_padded_sequence(self.emb(x), lengths, batch_first=True,
                                      enforce_sorted=False)  # fmt: skip
        self.rnn.flatten_parameters()
        out, h = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=total_length)
        return self.fc(out), h, out_lengths, packed


class CharLM(nn.Module):
    def __init__(self, vocab=12, hidden=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, 6)
        self.rnn = nn.LSTM(6, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(self.emb(x), state)
        return self.fc(out), state


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}

    lstm = sync(nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3, batch_first=True))
    x = torch.from_numpy(rng.randn(2, 5, 4).astype(np.float32)).requires_grad_()
    h0 = torch.zeros(4, 2, 3)
    c0 = torch.from_numpy(rng.randn(4, 2, 6).astype(np.float32))
    y, (hn, cn) = lstm(x, (h0, c0))
    (y.sum() + hn.pow(2).sum() + cn.mean()).backward()
    out["proj"] = [y, hn, cn, x.grad, lstm.weight_hr_l1_reverse.grad, lstm.weight_hh_l0.grad]
    out["proj_shapes"] = [list(p.shape) for p in lstm.parameters()]
    out["proj_names"] = lstm._flat_weights_names
    out["all_weights"] = [[list(w.shape) for w in layer] for layer in lstm.all_weights]

    lengths = torch.tensor([3, 6, 2])
    seqs = [torch.from_numpy(rng.randint(1, 15, size=int(n))) for n in lengths]
    words = pad_sequence(seqs, batch_first=True)
    tags = pad_sequence([torch.from_numpy(rng.randint(0, 4, size=int(n))) for n in lengths],
                        batch_first=True, padding_value=-100)  # fmt: skip
    tagger = sync(GRUTagger())
    opt = torch.optim.Adam(tagger.parameters(), lr=1e-2)
    for _ in range(3):
        logits, h, out_lengths, packed = tagger(words, lengths, total_length=7)
        loss = F.cross_entropy(logits.transpose(1, 2), F.pad(tags, (0, 1), value=-100))
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["tagger"] = [loss, logits, h, out_lengths, tagger.rnn.weight_ih_l0_reverse]
    out["packed"] = [packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices,
                     str(packed.to(torch.float64).data.dtype)]  # fmt: skip
    out["unpad"] = [s for s in unpad_sequence(words, lengths, batch_first=True)]
    packed_seqs = pack_sequence(seqs, enforce_sorted=False)
    out["unpack"] = unpack_sequence(packed_seqs)

    prompts = [torch.tensor([5, 6, 7]), torch.tensor([8]), torch.tensor([3, 4])]
    left = pad_sequence(prompts, batch_first=True, padding_value=0, padding_side="left")
    attention_mask = left != 0
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    out["left_padding"] = [left, attention_mask, position_ids,
                           pad_sequence(prompts, padding_side="left")]  # fmt: skip

    # truncated BPTT over a long stream, as in char-rnn training
    stream = torch.from_numpy(rng.randint(0, 12, size=(2, 41)))
    lm = sync(CharLM())
    opt = torch.optim.RMSprop(lm.parameters(), lr=1e-2)
    state, losses = None, []
    for i in range(0, 40, 10):
        inp, tgt = stream[:, i : i + 10], stream[:, i + 1 : i + 11]
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = lm(inp, state)
        loss = F.cross_entropy(logits.reshape(-1, 12), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(lm.parameters(), 0.5)
        opt.step()
        losses.append(loss.item())
    out["tbptt"] = [losses, state[0], state[1].requires_grad]

    rnn = sync(nn.RNN(3, 4, nonlinearity="relu", bias=False, num_layers=2))
    seq = torch.from_numpy(rng.randn(5, 2, 3).astype(np.float32))
    y, h = rnn(seq)
    out["relu_rnn"] = [y, h, [n for n, _ in rnn.named_parameters()]]

    gru, cell = sync(nn.GRU(3, 4)), sync(nn.LSTMCell(3, 4))
    single = seq[:, 0]  # (L, H_in), unbatched
    y, h = gru(single)
    hx, cx = cell(single[0])
    y2, h2 = lstm(x[0].detach())
    out["unbatched"] = [y, h, hx, cx, list(y2.shape), list(h2[0].shape)]
    return out
