"""Dive into Deep Learning, chapter 10.7: English-French style machine translation on a toy
corpus: tokenising with lower() and split, truncate_pad to num_steps with '<pad>', valid lengths as
(array != vocab['<pad>']).type(torch.int32).sum(1), a GRU Seq2SeqEncoder with
nn.Embedding and a decoder that concatenates the context (context.repeat(X.shape[0], 1, 1)),
sequence_mask with torch.arange(maxlen)[None, :] < valid_len[:, None], MaskedSoftmaxCELoss
subclassing nn.CrossEntropyLoss with reduction='none' and pred.permute(0, 2, 1), teacher
forcing with torch.cat([bos, Y[:, :-1]], 1), xavier init of GRU weights via
m._flat_weights_names, a greedy predict loop and BLEU."""

import collections
import math

import torch
from torch import nn

PAIRS = [
    ("go .", "va !"), ("hi .", "salut !"), ("run !", "cours !"), ("who ?", "qui ?"),
    ("wow !", "ça alors !"), ("i lost .", "j'ai perdu ."), ("i'm home .", "je suis chez moi ."),
    ("he's calm .", "il est calme ."), ("i'm fine .", "je vais bien ."),
    ("we won .", "nous avons gagné ."), ("stop !", "arrête !"), ("help !", "à l'aide !"),
]


class Vocab:
    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        counter = collections.Counter(t for line in tokens for t in line)
        self.idx_to_token = list(reserved_tokens) + ["<unk>"] + sorted(
            t for t, f in counter.items() if f >= min_freq)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.token_to_idx["<unk>"])
        return [self[t] for t in tokens]

    def to_tokens(self, indices):
        return [self.idx_to_token[int(i)] for i in indices]


def truncate_pad(line, num_steps, padding_token):
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def build_array(lines, vocab, num_steps):
    lines = [vocab[l] + [vocab["<eos>"]] for l in lines]
    array = torch.tensor([truncate_pad(l, num_steps, vocab["<pad>"]) for l in lines])
    valid_len = (array != vocab["<pad>"]).type(torch.int32).sum(1)
    return array, valid_len


class Seq2SeqEncoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        X = self.embedding(X)  # (batch_size, num_steps, embed_size)
        X = X.permute(1, 0, 2)  # (num_steps, batch_size, embed_size)
        output, state = self.rnn(X)
        return output, state


class Seq2SeqDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs, *args):
        return enc_outputs[1]

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        X_and_context = torch.cat((X, context), 2)
        output, state = self.rnn(X_and_context, state)
        output = self.dense(output).permute(1, 0, 2)
        return output, state


class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, enc_X, dec_X, *args):
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)


def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32,
                        device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    # pred: (batch_size, num_steps, vocab_size), label: (batch_size, num_steps)
    def forward(self, pred, label, valid_len):
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction = "none"
        unweighted_loss = super(MaskedSoftmaxCELoss, self).forward(pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss


def xavier_init_weights(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)
    if type(m) == nn.GRU:
        for param in m._flat_weights_names:
            if "weight" in param:
                nn.init.xavier_uniform_(m._parameters[param])


def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps):
    net.eval()
    src_tokens = src_vocab[src_sentence.lower().split(" ")] + [src_vocab["<eos>"]]
    enc_valid_len = torch.tensor([len(src_tokens)])
    src_tokens = truncate_pad(src_tokens, num_steps, src_vocab["<pad>"])
    enc_X = torch.unsqueeze(torch.tensor(src_tokens, dtype=torch.long), dim=0)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    dec_state = net.decoder.init_state(enc_outputs, enc_valid_len)
    dec_X = torch.unsqueeze(torch.tensor([tgt_vocab["<bos>"]], dtype=torch.long), dim=0)
    output_seq = []
    for _ in range(num_steps):
        Y, dec_state = net.decoder(dec_X, dec_state)
        dec_X = Y.argmax(dim=2)
        pred = dec_X.squeeze(dim=0).type(torch.int32).item()
        if pred == tgt_vocab["<eos>"]:
            break
        output_seq.append(pred)
    return " ".join(tgt_vocab.to_tokens(output_seq))


def bleu(pred_seq, label_seq, k):
    pred_tokens, label_tokens = pred_seq.split(" "), label_seq.split(" ")
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[" ".join(label_tokens[i : i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[" ".join(pred_tokens[i : i + n])] > 0:
                num_matches += 1
                label_subs[" ".join(pred_tokens[i : i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def main(sync, workdir):
    source = [s.split(" ") for s, _ in PAIRS]
    target = [t.split(" ") for _, t in PAIRS]
    src_vocab = Vocab(source, reserved_tokens=["<pad>", "<bos>", "<eos>"])
    tgt_vocab = Vocab(target, reserved_tokens=["<pad>", "<bos>", "<eos>"])
    num_steps = 6
    src_array, src_valid_len = build_array(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = build_array(target, tgt_vocab, num_steps)

    X = torch.tensor([[1, 2, 3], [4, 5, 6]])
    masked = sequence_mask(X, torch.tensor([1, 2]))
    X3 = torch.ones(2, 3, 4)
    masked3 = sequence_mask(X3, torch.tensor([1, 2]), value=-1)
    loss = MaskedSoftmaxCELoss()
    demo_loss = loss(torch.ones(3, 4, 10), torch.ones((3, 4), dtype=torch.long),
                     torch.tensor([4, 2, 0]))

    encoder = Seq2SeqEncoder(len(src_vocab), 8, 16, 2)
    decoder = Seq2SeqDecoder(len(tgt_vocab), 8, 16, 2)
    net = EncoderDecoder(encoder, decoder)
    net.apply(xavier_init_weights)
    sync(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    net.train()
    losses = []
    for epoch in range(8):
        for i in range(0, len(PAIRS), 4):
            X, X_valid_len = src_array[i : i + 4], src_valid_len[i : i + 4]
            Y, Y_valid_len = tgt_array[i : i + 4], tgt_valid_len[i : i + 4]
            optimizer.zero_grad()
            bos = torch.tensor([tgt_vocab["<bos>"]] * Y.shape[0]).reshape(-1, 1)
            dec_input = torch.cat([bos, Y[:, :-1]], 1)  # teacher forcing
            Y_hat, _ = net(X, dec_input, X_valid_len)
            l = loss(Y_hat, Y, Y_valid_len)
            l.sum().backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1)
            num_tokens = Y_valid_len.sum()
            optimizer.step()
            losses.append((l.sum() / num_tokens).item())
    translations, scores = [], []
    for eng, fra in PAIRS[:6]:
        translation = predict_seq2seq(net, eng, src_vocab, tgt_vocab, num_steps)
        translations.append(translation)
        scores.append(bleu(translation, fra, k=2) if translation else 0.0)
    return {
        "src_array": src_array,
        "valid_len": [src_valid_len, tgt_valid_len],
        "masked": masked,
        "masked3": masked3,
        "demo_loss": demo_loss,
        "losses": losses,
        "translations": translations,
        "bleu": scores,
        "bleu_examples": [bleu("il est calme .", "il est calme .", 2),
                          bleu("il est .", "il est calme .", 2)],
        "flat_names": list(net.encoder.rnn._flat_weights_names),
    }
