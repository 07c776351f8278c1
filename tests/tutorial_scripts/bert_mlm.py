"""A BERT-like masked language model: the 80/10/10 masking recipe with torch.bernoulli and
masked_fill, attention masks built from padding, nn.MultiheadAttention with need_weights and
average_attn_weights, token-type and position embeddings, gelu with the tanh approximation,
weight tying between the embedding and the decoder, ignore_index=-100 in the loss."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 3e-4, "atol": 3e-5}

PAD, CLS, SEP, MASK = 0, 1, 2, 3
VOCAB = 20


def mask_tokens(inputs, special_mask, probability_matrix, replace_draw, random_draw, rand_words):
    """HuggingFace's DataCollatorForLanguageModeling, with the draws passed in as probabilities.

    A probability of 0 or 1 makes torch.bernoulli deterministic, so both frameworks agree."""
    labels = inputs.clone()
    probability_matrix = probability_matrix.masked_fill(special_mask, value=0.0)
    masked_indices = torch.bernoulli(probability_matrix).bool()
    labels[~masked_indices] = -100
    indices_replaced = torch.bernoulli(replace_draw).bool() & masked_indices
    inputs = inputs.clone()
    inputs[indices_replaced] = MASK
    indices_random = torch.bernoulli(random_draw).bool() & masked_indices & ~indices_replaced
    inputs[indices_random] = rand_words[indices_random]
    return inputs, labels


class BertEmbeddings(nn.Module):
    def __init__(self, vocab, hidden, max_pos=16, type_vocab=2):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(0.0)
        position_ids = torch.arange(max_pos).expand((1, -1))
        self.register_buffer("position_ids", position_ids, persistent=False)

    def forward(self, input_ids, token_type_ids=None):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        emb = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        emb = emb + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(emb))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ff):
        super().__init__()
        self.attn = nn.MultiheadAttention(hidden, heads, dropout=0.0, batch_first=True)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = nn.Linear(hidden, ff)
        self.ff2 = nn.Linear(ff, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, key_padding_mask):
        a, weights = self.attn(
            x, x, x,
            key_padding_mask=key_padding_mask, need_weights=True, average_attn_weights=False,
        )  # fmt: skip
        x = self.ln1(x + a)
        x = self.ln2(x + self.ff2(F.gelu(self.ff1(x), approximate="tanh")))
        return x, weights


class BertForMaskedLM(nn.Module):
    def __init__(self, vocab=VOCAB, hidden=16, heads=2, ff=32, layers=2):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab, hidden)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, ff) for _ in range(layers)])
        self.transform = nn.Linear(hidden, hidden)
        self.transform_ln = nn.LayerNorm(hidden, eps=1e-12)
        self.decoder = nn.Linear(hidden, vocab, bias=False)
        self.bias = nn.Parameter(torch.zeros(vocab))
        self.decoder.weight = self.embeddings.word_embeddings.weight  # weight tying
        self.pooler = nn.Linear(hidden, hidden)
        self.nsp = nn.Linear(hidden, 2)

    def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None, nsp=None):
        x = self.embeddings(input_ids, token_type_ids)
        key_padding_mask = attention_mask == 0
        all_weights = []
        for layer in self.layers:
            x, w = layer(x, key_padding_mask)
            all_weights.append(w)
        h = self.transform_ln(F.gelu(self.transform(x), approximate="tanh"))
        logits = self.decoder(h) + self.bias
        pooled = torch.tanh(self.pooler(x[:, 0]))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
            loss = loss + F.cross_entropy(self.nsp(pooled), nsp)
        return loss, logits, pooled, all_weights


def make_batch(rng, batch=3, max_len=8):
    lengths = [max_len, 5, 6][:batch]
    ids = torch.full((batch, max_len), PAD, dtype=torch.long)
    types = torch.zeros(batch, max_len, dtype=torch.long)
    for i, n in enumerate(lengths):
        body = torch.from_numpy(rng.randint(4, VOCAB, size=n - 2))
        ids[i, :n] = torch.cat([torch.tensor([CLS]), body, torch.tensor([SEP])])
        types[i, n // 2 : n] = 1
    attention_mask = (ids != PAD).long()
    special = (ids == PAD) | (ids == CLS) | (ids == SEP)
    return ids, types, attention_mask, special


def main(sync, workdir):
    rng = np.random.RandomState(0)
    model = sync(BertForMaskedLM())
    out = {"tied": model.decoder.weight is model.embeddings.word_embeddings.weight}
    out["n_params"] = sum(p.numel() for p in model.parameters())
    out["buffers"] = list(model.state_dict().keys())[:4]
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    total = 4
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / 2, max(0.0, (total - s) / (total - 2)))
    )
    out["losses"], out["masked_counts"] = [], []
    for step in range(total):
        ids, types, attention_mask, special = make_batch(rng)
        shape = ids.shape
        prob = torch.from_numpy((rng.rand(*shape) < 0.3).astype(np.float32))
        replace = torch.from_numpy((rng.rand(*shape) < 0.8).astype(np.float32))
        random_draw = torch.from_numpy((rng.rand(*shape) < 0.5).astype(np.float32))
        rand_words = torch.from_numpy(rng.randint(4, VOCAB, size=shape))
        inputs, labels = mask_tokens(ids, special, prob, replace, random_draw, rand_words)
        nsp = torch.from_numpy(rng.randint(0, 2, size=shape[0]))
        loss, logits, pooled, weights = model(inputs, attention_mask, types, labels, nsp)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        out["losses"].append(loss)
        out["masked_counts"].append(int((labels != -100).sum()))
    out["inputs"] = inputs
    out["labels"] = labels
    out["tied_grad"] = model.decoder.weight.grad
    # the key bias gets a zero gradient (softmax ignores a constant per query): AdamW turns its
    # rounding noise into full-size steps, so that third of in_proj_bias is left out
    out["state"] = {
        k: torch.cat([v[:16], v[32:]]) if k.endswith("in_proj_bias") else v
        for k, v in model.state_dict().items()
    }
    model.eval()
    with torch.no_grad():
        ids, types, attention_mask, special = make_batch(rng)
        _, logits, pooled, weights = model(ids, attention_mask, types)
        out["eval"] = [logits, pooled]
        out["weights"] = [w for w in weights]
        out["weights_on_pad"] = weights[0][1, :, :, 5:].abs().max()
        a, avg = model.layers[0].attn(
            *(model.embeddings(ids),) * 3, key_padding_mask=attention_mask == 0
        )
        out["avg_weights"] = avg
        _, none = model.layers[0].attn(
            *(model.embeddings(ids),) * 3, key_padding_mask=attention_mask == 0, need_weights=False
        )
        out["no_weights"] = none is None
        # float additive mask as BERT's extended attention mask, through the same module
        ext = (1.0 - attention_mask[:, None, :].float()) * torch.finfo(torch.float32).min
        ext = ext.repeat_interleave(2, dim=0).expand(-1, ids.size(1), -1)
        emb = model.embeddings(ids)
        a2, _ = model.layers[0].attn(emb, emb, emb, attn_mask=ext)
        out["additive_mask_same"] = torch.allclose(a, a2, atol=1e-5)
        probs = logits.softmax(-1)
        top = probs.topk(3, dim=-1)
        out["fill_mask"] = [top.values[0, 1], top.indices[0, 1]]
        out["perplexity"] = math.exp(out["losses"][-1].item())
    return out
