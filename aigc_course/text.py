"""Text generation: a character-level Transformer on classical Chinese poems, and its baselines.

* Data: the 300 Tang poems (唐诗三百首) of Debian's ``fortunes-zh`` package
  (``/usr/share/games/fortunes/tang300.u8``; ``apt-get install fortunes-zh``, or set ``AIGC_DATA`` to a folder
  holding ``tang300.u8``). The poems are 8th-century texts in the public domain; the package's
  compilation is GPL-3.0+, so the course reads it from the system and does not redistribute it.
  :func:`tang_poems` parses it; :func:`split_poems` keeps whole poems apart for validation.
* :class:`CharVocab` maps characters to ids; :class:`CharTransformer` is a decoder-only Transformer
  (Vaswani et al. 2017; GPT-style pre-norm blocks) with causal scaled dot-product attention;
  :meth:`CharTransformer.generate` samples with a temperature and top-k.
* :func:`bits_per_char` scores a model on held-out text; :func:`bigram_bits_per_char` is the baseline.

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
        return "".join(self.itos[int(i)] for i in ids)


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
    """The baseline: p(next | current) counted on the training text with add-``alpha`` smoothing, scored on
    the validation text, in bits per character."""
    counts = torch.full((vocab_size, vocab_size), float(alpha))
    counts.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(len(train_ids) - 1), accumulate=True)
    log_p = torch.log(counts / counts.sum(dim=1, keepdim=True))
    return -log_p[val_ids[:-1], val_ids[1:]].mean().item() / math.log(2)


def _build(config: LMConfig | dict) -> dict[str, nn.Module]:
    return {"model": CharTransformer(config if isinstance(config, LMConfig) else LMConfig.from_dict(config))}


kinds.register(kinds.ModelKind("charlm", _build, parts=("model",),
                               doc="character-level Transformer language model (LMConfig); trained by LMTrainer"))
