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
#
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
# 4. a tiny character-level Transformer trained on the 300 Tang poems, sampled with different temperatures
#    and top-$k$, and scored in bits per character against simple baselines.

# %%
import math

import matplotlib.pyplot as plt
from matplotlib import font_manager
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
    assert gap < 1e-6
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 10, dtype=torch.float64))
masked = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask)  # an explicit mask
assert (masked - attention(q, k, v, True)[0]).abs().max() < 1e-6
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
# $\sqrt d$, or normalising over the wrong axis, does not. (One of the source articles prints the attention
# formula as $QK^\top/\sqrt{d_k}$ alone, without the softmax and without $V$: entry E85 of the
# [errata](../appendix/errata.ipynb), which records the mistakes of the five blog articles this course was
# commissioned from.)
#
# ## Why divide by $\sqrt d$?
#
# If the entries of $q$ and $k$ are independent with mean 0 and variance 1, then
# $q \cdot k = \sum_{m=1}^d q_m k_m$ is a sum of $d$ independent terms of mean 0 and variance
# $\mathbb E[q_m^2]\,\mathbb E[k_m^2] = 1$, so $\mathrm{Var}(q \cdot k) = d$. Without scaling, the scores of
# a wide model are large, the softmax puts almost all weight on one key, and its gradient (which contains
# $a_{ij}(1 - a_{ij})$) nearly vanishes. Dividing by $\sqrt d$ brings the variance back to 1 for every $d$
# {cite}`vaswani2017attention`. We measure both facts: the variance of $q \cdot k$, and the **entropy** of the
# attention weights over $T = 32$ keys (at most $\log 32$ for uniform weights; 0 for all weight on one key).

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
assert np.all(np.abs(ratios - 1) < 0.05)                   # Var(q.k) = d, to 5% (SE about 1.5%)
assert scaled_ent.max() - scaled_ent.min() < 0.05          # scaled: the same softmax for every d
assert raw_ent[-1] < 0.25 * math.log(n_keys) and np.all(np.diff(raw_ent) < 0)
glue("e14_raw_ent", float(raw_ent[-1]), display=False)
glue("e14_scaled_ent", float(scaled_ent[-1]), display=False)
glue("e14_log_t", math.log(n_keys), display=False)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.semilogx(dims, raw_ent, "o-", label=r"softmax$(q \cdot k)$")
ax.semilogx(dims, scaled_ent, "s-", label=r"softmax$(q \cdot k / \sqrt{d})$")
ax.axhline(math.log(n_keys), ls=":", color="0.4", label=r"uniform weights, $\log 32$")
ax.set_xlabel("dimension $d$ of queries and keys")
ax.set_ylabel("entropy of the attention weights (nats)")
ax.set_title(r"Without $1/\sqrt{d}$ the attention collapses onto one key as $d$ grows")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With $d = 1024$ the unscaled weights have an entropy of only {glue:text}`e14_raw_ent:.2f` nats: nearly
# one-hot. The scaled weights keep {glue:text}`e14_scaled_ent:.2f` nats at every width, out of at most
# {glue:text}`e14_log_t:.2f`. (Dividing by $d$ instead would shrink the variance to $1/d$ and make the
# weights nearly uniform for wide models: attention that cannot choose.)
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
print(f"page version vs package: equal to 1e-12; parameters {count_parameters(layer)} "
      f"= 4 (D^2 + D) = {4 * (32 * 32 + 32)}")
print(f"after changing positions 6-11: outputs 0-5 move by {past_change:.1e} with the causal "
      "mask, "
      f"{unmasked_change:.2f} without it; outputs 6-11 move by {future_change:.2f}")
assert count_parameters(layer) == 4 * (32 * 32 + 32)
assert past_change < 1e-12 and unmasked_change > 0.01 and future_change > 0.01

# %% [markdown]
# ## The data: the 300 Tang poems
#
# Our language model learns from the *Three Hundred Tang Poems* (唐诗三百首), an 18th-century anthology of
# poems written in the 7th to 10th centuries. The poems are in the public domain. The course reads them from
# Debian's `fortunes-zh` package (`/usr/share/games/fortunes/tang300.u8`), whose compilation is licensed
# GPL-3.0+, so the course does not redistribute the file: install the package (`apt-get install fortunes-zh`)
# or point `AIGC_DATA` to a folder that holds a copy. `recipes.text_split()` holds out 10% of the poems
# (whole poems, chosen with a fixed seed) for validation and builds the **vocabulary** (词表) of every
# character in the file.

# %%
poems = text.tang_poems()
train_text, val_text, vocab = recipes.text_split()
train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
example = next(p for p in poems if p.body.startswith("床前明月光"))
print(f"{len(poems)} poems; training text {len(train_text):,} characters, validation "
      f"{len(val_text):,}; vocabulary of {len(vocab):,} characters (id 0 = unknown)")
print(f"\n《{example.title}》 {example.author}\n{example.body}\n")
print("ids of its first line:", vocab.encode(example.body.split("\n")[0]).tolist())
assert vocab.decode(vocab.encode(example.body)) == example.body            # a round trip
assert (val_ids == 0).sum() == 0                                            # no unknown characters
glue("e14_n_poems", len(poems), display=False)
glue("e14_train_chars", len(train_text), display=False)
glue("e14_val_chars", len(val_text), display=False)
glue("e14_vocab", len(vocab), display=False)

# %% [markdown]
# The training text has {glue:text}`e14_train_chars:,` characters from the {glue:text}`e14_n_poems`
# poems (bodies only, separated by blank lines; the validation text has {glue:text}`e14_val_chars:,`), with a
# vocabulary of {glue:text}`e14_vocab:,` distinct
# characters: a tiny corpus by the standards of real language models, but enough to see what a Transformer
# learns. Working with characters avoids a tokenizer; classical Chinese has roughly one word per character.
#
# **Embeddings.** A model cannot multiply ids. A **token embedding** (词嵌入) table $E \in \mathbb R^{V
# \times D}$ gives each character a learned vector: looking up row $i$ is the same as multiplying the one-hot
# vector of $i$ by $E$. Here $V$ is the model's table size, `cfg.vocab_size` = {glue:text}`e14_table_size:,`:
# the {glue:text}`e14_vocab:,` characters of the poems and some unused ids to spare. Attention without a mask
# ignores the order of its inputs (permute the rows of $X$ and the output rows are permuted the same way);
# the causal mask tells a position which tokens came before it, but not how far back. So a second table of
# **position embeddings** (位置嵌入) is added.
# The course's model also uses the token table, transposed, as its output layer (weight tying
# {cite}`press2017tying`). We build it with the recipe's configuration and check these facts, together with
# its parameter count: $VD + TD$ for the embeddings, $12D^2 + 13D$ per block (attention $4D^2 + 4D$, MLP
# $8D^2 + 5D$, two layer norms $4D$) and $2D$ for the final layer norm.

# %%
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
glue("e14_params", count_parameters(fresh), display=False)
glue("e14_table_size", V, display=False)

# %% [markdown]
# ## Training, live
#
# The model has {glue:text}`e14_params:,` parameters. Like every language model it is trained by maximum
# likelihood (1.2): on windows of $T + 1$ characters it predicts
# each next character from the ones before it, and minimises the average **cross-entropy** (交叉熵)
# $-\frac1T \sum_t \log p_\theta(c_{t+1} \mid c_{\le t})$. The causal mask lets one forward pass train all
# $T$ predictions of a window at once. An untrained model with small random weights predicts a nearly uniform
# distribution, so its loss should start near $\log V$ nats. The loop below is the whole training algorithm;
# the course's trainer (`recipes.train_recipe("charlm-tang")`) runs the same steps with logging and
# checkpoints. In the quick profile it is a short demonstration.

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

# %% [markdown]
# The loss starts at $\log V$ and falls quickly at first: the model learns which characters are frequent
# (punctuation, line breaks, common characters) before it learns anything about context.
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
glue("e14_source", source, display=False)

# %% [markdown]
# **Bits per character.** We score models by their average cross-entropy on the held-out poems, in
# **bits per character** (每字符比特数): nats divided by $\ln 2$. It is the number of bits an ideal compressor
# driven by the model would need per character of new text, so lower is better. Three baselines make the
# number meaningful: the uniform distribution over the {glue:text}`e14_vocab:,` characters that occur
# ($\log_2$ of that number, in bits); the **unigram** model (character frequencies of the training text, with
# add-0.1 smoothing); and the **bigram** model $p(c_{t+1} \mid c_t)$, counted on
# the training text with add-0.1 smoothing (`text.bigram_bits_per_char`).

# %%
def unigram_bits_per_char(train_ids, val_ids, vocab_size, alpha=0.1):
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + alpha
    return -(counts / counts.sum()).log2()[val_ids].mean().item()


bpc = {
    "uniform over the vocabulary": math.log2(len(vocab)),
    "untrained model": text.bits_per_char(fresh, val_windows),
    "unigram (frequencies)": unigram_bits_per_char(train_ids, val_ids, V),
    "bigram (add-0.1)": text.bigram_bits_per_char(train_ids, val_ids, V),
    "Transformer": text.bits_per_char(model, val_windows),
}
for name, value in bpc.items():
    print(f"{name:>28}: {value:6.3f} bits per character")
assert bpc["Transformer"] < min(bpc["bigram (add-0.1)"], bpc["unigram (frequencies)"])
assert bpc["bigram (add-0.1)"] > bpc["unigram (frequencies)"]  # too little text for 2501^2 pairs
for key, name in [("e14_bpc_model", "Transformer"), ("e14_bpc_bigram", "bigram (add-0.1)"),
                  ("e14_bpc_unigram", "unigram (frequencies)"),
                  ("e14_bpc_uniform", "uniform over the vocabulary")]:
    glue(key, bpc[name], display=False)
glue("e14_full_steps", recipe.full.steps, display=False)
glue("e14_dropout", cfg.dropout, display=False)

# %% [markdown]
# The model ({glue:text}`e14_source`) needs {glue:text}`e14_bpc_model:.2f` bits per character on poems it
# was never trained on (slightly optimistic: the full recipe's steps and dropout were chosen on these same
# poems, see below; {glue:text}`e14_n_poems` poems leave too little for a third split), against
# {glue:text}`e14_bpc_bigram:.2f` for the bigram baseline,
# {glue:text}`e14_bpc_unigram:.2f` for character frequencies alone and {glue:text}`e14_bpc_uniform:.2f` for
# a uniform guess. Notice that the bigram model is *worse* than the unigram one here: with
# {glue:text}`e14_train_chars:,` training characters, most of the millions of possible character pairs are
# never seen, and smoothing spreads too much probability over them. A neural model shares what it learns
# across characters through its embeddings, which is why it can beat both from so little text.
#
# So little text also limits how long we may train. The full recipe stops after
# {glue:text}`e14_full_steps` steps, with dropout {glue:text}`e14_dropout` (a random fraction of activations
# set to zero in training): values chosen by scoring the validation poems every 25 steps. Trained longer,
# the model memorises its {glue:text}`e14_train_chars:,` characters: the training loss keeps falling while
# the validation bits per character rise again: overfitting (过拟合) in its plainest form.
#
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
# likely characters (as $\tau \to 0$, greedy decoding); $\tau > 1$ flattens it towards uniform. **Top-$k$ sampling** {cite}`fan2018hierarchical` first keeps only the $k$
# largest logits (the others get $-\infty$, hence probability 0) and renormalises, which cuts off the long
# tail of unlikely characters; nucleus sampling {cite}`holtzman2020degeneration` is a refinement. Here is the
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
      + ", ".join(f"T={t}: {h:.2f}" for t, h in zip(temps, entropies)))
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
ax.set_xticks(range(12), labels, fontfamily=cjk[:1] + ["sans-serif"])
ax.set_ylabel("probability")
ax.set_title("The 12 most likely next characters after the prompt, at three temperatures")
ax.legend()
plt.show()

# %% [markdown]
# The entropy of the next-character distribution grows with the temperature, as it must: dividing the logits
# by a larger $\tau$ shrinks their differences. Now the samples themselves, each 48 new characters after the
# first line of Li Bai's 《夜思》 (better known as 《静夜思》), from one fixed random seed per row
# (↵ marks a line break).

# %%
settings = [(0.5, None), (0.8, None), (1.0, None), (1.3, None), (1.0, 10)]
distinct = {}
for temperature, top_k in settings:
    out = model.generate(prompt, 48, temperature, top_k,
                         generator=torch.Generator().manual_seed(0))
    sample = vocab.decode(out).replace("\n", "↵")  # ↵ marks a line break
    distinct[temperature, top_k] = len(set(out[len(prompt):].tolist()))
    print(f"τ = {temperature}, top-k = {str(top_k):>4}:  {sample}\n")
    assert out[:len(prompt)].tolist() == prompt.tolist() and len(out) == len(prompt) + 48
print("distinct characters among the 48 new ones:",
      ", ".join(f"T={t}{'' if k is None else f' top-{k}'}: {n}"
                for (t, k), n in distinct.items()))
assert distinct[0.5, None] < distinct[1.3, None]
glue("e14_distinct_cold", distinct[0.5, None], display=False)
glue("e14_distinct_hot", distinct[1.3, None], display=False)

# %% [markdown]
# How good the samples look depends on the model that was loaded ({glue:text}`e14_source`): a briefly
# trained model has mostly learnt which characters are frequent, and more training adds the structure of
# the poems (line lengths, punctuation, common word pairs). The effect of the temperature shows in any
# case: at $\tau = 0.5$ the 48 new characters contain only {glue:text}`e14_distinct_cold` distinct ones (the
# most likely characters, repeated), at $\tau = 1.3$ {glue:text}`e14_distinct_hot`, many of them rare and in
# no sensible order. Top-$k$ cuts off that tail at $\tau = 1$. The same trade-off between reliability and
# diversity, set by the temperature, exists in every large language model.
#
# ## Exercises
#
# **Exercise 1.4a: attention.** Write `my_attention(q, k, v, causal=False)`: scaled dot-product attention
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
# **Exercise 1.4b: temperature and top-$k$.** Write `my_next_char_probs(logits, temperature=1.0,
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
# **Exercise 1.4c: the causal mask.** Write `my_causal_mask(T)`: the $(T, T)$ boolean mask that is True
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
# ## Summary
#
# * $\mathrm{Attention}(Q, K, V) = \mathrm{softmax}(QK^\top/\sqrt d)\,V$, softmax over the keys; the causal
#   mask sets future scores to $-\infty$ before the softmax.
# * $\mathrm{Var}(q \cdot k) = d$ for unit-variance entries; dividing by $\sqrt d$ keeps the softmax from
#   collapsing onto one key as models get wider.
# * A character-level Transformer is embeddings, causal multi-head attention and MLP blocks, trained by
#   next-character cross-entropy and scored in bits per character against unigram and bigram baselines.
# * Sampling divides the logits by the temperature; top-$k$ keeps the $k$ most likely tokens.
