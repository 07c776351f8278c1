"""Dive into Deep Learning, chapters 11.7 and 15.8: the Transformer built by hand
(PositionWiseFFN with nn.LazyLinear, AddNorm with nn.LayerNorm and dropout, an EncoderBlock and
TransformerEncoder over a ModuleList added with add_module("block"+str(i)), embeddings scaled
by math.sqrt(num_hiddens), a DecoderBlock whose state caches keys via torch.cat and builds
dec_valid_lens with torch.arange(1, num_steps + 1).repeat(batch_size, 1)), and BERT:
get_tokens_and_segments, a BERTEncoder with segment embeddings and a learnable
nn.Parameter(torch.randn(1, max_len, num_hiddens)) position embedding, MaskLM gathering
positions with torch.repeat_interleave(batch_idx, num_pred_positions), NextSentencePred, and the
pretraining loss combining both with mlm_weights."""

import math

import numpy as np
import torch
from torch import nn


def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    mask = torch.arange(X.size(1), dtype=torch.float32)[None, :] < valid_lens[:, None]
    X[~mask] = -1e6
    return nn.functional.softmax(X.reshape(shape), dim=-1)


class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class MultiHeadAttention(nn.Module):
    def __init__(self, num_hiddens, num_heads, dropout, bias=False):
        super().__init__()
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_k = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_v = nn.LazyLinear(num_hiddens, bias=bias)
        self.W_o = nn.LazyLinear(num_hiddens, bias=bias)

    def transpose_qkv(self, X):
        X = X.reshape(X.shape[0], X.shape[1], self.num_heads, -1)
        X = X.permute(0, 2, 1, 3)
        return X.reshape(-1, X.shape[2], X.shape[3])

    def transpose_output(self, X):
        X = X.reshape(-1, self.num_heads, X.shape[1], X.shape[2])
        X = X.permute(0, 2, 1, 3)
        return X.reshape(X.shape[0], X.shape[1], -1)

    def forward(self, queries, keys, values, valid_lens):
        queries = self.transpose_qkv(self.W_q(queries))
        keys = self.transpose_qkv(self.W_k(keys))
        values = self.transpose_qkv(self.W_v(values))
        if valid_lens is not None:
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        return self.W_o(self.transpose_output(output))


class PositionWiseFFN(nn.Module):
    def __init__(self, ffn_num_hiddens, ffn_num_outputs):
        super().__init__()
        self.dense1 = nn.LazyLinear(ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.LazyLinear(ffn_num_outputs)

    def forward(self, X):
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(nn.Module):
    def __init__(self, norm_shape, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X, Y):
        return self.ln(self.dropout(Y) + X)


class TransformerEncoderBlock(nn.Module):
    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias=False):
        super().__init__()
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


class TransformerEncoder(nn.Module):
    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks, dropout,
                 use_bias=False):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_blks):
            self.blks.add_module("block" + str(i), TransformerEncoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias))

    def forward(self, X, valid_lens):
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X


class TransformerDecoderBlock(nn.Module):
    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
        super().__init__()
        self.i = i
        self.attention1 = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.attention2 = MultiHeadAttention(num_hiddens, num_heads, dropout)
        self.addnorm2 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm3 = AddNorm(num_hiddens, dropout)

    def forward(self, X, state):
        enc_outputs, enc_valid_lens = state[0], state[1]
        if state[2][self.i] is None:
            key_values = X
        else:
            key_values = torch.cat((state[2][self.i], X), dim=1)
        state[2][self.i] = key_values
        if self.training:
            batch_size, num_steps, _ = X.shape
            dec_valid_lens = torch.arange(1, num_steps + 1, device=X.device).repeat(
                batch_size, 1)
        else:
            dec_valid_lens = None
        X2 = self.attention1(X, key_values, key_values, dec_valid_lens)
        Y = self.addnorm1(X, X2)
        Y2 = self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens)
        Z = self.addnorm2(Y, Y2)
        return self.addnorm3(Z, self.ffn(Z)), state


def get_tokens_and_segments(tokens_a, tokens_b=None):
    tokens = ["<cls>"] + tokens_a + ["<sep>"]
    segments = [0] * (len(tokens_a) + 2)
    if tokens_b is not None:
        tokens += tokens_b + ["<sep>"]
        segments += [1] * (len(tokens_b) + 1)
    return tokens, segments


class BERTEncoder(nn.Module):
    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks, dropout,
                 pos_embedding, max_len=1000):
        super(BERTEncoder, self).__init__()
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for i in range(num_blks):
            self.blks.add_module(f"{i}", TransformerEncoderBlock(
                num_hiddens, ffn_num_hiddens, num_heads, dropout, True))
        # torch.randn(1, max_len, num_hiddens) in the book
        self.pos_embedding = nn.Parameter(pos_embedding)

    def forward(self, tokens, segments, valid_lens):
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X


class MaskLM(nn.Module):
    def __init__(self, vocab_size, num_hiddens, **kwargs):
        super(MaskLM, self).__init__(**kwargs)
        self.mlp = nn.Sequential(nn.LazyLinear(num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.LazyLinear(vocab_size))

    def forward(self, X, pred_positions):
        num_pred_positions = pred_positions.shape[1]
        pred_positions = pred_positions.reshape(-1)
        batch_size = X.shape[0]
        batch_idx = torch.arange(0, batch_size)
        batch_idx = torch.repeat_interleave(batch_idx, num_pred_positions)
        masked_X = X[batch_idx, pred_positions]
        masked_X = masked_X.reshape((batch_size, num_pred_positions, -1))
        return self.mlp(masked_X)


class NextSentencePred(nn.Module):
    def __init__(self, **kwargs):
        super(NextSentencePred, self).__init__(**kwargs)
        self.output = nn.LazyLinear(2)

    def forward(self, X):
        return self.output(X)


class BERTModel(nn.Module):
    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_blks, dropout,
                 pos_embedding, max_len=1000):
        super(BERTModel, self).__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, ffn_num_hiddens, num_heads,
                                   num_blks, dropout, pos_embedding, max_len=max_len)
        self.hidden = nn.Sequential(nn.LazyLinear(num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens)
        self.nsp = NextSentencePred()

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        if pred_positions is not None:
            mlm_Y_hat = self.mlm(encoded_X, pred_positions)
        else:
            mlm_Y_hat = None
        nsp_Y_hat = self.nsp(self.hidden(encoded_X[:, 0, :]))
        return encoded_X, mlm_Y_hat, nsp_Y_hat


def get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                        pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                  pred_positions_X)
    mlm_l = loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1)) * mlm_weights_X.reshape(
        -1, 1)
    mlm_l = mlm_l.sum() / (mlm_weights_X.sum() + 1e-8)
    nsp_l = loss(nsp_Y_hat, nsp_y)
    l = mlm_l + nsp_l
    return mlm_l, nsp_l, l


def main(sync, workdir):
    rng = np.random.RandomState(0)
    out = {}
    X = torch.tensor(rng.rand(2, 3, 4).astype(np.float32))
    ffn = PositionWiseFFN(4, 8)
    ffn(X)
    sync(ffn)
    out["ffn"] = ffn(X)[0]
    ln = nn.LayerNorm(2)
    bn = nn.BatchNorm1d(2)
    Xn = torch.tensor([[1, 2], [2, 3]], dtype=torch.float32)
    out["ln_bn"] = [ln(Xn), bn(Xn)]
    add_norm = AddNorm(4, 0.5)
    add_norm.eval()
    out["addnorm_shape"] = list(add_norm(torch.ones((2, 3, 4)), torch.ones((2, 3, 4))).shape)

    valid_lens = torch.tensor([3, 2])
    encoder = TransformerEncoder(50, 8, 16, 2, 2, 0.0)
    tokens = torch.tensor(rng.randint(0, 50, (2, 6)))
    encoder(tokens, valid_lens)
    sync(encoder)
    enc_out = encoder(tokens, valid_lens)
    out["encoder"] = [enc_out, encoder.attention_weights[1]]

    decoder_blk = TransformerDecoderBlock(8, 16, 2, 0.0, 0)
    state = [enc_out, valid_lens, [None]]
    Xd = torch.tensor(rng.rand(2, 6, 8).astype(np.float32))
    decoder_blk(Xd, state)
    sync(decoder_blk)
    state = [enc_out.detach(), valid_lens, [None]]
    out["decoder_train"] = decoder_blk(Xd, state)[0]
    decoder_blk.eval()
    state = [enc_out.detach(), valid_lens, [None]]
    steps = []
    for t in range(3):
        y, state = decoder_blk(Xd[:, t : t + 1], state)
        steps.append(y)
    out["decoder_steps"] = [torch.cat(steps, 1), list(state[2][0].shape)]

    tokens, segments = get_tokens_and_segments(["a", "cat"], ["sat", "down", "."])
    out["tokens_segments"] = [tokens, segments]
    vocab_size, num_hiddens, max_len = 30, 8, 16
    net = BERTModel(vocab_size, num_hiddens, 16, 2, 2, 0.0,
                    torch.tensor(rng.randn(1, max_len, num_hiddens).astype(np.float32)),
                    max_len=max_len)
    tokens_X = torch.tensor(rng.randint(0, vocab_size, (3, 8)))
    segments_X = torch.tensor([[0] * 4 + [1] * 4, [0] * 5 + [1] * 3, [0] * 8])
    valid_lens_x = torch.tensor([8, 6, 5])
    pred_positions_X = torch.tensor([[1, 5, 2], [6, 1, 0], [3, 4, 0]])
    mlm_weights_X = torch.tensor([[1.0, 1, 1], [1, 1, 0], [1, 1, 0]])
    mlm_Y = torch.tensor(rng.randint(0, vocab_size, (3, 3)))
    nsp_y = torch.tensor([0, 1, 1])
    net(tokens_X, segments_X, valid_lens_x, pred_positions_X)
    sync(net)
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.Adam(net.parameters(), lr=0.01)
    history = []
    for step in range(3):
        trainer.zero_grad()
        mlm_l, nsp_l, l = get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X,
                                              valid_lens_x, pred_positions_X, mlm_weights_X,
                                              mlm_Y, nsp_y)
        l.backward()
        trainer.step()
        history.append([mlm_l.item(), nsp_l.item()])
    encoded, mlm_hat, nsp_hat = net(tokens_X, segments_X, valid_lens_x, pred_positions_X)
    out["bert"] = {
        "history": history,
        "encoded_cls": encoded[:, 0, :],
        "mlm_shape": list(mlm_hat.shape),
        "nsp": nsp_hat,
        "pos_grad": net.encoder.pos_embedding.grad[0, :8],
        "n_params": sum(p.numel() for p in net.parameters()),
    }
    return out
