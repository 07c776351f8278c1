"""Stanford CS224n-style assignments: the dependency parser's feed-forward model (embeddings
held in nn.Parameter(torch.tensor(embeddings)), features looked up with torch.index_select and
.view, nn.init.xavier_uniform_ on nn.Parameter(torch.empty(...)), uniform_ biases) trained with
Adam, and the NMT model: a bidirectional LSTM encoder over pack_padded_sequence with the final
states concatenated (torch.cat((last_hidden[0], last_hidden[1]), 1)), an LSTMCell decoder with
multiplicative attention (torch.bmm(enc_hiddens_proj, dec_hidden.unsqueeze(2)).squeeze(2)),
e_t.data.masked_fill_(enc_masks.bool(), -float('inf')), torch.split(Y, 1), the gathered target
log-likelihood over target_masks, and beam search with hyp_scores.unsqueeze(1).expand_as(
log_p_t).contiguous().view(-1), torch.topk and // to recover hypothesis ids."""

from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

Hypothesis = namedtuple("Hypothesis", ["value", "score"])


class ParserModel(nn.Module):
    def __init__(self, embeddings, n_features=6, hidden_size=12, n_classes=3, dropout_prob=0.0):
        super(ParserModel, self).__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.dropout_prob = dropout_prob
        self.embed_size = embeddings.shape[1]
        self.hidden_size = hidden_size
        self.embeddings = nn.Parameter(torch.tensor(embeddings))
        self.embed_to_hidden_weight = nn.Parameter(
            torch.empty(self.n_features * self.embed_size, self.hidden_size))
        nn.init.xavier_uniform_(self.embed_to_hidden_weight)
        self.embed_to_hidden_bias = nn.Parameter(torch.empty(self.hidden_size))
        nn.init.uniform_(self.embed_to_hidden_bias)
        self.dropout = nn.Dropout(self.dropout_prob)
        self.hidden_to_logits_weight = nn.Parameter(torch.empty(self.hidden_size, self.n_classes))
        nn.init.xavier_uniform_(self.hidden_to_logits_weight)
        self.hidden_to_logits_bias = nn.Parameter(torch.empty(self.n_classes))
        nn.init.uniform_(self.hidden_to_logits_bias)

    def embedding_lookup(self, w):
        x = torch.index_select(self.embeddings, 0, w.view(-1)).view(
            w.shape[0], self.n_features * self.embed_size)
        return x

    def forward(self, w):
        x = self.embedding_lookup(w)
        h = F.relu(x @ self.embed_to_hidden_weight + self.embed_to_hidden_bias)
        logits = self.dropout(h) @ self.hidden_to_logits_weight + self.hidden_to_logits_bias
        return logits


def train_parser(sync, rng):
    embeddings = rng.randn(20, 4).astype(np.float32)
    model = sync(ParserModel(embeddings))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    loss_func = nn.CrossEntropyLoss()
    w = torch.tensor(rng.randint(0, 20, (16, 6)))
    y = torch.tensor(rng.randint(0, 3, 16))
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        logits = model(w)
        loss = loss_func(logits, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(w).argmax(-1)
    return {"losses": losses, "UAS": (pred == y).sum().item() / y.numel(),
            "embed_grad_rows": int((model.embeddings.grad.abs().sum(1) > 0).sum())}


class ModelEmbeddings(nn.Module):
    def __init__(self, embed_size, src_size, tgt_size, pad=0):
        super().__init__()
        self.embed_size = embed_size
        self.source = nn.Embedding(src_size, embed_size, padding_idx=pad)
        self.target = nn.Embedding(tgt_size, embed_size, padding_idx=pad)


class NMT(nn.Module):
    def __init__(self, embed_size, hidden_size, src_size, tgt_size, dropout_rate=0.0):
        super(NMT, self).__init__()
        self.model_embeddings = ModelEmbeddings(embed_size, src_size, tgt_size)
        self.hidden_size = hidden_size
        self.tgt_size = tgt_size
        self.encoder = nn.LSTM(embed_size, hidden_size, bidirectional=True)
        self.decoder = nn.LSTMCell(embed_size + hidden_size, hidden_size)
        self.h_projection = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.c_projection = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.att_projection = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.combined_output_projection = nn.Linear(3 * hidden_size, hidden_size, bias=False)
        self.target_vocab_projection = nn.Linear(hidden_size, tgt_size, bias=False)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, source_padded, source_lengths, target_padded):
        enc_hiddens, dec_init_state = self.encode(source_padded, source_lengths)
        enc_masks = self.generate_sent_masks(enc_hiddens, source_lengths)
        combined_outputs = self.decode(enc_hiddens, enc_masks, dec_init_state, target_padded)
        P = F.log_softmax(self.target_vocab_projection(combined_outputs), dim=-1)
        target_masks = (target_padded != 0).float()
        target_gold_words_log_prob = torch.gather(
            P, index=target_padded[1:].unsqueeze(-1), dim=-1).squeeze(-1) * target_masks[1:]
        scores = target_gold_words_log_prob.sum(dim=0)
        return scores

    def encode(self, source_padded, source_lengths):
        X = self.model_embeddings.source(source_padded)
        X = pack_padded_sequence(X, source_lengths)
        enc_hiddens, (last_hidden, last_cell) = self.encoder(X)
        enc_hiddens, _ = pad_packed_sequence(enc_hiddens)
        enc_hiddens = enc_hiddens.permute(1, 0, 2)
        init_decoder_hidden = self.h_projection(torch.cat((last_hidden[0], last_hidden[1]), 1))
        init_decoder_cell = self.c_projection(torch.cat((last_cell[0], last_cell[1]), 1))
        return enc_hiddens, (init_decoder_hidden, init_decoder_cell)

    def decode(self, enc_hiddens, enc_masks, dec_init_state, target_padded):
        target_padded = target_padded[:-1]
        dec_state = dec_init_state
        batch_size = enc_hiddens.size(0)
        o_prev = torch.zeros(batch_size, self.hidden_size, device=enc_hiddens.device)
        combined_outputs = []
        enc_hiddens_proj = self.att_projection(enc_hiddens)
        Y = self.model_embeddings.target(target_padded)
        for Y_t in torch.split(Y, 1):
            Y_t = torch.squeeze(Y_t, dim=0)
            Ybar_t = torch.cat((Y_t, o_prev), dim=1)
            dec_state, o_t, e_t = self.step(Ybar_t, dec_state, enc_hiddens, enc_hiddens_proj,
                                            enc_masks)
            combined_outputs.append(o_t)
            o_prev = o_t
        return torch.stack(combined_outputs, dim=0)

    def step(self, Ybar_t, dec_state, enc_hiddens, enc_hiddens_proj, enc_masks):
        dec_state = self.decoder(Ybar_t, dec_state)
        dec_hidden, dec_cell = dec_state
        e_t = torch.bmm(enc_hiddens_proj, dec_hidden.unsqueeze(2)).squeeze(2)
        if enc_masks is not None:
            e_t.data.masked_fill_(enc_masks.bool(), -float("inf"))
        alpha_t = F.softmax(e_t, dim=1)
        a_t = torch.bmm(alpha_t.unsqueeze(1), enc_hiddens).squeeze(1)
        U_t = torch.cat((a_t, dec_hidden), dim=1)
        V_t = self.combined_output_projection(U_t)
        O_t = self.dropout(torch.tanh(V_t))
        return dec_state, O_t, e_t

    def generate_sent_masks(self, enc_hiddens, source_lengths):
        enc_masks = torch.zeros(enc_hiddens.size(0), enc_hiddens.size(1), dtype=torch.float)
        for e_id, src_len in enumerate(source_lengths):
            enc_masks[e_id, src_len:] = 1
        return enc_masks

    def beam_search(self, src_sent, beam_size=3, max_decoding_time_step=6, eos=2, bos=1):
        src_sents_var = torch.tensor(src_sent, dtype=torch.long).view(-1, 1)
        src_encodings, dec_init_vec = self.encode(src_sents_var, [len(src_sent)])
        src_encodings_att_linear = self.att_projection(src_encodings)
        h_tm1 = dec_init_vec
        att_tm1 = torch.zeros(1, self.hidden_size)
        hypotheses = [[bos]]
        hyp_scores = torch.zeros(len(hypotheses), dtype=torch.float)
        completed_hypotheses = []
        t = 0
        while len(completed_hypotheses) < beam_size and t < max_decoding_time_step:
            t += 1
            hyp_num = len(hypotheses)
            exp_src_encodings = src_encodings.expand(hyp_num, src_encodings.size(1),
                                                     src_encodings.size(2))
            exp_src_encodings_att_linear = src_encodings_att_linear.expand(
                hyp_num, src_encodings_att_linear.size(1), src_encodings_att_linear.size(2))
            y_tm1 = torch.tensor([hyp[-1] for hyp in hypotheses], dtype=torch.long)
            y_t_embed = self.model_embeddings.target(y_tm1)
            x = torch.cat([y_t_embed, att_tm1], dim=-1)
            (h_t, cell_t), att_t, _ = self.step(x, h_tm1, exp_src_encodings,
                                                exp_src_encodings_att_linear, enc_masks=None)
            log_p_t = F.log_softmax(self.target_vocab_projection(att_t), dim=-1)
            live_hyp_num = beam_size - len(completed_hypotheses)
            contiuating_hyp_scores = (hyp_scores.unsqueeze(1).expand_as(log_p_t) + log_p_t).view(
                -1)
            top_cand_hyp_scores, top_cand_hyp_pos = torch.topk(contiuating_hyp_scores,
                                                               k=live_hyp_num)
            prev_hyp_ids = top_cand_hyp_pos // self.tgt_size
            hyp_word_ids = top_cand_hyp_pos % self.tgt_size
            new_hypotheses, live_hyp_ids, new_hyp_scores = [], [], []
            for prev_hyp_id, hyp_word_id, cand_new_hyp_score in zip(
                    prev_hyp_ids, hyp_word_ids, top_cand_hyp_scores):
                prev_hyp_id = prev_hyp_id.item()
                hyp_word_id = hyp_word_id.item()
                cand_new_hyp_score = cand_new_hyp_score.item()
                new_hyp_sent = hypotheses[prev_hyp_id] + [hyp_word_id]
                if hyp_word_id == eos:
                    completed_hypotheses.append(Hypothesis(value=new_hyp_sent[1:-1],
                                                           score=cand_new_hyp_score))
                else:
                    new_hypotheses.append(new_hyp_sent)
                    live_hyp_ids.append(prev_hyp_id)
                    new_hyp_scores.append(cand_new_hyp_score)
            if len(completed_hypotheses) == beam_size:
                break
            live_hyp_ids = torch.tensor(live_hyp_ids, dtype=torch.long)
            h_tm1 = (h_t[live_hyp_ids], cell_t[live_hyp_ids])
            att_tm1 = att_t[live_hyp_ids]
            hypotheses = new_hypotheses
            hyp_scores = torch.tensor(new_hyp_scores, dtype=torch.float)
        if len(completed_hypotheses) == 0:
            completed_hypotheses.append(Hypothesis(value=hypotheses[0][1:],
                                                   score=hyp_scores[0].item()))
        completed_hypotheses.sort(key=lambda hyp: hyp.score, reverse=True)
        return completed_hypotheses


def to_input_tensor(sents, pad=0):
    max_len = max(len(s) for s in sents)
    padded = [s + [pad] * (max_len - len(s)) for s in sents]
    return torch.t(torch.tensor(padded, dtype=torch.long))


def train_nmt(sync, rng):
    src_size, tgt_size = 12, 10
    src_sents = [list(rng.randint(3, src_size, n)) for n in (6, 5, 5, 3)]
    tgt_sents = [[1] + [int(t) % (tgt_size - 3) + 3 for t in s[::-1]] + [2] for s in src_sents]
    src_sents = [[int(t) for t in s] for s in src_sents]
    source_lengths = [len(s) for s in src_sents]
    source_padded = to_input_tensor(src_sents)
    target_padded = to_input_tensor(tgt_sents)
    model = sync(NMT(6, 8, src_size, tgt_size))
    for p in model.parameters():
        p.data.uniform_(-0.1, 0.1)
    sync(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(6):
        optimizer.zero_grad()
        example_losses = -model(source_padded, source_lengths, target_padded)
        batch_loss = example_losses.sum()
        loss = batch_loss / len(src_sents)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append([loss.item(), grad_norm.item()])
    model.eval()
    enc_hiddens, (h0, c0) = model.encode(source_padded, source_lengths)
    masks = model.generate_sent_masks(enc_hiddens, source_lengths)
    with torch.no_grad():
        hyps = model.beam_search(src_sents[0], beam_size=3)
    return {
        "losses": losses,
        "masks": masks,
        "enc_shape": list(enc_hiddens.shape),
        "h0": h0,
        "beam": [[h.value, h.score] for h in hyps],
        "ppl": float(np.exp(batch_loss.item() / sum(len(s[1:]) for s in tgt_sents))),
    }


def main(sync, workdir):
    rng = np.random.RandomState(0)
    return {"parser": train_parser(sync, rng), "nmt": train_nmt(sync, rng)}
