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
# # 4.5 Evaluating generative models
#
# A classifier has a test accuracy. A generative model has no single number that says how good it is: we want
# samples that look real (**fidelity**, 保真度), that cover everything the data contains (**diversity**,
# 多样性), and, for likelihood models, a high probability for held-out data. Theis, van den Oord and Bethge
# {cite}`theis2016note` showed that these criteria can disagree, so an honest evaluation reports several and
# says what each one measures.
#
# This page builds the standard toolkit and applies it to every model shipped with the course:
#
# 1. a **feature space** in which images can be compared (a classifier trained on Fashion-MNIST);
# 2. **FID**, with the floor (real vs real) and a ceiling (noise) printed beside it;
# 3. **precision and recall**, which split FID's single number into fidelity and diversity;
# 4. why the **pixel metrics** MSE and SSIM, computed between samples and data, say little;
# 5. the **likelihood** of the VAEs, bounded with importance sampling (IWAE);
# 6. a results table for all shipped models.

# %%
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from myst_nb import glue
from scipy import linalg

import aigc_course as ac
from aigc_course import checkpoint, data, losses, metrics, plotting, recipes
from aigc_course.exercises import ch4

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
N = 2000 if QUICK else 10_000   # samples per set for FID and precision/recall
train, test = data.fashion_mnist("train"), data.fashion_mnist("test")

# %% [markdown]
# ## A feature space for Fashion-MNIST
#
# Comparing generated and real images pixel by pixel says little (section 4 of this page shows why), so
# metrics compare them in the feature space of a network trained to recognise the data. The standard choice,
# the Inception-v3 network trained on ImageNet {cite}`salimans2016improved,heusel2017fid`, expects 299×299
# colour photographs; its features of upscaled 28×28 grey clothes mean little. The course instead uses a small
# CNN trained on Fashion-MNIST itself (`classifier.FashionClassifier`, shipped as `classifier-fashion`, trained by
# `tools/train_classifier.py`); its 128 pooled activations before the last layer are the features. Numbers
# computed this way are comparable *within this course*, not with FIDs published for other data.
#
# A feature space is only as good as the classifier, so we first check its accuracy on all 10 000 test images.
# One pass gives both: the features, and the classes predicted from them.

# %%
classifier = recipes.classifier(device=dev)
test_feats = metrics.extract_features(classifier, test.images)                     # (10000, 128)
accuracy = ((classifier.head(test_feats.to(dev)).argmax(1).cpu() == test.labels)
            .float().mean().item())
recorded = checkpoint.read_manifest()["weights"]["classifier-fashion"]["metrics"]["test_accuracy"]
print(f"test accuracy {accuracy:.2%} (recorded in the weights manifest: {recorded:.2%})")
assert accuracy >= 0.90 and abs(accuracy - recorded) < 0.005


def features(images: torch.Tensor) -> torch.Tensor:
    """Classifier features (N, 128) of images (uint8, or float in [-1, 1])."""
    return metrics.extract_features(classifier, images)


train_feats = features(train.images[:2 * N])                                          # (2N, 128)

# %% [markdown]
# ## Fréchet distance (FID)
#
# Fit a Gaussian to the features of each set, $\mathcal N(\mu_r, \Sigma_r)$ for real images and
# $\mathcal N(\mu_g, \Sigma_g)$ for generated ones, and compute the Fréchet distance between the two
# Gaussians {cite}`heusel2017fid`:
#
# $$ \mathrm{FID} = \lVert \mu_r - \mu_g \rVert^2 + \operatorname{tr}\big(\Sigma_r + \Sigma_g - 2\,(\Sigma_r
#    \Sigma_g)^{1/2}\big) . $$
#
# $(\Sigma_r \Sigma_g)^{1/2}$ is a *matrix* square root (`scipy.linalg.sqrtm`). FID is 0 only when means and
# covariances agree; it grows both when samples look wrong (the mean moves) and when they lack variety (the
# covariance shrinks). We check `metrics.frechet_distance` against a case with a closed form: for commuting
# (here diagonal) covariances the matrix square root is the element-wise one.

# %%
rng = np.random.default_rng(0)
mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
var1, var2 = rng.uniform(0.5, 2, size=5), rng.uniform(0.5, 2, size=5)
closed_form = ((mu1 - mu2) ** 2).sum() + (var1 + var2 - 2 * np.sqrt(var1 * var2)).sum()
np.testing.assert_allclose(metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)),
                           closed_form, rtol=1e-10)
assert abs(metrics.frechet_distance(mu1, np.diag(var1), mu1, np.diag(var1))) < 1e-9

# %% [markdown]
# ### The floor: real against real
#
# Two independent sets of *real* images do not give FID 0: each estimates $\mu$ and $\Sigma$ from a finite
# sample, and the estimate of $\operatorname{tr}(\Sigma^{1/2}\ldots)$ is biased upwards. This floor is the
# best any model can score at this sample size, and it shrinks as the sets grow. **Always compare models with
# the same number of samples, and print the floor.**

# %%
sizes = [250, 500, 1000, N]
floors = [metrics.fid(train_feats[:n], test_feats[:n]) for n in sizes]
for n, value in zip(sizes, floors):
    print(f"FID(train, test) with {n:>5} images each: {value:7.3f}")
floor = floors[-1]
assert floors == sorted(floors, reverse=True), "the finite-sample bias shrinks with more samples"

# %% [markdown]
# ### The ceiling: noise
#
# At the other end, add Gaussian noise of growing strength to real training images (a model whose samples are
# right but noisy), and finally replace them by pure noise. FID rises steadily: it is a distance, and these
# numbers calibrate what a given value means.

# %%
gen = torch.Generator().manual_seed(0)
real_x = metrics.to_model_space(train.images[:N])
ceiling_rows = []
for sigma in [0.1, 0.25, 0.5, 1.0]:
    noisy = (real_x + sigma * torch.randn(real_x.shape, generator=gen)).clamp(-1, 1)
    ceiling_rows.append((f"train + noise sigma={sigma}",
                         metrics.fid(features(noisy), test_feats[:N])))
pure_noise = torch.rand(real_x.shape, generator=gen) * 2 - 1
ceiling_rows.append(("uniform noise", metrics.fid(features(pure_noise), test_feats[:N])))
print(f"{'real train images (floor)':<30}{floor:9.2f}")
for name, value in ceiling_rows:
    print(f"{name:<30}{value:9.2f}")
values = [floor] + [v for _, v in ceiling_rows]
assert values == sorted(values), "more noise, larger FID"
ceiling = ceiling_rows[-1][1]

# %% [markdown]
# ## Precision and recall
#
# FID mixes two failures into one number: samples that look wrong, and samples that miss part of the data.
# **Improved precision and recall** {cite}`kynkaanniemi2019precision` separate them. Around every real feature
# vector put a ball reaching its $k$-th nearest real neighbour ($k = 3$); their union approximates the
# *manifold* of real data. **Precision** is the share of generated samples inside it (fidelity). Swap the roles
# to get **recall**: the share of real samples inside the manifold of the generated ones (diversity).
#
# Three constructed "models" show the difference. Real images score high on both; a model that produces only
# five of the ten classes keeps its precision but loses recall (mode dropping, 模式丢失); noisy images lose
# precision.

# %%
train_labels = train.labels[:2 * N]
half_classes = train_feats[train_labels < 5][:N]
noisy_feats = features((real_x + 0.25 * torch.randn(real_x.shape, generator=gen)).clamp(-1, 1))
pr_cases = {"real train images": train_feats[:N], "only classes 0-4": half_classes,
            "train + noise sigma=0.25": noisy_feats}
pr = {name: metrics.precision_recall(test_feats[:N], f, k=3) for name, f in pr_cases.items()}
print(f"{'':<26}{'precision':>10}{'recall':>8}{'FID':>9}")
for name, f in pr_cases.items():
    print(f"{name:<26}{pr[name].precision:>10.3f}{pr[name].recall:>8.3f}"
          f"{metrics.fid(f, test_feats[:N]):>9.2f}")
assert pr["only classes 0-4"].recall < pr["real train images"].recall - 0.2
assert pr["only classes 0-4"].precision > 0.8 * pr["real train images"].precision
assert pr["train + noise sigma=0.25"].precision < pr["real train images"].precision

# %% [markdown]
# ## Why pixel MSE and SSIM between samples and data say little
#
# It is tempting to score samples with the metrics used for reconstructions: the mean squared error (MSE) or
# the structural similarity SSIM {cite}`wang2004ssim` between a generated image and a real one. But a
# generated sample has no "matching" real image; the best one can do is compare it with random test images.
# And against a random image, the **single image that minimises the expected squared error is the mean image**
# of the data: $\mathbb E\lVert x - c\rVert^2$ is smallest at $c = \mathbb E[x]$. A model that outputs the same
# average blob every time wins, and any blur moves a sample towards that average.
#
# We compare four "models", each paired with 2 000 random test images: real training images (a perfect
# generator), blurred real images, samples of the shipped VAE (blurry decoder means), and 2 000 copies of the
# training-set mean image.

# %%
def gaussian_blur(x: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Blur images (B, 1, H, W) with a 9x9 Gaussian kernel of standard deviation
    ``sigma`` pixels."""
    t = torch.arange(9, dtype=torch.float32) - 4
    g = torch.exp(-t**2 / (2 * sigma**2))
    kernel = (g[:, None] * g[None, :] / g.sum() ** 2)[None, None]                  # (1, 1, 9, 9)
    return F.conv2d(F.pad(x, (4, 4, 4, 4), value=-1.0), kernel)


vae = recipes.load_or_train("vae-fashion", device=dev)
with torch.no_grad():
    vae_samples = vae.sample(N, generator=torch.Generator().manual_seed(0)).cpu()
mean_image = metrics.to_model_space(train.images).mean(dim=0, keepdim=True)        # (1, 1, 28, 28)
candidates = {
    "real train images": real_x,
    "blurred real images": gaussian_blur(real_x),
    "VAE samples": vae_samples,
    "copies of the mean image": mean_image.expand(N, -1, -1, -1),
}
reference = metrics.to_model_space(
    test.images[torch.randperm(len(test.images), generator=gen)[:N]])
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
scores = {}
print(f"{'candidate':<26}{'MSE':>8}{'SSIM':>8}{'FID':>9}")
for ax, (name, x) in zip(axes, candidates.items()):
    mse = (x - reference).pow(2).mean().item()
    ssim = metrics.ssim(x, reference).item()
    # identical copies have a zero (singular) covariance: scipy warns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        scores[name] = (mse, ssim, metrics.fid(features(x), test_feats[:N]))
    print(f"{name:<26}{mse:>8.3f}{ssim:>8.3f}{scores[name][2]:>9.2f}")
    plotting.show_grid(x[:16], nrow=4, ax=ax, title=name)
plt.show()

real, blurred, vae_s, blob = scores.values()
assert (blob[0] < vae_s[0] < real[0]
        and blurred[0] < real[0]), "MSE prefers the mean image and blur to real images"
assert blurred[1] > real[1], "SSIM prefers blurred images to real ones"
assert (real[2] < vae_s[2] < blob[2]
        and real[2] < blurred[2] < blob[2]), "FID ranks real images first, the blob last"

# %% [markdown]
# MSE ranks the useless mean-image "model" *first* and the perfect one *last*, with the blurry candidates in
# between. SSIM hardly separates anything (every candidate is near 0.04: random pairs of images share little
# local structure), and what it does separate it gets backwards: blurred images beat sharp real ones. FID
# ranks the perfect model first and the blob last. Pixel metrics are the right tool when there *is* a target: a
# reconstruction (4.4), a denoised or inpainted image (5.2). For unconditional samples they reward
# averaging, which is exactly the failure we want to detect.
#
# ## Likelihood: how probable is held-out data?
#
# A VAE defines a density $p(x) = \int p(x \mid z)\,p(z)\,dz$ that we can bound. Importance sampling with the
# encoder as proposal gives the **IWAE bound** {cite}`burda2016iwae` with $K$ samples $z_k \sim q(z \mid x)$:
#
# $$ \mathcal L_K(x) = \log \frac{1}{K} \sum_{k=1}^K \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)} \;\le\;
#    \log p(x), \qquad \mathcal L_1 = \text{ELBO} \le \mathcal L_K \le \mathcal L_{K'} \text{ for } K \le K' .$$
#
# `metrics.nll_iwae(model, images, K)` returns $-\mathcal L_K$ averaged over images, in nats: an upper bound
# on the negative log-likelihood (NLL, 负对数似然) that tightens as $K$ grows. GANs define no density, so this
# column stays empty for them; that is one reason FID exists.
#
# **But only if $p(x \mid z)$ is a distribution over the data.** The decoders of `vae-fashion` and
# `vae2d-fashion` put a Bernoulli cross-entropy on grey levels in $[0, 1]$, and a Bernoulli is a distribution
# over $\{0, 1\}$ only: over grey levels its "density" does not integrate to one (3.4). The same formula
# then gives a **score**, the IWAE-tightened BCE + KL, that ranks these two VAEs against each other, but it
# is not a negative log-likelihood, and converting it to bits per dimension to compare with published numbers
# would be meaningless {cite}`theis2016note`. We call it what it is:

# %%
n_nll = 200 if QUICK else 2000
vae2d = recipes.load_or_train("vae2d-fashion", device=dev)
score = {}
for name, model in [("vae-fashion", vae), ("vae2d-fashion", vae2d)]:
    for K in [1, 10, 100]:
        score[name, K] = metrics.nll_iwae(model, test.images[:n_nll], K=K,
                                          generator=torch.Generator().manual_seed(K))
    print(f"{name}: BCE + KL score on {n_nll} grey-level test images, K=1 {score[name, 1]:.1f}, "
          f"K=10 {score[name, 10]:.1f}, K=100 {score[name, 100]:.1f} nats per image")
    assert score[name, 100] <= score[name, 10] <= score[name, 1], "tighter with larger K"
assert score["vae-fashion", 100] < score["vae2d-fashion", 100], (
    "16 latent dimensions explain the data better than 2")

# %% [markdown]
# The gap between $K = 1$ and $K = 100$ is a few nats: the ELBO was already close to the IWAE bound, so the
# encoder's $q(z \mid x)$ is a reasonable approximation of the true posterior. The 2-D model pays about
# twenty nats per image for its tiny latent space.
#
# ### A real likelihood: binarised images
#
# To get a number that *is* a likelihood, make the data match the decoder. **Dynamic binarisation** draws each
# pixel as 1 with probability equal to its grey level, afresh in every batch (`data.binarize`,
# `TensorLoader(binarize=True)`); the test set is binarised once, with a fixed seed, so that every model is
# scored on the same binary images. The pixels are now in $\{0, 1\}$, the Bernoulli decoder is a proper
# distribution over the $2^{784}$ possible images, and $-\mathcal L_K$ bounds a real NLL, which we may also
# state in bits per dimension. The recipe `vae-binarized-fashion` is the one-stochastic-layer model of
# Burda et al. {cite}`burda2016iwae`: an MLP with two hidden layers of 512, $z \in \mathbb R^{50}$, trained on
# the negative ELBO.

# %%
vae_bin = recipes.load_or_train("vae-binarized-fashion", device=dev)
n_bin = 200 if QUICK else 1000
binary = data.binarize(test.images[:n_bin], seed=0)  # (n_bin, 1, 28, 28) of 0 and 255
assert set(binary.unique().tolist()) <= {0, 255}
nll_bin = {}
for K in [1, 10, 100]:
    nll_bin[K] = metrics.nll_iwae(vae_bin, binary, K=K, generator=torch.Generator().manual_seed(K))
    print(f"K = {K:>3}: NLL bound {nll_bin[K]:.2f} nats per image "
          f"= {metrics.bits_per_dim(nll_bin[K], (1, 28, 28)):.4f} bits per dimension")
assert nll_bin[100] <= nll_bin[10] <= nll_bin[1]
shipped_entry = checkpoint.read_manifest()["weights"].get("vae-binarized-fashion", {})
shipped_bin = shipped_entry.get("metrics", {})
if "nll_iwae" in shipped_bin:
    print(f"recorded for the shipped weights: NLL <= {shipped_bin['nll_iwae']:.2f} ± "
          f"{shipped_bin['nll_stderr']:.2f} nats (K = {shipped_bin['iwae_k']}, "
          f"{shipped_bin['nll_images']:,} test images; ± one standard error over images), "
          f"-ELBO {shipped_bin['neg_elbo']:.2f}")
    for key in ("nll_iwae", "nll_stderr", "iwae_k", "nll_images", "neg_elbo", "bits_per_dim"):
        glue(f"e45_bin_{key}", shipped_bin[key], display=False)

# %% [markdown]
# For the shipped weights, `tools/evaluate_weights.py` tightens the bound with $K = 5000$ importance samples
# on the first {glue:text}`e45_bin_nll_images:,` binarised test images: NLL $\le$
# {glue:text}`e45_bin_nll_iwae:.2f` $\pm$ {glue:text}`e45_bin_nll_stderr:.2f` nats per image (one standard
# error over the images), or {glue:text}`e45_bin_bits_per_dim:.4f` bits per dimension, against
# {glue:text}`e45_bin_neg_elbo:.2f` for the negative ELBO. These numbers are about Fashion-MNIST, whose
# binarised images carry more detail than digits, so they are not comparable with the MNIST literature.
#
# **The MNIST comparison, for readers who can download MNIST** (it is not installed offline here). The same
# recipe on dynamically binarised MNIST reproduces the setting of Burda et al.'s Table 1
# {cite}`burda2016iwae`, whose one-stochastic-layer models reach 86.76 nats (VAE, $k = 1$) and 84.78 nats
# (IWAE trained with $k = 50$), both evaluated with $k = 5000$:
#
# ```bash
# python -m aigc_course data fetch mnist               # downloads and checks the SHA-256 of the four files
# python -m aigc_course train vae-binarized-mnist --profile full --out runs/vae-binarized-mnist
# python tools/evaluate_weights.py --run runs/vae-binarized-mnist   # K = 5000 on the test images
# ```
#
# Our trainer optimises the ELBO ($k = 1$), so its result belongs beside the 86.76 of the VAE column.
#
# ## Every shipped model, one table
#
# Each generator draws $N$ samples (the conditional GAN cycles through the classes, so its classes are
# balanced), compared with $N$ test images. The floor row is the real-vs-real value at the same $N$; the
# noise row is the ceiling.

# %%
image_models = ["dcgan-fashion", "cgan-fashion", "wgangp-fashion", "vae-fashion", "vae2d-fashion"]
generators = {name: recipes.load_or_train(name, device=dev) for name in image_models}
table = {"real train images (floor)": (floor, *pr["real train images"], None)}
for name, model in generators.items():
    with torch.no_grad():
        fake = model.sample(N, generator=torch.Generator().manual_seed(0))
    fake_feats = features(fake)
    p, r = metrics.precision_recall(test_feats[:N], fake_feats, k=3)
    table[name] = (metrics.fid(fake_feats, test_feats[:N]), p, r, score.get((name, 100)))
table["uniform noise (ceiling)"] = (
    ceiling, *metrics.precision_recall(test_feats[:N], features(pure_noise)), None)

print(f"N = {N} samples; score: BCE + KL, IWAE-tightened with K=100, on {n_nll} test images")
print(f"{'model':<28}{'FID':>8}{'precision':>11}{'recall':>8}{'score (nats)':>14}")
for name, (fid, p, r, nll_value) in table.items():
    print(f"{name:<28}{fid:>8.2f}{p:>11.3f}{r:>8.3f}"
          f"{'—' if nll_value is None else f'{nll_value:.1f}':>14}")
for name in image_models:
    assert floor < table[name][0] < ceiling, name
# The reading below describes the shipped weights, which the quick profile loads
# (full retrains them).
fid_of, precision, recall = ({name: table[name][i] for name in image_models} for i in range(3))
gans, vaes = image_models[:3], image_models[3:]
assert not QUICK or (
    fid_of["dcgan-fashion"] == min(fid_of.values())
    and precision["dcgan-fashion"] == max(precision.values())
    and recall["dcgan-fashion"] == max(recall.values())
    and recall["cgan-fashion"] < 0.05
    and precision["cgan-fashion"] > 0.9 * precision["dcgan-fashion"]
    and max(precision[v] for v in vaes) < min(precision[g] for g in gans)
    and recall["vae2d-fashion"] < recall["vae-fashion"])

# %% [markdown]
# The table says more than a leaderboard would:
#
# * every model is far above the floor: none of them is close to the data in this feature space;
# * the DCGAN leads on all three sample metrics;
# * the cGAN's **precision** is close to the DCGAN's, but its **recall** is about zero: its samples look real,
#   yet they cover almost none of the real data's variety. This is the conditional mode collapse found in 4.3.
#   Its FID ranks it near the VAE and the WGAN-GP model and does not say why; recall does;
# * the VAEs have the lowest precision (blurry decoder means fall outside the manifold of sharp real images);
#   `vae-fashion` covers part of the data, while the 2-D latent space of `vae2d-fashion` gives up most of its
#   variety;
# * the WGAN-GP model, trained for a third of the DCGAN's generator steps, sits in between on both;
# * only the VAEs define a density, and only on binarised data is it a likelihood of the data; the last
#   column is the grey-level score, and a model with a better NLL need not have better samples
#   {cite}`theis2016note`.
#
# `tools/evaluate_weights.py` computes the same metrics with 10 000 samples and records them in the `metrics`
# field of `aigc_course/weights/manifest.json`, next to the weights they describe:

# %%
for name, entry in checkpoint.read_manifest()["weights"].items():
    print(f"{name:<20}", ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in entry["metrics"].items()) or "—")

# %% [markdown]
# ## Exercises
#
# **Exercise 4.5a: the Fréchet distance.** Write `frechet(mu1, s1, mu2, s2)` for numpy arrays: the squared
# Fréchet distance between $\mathcal N(\mu_1, \Sigma_1)$ and $\mathcal N(\mu_2, \Sigma_2)$. The checker uses
# covariances that do not commute.

# %%
def frechet(mu1, s1, mu2, s2):
    ...  # your code


ch4.q45a.check(frechet);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# from scipy import linalg
#
# def frechet(mu1, s1, mu2, s2):
#     diff = mu1 - mu2
#     covmean = linalg.sqrtm(s1 @ s2).real
#     return diff @ diff + np.trace(s1 + s2 - 2 * covmean)
# ```
# `np.sqrt(s1 @ s2)` takes the square root of every entry, which is a different matrix; and
# `sqrtm(s1) @ sqrtm(s2)` equals $(\Sigma_1\Sigma_2)^{1/2}$ only when the covariances commute. `.real` drops
# the tiny imaginary parts that round-off leaves in `sqrtm`.
# :::

# %% tags=["hide-cell"]
def frechet(mu1, s1, mu2, s2):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2).real
    return diff @ diff + np.trace(s1 + s2 - 2 * covmean)


assert ch4.q45a.check(frechet, quiet=True)
f1, f2 = metrics.feature_stats(train_feats[:N]), metrics.feature_stats(test_feats[:N])
np.testing.assert_allclose(frechet(*f1, *f2), floor, rtol=1e-6)

# %% [markdown]
# **Exercise 4.5b: the IWAE bound.** Write `iwae_bound(log_w)`: from importance log-weights of shape (K, B),
# return $\mathcal L_K$ for each of the B images. Log-weights of images are around $-250$ nats or less, so
# the computation must not exponentiate them directly.

# %%
def iwae_bound(log_w):
    ...  # your code


ch4.q45b.check(iwae_bound);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def iwae_bound(log_w):
#     return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])
# ```
# `torch.logsumexp` subtracts the largest log-weight before exponentiating, so nothing underflows. The mean of
# the log-weights instead of the log of the mean weight gives the ELBO, which is lower by Jensen's inequality.
# :::

# %% tags=["hide-cell"]
def iwae_bound(log_w):
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


assert ch4.q45b.check(iwae_bound, quiet=True)
with torch.no_grad():
    x = metrics.to_model_space(test.images[:8]).to(dev)
    log_w = vae.log_weights(x, 20)                                                     # (20, 8)
torch.testing.assert_close(iwae_bound(log_w), losses.iwae_bound(log_w))

# %% [markdown]
# ## Summary
#
# * Compare images in a feature space that knows the data: here a Fashion-MNIST classifier (92% accurate).
# * FID $= \lVert\mu_r - \mu_g\rVert^2 + \operatorname{tr}(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2})$;
#   report it with the real-vs-real floor and the same sample size for every model.
# * Precision (fidelity) and recall (diversity) tell *why* a FID is high.
# * MSE/SSIM between samples and random data reward the mean image: use them only when there is a target.
# * For likelihood models, the IWAE bound with large $K$ is a tighter NLL than the ELBO; GANs have none.
