"""The 'Deep learning for NLP' tutorials: bag-of-words logistic regression, an n-gram language
model, an LSTM POS tagger, a BiLSTM-CRF (forward algorithm and Viterbi) and EmbeddingBag
text classification with offsets."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


class BoWClassifier(nn.Module):
    def __init__(self, num_labels, vocab_size):
        super().__init__()
        self.linear = nn.Linear(vocab_size, num_labels)

    def forward(self, bow_vec):
        return F.log_softmax(self.linear(bow_vec), dim=1)


def make_bow_vector(sentence, word_to_ix):
    vec = torch.zeros(len(word_to_ix))
    for word in sentence:
        vec[word_to_ix[word]] += 1
    return vec.view(1, -1)


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 16)
        self.linear2 = nn.Linear(16, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        out = self.linear2(out)
        return F.log_softmax(out, dim=1)


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


START_TAG, STOP_TAG = "<START>", "<STOP>"


def argmax(vec):
    _, idx = torch.max(vec, 1)
    return idx.item()


def log_sum_exp(vec):
    max_score = vec[0, argmax(vec)]
    max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
    return max_score + torch.log(torch.sum(torch.exp(vec - max_score_broadcast)))


class BiLSTM_CRF(nn.Module):
    def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.tag_to_ix = tag_to_ix
        self.tagset_size = len(tag_to_ix)
        self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1, bidirectional=True)
        self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
        self.transitions = nn.Parameter(torch.randn(self.tagset_size, self.tagset_size))
        self.transitions.data[tag_to_ix[START_TAG], :] = -10000
        self.transitions.data[:, tag_to_ix[STOP_TAG]] = -10000

    def _forward_alg(self, feats):
        init_alphas = torch.full((1, self.tagset_size), -10000.0)
        init_alphas[0][self.tag_to_ix[START_TAG]] = 0.0
        forward_var = init_alphas
        for feat in feats:
            alphas_t = []
            for next_tag in range(self.tagset_size):
                emit_score = feat[next_tag].view(1, -1).expand(1, self.tagset_size)
                trans_score = self.transitions[next_tag].view(1, -1)
                next_tag_var = forward_var + trans_score + emit_score
                alphas_t.append(log_sum_exp(next_tag_var).view(1))
            forward_var = torch.cat(alphas_t).view(1, -1)
        terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
        return log_sum_exp(terminal_var)

    def _get_lstm_features(self, sentence):
        embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
        lstm_out, _ = self.lstm(embeds)
        lstm_out = lstm_out.view(len(sentence), self.hidden_dim)
        return self.hidden2tag(lstm_out)

    def _score_sentence(self, feats, tags):
        score = torch.zeros(1)
        tags = torch.cat([torch.tensor([self.tag_to_ix[START_TAG]], dtype=torch.long), tags])
        for i, feat in enumerate(feats):
            score = score + self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
        score = score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]
        return score

    def _viterbi_decode(self, feats):
        backpointers = []
        init_vvars = torch.full((1, self.tagset_size), -10000.0)
        init_vvars[0][self.tag_to_ix[START_TAG]] = 0
        forward_var = init_vvars
        for feat in feats:
            bptrs_t, viterbivars_t = [], []
            for next_tag in range(self.tagset_size):
                next_tag_var = forward_var + self.transitions[next_tag]
                best_tag_id = argmax(next_tag_var)
                bptrs_t.append(best_tag_id)
                viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
            forward_var = (torch.cat(viterbivars_t) + feat).view(1, -1)
            backpointers.append(bptrs_t)
        terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
        best_tag_id = argmax(terminal_var)
        path_score = terminal_var[0][best_tag_id]
        best_path = [best_tag_id]
        for bptrs_t in reversed(backpointers):
            best_tag_id = bptrs_t[best_tag_id]
            best_path.append(best_tag_id)
        start = best_path.pop()
        assert start == self.tag_to_ix[START_TAG]
        best_path.reverse()
        return path_score, best_path

    def neg_log_likelihood(self, sentence, tags):
        feats = self._get_lstm_features(sentence)
        forward_score = self._forward_alg(feats)
        gold_score = self._score_sentence(feats, tags)
        return forward_score - gold_score

    def forward(self, sentence):
        lstm_feats = self._get_lstm_features(sentence)
        return self._viterbi_decode(lstm_feats)


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


def main(sync, workdir):
    out = {}
    data = [
        ("me gusta comer en la cafeteria".split(), "SPANISH"),
        ("Give it to me".split(), "ENGLISH"),
        ("No creo que sea una buena idea".split(), "SPANISH"),
        ("No it is not a good idea to get lost at sea".split(), "ENGLISH"),
    ]
    word_to_ix = {}
    for sent, _ in data:
        for word in sent:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    label_to_ix = {"SPANISH": 0, "ENGLISH": 1}
    model = sync(BoWClassifier(2, len(word_to_ix)))
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(5):
        for instance, label in data:
            model.zero_grad()
            bow_vec = make_bow_vector(instance, word_to_ix)
            target = torch.LongTensor([label_to_ix[label]])
            loss = loss_function(model(bow_vec), target)
            loss.backward()
            optimizer.step()
    out["bow"] = next(model.parameters())[:, word_to_ix["creo"]]

    text = "When forty winters shall besiege thy brow And dig deep trenches in thy beauty field"
    text = text.split()
    ngrams = [([text[i - j - 1] for j in range(2)], text[i]) for i in range(2, len(text))]
    vocab = sorted(set(text))
    w2i = {word: i for i, word in enumerate(vocab)}
    ngram = sync(NGramLanguageModeler(len(vocab), 5, 2))
    optimizer = optim.SGD(ngram.parameters(), lr=0.01)
    losses = []
    for epoch in range(2):
        total_loss = 0
        for context, target in ngrams:
            context_idxs = torch.tensor([w2i[w] for w in context], dtype=torch.long)
            ngram.zero_grad()
            log_probs = ngram(context_idxs)
            loss = F.nll_loss(log_probs, torch.tensor([w2i[target]], dtype=torch.long))
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss)
    out["ngram"] = [losses, ngram.embeddings.weight[w2i["beauty"]]]

    training_data = [
        ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
        ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
    ]
    w2i = {}
    for sent, tags in training_data:
        for word in sent:
            w2i.setdefault(word, len(w2i))
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
    tagger = sync(LSTMTagger(4, 4, len(w2i), len(tag_to_ix)))
    optimizer = optim.SGD(tagger.parameters(), lr=0.1)
    for epoch in range(3):
        for sentence, tags in training_data:
            tagger.zero_grad()
            sentence_in = torch.tensor([w2i[w] for w in sentence], dtype=torch.long)
            targets = torch.tensor([tag_to_ix[t] for t in tags], dtype=torch.long)
            loss = F.nll_loss(tagger(sentence_in), targets)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        out["tagger"] = tagger(torch.tensor([w2i[w] for w in training_data[0][0]]))

    crf_tags = {"B": 0, "I": 1, "O": 2, START_TAG: 3, STOP_TAG: 4}
    crf = sync(BiLSTM_CRF(len(w2i), crf_tags, 4, 4))
    optimizer = optim.SGD(crf.parameters(), lr=0.01, weight_decay=1e-4)
    crf_data = [
        (training_data[0][0], "B I I O O".split()),
        (training_data[1][0], "B O B I".split()),
    ]
    nll = []
    for epoch in range(2):
        for sentence, tags in crf_data:
            crf.zero_grad()
            sentence_in = torch.tensor([w2i[w] for w in sentence], dtype=torch.long)
            targets = torch.tensor([crf_tags[t] for t in tags], dtype=torch.long)
            loss = crf.neg_log_likelihood(sentence_in, targets)
            loss.backward()
            optimizer.step()
            nll.append(loss.item())
    with torch.no_grad():
        score, path = crf(torch.tensor([w2i[w] for w in crf_data[0][0]]))
    out["crf"] = [nll, score, path, crf.transitions.grad]

    clf = sync(TextClassificationModel(12, 4, 3))
    text = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    offsets = torch.tensor([0, 3, 4, 8])
    label = torch.tensor([0, 2, 1, 0])
    optimizer = torch.optim.SGD(clf.parameters(), lr=5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        predicted_label = clf(text, offsets)
        loss = nn.CrossEntropyLoss()(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clf.parameters(), 0.1)
        optimizer.step()
        scheduler.step()
    out["embbag"] = [
        predicted_label,
        (predicted_label.argmax(1) == label).sum().item(),
        clf.embedding.weight,
    ]
    bag = sync(nn.EmbeddingBag(10, 3, mode="max"))
    out["embbag_max"] = bag(torch.tensor([[1, 2], [3, 3]]))
    bag = sync(nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0))
    out["embbag_weights"] = bag(
        torch.tensor([1, 0, 2, 3]),
        torch.tensor([0, 2]),
        per_sample_weights=torch.tensor([0.5, 1.0, 2.0, -1.0]),
    )
    return out
