"""Decoding a GRU seq2seq model the ways NMT tutorials do: batched greedy decoding with
finished-sequence masks (torch.where, logical_or, all()), beam search over one sentence with
log_softmax scores, topk over the flattened beam x vocab scores, // and % to recover beam and
token, index_select of hidden states, length-normalised final scores, batched beam search with
repeat_interleave'd encoder states, gather of back-pointers, and a backtrack to the best
hypothesis."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}
BOS, EOS, V = 1, 2, 10


class Seq2Seq(nn.Module):
    def __init__(self, emb=8, hidden=12):
        super().__init__()
        self.emb = nn.Embedding(V, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = nn.GRU(emb + hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, V)

    def encode(self, src):
        _, h = self.encoder(self.emb(src))
        return h  # (1, B, H)

    def step(self, tokens, h, ctx):
        x = torch.cat([self.emb(tokens), ctx], dim=-1).unsqueeze(1)  # (B, 1, E + H)
        out, h = self.decoder(x, h)
        return F.log_softmax(self.out(out.squeeze(1)), dim=-1), h

    def forward(self, src, tgt_in):
        h = self.encode(src)
        ctx = h[-1]
        logps = []
        for t in range(tgt_in.size(1)):
            logp, h = self.step(tgt_in[:, t], h, ctx)
            logps.append(logp)
        return torch.stack(logps, dim=1)


@torch.no_grad()
def greedy(model, src, max_len=6):
    h = model.encode(src)
    ctx = h[-1]
    tokens = torch.full((src.size(0),), BOS, dtype=torch.long)
    finished = torch.zeros(src.size(0), dtype=torch.bool)
    outs = []
    for _ in range(max_len):
        logp, h = model.step(tokens, h, ctx)
        tokens = logp.argmax(-1)
        tokens = torch.where(finished, torch.full_like(tokens, EOS), tokens)
        outs.append(tokens)
        finished = finished.logical_or(tokens == EOS)
        if finished.all():
            break
    return torch.stack(outs, 1)


@torch.no_grad()
def beam_search(model, src, k=3, max_len=5, alpha=0.7):
    h = model.encode(src.unsqueeze(0))  # (1, 1, H)
    ctx = h[-1]
    beams = torch.full((1, 1), BOS, dtype=torch.long)
    scores = torch.zeros(1)
    done = []
    for _ in range(max_len):
        if h.size(1) == 1:
            h = h.expand(-1, beams.size(0), -1).contiguous()
        logp, h_new = model.step(beams[:, -1], h, ctx.expand(beams.size(0), -1))
        cand = (scores.unsqueeze(1) + logp).view(-1)
        top_scores, top_idx = cand.topk(k)
        beam_idx = torch.div(top_idx, V, rounding_mode="floor")
        token = top_idx % V
        beams = torch.cat([beams.index_select(0, beam_idx), token.unsqueeze(1)], dim=1)
        h = h_new.index_select(1, beam_idx)
        scores = top_scores
        is_eos = token == EOS
        for i in is_eos.nonzero().flatten().tolist():
            length = beams.size(1) - 1
            done.append((scores[i].item() / (((5 + length) / 6) ** alpha), beams[i].tolist()))
        if is_eos.any():
            keep = (~is_eos).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            beams, scores, h = beams[keep], scores[keep], h[:, keep]
    for i in range(beams.size(0)):
        length = beams.size(1) - 1
        done.append((scores[i].item() / (((5 + length) / 6) ** alpha), beams[i].tolist()))
    done.sort(key=lambda d: -d[0])
    return done


@torch.no_grad()
def batched_beam(model, src, k=2, max_len=4):
    B = src.size(0)
    h = model.encode(src).repeat_interleave(k, dim=1)  # (1, B * k, H)
    ctx = h[-1]
    tokens = torch.full((B * k,), BOS, dtype=torch.long)
    scores = torch.zeros(B, k)
    scores[:, 1:] = float("-inf")  # only the first beam is live at the start
    history, pointers = [], []
    for _ in range(max_len):
        logp, h = model.step(tokens, h, ctx)  # (B * k, V)
        cand = (scores.view(-1, 1) + logp).view(B, k * V)
        scores, idx = cand.topk(k, dim=1)  # (B, k)
        parent = idx // V
        tokens = (idx % V).view(-1)
        base = (torch.arange(B) * k).unsqueeze(1)
        h = h[:, (base + parent).view(-1)]
        history.append(tokens.view(B, k))
        pointers.append(parent)
    # backtrack from the best final beam
    best = scores.argmax(dim=1, keepdim=True)  # (B, 1)
    seq = []
    for tok, ptr in zip(reversed(history), reversed(pointers), strict=True):
        seq.append(tok.gather(1, best))
        best = ptr.gather(1, best)
    return torch.cat(seq[::-1], dim=1), scores


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(Seq2Seq())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        src = torch.from_numpy(rng.randint(3, V, size=(4, 4)))
        tgt = torch.cat([src.flip(1), torch.full((4, 1), EOS)], dim=1)
        tgt_in = torch.cat([torch.full((4, 1), BOS), tgt[:, :-1]], dim=1)
        logp = model(src, tgt_in)
        loss = F.nll_loss(logp.reshape(-1, V), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    src = torch.from_numpy(rng.randint(3, V, size=(3, 4)))
    hyps = beam_search(model, src[0])
    seqs, scores = batched_beam(model, src)
    return {
        "losses": losses,
        "greedy": greedy(model, src),
        "beam_best": hyps[0][1],
        "beam_scores": [s for s, _ in hyps[:3]],
        "batched_beam": seqs,
        "batched_scores": scores,
    }
