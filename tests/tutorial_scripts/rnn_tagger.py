"""Sequence tagging with recurrent nets: pad_sequence(batch_first, padding_value), a
bidirectional two-layer LSTM over pack_padded_sequence(enforce_sorted=False), explicit
(h0, c0), pad_packed_sequence(total_length), the final states of each direction, a GRU
encoder whose last layer's states initialise a GRUCell decoder, char-level features through
packed sequences, masked accuracy and a CRF-free Viterbi-style argmax."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}

PAD_WORD, PAD_TAG = 0, -100


class BiLSTMTagger(nn.Module):
    def __init__(self, vocab_size, tagset_size, emb_dim=8, hidden_dim=6, num_layers=2):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.word_embeddings = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD_WORD)
        self.lstm = nn.LSTM(
            emb_dim, hidden_dim, num_layers=num_layers, bidirectional=True, batch_first=True
        )
        self.hidden2tag = nn.Linear(hidden_dim * 2, tagset_size)

    def init_hidden(self, batch_size):
        shape = (self.num_layers * 2, batch_size, self.hidden_dim)
        return torch.zeros(shape), torch.zeros(shape)

    def forward(self, sentences, lengths, hidden=None):
        embeds = self.word_embeddings(sentences)  # (B, T, E)
        packed = pack_padded_sequence(embeds, lengths, batch_first=True, enforce_sorted=False)
        if hidden is None:
            hidden = self.init_hidden(sentences.size(0))
        packed_out, (h_n, c_n) = self.lstm(packed, hidden)
        lstm_out, out_lengths = pad_packed_sequence(
            packed_out, batch_first=True, total_length=sentences.size(1)
        )
        tag_space = self.hidden2tag(lstm_out)  # (B, T, tags)
        return F.log_softmax(tag_space, dim=2), (h_n, c_n), out_lengths


class GRUSeq2Seq(nn.Module):
    def __init__(self, vocab, emb=6, hidden=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.encoder = nn.GRU(emb, hidden, num_layers=2, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)
        self.cell = nn.GRUCell(emb, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, src, lengths, tgt):
        # src: (T, B) time-major, as the original GRU tutorials
        packed = pack_padded_sequence(self.embedding(src), lengths, enforce_sorted=False)
        enc_out, h_n = self.encoder(packed)
        h_n = h_n.view(2, 2, src.size(1), -1)  # (layers, directions, B, H)
        last = torch.cat([h_n[-1, 0], h_n[-1, 1]], dim=-1)
        h = torch.tanh(self.bridge(last))
        logits = []
        for t in range(tgt.size(0)):
            h = self.cell(self.embedding(tgt[t]), h)
            logits.append(self.out(h))
        enc_out, _ = pad_packed_sequence(enc_out)
        return torch.stack(logits), enc_out, h


def main(sync, workdir):
    rng = np.random.RandomState(0)
    lengths = [5, 2, 4]
    words = [torch.from_numpy(rng.randint(1, 15, size=n)) for n in lengths]
    tags = [torch.from_numpy(rng.randint(0, 4, size=n)) for n in lengths]
    sentences = pad_sequence(words, batch_first=True, padding_value=PAD_WORD)
    targets = pad_sequence(tags, batch_first=True, padding_value=PAD_TAG)
    out = {"padded": [sentences, targets, pad_sequence(words).T]}
    out["padding_side"] = pad_sequence(words, batch_first=True, padding_side="left")
    lengths_t = torch.tensor(lengths)

    model = sync(BiLSTMTagger(15, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for epoch in range(3):
        model.zero_grad()
        tag_scores, (h_n, c_n), out_lengths = model(sentences, lengths_t)
        loss = F.nll_loss(tag_scores.view(-1, 4), targets.view(-1), ignore_index=PAD_TAG)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
    out["losses"] = losses
    out["scores"] = tag_scores
    out["final_states"] = [h_n, c_n, out_lengths]
    # the forward direction's last state equals the output at each sequence's last step
    fwd = h_n.view(2, 2, 3, -1)[-1, 0]
    with torch.no_grad():
        emb = model.word_embeddings(sentences)
        packed_out, _ = model.lstm(
            pack_padded_sequence(emb, lengths_t, batch_first=True, enforce_sorted=False)
        )
        padded, _ = pad_packed_sequence(packed_out, batch_first=True)
    idx = (lengths_t - 1).view(-1, 1, 1).expand(-1, 1, padded.size(2))
    last = padded.gather(1, idx).squeeze(1)
    out["last_step_is_h_n"] = torch.allclose(last[:, :6], fwd.detach(), atol=1e-6)
    out["packed"] = [packed_out.batch_sizes, packed_out.sorted_indices, packed_out.unsorted_indices]
    out["grads"] = {n: p.grad for n, p in model.named_parameters() if "l1" in n}
    out["state"] = model.state_dict()

    # evaluation: masked accuracy, with argmax over tags
    model.eval()
    with torch.no_grad():
        tag_scores, _, _ = model(sentences, lengths_t, model.init_hidden(3))
        pred = tag_scores.argmax(dim=-1)
        mask = targets != PAD_TAG
        correct = (pred == targets) & mask
        out["pred"] = pred.masked_fill(~mask, -1)
        out["accuracy"] = correct.sum().item() / mask.sum().item()
        mask2 = torch.arange(sentences.size(1))[None, :] < lengths_t[:, None]
        out["mask_same"] = torch.equal(mask, mask2)

    # pack_sequence over sorted sequences and an unpacked LSTM with h0 from a learned state
    seqs = sorted(words, key=len, reverse=True)
    packed = pack_sequence([s.float().unsqueeze(-1) for s in seqs])
    lstm = sync(nn.LSTM(1, 3, num_layers=1, proj_size=2))
    h0 = torch.zeros(1, 3, 2)
    c0 = torch.zeros(1, 3, 3)
    packed_out, (h, c) = lstm(packed, (h0, c0))
    out["proj"] = [packed_out.data, h, c]

    # a GRU encoder feeding a GRUCell decoder, trained with teacher forcing
    s2s = sync(GRUSeq2Seq(15))
    opt = torch.optim.Adam(s2s.parameters(), lr=0.01)
    src = pad_sequence(words)  # (T, B)
    tgt = pad_sequence([w.flip(0) for w in words])
    for _ in range(2):
        logits, enc_out, h = s2s(src, lengths_t, tgt)
        loss = F.cross_entropy(logits.view(-1, 15), tgt.view(-1), ignore_index=PAD_WORD)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out["s2s"] = [loss, enc_out, h]
    out["s2s_state"] = s2s.state_dict()
    return out
