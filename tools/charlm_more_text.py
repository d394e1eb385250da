"""Does the character Transformer of 1.4 beat the count baselines when it is given more text?

    python tools/charlm_more_text.py [--steps 600] [--finetune-steps 100] [--eval-every 100] [--seed 0]
                                     [--json benchmarks/results/charlm-more-text-cpu.json]

1.4 finds that, trained on the 22,634 characters of the 300 Tang poems, the Transformer does *worse* than
a Kneser-Ney bigram on the held-out poems. This script gives both kinds of model the same, larger text and
measures them on exactly the same validation characters as the page (``recipes.text_split()``'s held-out
poems), with paired standard errors by poem:

* extra text: Debian's ``fortunes-zh`` ``chinese`` collection (quotations, proverbs, classical prose and
  verse; records that are mostly Han characters, attribution lines removed) and ``song100`` (100 Song
  poems). Every record that contains a line of a *validation* poem (5 or more characters between
  punctuation marks) is dropped, so nothing of the held-out poems is seen in training;
* the Transformer: the recipe's architecture (``charlm-tang``), with a vocabulary over all the text,
  trained on the extra text + the training poems (half of each batch from each), then
  fine-tuned on the training poems alone at a third of the learning rate; the validation poems are
  scored every ``--eval-every`` steps (a quarter of that in fine-tuning) and the best score of each phase
  is reported (chosen on the validation poems, as the shipped model's
  steps were: slightly optimistic, stated on the page);
* the count models: ``text.NGram`` (Witten-Bell and Kneser-Ney, orders 1-3) on the same text.

Writes a JSON results file (read by 1.4) with the machine, threads, command and date.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import re
import shlex
import sys
import time
from pathlib import Path

import torch

from aigc_course import recipes, runtime, text

FORTUNES = Path("/usr/share/games/fortunes")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PUNCT = re.compile(r"[，。？！；：、\n]")


def _han(s: str) -> int:
    return sum("\u4e00" <= c <= "\u9fff" for c in s)


def extra_records() -> dict[str, list[str]]:
    """The extra Chinese text of fortunes-zh, by file: lists of records (bodies only)."""
    out: dict[str, list[str]] = {"chinese": [], "song100": []}
    raw = _ANSI.sub("", (FORTUNES / "chinese").read_text(encoding="utf-8"))
    for record in raw.split("\n%\n"):
        lines = [ln.strip() for ln in record.splitlines() if ln.strip()]
        body = "\n".join(ln for ln in lines if not ln.startswith("--"))
        visible = [c for c in body if not c.isspace()]
        if visible and _han(body) >= 0.7 * len(visible):
            out["chinese"].append(body)
    raw = _ANSI.sub("", (FORTUNES / "song100").read_text(encoding="utf-8"))
    for record in raw.split("\n%\n"):
        lines = [ln.strip() for ln in record.splitlines() if ln.strip()]
        if len(lines) > 2 and lines[0].startswith("题目"):
            out["song100"].append("\n".join(lines[2:]))
    return out


def held_out_lines(poems: list[text.Poem]) -> set[str]:
    return {ln for p in poems for ln in _PUNCT.split(p.body) if len(ln) >= 5}


def train_lm(model, windows_of, val_ids, steps, eval_every, lr, batch_size, gen, log):
    """Adam steps on windows drawn by ``windows_of(n)``; validation bits every ``eval_every`` steps.
    Returns (best validation bpc, its step, the curve, the best state dict)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    curve, best = [], (math.inf, 0, None)
    for step in range(1, steps + 1):
        model.train()
        loss = model.loss(windows_of(batch_size))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0 or step == steps:
            bpc = text.char_bits(model, val_ids).mean().item()
            curve.append({"step": step, "train_loss_nats": loss.item(), "val_bpc": bpc})
            log(f"step {step}: train loss {loss.item():.3f} nats, validation {bpc:.3f} bits/char")
            if bpc < best[0]:
                best = (bpc, step, {k: v.clone() for k, v in model.state_dict().items()})
    return best[0], best[1], curve, best[2]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="pre-training steps on extra + poems")
    p.add_argument("--finetune-steps", type=int, default=100, help="fine-tuning steps on the poems")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default="benchmarks/results/charlm-more-text-cpu.json")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    runtime.set_threads(1)
    runtime.set_seed(args.seed)

    poems = text.tang_poems()
    train_poems, val_poems = text.split_poems(poems)
    train_text, val_text, _ = recipes.text_split()
    banned = held_out_lines(val_poems)
    extra, dropped = {}, {}
    for name, records in extra_records().items():
        kept = [r for r in records if not any(ln in r for ln in banned)]
        extra[name], dropped[name] = kept, len(records) - len(kept)
    extra_text = "\n\n".join(extra["chinese"] + extra["song100"]) + "\n\n"
    vocab = text.CharVocab(text.corpus(poems) + extra_text)
    recipe = recipes.get_recipe("charlm-tang")
    cfg = recipe.model.__class__.from_dict({**recipe.model.to_dict(), "vocab_size": len(vocab),
                                            "dropout": args.dropout})
    poem_ids, extra_ids = vocab.encode(train_text), vocab.encode(extra_text)
    val_ids = vocab.encode(val_text)
    groups = text.poem_index(val_poems)[1:]
    seen_tang = set(poem_ids.tolist())
    seen_all = seen_tang | set(extra_ids.tolist())
    log = lambda msg: print(f"[{time.perf_counter() - t0:6.0f} s] {msg}", flush=True)  # noqa: E731
    log(f"extra text: {len(extra_text):,} characters ({len(extra['chinese'])} + {len(extra['song100'])} "
        f"records; {sum(dropped.values())} dropped for containing a validation line); poems "
        f"{len(train_text):,}; vocabulary {len(vocab):,}")

    # count baselines, trained on the poems only and on poems + extra text
    bits: dict[str, torch.Tensor] = {}
    for data_name, ids in [("poems", poem_ids), ("poems+extra", torch.cat([extra_ids, poem_ids]))]:
        for order in (1, 2, 3):
            for method in text.NGram.METHODS:
                ng = text.NGram(ids, order, len(vocab), method)
                bits[f"{method} {order}-gram | {data_name}"] = ng.char_bits(val_ids)
    log("n-grams scored")

    T = cfg.block_size
    gen = torch.Generator().manual_seed(args.seed)
    poem_windows = text.windows(poem_ids, T)
    extra_windows = text.windows(extra_ids, T)

    def mixed(n):  # half of each batch from the poems, half from the extra text
        a = poem_windows[torch.randint(len(poem_windows), (n // 2,), generator=gen)]
        b = extra_windows[torch.randint(len(extra_windows), (n - n // 2,), generator=gen)]
        return torch.cat([a, b])

    def poems_only(n):
        return poem_windows[torch.randint(len(poem_windows), (n,), generator=gen)]

    tc = recipe.full
    model = text.CharTransformer(cfg)
    pre_bpc, pre_step, pre_curve, pre_state = train_lm(model, mixed, val_ids, args.steps, args.eval_every,
                                                       tc.lr, tc.batch_size, gen, log)
    model.load_state_dict(pre_state)
    bits["Transformer | poems+extra"] = text.char_bits(model, val_ids)
    ft_bpc, ft_step, ft_curve, ft_state = train_lm(model, poems_only, val_ids, args.finetune_steps,
                                                   max(1, args.eval_every // 4), tc.lr / 3, tc.batch_size,
                                                   gen, log)
    if ft_state is not None and ft_bpc < pre_bpc:
        model.load_state_dict(ft_state)
    bits["Transformer | poems+extra, fine-tuned on poems"] = text.char_bits(model, val_ids)

    best_count = min((k for k in bits if "gram" in k), key=lambda k: bits[k].mean().item())
    unseen_tang = torch.tensor([int(c) not in seen_tang for c in val_ids[1:]])
    unseen_all = torch.tensor([int(c) not in seen_all for c in val_ids[1:]])
    rows = {}
    for name, b in bits.items():
        d, se = text.paired_difference(b, bits[best_count], groups)
        rows[name] = {"bpc": b.mean().item(), "minus_best_count": d, "se_by_poem": se,
                      "bpc_on_chars_seen_in_poems": b[~unseen_tang].mean().item()}
    tf = "Transformer | poems+extra, fine-tuned on poems"
    kn_same = "kneser-ney 2-gram | poems+extra"
    result = {
        "what": "1.4: Transformer vs count n-grams with more training text, same validation characters",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}, torch {torch.__version__}, "
                   f"1 thread, shared with other jobs",
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
        "seconds": time.perf_counter() - t0,
        "extra_chars": len(extra_text), "poem_chars": len(train_text),
        "extra_records": {k: len(v) for k, v in extra.items()}, "dropped_records": dropped,
        "vocab": len(vocab), "model_config": cfg.to_dict(), "params": sum(p.numel() for p in model.parameters()),
        "val_targets": len(val_ids) - 1, "val_poems": len(val_poems),
        "unseen_in_poems": int(unseen_tang.sum()), "unseen_in_all": int(unseen_all.sum()),
        "pretrain": {"best_step": pre_step, "best_bpc": pre_bpc, "curve": pre_curve},
        "finetune": {"best_step": ft_step, "best_bpc": ft_bpc, "curve": ft_curve, "lr": tc.lr / 3},
        "best_count_model": best_count,
        "models": rows,
        "transformer_minus_kn2_same_text": list(text.paired_difference(bits[tf], bits[kn_same], groups)),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {args.json}")
    for name, row in rows.items():
        print(f"{name:>48}: {row['bpc']:.3f} bits/char ({row['minus_best_count']:+.3f} "
              f"± {row['se_by_poem']:.3f} vs {best_count})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
