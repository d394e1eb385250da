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
# # 1.4 Attention and text generation

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("04_attention")

# %% [markdown]
# Text generators such as GPT-3 {cite}`brown2020gpt3` and the chat assistants built on it
# {cite}`ouyang2022instructgpt` are **language models** (语言模型): they give the probability of the next
# **token** (词元: a character or a piece of a word) given the text so far, and generate by sampling one
# token at a time. Their architecture is the **Transformer** {cite}`vaswani2017attention`, whose central
# operation is the **attention mechanism** (注意力机制): every position of the text computes a weighted
# average of the other positions, with weights learned from the content. (Attention itself is older: it was
# introduced for machine translation by {cite}`bahdanau2015attention`; the Transformer is the architecture
# built from attention alone.)
#
# This page builds the pieces and checks each against PyTorch:
#
# 1. scaled dot-product attention, written from its formula and compared with
#    `torch.nn.functional.scaled_dot_product_attention`, with and without a causal mask;
# 2. why the scores are divided by $\sqrt d$, measured;
# 3. masking, multi-head attention and token embeddings, compared with the course's
#    `aigc_course.text` model;
# 4. a tiny character-level Transformer trained on the 300 Tang poems, scored in bits per character
#    against the count models (smoothed n-grams) that a specialist would try first, and sampled with
#    different temperatures and top-$k$. At this data size the count models win, and the page measures
#    why.

# %%
import inspect
import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
import numpy as np
import torch
import torch.nn.functional as F

import aigc_course as ac
from aigc_course import checkpoint, recipes, text
from aigc_course.config import LMConfig
from aigc_course.exercises import ch1
from aigc_course.nn import count_parameters
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # a model of 0.6 M parameters: one CPU thread is fastest
dev = ac.device()  # the language model trains here; everything else on the page is tiny (CPU)
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
RESULTS = Path(ac.__file__).resolve().parents[1] / "benchmarks" / "results"

# %% [markdown]
# ## Scaled dot-product attention
#
# Each of $T$ positions carries three vectors, computed from its content by learned linear maps: a
# **query** $q_i$ (查询: what this position is looking for), a **key** $k_j$ (键: what a position offers) and a
# **value** $v_j$ (值: what it passes on). Stack them as rows of $Q, K \in \mathbb R^{T \times d}$ and
# $V \in \mathbb R^{T \times d_v}$. Position $i$ scores every position $j$ by the dot product $q_i \cdot k_j$,
# turns the scores into weights with a softmax **over $j$** (the keys), and outputs the weighted average of
# the values:
#
# $$
# \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt d}\right) V,
# \qquad
# a_{ij} = \frac{\exp(q_i \cdot k_j / \sqrt d)}{\sum_{j'} \exp(q_i \cdot k_{j'} / \sqrt d)},
# \qquad \sum_j a_{ij} = 1 .
# $$
#
# A **causal mask** (因果掩码) lets position $i$ attend only to positions $j \le i$: the scores of later
# positions are set to $-\infty$ *before* the softmax, so that their weights are exactly 0 and the others
# still sum to 1. A language model needs it: when it predicts token $i + 1$ it may not look at it. We write
# attention from the formula and compare it with PyTorch's fused implementation, in float64, with a batch of
# 2 and 3 heads.

# %%
def attention(q, k, v, causal=False):
    """softmax(Q K^T / sqrt(d)) V for (..., T, d) tensors; returns (output, weights)."""
    d, t = q.shape[-1], q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)              # (..., T, T): row i = query i
    if causal:
        future = torch.ones(t, t, dtype=torch.bool).triu(1)      # True where j > i
        scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                      # over the keys
    return weights @ v, weights                                  # (..., T, d_v), (..., T, T)


gen = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 3, 10, 16, generator=gen, dtype=torch.float64) for _ in range(3))
causal_mask = torch.ones(10, 10, dtype=torch.bool).tril()       # True where attention is allowed
for causal in (False, True):
    ours, weights = attention(q, k, v, causal)
    theirs = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    gap = (ours - theirs).abs().max().item()
    print(f"causal={causal!s:<5}: largest gap to F.scaled_dot_product_attention {gap:.1e}")
    torch.testing.assert_close(ours, theirs)                    # float64 tolerances (~1e-7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 10, dtype=torch.float64))
masked = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask)  # an explicit mask
torch.testing.assert_close(masked, attention(q, k, v, True)[0])
assert (weights[..., ~causal_mask] == 0).all()                  # no weight at all on the future

# the two classic slips do not pass the same test
by_d = torch.softmax(q @ k.transpose(-2, -1) / 16, dim=-1) @ v
wrong_axis = torch.softmax(q @ k.transpose(-2, -1) / 4, dim=-2) @ v
ref = F.scaled_dot_product_attention(q, k, v)
print(f"scaled by d instead of sqrt(d): gap {(by_d - ref).abs().max():.2f}; "
      f"softmax over the queries: gap {(wrong_axis - ref).abs().max():.2f}")
assert (by_d - ref).abs().max() > 0.01 and (wrong_axis - ref).abs().max() > 0.01

# %% [markdown]
# The formula matches PyTorch to rounding error, with and without the mask; dividing by $d$ instead of
# $\sqrt d$, or normalising over the wrong axis, does not.
#
# :::{margin} A source article's slip
# One of the source articles prints the attention
# formula as $QK^\top/\sqrt{d_k}$ alone, without the softmax and without $V$: entry E85 of the
# [errata](../appendix/errata_e.ipynb), which records the mistakes of the five blog articles this course was
# commissioned from.
# :::
#
# ## Why divide by $\sqrt d$?
#
# If the entries of $q$ and $k$ are independent with mean 0 and variance 1, then
# $q \cdot k = \sum_{m=1}^d q_m k_m$ is a sum of $d$ independent terms of mean 0 and variance
# $\mathbb E[q_m^2]\,\mathbb E[k_m^2] = 1$, so $\mathrm{Var}(q \cdot k) = d$. Without scaling, the scores of
# a wide model are large, the softmax puts almost all weight on one key, and its gradient (which contains
# $a_{ij}(1 - a_{ij})$) nearly vanishes. Dividing by $\sqrt d$ brings the variance back to 1 for every $d$
# {cite}`vaswani2017attention`. We measure both facts: the variance of $q \cdot k$, and the **entropy** of the
# attention weights over $T =$ {glue:text}`e14_n_keys` keys (at most $\log T$ for uniform weights; 0 for all
# weight on one key).

# %%
gen = torch.Generator().manual_seed(1)
dims = [4, 16, 64, 256, 1024]
n_pairs, n_keys = 20_000, 32
rows = []
for d in dims:
    dots = (torch.randn(n_pairs, d, generator=gen) * torch.randn(n_pairs, d, generator=gen)).sum(1)
    qs, ks = torch.randn(500, 1, d, generator=gen), torch.randn(500, n_keys, d, generator=gen)
    scores = (qs * ks).sum(-1)                                          # (500, 32) raw scores
    ent = {}
    for name, s in [("raw", scores), ("scaled", scores / math.sqrt(d))]:
        a = torch.softmax(s, dim=-1)
        ent[name] = -(torch.xlogy(a, a)).sum(-1).mean().item()
    rows.append((d, dots.var().item() / d, ent["raw"], ent["scaled"]))
    print(f"d = {d:>4}: Var(q.k)/d = {rows[-1][1]:.3f}; mean entropy of the weights: "
          f"raw {ent['raw']:.3f}, scaled {ent['scaled']:.3f} (uniform: {math.log(n_keys):.3f})")
ratios = np.array([r[1] for r in rows])
scaled_ent, raw_ent = np.array([r[3] for r in rows]), np.array([r[2] for r in rows])

# %% tags=["hide-input"]
assert np.all(np.abs(ratios - 1) < 0.05)                   # Var(q.k) = d, to 5% (SE about 1.5%)
assert scaled_ent.max() - scaled_ent.min() < 0.05          # scaled: the same softmax for every d
assert raw_ent[-1] < 0.25 * math.log(n_keys) and np.all(np.diff(raw_ent) < 0)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.semilogx(dims, raw_ent, "o-", label=r"softmax$(q \cdot k)$")
ax.semilogx(dims, scaled_ent, "s-", label=r"softmax$(q \cdot k / \sqrt{d})$")
ax.axhline(math.log(n_keys), ls=":", color="0.4", label=rf"uniform weights, $\log {n_keys}$")
ax.set_xlabel("dimension $d$ of queries and keys")
ax.set_ylabel("entropy of the attention weights (nats)")
ax.set_title(r"Without $1/\sqrt{d}$ the attention collapses onto one key as $d$ grows")
ax.legend(fontsize=8)
plt.show()

# %% tags=["hide-input"]
glue("e14_raw_ent", float(raw_ent[-1]), display=False)
glue("e14_scaled_ent", float(scaled_ent[-1]), display=False)
glue("e14_log_t", math.log(n_keys), display=False)
glue("e14_n_keys", n_keys, display=False)


# %% [markdown]
# With $d = 1024$ the unscaled weights have an entropy of only {glue:text}`e14_raw_ent:.2f` nats: nearly
# one-hot. The scaled weights keep {glue:text}`e14_scaled_ent:.2f` nats at every width, out of at most
# {glue:text}`e14_log_t:.2f`.
#
# :::{dropdown} Why not divide by $d$?
# Dividing by $d$ instead would shrink the variance to $1/d$ and, at
# initialisation, make the weights nearly uniform for wide models: attention that cannot choose until
# training has grown $W^Q$ and $W^K$ to compensate. Learnt weights can compensate for either scaling, and
# some recipes for very wide models do divide by $d$; the $\sqrt d$ rule makes the softmax well-behaved
# from the first step.
# :::
#
# ## Multi-head causal self-attention
#
# In **self-attention** (自注意力) the queries, keys and values all come from the same sequence
# $X \in \mathbb R^{T \times D}$: $Q = XW^Q$, $K = XW^K$, $V = XW^V$. **Multi-head attention** (多头注意力)
# splits the $D$ features into $h$ heads of $D/h$, runs attention in each head separately (each head can
# attend to different positions), concatenates the heads and mixes them with an output projection $W^O$.
# Below is the short version on the page; it must give exactly the output of the course's
# `text.CausalSelfAttention` with the same weights (which packs $W^Q, W^K, W^V$ into one linear layer
# `qkv` and calls the fused PyTorch kernel).

# %%
def multi_head_self_attention(x, layer, n_head, causal=True):
    """Multi-head self-attention of x (B, T, D) with the weights of a text.CausalSelfAttention."""
    b, t, d = x.shape
    q, k, v = (x @ layer.qkv.weight.T + layer.qkv.bias).split(d, dim=-1)     # (B, T, D) each
    q, k, v = (m.view(b, t, n_head, d // n_head).transpose(1, 2)
               for m in (q, k, v))                                         # (B, H, T, D/H)
    y, _ = attention(q, k, v, causal)                                      # (B, H, T, D/H)
    y = y.transpose(1, 2).reshape(b, t, d)                                 # concatenate the heads
    return y @ layer.proj.weight.T + layer.proj.bias                       # (B, T, D)


small = LMConfig(vocab_size=50, block_size=12, n_layer=1, n_head=4, d_model=32)
layer = text.CausalSelfAttention(small).double().eval()
x = torch.randn(2, 12, 32, dtype=torch.float64)
with torch.no_grad():
    ours, package = multi_head_self_attention(x, layer, n_head=4), layer(x)
    torch.testing.assert_close(ours, package, atol=1e-12, rtol=0)

    # causality: changing positions 6..11 must leave the outputs at 0..5 unchanged
    x_future = x.clone()
    x_future[:, 6:] += torch.randn(2, 6, 32, dtype=torch.float64)
    past_change = (layer(x_future)[:, :6] - package[:, :6]).abs().max().item()
    future_change = (layer(x_future)[:, 6:] - package[:, 6:]).abs().max().item()
    unmasked = [multi_head_self_attention(inp, layer, 4, causal=False)[:, :6]
                for inp in (x, x_future)]
    unmasked_change = (unmasked[1] - unmasked[0]).abs().max().item()

    # order: permuting the rows of X permutes the unmasked outputs the same way, and nothing else
    perm = torch.randperm(12, generator=torch.Generator().manual_seed(0))
    plain = multi_head_self_attention(x, layer, 4, causal=False)
    torch.testing.assert_close(multi_head_self_attention(x[:, perm], layer, 4, causal=False),
                               plain[:, perm])
    masked_perm_gap = (layer(x[:, perm]) - package[:, perm]).abs().max().item()
print(f"page version vs package: equal to 1e-12; parameters {count_parameters(layer)} "
      f"= 4 (D^2 + D) = {4 * (32 * 32 + 32)}")
print(f"after changing positions 6-11: outputs 0-5 move by {past_change:.1e} with the causal "
      "mask, "
      f"{unmasked_change:.2f} without it; outputs 6-11 move by {future_change:.2f}")
print("permuting the inputs permutes the outputs without the mask (to 1e-7); with the mask the "
      f"outputs change by up to {masked_perm_gap:.2f}")

# %% tags=["hide-input"]
assert count_parameters(layer) == 4 * (32 * 32 + 32)
assert past_change < 1e-12 and unmasked_change > 0.01 and future_change > 0.01
assert masked_perm_gap > 0.01

# %% [markdown]
# Without the mask, attention ignores the order of its inputs: permute the rows of $X$ and the output rows
# are permuted the same way, nothing more. With the mask, order matters, but only through *which* tokens a
# position may see. The simplest causal attention shows what that gives. Make every score equal (queries
# and keys zero): the softmax spreads the weight evenly, and position $i$ outputs the plain average of the
# values $v_0, \dots, v_i$, a lower-triangular matrix of weights $1/(i + 1)$. Learnt queries and keys
# replace the equal scores with data-dependent ones, so that each position averages mostly the positions it
# finds relevant. The equal-weight case also carries a faint signal of position: an average of $i + 1$
# independent random vectors has a length that shrinks like $1/\sqrt{i + 1}$.

# %%
n_avg, t_avg = 500, 64
values = torch.randn(n_avg, t_avg, 32, generator=torch.Generator().manual_seed(2))
tril = torch.ones(t_avg, t_avg).tril()
average_weights = tril / tril.sum(1, keepdim=True)            # row i: 1/(i+1) on j <= i
running_mean = average_weights @ values                       # (n, T, 32): the average of the past
zeros = torch.zeros(n_avg, t_avg, 32)                          # q = k = 0: every score is 0
torch.testing.assert_close(attention(zeros, zeros, values, causal=True)[0], running_mean)
torch.testing.assert_close(running_mean[:, 9], values[:, :10].mean(1))
lengths = running_mean.norm(dim=-1).mean(0).numpy()           # mean length at each position
slope = np.polyfit(np.log(np.arange(1, t_avg + 1)), np.log(lengths), 1)[0]
print(f"length of the output: {lengths[0]:.2f} at position 0, {lengths[-1]:.2f} at position "
      f"{t_avg - 1}; log-log slope {slope:.3f} (1/sqrt(i+1) has slope -0.5)")

# %% tags=["hide-input"]
assert abs(slope + 0.5) < 0.02                                # a sum, not a mean, has slope +0.5
glue("e14_len_first", float(lengths[0]), display=False)
glue("e14_len_last", float(lengths[-1]), display=False)
glue("e14_t_avg", t_avg - 1, display=False)

# %% [markdown]
# The mean length of the output falls from {glue:text}`e14_len_first:.2f` at position 0 to
# {glue:text}`e14_len_last:.2f` at position {glue:text}`e14_t_avg`, on the $1/\sqrt{i + 1}$ line. From the
# size of what it receives alone, a position can tell roughly how far into the text it is.

# %% [markdown]
# ## The data: the 300 Tang poems
#
# Our language model learns from the *Three Hundred Tang Poems* (唐诗三百首), an 18th-century anthology of
# poems written in the 7th to 10th centuries. `recipes.text_split()` holds out 10% of the poems
# (whole poems, chosen with a fixed seed) for validation and builds the **vocabulary** (词表) of every
# character in the file.
#
# :::{dropdown} Where the file comes from, and its licence
# The poems are in the public domain. The course reads them from
# Debian's `fortunes-zh` package (`/usr/share/games/fortunes/tang300.u8`), whose compilation is licensed
# GPL-3.0+, so the course does not redistribute the file: install the package (`apt-get install fortunes-zh`)
# or point `AIGC_DATA` to a folder that holds a copy.
# :::

# %%
poems = text.tang_poems()
train_text, val_text, vocab = recipes.text_split()
train_poems, val_poems = text.split_poems(poems)                            # the same split
train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
example = next(p for p in poems if p.body.startswith("床前明月光"))
print(f"{len(poems)} poems; training text {len(train_text):,} characters, validation "
      f"{len(val_text):,}; vocabulary of {len(vocab) - 1:,} characters + id 0 for unknown ones")
print(f"\n《{example.title}》 {example.author}\n{example.body}\n")
print("ids of its first line:", vocab.encode(example.body.split("\n")[0]).tolist())
assert vocab.decode(vocab.encode(example.body)) == example.body            # a round trip
unseen = [c for c in val_text if c not in set(train_text)]
print(f"{len(set(unseen))} characters of the validation poems ({len(unseen)} occurrences) never "
      "occur in the training text")

# %% tags=["hide-input"]
assert text.corpus(val_poems) == val_text and len(text.poem_index(val_poems)) == len(val_ids)
glue("e14_n_poems", len(poems), display=False)
glue("e14_n_val_poems", len(val_poems), display=False)
glue("e14_train_chars", len(train_text), display=False)
glue("e14_val_chars", len(val_text), display=False)
glue("e14_chars", len(vocab) - 1, display=False)
glue("e14_ids", len(vocab), display=False)
glue("e14_unseen_types", len(set(unseen)), display=False)
glue("e14_unseen_count", len(unseen), display=False)
glue("e14_unseen_pct", 100 * len(unseen) / len(val_text), display=False)

# %% [markdown]
# The training text has {glue:text}`e14_train_chars:,` characters from the {glue:text}`e14_n_poems`
# poems (bodies only, separated by blank lines; the validation text has {glue:text}`e14_val_chars:,`, from
# {glue:text}`e14_n_val_poems` poems). The vocabulary has {glue:text}`e14_chars:,` distinct characters, so
# {glue:text}`e14_ids:,` ids with the unknown one (never used here, since the vocabulary is built from the
# whole file). That is a tiny corpus by the standards of real language models. Working with characters
# avoids a tokenizer; classical Chinese has roughly one word per character. Note a consequence of the small
# corpus: {glue:text}`e14_unseen_types` characters of the validation poems
# ({glue:text}`e14_unseen_count` occurrences, {glue:text}`e14_unseen_pct:.1f`% of the text) never occur in
# the training poems. They have ids, but no model trained on these poems can know anything about them
# beyond "rare".
#
# **Embeddings.** A model cannot multiply ids. A **token embedding** (词嵌入) table $E \in \mathbb R^{V
# \times D}$ gives each character a learned vector: looking up row $i$ is the same as multiplying the one-hot
# vector of $i$ by $E$. Here $V$ is the model's table size, `cfg.vocab_size` = {glue:text}`e14_table_size:,`:
# the {glue:text}`e14_ids:,` ids of the poems and some unused ids to spare. Attention itself ignores the
# order of its inputs (checked above), and the causal mask gives only an indirect, weak sense of position,
# through how many tokens each position averages. Language models without any position information do
# learn to use that signal (Haviv et al., 2022), but it is faint. So a second table of **position
# embeddings** (位置嵌入) is added, one learnt vector per position $0, \dots, T - 1$. The course's model
# also uses the token table, transposed, as its output layer:
# **weight tying** (权重绑定) {cite}`press2017tying`, which saves $VD$ parameters.
#
# :::{margin} Other position codes
# The original
# Transformer added fixed sinusoids of different frequencies instead {cite}`vaswani2017attention`; many
# recent models rotate queries and keys by position-dependent angles, the rotary embeddings or RoPE of
# Su et al., 2021.
# :::
#
# **Blocks.** Between the embeddings and the output sit $L$ identical blocks. Each adds two sublayers to
# its input, as the package's `text.Block.forward` shows (printed below): multi-head causal self-attention,
# then a two-layer MLP applied to each position separately. `x + f(...)` is a **residual connection**
# (残差连接): a block learns a correction to $x$ rather than a new $x$, and the gradient reaches the first
# layers through the identity path, which is what makes deep stacks trainable. The layer norm of 1.3 sits
# *before* each sublayer (pre-norm, as in GPT-2), standardising each token's $D$ features. We build the model
# with the recipe's configuration and check these facts, together with its parameter count: $VD + TD$ for
# the embeddings, $12D^2 + 13D$ per block (attention $4D^2 + 4D$, MLP $8D^2 + 5D$, two layer norms $4D$)
# and $2D$ for the final layer norm.

# %%
print(inspect.getsource(text.Block.forward))
recipe = recipes.get_recipe("charlm-tang")
cfg = recipe.model
print(cfg)
ac.set_seed(recipe.quick.seed)
fresh = text.CharTransformer(cfg)
ids = vocab.encode("床前明月光")
one_hot = F.one_hot(ids, cfg.vocab_size).float()                           # (5, V)
torch.testing.assert_close(fresh.tok(ids), one_hot @ fresh.tok.weight)     # lookup = one-hot @ E
assert fresh.head.weight is fresh.tok.weight                               # weight tying
V, T, D, L = cfg.vocab_size, cfg.block_size, cfg.d_model, cfg.n_layer
n_formula = V * D + T * D + L * (12 * D**2 + 13 * D) + 2 * D
print(f"parameters: formula {n_formula:,}, count_parameters {count_parameters(fresh):,}")
assert n_formula == count_parameters(fresh)

# %% tags=["hide-input"]
glue("e14_params", count_parameters(fresh), display=False)
glue("e14_table_size", V, display=False)

# %% [markdown]
# The block's two residual steps, checked on the freshly built model: the package's `Block` must compute
# exactly $x' = x + \mathrm{Attn}(\mathrm{LN}_1(x))$, then $x' + \mathrm{MLP}(\mathrm{LN}_2(x'))$ (pre-norm),
# and must differ from the original Transformer's post-norm order, $\mathrm{LN}(x + f(x))$
# {cite}`vaswani2017attention`. The diagram below draws the same computation.

# %%
block = fresh.blocks[0]
was_training = block.training
block.eval()                                                   # no dropout in the comparison
x_block = torch.randn(2, 5, D, generator=torch.Generator().manual_seed(4))
with torch.no_grad():
    mid = x_block + block.attn(block.ln1(x_block))             # residual 1: x + Attn(LN(x))
    pre_norm = mid + block.mlp(block.ln2(mid))                 # residual 2: + MLP(LN(x'))
    post_mid = block.ln1(x_block + block.attn(x_block))        # post-norm: LN(x + Attn(x)) ...
    post_norm = block.ln2(post_mid + block.mlp(post_mid))      # ... then LN(x' + MLP(x'))
    torch.testing.assert_close(block(x_block), pre_norm)
    post_gap = (block(x_block) - post_norm).abs().max().item()
block.train(was_training)
print(f"Block(x) = pre-norm residual steps; the post-norm order differs by up to {post_gap:.2f}")
assert post_gap > 0.1

# %% tags=["hide-input"]
def draw_block(ax):
    """A pre-norm Transformer block: the residual stream on the left, two sublayers off it."""
    boxes = {"LN₁": 1.2, "causal multi-head\nattention": 2.4, "LN₂": 4.2,
             "MLP\n(D → 4D → D, GELU)": 5.4}
    for name, y in boxes.items():
        ax.add_patch(FancyBboxPatch((1.6, y - 0.35), 2.6, 0.7, boxstyle="round,pad=0.05",
                                    fc="#dbe9f6" if "LN" in name else "#fde2c8", ec="k"))
        ax.text(2.9, y, name, ha="center", va="center", fontsize=9)
    for y in (3.4, 6.4):                                       # the two additions
        ax.add_patch(plt.Circle((0.5, y), 0.22, fc="w", ec="k"))
        ax.text(0.5, y, "+", ha="center", va="center", fontsize=13)

    def arrow(a, b, **kw):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=1.2, **kw))

    arrow((0.5, -0.2), (0.5, 3.18))                            # the residual stream (identity)
    arrow((0.5, 3.62), (0.5, 6.18))
    arrow((0.5, 6.62), (0.5, 7.5))
    for y_from, y_box, y_sum in ((0.3, 1.2, 3.4), (3.9, 4.2, 6.4)):
        arrow((0.5, y_from), (1.55, y_box), connectionstyle="angle,angleA=0,angleB=90")
        arrow((2.9, y_box + 0.4), (2.9, y_box + 0.85))
        arrow((2.9, y_box + 1.6), (0.75, y_sum), connectionstyle="angle,angleA=90,angleB=0")
    ax.text(0.35, -0.45, "x (B, T, D)", fontsize=9)
    ax.text(0.35, 7.65, "to the next block", fontsize=9)
    ax.text(-0.1, 1.9, "residual stream", rotation=90, fontsize=8, color="0.35", va="center")
    ax.set_xlim(-0.4, 4.6)
    ax.set_ylim(-0.7, 8.0)
    ax.set_aspect("equal")
    ax.axis("off")


fig, ax = plt.subplots(figsize=(4.2, 6.2))
draw_block(ax)
ax.set_title(f"One of the {L} blocks (pre-norm)", fontsize=10)
plt.show()

# %% [markdown]
# ## Training, live
#
# The model has {glue:text}`e14_params:,` parameters. Like every language model it is trained by maximum
# likelihood (1.2): on windows of $T + 1$ characters it predicts
# each next character from the ones before it, and minimises the average **cross-entropy** (交叉熵)
# $-\frac1T \sum_t \log p_\theta(c_{t+1} \mid c_{\le t})$. The causal mask lets one forward pass train all
# $T$ predictions of a window at once. An untrained model with small random weights predicts a nearly uniform
# distribution, so its loss should start near $\log V$ nats. The loop below is the whole training algorithm;
# the optimiser is Adam (4.2), which scales each parameter's step by running averages of its gradient and
# squared gradient. The course's trainer (`recipes.train_recipe("charlm-tang")`) runs the same steps with
# logging and checkpoints. In the quick profile it is a short demonstration.

# %%
demo_steps = 30 if QUICK else 300
train_windows = text.windows(train_ids, cfg.block_size)                   # (N, T + 1)
val_windows = text.windows(val_ids, cfg.block_size, stride=cfg.block_size)  # each character once
model_demo = text.CharTransformer(cfg).to(dev)
opt = torch.optim.Adam(model_demo.parameters(), lr=recipe.quick.lr, betas=recipe.quick.betas)
batch_gen = torch.Generator().manual_seed(0)
losses = []
for step in range(demo_steps):
    batch = train_windows[torch.randint(len(train_windows), (recipe.quick.batch_size,),
                                        generator=batch_gen)].to(dev)  # (B, T + 1)
    loss = model_demo.loss(batch)                                      # mean cross-entropy, nats
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model_demo.parameters(), recipe.quick.grad_clip)
    opt.step()
    losses.append(loss.item())
print(f"loss: step 0 {losses[0]:.3f} nats (log V = {math.log(V):.3f}); "
      f"last 5 steps {np.mean(losses[-5:]):.3f}")
assert abs(losses[0] - math.log(V)) < 0.1
assert np.mean(losses[-5:]) < losses[0] - 1.0

fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.plot(losses, label="training loss")
ax.axhline(math.log(V), ls=":", color="0.4", label=r"$\log V$: uniform prediction")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats per character)")
ax.set_title(f"The first {demo_steps} steps of training")
ax.legend()
plt.show()

# %% tags=["hide-input"]
freq = torch.bincount(train_ids).double() / len(train_ids)
freq_entropy = -(freq * freq.clamp(min=1e-300).log()).sum().item()   # nats
early = float(np.mean(losses[25:30]))
assert abs(early - freq_entropy) < 0.3                      # the same steps in both profiles
glue("e14_early_loss", early, display=False)
glue("e14_freq_entropy", freq_entropy, display=False)

# %% [markdown]
# The loss starts at $\log V$ and falls quickly at first: the model learns which characters are frequent
# (punctuation, line breaks, common characters) before it learns anything about context. Over steps 25-29
# its loss is {glue:text}`e14_early_loss:.2f` nats, close to {glue:text}`e14_freq_entropy:.2f` nats, the
# entropy of the character frequencies of the training text, which is the lowest loss a model that ignores
# context can reach on it.
#
# ## The trained model
#
# `recipes.load_or_train("charlm-tang")` gives the model trained by the recipe: the shipped weights when
# they exist (their SHA-256 is checked against the manifest), otherwise, in the quick profile, a model
# trained briefly with the quick recipe (which is weaker). What follows describes whichever model it
# returns, with the numbers computed here.

# %%
entry = checkpoint.read_manifest()["weights"].get("charlm-tang")
model = recipes.load_or_train("charlm-tang", progress=False, device=dev)
if QUICK and entry is not None:
    source = f"the shipped weights ({entry['steps']:,} training steps)"
elif QUICK:
    source = (f"the quick recipe ({recipe.quick.steps} steps, trained just now: no weights "
              "shipped yet)")
else:
    source = f"the full recipe ({recipe.full.steps:,} steps, trained just now)"
print("model:", source)

# %% tags=["hide-input"]
glue("e14_source", source, display=False)

# %% [markdown]
# **Where the trained model looks.** The page's `attention` function returns the weights as well as the
# output, so we can recompute one block's attention from the trained weights, check that it reproduces the
# package's output, and draw the weights of every head on the first line of 《静夜思》. Beside them, the
# plain average of the past (equal weights on $j \le i$) from above. How far each head is from that average
# is measured by the total variation distance of each row, $\tfrac12 \sum_j |a_{ij} - 1/(i + 1)|$ (0: the
# same weights; 1: no overlap), averaged over the rows $i \ge 1$.

# %%
line = "床前明月光，疑是地上霜。"
line_ids = vocab.encode(line).to(dev)
t_line, n_head = len(line_ids), model.cfg.n_head
tril_line = torch.ones(t_line, t_line).tril()
uniform_past = tril_line / tril_line.sum(1, keepdim=True)        # the average of the past
head_weights, head_tv = [], []
model.eval()
with torch.no_grad():
    h = model.tok(line_ids)[None] + model.pos(torch.arange(t_line, device=dev))   # (1, T, D)
    for blk in model.blocks:
        hn = blk.ln1(h)
        q_l, k_l, v_l = (m.view(1, t_line, n_head, D // n_head).transpose(1, 2)
                         for m in blk.attn.qkv(hn).split(D, dim=-1))           # (1, H, T, D/H)
        y_l, w_l = attention(q_l, k_l, v_l, causal=True)
        out_l = blk.attn.proj(y_l.transpose(1, 2).reshape(1, t_line, D))
        torch.testing.assert_close(out_l, blk.attn(hn), atol=1e-5, rtol=1e-4)  # same attention
        w_l = w_l[0].cpu()                                                      # (H, T, T)
        head_weights.append(w_l)
        head_tv.append(0.5 * (w_l - uniform_past).abs().sum(-1)[:, 1:].mean(-1))  # (H,)
        h = blk(h)
for i, tv in enumerate(head_tv):
    print(f"block {i + 1}: distance of each head from the average of the past",
          " ".join(f"{v:.2f}" for v in tv.tolist()))

# %% tags=["hide-input"]
shown_block = int(torch.stack([tv.max() for tv in head_tv]).argmax())  # furthest from uniform
cjk_fonts = [f.name for f in font_manager.fontManager.ttflist if "CJK SC" in f.name]
fig, axes = plt.subplots(1, n_head + 1, figsize=(2.3 * (n_head + 1), 2.9))
panels = [("average of the past", uniform_past)] + [
    (f"block {shown_block + 1}, head {j + 1}", head_weights[shown_block][j])
    for j in range(n_head)]
for ax, (title, weights) in zip(axes, panels):
    ax.imshow(weights.numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(title, fontsize=8)
    if cjk_fonts:
        family = [cjk_fonts[0], "sans-serif"]
        ax.set_xticks(range(t_line), list(line), fontfamily=family, fontsize=7)
        ax.set_yticks(range(t_line), list(line), fontfamily=family, fontsize=7)
    else:  # no Chinese font: positions instead of characters
        ax.set_xticks(range(0, t_line, 2))
        ax.set_yticks(range(0, t_line, 2))
axes[0].set_ylabel("query (position i)")
axes[0].set_xlabel("key (position j)")
title = ("Attention weights on the first line of 《静夜思》" if cjk_fonts
         else "Attention weights on the first line of the poem (positions 0-11)")
fig.suptitle(title + ": rows sum to 1, nothing above the diagonal", fontsize=9,
             fontfamily=[cjk_fonts[0], "sans-serif"] if cjk_fonts else "sans-serif")
fig.tight_layout()
plt.show()
if not cjk_fonts:
    print("positions:", "  ".join(f"{i}={c}" for i, c in enumerate(line)))

for w_l in head_weights:                                  # what the figure shows, checked
    torch.testing.assert_close(w_l.sum(-1), torch.ones(n_head, t_line))
    assert (w_l[:, tril_line == 0] == 0).all()
tv_all = torch.stack(head_tv)                              # (L, H)
assert tv_all.max() > 0.2                                  # some head is far from a plain average
glue("e14_tv_first_max", tv_all[0].max().item(), display=False)
glue("e14_tv_max", tv_all.max().item(), display=False)
glue("e14_tv_block", shown_block + 1, display=False)

# %% [markdown]
# Every row sums to 1 and nothing lies above the diagonal. The heads of the first block are at most
# {glue:text}`e14_tv_first_max:.2f` from the average of the past; those of block
# {glue:text}`e14_tv_block` (drawn) up to {glue:text}`e14_tv_max:.2f`: their weights depend on the
# content of the line, the step from the average of the past to attention. (One line and one model: what
# these weights are worth in prediction is measured next, on all the validation poems.)


# %% [markdown]
# **Bits per character.** We score models by their average cross-entropy on the held-out poems, in
# **bits per character** (每字符比特数): nats divided by $\ln 2$. It is the number of bits an ideal compressor
# driven by the model would need per character of new text, so lower is better. Every model below is scored
# on exactly the same characters: each character of the validation text after the first, given the
# characters before it (for the Transformer, those of its window of $T$; `text.char_bits`).
#
# **Baselines.** A number means little alone: it needs the simple method a specialist would try first. For
# text that is an **n-gram model** (n 元语法模型), which predicts a character from the $n - 1$ before it by
# counting in the training text: the **unigram** model (一元模型) uses character frequencies, the **bigram**
# model (二元模型) $p(c_{t+1} \mid c_t)$ counts pairs. The whole difficulty is **smoothing** (平滑): giving
# some probability to the pairs never seen in training, which here are nearly all of the
# $V^2 \approx$ {glue:text}`e14_pairs_m:.1f` million. The naive way adds $\alpha$ to every count
# (add-$\alpha$). Witten–Bell and Kneser–Ney smoothing do better; neither has a parameter tuned on the
# validation poems.
#
# :::{dropdown} Witten–Bell and Kneser–Ney smoothing
# Witten–Bell smoothing instead mixes the pair counts after a character $h$ with the
# unigram, giving the unigram more weight the more *different* characters have followed $h$:
#
# $$
# p(w \mid h) = \frac{c(h, w) + n(h)\, p(w)}{c(h) + n(h)},
# $$
#
# where $c(h, w)$ counts the pair, $c(h)$ the character $h$ and $n(h)$ the distinct characters seen after
# $h$ (the unigram $p(w)$ is itself mixed with the uniform distribution in the same way). Kneser–Ney
# smoothing subtracts a fixed discount from every count and gives the freed probability to a lower order
# that counts in how many *different contexts* a character occurs rather than how often; it is the standard
# method, and it wins the comparisons of Chen and Goodman (1999). The Witten–Bell bigram fits in a few
# lines (the folded cell below); `text.NGram` has both methods and longer
# histories (trigrams: two characters of context).
# :::

# %% tags=["hide-input"]
def unigram_bits(train_ids, ids, vocab_size, alpha=0.1):
    """Bits of every target ids[1:] under add-alpha character frequencies."""
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + alpha
    return -(counts / counts.sum()).log2()[ids[1:]]


def pair_counts(train_ids, vocab_size):
    c = torch.zeros(vocab_size, vocab_size, dtype=torch.float64)           # c[h, w]
    ones = torch.ones(len(train_ids) - 1, dtype=torch.float64)
    return c.index_put_((train_ids[:-1], train_ids[1:]), ones, accumulate=True)


def witten_bell_bigram(train_ids, vocab_size):
    """The (V, V) table p(w | h): pair counts mixed with a Witten-Bell unigram."""
    c1 = torch.bincount(train_ids, minlength=vocab_size).double()
    n1 = (c1 > 0).sum()                                                     # characters seen
    unigram = (c1 + n1 / vocab_size) / (c1.sum() + n1)                      # mixed with 1/V
    c2 = pair_counts(train_ids, vocab_size)
    c_h, n_h = c2.sum(1, keepdim=True), (c2 > 0).sum(1, keepdim=True)       # c(h), n(h)
    table = (c2 + n_h * unigram) / (c_h + n_h).clamp(min=1)
    return torch.where(c_h > 0, table, unigram)                # h never seen: the unigram


def add_alpha_bigram(train_ids, vocab_size, alpha=0.1):
    c2 = pair_counts(train_ids, vocab_size) + alpha
    return c2 / c2.sum(1, keepdim=True)


def table_bits(table, ids):
    return -table[ids[:-1], ids[1:]].log2()                    # bits of every target ids[1:]


# %%
bits = {  # per-character bits of every model, on the same targets val_ids[1:]
    "uniform over the characters": torch.full((len(val_ids) - 1,), math.log2(len(vocab) - 1)),
    "unigram (add-0.1)": unigram_bits(train_ids, val_ids, V),
    "bigram (add-0.1)": table_bits(add_alpha_bigram(train_ids, V), val_ids),
    "bigram (Witten-Bell)": table_bits(witten_bell_bigram(train_ids, V), val_ids),
    "bigram (Kneser-Ney)": text.NGram(train_ids, 2, V, "kneser-ney").char_bits(val_ids),
    "trigram (Kneser-Ney)": text.NGram(train_ids, 3, V, "kneser-ney").char_bits(val_ids),
    "untrained Transformer": text.char_bits(fresh, val_ids),
    "Transformer": text.char_bits(model, val_ids),
}
poem_of = text.poem_index(val_poems)[1:]       # the validation poem of each target
best = min((k for k in bits if "gram" in k), key=lambda k: bits[k].mean().item())
print(f"{len(val_ids) - 1:,} targets in {len(val_poems)} poems; differences to the best count "
      f"model, {best}, with standard errors over the poems:")
for name, b in bits.items():
    d, se = text.paired_difference(b, bits[best], poem_of)
    print(f"{name:>28}: {b.mean():6.3f} bits per character  ({d:+.3f} ± {se:.3f})")

# %% tags=["hide-input"]
torch.testing.assert_close(bits["bigram (Witten-Bell)"],   # the page's bigram = the package's
                           text.NGram(train_ids, 2, V, "witten-bell").char_bits(val_ids))
assert abs(bits["bigram (add-0.1)"].mean().item()
           - text.bigram_bits_per_char(train_ids, val_ids, V)) < 1e-4
bpc = {k: b.mean().item() for k, b in bits.items()}
d_best, se_best = text.paired_difference(bits["Transformer"], bits[best], poem_of)
d_uni, se_uni = text.paired_difference(bits["Transformer"], bits["unigram (add-0.1)"], poem_of)
d_wb, se_wb = text.paired_difference(bits["Transformer"], bits["bigram (Witten-Bell)"], poem_of)
# add-alpha is the culprit: the smoothed bigrams beat the unigram that the add-0.1 bigram loses to
assert bpc["bigram (add-0.1)"] > bpc["unigram (add-0.1)"] > bpc["bigram (Witten-Bell)"] + 0.3
assert bpc["bigram (Kneser-Ney)"] < bpc["bigram (Witten-Bell)"] - 0.1
assert d_best > 2 * se_best     # worse than the best count model
assert d_uni < -2 * se_uni      # better than the character frequencies
seen_in_training = torch.zeros(V, dtype=torch.bool)
seen_in_training[train_ids] = True
new_char = ~seen_in_training[val_ids[1:]]
tf, kn = bits["Transformer"], bits["bigram (Kneser-Ney)"]
assert tf[new_char].mean() > tf[~new_char].mean() + 5     # the unseen characters are costly
d_seen, se_seen = text.paired_difference(tf[~new_char], kn[~new_char], poem_of[~new_char])
assert d_seen > 2 * se_seen                               # ... but not the whole story
for key, value in [("e14_bpc_model", bpc["Transformer"]), ("e14_bpc_best", bpc[best]),
                   ("e14_bpc_wb", bpc["bigram (Witten-Bell)"]),
                   ("e14_bpc_bigram", bpc["bigram (add-0.1)"]),
                   ("e14_bpc_unigram", bpc["unigram (add-0.1)"]),
                   ("e14_bpc_uniform", bpc["uniform over the characters"]),
                   ("e14_d_best", d_best), ("e14_se_best", se_best), ("e14_d_uni", -d_uni),
                   ("e14_se_uni", se_uni), ("e14_d_wb", d_wb), ("e14_se_wb", se_wb),
                   ("e14_targets", len(val_ids) - 1), ("e14_pairs_m", V**2 / 1e6),
                   ("e14_new_tf", tf[new_char].mean()), ("e14_new_kn", kn[new_char].mean()),
                   ("e14_new_share", 100 * tf[new_char].sum() / tf.sum()),
                   ("e14_seen_tf", tf[~new_char].mean()), ("e14_seen_kn", kn[~new_char].mean()),
                   ("e14_d_seen", d_seen), ("e14_se_seen", se_seen)]:
    glue(key, float(value), display=False)
glue("e14_best", best, display=False)
n_check = 6000                                       # characters of the training text, for speed
train_bpc = text.char_bits(model, train_ids[:n_check]).mean().item()
assert train_bpc < bpc["Transformer"] - 1.0
glue("e14_train_bpc", train_bpc, display=False)
glue("e14_n_check", n_check, display=False)
glue("e14_full_steps", recipe.full.steps, display=False)
glue("e14_dropout", cfg.dropout, display=False)

# %% [markdown]
# The Transformer ({glue:text}`e14_source`) needs {glue:text}`e14_bpc_model:.2f` bits per character on
# poems it was never trained on. The best count model, the {glue:text}`e14_best`, needs
# {glue:text}`e14_bpc_best:.2f`: **the Transformer is worse by {glue:text}`e14_d_best:.2f` ±
# {glue:text}`e14_se_best:.2f` bits per character**, and even the Witten–Bell bigram beats it by
# {glue:text}`e14_d_wb:.2f` ± {glue:text}`e14_se_wb:.2f`. (The standard errors are over the
# {glue:text}`e14_n_val_poems` validation poems, since the characters of one poem are not independent;
# and the Transformer's numbers are, if anything, optimistic: its training steps and dropout were chosen on
# these same poems, which are too few for a third split.) It does beat character frequencies, by
# {glue:text}`e14_d_uni:.2f` ± {glue:text}`e14_se_uni:.2f` bits, so it has learnt something about context:
# roughly what a bigram knows. At this data size, a Transformer is no better than a well-smoothed count
# model.
#
# :::{dropdown} Why a weak baseline misleads
# The add-0.1 bigram ({glue:text}`e14_bpc_bigram:.2f`) is
# *worse* than the add-0.1 unigram ({glue:text}`e14_bpc_unigram:.2f`), as if pairs of characters carried no
# information. They do: the smoothed bigrams beat the unigram by half a bit or more. Add-$\alpha$ is the
# problem. With {glue:text}`e14_train_chars:,` training characters, a row of the table holds a handful of
# counts, and adding 0.1 to each of its {glue:text}`e14_table_size:,` entries hands most of the row's
# probability to pairs never seen. A model compared only with such a baseline looks better than it is.
# :::
#
# Part of the Transformer's deficit is the {glue:text}`e14_unseen_count` validation characters that never
# occur in training. Their embeddings were only ever pushed down (every training step lowers the
# probability of characters that do not come next), and they cost the Transformer
# {glue:text}`e14_new_tf:.1f` bits each, {glue:text}`e14_new_share:.0f`% of its total, against
# {glue:text}`e14_new_kn:.1f` for the Kneser–Ney bigram, whose smoothing keeps some probability for every
# character. On the characters seen in training the Transformer is still worse:
# {glue:text}`e14_seen_tf:.2f` against {glue:text}`e14_seen_kn:.2f` bits
# ({glue:text}`e14_d_seen:.2f` ± {glue:text}`e14_se_seen:.2f`).
#
# So little text also limits how long we may train. The full recipe stops after
# {glue:text}`e14_full_steps` steps, with **dropout** (暂退法: a random fraction
# {glue:text}`e14_dropout` of the activations set to zero in training), the values with the lowest
# validation bits per character when the recipe was tuned. Even so, the model already fits its own training
# text far better than new poems: {glue:text}`e14_train_bpc:.2f` bits per character on the first
# {glue:text}`e14_n_check:,` characters of the training text against {glue:text}`e14_bpc_model:.2f` on the
# validation poems. That gap is overfitting (过拟合): the model
# memorises its {glue:text}`e14_train_chars:,` characters rather than learning what generalises.


# %% [markdown]
# ## Sampling: temperature and top-$k$
#
# To generate, we feed a prompt, take the model's logits $\ell$ for the next character, and sample from
#
# $$
# p_\tau(c) = \frac{\exp(\ell_c / \tau)}{\sum_{c'} \exp(\ell_{c'} / \tau)} ,
# $$
#
# where the **temperature** (温度) $\tau$ *divides* the logits ($\tau$, since $T$ is already the window
# length). $\tau = 1$ samples the model as trained; $\tau < 1$ sharpens the distribution towards the most
# likely characters (as $\tau \to 0$, greedy decoding); $\tau > 1$ flattens it towards uniform. The
# **logits** (对数几率, here: the scores before the softmax) are the model's output for the last position.
# **Top-$k$ sampling** (top-$k$ 采样) {cite}`fan2018hierarchical` first keeps only the $k$ largest logits (the
# others get $-\infty$, hence probability 0) and renormalises, which cuts off the long tail of unlikely
# characters; **nucleus sampling** (核采样, top-$p$) {cite}`holtzman2020degeneration` keeps instead the
# smallest set of characters whose probabilities add up to $p$, so that the cut adapts to how confident
# the model is. Here is the
# sampling step on the page, checked against the package's `CharTransformer.generate`: with the same random
# generator both must produce the same characters.

# %%
def next_char_probs(logits, temperature=1.0, top_k=None):
    scaled = logits / temperature
    if top_k is not None:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]     # the k-th largest logit
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.softmax(scaled, dim=-1)


@torch.no_grad()
def generate(model, prompt, n_new, temperature=1.0, top_k=None, generator=None):
    ids = prompt.to(dev).view(1, -1)
    for _ in range(n_new):
        logits = model(ids[:, -model.cfg.block_size:])[0, -1].float()   # (V,): the last position
        probs = next_char_probs(logits, temperature, top_k).cpu()      # sample on the CPU
        nxt = torch.multinomial(probs, 1, generator=generator).to(dev)
        ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
    return ids[0].cpu()


prompt = vocab.encode("床前明月光，")
for temperature, top_k in [(1.0, None), (0.7, 10)]:
    ours = generate(model, prompt, 20, temperature, top_k, torch.Generator().manual_seed(3))
    package = model.generate(prompt, 20, temperature, top_k,
                             generator=torch.Generator().manual_seed(3))
    assert torch.equal(ours, package)
print("page sampler = package sampler, character for character")

with torch.no_grad():
    logits = model(prompt.to(dev).view(1, -1))[0, -1].float().cpu()      # next-character logits
temps = [0.3, 0.5, 0.7, 1.0, 1.3, 2.0]
entropies = [torch.distributions.Categorical(probs=next_char_probs(logits, t)).entropy().item()
             for t in temps]
print("entropy of the next-character distribution (nats): "
      + ", ".join(f"τ={t}: {h:.2f}" for t, h in zip(temps, entropies)))

# %% tags=["hide-input"]
assert np.all(np.diff(entropies) > 0)                                     # hotter = more random
top10 = next_char_probs(logits, 1.0, top_k=10)
assert (top10 > 0).sum() == 10 and abs(top10.sum().item() - 1) < 1e-6

fig, ax = plt.subplots(figsize=(7.5, 3.4))
order = torch.argsort(logits, descending=True)[:12]
width = 0.27
for i, t in enumerate([0.5, 1.0, 2.0]):
    ax.bar(np.arange(12) + (i - 1) * width, next_char_probs(logits, t)[order], width,
           label=f"τ = {t}")
labels = [repr(vocab.itos[int(c)])[1:-1] for c in order]  # "\\n" for the line break
cjk = [f.name for f in font_manager.fontManager.ttflist if "CJK SC" in f.name]  # fonts-noto-cjk
if cjk:
    ax.set_xticks(range(12), labels, fontfamily=[cjk[0], "sans-serif"])
else:  # no Chinese font: number the bars, and print the characters under the figure
    ax.set_xticks(range(12), [str(i + 1) for i in range(12)])
    ax.set_xlabel("rank (install fonts-noto-cjk to see the characters here)")
ax.set_ylabel("probability")
ax.set_title("The 12 most likely next characters after the prompt, at three temperatures")
ax.legend()
plt.show()
if not cjk:
    print("ranks 1-12:", "  ".join(f"{i + 1}={c}" for i, c in enumerate(labels)))

# %% [markdown]
# The entropy of the next-character distribution grows with the temperature, as it must: dividing the logits
# by a larger $\tau$ shrinks their differences. Now the samples themselves, each {glue:text}`e14_n_new` new
# characters after the
# first line of Li Bai's 《夜思》 (better known as 《静夜思》), from one fixed random seed per row
# (↵ marks a line break).

# %%
settings = [(0.5, None), (0.8, None), (1.0, None), (1.3, None), (1.0, 10)]
n_new = 48
distinct = {}
for temperature, top_k in settings:
    out = model.generate(prompt, n_new, temperature, top_k,
                         generator=torch.Generator().manual_seed(0))
    sample = vocab.decode(out).replace("\n", "↵")  # ↵ marks a line break
    distinct[temperature, top_k] = len(set(out[len(prompt):].tolist()))
    print(f"τ = {temperature}, top-k = {str(top_k):>4}:  {sample}\n")
    assert out[:len(prompt)].tolist() == prompt.tolist() and len(out) == len(prompt) + n_new
print(f"distinct characters among the {n_new} new ones:",
      ", ".join(f"τ={t}{'' if k is None else f' top-{k}'}: {n}"
                for (t, k), n in distinct.items()))
assert distinct[0.5, None] < distinct[1.3, None]

# %% tags=["hide-input"]
glue("e14_distinct_cold", distinct[0.5, None], display=False)
glue("e14_distinct_hot", distinct[1.3, None], display=False)
glue("e14_n_new", n_new, display=False)


# %% [markdown]
# At a glance the samples look like verse: common poetic characters, commas and line breaks. The next
# section measures whether they are. The effect of the temperature is plain in any case: at $\tau = 0.5$
# the {glue:text}`e14_n_new` new characters contain only {glue:text}`e14_distinct_cold` distinct ones (the
# most likely characters, repeated), at $\tau = 1.3$ {glue:text}`e14_distinct_hot`, many of them rare and in
# no sensible order. Top-$k$ cuts off that tail at $\tau = 1$. The same trade-off between reliability and
# diversity, set by the temperature, exists in every large language model.

# %% [markdown]
# ## What has the model learnt?
#
# Three measurements, each against the Kneser–Ney bigram, which sees one character of context:
#
# 1. **Punctuation and line breaks.** The poems have lines of five or seven characters, so a model that
#    counted characters would know where "，" and "。" go; a bigram cannot count.
# 2. **Use of context.** A position near the end of a window has up to 63 characters of context, one near
#    the start only a few. If the Transformer used the longer context, its deficit to the bigram would
#    shrink from the first positions to the last.
# 3. **The form of its samples.** We draw samples and measure the length of their phrases (the runs of
#    characters between punctuation marks or line breaks): in the real poems nearly all have five or seven
#    characters.

# %%
@torch.no_grad()
def sample_batch(model, prompt, n, n_new, temperature=1.0, generator=None):
    """n samples of n_new characters after prompt, drawn together (a batch of n)."""
    ids = prompt.view(1, -1).repeat(n, 1).to(dev)
    for _ in range(n_new):
        logits = model(ids[:, -model.cfg.block_size:])[:, -1].float().cpu()   # (n, V)
        nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator)
        ids = torch.cat([ids, nxt.to(dev)], dim=1)
    return ids[:, len(prompt):].cpu()


BREAKS = "，。？！；：、\n"


def phrase_lengths(strings):
    """Lengths of the runs between punctuation marks and line breaks (unfinished runs left out)."""
    pattern = "[" + re.escape(BREAKS) + "]"
    return [len(run) for s in strings for run in re.split(pattern, s)[:-1] if run]


tf, kn = bits["Transformer"], bits["bigram (Kneser-Ney)"]
punct = torch.tensor([vocab.itos[int(c)] in BREAKS for c in val_ids[1:]])
position = torch.arange(len(val_ids) - 1) % T   # position in the window = context length - 1
bins = [(0, 4), (4, 16), (16, 32), (32, 48), (48, T)]
by_context = []
for lo, hi in bins:
    where = (position >= lo) & (position < hi)
    by_context.append(text.paired_difference(tf[where], kn[where], poem_of[where]))
    d, se = by_context[-1]
    print(f"context {lo + 1:>2}-{hi:<2} characters: Transformer - bigram = {d:+.3f} ± {se:.3f}")

n_samples = 32
kn_model = text.NGram(train_ids, 2, V, "kneser-ney")
gen = torch.Generator().manual_seed(0)
samples = {
    "Transformer": [vocab.decode(s) for s in sample_batch(model, prompt, n_samples, n_new,
                                                          generator=gen)],
    "Kneser-Ney bigram": [vocab.decode(kn_model.generate(prompt, n_new, gen)[len(prompt):])
                          for _ in range(n_samples)],
}
lengths_of = {"validation poems": phrase_lengths([val_text]),
              **{name: phrase_lengths(s) for name, s in samples.items()}}
share_5_7 = {name: np.isin(x, [5, 7]).mean() for name, x in lengths_of.items()}
print({name: f"{100 * v:.0f}% of phrases of 5 or 7 characters" for name, v in share_5_7.items()})

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
centres = [(lo + hi + 1) / 2 for lo, hi in bins]
axes[0].errorbar(centres, [d for d, _ in by_context], yerr=[2 * se for _, se in by_context],
                 fmt="o-", capsize=3)
axes[0].axhline(0, color="0.4", lw=0.8)
axes[0].set_xlabel("characters of context (position in the window + 1)")
axes[0].set_ylabel("Transformer − bigram (bits/char)")
axes[0].set_title("The deficit does not shrink with more context\n(± 2 standard errors)")
edges = np.arange(0.5, 13.5)
for name, x in lengths_of.items():
    axes[1].hist(np.minimum(x, 12), bins=edges, density=True, histtype="step", lw=2, label=name)
axes[1].set_xlabel("phrase length (characters between punctuation marks; 12 = 12 or more)")
axes[1].set_ylabel("share of phrases")
axes[1].set_title(f"Phrases of {n_samples} samples of {n_new} characters, τ = 1")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% tags=["hide-input"]
punct_bits = {name: bits[name][punct].mean().item()
              for name in ("Transformer", "bigram (Kneser-Ney)", "unigram (add-0.1)")}
(d_first, se_first), (d_last, se_last) = by_context[0], by_context[-1]
assert abs(punct_bits["Transformer"] - punct_bits["bigram (Kneser-Ney)"]) < 0.5   # bigram level
assert punct_bits["unigram (add-0.1)"] > punct_bits["Transformer"] + 1.0
assert d_last > d_first - 2 * math.hypot(se_first, se_last)   # no gain from longer context
assert share_5_7["validation poems"] > 0.8 and share_5_7["Transformer"] < 0.4
for key, value in [("e14_punct_tf", punct_bits["Transformer"]),
                   ("e14_punct_kn", punct_bits["bigram (Kneser-Ney)"]),
                   ("e14_punct_uni", punct_bits["unigram (add-0.1)"]),
                   ("e14_ctx_first", d_first), ("e14_ctx_first_se", se_first),
                   ("e14_ctx_last", d_last), ("e14_ctx_last_se", se_last),
                   ("e14_share_real", 100 * share_5_7["validation poems"]),
                   ("e14_share_tf", 100 * share_5_7["Transformer"]),
                   ("e14_share_kn", 100 * share_5_7["Kneser-Ney bigram"])]:
    glue(key, float(value), display=False)
glue("e14_n_samples", n_samples, display=False)
glue("e14_punct_n", int(punct.sum()), display=False)

# %% [markdown]
# 1. On the {glue:text}`e14_punct_n` punctuation marks and line breaks of the validation poems the
#    Transformer needs {glue:text}`e14_punct_tf:.2f` bits each, the bigram {glue:text}`e14_punct_kn:.2f`
#    and character frequencies {glue:text}`e14_punct_uni:.2f`. The Transformer knows that a mark is likely
#    after most characters, as the bigram does; it has not learnt to count to five or seven.
# 2. Its deficit to the bigram is {glue:text}`e14_ctx_first:.2f` ± {glue:text}`e14_ctx_first_se:.2f` bits
#    with 1-4 characters of context and {glue:text}`e14_ctx_last:.2f` ± {glue:text}`e14_ctx_last_se:.2f`
#    with 49-64: the longer context does not help it (left panel).
# 3. Its samples put marks at about the right rate but not in the right places:
#    {glue:text}`e14_share_tf:.0f`% of their phrases have five or seven characters, against
#    {glue:text}`e14_share_kn:.0f`% for the bigram's samples and {glue:text}`e14_share_real:.0f`% in the
#    real poems (right panel; {glue:text}`e14_n_samples` samples of each model, one seed).
#
# At this data size, the Transformer has learnt frequent characters and frequent pairs, not the form of the
# poems. That is not a flaw of attention: with {glue:text}`e14_train_chars:,` characters, a model with
# {glue:text}`e14_params:,` parameters can memorise its training text (the training/validation gap above)
# long before it can find regularities as abstract as line length.
#
# ## More text
#
# Give both kinds of model more text and the picture changes. `tools/charlm_more_text.py` trains the same
# Transformer on the training poems plus the rest of Chinese in the `fortunes-zh` package (quotations,
# proverbs, classical prose and verse: {glue:text}`e14_more_chars:,` more characters, after removing every
# record that contains a line of a validation poem), then fine-tunes it on the poems; it trains the count
# models on the same text, and scores them all on the same validation characters as above. The run takes
# {glue:text}`e14_more_minutes:.0f` minutes on one CPU thread, so the page reads its results file.

# %% tags=["hide-input"]
more = json.loads((RESULTS / "charlm-more-text-cpu.json").read_text(encoding="utf-8"))
more_rows = more["models"]
show = ["kneser-ney 2-gram | poems", "kneser-ney 3-gram | poems",
        "witten-bell 2-gram | poems+extra", "kneser-ney 2-gram | poems+extra",
        "kneser-ney 3-gram | poems+extra", "Transformer | poems+extra",
        "Transformer | poems+extra, fine-tuned on poems"]
print(f"same {more['val_targets']:,} validation characters; differences to "
      f"{more['best_count_model']} (standard errors over the {more['val_poems']} poems)")
for name in show:
    row = more_rows[name]
    print(f"{name:>48}: {row['bpc']:.3f} bits/char ({row['minus_best_count']:+.3f} ± "
          f"{row['se_by_poem']:.3f})")
glue("e14_more_chars", more["extra_chars"], display=False)
glue("e14_more_minutes", more["seconds"] / 60, display=False)

# %% [markdown]
# ## Exercises
#
# The warm-ups (1.4a–c) practise the formulas of this page; 1.4d and 1.4e ask what it does not show. Each
# checker names the common mistake your answer matches; `ch1.q14a.hint()` gives a hint.
#
# ### 1.4a Warm-up: attention
#
# Write `my_attention(q, k, v, causal=False)`: scaled dot-product attention
# for tensors of shape $(\dots, T, d)$, returning only the output. With `causal=True`, position $i$ may
# attend only to positions $j \le i$.

# %%
def my_attention(q, k, v, causal=False):
    ...  # your code


ch1.q14a.check(my_attention);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_attention(q, k, v, causal=False):
#     scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5        # (..., T, T)
#     if causal:
#         t = q.shape[-2]
#         future = torch.ones(t, t, dtype=torch.bool).triu(1)       # j > i
#         scores = scores.masked_fill(future, float("-inf"))
#     return torch.softmax(scores, dim=-1) @ v
# ```
# Mask *before* the softmax: zeroing weights afterwards leaves rows that no longer sum to 1. The softmax runs
# over the last axis, the keys.
# :::

# %% tags=["hide-cell"]
def reference_attention(q, k, v, causal=False):
    return attention(q, k, v, causal)[0]


assert ch1.q14a.check(reference_attention, quiet=True)

# %% [markdown]
# ### 1.4b Warm-up: temperature and top-$k$
#
# Write `my_next_char_probs(logits, temperature=1.0,
# top_k=None)`: the sampling distribution over the last axis of `logits` (shape $(\dots, V)$), as defined
# above.

# %%
def my_next_char_probs(logits, temperature=1.0, top_k=None):
    ...  # your code


ch1.q14b.check(my_next_char_probs);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_next_char_probs(logits, temperature=1.0, top_k=None):
#     scaled = logits / temperature
#     if top_k is not None:
#         kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]
#         scaled = scaled.masked_fill(scaled < kth, float("-inf"))
#     return torch.softmax(scaled, dim=-1)
# ```
# Multiplying by the temperature would do the opposite of what $\tau$ promises: $\tau = 2$ would sharpen.
# `[..., -1:]` keeps the last axis, so the threshold broadcasts against each row.
# :::

# %% tags=["hide-cell"]
assert ch1.q14b.check(next_char_probs, quiet=True)

# %% [markdown]
# ### 1.4c Warm-up: the causal mask
#
# Write `my_causal_mask(T)`: the $(T, T)$ boolean mask that is True
# where query $i$ may attend to key $j$, as `F.scaled_dot_product_attention(..., attn_mask=...)` expects.

# %%
def my_causal_mask(T):
    ...  # your code


ch1.q14c.check(my_causal_mask);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def my_causal_mask(T):
#     return torch.ones(T, T, dtype=torch.bool).tril()
# ```
# Row $i$ (query $i$) allows columns $0, \dots, i$: the lower triangle, diagonal included. Note the two
# conventions: `attn_mask` marks what is *allowed*, while `masked_fill` above takes what is *blocked*.
# :::

# %% tags=["hide-cell"]
def reference_causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


assert ch1.q14c.check(reference_causal_mask, quiet=True)

# %% [markdown]
# ### 1.4d Predict: attention when the queries are the keys
#
# Why does attention need *separate* learned maps $W^Q$ and $W^K$? Take the simplest self-attention without
# them: $Q = K = X$, where $X$ holds $T = 32$ random vectors with independent $\mathcal N(0, 1)$ entries
# in $d = 64$ dimensions, scores $QK^\top/\sqrt d$, no mask. On average, what weight does a token give
# **itself**? Write down a number before computing anything; the checker measures it.

# %%
answer = ...  # your prediction: a weight between 0 and 1

ch1.q14d.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# A token's score with itself is $|x|^2/\sqrt d \approx d/\sqrt d = \sqrt d = 8$; its score with another
# random vector has mean 0 and variance 1 (the page's $\sqrt d$ argument). After the softmax:
# ```python
# answer = math.exp(8) / (math.exp(8) + 31 * math.exp(0.5))   # about 0.98 (E[e^N(0,1)] = e^0.5)
# ```
# Almost all the weight stays on the token itself, so such a layer passes on almost nothing from the other
# positions. With learned $W^Q \neq W^K$, $q_i \cdot k_i$ need not be the largest score, and a position
# can look elsewhere: at the previous character, the start of the line, a rhyme.
# :::

# %% tags=["hide-cell"]
assert ch1.q14d.check(math.exp(8) / (math.exp(8) + 31 * math.exp(0.5)), quiet=True)

# %% [markdown]
# ### 1.4e Debug: heads that mix positions
#
# The function below should split `q`, `k` and `v` of shape $(B, T, D)$ (already projected) into `n_head`
# heads of $D/H$ features, run causal attention in each head, and put the heads back side by side as
# $(B, T, D)$: the multi-head formula of the page (see errata E86 for the per-head notation). It runs
# without an error and returns the right shape, but it is wrong in two places. Find and repair them.

# %%
def multi_head(q, k, v, n_head):
    b, t, d = q.shape
    q, k, v = (m.view(b, n_head, t, d // n_head) for m in (q, k, v))   # (B, H, T, D/H)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)        # (B, H, T, D/H)
    return y.reshape(b, t, d)                                          # (B, T, D)


ch1.q14e.check(multi_head);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def multi_head(q, k, v, n_head):
#     b, t, d = q.shape
#     q, k, v = (m.view(b, t, n_head, d // n_head).transpose(1, 2) for m in (q, k, v))  # (B, H, T, D/H)
#     y = F.scaled_dot_product_attention(q, k, v, is_causal=True)                     # (B, H, T, D/H)
#     return y.transpose(1, 2).reshape(b, t, d)                                       # (B, T, D)
# ```
# `view` never moves data: it reads the same memory with a new shape. A $(B, T, D)$ tensor is stored
# position after position, so `view(b, n_head, t, d // n_head)` fills "head 0" with the first few
# *positions*, not with the first $D/H$ features of every position, and the causal mask then runs over the
# wrong axis. Split the last axis, $(B, T, H, D/H)$, and move the head axis forward with `transpose`; at the
# end, move it back before `reshape`. Shapes cannot catch this bug: only a comparison with a per-head loop
# (what the checker does) or with a reference implementation can.
# :::

# %% tags=["hide-cell"]
def multi_head_solution(q, k, v, n_head):
    h = q.shape[-1] // n_head                            # one slice of features per head
    heads = [F.scaled_dot_product_attention(*(m[..., i * h:(i + 1) * h] for m in (q, k, v)),
                                            is_causal=True) for i in range(n_head)]
    return torch.cat(heads, dim=-1)


assert ch1.q14e.check(multi_head_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * $\mathrm{Attention}(Q, K, V) = \mathrm{softmax}(QK^\top/\sqrt d)\,V$, softmax over the keys; the causal
#   mask sets future scores to $-\infty$ before the softmax.
# * $\mathrm{Var}(q \cdot k) = d$ for unit-variance entries; dividing by $\sqrt d$ keeps the softmax from
#   collapsing onto one key as models get wider.
# * A character-level Transformer is token and position embeddings, then blocks that each add causal
#   multi-head attention and an MLP to a residual stream (pre-norm), trained by next-character
#   cross-entropy and scored in bits per character.
# * Score every model on the same characters, with a paired standard error, against the standard simple
#   baseline: a smoothed n-gram (Kneser–Ney), not an add-$\alpha$ one. On the 300 Tang poems alone the
#   Transformer loses to a Kneser–Ney bigram: it has learnt frequent characters and pairs, not the form of
#   the poems. More text is what a Transformer needs (see "More text").
# * Sampling divides the logits by the temperature; top-$k$ keeps the $k$ most likely tokens.
