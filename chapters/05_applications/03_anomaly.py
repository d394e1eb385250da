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
# # 5.3 Anomaly detection

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("03_anomaly")

# %% [markdown]
# Screening is a search for the rare case. A clinic sees thousands of normal scans for every abnormal one,
# and the abnormal ones differ from each other: a detector cannot be shown every disease it should catch.
# **Anomaly detection** (异常检测) turns the problem around: learn what *normal* looks like, and flag what
# does not fit. A generative model is one way to learn it. Schlegl et al. trained a GAN on retinal scans
# of healthy eyes and flagged the scans it could not reproduce {cite}`schlegl2017anogan`; An and Cho scored
# images by a VAE's reconstruction probability {cite}`an2015variational`. The pattern is always the same:
#
# 1. train on normal data only;
# 2. give every new image a **score** (a low likelihood, a poor reconstruction);
# 3. flag it when the score passes a threshold, chosen to keep false alarms on normal images rare.
#
# We have no medical images here, so Fashion-MNIST {cite}`xiao2017fashion` stands in: eight classes are
# "normal", and two classes the model never sees, **sandals** and **bags**, play the abnormal cases. The
# numbers below are about clothes, not patients; what carries over is the method and its pitfalls. The
# page measures:
#
# 1. three scores from a VAE: the negative ELBO, the negative IWAE bound and the reconstruction error;
#    and a baseline in pixel space, the distance to the nearest training image;
# 2. the **ROC curve** and its area, the **ROC-AUC**, for each score and each held-out class, plus the
#    sensitivity at a fixed specificity, the number a screening programme reports;
# 3. a known failure: a likelihood model can give *higher* likelihood to images of a kind it never saw
#    {cite}`nalisnick2019deep`. It happens here; we measure its mundane cause (the noise that the
#    binarisation injects), a complexity correction {cite}`serra2020input`, and the trivial baselines
#    (an ink count, a compressor alone) that any such score must beat, with 95% intervals.

# %%
import math
import zlib

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from sklearn import metrics as skm

import aigc_course as ac
from aigc_course import data, losses, plotting, recipes
from aigc_course.exercises import ch5b
from aigc_course.plotting import glue
from aigc_course.train import train_vae

ac.set_seed(0)
ac.runtime.set_threads(1)  # small batches on the CPU: one thread is fastest
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
STEPS = 800 if QUICK else 10_000        # training steps of the VAE on normal images
N_NORMAL = 2000 if QUICK else 8000      # normal test images (the held-out classes have 1000 each)
N_REF = 20_000 if QUICK else 48_000     # normal training images the pixel baseline searches
K = 20 if QUICK else 200                # importance samples of the IWAE bound
train, test = data.fashion_mnist("train"), data.fashion_mnist("test")

# %% [markdown]
# ## Normal and abnormal images
#
# The training set keeps the 48 000 images of the eight normal classes. The test set holds
# {glue:text}`e53_n_normal:,` normal test images, drawn at random, and all 1 000 test sandals and 1 000
# test bags. Sandals were chosen because their
# neighbours, sneakers and ankle boots, stay in the normal set (a subtle anomaly), bags because nothing
# like them does (an obvious one).
#
# The model will be a VAE with a **Bernoulli decoder**, and 3.4 showed that a Bernoulli distribution is a
# likelihood only for binary pixels. So every image is **binarised** (二值化): each pixel becomes 1 with
# probability equal to its grey level, afresh in every training batch (`TensorLoader(binarize=True)`) and
# once, with a fixed seed, for the test set (`data.binarize`). Then the ELBO and the IWAE bound are bounds
# on a real log-likelihood $\log p(x)$ of the binary test images, in nats, and not the cross-entropy
# score that grey levels would give.

# %%
HELD_OUT = {"Sandal": 5, "Bag": 8}
held = torch.tensor(list(HELD_OUT.values()))
normal_train = train.images[~torch.isin(train.labels, held)]                  # (48000, 1, 28, 28)
gen = torch.Generator().manual_seed(0)
normal_idx = torch.where(~torch.isin(test.labels, held))[0]
normal_idx = normal_idx[torch.randperm(len(normal_idx), generator=gen)[:N_NORMAL]]
groups = {"normal": normal_idx} | {name: torch.where(test.labels == c)[0]
                                   for name, c in HELD_OUT.items()}
test_idx = torch.cat(list(groups.values()))
group_of = torch.cat([torch.full((len(i),), g) for g, i in enumerate(groups.values())])
grey = test.images[test_idx]                                                  # uint8 grey levels
binary = data.binarize(grey, seed=1)                                          # uint8, 0 or 255
print({name: len(i) for name, i in groups.items()}, "test images;",
      f"{len(normal_train)} normal training images")
assert len(normal_train) == 48_000 and len(groups["Sandal"]) == len(groups["Bag"]) == 1000

fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, name in zip(axes, groups):
    shown = binary[group_of == list(groups).index(name)][:16]
    plotting.show_grid(data.to_model_space(shown), nrow=8, ax=ax, title=f"{name} (binarised)")
plt.show()

# %% tags=["hide-input"]
glue("e53_n_normal", N_NORMAL, display=False)

# %% [markdown]
# ## A VAE of normal images
#
# The model follows the one-stochastic-layer design of Burda et al. {cite}`burda2016iwae` ($z \in \mathbb
# R^{50}$, two deterministic hidden layers; theirs had 200 tanh units, the course's recipe
# `vae-binarized-fashion` widens them to 512). The
# shipped weights of the course's VAEs saw all ten classes, so they are of no use here: we train a fresh
# model on the normal classes with the package's trainer (`train_vae`, which minimises the negative ELBO).
# This run trains {glue:text}`e53_steps` steps: the quick profile's short run learns the coarse shapes,
# the full profile trains much longer.

# %%
recipe = recipes.get_recipe("vae-binarized-fashion")
cfg = recipe.config().replace(steps=STEPS, log_every=25, sample_every=0, ckpt_every=0)
ac.set_seed(cfg.seed)
vae = recipe.build()["model"].to(dev)
loader = data.TensorLoader(normal_train, batch_size=cfg.batch_size, seed=cfg.seed, device=dev,
                           binarize=True)
result = train_vae(vae, loader, cfg, progress=False)
vae.eval()
plotting.plot_history(result.history, names=["loss"], smooth=4, ylabel="negative ELBO (nats)",
                      title=f"training on the 8 normal classes ({STEPS} steps)")
plt.show()
first, last = result.history.as_arrays("loss")[1][[0, -1]]
print(f"negative ELBO per training batch: {first:.1f} nats at the start, {last:.1f} at the end")

# %% tags=["hide-input"]
glue("e53_steps", STEPS, display=False)


# %% [markdown]
# ## The scores
#
# A score $s(x)$ is large for images that look abnormal. Three come from the VAE, one from the pixels:
#
# * **negative ELBO**: $-\frac1K\sum_k \log w_k$, with the importance log-weights
#   $\log w_k = \log p(x \mid z_k) + \log p(z_k) - \log q(z_k \mid x)$, $z_k \sim q(z \mid x)$ (3.1);
# * **negative IWAE bound**: $-\mathcal L_K = -\log \frac1K \sum_k w_k$, a tighter upper bound on the
#   negative log-likelihood $-\log p(x)$ (3.4), in expectation: one draw can fall below it;
# * **reconstruction error**: $\lVert x - \mathbb E[x \mid z = \mu(x)] \rVert^2$, the squared distance
#   between the binary image and the decoder's mean image at the encoder's mean (AnoGAN's residual
#   score is of this kind, with an L1 distance and a search for the best $z$);
# * **pixel baseline**: the Euclidean distance from the test image to its nearest neighbour among
#   {glue:text}`e53_n_ref:,` normal training images. No model at all: if the VAE cannot beat this, it has
#   learnt nothing a look-up table would not give. We compute it twice: on the same binarised pixels
#   the VAE scores, and on the original grey levels, which the binarisation throws away.
#
# First the log-weights, written out in a few lines and checked against the package's
# `vae.log_weights` on the same random draws:

# %%
def log_weights(model, x, K, generator):
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for binary x in {-1, 1}: shape (K, B)."""
    mu, logvar = model.encode(x)                                         # (B, Z) each
    eps = torch.randn(K, *mu.shape, generator=generator).to(mu.device)  # (K, B, Z)
    z = mu + torch.exp(0.5 * logvar) * eps                               # (K, B, Z)
    logits = model.decode(z.flatten(0, 1)).unflatten(0, (K, len(x)))     # (K, B, 1, 28, 28)
    x01 = ((x + 1) / 2).expand_as(logits)                                # pixels in {0, 1}
    log_px_z = -F.binary_cross_entropy_with_logits(logits, x01, reduction="none").flatten(2).sum(2)
    log_pz = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(2)                 # (K, B)
    log_qz = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(2)
    return log_px_z + log_pz - log_qz


with torch.no_grad():
    x8 = data.to_model_space(binary[:8]).to(dev)
    mine = log_weights(vae, x8, 5, torch.Generator().manual_seed(1))
    package = vae.log_weights(x8, 5, torch.Generator().manual_seed(1))
torch.testing.assert_close(mine, package, rtol=1e-5, atol=1e-3)
print("log-weights (K=5) of the first test image:", [f"{v:.1f}" for v in mine[:, 0].tolist()])

# %%
@torch.no_grad()
def vae_scores(model, images, K, seed=0):
    """Negative ELBO, negative IWAE bound (nats), reconstruction error of binary uint8 images."""
    gen, out = torch.Generator().manual_seed(seed), []
    for start in range(0, len(images), max(1, 4000 // K)):
        x = data.to_model_space(images[start:start + max(1, 4000 // K)]).to(dev)  # (B, 1, 28, 28)
        lw = log_weights(model, x, K, gen)                                        # (K, B)
        mean_image = torch.sigmoid(model.decode(model.encode(x)[0]))              # (B, 1, 28, 28)
        recon = ((mean_image - (x + 1) / 2) ** 2).flatten(1).sum(1)               # (B,)
        out.append(torch.stack([-lw.mean(0), -losses.iwae_bound(lw), recon], 1).cpu())
    return torch.cat(out).T                                                       # (3, N)


def nearest_distance(queries, references, chunk=2000):
    """Euclidean distance (pixels in [0, 1]) from each query image to its nearest reference."""
    refs = (references.flatten(1).float() / 255).to(dev)                          # (M, 784)
    return torch.cat([torch.cdist((q.flatten(1).float() / 255).to(dev), refs).min(1).values.cpu()
                      for q in queries.split(chunk)])


neg_elbo, neg_iwae, recon_error = vae_scores(vae, binary, K)
reference = normal_train[torch.randperm(len(normal_train), generator=gen)[:N_REF]]
scores = {"negative ELBO": neg_elbo, "negative IWAE bound": neg_iwae,
          "reconstruction error": recon_error,
          "pixel baseline, binarised": nearest_distance(binary, data.binarize(reference, seed=2)),
          "pixel baseline, grey levels": nearest_distance(grey, reference)}
SHORT = dict(zip(scores, ["elbo", "iwae", "recon", "pixbin", "pixgrey"]))   # names for glue

# the simplest likelihood model of binary images: independent pixels with the training frequencies
p_pixel = data.binarize(normal_train, seed=3).float().mean(0).div(255).clamp(1e-4, 1 - 1e-4)
x01 = binary.float() / 255                                                    # (N, 1, 28, 28)
nll_pixels = -(x01 * p_pixel.log() + (1 - x01) * (1 - p_pixel).log()).flatten(1).sum(1)
normal = group_of == 0
print(f"normal test images: -log p(x) <= {neg_iwae[normal].mean():.1f} nats (VAE, IWAE bound), "
      f"{nll_pixels[normal].mean():.1f} nats (independent pixels)")
assert neg_iwae[normal].mean() < nll_pixels[normal].mean() - 50
gap = neg_elbo - neg_iwae
print(f"IWAE bound tighter than the ELBO estimate by {gap.mean():.2f} nats on average (K = {K})")
assert gap.mean() > 0.1

# %% tags=["hide-input"]
glue("e53_nll_vae", neg_iwae[normal].mean().item(), display=False)
glue("e53_nll_pixels", nll_pixels[normal].mean().item(), display=False)
glue("e53_n_ref", N_REF, display=False)
glue("e53_iwae_gap", gap.mean().item(), display=False)


# %% [markdown]
# The IWAE bound lies above the ELBO estimate by {glue:text}`e53_iwae_gap:.1f` nats on average (for the
# same $K$ draws it cannot lie below: Jensen's inequality, 3.4). And the model has learnt the normal images: it needs
# {glue:text}`e53_nll_vae:.1f` nats per normal test image (an upper bound in expectation), against
# {glue:text}`e53_nll_pixels:.1f` for the simplest likelihood model of binary images, independent
# pixels with the training set's frequencies.
#
# ## ROC curves and the area under them
#
# Flag an image when $s(x) > t$. For a threshold $t$, the **sensitivity** (灵敏度, true-positive rate,
# TPR) is the share of abnormal images flagged, and the **false-positive rate** (假阳性率, FPR) the share
# of normal images flagged; $1 - \text{FPR}$ is the **specificity** (特异度). Lowering $t$ trades one for
# the other, and the curve of $(\text{FPR}(t), \text{TPR}(t))$ over all thresholds is the **ROC curve**
# (受试者工作特征曲线) {cite}`fawcett2006introduction`. The area under it, **ROC-AUC** (ROC 曲线下面积),
# summarises it with a probability {cite}`hanley1982meaning`:
#
# $$ \mathrm{AUC} = P\big(s(x_{\text{abnormal}}) > s(x_{\text{normal}})\big)
#    + \tfrac12\,P\big(s(x_{\text{abnormal}}) = s(x_{\text{normal}})\big), $$
#
# for an abnormal and a normal image drawn at random. A score that ignores the image gets 0.5; a perfect
# one 1. Counting the pairs in this way is the Mann–Whitney rank statistic, so the AUC follows from the
# ranks of the scores:
# $\mathrm{AUC} = \big(R_+ - n_+(n_+ + 1)/2\big) / (n_+ n_-)$, with $R_+$ the sum of the abnormal images'
# ranks among all $n_+ + n_-$ scores (tied scores share their average rank). Below, the ROC curve is
# computed by sorting, its area by the trapezoid rule, the AUC by ranks, and all three are checked against
# scikit-learn. (Swapping the labels gives $1 - \mathrm{AUC}$, the commonest slip; the checker of
# exercise 5.3a names it.)

# %%
def roc_points(scores, labels):
    """ROC curve (FPR, TPR) of 'flag if score >= t' over all distinct thresholds, from (0, 0)."""
    s, order = scores.double().sort(descending=True)
    y = labels[order].double()
    tp, fp = y.cumsum(0), (1 - y).cumsum(0)              # flagged abnormal / normal images
    last = torch.cat([s[1:] != s[:-1], torch.tensor([True])])  # the last of each tie group
    zero = torch.zeros(1, dtype=torch.float64)
    return torch.cat([zero, fp[last] / fp[-1]]), torch.cat([zero, tp[last] / tp[-1]])


def auc_by_ranks(scores, labels):
    """P(s(abnormal) > s(normal)) + P(tie) / 2 from the Mann-Whitney rank sum."""
    ranks = torch.from_numpy(stats.rankdata(scores.numpy()))   # 1..n, ties share the average
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    return ((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


def sensitivity_at(scores, labels, specificity=0.95):
    """Share of abnormal images above the threshold that flags 1 - specificity of normal ones."""
    threshold = torch.quantile(scores[labels == 0].double(), specificity)
    return (scores[labels == 1] > threshold).double().mean().item()


def bootstrap_aucs(score_list, labels, n_boot=200, seed=0):
    """AUCs of several scores on the same n_boot resamples (normal and abnormal images resampled
    separately): a (n_boot, len(score_list)) tensor, for 95% intervals over the test images."""
    gen = torch.Generator().manual_seed(seed)
    pos, neg = torch.where(labels == 1)[0], torch.where(labels == 0)[0]
    out = torch.zeros(n_boot, len(score_list), dtype=torch.float64)
    for b in range(n_boot):
        i = torch.cat([pos[torch.randint(len(pos), (len(pos),), generator=gen)],
                       neg[torch.randint(len(neg), (len(neg),), generator=gen)]])
        for k, s in enumerate(score_list):
            out[b, k] = auc_by_ranks(s[i], labels[i])
    return out


keep_of = {cls: (group_of == 0) | (test.labels[test_idx] == c) for cls, c in HELD_OUT.items()}
y_of = {cls: (group_of[keep_of[cls]] > 0).long() for cls in HELD_OUT}
auc, sens, curves = {}, {}, {}
for name, s in scores.items():
    for cls, c in HELD_OUT.items():
        keep = (group_of == 0) | (test.labels[test_idx] == c)
        y = (group_of[keep] > 0).long()                  # 1 = abnormal (held-out class)
        fpr, tpr = roc_points(s[keep], y)
        auc[name, cls] = auc_by_ranks(s[keep], y)
        sens[name, cls] = sensitivity_at(s[keep], y)
        curves[name, cls] = (fpr, tpr)
        sk_fpr, sk_tpr, _ = skm.roc_curve(y, s[keep].double(), drop_intermediate=False)
        np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
        np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
        assert abs(torch.trapezoid(tpr, fpr).item() - auc[name, cls]) < 1e-12
        assert abs(skm.roc_auc_score(y, s[keep]) - auc[name, cls]) < 1e-12

print(f"{'score':<36}" + "".join(f"{'AUC ' + c:>12}{'sens@95% ' + c:>17}" for c in HELD_OUT))
for name in scores:
    print(f"{name:<36}"
          + "".join(f"{auc[name, c]:>12.3f}{sens[name, c]:>17.3f}" for c in HELD_OUT))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax, cls in zip(axes, HELD_OUT):
    for name in scores:
        fpr, tpr = curves[name, cls]
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc[name, cls]:.2f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance (AUC 0.5)")
    ax.axvline(0.05, color="grey", lw=0.8)
    ax.set_xlabel("false-positive rate (1 − specificity)")
    ax.set_ylabel("sensitivity (true-positive rate)")
    ax.set_title(f"ROC: normal test images vs held-out {cls.lower()}s")
    ax.legend(fontsize=8, loc="lower right")
plt.show()
# the claims of the text below
by_short = {SHORT[name]: name for name in scores}
vae_score_names = [by_short[k] for k in ("elbo", "iwae", "recon")]
assert all(auc[name, "Bag"] > 0.8 for name in scores)                          # bags: every score
assert all(auc[name, "Sandal"] < 0.5 for name in vae_score_names)            # sandals: missed
# 95% intervals over the test images (one VAE training run): the differences the text names
names_all, pix_gap, half_max = list(scores), {}, {}
for cls in HELD_OUT:
    boot = bootstrap_aucs([s[keep_of[cls]] for s in scores.values()], y_of[cls])   # (B, 5)
    best = max(vae_score_names, key=lambda n: auc[n, cls])
    for short in ("pixbin", "pixgrey"):
        d = boot[:, names_all.index(by_short[short])] - boot[:, names_all.index(best)]
        pix_gap[short, cls] = d.quantile(torch.tensor([0.025, 0.975], dtype=torch.float64))
    half = (boot.quantile(0.975, dim=0) - boot.quantile(0.025, dim=0)) / 2
    half_max[cls] = half.max().item()
    print(f"{cls}: 95% intervals of the AUCs are +-{half.min():.3f} to +-{half.max():.3f}; "
          f"pixel baseline minus best VAE score: binarised [{pix_gap['pixbin', cls][0]:+.3f}, "
          f"{pix_gap['pixbin', cls][1]:+.3f}], grey [{pix_gap['pixgrey', cls][0]:+.3f}, "
          f"{pix_gap['pixgrey', cls][1]:+.3f}]")
    assert pix_gap["pixbin", cls][0] < 0      # binarised pixels: not resolved above the VAE
    assert pix_gap["pixgrey", cls][0] > 0     # grey levels: resolved above every VAE score


# %% tags=["hide-input"]
for cls, value in half_max.items():
    glue(f"e53_hw_max_{cls.lower()}", value, display=False)
# %% tags=["hide-input"]
for (name, cls), value in auc.items():
    glue(f"e53_auc_{SHORT[name]}_{cls.lower()}", value, display=False)
    glue(f"e53_sens_{SHORT[name]}_{cls.lower()}", sens[name, cls], display=False)

# %% [markdown]
# Read the table by class. Each AUC is one VAE training run ({glue:text}`e53_steps` steps) on one
# binarisation of the test images; the printed 95% intervals (a bootstrap over the test images, at most
# ±{glue:text}`e53_hw_max_sandal:.3f` on sandals and ±{glue:text}`e53_hw_max_bag:.3f` on bags) say
# which differences the test set resolves, not how much another training run would move them.
#
# * **Bags**, unlike anything in training, are ranked above the normal images by every score (every AUC
#   above 0.8): the IWAE bound reaches an AUC of
#   {glue:text}`e53_auc_iwae_bag:.3f`, the reconstruction error {glue:text}`e53_auc_recon_bag:.3f`.
# * **Sandals** are *missed* by every VAE score: the AUC of the IWAE bound is
#   {glue:text}`e53_auc_iwae_sandal:.3f`, below the 0.5 of a coin toss. The model finds sandals *more*
#   probable than the normal test images it was trained to describe. The next section looks into this.
# * The **pixel baseline** on the same binarised pixels, a nearest-neighbour search with no model, is
#   not resolved above the best VAE score (AUC {glue:text}`e53_auc_pixbin_sandal:.3f` on sandals,
#   {glue:text}`e53_auc_pixbin_bag:.3f` on bags). On the **grey levels** it beats every VAE score on
#   both classes ({glue:text}`e53_auc_pixgrey_sandal:.3f` and {glue:text}`e53_auc_pixgrey_bag:.3f`).
#   The binarisation that makes the likelihood a real one also throws away most of what tells a
#   sandal's straps from a sneaker: a real likelihood and a good detector are different goals. Report
#   such a baseline; without it, the VAE's AUC of {glue:text}`e53_auc_elbo_bag:.2f` on bags looks like an
#   achievement.
# * ELBO and IWAE bound rank the images almost identically; the tighter bound buys nothing here.
#
# A screening programme fixes the false alarms it can afford, say 5% of normal images (specificity 95%,
# the grey line), and reports the sensitivity there: at that point the IWAE bound flags
# {glue:text}`e53_sens_iwae_bag:.0%` of the bags and {glue:text}`e53_sens_iwae_sandal:.0%` of the
# sandals, the grey-level baseline {glue:text}`e53_sens_pixgrey_bag:.0%` and
# {glue:text}`e53_sens_pixgrey_sandal:.0%`.
# The AUC averages over all thresholds, most of which no programme would use; the sensitivity at the
# working point is the number that matters to a patient.

# %%
names = list(scores)
vae_names, pix_binary, pix_grey = names[:3], names[3], names[4]
assert all(auc[n, "Bag"] > 0.75 for n in names)
assert all(auc[n, "Sandal"] < 0.5 for n in vae_names)
assert all(pix_gap["pixbin", c][0] < 0 < pix_gap["pixgrey", c][0] for c in HELD_OUT)
assert all(abs(auc[names[0], c] - auc[names[1], c]) < 0.02 for c in HELD_OUT)

# %% [markdown]
# ## Do deep generative models know what they don't know?
#
# Nalisnick et al. {cite}`nalisnick2019deep` trained flows, VAEs and PixelCNNs on Fashion-MNIST and found
# that they gave MNIST digits, never seen in training, a *higher* likelihood than Fashion-MNIST test
# images; the same for CIFAR-10 against SVHN. We have just seen the same within Fashion-MNIST. The
# log-likelihood bounds per group, and one more "image", a completely black one:

# %%
log_p = -neg_iwae                                                  # lower bound on log p(x)
lit = (binary > 0).flatten(1).sum(1)                                       # lit pixels per image
for g, name in enumerate(groups):
    m = group_of == g
    print(f"{name:<7} log p(x) >= {log_p[m].mean():7.1f} nats on average "
          f"({-log_p[m].mean() / (784 * math.log(2)):.3f} bits/dim), {lit[m].float().mean():5.1f} "
          "lit pixels")
black_log_p = -vae_scores(vae, torch.zeros(1, 1, 28, 28, dtype=torch.uint8), K)[1, 0].item()
normal_log_p, sandal_log_p = log_p[group_of == 0], log_p[group_of == 1]
share_above = (sandal_log_p > normal_log_p.median()).double().mean().item()
print(f"black image: log p(x) >= {black_log_p:.1f} nats; the most probable normal test image: "
      f"{normal_log_p.max():.1f}")
print(f"sandals above the median normal image: {share_above:.0%}")
assert sandal_log_p.mean() > normal_log_p.mean() and share_above > 0.5
assert black_log_p > normal_log_p.max()

# %% tags=["hide-input"]
glue("e53_sandal_logp", sandal_log_p.mean().item(), display=False)
glue("e53_normal_logp", normal_log_p.mean().item(), display=False)
glue("e53_share_above", share_above, display=False)
glue("e53_black_logp", black_log_p, display=False)
glue("e53_normal_max", normal_log_p.max().item(), display=False)

# %% [markdown]
# On average the sandals get a bound of {glue:text}`e53_sandal_logp:.1f` nats, the normal test images
# {glue:text}`e53_normal_logp:.1f`; {glue:text}`e53_share_above:.0%` of the sandals lie above the median
# normal image. An all-black image, which is no garment at all, gets {glue:text}`e53_black_logp:.1f` nats,
# far above the most probable normal test image ({glue:text}`e53_normal_max:.1f`).
#
# ### First suspect: the binarisation's noise floor
#
# Before blaming "structure" or "typicality", measure the mundane cause. Every test image was binarised
# by coin flips: pixel $i$ is 1 with probability $g_i$, its grey level over 255. Those coin flips carry
# an entropy that no model can predict away. For *any* model $p$, Gibbs' inequality gives
#
# $$ \mathbb E_{x \sim \text{Bern}(g)}\big[-\log p(x)\big] \;\ge\; H_{\text{bin}}(g)
#    = -\sum_i \big[g_i \log g_i + (1 - g_i) \log (1 - g_i)\big] \text{ nats}, $$
#
# with equality only for the model that knows $g$ exactly. A grey pixel ($g_i = \tfrac12$) costs up to
# $\log 2$ nats of pure noise; a black or white one nothing. The floor is known at test time (the grey
# image is), so we can compute it per image, check it by Monte Carlo, and see how much of the NLL it is:

# %%
p_grey = grey.double().flatten(1) / 255                                # (N, 784) Bernoulli means
h_bin = -(torch.xlogy(p_grey, p_grey) + torch.xlogy(1 - p_grey, 1 - p_grey)).sum(1)   # nats
# Monte Carlo: the true Bernoulli model's NLL, averaged over 20 fresh binarisations of 50 images
draws = torch.stack([data.binarize(grey[:50], seed=100 + r) for r in range(20)]).double() / 255
true_nll = -(torch.xlogy(draws, p_grey[:50].view(1, 50, 1, 28, 28))
             + torch.xlogy(1 - draws, 1 - p_grey[:50].view(1, 50, 1, 28, 28))).flatten(2).sum(2)
torch.testing.assert_close(true_nll.mean(0), h_bin[:50], rtol=0.1, atol=5.0)   # per image
assert abs(true_nll.mean() - h_bin[:50].mean()) < 1.0                           # on average
floor = {name: h_bin[group_of == g].mean().item() for g, name in enumerate(groups)}
nll = {name: neg_iwae[group_of == g].mean().item() for g, name in enumerate(groups)}
print(f"{'group':<8}{'-log p(x) (IWAE)':>18}{'floor H_bin':>13}{'excess':>9}")
for name in groups:
    print(f"{name:<8}{nll[name]:>15.1f}   {floor[name]:>10.1f}{nll[name] - floor[name]:>10.1f}")
share_floor = floor["normal"] / nll["normal"]
gap_nll, gap_floor = nll["normal"] - nll["Sandal"], floor["normal"] - floor["Sandal"]
print(f"the floor is {share_floor:.0%} of the normal images' NLL, and {gap_floor / gap_nll:.0%} "
      "of the NLL gap between normal images and sandals")
assert share_floor > 0.6 and gap_floor > gap_nll > 0      # the floor explains the whole gap
assert nll["Sandal"] - floor["Sandal"] > nll["normal"] - floor["normal"]

# %% tags=["hide-input"]
for name in groups:
    glue(f"e53_floor_{name.lower()}", floor[name], display=False)
    glue(f"e53_excess_{name.lower()}", nll[name] - floor[name], display=False)
glue("e53_share_floor", share_floor, display=False)
glue("e53_gap_nll", gap_nll, display=False)
glue("e53_gap_floor", gap_floor, display=False)
glue("e53_gap_share", gap_floor / gap_nll, display=False)


# %% [markdown]
# The floor is {glue:text}`e53_share_floor:.0%` of a normal image's NLL: most of the nats the model
# "pays" are the coin flips we injected. And the floor differs by class: sandals, a few straps on a black
# background, have {glue:text}`e53_floor_sandal:.1f` nats of coin-flip entropy on average, normal images
# {glue:text}`e53_floor_normal:.1f`, bags {glue:text}`e53_floor_bag:.1f`. Sandals look more probable
# than normal images by {glue:text}`e53_gap_nll:.1f` nats; their floor is lower by
# {glue:text}`e53_gap_floor:.1f`, more than the whole gap. Above the floor the order is the right one:
# the **excess** $-\log p(x) - H_{\text{bin}}(g)$ is {glue:text}`e53_excess_normal:.1f` nats for normal
# images, {glue:text}`e53_excess_sandal:.1f` for sandals and {glue:text}`e53_excess_bag:.1f` for bags.
# So the inversion on this page is built in before any model is trained: it is a property of the
# binarisation, which 8-bit images (where Nalisnick et al. saw the effect) do not have. The effect has
# other sources too, and on other data they dominate: image complexity, measured next, and
# *typicality*, measured nowhere on this page (Nalisnick et al. later proposed a two-sided test that
# also flags likelihoods that are *too high* for a typical sample; Choi et al. use the spread of an
# ensemble's likelihoods; Ren et al. 2019 subtract the likelihood of a background model trained on
# perturbed images, on precisely Fashion-MNIST against MNIST).
#
# ### Second suspect: how much there is to describe
#
# Even without injected noise, an image with more structure costs more bits *whatever model describes
# it*. Serrà et al. {cite}`serra2020input` measure
# that structure, the **input complexity** (输入复杂度), with a generic lossless compressor: let $L(x)$
# be the length in bits of $x$ compressed by a compressor that knows nothing of clothes, here `zlib`
# (DEFLATE, the compressor inside PNG) applied to the 784 bits of the binary image. Plot the likelihood
# against it:

# %%
def zlib_bits(images):
    """Length in bits of each binary uint8 image packed to 98 bytes and compressed by zlib."""
    return torch.tensor([8 * len(zlib.compress(np.packbits(x.numpy() > 0).tobytes(), 9))
                         for x in images], dtype=torch.float64)


L_x = zlib_bits(binary)
stored = 8 * len(zlib.compress(np.random.default_rng(0).bytes(98), 9))  # 98 incompressible bytes
at_cap = (L_x[group_of == 0] >= stored).double().mean().item()
assert L_x.max() == stored
rho = {name: stats.spearmanr(log_p[group_of == g], L_x[group_of == g]).statistic
       for g, name in enumerate(groups)} | {"all": stats.spearmanr(log_p, L_x).statistic}
print("Spearman correlation of log p(x) with L(x):",
      ", ".join(f"{name} {r:.2f}" for name, r in rho.items()))
assert rho["all"] < -0.5 and rho["normal"] < -0.6 and rho["Sandal"] < -0.8
rho_floor = stats.spearmanr(h_bin, L_x).statistic
print(f"Spearman correlation of the binarisation floor H_bin with L(x): {rho_floor:.2f}")
assert rho_floor > 0.5

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for g, name in enumerate(groups):
    m = group_of == g
    ax.scatter(L_x[m], log_p[m], s=3, alpha=0.5, label=name)
ax.set_xlabel("L(x): zlib length of the binary image (bits)")
ax.set_ylabel("IWAE lower bound on log p(x) (nats)")
ax.set_title("simple images are probable images")
ax.legend(markerscale=4)
plt.show()

# %% tags=["hide-input"]
glue("e53_stored", stored, display=False)
glue("e53_at_cap", at_cap, display=False)
for name, r in rho.items():
    glue(f"e53_rho_{name.lower()}", float(r), display=False)
glue("e53_rho_floor", float(rho_floor), display=False)

# %% [markdown]
# The likelihood falls as the complexity grows: Spearman correlation {glue:text}`e53_rho_all:.2f` over
# all test images, {glue:text}`e53_rho_normal:.2f` among the normal ones and
# {glue:text}`e53_rho_sandal:.2f` among the sandals. (The wall on the right is zlib giving up:
# {glue:text}`e53_at_cap:.0%` of the normal images are too dense for it, and it stores them as they are,
# in {glue:text}`e53_stored` bits.) A sandal is a few straps on a black background:
# little to describe, few nats to pay, whatever its shape. The likelihood measures how much there is to
# describe at least as much as whether the image belongs to the data. On this page much of "how much
# there is to describe" is the injected coin-flip noise of the previous section: $L(x)$ of a binarised
# image grows with it too (Spearman {glue:text}`e53_rho_floor:.2f` between $H_{\text{bin}}$ and $L(x)$).
#
# ### A correction for complexity
#
# Serrà et al.'s score subtracts the generic code length from the model's:
#
# $$ S(x) = -\log_2 p(x) - L(x), $$
#
# how many more bits the model needs than a general-purpose code. Both terms grow with the structure of
# the image, and the difference keeps what is specific to the data. Here $-\log_2 p(x)$ is the IWAE bound
# in bits. 5.5 uses the same idea the other way round: a good model of the data *is* a good compressor.

# %%
corrected = neg_iwae / math.log(2) - L_x
complexity = {          # large = abnormal; the first three use no model at all
    "ink: -(lit pixels)": -lit.double(),
    "-L(x), zlib alone": -L_x,
    "floor: -H_bin(g)": -h_bin,
    "-log p(x) (IWAE bound)": neg_iwae.double(),
    "S(x) = -log2 p(x) - L(x)": corrected.double(),
    "excess: -log p(x) - H_bin(g)": neg_iwae.double() - h_bin,
    "pixel baseline, grey levels": scores["pixel baseline, grey levels"].double(),
}
CSHORT = dict(zip(complexity, ["ink", "zlib", "floor", "nll", "cc", "excess", "pixgrey"]))
boot_c = {}
for cls, c in HELD_OUT.items():
    keep = (group_of == 0) | (test.labels[test_idx] == c)
    y = (group_of[keep] > 0).long()
    boot_c[cls] = bootstrap_aucs([s[keep] for s in complexity.values()], y)      # (B, scores)
print(f"{'score':<32}" + "".join(f"{'AUC ' + c + ' [95% interval]':>30}" for c in HELD_OUT))
for k, name in enumerate(complexity):
    print(f"{name:<32}" + "".join(
        f"{auc_by_ranks(complexity[name][keep_of[c]], y_of[c]):>14.3f} "
        f"[{boot_c[c][:, k].quantile(0.025):.3f}, {boot_c[c][:, k].quantile(0.975):.3f}]"
        for c in HELD_OUT))
    for cls in HELD_OUT:
        auc[name, cls] = auc_by_ranks(complexity[name][keep_of[cls]], y_of[cls])
names_c = list(complexity)


def diff_interval(cls, a, b):
    """95% bootstrap interval of AUC(a) - AUC(b), on the same resampled images."""
    d = boot_c[cls][:, names_c.index(a)] - boot_c[cls][:, names_c.index(b)]
    return d.quantile(torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()


cc_vs_zlib = diff_interval("Sandal", "S(x) = -log2 p(x) - L(x)", "-L(x), zlib alone")
cc_vs_ink = diff_interval("Sandal", "S(x) = -log2 p(x) - L(x)", "ink: -(lit pixels)")
excess_vs_nll = diff_interval("Sandal", "excess: -log p(x) - H_bin(g)", "-log p(x) (IWAE bound)")
print("S(x) minus -L(x) alone, sandals:", [f"{v:+.3f}" for v in cc_vs_zlib],
      "; S(x) minus ink:", [f"{v:+.3f}" for v in cc_vs_ink])
assert auc[names_c[0], "Sandal"] > 0.8 and auc[names_c[0], "Bag"] < 0.5      # ink: sandals only
assert excess_vs_nll[0] > 0.3                        # the floor correction fixes the inversion
assert cc_vs_zlib[0] > 0                             # S(x) beats its own complexity term alone
assert auc[names_c[5], "Bag"] > max(auc[n, "Bag"] for n in names_c[:5])   # excess: best on bags


# %% tags=["hide-input"]
for k, name in enumerate(complexity):
    for cls in HELD_OUT:
        glue(f"e53_cauc_{CSHORT[name]}_{cls.lower()}", auc[name, cls], display=False)
        lo, hi = boot_c[cls][:, k].quantile(torch.tensor([0.025, 0.975], dtype=torch.float64))
        glue(f"e53_chw_{CSHORT[name]}_{cls.lower()}", ((hi - lo) / 2).item(), display=False)
# %% tags=["hide-input"]
glue("e53_auc_cc_sandal", auc[names_c[4], "Sandal"], display=False)
glue("e53_auc_cc_bag", auc[names_c[4], "Bag"], display=False)
glue("e53_cc_vs_zlib_lo", cc_vs_zlib[0], display=False)
glue("e53_cc_vs_zlib_hi", cc_vs_zlib[1], display=False)
glue("e53_cc_vs_ink_lo", cc_vs_ink[0], display=False)
glue("e53_cc_vs_ink_hi", cc_vs_ink[1], display=False)


# %% [markdown]
# The corrected score turns the sandals from below chance into a detectable class (AUC
# {glue:text}`e53_auc_cc_sandal:.3f`; bags {glue:text}`e53_auc_cc_bag:.3f`). But read it against the
# scores that use no model at all. The **ink** count, minus the number of lit pixels, reaches
# {glue:text}`e53_cauc_ink_sandal:.3f` on sandals (sandals have less ink) and
# {glue:text}`e53_cauc_ink_bag:.3f` on bags; the compressor alone, $-L(x)$,
# {glue:text}`e53_cauc_zlib_sandal:.3f` and {glue:text}`e53_cauc_zlib_bag:.3f`. On sandals $S(x)$ beats
# its own complexity term by between {glue:text}`e53_cc_vs_zlib_lo:+.3f` and
# {glue:text}`e53_cc_vs_zlib_hi:+.3f` (95% interval of the paired difference), and the ink count by
# between {glue:text}`e53_cc_vs_ink_lo:+.3f` and {glue:text}`e53_cc_vs_ink_hi:+.3f`: most of its success
# on sandals is "less ink", which needs no model. The correction this page's setup calls for, the excess
# over the binarisation floor, reaches {glue:text}`e53_cauc_excess_sandal:.3f` on sandals and
# {glue:text}`e53_cauc_excess_bag:.3f` on bags, the best model-based score on bags; and the grey-level
# nearest neighbour, with no model, still gets {glue:text}`e53_cauc_pixgrey_sandal:.3f` and
# {glue:text}`e53_cauc_pixgrey_bag:.3f`. (zlib has a flaw as a complexity measure here: it stores
# {glue:text}`e53_at_cap:.0%` of the normal images uncompressed, which caps their $L(x)$ and inflates
# their $S(x)$, costing false alarms; Serrà et al. used PNG, JPEG 2000 and FLIF on 8-bit images.)
#
# The lesson holds beyond this page: a likelihood is not by itself an anomaly score. Before trusting one in a screening setting,
# test it on held-out kinds of abnormality, report a simple baseline beside it, and check what the score
# correlates with.
#
# ## Exercises
#
# ### 5.3a Warm-up: ROC-AUC
#
# Write `roc_auc(scores, labels)`: the area under the ROC curve for 1-D
# tensors `scores` (large = abnormal) and `labels` (1 = abnormal, 0 = normal). Tied scores count one half.
# The checker uses scores with ties.

# %%
def roc_auc(scores, labels):
    ...  # your code


ch5b.q53a.check(roc_auc);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def roc_auc(scores, labels):
#     pos, neg = scores[labels == 1], scores[labels == 0]
#     greater = (pos[:, None] > neg[None, :]).double().mean()
#     ties = (pos[:, None] == neg[None, :]).double().mean()
#     return (greater + 0.5 * ties).item()
# ```
# The AUC is the probability that a random abnormal image scores above a random normal one. Comparing
# all pairs costs $n_+ n_-$ operations; the rank formula above gives the same number after one sort.
# With `labels` swapped, or the "normal" images as the positives, you get $1 - \mathrm{AUC}$.
# :::

# %% tags=["hide-cell"]
def roc_auc_reference(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).double().mean()
    ties = (pos[:, None] == neg[None, :]).double().mean()
    return (greater + 0.5 * ties).item()


assert ch5b.q53a.check(roc_auc_reference, quiet=True)
keep = (group_of == 0) | (test.labels[test_idx] == HELD_OUT["Bag"])
y_bag = (group_of[keep] > 0).long()
assert abs(roc_auc_reference(neg_iwae[keep], y_bag) - auc[names[1], "Bag"]) < 1e-12

# %% [markdown]
# ### 5.3b Warm-up: sensitivity at a fixed specificity
#
# Write `sensitivity_at_specificity(scores, labels,
# specificity)`: choose the threshold $t$ so that a share `specificity` of the *normal* images score at or
# below it (the `specificity`-quantile of the normal scores), flag the images with $s(x) > t$, and return
# the share of abnormal images flagged.

# %%
def sensitivity_at_specificity(scores, labels, specificity):
    ...  # your code


ch5b.q53b.check(sensitivity_at_specificity);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def sensitivity_at_specificity(scores, labels, specificity):
#     threshold = torch.quantile(scores[labels == 0].double(), specificity)
#     return (scores[labels == 1] > threshold).double().mean().item()
# ```
# The threshold comes from the **normal** images: specificity is the share of normal images that pass.
# A quantile of the abnormal images, or of all images together, fixes something else.
# :::

# %% tags=["hide-cell"]
def sensitivity_reference(scores, labels, specificity):
    threshold = torch.quantile(scores[labels == 0].double(), specificity)
    return (scores[labels == 1] > threshold).double().mean().item()


assert ch5b.q53b.check(sensitivity_reference, quiet=True)
assert abs(sensitivity_reference(neg_iwae[keep], y_bag, 0.95) - sens[names[1], "Bag"]) < 1e-12

# %% [markdown]
# ### 5.3c Predict: the noise floor of a grey square
#
# An image whose 784 pixels all have grey level 128 is binarised as the test images were (each pixel 1
# with probability 128/255). What is its noise floor $H_{\text{bin}}$, in nats: the least negative
# log-likelihood that *any* model can expect on it? Write your number before computing; compare it with
# the NLL of the normal images in the table above.

# %%
answer = ...  # your prediction, in nats

ch5b.q53c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# With $g = 128/255 \approx \tfrac12$ every pixel is a fair coin, $\log 2 \approx 0.693$ nats:
# ```python
# answer = -784 * sum(p * math.log(p) for p in (128 / 255, 127 / 255))   # about 784 log 2 = 543
# ```
# More than twice what the VAE pays for a normal garment. An image with nothing on it would be ranked as
# the least probable input of all, for the same reason the sandals were ranked as probable: the floor, not
# the content.
# :::

# %% tags=["hide-cell"]
answer_solution = -784 * sum(q * math.log(q) for q in (128 / 255, 127 / 255))
assert ch5b.q53c.check(answer_solution, quiet=True)

# %% [markdown]
# ### 5.3d Investigate: does a two-sided ink count catch the bags?
#
# The ink count flags sandals (little ink) and misses bags. A **two-sided** version flags images whose
# ink is unusual in either direction. Write `two_sided_ink(lit, normal_lit)`: the score $|\text{lit} - m|$
# of each image, with lit its number of lit pixels after binarisation and $m$ the median of `normal_lit`,
# the lit counts of the binarised *normal training* images. Before running anything: which class do you
# expect it to catch? Then compute its ROC-AUC for sandals and for bags on the page's test images (`lit`,
# `keep_of`, `y_of`, `auc_by_ranks`); the checker repeats the experiment on the whole test set.

# %%
def two_sided_ink(lit, normal_lit):
    ...  # your code


normal_lit = (data.binarize(normal_train, seed=3) > 0).flatten(1).sum(1)    # (48000,)
ch5b.q53d.check(two_sided_ink);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def two_sided_ink(lit, normal_lit):
#     m = normal_lit.double().median()           # the typical ink of a normal image
#     return (lit.double() - m).abs()            # far from it, in either direction = abnormal
#
# score = two_sided_ink(lit, normal_lit)
# print({c: auc_by_ranks(score[keep_of[c]], y_of[c]) for c in HELD_OUT})
# ```
# The bags stay at about chance: they carry an ordinary amount of ink, between trousers and pullovers,
# and differ from normal images in *shape*. The sandals lose much of their AUC, because the normal
# classes now count as abnormal at both ends of their own spread. A one-number summary catches an
# anomaly only if the anomaly is extreme in that number.
# :::

# %% tags=["hide-cell"]
def two_sided_ink_solution(lit, normal_lit):
    return (lit.double() - normal_lit.double().median()).abs()


assert ch5b.q53d.check(two_sided_ink_solution, quiet=True)
two_sided = two_sided_ink_solution(lit, normal_lit)
auc_two = {c: auc_by_ranks(two_sided[keep_of[c]], y_of[c]) for c in HELD_OUT}
assert abs(auc_two["Bag"] - 0.5) < 0.1 and auc_two["Sandal"] < auc[names_c[0], "Sandal"]

# %% [markdown]
# ## Summary
#
# * Anomaly detection with a generative model: train on normal data, score new data, flag high scores.
#   Evaluate on abnormal kinds the model never saw, with the ROC curve, its AUC (the probability that an
#   abnormal image outscores a normal one) and the sensitivity at the specificity you can afford.
# * On binarised images the ELBO and IWAE bound are bounds on a real log-likelihood; on grey levels with a
#   Bernoulli decoder they would only be cross-entropy scores.
# * Here the VAE catches bags but misses sandals, which it finds *more* probable than normal images
#   {cite}`nalisnick2019deep`. On binarised images most of that is the binarisation's own noise floor,
#   lower for sandals than for normal images by more than the whole likelihood gap; the excess over the
#   floor ranks them correctly. Subtracting a generic compressor's code length also helps
#   {cite}`serra2020input`, but on sandals most of its gain is the ink count, which needs no model.
# * Always report the simple baselines: the ink count ({glue:text}`e53_cauc_ink_sandal:.3f` on
#   sandals, {glue:text}`e53_cauc_ink_bag:.3f` on bags) and a nearest-neighbour search on the grey levels
#   ({glue:text}`e53_cauc_pixgrey_sandal:.3f` and {glue:text}`e53_cauc_pixgrey_bag:.3f`), against the
#   complexity-corrected score ({glue:text}`e53_auc_cc_sandal:.3f` and {glue:text}`e53_auc_cc_bag:.3f`)
#   and the excess over the floor ({glue:text}`e53_cauc_excess_sandal:.3f` and
#   {glue:text}`e53_cauc_excess_bag:.3f`), with intervals.
