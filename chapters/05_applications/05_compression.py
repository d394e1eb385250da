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
# # 5.5 Compression

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("05_compression")

# %% [markdown]
# Lossy **image compression** (图像压缩) has three steps. A **transform** maps the image to numbers that
# are easier to code; **quantisation** (量化) rounds them to integers, which is where information is lost;
# **entropy coding** (熵编码) writes the integers with as few bits as their probabilities allow. JPEG
# {cite}`wallace1992jpeg` transforms 8×8 blocks with the discrete cosine transform, quantises the
# coefficients with a table scaled by the quality setting, and Huffman-codes them.
#
# A VAE has all three parts. The encoder is a transform to a short code $z$, the decoder its inverse, and
# a distribution over codes is what an entropy coder needs (we count it from the codes of training
# images rather than take the prior $\mathcal N(0, I)$, which the codes of real images do not follow
# exactly; bits-back coding, Townsend et al.'s BB-ANS, uses the VAE's own distributions instead).
# Ballé et al. trained such models for compression end to end
# {cite}`balle2017endtoend,balle2018variational`. This page does it the simple way, with the shipped
# `vae-fashion` of 4.4, which was trained for the ELBO and not for compression:
#
# 1. quantise the encoder's mean $\mu(x)$ with a uniform step $\Delta$;
# 2. compute the ideal code length of the integers from a probability table, and check it with a real
#    **arithmetic coder** (算术编码) written on the page, which must decode every image exactly;
# 3. measure the **rate** (码率, bits per image) against the **distortion** (失真, here PSNR), the
#    **rate–distortion** (率失真) trade-off, and compare with JPEG and WebP on the same test images,
#    and with the fair classical control: PCA, a linear transform learnt from the same data, coded with
#    the same quantiser and tables.

# %%
import bisect
import io
import lzma
import math
import zlib

import matplotlib.pyplot as plt
import numpy as np
import PIL.features
import torch
from PIL import Image
from scipy import stats

import aigc_course as ac
from aigc_course import data, metrics, plotting, recipes
from aigc_course.exercises import ch5b
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small batches on the CPU: one thread is fastest
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
N_TEST = 500 if QUICK else 2000          # test images that every codec compresses
N_TABLE = 10_000 if QUICK else 60_000    # training images that estimate the probability tables
HAS_WEBP = PIL.features.check("webp")
print("WebP support in Pillow:", HAS_WEBP)
train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
originals = test.images[:N_TEST]                                   # (N_TEST, 1, 28, 28) uint8

# %% tags=["hide-input"]
glue("e55_n_test", N_TEST, display=False)

# %% [markdown]
# ## Quantising the code
#
# `vae-fashion` encodes an image into $\mu(x) \in \mathbb R^{16}$ (and a variance, which we ignore). The
# quantiser keeps $\mu$ inside $[-R, R]$ with $R = 5$ (almost all posterior means are; we count the
# exceptions) and rounds it to a grid of step $\Delta$:
#
# $$ s_j = \operatorname{round}\big(\operatorname{clip}(\mu_j, -R, R) / \Delta\big) \in
#    \{-M, \dots, M\}, \quad M = \operatorname{round}(R/\Delta), \qquad \hat z_j = \Delta\, s_j . $$
#
# The sixteen integers $s_j$ are the compressed image; the decoder's mean image at $\hat z$ is the
# reconstruction. PSNR (峰值信噪比) measures the distortion, $10 \log_{10}(255^2/\text{MSE})$ dB per image
# with the MSE over its pixels (in model space, images in $[-1, 1]$, the peak-to-peak range is 2),
# averaged over the images. As $\Delta \to 0$ the reconstruction must become `vae.reconstruct(x)`, the
# decoder's mean at $\mu(x)$, and a coarse grid must cost quality:

# %%
R = 5.0
STEPS = [4, 2, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125]       # quantiser steps Delta
vae = recipes.load_or_train("vae-fashion", device=dev)


def to_uint8(images):
    """Images in [-1, 1] -> uint8 grey levels 0..255."""
    return torch.round((images + 1) * 127.5).clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def encode_means(images, batch=1000):
    """Encoder means mu(x) of uint8 images, (N, 16)."""
    return torch.cat([vae.encode(data.to_model_space(x).to(dev))[0].cpu()
                      for x in images.split(batch)])


def quantise(mu, step):
    """Integer symbols round(clip(mu, -R, R) / step) in -M..M, and M."""
    return torch.round(mu.clamp(-R, R) / step).long(), round(R / step)


@torch.no_grad()
def decode_symbols(symbols, step):
    """The decoder's mean image (uint8) at z = step * symbols."""
    return to_uint8(vae.to_image(vae.decode((symbols.float() * step).to(dev))).cpu())


def psnr(a, b):
    """PSNR in dB of each pair of uint8 images, peak 255, MSE over the pixels of one image."""
    mse = ((a.double() - b.double()) ** 2).flatten(1).mean(1)              # (N,)
    return 10 * torch.log10(255.0**2 / mse)


mu_test, mu_table = encode_means(originals), encode_means(train.images[:N_TABLE])
with torch.no_grad():
    reference = to_uint8(vae.reconstruct(data.to_model_space(originals).to(dev)).cpu())
fine = decode_symbols(quantise(mu_test, 1e-4)[0], 1e-4)
largest_change = (fine.int() - reference.int()).abs().max().item()
clipped = (mu_test.abs() > R).any(1).double().mean().item()
print(f"Delta = 1e-4: at most {largest_change} grey level(s) away from vae.reconstruct; "
      f"{clipped:.1%} of the test codes have a |mu_j| > R")
assert largest_change <= 1 and clipped < 0.01
torch.testing.assert_close(psnr(fine, originals).mean(),
                           metrics.psnr(fine, originals, data_range=2.0).double(),
                           rtol=1e-5, atol=1e-4)
ceiling = psnr(reference, originals).mean().item()      # no quantisation at all

shown = [2, 1, 0.25]
rows = [originals[:12]] + [decode_symbols(quantise(mu_test[:12], d)[0], d) for d in shown]
plotting.show_grid(data.to_model_space(torch.cat(rows)), nrow=12, figsize=9,
                   row_labels=["original"] + [f"Δ = {d}" for d in shown],
                   title="vae-fashion reconstructions from quantised codes")
plt.show()

# %% tags=["hide-input"]
glue("e55_ceiling", ceiling, display=False)


# %% [markdown]
# With $\Delta = 2$, {glue:text}`e55_bits_per_dim_2:.2f` bits per dimension (the table below), most
# images keep their rough kind but lose their shape. From $\Delta = 1$ on the changes are small,
# and the reconstructions approach the unquantised ones, whose PSNR, {glue:text}`e55_ceiling:.2f` dB, is
# the ceiling of this codec: no step size gives back the detail that the encoder and decoder lose.
#
# ## How many bits? Entropy and code length
#
# Shannon's source coding theorem {cite}`shannon1948mathematical`: a code for symbols drawn with
# probabilities $P(s)$ needs on average at least the **entropy** $H = -\sum_s P(s) \log_2 P(s)$ bits per
# symbol, and a good entropy coder comes within a couple of bits of it per *message*. The decoder must
# know $P$ too, so the probabilities are a fixed table shipped with the codec. We estimate one table per
# latent dimension $j$ from the codes of {glue:text}`e55_n_table:,` **training** images, adding one to
# every count so that no symbol has probability zero, and treat the sixteen dimensions as independent.
# The **ideal code length** (理想码长) of a test image is then
#
# $$ \ell(x) = \sum_{j=1}^{16} -\log_2 P_j\big(s_j(x)\big) \text{ bits}. $$
#
# Its average over the test images is a **cross-entropy**; it exceeds the test symbols' own entropy
# (the length a table fitted to these very images would give) by the cost of using the training
# table. We print both.

# %%
def entropy_bits(symbols):
    """Empirical entropy in bits per symbol of a 1-D integer tensor."""
    _, counts = torch.unique(symbols, return_counts=True)
    p = counts.double() / counts.sum()
    return -(p * torch.log2(p)).sum().item()


def frequency_tables(symbols, M):
    """Counts (Z, 2M + 1) of each symbol -M..M per dimension, plus one: no probability is zero."""
    index = (symbols + M).T                                                # (Z, N)
    return torch.ones(index.shape[0], 2 * M + 1, dtype=torch.long).scatter_add_(
        1, index, torch.ones_like(index))


def ideal_bits(symbols, counts, M):
    """-sum_j log2 P_j(s_j) of each image, (N,)."""
    p = counts.double() / counts.sum(1, keepdim=True)                     # (Z, 2M + 1)
    return -torch.log2(p.gather(1, (symbols + M).T)).sum(0)


sample = quantise(mu_test, 1.0)[0][:, 0]
_, sample_counts = np.unique(sample.numpy(), return_counts=True)
assert abs(entropy_bits(sample) - stats.entropy(sample_counts, base=2)) < 1e-12

rd = {}                                                # step -> measurements
for step in STEPS:
    symbols, M = quantise(mu_test, step)
    counts = frequency_tables(quantise(mu_table, step)[0], M)
    own = sum(entropy_bits(symbols[:, j]) for j in range(symbols.shape[1]))
    rd[step] = {"symbols": symbols, "M": M, "counts": counts, "entropy": own,
                "ideal": ideal_bits(symbols, counts, M),
                "psnr": psnr(decode_symbols(symbols, step), originals).mean().item()}
print(" step   ideal code length   entropy of the test symbols    PSNR")
for step, r in rd.items():
    print(f"{step:>7}   {r['ideal'].mean():10.2f} bits   {r['entropy']:16.2f} bits   "
          f"{r['psnr']:9.2f} dB")
overhead = max(r["ideal"].mean().item() / r["entropy"] for r in rd.values())
psnrs = [r["psnr"] for r in rd.values()]
fine_steps = [s for s in STEPS if s <= 0.5]
per_halving = [rd[s / 2]["ideal"].mean().item() - rd[s]["ideal"].mean().item()
               for s in fine_steps[:-1]]
print("bits added by each halving of a fine step:", ", ".join(f"{b:.1f}" for b in per_halving))
assert overhead < 1.1 and psnrs == sorted(psnrs) and all(14 < b < 18 for b in per_halving)

# %% tags=["hide-input"]
glue("e55_n_table", N_TABLE, display=False)
glue("e55_bits_per_dim_2", rd[2]["ideal"].mean().item() / mu_test.shape[1], display=False)
glue("e55_overhead", overhead - 1, display=False)

# %% [markdown]
# Once the step is fine, halving it adds about 16 bits per image, one per dimension, as it must for a
# smooth density (each symbol's interval splits in two), and PSNR rises towards the ceiling. The
# training table costs at most {glue:text}`e55_overhead:.1%` more than the test symbols' own entropy:
# the code distribution of training images describes the test images well. (At fine steps the test
# symbols' own entropy, counted from a few hundred images spread over many bins, is biased low, so part
# of that overhead is the estimate's bias and the true cost is smaller still.)
#
# ## A real entropy coder
#
# An ideal length is a promise. **Arithmetic coding** {cite}`witten1987arithmetic` keeps it: the message
# is an interval of $[0, 1)$, and each symbol narrows the interval to the share its probability gives it,
# so after all symbols the interval's width is $\prod_j P_j(s_j) = 2^{-\ell(x)}$, and about $\ell(x)$
# bits name a number inside it. The integer version below (32-bit registers, after Witten, Neal and
# Cleary) shifts out each bit as soon as it is decided. The bound: at most 2 bits above $\ell(x)$ per
# message. Every test image is coded on its own, as a file would be, and must decode exactly.

# %%
FULL, HALF, QUARTER = 1 << 32, 1 << 31, 1 << 30


def arithmetic_encode(symbols, cum_tables):
    """Bits (list of 0/1) of symbols[i] in 0..K-1, coded with cumulative counts cum_tables[i]."""
    low, high, pending, bits = 0, FULL - 1, 0, []

    def emit(bit):
        nonlocal pending
        bits.extend([bit] + [1 - bit] * pending)    # the bits held back while undecided
        pending = 0

    for s, cum in zip(symbols, cum_tables):
        span, total = high - low + 1, cum[-1]
        low, high = low + span * cum[s] // total, low + span * cum[s + 1] // total - 1
        while True:
            if high < HALF:                         # both in the lower half: the next bit is 0
                emit(0)
            elif low >= HALF:                       # both in the upper half: it is 1
                emit(1)
                low, high = low - HALF, high - HALF
            elif low >= QUARTER and high < 3 * QUARTER:  # straddling the middle: decide later
                pending += 1
                low, high = low - QUARTER, high - QUARTER
            else:
                break
            low, high = 2 * low, 2 * high + 1
    pending += 1                                    # two more bits pin a number inside [low, high]
    emit(0 if low < QUARTER else 1)
    return bits


def arithmetic_decode(bits, cum_tables):
    """The symbols that arithmetic_encode turned into ``bits`` (one per table)."""
    stream = iter(bits)
    value = 0
    for _ in range(32):
        value = 2 * value + next(stream, 0)
    low, high, out = 0, FULL - 1, []
    for cum in cum_tables:
        span, total = high - low + 1, cum[-1]
        s = bisect.bisect_right(cum, ((value - low + 1) * total - 1) // span) - 1
        out.append(s)
        low, high = low + span * cum[s] // total, low + span * cum[s + 1] // total - 1
        while True:
            if high < HALF:
                pass
            elif low >= HALF:
                low, high, value = low - HALF, high - HALF, value - HALF
            elif low >= QUARTER and high < 3 * QUARTER:
                low, high, value = low - QUARTER, high - QUARTER, value - QUARTER
            else:
                break
            low, high, value = 2 * low, 2 * high + 1, 2 * value + next(stream, 0)
    return out


print(" step   ideal   arithmetic coder (worst image: excess)   zlib of the stream   lzma")
for step, r in rd.items():
    cum_tables = [[0] + row.cumsum(0).tolist() for row in r["counts"]]      # one per dimension
    coded = [(s + r["M"]).tolist() for s in r["symbols"]]
    lengths, excess = [], []
    for image, ideal in zip(coded, r["ideal"].tolist()):
        bits = arithmetic_encode(image, cum_tables)
        assert arithmetic_decode(bits, cum_tables) == image, "lossless round trip"
        lengths.append(len(bits))
        excess.append(len(bits) - ideal)
    stream = (r["symbols"] + r["M"]).to(torch.int16).numpy().tobytes()   # all images, 2 bytes each
    r["bits"] = float(np.mean(lengths))
    r["zlib"] = 8 * len(zlib.compress(stream, 9)) / N_TEST / r["ideal"].mean().item()
    r["lzma"] = 8 * len(lzma.compress(stream, preset=9)) / N_TEST / r["ideal"].mean().item()
    r["excess"] = max(excess)
    print(f"{step:>7} {r['ideal'].mean():7.2f}   {r['bits']:9.2f} bits ({r['excess']:+.2f})"
          f"   {r['zlib']:23.2f} x ideal   {r['lzma']:.2f} x ideal")
assert all(r["excess"] <= 2 for r in rd.values())
assert all(r["zlib"] > 1.2 for r in rd.values())
mean_excess = np.mean([r["bits"] - r["ideal"].mean().item() for r in rd.values()])
assert all(r["lzma"] > 1.0 for r in rd.values())

# %% tags=["hide-input"]
glue("e55_excess", max(r["excess"] for r in rd.values()), display=False)
glue("e55_mean_excess", float(mean_excess), display=False)
glue("e55_zlib_min", min(r["zlib"] for r in rd.values()), display=False)
glue("e55_zlib_max", max(r["zlib"] for r in rd.values()), display=False)
glue("e55_lzma_min", min(r["lzma"] for r in rd.values()), display=False)
glue("e55_lzma_max", max(r["lzma"] for r in rd.values()), display=False)


# %% [markdown]
# Every image decodes exactly, and the coded length is never more than
# {glue:text}`e55_excess:.2f` bits above the ideal (on average {glue:text}`e55_mean_excess:.2f` bits):
# the ideal code length is a length we can have, and the rates below are those of the real coder.
# They are counted in bits, with no header: a file would round each stream up to whole bytes (on
# average 4 bits more) and store the step $\Delta$ once, while JPEG and WebP are counted in bytes.
# General-purpose compressors applied to the whole stream of symbols, which know nothing of the tables,
# need {glue:text}`e55_zlib_min:.1f` to {glue:text}`e55_zlib_max:.1f` times the ideal with zlib, and
# {glue:text}`e55_lzma_min:.2f` to {glue:text}`e55_lzma_max:.2f` times with lzma (see the table for which
# step each does better at), even with all {glue:text}`e55_n_test` images in one stream to learn from: they must find the symbols'
# statistics in the data, which the tables hand to the arithmetic coder.
#
# ## Rate and distortion against JPEG and WebP
#
# Now the classical codecs on the same {glue:text}`e55_n_test` test images: JPEG at qualities 1 to 95
# and WebP {cite}`bankoski2011vp8` (the VP8 intra-frame coder in a RIFF container) at 0 to 100, both from
# Pillow. For such small images a file is mostly **header**: a JPEG file carries its quantisation and
# Huffman tables before the first coded bit ({glue:text}`e55_jpeg_header:.0f` bytes here with
# the standard tables). The quantisation tables are the same for every image at a given quality, like
# our probability tables, so we count the codecs twice: the whole file, and only the **payload**, the entropy-coded data (for JPEG the scan between
# the start-of-scan header and the end marker; for WebP the file less its 30 bytes of container and
# frame header). The payload is the generous comparison for the codecs. JPEG is run with Huffman tables
# optimised for each image (`optimize=True`), the usual setting for a rate comparison; Pillow's default,
# the standard tables of the JPEG specification, is printed beside it.

# %%
def jpeg_payload(buf):
    """Bytes of the entropy-coded scan of a baseline JPEG file."""
    sos = buf.index(b"\xff\xda")                                      # start-of-scan marker
    return len(buf) - (sos + 2 + int.from_bytes(buf[sos + 2:sos + 4], "big")) - 2  # less EOI


def webp_payload(buf):
    """Bytes of a lossy WebP file after the RIFF/VP8 chunk headers and the VP8 frame header."""
    assert buf[:4] == b"RIFF" and buf[8:16] == b"WEBPVP8 ", "a simple lossy WebP file"
    return len(buf) - 30


def classical(images, fmt, quality, optimize=True):
    """Mean file bits, mean payload bits and the decoded uint8 images of a Pillow codec."""
    files, payloads, decoded = [], [], []
    options = {"optimize": optimize} if fmt == "JPEG" else {}           # per-image Huffman tables
    for image in images[:, 0].numpy():                                   # (28, 28) uint8
        out = io.BytesIO()
        Image.fromarray(image).save(out, format=fmt, quality=quality, **options)
        buf = out.getvalue()
        files.append(8 * len(buf))
        payloads.append(8 * (jpeg_payload(buf) if fmt == "JPEG" else webp_payload(buf)))
        decoded.append(np.array(Image.open(io.BytesIO(buf)).convert("L")))
    decoded = torch.from_numpy(np.stack(decoded))[:, None]               # (N, 1, 28, 28) uint8
    return float(np.mean(files)), float(np.mean(payloads)), decoded


qualities = {"JPEG": [1, 5, 10, 20, 30, 50, 70, 90, 95]}
if HAS_WEBP:
    qualities["WEBP"] = [0, 5, 10, 25, 50, 75, 90, 100]
else:
    print("note: this Pillow has no WebP support; the WebP curves are left out")
codecs = {}
for fmt, qs in qualities.items():
    for q in qs:
        file_bits, payload_bits, decoded = classical(originals, fmt, q)
        codecs[fmt, q] = {"file": file_bits, "payload": payload_bits, "decoded": decoded,
                          "psnr": psnr(decoded, originals).mean().item()}
standard = {q: classical(originals, "JPEG", q, optimize=False) for q in qualities["JPEG"]}
jpeg_header = {round((file_bits - payload_bits) / 8, 6) for file_bits, payload_bits, _ in
               standard.values()}
assert len(jpeg_header) == 1, "with the standard tables, the same headers at every quality"
assert all(torch.equal(standard[q][2], codecs["JPEG", q]["decoded"]) for q in standard)
assert codecs["JPEG", 1]["payload"] < 0.9 * standard[1][1]                 # optimising pays
print(f"JPEG quality 1, standard Huffman tables: file {standard[1][0]:.0f} bits, "
      f"payload {standard[1][1]:.0f} bits (the same decoded images)")
for (fmt, q), c in codecs.items():
    print(f"{fmt:<5} quality {q:>3}: file {c['file']:6.0f} bits, "
          f"payload {c['payload']:6.0f} bits, PSNR {c['psnr']:.2f} dB")

fig, ax = plt.subplots(figsize=(8, 5))
ax.plot([r["bits"] for r in rd.values()], psnrs, "o-", color="tab:red",
        label="VAE: quantised μ + arithmetic coder")
for fmt, color in [("JPEG", "tab:blue"), ("WEBP", "tab:green")]:
    if fmt in qualities:
        points = [codecs[fmt, q] for q in qualities[fmt]]
        ax.plot([c["payload"] for c in points], [c["psnr"] for c in points], "s-", color=color,
                label=f"{fmt.replace('WEBP', 'WebP')} payload")
        ax.plot([c["file"] for c in points], [c["psnr"] for c in points], "s:", color=color,
                alpha=0.6, label=f"{fmt.replace('WEBP', 'WebP')} whole file")
ax.axhline(ceiling, color="tab:red", lw=0.8, ls="--", label="VAE without quantisation")
ax.set_xscale("log")
ax.set_xlabel("bits per 28×28 image (log scale)")
ax.set_ylabel("PSNR (dB)")
ax.set_title(f"rate–distortion on {N_TEST} Fashion-MNIST test images")
ax.legend(fontsize=8)
plt.show()

# %% tags=["hide-input"]
glue("e55_jpeg_header", float(jpeg_header.pop()), display=False)
glue("e55_jpeg_std_min", standard[1][1], display=False)
glue("e55_jpeg_std_min_file", standard[1][0], display=False)

# %% [markdown]
# The curves do not even overlap in rate. The VAE lives between {glue:text}`e55_vae_min_bits:.1f` and
# {glue:text}`e55_vae_max_bits:.0f` bits per image; the smallest JPEG payload, at quality 1, is
# {glue:text}`e55_jpeg_min:.0f` bits (the whole file {glue:text}`e55_jpeg_min_file:.0f`; with the
# standard tables {glue:text}`e55_jpeg_std_min:.0f` and {glue:text}`e55_jpeg_std_min_file:.0f`), and
# WebP's smallest is {glue:text}`e55_webp_min:.0f` bits. That gap is built into JPEG: a 28×28 image is
# sixteen 8×8 blocks, and each must code at least its DC coefficient and an end-of-block symbol,
# whatever the quality. Where the PSNRs can be compared, the VAE needs far fewer bits:

# %%
vae_bits, vae_psnr = np.array([r["bits"] for r in rd.values()]), np.array(psnrs)
matched, summary = {}, {}
for fmt in qualities:
    points = sorted((codecs[fmt, q]["psnr"], codecs[fmt, q]["payload"]) for q in qualities[fmt])
    c_psnr, c_bits = np.array(points).T
    ok = vae_psnr >= c_psnr[0]                      # VAE points the codec can match at all
    needed = np.exp(np.interp(vae_psnr[ok], c_psnr, np.log(c_bits)))
    matched[fmt] = needed / vae_bits[ok]
    for step, b, p, n in zip(np.array(STEPS)[ok], vae_bits[ok], vae_psnr[ok], needed):
        print(f"{fmt}: PSNR {p:.2f} dB costs the VAE {b:6.1f} bits (Delta = {step}), "
              f"the {fmt} payload {n:6.0f} bits: {n / b:4.1f} x")
    at_ceiling = float(np.exp(np.interp(ceiling, c_psnr, np.log(c_bits))))
    print(f"{fmt}: best PSNR {c_psnr.max():.2f} dB at {c_bits[c_psnr.argmax()]:.0f} payload bits; "
          + (f"it passes the VAE's ceiling of {ceiling:.2f} dB at {at_ceiling:.0f} bits"
             if ceiling > c_psnr[0]
             else f"above the VAE's ceiling ({ceiling:.2f} dB) at all rates"))
    summary[fmt] = dict(min=float(c_bits.min()), best=float(c_psnr.max()), at_ceiling=at_ceiling,
                        steps_ok=np.array(STEPS)[ok])
assert vae_bits.max() < min(codecs[k]["payload"] for k in codecs)
assert len(matched["JPEG"]) >= 3 and matched["JPEG"].min() > 2 and matched["JPEG"].max() > 5
assert all(max(codecs[fmt, q]["psnr"] for q in qualities[fmt]) > ceiling + 15 for fmt in qualities)
assert not HAS_WEBP or codecs["WEBP", 0]["psnr"] > ceiling


# %% tags=["hide-input"]
for fmt, row in summary.items():
    has = len(matched[fmt]) > 0
    glue(f"e55_{fmt.lower()}_min", row["min"], display=False)
    glue(f"e55_{fmt.lower()}_best", row["best"], display=False)
    glue(f"e55_{fmt.lower()}_ratio_min", float(matched[fmt].min()) if has else math.nan,
         display=False)
    glue(f"e55_{fmt.lower()}_ratio_max", float(matched[fmt].max()) if has else math.nan,
         display=False)
    glue(f"e55_{fmt.lower()}_at_ceiling", row["at_ceiling"], display=False)
    for end, pick in (("min", np.argmin), ("max", np.argmax)):
        glue(f"e55_{fmt.lower()}_ratio_{end}_step",
             float(row["steps_ok"][pick(matched[fmt])]) if has else math.nan, display=False)
# %% tags=["hide-input"]
glue("e55_jpeg_min_file", min(codecs["JPEG", q]["file"] for q in qualities["JPEG"]), display=False)
glue("e55_vae_max_bits", float(vae_bits.max()), display=False)
if not HAS_WEBP:  # keep the page's numbers defined
    for key in ("min", "best", "ratio_min", "ratio_max", "at_ceiling", "ratio_min_step",
                "ratio_max_step"):
        glue(f"e55_webp_{key}", math.nan, display=False)
glue("e55_vae_min_bits", float(vae_bits.min()), display=False)

# %% [markdown]
# At the PSNRs the VAE reaches, JPEG's payload alone needs {glue:text}`e55_jpeg_ratio_min:.1f` times as
# many bits (at $\Delta$ = {glue:text}`e55_jpeg_ratio_min_step:g`) to
# {glue:text}`e55_jpeg_ratio_max:.1f` times (at $\Delta$ = {glue:text}`e55_jpeg_ratio_max_step:g`).
# But the comparison mixes two things: the VAE is *nonlinear* and *generative*, and it was also
# *trained on Fashion-MNIST*, while JPEG's cosine transform and tables were designed for any photograph.
#
# ### The fair control: a linear transform learnt from the same data
#
# A classical codec can learn from the data too. Principal component analysis (PCA, 主成分分析, the
# Karhunen–Loève transform that JPEG's cosine transform approximates for natural images) finds the
# orthogonal directions of largest variance in the {glue:text}`e55_n_table:,` training images. Keep
# the first $k$ coefficients $c = V_k^\top (x - \bar x)$ of an image, and code them **exactly as the
# VAE's code**: the same uniform quantiser (with the range $R$ widened to the coefficients' range), the
# same per-dimension tables counted on the training images, the same ideal code length. The decoder is
# $\hat x = \bar x + V_k \hat c$. Both codecs are compared at their ideal lengths (the page's
# arithmetic coder adds at most {glue:text}`e55_excess:.2f` bits to either); for each rate we keep the
# best $(k, \Delta)$, the codec's Pareto front.

# %%
X = data.to_model_space(train.images[:N_TABLE]).flatten(1).double()      # (N_TABLE, 784)
pca_mean = X.mean(0)
eigenvalues, eigenvectors = torch.linalg.eigh((X - pca_mean).T @ (X - pca_mean) / len(X))
basis = eigenvectors.flip(1).T[:100]                   # (100, 784): largest variance first
coef_table = (X - pca_mean) @ basis.T                  # (N_TABLE, 100)
coef_test = (data.to_model_space(originals).flatten(1).double() - pca_mean) @ basis.T
R_PCA = math.ceil(coef_table.abs().max().item())
# an orthonormal basis, ordered by the variance of the training coefficients along it
torch.testing.assert_close(basis @ basis.T, torch.eye(100, dtype=torch.float64))
torch.testing.assert_close(coef_table.var(0, correction=0), eigenvalues.flip(0)[:100])

pca_points = []                                        # (ideal bits, PSNR, k, step)
for k in [2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100]:
    for step in [8, 4, 2, 1, 0.5, 0.25]:
        M = round(R_PCA / step)
        quantised = [torch.round(c[:, :k].clamp(-R_PCA, R_PCA) / step).long()
                     for c in (coef_table, coef_test)]
        bits = ideal_bits(quantised[1], frequency_tables(quantised[0], M), M).mean().item()
        decoded = to_uint8(pca_mean + quantised[1].double() * step @ basis[:k])  # (N, 784)
        decoded = decoded.view(-1, 1, 28, 28)
        pca_points.append((bits, psnr(decoded, originals).mean().item(), k, step))
front = []                                             # the Pareto front: more bits, more PSNR
for point in sorted(pca_points):
    if not front or point[1] > front[-1][1]:
        front.append(point)
front_bits, front_psnr = np.array([p[0] for p in front]), np.array([p[1] for p in front])
vae_ideal = np.array([r["ideal"].mean().item() for r in rd.values()])
pca_needed = np.exp(np.interp(vae_psnr, front_psnr, np.log(front_bits)))   # at the VAE's PSNR
pca_ratio = dict(zip(STEPS, pca_needed / vae_ideal))
print(" step   VAE ideal bits   PSNR    PCA bits at that PSNR   PCA / VAE")
for step, b, p, n in zip(STEPS, vae_ideal, vae_psnr, pca_needed):
    print(f"{step:>7} {b:12.1f} {p:9.2f} dB {n:14.1f} {n / b:14.2f}")
jpeg_q1 = codecs["JPEG", 1]
pca_at_jpeg_q1 = float(np.exp(np.interp(jpeg_q1["psnr"], front_psnr, np.log(front_bits))))
print(f"best PCA point: {front_psnr.max():.2f} dB at {front_bits[-1]:.0f} bits "
      f"(k = {front[-1][2]}, step {front[-1][3]}); the VAE's ceiling is {ceiling:.2f} dB")
print(f"JPEG quality 1: {jpeg_q1['psnr']:.2f} dB for {jpeg_q1['payload']:.0f} payload bits; "
      f"PCA: {pca_at_jpeg_q1:.0f} bits")
pca_best_bits = float(np.exp(np.interp(ceiling, front_psnr, np.log(front_bits))))

fig, ax = plt.subplots(figsize=(8, 5))
ax.plot(vae_ideal, vae_psnr, "o-", color="tab:red", label="VAE (16 numbers, nonlinear)")
ax.plot(front_bits, front_psnr, "^-", color="tab:purple",
        label="PCA, same quantiser and tables (best k per rate)")
points = [codecs["JPEG", q] for q in qualities["JPEG"]]
ax.plot([c["payload"] for c in points], [c["psnr"] for c in points], "s-", color="tab:blue",
        label="JPEG payload (optimised tables)")
ax.axhline(ceiling, color="tab:red", lw=0.8, ls="--", label="VAE without quantisation")
ax.set_xscale("log")
ax.set_xlim(2, 3000)
ax.set_xlabel("ideal bits per image (log scale)")
ax.set_ylabel("PSNR (dB)")
ax.set_title("a codec learnt from the data, linear (PCA) or not (VAE)")
ax.legend(fontsize=8)
plt.show()

assert pca_ratio[1] > 1.5 and pca_ratio[0.25] > 1.5          # the VAE's lead at medium rates
assert pca_ratio[max(STEPS)] < 1.3                            # none at the coarsest step
assert front_psnr.max() > ceiling + 1                         # PCA passes the VAE's ceiling
assert pca_at_jpeg_q1 < jpeg_q1["payload"] / 2                # and beats JPEG by far

# %% tags=["hide-input"]
glue("e55_pca_ratio_coarse", pca_ratio[max(STEPS)], display=False)
glue("e55_pca_coarse_step", float(max(STEPS)), display=False)
glue("e55_pca_ratio_1", pca_ratio[1], display=False)
glue("e55_pca_ratio_q", pca_ratio[0.25], display=False)
glue("e55_pca_ratio_fine", pca_ratio[min(STEPS)], display=False)
glue("e55_pca_best", float(front_psnr.max()), display=False)
glue("e55_pca_best_bits", float(front_bits[-1]), display=False)
glue("e55_pca_at_ceiling", pca_best_bits, display=False)
glue("e55_pca_at_jpeg", pca_at_jpeg_q1, display=False)
glue("e55_jpeg_q1_psnr", jpeg_q1["psnr"], display=False)

# %% [markdown]
# What the VAE's advantage is made of:
#
# * **Learning from the data is most of it.** At JPEG's lowest point
#   ({glue:text}`e55_jpeg_q1_psnr:.2f` dB, {glue:text}`e55_jpeg_min:.0f` payload bits), PCA with the
#   page's coder needs {glue:text}`e55_pca_at_jpeg:.0f` bits. A transform learnt from the data beats a
#   generic one by a wide margin, linear or not.
# * **The nonlinearity adds a factor of about two at medium rates.** At $\Delta = 1$ PCA needs
#   {glue:text}`e55_pca_ratio_1:.2f` times the VAE's bits for the same PSNR, at $\Delta = 0.25$
#   {glue:text}`e55_pca_ratio_q:.2f` times. At the coarsest step ($\Delta$ =
#   {glue:text}`e55_pca_coarse_step:g`) the ratio is {glue:text}`e55_pca_ratio_coarse:.2f`: there the
#   VAE has no lead, and at its finest step it is {glue:text}`e55_pca_ratio_fine:.2f`, the VAE's
#   curve flattening against its ceiling.
# * **PCA keeps improving where the VAE stops.** It passes the VAE's ceiling at
#   {glue:text}`e55_pca_at_ceiling:.0f` bits and reaches {glue:text}`e55_pca_best:.1f` dB at
#   {glue:text}`e55_pca_best_bits:.0f` bits with the largest $k$ tried.
#
# Where the VAE **loses**: it saturates at {glue:text}`e55_ceiling:.2f` dB. Finer steps buy nothing once
# the error is the decoder's own blur. JPEG passes that ceiling at {glue:text}`e55_jpeg_at_ceiling:.0f`
# payload bits and goes on to {glue:text}`e55_jpeg_best:.1f` dB; WebP reaches
# {glue:text}`e55_webp_best:.1f` dB. A codec must reproduce *these* pixels, and a 16-dimensional code of
# a Fashion-MNIST garment cannot. Learnt codecs address this by training for the rate–distortion
# objective itself, $\text{rate} + \lambda \cdot \text{distortion}$, one model per $\lambda$ (the β-VAE
# trade-off of 4.4 read as a codec {cite}`alemi2018fixing`), with uniform noise standing in for the
# rounding during training, latent *maps* whose size grows with the image's, and a learnt prior over
# them {cite}`balle2017endtoend,balle2018variational`.
#
# PSNR is not the only thing to measure. The course's Fashion-MNIST classifier (4.5) says whether the
# decoded image still shows the same kind of garment:

# %%
classifier = recipes.classifier(device=dev)


def accuracy(images):
    """Share of images that the classifier assigns to the true class of the originals."""
    feats = metrics.extract_features(classifier, images).to(dev)
    predicted = classifier.head(feats).argmax(1).cpu()
    return (predicted == test.labels[:len(images)]).double().mean().item()


kept = {"original": accuracy(originals)}
kept |= {f"VAE, Δ = {s} ({rd[s]['bits']:.0f} bits)": accuracy(decode_symbols(rd[s]["symbols"], s))
         for s in [2, 1, 0.25]}
kept |= {f"{f} quality {q} ({codecs[f, q]['payload']:.0f} payload bits)":
         accuracy(codecs[f, q]["decoded"]) for f, q in [("JPEG", 1), ("JPEG", 10), ("WEBP", 0)]
         if (f, q) in codecs}
for name, value in kept.items():
    print(f"{name:<42} {value:.1%} classified as the original's class")
vae_at_1 = kept[f"VAE, Δ = 1 ({rd[1]['bits']:.0f} bits)"]
jpeg_at_1 = kept[f"JPEG quality 1 ({codecs['JPEG', 1]['payload']:.0f} payload bits)"]
bits_ratio = codecs["JPEG", 1]["payload"] / rd[1]["bits"]
assert abs(vae_at_1 - jpeg_at_1) < 0.03 and bits_ratio > 5

# %% tags=["hide-input"]
glue("e55_bits_ratio", bits_ratio, display=False)
glue("e55_acc_orig", kept["original"], display=False)
glue("e55_acc_vae1", vae_at_1, display=False)
glue("e55_acc_jpeg1", jpeg_at_1, display=False)
glue("e55_bits_vae1", rd[1]["bits"], display=False)

# %% [markdown]
# With {glue:text}`e55_bits_vae1:.0f` bits ($\Delta = 1$) the VAE's images are classified correctly
# {glue:text}`e55_acc_vae1:.0%` of the time, as often as JPEG's at quality 1
# ({glue:text}`e55_acc_jpeg1:.0%`), which spends {glue:text}`e55_bits_ratio:.0f` times the bits in its
# payload alone (the originals: {glue:text}`e55_acc_orig:.0%`). The picture, on eight test images:

# %%
panel = {"original": originals[:8]}
panel |= {f"VAE Δ={s}\n{rd[s]['bits']:.0f} bits": decode_symbols(rd[s]["symbols"][:8], s)
          for s in [1, 0.25]}
panel |= {f"{f} q={q}\n{codecs[f, q]['payload']:.0f} bits": codecs[f, q]["decoded"][:8]
          for f, q in [("JPEG", 1), ("JPEG", 50), ("WEBP", 0)] if (f, q) in codecs}
plotting.show_grid(data.to_model_space(torch.cat(list(panel.values()))), nrow=8, figsize=8,
                   row_labels=list(panel), title="decoded images (payload bits per image)")
plt.show()

# %% [markdown]
# The VAE's images are smooth garments of the right kind, without their prints and patterns (the logo,
# the checks). JPEG at quality 1 keeps a few cosine coefficients per 8×8 block, and the blocks show.
# WebP at its lowest quality, with more bits, keeps more of the texture. With the rate high enough, the
# classical codecs are simply right, pixel by pixel.
#
# ## Exercises
#
# ### 5.5a Warm-up: entropy
#
# Write `entropy_bits(symbols)`: the empirical entropy, in bits per symbol,
# of a 1-D tensor of integer symbols. Quantised latents are negative as often as positive.

# %%
def entropy_bits(symbols):
    ...  # your code


ch5b.q55a.check(entropy_bits);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def entropy_bits(symbols):
#     _, counts = torch.unique(symbols, return_counts=True)
#     p = counts.double() / counts.sum()
#     return -(p * torch.log2(p)).sum().item()
# ```
# Bits need $\log_2$: with the natural log the same formula gives nats, $\ln 2 \approx 0.69$ times the
# number of bits. `torch.unique` counts only the symbols that occur, so no $0 \cdot \log 0$ appears, and
# it works for negative symbols, which `torch.bincount` refuses.
# :::

# %% tags=["hide-cell"]
def entropy_reference(symbols):
    _, counts = torch.unique(symbols, return_counts=True)
    p = counts.double() / counts.sum()
    return -(p * torch.log2(p)).sum().item()


assert ch5b.q55a.check(entropy_reference, quiet=True)
column = rd[1]["symbols"][:, 0]
assert abs(entropy_reference(column) - stats.entropy(np.unique(column, return_counts=True)[1],
                                                     base=2)) < 1e-12

# %% [markdown]
# ### 5.5b Warm-up: PSNR
#
# Write `psnr_uint8(a, b)`: the PSNR in dB of each pair of uint8 images of shape
# (B, C, H, W), $10 \log_{10}(255^2 / \text{MSE})$ with the MSE over the pixels of one image; shape (B,).

# %%
def psnr_uint8(a, b):
    ...  # your code


ch5b.q55b.check(psnr_uint8);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def psnr_uint8(a, b):
#     mse = ((a.double() - b.double()) ** 2).flatten(1).mean(dim=1)
#     return 10 * torch.log10(255.0**2 / mse)
# ```
# Two traps: uint8 arithmetic wraps around (`3 - 5` is 254 in uint8), so convert before subtracting;
# and the peak is that of the data, 255 for uint8, 1 for images in $[0, 1]$, while for images in
# $[-1, 1]$ the peak-to-peak range 2 plays its role.
# :::

# %% tags=["hide-cell"]
def psnr_reference(a, b):
    mse = ((a.double() - b.double()) ** 2).flatten(1).mean(dim=1)
    return 10 * torch.log10(255.0**2 / mse)


assert ch5b.q55b.check(psnr_reference, quiet=True)
torch.testing.assert_close(psnr_reference(codecs["JPEG", 50]["decoded"], originals),
                           psnr(codecs["JPEG", 50]["decoded"], originals))

# %% [markdown]
# ### 5.5c Predict: the bits of a quantised Gaussian
#
# Suppose a latent coordinate were exactly $\mathcal N(0, 1)$ and were quantised as on the page with step
# $\Delta = 0.25$ (ignore the clipping). How many bits per symbol would an ideal entropy coder need? Write
# down a number before computing; the checker measures the entropy of 200 000 quantised draws.

# %%
answer = ...  # your prediction, bits per symbol

ch5b.q55c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# A bin of width $\Delta$ has probability about $\Delta\, p(s\Delta)$, so
# $H(s) \approx -\sum_s \Delta\, p \log_2(\Delta\, p) = h(z) - \log_2 \Delta$, the differential entropy
# plus the resolution:
# ```python
# answer = 0.5 * math.log2(2 * math.pi * math.e) + math.log2(1 / 0.25)   # 2.05 + 2 bits
# ```
# The same law gave the page's "one more bit per dimension per halving of $\Delta$". The VAE's codes need
# fewer bits than this at the same step: the table above shows how far their distribution is from
# $\mathcal N(0, 1)$.
# :::

# %% tags=["hide-cell"]
answer_solution = entropy_reference(torch.round(torch.randn(100_000, generator=torch.Generator()
                                                            .manual_seed(5)) / 0.25).long())
assert ch5b.q55c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 5.5d Debug: a codec that miscounts its bits
#
# This function should return the ideal code length in bits, $-\sum \log_2 P(s)$, of a message (a 1-D
# tensor of symbols in $-M..M$), with $P$ estimated from the training symbols with one added to every
# count, as the page's tables are. It reports the wrong unit, and for some messages it reports infinitely
# many bits. Repair it.

# %%
def code_length(message, train_symbols, M):
    counts = torch.zeros(2 * M + 1).scatter_add_(0, train_symbols + M,
                                                 torch.ones(len(train_symbols)))
    p = counts / counts.sum()
    return -torch.log(p[message + M]).sum()


ch5b.q55d.check(code_length);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def code_length(message, train_symbols, M):
#     counts = torch.ones(2 * M + 1, dtype=torch.float64)          # one added to every count
#     counts.scatter_add_(0, train_symbols + M, torch.ones(len(train_symbols), dtype=torch.float64))
#     return -torch.log2(counts[message + M] / counts.sum()).sum()   # bits
# ```
# Two bugs: `torch.log` counts nats (1 nat = 1.44 bits), and a symbol that never occurred in training gets
# probability 0, so $-\log_2 0 = \infty$: an arithmetic coder could not code that message at all. The
# added one gives every symbol a little probability, at a small cost to the frequent ones.
# :::

# %% tags=["hide-cell"]
def code_length_solution(message, train_symbols, M):
    counts = frequency_tables(train_symbols[:, None], M)[0]
    return ideal_bits(message[:, None], counts[None], M).sum()


assert ch5b.q55d.check(code_length_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * A lossy codec is a transform, a quantiser and an entropy coder; a VAE supplies the first and, with a
#   table of code frequencies, the model the third needs.
# * The ideal code length $\sum_j -\log_2 P_j(s_j)$ is reachable: an arithmetic coder stays within
#   2 bits of it per image and decodes exactly; generic compressors without the model need more.
# * On Fashion-MNIST the shipped VAE codes an image in {glue:text}`e55_vae_min_bits:.0f` to
#   {glue:text}`e55_vae_max_bits:.0f` bits, where JPEG's payload alone (with optimised tables) needs
#   {glue:text}`e55_jpeg_ratio_min:.1f`–{glue:text}`e55_jpeg_ratio_max:.1f` times more for the same
#   PSNR. Most of that gap is *learning from the data*: PCA with the page's own quantiser and coder
#   closes most of it, and the VAE's nonlinearity is worth about a factor of two at medium rates
#   ({glue:text}`e55_pca_ratio_1:.1f` at $\Delta = 1$), nothing at the coarsest step.
# * The VAE saturates at the PSNR of its own reconstructions ({glue:text}`e55_ceiling:.1f` dB), while
#   PCA reaches {glue:text}`e55_pca_best:.1f` dB and JPEG {glue:text}`e55_jpeg_best:.0f` dB: a VAE
#   trained for the ELBO is a low-rate codec of the garment, not of the pixels. Always compare a learnt
#   codec with a classical one that learnt from the same data.
