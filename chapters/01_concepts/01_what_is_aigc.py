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
# # 1.1 What AIGC is

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("01_what_is_aigc")

# %% [markdown]
# **AIGC** stands for *AI-generated content* (人工智能生成内容): text, images, audio and video produced by
# a model rather than written, drawn or recorded by a person. The field that builds such models is
# **generative AI** (生成式人工智能). The word that matters is *generative*: every AIGC system, from a
# chatbot to an image generator, contains a **generative model** (生成模型) of its data, and producing
# content means **drawing a sample** from that model.
#
# This page makes that statement concrete:
#
# 1. what separates a generative model from a **discriminative model** (判别模型), on a small example
#    where both can be computed exactly;
# 2. generating as sampling: we fit a Gaussian mixture to 2-D data, check it against the true
#    distribution, and sample new points from it; then we sample the course's trained image models;
# 3. a dated timeline of the models behind today's AIGC, with the papers that introduced them;
# 4. how text, image, audio and video generators are put together, and where the course goes next.

# %%
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from IPython.display import Markdown, display
from scipy.optimize import linear_sum_assignment
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

import aigc_course as ac
from aigc_course import data, metrics, plotting, recipes
from aigc_course.exercises import ch1
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # small computations: one CPU thread is fastest
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## Generative and discriminative models
#
# Take data $x$ with labels $y$, for example images and their classes.
#
# * A **discriminative model** learns $p(y \mid x)$, or just a decision rule: given an input, which label?
#   Image classifiers, spam filters and object detectors are discriminative. They cannot produce an $x$.
# * A **generative model** learns the distribution of the data itself: $p(x)$, or $p(x \mid y)$ and
#   $p(y)$ when there are labels. From it we can *sample* new inputs, score how likely an input is, and,
#   with Bayes' rule, still classify:
#
# $$
# p(y \mid x) = \frac{p(x \mid y)\, p(y)}{\sum_{y'} p(x \mid y')\, p(y')} .
# $$
#
# {cite}`ng2001discriminative` compare the two on classification; {cite}`bishop2006pattern` (chapter 4)
# derives the example below. Take two classes with Gaussian class-conditional densities that share one
# covariance matrix, $p(x \mid y) = \mathcal N(x; \mu_y, \Sigma)$, and prior $p(y = 1) = \pi$. Write the
# posterior as $\sigma(a)$ with $a = \log \frac{p(x \mid 1)\,\pi}{p(x \mid 0)\,(1 - \pi)}$. The quadratic
# terms $x^\top \Sigma^{-1} x$ of the two log-densities cancel, so $a$ is *linear* in $x$:
#
# $$
# p(y = 1 \mid x) = \sigma(w^\top x + b), \qquad w = \Sigma^{-1}(\mu_1 - \mu_0), \qquad
# b = -\tfrac12 \mu_1^\top \Sigma^{-1} \mu_1 + \tfrac12 \mu_0^\top \Sigma^{-1} \mu_0 + \log\frac{\pi}{1 - \pi}.
# $$
#
# That is exactly the form of **logistic regression** (逻辑回归), a discriminative model. So we can fit the same
# classifier two ways: the generative way, by estimating $\mu_0, \mu_1, \Sigma, \pi$ (class means, pooled
# covariance and class share), or the discriminative way, by fitting $w, b$ directly. First we check the
# formula against Bayes' rule evaluated with `torch.distributions`.

# %%
torch.manual_seed(0)
n_per_class = (600, 400)
mu_true = torch.tensor([[-1.0, 0.0], [1.0, 0.8]], dtype=torch.float64)
chol = torch.tensor([[0.8, 0.0], [0.5, 0.6]], dtype=torch.float64)  # Sigma = chol @ chol.T
x = torch.cat([mu_true[c] + torch.randn(n, 2, dtype=torch.float64) @ chol.T
               for c, n in enumerate(n_per_class)])                        # (1000, 2)
y = torch.cat([torch.full((n,), c) for c, n in enumerate(n_per_class)])   # (1000,)

# the generative fit: class shares, class means, pooled covariance (maximum likelihood)
prior = torch.stack([(y == c).double().mean() for c in (0, 1)])                     # (2,)
means = torch.stack([x[y == c].mean(0) for c in (0, 1)])                            # (2, 2)
centred = x - means[y]
cov = centred.T @ centred / len(x)                                                  # (2, 2)
class_models = [MultivariateNormal(means[c], cov) for c in (0, 1)]


def bayes_posterior(points):
    """p(y = 1 | x) by Bayes' rule from the fitted p(x | y) and p(y)."""
    log_joint = torch.stack([m.log_prob(points) + prior[c].log()
                             for c, m in enumerate(class_models)], dim=1)         # (N, 2)
    return torch.softmax(log_joint, dim=1)[:, 1]


prec = torch.linalg.inv(cov)
w = prec @ (means[1] - means[0])
b = (-0.5 * means[1] @ prec @ means[1] + 0.5 * means[0] @ prec @ means[0]
     + torch.log(prior[1] / prior[0]))
grid = torch.cartesian_prod(torch.linspace(-4, 4, 41), torch.linspace(-4, 4, 41)).double()
gap = (bayes_posterior(grid) - torch.sigmoid(grid @ w + b)).abs().max().item()
print(f"largest gap between Bayes' rule and sigma(w.x + b) on a grid: {gap:.1e}")
assert gap < 1e-12
b_wrong = b - 2 * torch.log(prior[1] / prior[0])  # the prior term with the wrong sign
assert (bayes_posterior(grid) - torch.sigmoid(grid @ w + b_wrong)).abs().max() > 0.05

# %% [markdown]
# Now the discriminative way: scikit-learn's logistic regression fits $w$ and $b$ by maximising the
# conditional likelihood $\prod_i p(y_i \mid x_i)$, never modelling $x$. On this data, where the generative
# model's assumptions hold, the two should find nearly the same boundary and the same accuracy on fresh
# test data.

# %%
logreg = LogisticRegression(C=1e6).fit(x.numpy(), y.numpy())
n_test = [10 * n for n in n_per_class]                   # fresh data, the training proportions
x_test = torch.cat([mu_true[c] + torch.randn(n, 2, dtype=torch.float64) @ chol.T
                    for c, n in enumerate(n_test)])
y_test = torch.cat([torch.full((n,), c) for c, n in enumerate(n_test)])
acc_generative = ((bayes_posterior(x_test) > 0.5).long() == y_test).double().mean().item()
acc_discriminative = (logreg.predict(x_test.numpy()) == y_test.numpy()).mean()
w_lr = torch.from_numpy(logreg.coef_[0])
cosine = (w @ w_lr / (w.norm() * w_lr.norm())).item()
print(f"test accuracy: generative (Bayes' rule) {acc_generative:.3f}, "
      f"discriminative (logistic regression) {acc_discriminative:.3f}")
print(f"cosine between the two weight vectors: {cosine:.4f}")

# %% tags=["hide-input"]
assert abs(acc_generative - acc_discriminative) < 0.01 and cosine > 0.99
glue("e11_acc_gen", acc_generative, display=False)
glue("e11_acc_disc", float(acc_discriminative), display=False)
glue("e11_cosine", cosine, display=False)

# %% [markdown]
# Both classify equally well here: accuracy {glue:text}`e11_acc_gen:.3f` for the generative model and
# {glue:text}`e11_acc_disc:.3f` for logistic regression, with weight vectors at cosine
# {glue:text}`e11_cosine:.4f`. The difference is what else each model can do. Logistic regression has
# nothing to say about *where* the data lie; the generative model does, so it can produce new
# examples of either class:

# %%
new_points = torch.cat([class_models[c].sample((200,)) for c in (0, 1)])  # (400, 2)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
xx, yy = np.meshgrid(np.linspace(-4, 4, 200), np.linspace(-4, 4, 200))
flat = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
for ax, title in zip(axes, ["discriminative: only p(y | x)", "generative: p(x | y) and p(y)"]):
    ax.contour(xx, yy, torch.sigmoid(flat @ w + b).reshape(200, 200).numpy(), levels=[0.5],
               colors="k", linestyles="--")
    ax.set_title(title)
    ax.set_aspect("equal")
axes[0].contourf(xx, yy, logreg.predict_proba(flat.numpy())[:, 1].reshape(200, 200),
                 levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.5)
for c, color in [(0, "tab:blue"), (1, "tab:red")]:
    axes[0].scatter(*x[y == c].T, s=4, c=color, label=f"class {c} (training data)")
    axes[1].scatter(*x[y == c].T, s=4, c="0.75")
    axes[1].scatter(*new_points[200 * c:200 * (c + 1)].T, s=6, c=color,
                    label=f"new samples of class {c}")
    density = class_models[c].log_prob(flat).exp().reshape(200, 200).numpy()
    axes[1].contour(xx, yy, density, levels=4, colors=color, linewidths=0.8)
for ax in axes:
    ax.legend(fontsize=7, loc="lower right")
fig.suptitle("Same decision boundary (dashed), but only the generative model can produce data",
             y=1.02)
plt.show()

# %% [markdown]
# Real data are far from two Gaussians, and modern generative models are deep networks. But the division
# of labour stays: an AIGC system is a generative model $p_\theta(x)$ (or $p_\theta(x \mid \text{prompt})$),
# and "generating content" means sampling from it.
#
# ## Generating is sampling from a learned distribution
#
# A generative model is trained on samples from the unknown **data distribution** (数据分布)
# $p_{\text{data}}$, and should then produce new samples that look as if they came from $p_{\text{data}}$.
# We try the whole loop on a distribution we know: the course's `25gaussians` toy set, 25 small Gaussian
# blobs (standard deviation 0.05) on a 5×5 grid. As the model we take a **Gaussian mixture model**
# (高斯混合模型) with $K = 25$ components,
#
# $$
# p_\theta(x) = \sum_{k=1}^{K} \pi_k\, \mathcal N(x; \mu_k, \Sigma_k), \qquad \pi_k \ge 0,\ \sum_k \pi_k = 1,
# $$
#
# and fit it by maximum likelihood (极大似然, see 1.2) with the **expectation–maximisation** (EM, 期望最大化)
# algorithm {cite}`dempster1977em`. EM alternates two steps:
#
# * **E-step:** for each point, the *responsibility* of each component, its posterior probability
#   $r_{ik} = \pi_k \mathcal N(x_i; \mu_k, \Sigma_k) / p_\theta(x_i)$ (Bayes' rule again);
# * **M-step:** refit each component as a weighted Gaussian: $N_k = \sum_i r_{ik}$, $\pi_k = N_k / N$,
#   $\mu_k = \sum_i r_{ik} x_i / N_k$, $\Sigma_k = \sum_i r_{ik}(x_i - \mu_k)(x_i - \mu_k)^\top / N_k$.
#
# Each iteration can only increase the log-likelihood $\sum_i \log p_\theta(x_i)$; we assert that.
#
# :::{dropdown} Where EM starts
# EM finds a *local* maximum, so the starting point matters: we start the means at points spread out by
# farthest-first traversal {cite}`gonzalez1985clustering`, which adds each time the point farthest from
# those already chosen (k-means++ {cite}`arthur2007kmeanspp` is the randomised cousin: it draws the next
# point with probability proportional to its squared distance).
# :::

# %%
x_toy = data.toy2d("25gaussians", 5000, seed=0).double()   # (5000, 2)
true_modes = data.toy2d_modes("25gaussians").double()       # (25, 2)


def farthest_points(x, k, seed=0):
    """k rows of x, each as far as possible from those chosen before (a random first one)."""
    chosen = [int(torch.randint(len(x), (1,), generator=torch.Generator().manual_seed(seed)))]
    dist = (x - x[chosen[0]]).norm(dim=1)
    for _ in range(k - 1):
        chosen.append(int(dist.argmax()))
        dist = torch.minimum(dist, (x - x[chosen[-1]]).norm(dim=1))
    return x[chosen].clone()


def log_components(x, weights, means, covs):
    """log pi_k + log N(x_i; mu_k, Sigma_k), shape (N, K)."""
    return weights.log() + MultivariateNormal(means, covs).log_prob(x[:, None, :])


def em_gmm(x, k, iters=30, seed=0):
    n, d = x.shape
    weights = torch.full((k,), 1 / k, dtype=x.dtype)
    means = farthest_points(x, k, seed)
    covs = x.var(0).mean() * torch.eye(d, dtype=x.dtype).repeat(k, 1, 1) / k
    log_liks = []
    for _ in range(iters):
        log_joint = log_components(x, weights, means, covs)                  # (N, K)
        log_liks.append(torch.logsumexp(log_joint, dim=1).mean().item())
        resp = torch.softmax(log_joint, dim=1)                               # E-step, (N, K)
        n_k = resp.sum(0)                                                    # M-step, (K,)
        weights = n_k / n
        means = resp.T @ x / n_k[:, None]                                    # (K, d)
        diff = x[:, None, :] - means                                         # (N, K, d)
        covs = torch.einsum("nk,nki,nkj->kij", resp, diff, diff) / n_k[:, None, None]
        covs = covs + 1e-6 * torch.eye(d, dtype=x.dtype)                     # keep them invertible
    return weights, means, covs, log_liks


weights, means, covs, log_liks = em_gmm(x_toy, 25)
steps_up = np.diff(log_liks)
print(f"average log-likelihood: {log_liks[0]:.3f} after initialisation, {log_liks[-1]:.3f} "
      f"after {len(log_liks) - 1} EM iterations; largest decrease {max(0.0, -steps_up.min()):.1e}")
assert steps_up.min() > -1e-9, "EM never decreases the likelihood"

# %% [markdown]
# Does the fit recover the truth? Each fitted mean should sit on a distinct true mode, each weight should be
# close to $1/25$, and each standard deviation close to 0.05.
#
# :::{dropdown} The tolerances, and two independent implementations
# With $m$ = {glue:text}`e11_per_blob:.0f`
# points per blob, the sampling error of a mean is $0.05/\sqrt{m}$ = {glue:text}`e11_se_mean:.4f`, so we
# allow {glue:text}`e11_tol_mean`; the weights' binomial error is
# $\sqrt{\tfrac{1}{25}(1 - \tfrac{1}{25})/N}$ = {glue:text}`e11_se_weight:.4f`, so we allow
# {glue:text}`e11_tol_weight`; the relative error of a standard deviation is about $1/\sqrt{2m}$ =
# {glue:text}`e11_se_std:.1%`, so we allow {glue:text}`e11_tol_std:.0%` for the largest of 50. We also compare with
# scikit-learn's `GaussianMixture`, started from the same means and weights (its covariances start from its
# own initial fit) and run to convergence: it must reach the same optimum. And we check our log-likelihood
# against `torch.distributions.MixtureSameFamily`.
# :::

# %% tags=["hide-input"]
per_blob = len(x_toy) / 25
TOL_MEAN, TOL_WEIGHT, TOL_STD = 0.02, 0.015, 0.2   # about 4-6 standard errors each (see above)
dist = torch.cdist(means, true_modes)                     # (25, 25)
rows, cols = linear_sum_assignment(dist.numpy())          # one fitted component per true mode
mean_err = dist[rows, cols].max().item()
std_fit = torch.diagonal(covs, dim1=1, dim2=2).sqrt()     # (25, 2)
weight_err = (weights - 1 / 25).abs().max().item()
std_err = (std_fit / 0.05 - 1).abs().max().item()
print(f"largest distance fitted mean -> its true mode: {mean_err:.4f}")
print(f"largest |weight - 1/25|: {weight_err:.4f}; largest relative error of a std: {std_err:.1%}")
assert len(set(cols)) == 25 and mean_err < TOL_MEAN
assert weight_err < TOL_WEIGHT and std_err < TOL_STD

model = MixtureSameFamily(Categorical(probs=weights), MultivariateNormal(means, covs))
ll_torch = model.log_prob(x_toy).mean().item()
sk = GaussianMixture(25, covariance_type="full", means_init=farthest_points(x_toy, 25).numpy(),
                     weights_init=np.full(25, 1 / 25), tol=1e-10, max_iter=500, reg_covar=1e-6,
                     random_state=0).fit(x_toy.numpy())
ll_sklearn = sk.score(x_toy.numpy())
ll_ours = torch.logsumexp(log_components(x_toy, weights, means, covs), 1).mean().item()  # final
print(f"average log-likelihood of the final fit: ours {ll_ours:.5f}, torch.distributions "
      f"{ll_torch:.5f}, scikit-learn {ll_sklearn:.5f}")
torch.testing.assert_close(ll_torch, ll_ours, atol=1e-10, rtol=0)
assert abs(ll_torch - ll_sklearn) < 1e-3

# %% tags=["hide-input"]
for key, value in [("tol_mean", TOL_MEAN), ("tol_weight", TOL_WEIGHT), ("tol_std", TOL_STD)]:
    glue(f"e11_{key}", value, display=False)
glue("e11_per_blob", per_blob, display=False)
glue("e11_se_mean", 0.05 / math.sqrt(per_blob), display=False)
glue("e11_se_weight", math.sqrt(1 / 25 * (1 - 1 / 25) / len(x_toy)), display=False)
glue("e11_se_std", 1 / math.sqrt(2 * per_blob), display=False)
glue("e11_gmm_mean_err", mean_err, display=False)
glue("e11_gmm_ll", ll_torch, display=False)

# %% [markdown]
# The fitted means sit within {glue:text}`e11_gmm_mean_err:.3f` of the true modes, and all three
# implementations agree on the average log-likelihood, {glue:text}`e11_gmm_ll:.3f` nats per point.
#
# **Sampling.** A mixture is sampled in two steps, **ancestral sampling** (祖先采样): first choose a
# component $k$ with probability $\pi_k$, then draw $x \sim \mathcal N(\mu_k, \Sigma_k)$, here as
# $x = \mu_k + L_k \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$ and the Cholesky factor
# $L_k L_k^\top = \Sigma_k$. This is the pattern of every generator in the course: random noise in, a
# deterministic function of it out. If the model is right, each true mode should receive about 1/25 of the
# new samples (within {glue:text}`e11_tol_weight`), and nearly all samples should lie within 4 standard
# deviations ({glue:text}`e11_near_radius`) of a mode.

# %%
gen = torch.Generator().manual_seed(1)
n_new = 5000
k = torch.multinomial(weights, n_new, replacement=True, generator=gen)           # (n_new,)
eps = torch.randn(n_new, 2, 1, generator=gen, dtype=torch.float64)
samples = means[k] + (torch.linalg.cholesky(covs)[k] @ eps)[..., 0]              # (n_new, 2)

# %% tags=["hide-input"]
NEAR_RADIUS = 4 * 0.05                                   # 4 standard deviations of a blob
nearest = torch.cdist(samples, true_modes).min(dim=1)
share = torch.bincount(nearest.indices, minlength=25).double() / n_new
near = (nearest.values < NEAR_RADIUS).double().mean().item()
print(f"samples within {NEAR_RADIUS} of a true mode: {near:.2%}; share per mode between "
      f"{share.min():.3f} and {share.max():.3f} (1/25 = {1 / 25:.3f})")
assert near > 0.99 and (share - 1 / 25).abs().max() < TOL_WEIGHT

fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
plotting.plot_points_2d(x_toy[:2000], ax=axes[0], lim=2.6, s=1,
                        title="training data (2 000 of 5 000)")
plotting.plot_points_2d(samples[:2000], ax=axes[1], lim=2.6, s=1,
                        title="2 000 new samples of the fitted mixture")
axes[1].scatter(*means.T, marker="+", c="k", s=40, label="fitted means")
axes[1].legend(fontsize=7, loc="lower left")
fig.suptitle("Generating = sampling the learned distribution")
plt.show()

# %% tags=["hide-input"]
glue("e11_near", near, display=False)
glue("e11_near_radius", NEAR_RADIUS, display=False)

# %% [markdown]
# {glue:text}`e11_near:.1%` of the new points lie on a mode, and the modes are equally filled. None of
# them is a training point: they are new draws from the learned $p_\theta$.
#
# A Gaussian mixture is fine in two dimensions. Images have 784 dimensions (Fashion-MNIST) or millions, and
# their distribution is concentrated near a thin, curved set that no reasonable mixture can describe. Deep
# generative models replace the mixture by a neural network that transforms noise: the **GAN** (生成对抗网络)
# of Part II {cite}`goodfellow2014gan` learns the transformation $x = G(z)$ directly, the **VAE**
# (变分自编码器) of Part III {cite}`kingma2014vae` learns a decoder $p_\theta(x \mid z)$ together with an
# encoder. The course ships both, trained on Fashion-MNIST (Part IV shows how). Sampling them is the same
# two lines as above: draw noise, apply the model.

# %%
G = recipes.pretrained("dcgan-fashion", device="cpu")   # the shipped weights, hash-checked
vae = recipes.pretrained("vae-fashion", device="cpu")
with torch.no_grad():
    gan_images = G.sample(32, generator=torch.Generator().manual_seed(0))       # (32, 1, 28, 28)
    vae_images = vae.sample(32, generator=torch.Generator().manual_seed(0))     # (32, 1, 28, 28)
    gan_again = G.sample(32, generator=torch.Generator().manual_seed(0))
    gan_other = G.sample(32, generator=torch.Generator().manual_seed(1))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
plotting.show_grid(gan_images, nrow=8, ax=axes[0],
                   title="32 samples of the shipped DCGAN (Part IV)")
plotting.show_grid(vae_images, nrow=8, ax=axes[1], title="32 samples of the shipped VAE (Part IV)")
plt.show()

# %% tags=["hide-input"]
for images in (gan_images, vae_images):
    assert images.shape == (32, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
assert torch.equal(gan_images, gan_again)           # deterministic: all the randomness is in z
assert (gan_images - gan_other).abs().mean() > 0.1  # new noise, new images

# %% [markdown]
# The same noise gives the same images (the networks themselves are deterministic; all the randomness is in
# $z$), and new noise gives new ones. The VAE's samples are smoother than the GAN's, a difference that Parts
# III and IV explain.
#
# Are these samples *new*, or copies of training images? For each sample we find its nearest neighbour
# among the {glue:text}`e11_n_train:,` training images (root-mean-square pixel difference, images in
# $[-1, 1]$) and compare
# with the same distance for real test images, which the models never saw. A model that memorised its
# training set would produce samples much *closer* to a training image than fresh real images are.

# %% tags=["hide-input"]
train = data.fashion_mnist("train")
test = data.fashion_mnist("test")
train_flat = metrics.to_model_space(train.images).flatten(1)  # (60000, 784) in [-1, 1]


def nearest_train(images):
    """(distance, index) of each image's nearest training image, RMS per pixel."""
    d = torch.cdist(images.float().flatten(1), train_flat) / math.sqrt(train_flat.shape[1])
    return d.min(dim=1)


nn_dist = {"DCGAN samples": nearest_train(gan_images), "VAE samples": nearest_train(vae_images),
           "real test images": nearest_train(metrics.to_model_space(test.images[:32]))}
for name, (d, _) in nn_dist.items():
    print(f"{name:>17}: median distance to the nearest training image {d.median():.3f} "
          f"(smallest {d.min():.3f})")
median_test = nn_dist["real test images"][0].median()
assert all(nn_dist[name][0].median() > median_test for name in ("DCGAN samples", "VAE samples"))

fig, axes = plt.subplots(2, 1, figsize=(8, 2.6))
idx = nn_dist["DCGAN samples"][1][:12]
plotting.show_grid(gan_images[:12], nrow=12, ax=axes[0], title="DCGAN samples ...")
plotting.show_grid(metrics.to_model_space(train.images[idx]), nrow=12, ax=axes[1],
                   title="... and their nearest training images")
plt.show()

# %% tags=["hide-input"]
glue("e11_n_train", len(train_flat), display=False)
for name, key in [("DCGAN samples", "gan"), ("VAE samples", "vae"), ("real test images", "test")]:
    glue(f"e11_nn_{key}", nn_dist[name][0].median().item(), display=False)

# %% [markdown]
# The median distance to the nearest training image is {glue:text}`e11_nn_gan:.3f` for the DCGAN's
# samples and {glue:text}`e11_nn_vae:.3f` for the VAE's, against {glue:text}`e11_nn_test:.3f` for real test
# images. The samples are farther from the training set than fresh real images are: the models produce
# new garments of the kinds they were trained on, not stored copies. (A large distance alone does not mean a
# *good* sample; 4.5 measures quality properly.)
#
# ## A timeline of deep generative models
#
# :::{dropdown} Generative models before 2013
# Computer-generated content is old: algorithmic music and rule-based chat programs date from the 1950s
# and 1960s. Generative models built from neural networks are older than 2013 too. A neural language model
# predicted the next word from learnt word vectors in 2003 {cite}`bengio2003neural`; deep belief networks
# generated handwritten digits in 2006 {cite}`hinton2006fast`, and deep Boltzmann machines followed
# {cite}`salakhutdinov2009dbm`; NADE factorised the density of binary images into learnt one-pixel-at-a-time
# conditionals {cite}`larochelle2011nade`.
# :::
#
# What changed in 2013–14 is that deep generative models became
# trainable end to end by backpropagation, at scale: the reparameterisation trick of the VAE and the
# adversarial game of the GAN gave gradients for models that sample through a deep network. The table lists
# the papers that introduced the model families behind today's AIGC, from then on. "First public" is the
# arXiv preprint, "published" the peer-reviewed venue.
#
# :::{dropdown} How the dates are checked
# The code checks the table against the course
# bibliography (`references.bib`, the venue's year) and against the arXiv identifiers (whose first four
# digits are the year and month of submission) for consistency: a date typed wrong in one place fails the
# build, though one typed wrong identically in all of them would not. (Several source articles of the
# course get these dates wrong, e.g. GANs "in the 1980s"; see the errata.)
# :::

# %% tags=["hide-input"]
AR = "autoregressive (Transformer LMs)"
TIMELINE = [  # (first public, published, what, family, authors, venue, arXiv id, bib key)
    ("2013-12", 2014, "Variational auto-encoder (VAE)", "VAE", "Kingma & Welling", "ICLR",
     "1312.6114", "kingma2014vae"),
    ("2014-06", 2014, "Generative adversarial network (GAN)", "GAN", "Goodfellow et al.",
     "NeurIPS", "1406.2661", "goodfellow2014gan"),
    ("2014-10", 2015, "NICE (normalising flow)", "flow", "Dinh, Krueger & Bengio",
     "ICLR workshop", "1410.8516", "dinh2015nice"),
    ("2015-03", 2015, "Diffusion probabilistic model", "diffusion", "Sohl-Dickstein et al.",
     "ICML", "1503.03585", "sohldickstein2015deep"),
    ("2015-11", 2016, "DCGAN", "GAN", "Radford, Metz & Chintala", "ICLR", "1511.06434",
     "radford2016dcgan"),
    ("2016-01", 2016, "PixelRNN / PixelCNN (images)", AR, "van den Oord, Kalchbrenner & "
     "Kavukcuoglu", "ICML", "1601.06759", "oord2016pixel"),
    ("2016-05", 2017, "RealNVP", "flow", "Dinh, Sohl-Dickstein & Bengio", "ICLR", "1605.08803",
     "dinh2017realnvp"),
    ("2016-09", 2016, "WaveNet (raw audio)", AR, "van den Oord et al.", "SSW", "1609.03499",
     "oord2016wavenet"),
    ("2017-01", 2017, "Wasserstein GAN", "GAN", "Arjovsky, Chintala & Bottou", "ICML",
     "1701.07875", "arjovsky2017wgan"),
    ("2017-06", 2017, "Transformer (an architecture)", AR, "Vaswani et al.", "NeurIPS",
     "1706.03762", "vaswani2017attention"),
    ("2018-07", 2018, "Glow", "flow", "Kingma & Dhariwal", "NeurIPS", "1807.03039",
     "kingma2018glow"),
    ("2018-12", 2019, "StyleGAN", "GAN", "Karras, Laine & Aila", "CVPR", "1812.04948",
     "karras2019stylegan"),
    ("2019-07", 2019, "Score-based model (score matching)", "diffusion", "Song & Ermon", "NeurIPS",
     "1907.05600", "song2019generative"),
    ("2020-05", 2020, "GPT-3", AR, "Brown et al.", "NeurIPS", "2005.14165", "brown2020gpt3"),
    ("2020-06", 2020, "DDPM (denoising diffusion)", "diffusion", "Ho, Jain & Abbeel", "NeurIPS",
     "2006.11239", "ho2020ddpm"),
    ("2020-11", 2021, "Score SDE (probability-flow ODE)", "diffusion", "Song et al.", "ICLR",
     "2011.13456", "song2021sde"),
    ("2021-02", 2021, "DALL·E (text-to-image tokens)", AR, "Ramesh et al.", "ICML", "2102.12092",
     "ramesh2021dalle"),
    ("2021-05", 2021, "ADM (diffusion beats GANs on ImageNet)", "diffusion", "Dhariwal & Nichol",
     "NeurIPS", "2105.05233", "dhariwal2021diffusion"),
    ("2021-12", 2022, "Latent diffusion (Stable Diffusion)", "diffusion", "Rombach et al.", "CVPR",
     "2112.10752", "rombach2022ldm"),
    ("2022-03", 2022, "InstructGPT (RLHF)", AR, "Ouyang et al.", "NeurIPS", "2203.02155",
     "ouyang2022instructgpt"),
    ("2022-10", 2023, "Flow matching", "diffusion", "Lipman et al.", "ICLR", "2210.02747",
     "lipman2023flow"),
]
CHATGPT = ("2022-11", "ChatGPT released (30 November), trained with the InstructGPT method",
           "openai2022chatgpt")


def bib_years() -> dict[str, int]:
    """{key: year} of every entry in the course's references.bib (found from this page upwards)."""
    here = Path.cwd().resolve()
    bib = next(p / "references.bib" for p in (here, *here.parents)
               if (p / "references.bib").exists())
    years = {}
    for entry in re.split(r"\n(?=@)", bib.read_text(encoding="utf-8")):
        key = re.match(r"@\w+\{([^,]+),", entry)
        year = re.search(r"year\s*=\s*[{\"]?(\d{4})", entry)
        if key and year:
            years[key.group(1).strip()] = int(year.group(1))
    return years


years = bib_years()
for first, published, what, family, authors, venue, arxiv, key in TIMELINE:
    assert years[key] == published, (key, years[key], published)              # the venue's year
    assert arxiv[:4] == first[2:4] + first[5:7], (key, arxiv, first)          # arXiv yymm = month
    assert int(first[:4]) <= published
assert [row[0] for row in TIMELINE] == sorted(row[0] for row in TIMELINE)
assert CHATGPT[0] > TIMELINE[-1][0] and CHATGPT[2] in years

table = ["| first public | published | model | family | paper |", "|---|---|---|---|---|"]
table += [f"| {first} | {venue} {published} | {what} | {family} | {authors}, arXiv:{arxiv} |"
          for first, published, what, family, authors, venue, arxiv, key in TIMELINE]
table.append(f"| {CHATGPT[0]} | (product) | {CHATGPT[1]} | {AR} | OpenAI |")
display(Markdown("\n".join(table)))

# %% [markdown]
# :::{dropdown} The papers of the table
# The papers of the table: {cite}`kingma2014vae,goodfellow2014gan,dinh2015nice,sohldickstein2015deep`,
# {cite}`radford2016dcgan,oord2016pixel,dinh2017realnvp,oord2016wavenet,arjovsky2017wgan`,
# {cite}`vaswani2017attention,kingma2018glow,karras2019stylegan,song2019generative,brown2020gpt3`,
# {cite}`ho2020ddpm,song2021sde,ramesh2021dalle,dhariwal2021diffusion,rombach2022ldm`,
# {cite}`ouyang2022instructgpt,lipman2023flow`. ChatGPT itself has no paper; OpenAI's announcement
# {cite}`openai2022chatgpt` describes it as fine-tuned from a model of the GPT-3.5 series with
# reinforcement learning from human feedback, the method of InstructGPT {cite}`ouyang2022instructgpt`.
# :::

# %% tags=["hide-input"]
families = ["VAE", "GAN", "flow", "diffusion", AR]
colors = dict(zip(families, ["tab:green", "tab:blue", "tab:orange", "tab:purple", "tab:red"]))


def decimal_year(month: str) -> float:
    return int(month[:4]) + (int(month[5:7]) - 0.5) / 12


fig, ax = plt.subplots(figsize=(11, 4.8))
for lane, family in enumerate(families):
    ax.axhline(lane, color=colors[family], lw=0.6, alpha=0.4)
    rows = [r for r in TIMELINE if r[3] == family]
    for i, (first, published, what, *_) in enumerate(rows):
        t = decimal_year(first)
        ax.plot(t, lane, "o", color=colors[family], ms=8)
        ax.annotate(what.split(" (")[0], (t, lane), xytext=(0, 10 if i % 2 == 0 else -16),
                    textcoords="offset points", ha="center", fontsize=8)
t_chat, ar_lane = decimal_year(CHATGPT[0]), families.index(AR)
ax.plot(t_chat, ar_lane, "*", color="tab:red", ms=15)
ax.annotate("ChatGPT", (t_chat, ar_lane), xytext=(0, 10), textcoords="offset points",
            ha="center", fontsize=8, fontweight="bold")
ax.set_yticks(range(len(families)), [f.replace(" (", "\n(") for f in families])
ax.set_ylim(-0.7, len(families) - 0.3)
ax.set_xlim(2012.8, 2023.5)
ax.set_xlabel("first public version (arXiv)")
ax.set_title("Deep generative models since 2013: when each family and its milestones appeared")
ax.grid(axis="x", alpha=0.3)
plt.show()

# %% [markdown]
# Five families run through the figure, each a different way to define and train $p_\theta(x)$. This course
# teaches the VAE, GAN and diffusion threads in depth (Parts II, III and VI), and the autoregressive
# Transformer at the scale of a tiny poem model (1.4).
#
# :::{dropdown} The five families, one by one
# **Latent-variable models** (隐变量模型; the VAE) and **adversarial models** (the GAN and its refinements:
# DCGAN, WGAN, StyleGAN) led image generation through the late 2010s. **Normalising flows** (归一化流: NICE,
# RealNVP, Glow) are invertible networks whose exact likelihood follows from the change-of-variables
# formula. **Autoregressive models** (自回归模型) factorise $p(x)$ into one element at a time,
# $p(x) = \prod_t p(x_t \mid x_{<t})$: pixel by pixel for images (PixelRNN/PixelCNN), sample by sample for
# audio (WaveNet), token by token for text. The Transformer is not a family but an *architecture*, the one
# that nearly all autoregressive language models now use. It was introduced in 2017 for translation;
# recurrent networks remained the usual language models until the Transformer-based GPT and BERT of
# 2018–19. Scaled up (GPT-3) and fine-tuned with human feedback (InstructGPT), autoregressive Transformers
# became the chat assistants of late 2022; DALL·E used one to generate images as sequences of tokens.
# **Diffusion models** (扩散模型) were proposed in 2015. Score-based models (2019) learnt the same thing from
# another angle and were already competitive on small images; DDPM (2020) made diffusion simple and strong,
# and in 2021 it overtook the best GANs on ImageNet ("diffusion models beat GANs"). The two views met in the
# score SDE, which also gave a deterministic sampler, the probability-flow ODE; flow matching (2022) trains
# such an ODE directly. Running them in a VAE's latent space (latent diffusion) made text-to-image
# generation cheap enough for the public.
# :::
#
# ## How text, image, audio and video generators are built
#
# Whatever the medium, a generator turns something simple (noise, a prompt, or both) into content through
# a learned network, and sampling decides the randomness. The diagram shows the common structure of the four
# kinds of system. It is a schema, not a description of a particular product: real systems differ in their
# details.

# %% tags=["hide-input"]
def draw_pipeline(ax, y, steps, color, loop=False):
    """Boxes (label, width) left to right at height y, joined by arrows; optionally a loop."""
    x, centres = 0.0, []
    for label, width in steps:
        ax.add_patch(FancyBboxPatch((x, y - 0.32), width, 0.64, boxstyle="round,pad=0.02",
                                    fc=color, ec="0.3", alpha=0.9))
        ax.text(x + width / 2, y, label, ha="center", va="center", fontsize=8)
        centres.append((x, x + width))
        x += width + 0.45
    for (_, right), (left, _) in zip(centres, centres[1:]):
        ax.add_patch(FancyArrowPatch((right + 0.02, y), (left - 0.02, y), arrowstyle="-|>",
                                     mutation_scale=12, color="0.2"))
    if loop:  # the sampled token joins the context: back from box 4 to box 3
        ax.add_patch(FancyArrowPatch((sum(centres[3]) / 2, y + 0.34),
                                     (sum(centres[2]) / 2, y + 0.34),
                                     connectionstyle="arc3,rad=0.5", arrowstyle="-|>",
                                     mutation_scale=12, color="tab:red"))
        ax.text((sum(centres[2]) + sum(centres[3])) / 4, y + 1.1,
                "append the token to the context, repeat",
                ha="center", fontsize=7, color="tab:red")


pipelines = [
    ("text (1.4)", "#f4cccc", True,
     [("prompt", 1.1), ("tokenizer\n(text → ids)", 1.6),
      ("Transformer:\np(next token | context)", 2.4),
      ("sample (temperature,\ntop-k)", 2.2), ("text", 0.9)]),
    ("image (Parts II–IV)", "#cfe2f3", False,
     [("noise z ~ N(0, I)\n(+ prompt)", 1.9), ("generator G(z), or\ndenoiser, T steps", 2.2),
      ("(latent → pixel\ndecoder)", 1.7), ("image", 1.0)]),
    ("audio (speech)", "#d9ead3", False,
     [("text", 0.9), ("acoustic model", 1.6), ("spectrogram\n(time × frequency)", 1.9),
      ("vocoder", 1.2), ("waveform", 1.2)]),
    ("video", "#ead1dc", False,
     [("prompt\n+ noise", 1.2), ("text encoder", 1.5),
      ("denoiser over\nframes × pixels (latent)", 2.4),
      ("decoder\nper frame", 1.4), ("frames", 1.0)]),
]
fig, ax = plt.subplots(figsize=(11, 5.6))
for row, (name, color, loop, steps) in enumerate(pipelines):
    y = 3 * 1.5 - row * 1.5
    ax.text(-0.25, y, name, ha="right", va="center", fontsize=9, fontweight="bold")
    draw_pipeline(ax, y, steps, color, loop)
ax.set_xlim(-2.6, 10.4)
ax.set_ylim(-0.7, 6.0)
ax.axis("off")
ax.set_title("Four kinds of generators: noise and/or a prompt in, a learned network, content out")
plt.show()

# %% [markdown]
# * **Text** is generated **autoregressively** (自回归): a Transformer gives the probability of the next
#   token (a character or word piece) given everything so far; one token is sampled, appended, and the
#   model runs again. 1.4 builds this loop on a tiny model.
# * **Images** come from noise through one network pass (GAN generator, VAE decoder) or through many
#   denoising steps (diffusion); text-to-image systems also feed in an encoding of the prompt, and latent
#   diffusion denoises in a VAE's latent space, then decodes to pixels {cite}`rombach2022ldm`.
# * **Speech** is usually produced in two stages: a model maps text to a spectrogram, and a *vocoder*
#   (声码器) turns the spectrogram into a waveform; vocoders have been autoregressive models (WaveNet
#   {cite}`oord2016wavenet`), GANs (HiFi-GAN {cite}`kong2020hifigan`) and diffusion models (DiffWave
#   {cite}`kong2021diffwave`).
# * **Video** generators extend image diffusion to a stack of frames, denoised together so that the frames
#   stay consistent over time {cite}`ho2022video`; large systems denoise in a compressed latent space, as
#   latent diffusion does for images.
#
# The same few ideas recur: a distribution to sample (Gaussian noise, or a softmax over tokens), a network
# that transforms it, and a training objective that makes the transformed distribution match the data.
#
# ## Where the course goes next
#
# * **1.2 Probability toolkit:** densities, likelihood, entropy, KL and Jensen–Shannon divergences, Monte
#   Carlo estimates: the language in which every generative model is trained and judged.
# * **1.3 Network essentials:** the layers generators are made of (convolutions and transposed
#   convolutions, normalisation, activations) and how to check their shapes and gradients.
# * **1.4 Attention and text generation:** scaled dot-product attention and a small character-level
#   Transformer that writes (pseudo-)classical Chinese poems.
# * **Part II** derives the GAN game and its pitfalls, **Part III** the VAE and its bound, **Part IV**
#   trains both on Fashion-MNIST and measures them, and **Part V** puts them to work (interpolation,
#   denoising, anomaly detection, data augmentation, compression, responsible use).
#
# ## Exercises
#
# Each exercise has a checker: run the cell to see whether your answer is right. It names the common
# mistake your answer matches, if any. `ch1.q11a.hint()` gives a hint; the solution is in the collapsed
# block below each exercise. The warm-ups practise what the page shows; the exercises after them ask you to
# predict, apply, investigate or debug something the page does not show.
#
# ### 1.1a Warm-up: the density of a mixture
#
# Write `mixture_log_density(x, weights, means, stds)`: the
# log-density of the 1-D mixture $\sum_k w_k\, \mathcal N(x; \mu_k, \sigma_k^2)$ at the points `x` (a 1-D
# tensor; the other arguments are 1-D tensors of length $K$). It must stay finite far away from every mode,
# where each component's density underflows to 0.

# %%
def mixture_log_density(x, weights, means, stds):
    ...  # your code


ch1.q11a.check(mixture_log_density);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# from torch.distributions import Normal
#
# def mixture_log_density(x, weights, means, stds):
#     log_components = Normal(means, stds).log_prob(x[:, None])       # (N, K)
#     return torch.logsumexp(weights.log() + log_components, dim=1)   # (N,)
# ```
# The density is a weighted *sum*, so its log is $\log \sum_k \exp(\log w_k + \log \mathcal N_k)$, a
# log-sum-exp. `torch.logsumexp` subtracts the largest term before exponentiating, so it never takes the log
# of an underflowed 0. Averaging the log-densities, $\sum_k w_k \log \mathcal N_k$, is a common mistake: by
# Jensen's inequality it is only a lower bound.
# :::

# %% tags=["hide-cell"]
def reference_mixture_log_density(x, weights, means, stds):
    log_components = torch.distributions.Normal(means, stds).log_prob(x[:, None])  # (N, K)
    return torch.logsumexp(weights.log() + log_components, dim=1)


assert ch1.q11a.check(reference_mixture_log_density, quiet=True)

# %% [markdown]
# ### 1.1b Warm-up: sampling a mixture
#
# Write `sample_mixture(n, weights, means, stds, generator)`: `n`
# samples of the same 1-D mixture, as a 1-D tensor, drawing all randomness from `generator` (so that the
# result is reproducible). The checker compares the distribution of your samples with the mixture's.

# %%
def sample_mixture(n, weights, means, stds, generator):
    ...  # your code


ch1.q11b.check(sample_mixture);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def sample_mixture(n, weights, means, stds, generator):
#     k = torch.multinomial(weights, n, replacement=True, generator=generator)  # a component each
#     return means[k] + stds[k] * torch.randn(n, generator=generator, dtype=means.dtype)
# ```
# Ancestral sampling: first the component, then the point. Averaging one draw of every component,
# $\sum_k w_k(\mu_k + \sigma_k \varepsilon_k)$, is a different distribution: a single Gaussian, with one
# mode instead of $K$.
# :::

# %% tags=["hide-cell"]
def reference_sample_mixture(n, weights, means, stds, generator):
    k = torch.multinomial(weights, n, replacement=True, generator=generator)
    return means[k] + stds[k] * torch.randn(n, generator=generator, dtype=means.dtype)


assert ch1.q11b.check(reference_sample_mixture, quiet=True)

# %% [markdown]
# ### 1.1c Predict: how many modes does a small sample miss?
#
# The fitted mixture gives each of its 25 components a weight close to $1/25$. Draw only $n = 50$ samples
# from a mixture with exactly equal weights, two per component on average. On average, how many of the 25
# components receive **no** sample at all? Write down a number before computing anything; the checker
# simulates it and shows both numbers.

# %%
answer = ...  # your prediction: the mean number of empty components

ch1.q11c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# By linearity of expectation, the mean number of empty components is 25 times the probability that one
# given component is missed by all 50 independent draws, $(1 - 1/25)^{50} \approx e^{-2} \approx 0.13$:
# ```python
# answer = 25 * (1 - 1 / 25) ** 50   # about 3.2
# ```
# About three components stay empty even though the model has all 25. So a handful of samples that "misses
# modes" is no evidence that a generator has dropped them: mode-coverage checks (Part IV) use many more
# samples than modes, for exactly this reason.
# :::

# %% tags=["hide-cell"]
assert ch1.q11c.check(25 * (1 - 1 / 25) ** 50, quiet=True)

# %% [markdown]
# ### 1.1d Investigate: when does logistic regression win?
#
# On this page the generative classifier (class means, one pooled covariance, Bayes' rule) and logistic
# regression tie, because the data are what the generative model assumes. {cite}`ng2001discriminative`
# show that, given enough data, the discriminative model does at least as well, and better when that
# assumption is wrong. Find data where it wins clearly: write
# `make_data(n, generator)` returning `(x, y)`, `n` points in 2-D with labels 0 and 1 (each class at least
# 10%), drawn with `generator`, on which logistic regression beats the generative classifier by at least
# 0.03 in test accuracy. The checker fits both on 1 000 of your points and tests them on 10 000 fresh ones.

# %%
def make_data(n, generator):
    ...  # your code: return x (n, 2), y (n,)


ch1.q11d.check(make_data);

# %% [markdown]
# :::{dropdown} Solution
# Both rules draw a straight boundary; they differ in what they fit. The generative model must explain
# *every* point, so points far from the boundary, which are easy to classify, still move its class mean and
# pooled covariance, and the boundary moves with them. Logistic regression fits only $p(y \mid x)$, and a
# point that it already classifies confidently barely pulls on it. So move some points of class 1 far
# away on their own side:
# ```python
# def make_data(n, generator):
#     y = (torch.rand(n, generator=generator) < 0.5).long()
#     x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
#     far = torch.rand(n, generator=generator) < 0.3                   # 30% of class 1 ...
#     x[y == 1] += torch.tensor([2.0, 0.0], dtype=torch.float64)
#     x[(y == 1) & far] += torch.tensor([10.0, 0.0], dtype=torch.float64)  # ... far on its own side
#     return x, y
# ```
# The generative classifier's boundary slides towards class 1 and misclassifies many of its ordinary
# points; logistic regression keeps the boundary where the classes overlap. With a wrong model of
# $p(x \mid y)$, the generative classifier's extra assumptions cost accuracy. When they are right (as on this
# page), they are free information, and the generative model needs fewer samples.
# :::

# %% tags=["hide-cell"]
def make_data_solution(n, generator):
    y = (torch.rand(n, generator=generator) < 0.5).long()
    x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    far = torch.rand(n, generator=generator) < 0.3
    x[y == 1] += torch.tensor([2.0, 0.0], dtype=torch.float64)
    x[(y == 1) & far] += torch.tensor([10.0, 0.0], dtype=torch.float64)
    return x, y


assert ch1.q11d.check(make_data_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * AIGC is content sampled from a generative model. A generative model describes the data, $p(x)$ or
#   $p(x \mid y)$; a discriminative model only $p(y \mid x)$. With Bayes' rule a generative model also
#   classifies, and for shared-covariance Gaussians it gives exactly logistic regression's form.
# * Generating is sampling: fit $p_\theta$ to data (here by EM on a Gaussian mixture), then draw noise and
#   transform it. Deep generators (GAN, VAE, diffusion, Transformers) do the same with networks.
# * Neural generative models are older than 2013 (neural language models, deep belief nets, NADE); from
#   2013–14 they became trainable end to end at scale. Five families followed: VAEs, GANs, normalising
#   flows, autoregressive models (on the Transformer architecture since 2017–18) and diffusion models.
#   Scaled-up autoregressive Transformers and latent diffusion made AIGC public in 2022.
