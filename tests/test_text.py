"""The language-model scoring of 1.4: the count baselines (``text.NGram``), per-character bits of the
Transformer (``text.char_bits``) and paired standard errors (``text.paired_difference``)."""
import math

import pytest
import torch

from aigc_course import text
from aigc_course.config import LMConfig


def _seq(n=400, vocab=12, seed=0):
    # a Markov chain with a sparse transition table (the same for every seed), so that smoothing matters
    trans = torch.rand(vocab, vocab, generator=torch.Generator().manual_seed(100)) ** 6
    gen = torch.Generator().manual_seed(seed)
    ids = [0]
    for _ in range(n - 1):
        ids.append(int(torch.multinomial(trans[ids[-1]], 1, generator=gen)))
    return torch.tensor(ids)


def _dense_witten_bell_bigram(train, V):
    """Witten-Bell bigram over a Witten-Bell unigram over the uniform distribution, with dense tensors."""
    c1 = torch.bincount(train, minlength=V).double()
    t1 = (c1 > 0).sum()
    uni = (c1 + t1 / V) / (c1.sum() + t1)
    c2 = torch.zeros(V, V, dtype=torch.float64)
    c2.index_put_((train[:-1], train[1:]), torch.ones(len(train) - 1, dtype=torch.float64), accumulate=True)
    n, types = c2.sum(1, keepdim=True), (c2 > 0).sum(1, keepdim=True).double()
    p = (c2 + types * uni) / (n + types).clamp(min=1)
    return torch.where(n > 0, p, uni.expand(V, V))


def _dense_kneser_ney_bigram(train, V):
    """Interpolated Kneser-Ney bigram with Ney's discounts, with dense tensors."""
    c2 = torch.zeros(V, V, dtype=torch.float64)
    c2.index_put_((train[:-1], train[1:]), torch.ones(len(train) - 1, dtype=torch.float64), accumulate=True)
    cont = (c2 > 0).sum(0).double()                       # in how many contexts each character follows

    def ney(counts):
        n1, n2 = (counts == 1).sum().item(), (counts == 2).sum().item()
        return n1 / (n1 + 2 * n2) if n1 + n2 else 0.5

    d1, d2 = ney(cont), ney(c2)
    uni = (cont - d1).clamp(min=0) / cont.sum() + d1 * (cont > 0).sum() / cont.sum() / V
    n, types = c2.sum(1, keepdim=True), (c2 > 0).sum(1, keepdim=True).double()
    p = (c2 - d2).clamp(min=0) / n.clamp(min=1) + d2 * types / n.clamp(min=1) * uni
    return torch.where(n > 0, p, uni.expand(V, V))


@pytest.mark.parametrize("method, dense", [("witten-bell", _dense_witten_bell_bigram),
                                           ("kneser-ney", _dense_kneser_ney_bigram)])
def test_ngram_bigram_matches_a_dense_implementation(method, dense):
    V = 15                                      # ids 12-14 never occur: unseen characters and histories
    train, val = _seq(seed=0), _seq(200, seed=1)
    val[5], val[6] = 13, 14                     # an unseen history, followed by an unseen character
    p = dense(train, V)
    expected = -p[val[:-1], val[1:]].log2()
    torch.testing.assert_close(text.NGram(train, 2, V, method).char_bits(val), expected)


@pytest.mark.parametrize("method", text.NGram.METHODS)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_ngram_distributions_sum_to_one_and_agree_with_prob(method, order):
    V = 14
    model = text.NGram(_seq(), order, V, method)
    for history in [(), (3,), (0, 1), (12, 13), (5, 13)]:
        p = model.probs(history)
        assert abs(p.sum().item() - 1) < 1e-12 and (p > 0).all()
        torch.testing.assert_close(p, torch.tensor([model.prob(history, w) for w in range(V)],
                                                   dtype=torch.float64))


def _zipf_seq(n, V, seed):
    # Zipf-distributed characters, each with three favourite successors: like text, most pairs are rare
    uni = 1 / torch.arange(1, V + 1, dtype=torch.float64)
    succ = torch.randint(0, V, (V, 3), generator=torch.Generator().manual_seed(100))
    gen, ids = torch.Generator().manual_seed(seed), [0]
    for _ in range(n - 1):
        if torch.rand(1, generator=gen) < 0.5:
            ids.append(int(succ[ids[-1], torch.randint(0, 3, (1,), generator=gen)]))
        else:
            ids.append(int(torch.multinomial(uni, 1, generator=gen)))
    return torch.tensor(ids)


def test_smoothed_ngrams_beat_add_alpha_on_sparse_data():
    # the lesson of 1.4: add-alpha is a poor smoother when most pairs are unseen; Kneser-Ney is best
    V = 1000
    train, val = _zipf_seq(3000, V, seed=1), _zipf_seq(1000, V, seed=2)
    add = text.bigram_bits_per_char(train, val, V, alpha=0.1)
    wb, kn = (text.NGram(train, 2, V, m).char_bits(val).mean().item() for m in text.NGram.METHODS)
    assert kn < wb - 0.1 and wb < add - 0.5


def test_ngram_rejects_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        text.NGram(_seq(), 2, 12, "add-one")
    with pytest.raises(ValueError, match="order"):
        text.NGram(_seq(), 0, 12)
    with pytest.raises(ValueError, match="vocab_size"):
        text.NGram(_seq(), 2, 5)


def test_ngram_generate_is_reproducible():
    model = text.NGram(_seq(), 2, 12, "kneser-ney")
    a = model.generate(torch.tensor([0]), 30, generator=torch.Generator().manual_seed(0))
    b = model.generate(torch.tensor([0]), 30, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and len(a) == 31 and a[0] == 0


@pytest.mark.parametrize("method", text.NGram.METHODS)
def test_ngram_sampling_follows_probs(method):
    # the mixture sampler draws from the same distribution that probs() writes out
    V, n = 14, 20_000
    model = text.NGram(_seq(), 3, V, method)
    gen = torch.Generator().manual_seed(0)
    for history in [(0, 1), (5, 13)]:                     # a seen and an unseen history
        draws = torch.tensor([model._sample_next(history, gen) for _ in range(n)])
        freq = torch.bincount(draws, minlength=V).double() / n
        p = model.probs(history)
        assert ((freq - p).abs() <= 5 * (p * (1 - p) / n).sqrt() + 1e-4).all()


def test_vocab_decodes_spare_ids_as_unknown():
    vocab = text.CharVocab("床前明月光")
    assert vocab.decode(torch.tensor([1, 2, len(vocab) + 3])) == "光前" + vocab.UNK


def test_char_bits_scores_every_target_once_with_its_window():
    torch.manual_seed(0)
    cfg = LMConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, d_model=16)
    model = text.CharTransformer(cfg).train()            # char_bits must switch to eval mode
    ids = torch.randint(0, 20, (45,))                     # 44 targets: 5 windows of 8, then a tail of 4
    bits = text.char_bits(model, ids)
    assert bits.shape == (44,) and model.training
    wins = text.windows(ids, 8, stride=8)
    assert abs(bits[:40].mean().item() - text.bits_per_char(model, wins)) < 1e-5
    with torch.no_grad():                                 # the tail: the last window of 8 inputs
        logp = torch.log_softmax(model.eval()(ids[-9:-1].view(1, -1)).double(), -1)[0]
    tail = -logp[torch.arange(8), ids[-8:]][-4:] / math.log(2)
    torch.testing.assert_close(bits[40:], tail)


def test_paired_difference_standard_errors():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(300, generator=gen, dtype=torch.float64), torch.randn(300, generator=gen,
                                                                              dtype=torch.float64)
    d = a - b
    mean, se = text.paired_difference(a, b)
    assert mean == pytest.approx(d.mean().item()) and se == pytest.approx((d.std() / 300 ** 0.5).item())
    # one target per group: the cluster standard error is the ordinary one
    assert text.paired_difference(a, b, torch.arange(300))[1] == pytest.approx(se)
    # differences shared within groups of 10: the cluster SE sees 30 draws, not 300
    shared = torch.randn(30, generator=gen, dtype=torch.float64).repeat_interleave(10)
    groups = torch.arange(300) // 10
    iid = text.paired_difference(shared, torch.zeros(300, dtype=torch.float64))[1]
    cluster = text.paired_difference(shared, torch.zeros(300, dtype=torch.float64), groups)[1]
    assert cluster > 2.5 * iid
    with pytest.raises(ValueError, match="same targets"):
        text.paired_difference(a, b[:-1])


def test_poem_index_covers_the_corpus():
    poems = [text.Poem("t", "a", "床前明月光，\n疑是地上霜。"), text.Poem("t", "a", "白日依山尽，")]
    idx = text.poem_index(poems)
    assert len(idx) == len(text.corpus(poems)) and idx.tolist().count(1) == len("白日依山尽，") + 2
