"""Text generation: a character-level Transformer on classical Chinese poems, and its baselines.

* Data: the 300 Tang poems (唐诗三百首) of Debian's ``fortunes-zh`` package
  (``/usr/share/games/fortunes/tang300.u8``; ``apt-get install fortunes-zh``, or set ``AIGC_DATA`` to a folder
  holding ``tang300.u8``). The poems (7th to 10th centuries) are in the public domain; the package's
  compilation is GPL-3.0+, so the course reads it from the system and does not redistribute it.
  :func:`tang_poems` parses it; :func:`split_poems` keeps whole poems apart for validation.
* :class:`CharVocab` maps characters to ids; :class:`CharTransformer` is a decoder-only Transformer
  (Vaswani et al. 2017; GPT-style pre-norm blocks) with causal scaled dot-product attention;
  :meth:`CharTransformer.generate` samples with a temperature and top-k.
* :func:`char_bits` scores a model on every character of held-out text; :class:`NGram` gives the count
  baselines (interpolated Witten-Bell and Kneser-Ney n-grams) on the same characters, and
  :func:`paired_difference` compares two models with a (per-poem) standard error.

Registered as the model kind ``"charlm"`` (trained by ``train.LMTrainer``). Introduced in 1.4.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import kinds
from .config import LMConfig
from .errors import DataNotFoundError

TANG_FILE = "tang300.u8"
_SYSTEM = Path("/usr/share/games/fortunes")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Poem:
    title: str
    author: str
    body: str   # the lines of the poem, joined by "\n"


def tang_file() -> Path:
    """Where the Tang poems are: ``$AIGC_DATA/tang300.u8`` or Debian's fortunes-zh copy."""
    places = ([Path(os.environ["AIGC_DATA"]).expanduser() / TANG_FILE] if os.environ.get("AIGC_DATA") else [])
    places.append(_SYSTEM / TANG_FILE)
    for path in places:
        if path.is_file():
            return path
    raise DataNotFoundError(
        "the Tang poems were not found (looked in: " + ", ".join(map(str, places)) + "). Install them with "
        "`apt-get install fortunes-zh` (Debian/Ubuntu), or copy tang300.u8 from that package into a folder and "
        "set AIGC_DATA to it.")


def tang_poems(path: str | Path | None = None) -> list[Poem]:
    """The poems of ``tang300.u8``: fortune-format records separated by ``%`` lines, each a coloured title
    line 《...》, an author line 作者：..., then the poem."""
    text = _ANSI.sub("", Path(path or tang_file()).read_text(encoding="utf-8"))
    poems = []
    for record in text.split("\n%\n"):
        lines = [line.strip() for line in record.strip().splitlines() if line.strip()]
        if len(lines) < 3 or not lines[0].startswith("《"):
            continue
        author = lines[1].removeprefix("作者：").strip()
        poems.append(Poem(lines[0].strip("《》"), author, "\n".join(lines[2:])))
    if len(poems) < 100:
        raise DataNotFoundError(f"{path or tang_file()} holds only {len(poems)} poems; it looks damaged: reinstall "
                                "fortunes-zh")
    return poems


def split_poems(poems: list[Poem], val_fraction: float = 0.1, seed: int = 0) -> tuple[list[Poem], list[Poem]]:
    """(train, validation): whole poems, chosen by a seeded permutation."""
    order = torch.randperm(len(poems), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = max(1, round(val_fraction * len(poems)))
    return [poems[i] for i in order[n_val:]], [poems[i] for i in order[:n_val]]


def corpus(poems: list[Poem]) -> str:
    """One training text: poem bodies separated by a blank line (titles and authors left out)."""
    return "\n\n".join(p.body for p in poems) + "\n\n"


class CharVocab:
    """Characters <-> ids; id 0 is the unknown character (for validation text with unseen characters)."""

    UNK = "\ufffd"

    def __init__(self, text: str):
        self.itos = [self.UNK] + sorted(set(text) - {self.UNK})
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor([self.stoi.get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """The characters of ``ids``; ids beyond the vocabulary (a model's spare table rows) decode as UNK."""
        return "".join(self.itos[int(i)] if 0 <= int(i) < len(self.itos) else self.UNK for i in ids)


def windows(ids: torch.Tensor, block_size: int, stride: int | None = None) -> torch.Tensor:
    """Windows of ``block_size + 1`` ids (inputs and next-character targets), (N, block_size + 1), starting
    every ``stride`` ids (default ``block_size // 2``: overlapping, for training). For scoring, pass
    ``stride=block_size``: consecutive windows then share one id, so every character is predicted once."""
    stride = stride or block_size // 2
    if len(ids) <= block_size:
        raise ValueError(f"the text has {len(ids)} characters, fewer than block_size + 1 = {block_size + 1}")
    starts = torch.arange(0, len(ids) - block_size, stride)
    return torch.stack([ids[s:s + block_size + 1] for s in starts.tolist()])


# --- the model ----------------------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees only positions <= t:
    softmax(Q K^T / sqrt(d_head) + causal mask) V, per head (``F.scaled_dot_product_attention``)."""

    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.n_head, self.dropout = cfg.n_head, cfg.dropout
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)                                  # (B, T, D) each
        q, k, v = (m.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for m in (q, k, v))  # (B, H, T, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))                   # (B, T, D)


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, 4 * cfg.d_model), nn.GELU(),
                                 nn.Linear(4 * cfg.d_model, cfg.d_model), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    """Token + learned position embeddings -> ``n_layer`` blocks -> LayerNorm -> logits over the vocabulary
    (the output layer shares the token embedding's weights). Input (B, T) ids, output (B, T, V) logits."""

    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.block_size, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.tok.weight  # weight tying
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        b, t = ids.shape
        if t > self.cfg.block_size:
            raise ValueError(f"CharTransformer: {t} tokens exceed block_size={self.cfg.block_size}")
        x = self.drop(self.tok(ids) + self.pos(torch.arange(t, device=ids.device)))  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))                                                # (B, T, V)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per character) of next-character prediction on windows (B, T + 1)."""
        logits = self(batch[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), batch[:, 1:].reshape(-1))

    @torch.no_grad()
    def generate(self, prompt: torch.Tensor, n_new: int, temperature: float = 1.0, top_k: int | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Continue ``prompt`` (1-D ids) by ``n_new`` characters sampled from softmax(logits / temperature),
        restricted to the ``top_k`` most likely characters if given; returns prompt + new ids (1-D, CPU)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        dev = self.tok.weight.device
        ids = prompt.to(dev).view(1, -1)
        for _ in range(n_new):
            logits = self(ids[:, -self.cfg.block_size:])[0, -1].float() / temperature   # (V,)
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = torch.softmax(logits, dim=-1).cpu()
            nxt = torch.multinomial(probs, 1, generator=generator).to(dev)
            ids = torch.cat([ids, nxt.view(1, 1)], dim=1)
        return ids[0].cpu()


@torch.no_grad()
def char_bits(model: CharTransformer, ids: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Bits of every target ``ids[1:]`` under the model (eval mode), float64, shape (len(ids) - 1,).

    The text is cut into windows of ``block_size + 1`` ids that share one id (``windows(..., stride=block_size)``),
    plus one last window ending at the last id for the tail that those leave out, whose targets already scored
    are dropped; so every target is scored exactly once, with the context of its window (0 to
    ``block_size - 1`` earlier characters). :class:`NGram` scores the same targets, for paired comparisons."""
    t = model.cfg.block_size
    wins = windows(ids, t, stride=t)
    covered = len(wins) * t                                           # targets ids[1:covered + 1]
    was = model.training
    model.eval()
    dev = model.tok.weight.device
    out = []
    for start in range(0, len(wins), batch):
        w = wins[start:start + batch].to(dev)
        logp = torch.log_softmax(model(w[:, :-1]).double(), dim=-1)  # (B, T, V)
        out.append(-logp.gather(-1, w[:, 1:, None])[..., 0].reshape(-1).cpu())
    n_tail = len(ids) - 1 - covered
    if n_tail > 0:
        w = ids[-(t + 1):].view(1, -1).to(dev)
        logp = torch.log_softmax(model(w[:, :-1]).double(), dim=-1)[0, -n_tail:]
        out.append(-logp.gather(-1, w[0, -n_tail:, None])[:, 0].cpu())
    model.train(was)
    return torch.cat(out) / math.log(2)


@torch.no_grad()
def bits_per_char(model: CharTransformer, val_windows: torch.Tensor, batch: int = 256) -> float:
    """Mean next-character cross-entropy on held-out windows, in bits per character (eval mode)."""
    was = model.training
    model.eval()
    dev = model.tok.weight.device
    total, n = 0.0, 0
    for start in range(0, len(val_windows), batch):
        w = val_windows[start:start + batch].to(dev)
        total += model.loss(w).item() * w[:, 1:].numel()
        n += w[:, 1:].numel()
    model.train(was)
    return total / n / math.log(2)


def bigram_bits_per_char(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int,
                         alpha: float = 0.1) -> float:
    """A poor baseline kept to show why smoothing matters: p(next | current) counted on the training text
    with add-``alpha`` smoothing, scored on the validation text, in bits per character. With few
    characters and many possible pairs, add-alpha gives unseen pairs far too much probability; use
    :class:`NGram` (Witten-Bell or Kneser-Ney) for a real baseline."""
    counts = torch.full((vocab_size, vocab_size), float(alpha))
    counts.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(len(train_ids) - 1), accumulate=True)
    log_p = torch.log(counts / counts.sum(dim=1, keepdim=True))
    return -log_p[val_ids[:-1], val_ids[1:]].mean().item() / math.log(2)


class NGram:
    """An interpolated character n-gram model, the standard count baseline (Chen & Goodman 1999).

    ``order`` 1 is the unigram, 2 the bigram p(c_t | c_{t-1}), 3 the trigram. Each order's counts are
    interpolated with the next lower order, down to the uniform distribution over ``vocab_size`` ids:

    * ``"witten-bell"``: p(w | h) = (c(h, w) + n(h) p(w | h')) / (c(h) + n(h)), with n(h) the number of
      distinct characters seen after h and h' the history h shortened by one character. No free parameter.
    * ``"kneser-ney"`` (interpolated): p(w | h) = max(c(h, w) - D, 0) / c(h) + D n(h) / c(h) p(w | h'), where
      the lower orders count in how many distinct contexts a sequence occurs (continuation counts), and the
      discount D of each order is Ney's estimate n1 / (n1 + 2 n2) from the training counts. No parameter is
      tuned on held-out text.

    A history never seen in training passes the lower order's probability through unchanged.
    Introduced in 1.4.
    """

    METHODS = ("witten-bell", "kneser-ney")

    def __init__(self, train_ids: torch.Tensor, order: int, vocab_size: int, method: str = "witten-bell"):
        if method not in self.METHODS:
            raise ValueError(f"method={method!r} is not one of {self.METHODS}")
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order, self.vocab_size, self.method = order, vocab_size, method
        seq = [int(i) for i in train_ids]
        if seq and max(seq) >= vocab_size:
            raise ValueError(f"the training ids go up to {max(seq)}, outside vocab_size={vocab_size}")
        # tables[k]: history of k characters (a tuple) -> {next character: count}
        top = order - 1
        raw: dict[tuple, dict[int, int]] = {}
        for i in range(top, len(seq)):
            row = raw.setdefault(tuple(seq[i - top:i]), {})
            row[seq[i]] = row.get(seq[i], 0) + 1
        self.tables: list[dict[tuple, dict[int, int]]] = [{} for _ in range(order)]
        self.tables[top] = raw
        for k in range(top - 1, -1, -1):
            table = self.tables[k]
            if method == "kneser-ney":   # continuation counts: distinct characters before (h, w)
                for hist, row in self.tables[k + 1].items():
                    for w in row:
                        lower = table.setdefault(hist[1:], {})
                        lower[w] = lower.get(w, 0) + 1
            else:                          # ordinary counts of the shorter histories
                for i in range(k, len(seq)):
                    row = table.setdefault(tuple(seq[i - k:i]), {})
                    row[seq[i]] = row.get(seq[i], 0) + 1
        self.totals = [{h: sum(row.values()) for h, row in t.items()} for t in self.tables]
        self.discounts = [self._ney_discount(t) for t in self.tables]

    @staticmethod
    def _ney_discount(table: dict[tuple, dict[int, int]]) -> float:
        n1 = sum(1 for row in table.values() for c in row.values() if c == 1)
        n2 = sum(1 for row in table.values() for c in row.values() if c == 2)
        return n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5

    def prob(self, history: tuple[int, ...], w: int) -> float:
        """p(w | the last order - 1 characters of ``history``)."""
        p = 1.0 / self.vocab_size
        for k in range(min(len(history), self.order - 1) + 1):
            hist = tuple(history[len(history) - k:]) if k else ()
            row = self.tables[k].get(hist)
            if row is None:
                continue
            c, n = self.totals[k][hist], len(row)
            if self.method == "witten-bell":
                p = (row.get(w, 0) + n * p) / (c + n)
            else:
                d = self.discounts[k]
                p = max(row.get(w, 0) - d, 0.0) / c + d * n / c * p
        return p

    def probs(self, history: tuple[int, ...]) -> torch.Tensor:
        """The whole next-character distribution (vocab_size,), float64, for sampling."""
        p = torch.full((self.vocab_size,), 1.0 / self.vocab_size, dtype=torch.float64)
        for k in range(min(len(history), self.order - 1) + 1):
            hist = tuple(history[len(history) - k:]) if k else ()
            row = self.tables[k].get(hist)
            if row is None:
                continue
            c, n = self.totals[k][hist], len(row)
            counts = torch.zeros(self.vocab_size, dtype=torch.float64)
            counts[list(row)] = torch.tensor(list(row.values()), dtype=torch.float64)
            if self.method == "witten-bell":
                p = (counts + n * p) / (c + n)
            else:
                d = self.discounts[k]
                p = (counts - d).clamp(min=0) / c + d * n / c * p
        return p

    def char_bits(self, ids: torch.Tensor) -> torch.Tensor:
        """Bits of every target ``ids[1:]``, each given the characters before it in ``ids`` (float64,
        shape (len(ids) - 1,)): the same targets as :func:`char_bits` of a Transformer."""
        seq = [int(i) for i in ids]
        h = self.order - 1
        return torch.tensor([-math.log2(self.prob(tuple(seq[max(0, i - h):i]), seq[i]))
                             for i in range(1, len(seq))], dtype=torch.float64)

    def _sample_next(self, history: tuple[int, ...], generator: torch.Generator | None) -> int:
        # p(w | h) is a mixture: with weight 1 - lam(h) the (discounted) counts after h, with weight lam(h)
        # the lower order (lam = n / (c + n) for Witten-Bell, D n / c for Kneser-Ney); below order 1, uniform
        for k in range(min(len(history), self.order - 1), -1, -1):
            hist = tuple(history[len(history) - k:]) if k else ()
            row = self.tables[k].get(hist)
            if row is None:
                continue
            c, n = self.totals[k][hist], len(row)
            lam = n / (c + n) if self.method == "witten-bell" else self.discounts[k] * n / c
            if torch.rand(1, generator=generator).item() < lam:
                continue
            weights = torch.tensor(list(row.values()), dtype=torch.float64)
            if self.method == "kneser-ney":
                weights = (weights - self.discounts[k]).clamp(min=0)
            return list(row)[int(torch.multinomial(weights, 1, generator=generator))]
        return int(torch.randint(self.vocab_size, (1,), generator=generator))

    def generate(self, prompt: torch.Tensor, n_new: int, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        """Continue ``prompt`` (1-D ids) by ``n_new`` characters sampled from the model; returns prompt + new
        ids. (Sampled as the mixture that the interpolation is, one level at a time: no dense vectors.)"""
        seq = [int(i) for i in prompt]
        for _ in range(n_new):
            seq.append(self._sample_next(tuple(seq[max(0, len(seq) - self.order + 1):]), generator))
        return torch.tensor(seq, dtype=torch.long)


def paired_difference(bits_a: torch.Tensor, bits_b: torch.Tensor,
                      groups: torch.Tensor | None = None) -> tuple[float, float]:
    """(mean of bits_a - bits_b, its standard error) over the same targets.

    With ``groups`` (one label per target, e.g. which poem it is in) the standard error is the cluster
    one: targets of one group may be correlated, so the groups, not the characters, count as the
    independent draws. Without, the characters are treated as independent."""
    if bits_a.shape != bits_b.shape or bits_a.dim() != 1:
        raise ValueError(f"need two 1-D tensors over the same targets, got {tuple(bits_a.shape)} and "
                         f"{tuple(bits_b.shape)}")
    d = (bits_a - bits_b).double()
    mean = d.mean().item()
    if groups is None:
        return mean, (d.std() / math.sqrt(len(d))).item()
    _, g = torch.unique(groups, return_inverse=True)
    n_groups = int(g.max()) + 1
    if n_groups < 2:
        raise ValueError("a cluster standard error needs at least two groups")
    sums = torch.zeros(n_groups, dtype=torch.float64).index_add_(0, g, d)
    sizes = torch.zeros(n_groups, dtype=torch.float64).index_add_(0, g, torch.ones_like(d))
    resid = sums - mean * sizes
    var = n_groups / (n_groups - 1) * (resid ** 2).sum() / len(d) ** 2
    return mean, var.sqrt().item()


def poem_index(poems: list[Poem]) -> torch.Tensor:
    """For each character of ``corpus(poems)``, the index of the poem it belongs to (its two separating
    line breaks count with it): the groups of :func:`paired_difference`."""
    return torch.cat([torch.full((len(p.body) + 2,), i, dtype=torch.long) for i, p in enumerate(poems)])


def _build(config: LMConfig | dict) -> dict[str, nn.Module]:
    return {"model": CharTransformer(config if isinstance(config, LMConfig) else LMConfig.from_dict(config))}


kinds.register(kinds.ModelKind("charlm", _build, parts=("model",),
                               doc="character-level Transformer language model (LMConfig); trained by LMTrainer"))
