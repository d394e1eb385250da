# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Errata of Article E: AIGC for short videos

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata_e")

# %% [markdown]
# Article E (source file `004_e8e30c57d93bf6fd.txt`) is titled *AIGC from beginner to practice: let AI
# help you create short videos, crack the "traffic code" and never sink without a trace again*. It
# covers GAN, VAE, NLP (word2vec, GloVe, attention), object detection, loss formulas, and a PyTorch
# DCGAN on CIFAR-10 evaluated by MSE/SSIM. This page lists its **25 entries** (12 major, 13 minor), E75–E98 and E105.
#
# It is one of the five article pages of the [errata appendix](errata.ipynb), which says how to read the
# tables and what each **Kind of check** means, and lists every entry of the five articles. The entries
# are grouped by topic, with the topic numbers of the appendix; a topic without an entry of this article
# is left out. A cell below runs the check of each entry whose table says "Check". Where one cell serves
# entries of several articles, it is on the page of the entry with the smallest number, and the others
# link to it.
#
# The book is built by executing this page, so if a check ever stopped passing, the book would not
# build.

# %%
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig, TrainConfig, VAEConfig
from aigc_course.errata_checks import CheckRecord, error_of, entry_number
from aigc_course.gan import build_gan
from aigc_course.train import train_gan
from aigc_course.plotting import glue
from aigc_course.vae import build_vae

ac.set_seed(0)
# every check is tiny: one thread is fastest and leaves the other cores alone
ac.runtime.set_threads(1)
print(ac.describe())

record = CheckRecord()  # the entries whose check has passed on this page
CHECKED, passed = record.checked, record.passed


# %% [markdown]
# ## 1. GAN maths (3 entries)
#
# The correct game {cite}`goodfellow2014gan`, taught in [section 2.1](../02_gan_math/01_minimax.ipynb), is
# $\min_G\max_D V(D,G)$ with
# $V(D,G)=\mathbb{E}_{x\sim p_{data}}[\log D(x)]+\mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]$.
# For a fixed $G$ the best discriminator is $D^*_G(x)=\dfrac{p_{data}(x)}{p_{data}(x)+p_g(x)}$, and
# $\max_D V=-\log 4+2\,\mathrm{JSD}(p_{data}\Vert p_g)$, smallest exactly when $p_g=p_{data}$. There
# $D^*\equiv\tfrac12$. Algorithm 1 alternates $k$ ascent steps on $V$ in $\theta_d$ with one descent step
# in $\theta_g$; in practice the generator minimises the non-saturating loss
# $-\mathbb{E}_z[\log D(G(z))]$ ([section 2.2](../02_gan_math/02_gradients.ipynb)).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E78 | E | major | The generator preprocesses "input data such as pictures" and forges data from the input data. | An unconditional generator takes random noise $z\sim p_z$; only the discriminator sees real data. Image-to-image GANs (e.g. pix2pix) are a separate, conditional setting. | {cite}`goodfellow2014gan`. Check, with E61 on [Article D's page](errata_d.ipynb). | illustration |
# | E80 | E | minor | When $D(G(z))$ is close to 1, the discriminator "cannot distinguish" real from fake. | $D(G(z))\approx1$ means $D$ is **fooled**: it confidently calls fakes real. "Cannot distinguish" is $D\equiv\tfrac12$, at $p_g=p_{data}$. | [Section 2.1](../02_gan_math/01_minimax.ipynb). Check, with E33 on [Article B's page](errata_b.ipynb). | correct statement |
# | E81 | E | major | Total loss $L=L_G+\lambda L_D^G$ (also $L_G+\lambda L_D$), with $\lambda$ balancing generator and discriminator. | There is no single weighted loss: $D$ minimises $L_D$ over $\theta_d$, $G$ minimises $L_G$ over $\theta_g$. With $L_D^G=-\log(1-D(G(z)))$ and $\lambda=1$ the fake-logit gradient is $2D-1$, as in [E29](errata_b.ipynb). | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check, with E29 on [Article B's page](errata_b.ipynb). | article's version |

# %% [markdown]
# ## 2. VAE maths (2 entries)
#
# The VAE {cite}`kingma2014vae,kingma2019introduction` ([sections 3.1](../03_vae_math/01_elbo.ipynb) to 3.4) maximises the evidence lower
# bound (ELBO, 证据下界)
# $\log p_\theta(x)\ge\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]-D_{KL}(q_\phi(z\mid x)\Vert p(z))$,
# with $q_\phi(z\mid x)=\mathcal N(\mu,\operatorname{diag}\sigma^2)$ and $p(z)=\mathcal N(0,I)$, so that
# $D_{KL}=\tfrac12\sum_{j=1}^{J}(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ over the $J$ latent dimensions.
# Samples are drawn as $z=\mu+\sigma\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$ (the
# reparameterisation trick, 重参数化技巧).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E77 | E | major | A VAE consists of an encoder, a decoder and a "deterministic mapping function" (确定性映射函数) into the latent space. | The latent code is **stochastic**: $z=\mu_\phi(x)+\sigma_\phi(x)\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$. This reparameterisation makes sampling differentiable in $\phi$. | {cite}`kingma2014vae,rezende2014stochastic`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check; the article's deterministic point encoder runs in the check of E02, on [Article A's page](errata_a.ipynb). | article's version (in E02) |
# | E87 | E | major | $L=\frac1N\sum_i\Big(\frac12\sum_{j=1}^D(x_i-\hat x_i)^2+\frac12\sum_{j=1}^D(\log\sigma_i^2+\sigma_i^2-1-x_i^2)\Big)$. | $L=\frac1N\sum_i\Big(\frac12\sum_{d=1}^{D}(x_{id}-\hat x_{id})^2+\frac12\sum_{j=1}^{J}(\mu_{ij}^2+\sigma_{ij}^2-\log\sigma_{ij}^2-1)\Big)$: the sign of $\log\sigma^2$ is flipped; the KL uses $+\mu^2$ where the article has $-x_i^2$ (the data, and with the wrong sign); and it runs over the $J$ **latent** dimensions. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |

# %% [markdown]
# **Check E77.** Two forward passes of the course VAE (the MLP VAE of the check of E02 on
# [Article A's page](errata_a.ipynb), here untrained) on the same input give the same $(\mu,\sigma)$ but
# different $z$. With the reparameterisation $z=\mu+\sigma\varepsilon$, the samples have variance
# $\sigma^2$ and a gradient with respect to $\mu$.

# %%
vae = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
x = metrics.to_model_space(data.digits().images[:4])  # (4, 1, 8, 8)
out1, out2 = vae(x), vae(x)
torch.testing.assert_close(out1.mu, out2.mu)
assert not torch.equal(out1.z, out2.z)

mu = torch.tensor([0.5], requires_grad=True)
logvar = torch.tensor([math.log(0.25)], requires_grad=True)
z = mu + torch.exp(0.5 * logvar) * torch.randn(100_000, 1)  # (S, 1)
(g_mu,) = torch.autograd.grad(z.mean(), mu)
print(f"sample variance {z.var().item():.4f} (sigma^2 = 0.25), dz/dmu = {g_mu.item():.3f}")
assert abs(z.var().item() - 0.25) < 0.01 and math.isclose(g_mu.item(), 1.0, rel_tol=1e-5)
passed("E77")

# %% [markdown]
# **Check E87.** At $\mu=0,\ \sigma=1$ the posterior equals the prior and the KL must be 0. The
# article's term gives $-\tfrac12\sum_d x_d^2<0$ on a Fashion-MNIST image, an impossible negative KL.
# As $\sigma\to0$ the article's term goes to $-\infty$, rewarding a posterior that collapses to a point,
# while the true KL goes to $+\infty$.

# %%
test = data.fashion_mnist("test")
image = metrics.to_model_space(test.images[:1]).flatten(1)  # (1, 784) in [-1, 1]


def article_kl(x: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The article's 'KL' term: 1/2 sum_d (log sigma^2 + sigma^2 - 1 - x_d^2), over the
    data dims."""
    return 0.5 * (logvar + logvar.exp() - 1 - x.pow(2)).sum(-1)


zeros = torch.zeros(1, 16)  # mu = 0 and log sigma^2 = 0 for 16 latent dimensions
print(f"at mu=0, sigma=1: gaussian_kl {losses.gaussian_kl(zeros, zeros).item():.1f}, "
      f"torch {kl_divergence(Normal(0.0, 1.0), Normal(0.0, 1.0)).item():.1f}, "
      f"article {article_kl(image, torch.zeros_like(image)).item():.1f}")
assert losses.gaussian_kl(zeros, zeros).item() == 0
assert article_kl(image, torch.zeros_like(image)).item() < 0
tiny = torch.full((1, 16), -20.0)  # sigma^2 = exp(-20)
assert article_kl(image, torch.full_like(image, -20.0)).item() < -1000
assert losses.gaussian_kl(zeros, tiny).item() > 100
passed("E87")

# %% [markdown]
# ## 4. Attention and other NLP formulas (5 entries)
#
# Article E's NLP section (taught correctly in [section 1.4](../01_concepts/04_attention.ipynb)) has the attention formula without its
# softmax and values, and loss formulas for word2vec, GloVe and cross-entropy that do not match the
# methods they name.
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E82 | E | major | "Negative-sampling loss" $L=-\sum_{i=1}^N\sum_{j=1}^V[c_j=w_{t+1}]\log p_j$, $N$ the sentence length. | That is full-softmax cross-entropy over the whole vocabulary, not negative sampling. Skip-gram with negative sampling maximises $\log\sigma(v'^{\top}_{w_O}v_{w_I})+\sum_{i=1}^{k}\mathbb{E}_{w_i\sim P_n(w)}[\log\sigma(-v'^{\top}_{w_i}v_{w_I})]$ over (centre, context) pairs inside a window, not only $w_{t+1}$. | Mikolov, Sutskever, Chen, Corrado & Dean, "Distributed Representations of Words and Phrases and their Compositionality", NeurIPS 2013. Check. | article's version |
# | E83 | E | major | GloVe: $L=\tfrac12\sum_{i,j}[c_{ij}=1](f_i^\top f_j-\log c_{ij})$, called a mean squared loss. | $J=\sum_{i,j:X_{ij}>0}f(X_{ij})(w_i^\top\tilde w_j+b_i+\tilde b_j-\log X_{ij})^2$ with $f(x)=\min\big(1,(x/x_{max})^{3/4}\big)$, $x_{max}=100$. The article's version has no square (so it is unbounded below), no weighting, biases or context vectors, and $[c_{ij}=1]$ keeps only pairs whose $\log c_{ij}=0$. | Pennington, Socher & Manning, "GloVe: Global Vectors for Word Representation", EMNLP 2014. Check. | article's version |
# | E84 | E | minor | Seq2seq and classifier losses $L=-\sum_i[y_i=w_j]\log p_j$ with $w_j$ "the predicted probability of word $j$" and $j$ never bound; the seq2seq decoder is "usually self-attention/Transformer" while the encoder is a CNN/RNN. | Sequences: $\mathcal L=-\sum_{t=1}^{T}\log p_\theta(y_t\mid y_{<t},x)$. Classification with one-hot $y$: $-\sum_c y_c\log p_c=-\log p_y$. A Transformer uses attention in both encoder and decoder {cite}`vaswani2017attention`; classic seq2seq uses RNNs on both sides (Sutskever, Vinyals & Le, NeurIPS 2014). | Check. | article's version |
# | E85 | E | major | $\mathrm{Attention}(Q,K,V)=\dfrac{QK^\top}{\sqrt{d_k}}$. | $\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\big(QK^\top/\sqrt{d_k}\big)V$, the softmax over the **key** axis, so each query's weights sum to 1. The output is $n_q\times d_v$, not an $n_q\times n_k$ score matrix. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. | article's version |
# | E86 | E | minor | $\mathrm{head}_i=\mathrm{Attention}(QW_iQ,KW_iK,VW_iV)$, output $\mathrm{Concat}(\ldots)W_O$. | $\mathrm{head}_i=\mathrm{Attention}(QW_i^Q,KW_i^K,VW_i^V)$ with $W_i^Q,W_i^K\in\mathbb R^{d_{model}\times d_k}$, $W_i^V\in\mathbb R^{d_{model}\times d_v}$; $\mathrm{MultiHead}=\mathrm{Concat}(\mathrm{head}_1,\ldots,\mathrm{head}_h)W^O$, $W^O\in\mathbb R^{hd_v\times d_{model}}$. As printed, "$QW_iQ$" multiplies by $Q$ twice. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. | article's version |

# %% [markdown]
# **Check E85.** Five queries, seven keys, values of width 4. The article's formula returns the
# $5\times7$ score matrix, whose rows do not sum to 1 and can be negative. Softmax over the key axis
# followed by $V$ matches PyTorch's `scaled_dot_product_attention`; a softmax over the wrong axis does not.

# %%
Q, K, V = torch.randn(5, 8), torch.randn(7, 8), torch.randn(7, 4)
scores = Q @ K.T / math.sqrt(8)  # (5, 7): the article's "attention"
weights = scores.softmax(dim=-1)  # over the keys
out = weights @ V  # (5, 4)
reference = F.scaled_dot_product_attention(Q[None], K[None], V[None])[0]
print("article's output", tuple(scores.shape), "vs attention", tuple(reference.shape))
torch.testing.assert_close(out, reference)
torch.testing.assert_close(weights.sum(-1), torch.ones(5))
assert scores.shape != reference.shape and (scores < 0).any()
assert not torch.allclose(scores.softmax(dim=0) @ V, reference)
passed("E85")

# %% [markdown]
# **Check E86.** Multi-head attention written out with per-head projections $W_i^Q,W_i^K,W_i^V$ and an
# output projection $W^O$ reproduces `torch.nn.MultiheadAttention` with the same weights. The article's
# $QW_iQ$ does not even have compatible shapes.

# %%
d_model, h = 8, 2
d_k = d_model // h
mha = nn.MultiheadAttention(d_model, h, batch_first=True)
X = torch.randn(1, 5, d_model)  # (B, n, d_model); self-attention: Q = K = V = X
with torch.no_grad():
    reference, _ = mha(X, X, X)
    Wq, Wk, Wv = mha.in_proj_weight.chunk(3)  # each (d_model, d_model): all heads stacked
    bq, bk, bv = mha.in_proj_bias.chunk(3)
    q, k, v = X @ Wq.T + bq, X @ Wk.T + bk, X @ Wv.T + bv  # (1, 5, d_model)
    heads = [F.scaled_dot_product_attention(*(t[..., i * d_k:(i + 1) * d_k] for t in (q, k, v)))
             for i in range(h)]  # h tensors (1, 5, d_k)
    out = torch.cat(heads, dim=-1) @ mha.out_proj.weight.T + mha.out_proj.bias  # Concat(...) W^O
    torch.testing.assert_close(out, reference)
    err = error_of(lambda: X[0] @ Wq[:d_k].T @ X[0])  # "Q W_i Q": (5, 8) @ (8, 4) @ (5, 8)
assert isinstance(err, RuntimeError)
passed("E86")

# %% [markdown]
# **Check E82.** Skip-gram with negative sampling touches only $k+1$ output vectors per (centre,
# context) pair; the article's formula, a softmax over the vocabulary, needs all $V$ of them.

# %%
vocab, dim, k = 50, 8, 5
emb_in = torch.randn(vocab, dim, requires_grad=True)  # centre-word vectors v
emb_out = torch.randn(vocab, dim, requires_grad=True)  # context-word vectors v'
centre, context = 3, 17
candidates = torch.tensor([i for i in range(vocab) if i not in (centre, context)])
negatives = candidates[torch.randperm(len(candidates))[:k]]  # k noise words
v_c = emb_in[centre]
sgns = -F.logsigmoid(emb_out[context] @ v_c) - F.logsigmoid(-(emb_out[negatives] @ v_c)).sum()
(g_sgns,) = torch.autograd.grad(sgns, emb_out)
softmax_ce = F.cross_entropy((emb_out @ v_c)[None], torch.tensor([context]))
(g_full,) = torch.autograd.grad(softmax_ce, emb_out)


def rows(grad: torch.Tensor) -> int:
    return int((grad.abs().sum(dim=1) > 0).sum())  # output vectors that receive a gradient


print(f"output vectors updated: negative sampling {rows(g_sgns)}, full softmax {rows(g_full)}")
assert rows(g_sgns) == k + 1 and rows(g_full) == vocab
passed("E82")

# %% [markdown]
# **Check E83.** Take two words that co-occur once, $c_{01}=1$, and set $f_0=tu$, $f_1=-tu$. The
# article's "loss" is then $-t^2\Vert u\Vert^2$: it decreases without bound as $t$ grows. GloVe's $J$
# is a weighted sum of squares, never negative.

# %%
counts = torch.tensor([[0, 1, 3, 0],
                       [1, 0, 2, 5],
                       [3, 2, 0, 1],
                       [0, 5, 1, 0]], dtype=torch.float64)  # symmetric co-occurrence counts
log_counts = torch.log(counts.clamp(min=1))


def article_glove(f: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((counts == 1) * (f @ f.T - log_counts)).sum()


def glove_j(w: torch.Tensor, w_ctx: torch.Tensor, b: torch.Tensor,
            b_ctx: torch.Tensor) -> torch.Tensor:
    weight = (counts / 100).pow(0.75).clamp(max=1) * (counts > 0)  # f(X_ij), zero where X_ij = 0
    return (weight * (w @ w_ctx.T + b[:, None] + b_ctx[None, :] - log_counts) ** 2).sum()


u = torch.tensor([1.0, 0.5, -0.5], dtype=torch.float64)
values = []
for t in (1.0, 10.0, 100.0):
    f = torch.zeros(4, 3, dtype=torch.float64)
    f[0], f[1] = t * u, -t * u
    values.append(article_glove(f).item())
    assert glove_j(f, f, torch.zeros(4, dtype=torch.float64),
                   torch.zeros(4, dtype=torch.float64)) >= 0
print("article's loss for t = 1, 10, 100:", values)
assert values[0] > values[1] > values[2] and values[2] < -1e4
passed("E83")

# %% [markdown]
# **Check E84.** One example of class 2 out of 5, and two predictions: a right one (probability 0.6 on
# class 2) and a confident wrong one (0.9 on class 0). The correct cross-entropy
# $-\sum_c y_c\log p_c=-\log p_y$ (PyTorch's `nll_loss` of the log-probabilities) prefers the right
# one. The article's formula, evaluated literally, $-\sum_i[y_i=w_j]\log p_j$ with $y_i\in\{0,1\}$
# the label of class $i$ and $w_j=p_j$ "the predicted probability of $j$", leaves $j$ unbound, and a
# label equals a probability only if the probability is exactly 0 or 1: it is 0 for both predictions
# (this part is an illustration; it holds by construction). Read more charitably, with $w_j$ the
# predicted *label* (1 for the predicted class, 0 elsewhere) and $j$ the predicted class, it gives
# $-\log p_j$, the model's confidence in its own prediction, right or wrong. Then it prefers the
# confident wrong prediction, which is the check that could fail.

# %%
label = 2
y = F.one_hot(torch.tensor(label), 5).double()  # y_i in {0, 1}, as the article defines it
predictions = {"right": torch.tensor([0.1, 0.1, 0.6, 0.1, 0.1], dtype=torch.float64),
               "wrong": torch.tensor([0.9, 0.025, 0.025, 0.025, 0.025], dtype=torch.float64)}


def cross_entropy(p: torch.Tensor) -> torch.Tensor:
    return -(y * p.log()).sum()  # -sum_c y_c log p_c


def article_ce(p: torch.Tensor, j: int) -> torch.Tensor:
    w = p  # "w_j is the predicted probability of word j"
    return -sum((y[i] == w[j]).double() * p[j].log() for i in range(len(y)))


for name, p in predictions.items():
    torch.testing.assert_close(cross_entropy(p), F.nll_loss(p.log()[None], torch.tensor([label])))
    print(f"{name}: cross-entropy {cross_entropy(p):.3f}, the article's loss for j = 0..4: "
          f"{[round(article_ce(p, j).item(), 3) + 0.0 for j in range(5)]}")  # + 0.0: no -0.0
assert cross_entropy(predictions["right"]) < cross_entropy(predictions["wrong"])
assert all(article_ce(predictions["right"], j) == article_ce(predictions["wrong"], j)
           for j in range(5))  # no choice of j prefers the right prediction


def article_ce_labels(p: torch.Tensor) -> torch.Tensor:
    """The charitable reading: w = the predicted one-hot label, j = the predicted class."""
    j = int(p.argmax())
    w = F.one_hot(p.argmax(), len(p)).double()
    return -sum((y[i] == w[j]).double() * p[j].log() for i in range(len(y)))


print(f"charitable reading: right {article_ce_labels(predictions['right']):.3f}, "
      f"wrong {article_ce_labels(predictions['wrong']):.3f}")
# confidence, not correctness: the charitable reading ranks the confident wrong prediction first
assert article_ce_labels(predictions["wrong"]) < article_ce_labels(predictions["right"])
passed("E84")

# %% [markdown]
# ## 5. Code (7 entries)
#
# Articles A, B and D give TensorFlow/Keras code; C and E give PyTorch DCGANs. None of the five
# programs runs as printed. TensorFlow is not installed in the course environment (the course is plain
# PyTorch), and neither is torchvision, so the articles' code is transcribed: layers and losses are
# rebuilt layer for layer in PyTorch and run next to the corrected version, and the names that a
# program uses but never defines are found by reading the whole program as printed (the check of E13, on
# [Article A's page](errata_a.ipynb)).
# E14, E66 and E95 are not run. The course's correct versions are in [section 4.1](../04_hands_on/01_data_pipeline.ipynb) (data pipeline) and [section 4.2](../04_hands_on/02_dcgan.ipynb)
# (DCGAN).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E88 | E | major | `labels = torch.full((batch_size,), 1, device=device)` passed to `nn.BCELoss`. | An integer fill value makes an int64 tensor and `BCELoss` raises. Use `torch.full((b,), 1.0)` or `torch.ones(b)`; better, `BCEWithLogitsLoss` on logits. | Check (torch's error reproduced). | article's version |
# | E89 | E | major | `fake_images = netG(noise)`, but `noise` and `num_epochs` are never defined; Adam with its default $\beta_1=0.9$. | Draw fresh noise every iteration, `torch.randn(batch_size, 100, 1, 1, device=device)`, and define `num_epochs`. DCGAN uses $\beta_1=0.5$. | {cite}`radford2016dcgan`. Check (names used but never defined), with E13 on [Article A's page](errata_a.ipynb). | article's version |
# | E90 | E | major | Evaluation noise `torch.randn(100, 1, 1, 1, device=device)`. | The generator's first layer is `ConvTranspose2d(100, ...)`, so the noise needs **100 channels**: `torch.randn(100, 100, 1, 1)`. | Check (torch's error reproduced). | article's version |
# | E92 | E | minor | `ssim(fake_images, real_images, multichannel=True)` on whole `(N, C, H, W)` batches, and later on torch tensors. | scikit-image's `structural_similarity` compares **one** pair of NumPy images with channels last (`channel_axis=-1` replaces the deprecated `multichannel`) and needs `data_range` for floats (2 for $[-1,1]$). On a `(100, 3, 32, 32)` batch it would treat the width as the channel axis. SSIM is a full-reference metric for *paired* images {cite}`wang2004ssim`; see E91. | scikit-image documentation. Not run (scikit-image is not installed; the course has its own `metrics.ssim`). | — |
# | E93 | E | minor | `plt.imshow(np.transpose(fake_images[0], (1, 2, 0)))` on the raw generator output. | The generator ends in `Tanh`, so values lie in $[-1,1]$: map them with $(x+1)/2$ first, or matplotlib clips every negative value of float RGB data to 0. | Check. | article's version |
# | E95 | E | minor | Keras is "based on TensorFlow and Theano". | As [E14](errata_a.ipynb). | Not run. | — |
# | E105 | E | minor | The PyTorch DCGAN trains the generator and the discriminator with learning rates 0.0002 and 0.00005 (`lr=0.00005` for the discriminator's Adam), a discriminator four times slower than the generator, with no reason given. | Nothing forbids unequal rates, but this direction is the one that invites mode collapse: a slow discriminator lets the generator crowd into the few places it currently rewards. The two time-scale update rule (TTUR) of Heusel et al. {cite}`heusel2017fid`, the usual reason for unequal rates, gives the *discriminator* the larger one; the DCGAN paper uses 0.0002 for both {cite}`radford2016dcgan`. | [Section 2.3](../02_gan_math/03_dynamics.ipynb) (the ratio swept over seeds). Check. | article's version |

# %% [markdown]
# **Check E88.** `torch.full` with the integer 1 makes an int64 tensor, which `BCELoss` refuses.

# %%
labels = torch.full((4,), 1)
assert labels.dtype == torch.int64
probs = torch.sigmoid(torch.randn(4))
err = error_of(lambda: nn.BCELoss()(probs, labels))
assert "Found dtype Long but expected Float" in str(err)
assert (torch.full((4,), 1.0).dtype == torch.float32
        and nn.BCELoss()(probs, torch.full((4,), 1.0)) > 0)
passed("E88")

# %% [markdown]
# **Check E90.** Article E's generator (three channels) needs noise with 100 channels. Articles C and
# E share one DCGAN; we retype it as on [Article C's page](errata_c.ipynb) (check of E45).

# %%
def article_dcgan(channels: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The generator and discriminator of Articles C (channels=1) and E (channels=3),
    as printed."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),  # (B, 256, 4, 4)
        nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),  # (B, 128, 8, 8)
        nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),  # (B, 64, 16, 16)
        nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False), nn.Tanh(),  # (B, C, 32, 32)
    )
    discriminator = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1, bias=False),  # (B, 64, H/2, W/2)
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False),
        nn.BatchNorm2d(256), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Sigmoid(),  # (B, 1, 1, 1) for 32x32 inputs
    )
    return generator, discriminator


test = data.fashion_mnist("test")


G_e, _ = article_dcgan(channels=3)
with torch.no_grad():
    err = error_of(lambda: G_e(torch.randn(100, 1, 1, 1)))
    assert "to have 100 channels" in str(err)
    fake_images = G_e(torch.randn(100, 100, 1, 1))
assert fake_images.shape == (100, 3, 32, 32)
passed("E90")

# %% [markdown]
# **Check E93.** About half of a `Tanh` generator's values are negative, and `imshow` clips float RGB
# data to $[0,1]$, so all of them would show as 0. $(x+1)/2$ maps the whole range into $[0,1]$.

# %%
hwc = fake_images[0].permute(1, 2, 0).numpy()  # (32, 32, 3), as the article passes it to imshow
clipped = (hwc < 0).mean()
shown = (hwc + 1) / 2
print(f"fraction of values imshow would clip to 0: {clipped:.2f}")
assert hwc.min() < 0 and clipped > 0.2 and shown.min() >= 0 and shown.max() <= 1
passed("E93")

# %% [markdown]
# **Check E105.** The article's ratio $\eta_D = \eta_G/4$ against the opposite one, $\eta_D = 4\eta_G$,
# on the eight-Gaussian toy problem of [section 2.3](../02_gan_math/03_dynamics.ipynb): the package's
# MLP GAN, non-saturating loss, Adam with $\beta_1 = 0.5$, {glue:text}`e105_steps` steps, three seeds
# each. Both learning rates are ten times the article's (0.002 and 0.0005, so that a short run gets
# somewhere); only their ratio is the article's. A mode counts as visited when it receives at least a
# tenth of its fair share of the samples (the definition of 2.3).

# %%
toy = data.toy2d("8gaussians", 20_000, seed=0)
toy_modes = data.toy2d_modes("8gaussians")
toy_model = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=64, depth=2)
E105_STEPS = 500


def modes_visited(lr_d: float, seed: int) -> int:
    """Train the toy GAN (lr_G = 2e-3) and count the modes its samples visit."""
    ac.set_seed(seed)
    G, D = build_gan(toy_model)
    cfg = TrainConfig(steps=E105_STEPS, batch_size=256, lr=2e-3, lr_d=lr_d, betas=(0.5, 0.999),
                      loss="bce", log_every=100, seed=seed)
    train_gan(G, D, toy, cfg, progress=False)
    G.eval()
    with torch.no_grad():
        points = G.sample(2000, generator=torch.Generator().manual_seed(1))
    return metrics.mode_coverage(points, toy_modes, math.inf)["modes_covered"]


visited_article = [modes_visited(5e-4, seed) for seed in range(3)]   # lr_D = lr_G / 4
visited_ttur = [modes_visited(8e-3, seed) for seed in range(3)]      # lr_D = 4 lr_G
print(f"modes visited (of 8) per seed: article's ratio {visited_article}, "
      f"opposite ratio {visited_ttur}")
assert max(visited_article) <= 2, "the article's ratio collapses in every seed"
assert min(visited_ttur) >= 7, "a faster discriminator keeps the modes"
passed("E105")

# %% tags=["hide-input"]
glue("e105_steps", E105_STEPS, display=False)

# %% [markdown]
# ## 6. Concepts and history (3 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E75 | E | minor | The GAN diagram runs Generator → Discriminator → Real Data → Generated Data. | $z\sim p_z\to G\to G(z)$; then $G(z)$ **and** real $x\sim p_{data}$ go into $D$, which outputs $P(\text{real})$. Gradients flow back to $D$ and, through $D$, to $G$. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). | — |
# | E76 | E | minor | The autoencoder diagram runs Encoder → Decoder → Input Data → Reconstructed Data. | Input $x$ → encoder → code $h$ → decoder → reconstruction $\hat x$, trained so that $\hat x\approx x$. | [Section 3.1](../03_vae_math/01_elbo.ipynb). | — |
# | E79 | E | major | SSD is a two-stage object detector (两阶段目标检测算法). | SSD, the *Single Shot* MultiBox Detector (Liu et al., ECCV 2016), is a **single-stage** detector that predicts boxes from multi-scale feature maps in one pass. Faster R-CNN (Ren et al., NeurIPS 2015) is two-stage. | The paper's title. | — |

# %% [markdown]
# ## 7. Applications and evaluation (2 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E91 | E | major | Model quality is judged by MSE and SSIM between generated images and CIFAR-10 **test** images; "MSE 0.0339, SSIM 0.8522" is read as high quality. | Unpaired MSE/SSIM cannot rank generators: a generator that always outputs the average image beats real images on MSE. Report FID $=\Vert\mu_r-\mu_g\Vert^2+\operatorname{tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big)$ and precision/recall. The reported numbers are implausible for unpaired images, and the printed program cannot have produced them: it stops with a `NameError` before training (E89) and, with that fixed, with a channel error at the evaluation noise (E90). | {cite}`heusel2017fid,kynkaanniemi2019precision,theis2016note`; [section 4.5](../04_hands_on/05_evaluation.ipynb). Check, with E59 on [Article D's page](errata_d.ipynb). | article's version |
# | E94 | E | minor | AIGC's "core algorithms" include object detection (YOLO/SSD) and image classification (AlexNet/VGG/ResNet); its applications include recommendation, medical image *analysis*, financial risk and vehicle-behaviour prediction. | These are discriminative or predictive tasks, not content generation. Generative models (GANs, VAEs, diffusion models {cite}`sohldickstein2015deep,ho2020ddpm`, autoregressive language models) can support them, e.g. with synthetic training data, but are not the same thing. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). | — |

# %% [markdown]
# ## 8. References (3 entries)
#
# Status: **fabricated** means no such work could be found (exact-title searches on arXiv, DBLP, the CVF
# index and publishers' catalogues), so it must not be cited. **Real, wrong details** means the work
# exists but the title, authors, year, venue or link is wrong. **Unverified** means it could be confirmed
# neither way. Real works are cited with the course bibliography where it has them, otherwise written out.
#
# One rule for wrong titles. A wrong title is **minor** when the reference still identifies the paper by
# its authors (and, in Article E, by the real English title printed beside it); that is the case of the
# Chinese titles that translate nothing, which the articles give to real papers (E73, E96). It is
# **major** when the title or the attribution leads the reader to a different work, or to none: E15's
# "Variational Autoencoders" by Kingma & Welling is nearly the title of their *other* paper, the 2019
# introduction, and E55 credits GANs to a later tutorial.
#
# | ID | Art. | Sev. | Cited as | Status | Correct citation and evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E96 | E | minor | Sections 7.1 and 7.3 give three papers with the real English title and an invented Chinese one: the GAN paper as "generative adversarial networks: the game of training a generator and a discriminator", Mikolov et al. as "word-vector models: a frequency-based neural-network method", "Attention Is All You Need" as "attention mechanisms and the Transformer model"; the reference list links Mikolov et al., "Distributed Representations of Words and Phrases and their Compositionality" (NeurIPS 2013), to arXiv:1301.3781 | real, invented Chinese titles, wrong link | The English titles are right {cite}`goodfellow2014gan,vaswani2017attention`; the Chinese ones translate none of them (and word2vec is not "frequency-based"). Mikolov et al. 2013 is arXiv:1310.4546; arXiv:1301.3781 is Mikolov, Chen, Corrado & Dean, "Efficient Estimation of Word Representations in Vector Space". | — |
# | E97 | E | minor | "TensorFlow GAN implementation" linked to `tensorflow/…/python/keras/applications`; "PyTorch GAN implementation" linked to `pytorch/examples/tree/master/gan` | wrong links | Keras *applications* are pretrained classifiers (ResNet, VGG, …), not a GAN. pytorch/examples has a `dcgan/` folder and no `gan/`. The TensorFlow DCGAN tutorial is at tensorflow.org/tutorials/generative/dcgan. | — |
# | E98 | E | minor | The book 《生成对抗网络：原理…》 (*Generative Adversarial Networks: Theory, Algorithms and Applications*) by 李航, "the authoritative guide" | unverified | No such book by Li Hang could be found. *Deep Learning* (Goodfellow, Bengio & Courville 2016) and *Speech and Language Processing* (Jurafsky & Martin), also recommended, are real. | — |

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article E**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》, Goodfellow, Bengio & Courville | OK | MIT Press 2016 |
# | A GAN book by 李航 | unverified | E98 |
# | 《自然语言处理综论》, Jurafsky & Martin | OK | *Speech and Language Processing* |
# | The GAN, word2vec and Transformer papers of sections 7.1 and 7.3, each with the English title and an invented Chinese one | real, invented Chinese titles | E96 |
# | Goodfellow et al. 2014, arXiv:1406.2661 | OK | {cite}`goodfellow2014gan` |
# | Mikolov et al. 2013, "Distributed Representations…" | real, wrong link | E96 |
# | Vaswani et al. 2017, arXiv:1706.03762 | OK | {cite}`vaswani2017attention` |
# | The TensorFlow and PyTorch "GAN implementation" links | wrong links | E97 |
# | huggingface/transformers, deeplearning.ai, keras.io, online-course and conference sites | OK, not load-bearing | the `cvpr.org` address and a WeChat article are unverified |

# %% [markdown]
# ## Summary
#
# The entries whose check ran on this page (a check that serves entries of several articles counts
# them all). The [summary of the appendix](errata.ipynb) counts the checks of all five pages.

# %%


print(f"{len(CHECKED)} entries have an executable check that passed on this page:")
print(", ".join(sorted(CHECKED, key=entry_number)))
assert len(CHECKED) == 11  # update when a check is added
