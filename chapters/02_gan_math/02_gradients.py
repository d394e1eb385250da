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
# # 2.2 Gradients and the training algorithm

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("02_gradients")

# %% [markdown]
# Section 2.1 solved the game in the space of *functions*: the best discriminator, and the divergence the
# generator would then minimise. Networks do not move in function space. They change their parameters by
# gradient steps, and everything $G$ learns arrives as a gradient that has passed *through* $D$. This
# section follows that gradient:
#
# 1. the losses written as functions of the discriminator's **logit**, and why the course computes them
#    with `softplus`;
# 2. **saturating vs non-saturating** (饱和与非饱和) generator losses: the gradients derived, measured
#    with autograd, seen in a small training run, and what each one minimises against the optimal
#    discriminator;
# 3. the **chain rule** from the loss through $D$ into the generator's parameters, written out by hand and
#    checked against autograd;
# 4. **Algorithm 1** of Goodfellow et al. {cite}`goodfellow2014gan` in a few lines, trained on 1-D data and
#    animated, and then the course trainer doing the same thing.

# %%
import copy
import math
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import aigc_course as ac
from numpy.polynomial.hermite_e import hermegauss
from scipy import integrate, stats

from aigc_course import gan, losses, plotting, train
from aigc_course.exercises import ch2
from aigc_course.plotting import glue

ac.set_seed(0)
ac.runtime.set_threads(1)  # networks of a few thousand weights: one CPU thread is fastest
print(ac.describe(torch.device("cpu")))  # this page runs on the CPU, whatever the machine has

# %% [markdown]
# ## The losses as functions of the logit
#
# The course's discriminators return a logit $\ell$, and $D = \sigma(\ell)$. Two identities turn every GAN
# loss into a **softplus** (软加函数), $\operatorname{softplus}(t) = \log(1 + e^{t})$:
#
# $$
# \log \sigma(\ell) = -\operatorname{softplus}(-\ell), \qquad
# \log\big(1 - \sigma(\ell)\big) = \log \sigma(-\ell) = -\operatorname{softplus}(\ell).
# $$
#
# | who | loss per sample | with the logit $\ell$ | in `aigc_course.losses` |
# |---|---|---|---|
# | $D$, real sample $x$ | $-\log D(x)$ | $\operatorname{softplus}(-\ell)$ | `gan_d_loss` (first term) |
# | $D$, fake sample $G(z)$ | $-\log(1 - D(G(z)))$ | $\operatorname{softplus}(\ell)$ | `gan_d_loss` (second term) |
# | $G$, **saturating** (the minimax loss) | $\log(1 - D(G(z)))$ | $-\operatorname{softplus}(\ell)$ | `gan_g_saturating` |
# | $G$, **non-saturating** | $-\log D(G(z))$ | $\operatorname{softplus}(-\ell)$ | `gan_g_nonsaturating` |
#
# The two forms are equal on paper but not in float32. $\sigma(\ell)$ rounds to exactly 1 once $\ell$ is above
# {glue:text}`e22_sig_one:.1f`, so $\log(1 - \sigma(\ell)) = \log 0 = -\infty$. Below
# {glue:text}`e22_sig_zero:.1f`, $e^{-\ell}$ overflows and `torch.sigmoid` returns exactly 0. `softplus`
# never forms $\sigma(\ell)$, so it has neither problem. A folded cell checks that the package's losses
# are the formulas in the table; then we compare the two forms at large logits.

# %% tags=["hide-input"]
gen = torch.Generator().manual_seed(0)
real_logits = 3 * torch.randn(64, generator=gen, dtype=torch.float64)
fake_logits = 3 * torch.randn(48, generator=gen, dtype=torch.float64)
d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)

torch.testing.assert_close(losses.gan_d_loss(real_logits, fake_logits),
                           -torch.log(d_real).mean() - torch.log(1 - d_fake).mean())
torch.testing.assert_close(losses.gan_g_saturating(fake_logits), torch.log(1 - d_fake).mean())
torch.testing.assert_close(losses.gan_g_nonsaturating(fake_logits), -torch.log(d_fake).mean())
# gan_d_loss is binary cross-entropy with label 1 for real and 0 for fake samples:
torch.testing.assert_close(losses.gan_d_loss(real_logits, fake_logits),
                           F.binary_cross_entropy_with_logits(real_logits,
                                                              torch.ones_like(real_logits))
                           + F.binary_cross_entropy_with_logits(fake_logits,
                                                                torch.zeros_like(fake_logits)))

# %%
big = torch.tensor([-120.0, -30.0, 0.0, 30.0, 120.0])  # float32, as in training
print("logit    log(1-sigmoid) naive   -softplus(l)   |   log(sigmoid) naive   -softplus(-l)")
for t in big:
    print(f"{t.item():6.0f}   {torch.log(1 - torch.sigmoid(t)).item():16.4f}   "
          f"{-F.softplus(t).item():12.4f}   |"
          f"   {torch.log(torch.sigmoid(t)).item():16.4f}   {-F.softplus(-t).item():12.4f}")
assert torch.isinf(torch.log(1 - torch.sigmoid(big[3:]))).all()  # logits 30, 120
assert torch.isinf(torch.log(torch.sigmoid(big[:1]))).all()      # logit -120
assert torch.isfinite(torch.stack([losses.gan_g_saturating(big), losses.gan_g_nonsaturating(big),
                                   losses.gan_d_loss(big, big)])).all()

# %% tags=["hide-input"]
grid = torch.arange(0, 120, 0.01)                       # float32 logits
sig_one = grid[torch.sigmoid(grid) == 1][0].item()      # the first logit where sigma(l) == 1
sig_zero = -grid[torch.sigmoid(-grid) == 0][0].item()   # the first negative logit where it is 0
assert abs(sig_zero + math.log(torch.finfo(torch.float32).max)) < 0.02  # where e^{-l} overflows
glue("e22_sig_one", float(sig_one), display=False)
glue("e22_sig_zero", float(sig_zero), display=False)

# %% [markdown]
# A discriminator that ends in `nn.Sigmoid` and is trained with `nn.BCELoss` does not return $-\infty$:
# PyTorch clamps each log at $-100$. Several of the source articles use this combination. It does lose the
# **gradient**, though: take the generator's non-saturating loss $-\log D$ (label 1) on fakes that $D$
# rejects with logits $-30$ and $-120$. The correct gradient with respect to the logit is
# $-(1 - D) \approx -1$; `Sigmoid` + `BCELoss` returns {glue:text}`e22_grad_m30:.3f` at $-30$ and
# exactly 0 at $-120$ (the cell below prints the values; its code is folded).
# `binary_cross_entropy_with_logits` never forms $\sigma(\ell)$ and returns the exact
# $\sigma(\ell) - 1$ at both logits. In each case the gradient is lost where the generator needs it
# most.
#
# :::{dropdown} Where the gradient goes: the backward clamp and the underflow of `BCELoss`
# * At $\ell = -30$, $D = \sigma(-30) =$ {glue:text}`e22_d_m30:.1e` is an ordinary float32 number and
#   $\log D = -30$ is far from the clamp at $-100$: the forward pass is exact. The gradient is lost in
#   the **backward** pass. To avoid dividing by zero, PyTorch computes
#   $\partial\,\mathrm{BCE}/\partial D = (D - y) / \max\big(D(1 - D), \epsilon\big)$ with
#   $\epsilon = 10^{-12}$. Once $D(1 - D) < \epsilon$, that is for logits below
#   $\operatorname{logit}(10^{-12}) =$ {glue:text}`e22_clamp_logit:.1f`, the denominator is clamped.
#   The chain rule through the sigmoid then multiplies by $\sigma'(\ell) = D(1 - D)$, and instead of
#   $-1$ the gradient is $(D - 1)\,D(1-D)/\epsilon \approx -D/\epsilon$: {glue:text}`e22_grad_m30:.3f`
#   at $\ell = -30$. It shrinks by a factor $e$ with every unit the logit falls.
# * At $\ell = -120$, $\sigma(\ell) \approx 10^{-52}$ is below the smallest positive float32 number
#   (about $1.4\cdot10^{-45}$) and **underflows** to exactly 0. Now the forward pass does hit the log clamp
#   (the loss is exactly 100), and the sigmoid's derivative $\sigma(1 - \sigma)$ is exactly 0: nothing
#   flows back, whatever the loss does with its denominator.
#
# The row "predicted from the clamp" below is $(D - 1)\,D(1-D)/\max\big(D(1-D), \epsilon\big)$: it
# reproduces PyTorch's gradient at every logit.
# :::

# %% tags=["hide-input"]
logits = torch.tensor([-120.0, -30.0, -28.0, -5.0], requires_grad=True)  # float32
ones = torch.ones(len(logits))
probs = torch.sigmoid(logits)
(grad_probs,) = torch.autograd.grad(F.binary_cross_entropy(probs, ones, reduction="sum"), logits)
(grad_logits,) = torch.autograd.grad(
    F.binary_cross_entropy_with_logits(logits, ones, reduction="sum"), logits)
EPS_BCE = 1e-12  # the clamp in PyTorch's backward of binary_cross_entropy
d, d_prime = probs.detach(), (probs * (1 - probs)).detach()  # D and sigma'(l) = D(1 - D)
predicted = (d - 1) / torch.clamp(d_prime, min=EPS_BCE) * d_prime  # dBCE/dD * dD/dl
print("logit                      ", logits.tolist())
print("sigmoid(logit) in float32  ", [f"{p:.2e}" for p in probs.tolist()])
print("Sigmoid + BCELoss          ", [round(g, 4) for g in grad_probs.tolist()])
print("predicted from the clamp   ", [round(g, 4) for g in predicted.tolist()])
print("BCE with logits (softplus) ", [round(g, 4) for g in grad_logits.tolist()])
torch.testing.assert_close(grad_logits, torch.sigmoid(logits.detach()) - 1)  # exact everywhere
torch.testing.assert_close(grad_probs, predicted)  # the backward clamp explains every value
assert probs[0] == 0 and grad_probs[0] == 0       # -120: sigmoid underflowed, so did the gradient
assert probs[1] > 0 and torch.log(probs[1]) > -100  # -30: D representable, log not clamped
assert F.binary_cross_entropy(probs[:1], ones[:1]).item() == 100.0  # -120: the log clamp, forward
torch.testing.assert_close(grad_probs[1], -torch.sigmoid(torch.tensor(-30.0)) / EPS_BCE)
clamp_logit = math.log(EPS_BCE / (1 - EPS_BCE))  # below this logit D(1 - D) < eps

# %% tags=["hide-input"]
glue("e22_clamp_logit", float(clamp_logit), display=False)
glue("e22_grad_m30", float(grad_probs[1].item()), display=False)
glue("e22_d_m30", float(probs[1].item()), display=False)

# %% [markdown]
# ## Saturating and non-saturating generator losses
#
# The minimax game asks $G$ to minimise $\log(1 - D(G(z)))$. Goodfellow et al. point out that early in
# training, when $G$ is poor, $D$ rejects the fakes with high confidence, and then this loss **saturates**
# (饱和): its gradient vanishes. They suggest that $G$ maximise $\log D(G(z))$ instead
# {cite}`goodfellow2014gan`. Both losses push $D(G(z))$ up, but they do it with very different strength.
# Differentiate with respect to the logit, using $\sigma'(\ell) = \sigma(\ell)\,(1 - \sigma(\ell))$:
#
# $$
# \frac{\partial}{\partial \ell} \log\big(1 - \sigma(\ell)\big) = -\sigma(\ell) = -D, \qquad
# \frac{\partial}{\partial \ell} \big(-\log \sigma(\ell)\big) = -\big(1 - \sigma(\ell)\big) = -(1 - D).
# $$
#
# Both derivatives are negative, so lowering either loss raises the logit. Their sizes are $D$ and $1 - D$,
# and their ratio is
#
# $$
# \frac{|\partial_\ell\, \text{non-saturating}|}{|\partial_\ell\, \text{saturating}|} = \frac{1 - D}{D}.
# $$
#
# When $D(G(z)) = 10^{-3}$, the non-saturating loss pushes about a thousand times harder.
#
# The vanishing comes from the **sigmoid**, not from the logarithm. With respect to $D$ itself,
# $\partial_D \log(1 - D) = -1/(1 - D)$, which tends to $-1$ as $D \to 0$ and is not small at all. The chain
# rule through $\sigma$ multiplies it by $\sigma'(\ell) = D(1 - D) \approx D$. This is why a derivative "with
# respect to $D$" is not the gradient the generator receives (see "The chain rule from the loss to the
# generator's parameters" below).
#
# We measure both gradients with autograd, one sample per $D$ value. The package losses average over the
# batch, so we multiply the loss by the batch size to get per-sample derivatives.

# %%
d_values = torch.tensor([1e-6, 1e-4, 1e-2, 0.1, 0.5, 0.9, 0.99], dtype=torch.float64)


def logit_grad(loss_fn, d):
    """d(loss)/d(logit) for one sample at each probability in d."""
    logit = torch.logit(d).requires_grad_()
    (grad,) = torch.autograd.grad(loss_fn(logit) * len(d), logit)
    return grad


g_sat, g_ns = (logit_grad(losses.gan_g_saturating, d_values),
               logit_grad(losses.gan_g_nonsaturating, d_values))
print("D(G(z))      |grad| saturating   |grad| non-saturating   ratio   (1-D)/D")
for d, s, n in zip(d_values, g_sat, g_ns):
    print(f"{d.item():8.2g}   {abs(s.item()):16.2e}   {abs(n.item()):20.4f}   "
          f"{(n / s).item():8.1e}   {((1 - d) / d).item():8.1e}")
torch.testing.assert_close(g_sat, -d_values)
torch.testing.assert_close(g_ns, -(1 - d_values))
torch.testing.assert_close(g_ns / g_sat, (1 - d_values) / d_values)

# %%
d_axis = torch.logspace(-5, math.log10(0.999), 200, dtype=torch.float64)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.plot(d_axis, torch.log(1 - d_axis), label=r"saturating: $\log(1 - D)$")
ax1.plot(d_axis, -torch.log(d_axis), label=r"non-saturating: $-\log D$")
ax1.set_ylabel("generator loss (minimised)")
ax2.loglog(d_axis, logit_grad(losses.gan_g_saturating, d_axis).abs(), label="saturating: $D$")
ax2.loglog(d_axis, logit_grad(losses.gan_g_nonsaturating, d_axis).abs(),
           label="non-saturating: $1 - D$")
ax2.set_ylabel(r"$|\partial\,\mathrm{loss} / \partial \ell|$ (autograd)")
for ax in (ax1, ax2):
    ax.set_xscale("log")
    ax.set_xlabel(r"$D(G(z))$: 0 = rejected, 1 = fooled")
    ax.axvspan(1e-5, 1e-2, color="0.92", zorder=0)
    ax.legend(fontsize=8)
ax1.text(1.5e-5, 6, "early training:\nD rejects the fakes", fontsize=8)
fig.suptitle("The two generator losses (left) and their gradients with respect to the logit")
plt.show()

# %% [markdown]
# Two more derivatives come from the same table. The discriminator's loss on a fake,
# $\operatorname{softplus}(\ell)$, has derivative $+D$: descending it *lowers* the fake's logit. And if
# someone adds the generator's and the discriminator's fake terms into one "total GAN loss", as some of the
# source articles do, its derivative is $-(1 - D) + D = 2D - 1$. That sum is smallest where
# $D(G(z)) = \tfrac12$. Instead of fooling the discriminator, the generator would only look for places where
# $D$ is undecided, and those need not be where the data is. A GAN has two losses, and each player minimises
# its own with respect to its own parameters.

# %%
# D's loss on a fake sample
g_d_fake = logit_grad(lambda logit: F.softplus(logit).mean(), d_values)
g_total = logit_grad(lambda logit: losses.gan_g_nonsaturating(logit) + F.softplus(logit).mean(),
                     d_values)
torch.testing.assert_close(g_d_fake, d_values)
torch.testing.assert_close(g_total, 2 * d_values - 1)

# %% [markdown]
# ### What saturation does to training
#
# A real generator gets a weighted sum of such per-sample gradients. For parameters $\theta_g$,
#
# $$
# \nabla_{\theta_g} \mathcal L_G = -\frac1m \sum_{i=1}^m w_i \, \nabla_{\theta_g} \ell\big(G(z_i)\big), \qquad
# w_i = D(G(z_i)) \ \text{(saturating)} \quad\text{or}\quad w_i = 1 - D(G(z_i)) \ \text{(non-saturating)} .
# $$
#
# The weights differ in two ways. The saturating loss has a small *overall scale* when $D$ wins. It also
# *reweights* the samples: it learns mostly from the fakes that already fool $D$, while the non-saturating
# loss learns mostly from those $D$ rejects. At $D(G(z)) = \tfrac12$ the two weights are equal, but that
# does not make the two losses interchangeable: away from the equilibrium they follow different
# objectives, as the next subsection shows.
#
# We recreate the start of training on 1-D data, $p_{\text{data}} = \mathcal N(2, 0.5^2)$, with the course's
# MLPs: two hidden layers of 32 units, and an 8-dimensional noise vector $z$. (With a single noise dimension,
# the ReLU generator is a piecewise-linear function of one number, and in our runs it tended to cut off a
# tail of the distribution.) The generator starts with its samples near 0. First we train the discriminator
# for 200 steps until it rejects them. Then we run the alternating updates with **plain SGD**, once with each
# generator loss, starting from identical copies. (Goodfellow et al. used SGD *with momentum*; we leave the
# momentum out so that every step is proportional to the current gradient and the difference in gradient
# size shows directly.) We record how many steps the generator needs to bring its mean past 1, halfway to
# the data.

# %%
MU, SIGMA = 2.0, 0.5  # p_data = N(2, 0.5^2) for the rest of this page


def sample_data(m):
    return MU + SIGMA * torch.randn(m, 1)  # (m, 1)


cfg = ac.GANConfig(kind="mlp", z_dim=8, data_dim=1, hidden=32, depth=2)
torch.manual_seed(0)
G0, D0 = gan.build_gan(cfg)
opt = torch.optim.Adam(D0.parameters(), lr=1e-3)
for _ in range(200):  # let D win first, as it does early in real training
    d_loss = losses.gan_d_loss(D0(sample_data(256)), D0(G0(G0.noise(256)).detach()))
    opt.zero_grad()
    d_loss.backward()
    opt.step()
with torch.no_grad():
    d_fake0 = torch.sigmoid(D0(G0.sample(4000)))  # (4000,): how D judges the generator's samples
print(f"after 200 D steps: mean D(G(z)) = {d_fake0.mean():.4f}")
assert d_fake0.mean() < 0.05  # D rejects the fakes, as early in real training


def alternate_sgd(G, D, g_loss_fn, steps=200, lr=0.01, m=256):
    """Alternating plain-SGD steps (k = 1); the mean of each generated batch and
    its mean D(G(z))."""
    opt_d, opt_g = torch.optim.SGD(D.parameters(), lr=lr), torch.optim.SGD(G.parameters(), lr=lr)
    means, d_fakes = [], []
    for _ in range(steps):
        d_loss = losses.gan_d_loss(D(sample_data(m)), D(G(G.noise(m)).detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        fake = G(G.noise(m))       # (m, 1)
        fake_logits = D(fake)      # (m,)
        g_loss = g_loss_fn(fake_logits)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        means.append(fake.mean().item())
        d_fakes.append(torch.sigmoid(fake_logits).mean().item())
    return np.array(means), np.array(d_fakes)


runs = {name: alternate_sgd(copy.deepcopy(G0), copy.deepcopy(D0), loss_fn)
        for name, loss_fn in [("saturating", losses.gan_g_saturating),
                              ("non-saturating", losses.gan_g_nonsaturating)]}
halfway = {name: int(np.argmax(means > 1.0)) if (means > 1.0).any() else len(means)
           for name, (means, _) in runs.items()}
print("steps until the mean of G(z) passes 1:", halfway)
assert halfway["saturating"] > 3 * halfway["non-saturating"]
sat_means = runs["saturating"][0]
assert halfway["saturating"] < len(sat_means)  # the saturating generator gets there too,
assert sat_means.max() > MU                    # and overshoots the data mean

# %% tags=["hide-input"]
glue("e22_d_fake0", float(d_fake0.mean().item()), display=False)
# mean per-sample weight of the non-saturating loss over that of the saturating one
glue("e22_weight_ratio", float(((1 - d_fake0).mean() / d_fake0.mean()).item()), display=False)
glue("e22_halfway_sat", int(halfway["saturating"]), display=False)
glue("e22_halfway_ns", int(halfway["non-saturating"]), display=False)
glue("e22_sat_peak", float(sat_means.max()), display=False)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
for name, (means, d_fakes) in runs.items():
    ax1.plot(means, label=name)
    ax2.semilogy(d_fakes, label=name)
ax1.axhline(MU, ls=":", color="0.4")
ax1.set_ylabel("mean of the generated batch")
ax2.set_ylabel("mean $D(G(z))$")
for ax in (ax1, ax2):
    ax.set_xlabel("step (plain SGD)")
    ax.legend(fontsize=8)
fig.suptitle("Same start, plain SGD: the saturating generator waits, then overshoots")
plt.show()

# %% [markdown]
# After the 200 discriminator steps, the mean of $D(G(z))$ is {glue:text}`e22_d_fake0:.3f`, so the
# per-sample weights $1 - D$ of the non-saturating loss are on average {glue:text}`e22_weight_ratio:.0f`
# times the weights $D$ of the saturating one. With plain SGD the non-saturating generator crosses the
# halfway mark after {glue:text}`e22_halfway_ns` steps, the saturating one only after
# {glue:text}`e22_halfway_sat`. It does get there: as it creeps towards the data, $D(G(z))$ grows, its
# gradient grows with it, and it catches up abruptly and overshoots (its batch mean peaks at
# {glue:text}`e22_sat_peak:.2f`, beyond the data mean 2). In high dimensions a
# discriminator can separate the fakes almost perfectly, and then this slow start can become a stall.
#
# **Adam** changes the picture somewhat. It divides each parameter's step by a running estimate of that
# parameter's gradient size, so a *uniform* scale factor cancels out. What stays is the reweighting of the
# samples, and the risk from gradients that shrink over time. (Try it: put `torch.optim.Adam` into
# `alternate_sgd`.) The course trainer uses the non-saturating loss by default (`TrainConfig(loss="bce")`).
# `loss="saturating"` is available for comparison.
#
# ### Same target, different objectives
#
# Against the optimal discriminator, section 2.1 found what the *saturating* generator faces:
# $C(G) = -\log 4 + 2\,\mathrm{JSD}(p_{\text{data}} \,\|\, p_g)$. What the generator actually uses is a
# gradient, taken with $D^*$ held fixed during its step. Because $D^*$ maximises $V$, a small change of
# $D$ has no first-order effect on $V$ (the envelope theorem), so the frozen-$D^*$ gradient is the
# gradient of the criterion:
#
# $$
# \nabla_\theta\, \mathbb E_z\big[\log\big(1 - D^*(G_\theta(z))\big)\big]
# = \nabla_\theta\, C(G_\theta) = 2\,\nabla_\theta\, \mathrm{JSD}(p_{\text{data}} \,\|\, p_{g_\theta}).
# $$
#
# The non-saturating loss is a different function. Since $(1 - D^*)/D^* = p_g/p_{\text{data}}$,
#
# $$
# -\log D^*(x) = \log\frac{p_g(x)}{p_{\text{data}}(x)} - \log\big(1 - D^*(x)\big).
# $$
#
# Average over $x = G_\theta(z)$ and differentiate, with $D^*$ (and so the $p_g$ inside the first log)
# frozen at the current generator. The second term gives $-2\nabla_\theta \mathrm{JSD}$, as above. The
# first gives $\nabla_\theta \mathrm{KL}(p_{g_\theta} \,\|\, p_{\text{data}})$: differentiating the KL
# itself produces one more term, $\mathbb E_{p_g}[\nabla_\theta \log p_{g_\theta}]
# = \nabla_\theta \int p_{g_\theta} = 0$. This is Theorem 2.5 of Arjovsky and Bottou
# {cite}`arjovsky2017towards`:
#
# $$
# \nabla_\theta\, \mathbb E_z\big[-\log D^*(G_\theta(z))\big]
# = \nabla_\theta \Big[\mathrm{KL}(p_{g_\theta} \,\|\, p_{\text{data}})
#   - 2\,\mathrm{JSD}(p_{g_\theta} \,\|\, p_{\text{data}})\Big].
# $$
#
# Written as one integral, with the mixture $m = \tfrac12(p_g + p_{\text{data}})$, the bracket is itself
# a divergence:
#
# $$
# \mathrm{KL}(p_g \,\|\, p_{\text{data}}) - 2\,\mathrm{JSD}(p_g \,\|\, p_{\text{data}})
# = \int \big(p_g + p_{\text{data}}\big) \log\frac{p_g + p_{\text{data}}}{2\,p_{\text{data}}}\,dx
# = 2\,\mathrm{KL}(m \,\|\, p_{\text{data}}) \;\ge\; 0 .
# $$
#
# What follows from this:
#
# * **The target is the same.** Both criteria are smallest exactly at $p_g = p_{\text{data}}$, where
#   $D^* \equiv \tfrac12$.
# * **The objectives are not.** Away from the target, $2\,\mathrm{JSD}$ and $2\,\mathrm{KL}(m \,\|\,
#   p_{\text{data}})$ are different functions of the generator, so their gradients differ in direction,
#   not only in size, and in parameter space, where neither is convex, the points where training stalls
#   need not be the same. The equal weights at $D = \tfrac12$ do not make the two losses equivalent.
# * **The non-saturating objective is lopsided**, like the reverse KL in it. A generated sample where
#   $p_{\text{data}} \approx 0$ makes the integrand $p_g \log\big(p_g / 2p_{\text{data}}\big)$ as large
#   as you like. Data that $p_g$ misses contributes $p_{\text{data}} \log\tfrac12 = -p_{\text{data}}\log 2$,
#   a bounded (here even negative) amount: dropping part of the data is penalised, but less than by
#   $2\,\mathrm{JSD}$. For data made of eight equal, well-separated modes, a generator that reproduces
#   seven of them exactly pays {glue:text}`e22_drop1_ns:.3f` nats on the non-saturating criterion against
#   {glue:text}`e22_drop1_sat:.3f` on $2\,\mathrm{JSD}$, {glue:text}`e22_drop1_ratio:.0f`% as much (computed
#   below; section 2.3 asks what this means for mode collapse).
#
# We check both gradient identities on Gaussians. The generator is $G_\theta(z) = \mu + s z$, so
# $p_{g_\theta} = \mathcal N(\mu, s^2)$, against $p_{\text{data}} = \mathcal N(2, 0.5^2)$. The left-hand
# sides are what backpropagation through the frozen $D^*$ computes, averaged over $z$ exactly by
# Gauss–Hermite quadrature. The right-hand sides are finite differences of the divergences, computed by
# adaptive quadrature (the KL in closed form). The code is folded; its table shows both identities.

# %% tags=["hide-input"]
p_data = stats.norm(MU, SIGMA)
nodes, weights = hermegauss(150)                 # E f(z), z ~ N(0, 1) = sum(weights * f(nodes))
Z_NODES = torch.from_numpy(nodes)
Z_WEIGHTS = torch.from_numpy(weights / math.sqrt(2 * math.pi))


def log_normal(x, mu, sd):
    return -0.5 * ((x - mu) / sd) ** 2 - math.log(sd) - 0.5 * math.log(2 * math.pi)


def frozen_d_star_gradients(mu0, sd0):
    """Gradients w.r.t. (mu, sd), at (mu0, sd0), of E_z of both generator losses for
    G(z) = mu + sd z against D* of N(mu0, sd0^2), held fixed: what backprop computes."""
    theta = torch.tensor([mu0, sd0], dtype=torch.float64, requires_grad=True)
    x = theta[0] + theta[1] * Z_NODES                           # G(z) at the nodes
    logit = log_normal(x, MU, SIGMA) - log_normal(x, mu0, sd0)  # l* = log p_data - log p_g(frozen)
    nonsat = (Z_WEIGHTS * F.softplus(-logit)).sum()             # E_z[-log D*(G(z))]
    sat = -(Z_WEIGHTS * F.softplus(logit)).sum()                # E_z[log(1 - D*(G(z)))]
    return [torch.autograd.grad(loss, theta, retain_graph=True)[0].numpy()
            for loss in (nonsat, sat)]


def by_quadrature(integrand, mu, sd):
    lo, hi = min(MU, mu) - 12 * max(SIGMA, sd), max(MU, mu) + 12 * max(SIGMA, sd)
    return integrate.quad(integrand, lo, hi, points=[MU, mu], limit=200, epsabs=1e-13)[0]


def divergences(mu, sd):
    """(KL(p_g || p_data), JSD, KL(m || p_data)) for p_g = N(mu, sd^2), in nats."""
    q = stats.norm(mu, sd)

    def logs(x):
        lp, lq = p_data.logpdf(x), q.logpdf(x)
        return lp, lq, np.logaddexp(lp, lq) - math.log(2)  # log p_data, log p_g, log m

    def jsd_integrand(x):
        lp, lq, lm = logs(x)
        return 0.5 * (np.exp(lq) * (lq - lm) + np.exp(lp) * (lp - lm))

    def kl_m_integrand(x):
        lp, _, lm = logs(x)
        return np.exp(lm) * (lm - lp)

    kl = math.log(SIGMA / sd) + (sd**2 + (mu - MU) ** 2) / (2 * SIGMA**2) - 0.5  # closed form
    return kl, by_quadrature(jsd_integrand, mu, sd), by_quadrature(kl_m_integrand, mu, sd)


def finite_difference(f, mu, sd, h=1e-4):
    return np.array([(f(mu + h, sd) - f(mu - h, sd)) / (2 * h),
                     (f(mu, sd + h) - f(mu, sd - h)) / (2 * h)])


def ns_criterion(mu, sd):
    kl, js, _ = divergences(mu, sd)
    return kl - 2 * js


print("generator      backprop: non-sat   d/dθ [KL - 2 JSD]    backprop: sat   d/dθ 2 JSD")
for mu0, sd0 in [(0.0, 1.0), (1.5, 0.3), (2.5, 0.8)]:
    g_nonsat, g_sat = frozen_d_star_gradients(mu0, sd0)
    fd_nonsat = finite_difference(ns_criterion, mu0, sd0)
    fd_sat = finite_difference(lambda m, s: 2 * divergences(m, s)[1], mu0, sd0)
    print(f"N({mu0}, {sd0}^2)   {np.round(g_nonsat, 4)}  {np.round(fd_nonsat, 4)}   "
          f"{np.round(g_sat, 4)}  {np.round(fd_sat, 4)}")
    np.testing.assert_allclose(g_nonsat, fd_nonsat, atol=1e-5)  # Arjovsky & Bottou, Thm 2.5
    np.testing.assert_allclose(g_sat, fd_sat, atol=1e-5)        # the saturating loss: 2 grad JSD
    kl, js, kl_m = divergences(mu0, sd0)
    assert abs((kl - 2 * js) - 2 * kl_m) < 1e-8 and kl_m > 0    # the bracket is 2 KL(m || p_data)
    if (mu0, sd0) == (0.0, 1.0):
        start = (g_nonsat, g_sat)
# at N(0, 1), wider than the data: the non-saturating step narrows the generator, the saturating
# one widens it (a descent step moves the spread against the sign of its gradient)
assert start[0][1] > 0 > start[1][1]
cosine = start[0] @ start[1] / (np.linalg.norm(start[0]) * np.linalg.norm(start[1]))
assert divergences(MU, SIGMA)[2] < 1e-12  # and both criteria vanish at p_g = p_data

# %% tags=["hide-input"]
glue("e22_cosine", float(cosine), display=False)
glue("e22_ns_grad_mu", float(-start[0][0]), display=False)
glue("e22_sat_grad_mu", float(-start[1][0]), display=False)

# %% [markdown]
# Both identities hold to the accuracy of the quadratures. Look at the first row, the generator
# $\mathcal N(0, 1)$: wider than the data and far from it. Both losses move the mean towards the data,
# the non-saturating one with a rate {glue:text}`e22_ns_grad_mu:.2f` against
# {glue:text}`e22_sat_grad_mu:.2f`. But they disagree about the spread: the non-saturating gradient
# narrows the generator towards the data's $0.5$, while the saturating one, following the JSD, widens it
# first. The cosine between the two gradient directions is {glue:text}`e22_cosine:.2f`. Same target,
# different paths.
#
# The two criteria side by side: fix the generator's spread at the data's, $s = 0.5$, and move its mean
# $\mu$. Left, the values from the quadratures above; right, the size of the gradient with respect to
# $\mu$ that backpropagation through the frozen $D^*$ gives (the function `frozen_d_star_gradients`).

# %%
MUS = np.linspace(-2, 6, 41)                                 # generator means (the data: MU)
values = np.array([divergences(mu, SIGMA) for mu in MUS])    # (41, 3): KL, JSD, KL(m || p_data)
two_jsd, ns_objective = 2 * values[:, 1], 2 * values[:, 2]   # saturating, non-saturating criterion
slopes = np.array([[g[0] for g in frozen_d_star_gradients(mu, SIGMA)] for mu in MUS])  # (41, 2)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
ax1.plot(MUS, two_jsd, label=r"$2\,$JSD (saturating)")
ax1.plot(MUS, ns_objective, label=r"$2\,$KL$(m\,\|\,p_{data})$ (non-saturating)")
ax1.axhline(2 * math.log(2), ls=":", color="0.4", label=r"$2\log 2$")
ax1.set(ylim=(0, 4), ylabel="nats", title="criterion: both are 0 only at the data mean")
ax2.semilogy(MUS, np.abs(slopes[:, 1]), label="saturating")
ax2.semilogy(MUS, np.abs(slopes[:, 0]), label="non-saturating")
ax2.set(ylabel=r"$|\partial/\partial\mu|$ of the generator's loss",
        title="gradient: JSD's vanishes far from the data")
for ax in (ax1, ax2):
    ax.axvline(MU, ls="--", color="0.6")
    ax.set_xlabel(r"generator mean $\mu$ (spread fixed at 0.5)")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
at_data, near = int(np.argmin(abs(MUS - MU))), [int(np.argmin(abs(MUS - MU))) + d for d in (-1, 1)]
far = MUS <= MU - 6 * SIGMA                  # six data standard deviations or more to the left
# both criteria are smallest at the data mean, and 0 there
assert np.argmin(two_jsd) == at_data == np.argmin(ns_objective) and ns_objective[at_data] < 1e-10
# next to the target they agree (same curvature: both are 1/4 chi^2 to second order)
np.testing.assert_allclose(ns_objective[near], two_jsd[near], rtol=0.05)
# far away, 2 JSD is flat at 2 log 2 while the non-saturating slope is over 100 times larger
assert np.all(abs(two_jsd[far] - 2 * math.log(2)) < 0.01 * 2 * math.log(2))
assert np.all(abs(slopes[far, 0]) > 100 * abs(slopes[far, 1]))
# the backprop gradients are the slopes of the plotted curves (Thm 2.5 again, along the whole line)
np.testing.assert_allclose(slopes, np.stack([np.gradient(ns_objective, MUS),
                                             np.gradient(two_jsd, MUS)], 1), rtol=0.05, atol=0.01)
glue("e22_far_ratio", float(abs(slopes[far, 0] / slopes[far, 1]).min()), display=False)
glue("e22_far_mu", float(MUS[far].max()), display=False)
# dropping one of eight equal modes (the discrete case of 2.3): the two criteria
p8, q7 = np.full(8, 1 / 8), np.where(np.arange(8) < 7, 1 / 7, 0.0)
mix8 = (p8 + q7) / 2
drop_sat = float(np.sum(p8 * np.log(p8 / mix8)) + np.sum(q7[:7] * np.log(q7[:7] / mix8[:7])))
drop_ns = float(2 * np.sum(mix8 * np.log(mix8 / p8)))
assert 0.3 * drop_sat < drop_ns < 0.6 * drop_sat  # penalised, about half as much as by 2 JSD
glue("e22_drop1_sat", drop_sat, display=False)
glue("e22_drop1_ns", drop_ns, display=False)
glue("e22_drop1_ratio", 100 * drop_ns / drop_sat, display=False)

# %% [markdown]
# Near the target the two criteria are indistinguishable: to second order in $p_g - p_{\text{data}}$ both
# equal $\tfrac14\int (p_g - p_{\text{data}})^2 / p_{\text{data}}\,dx$, so a generator close to the data
# feels the same pull from either loss. Far from it they part. $2\,\mathrm{JSD}$ cannot exceed
# $2\log 2$, so once the two distributions barely overlap it is flat and its gradient vanishes, the
# saturation of the first half of this page seen from the criterion's side. The non-saturating criterion
# keeps growing, like the $\mathrm{KL}(p_g\,\|\,p_{\text{data}})$ in it: at $\mu \le$
# {glue:text}`e22_far_mu:.0f` its gradient is at least {glue:text}`e22_far_ratio:.0f` times larger.
#
# ## The chain rule from the loss to the generator's parameters
#
# The generator's loss depends on its parameters $\theta_g$ only through the samples $x_i = G_{\theta_g}(z_i)$,
# and it depends on those only through $D$. For $\mathcal L_G = -\frac1m \sum_i \log D(x_i)$:
#
# $$
# \frac{\partial \mathcal L_G}{\partial \theta_g} = \sum_{i=1}^m
# \underbrace{\frac{\partial \mathcal L_G}{\partial D_i}}_{-\frac{1}{m D_i}} \;
# \underbrace{\frac{\partial D_i}{\partial x_i}}_{D_i (1 - D_i)\, \ell'(x_i)} \;
# \underbrace{\frac{\partial x_i}{\partial \theta_g}}_{\text{generator}}
# = -\frac1m \sum_{i=1}^m \big(1 - D_i\big)\, \ell'(x_i)\, \frac{\partial x_i}{\partial \theta_g} .
# $$
#
# The middle factor carries the useful information. Each sample moves **uphill on the discriminator's logit**
# $\ell$, towards where $D$ believes the data is, and harder when $D$ rejects it more. Leave out
# $\partial D/\partial x$ and nothing tells the generator which *direction* to go. For a vector $x$ and many
# parameters, $\partial x_i/\partial\theta_g$ is the generator's Jacobian. Backpropagation computes the sum
# above as vector–Jacobian products without ever forming that Jacobian.
#
# We check this by hand on the smallest interesting case:
#
# * a **linear generator** $x = a z + b$ with $z \sim \mathcal N(0, 1)$, so $p_g = \mathcal N(b, a^2)$, with
#   $\partial x/\partial a = z$ and $\partial x/\partial b = 1$;
# * a discriminator with a **quadratic logit** $\ell(x) = w_0 + w_1 x + w_2 x^2$, so $\ell'(x) = w_1 + 2 w_2 x$.
#   This family contains the optimal discriminator between two Gaussians, because a log ratio of Gaussian
#   densities is quadratic (2.1). We take the optimal $D^*$ of $p_{\text{data}} = \mathcal N(2, 0.5^2)$
#   against the current $p_g = \mathcal N(0, 1)$: $\ell^*(x) = -1.5x^2 + 8x - 8 + \log 2$.

# %%
def generator_gradient(w, a=1.0, b=0.0, m=256, seed=0):
    """Gradient of the non-saturating loss w.r.t. (a, b) for x = a z + b and
    D = sigmoid(w0 + w1 x + w2 x^2): (autograd, by hand, the version without dD/dx)."""
    z = torch.randn(m, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    theta = torch.tensor([a, b], dtype=torch.float64, requires_grad=True)
    x = theta[0] * z + theta[1]                  # G(z), (m,)
    logit = w[0] + w[1] * x + w[2] * x**2        # l(G(z)), (m,)
    (autograd,) = torch.autograd.grad(losses.gan_g_nonsaturating(logit), theta)
    with torch.no_grad():
        d = torch.sigmoid(logit)                 # D(G(z)), (m,)
        dL_dD = -1 / (m * d)                     # L = -(1/m) sum log D_i
        dD_dx = d * (1 - d) * (w[1] + 2 * w[2] * x)  # sigma'(l) * l'(x)
        # dx/da = z, dx/db = 1
        by_hand = torch.stack([(dL_dD * dD_dx * z).sum(), (dL_dD * dD_dx).sum()])
        without_dD_dx = torch.stack([(dL_dD * z).sum(), dL_dD.sum()])
    return autograd, by_hand, without_dD_dx


# D* for data N(2, 0.5^2) vs G = N(0, 1)
w_star = torch.tensor([math.log(2) - 8, 8.0, -1.5], dtype=torch.float64)
autograd, by_hand, without = generator_gradient(w_star)
print(f"autograd:            dL/da = {autograd[0]: .4f}   dL/db = {autograd[1]: .4f}")
print(f"by hand:             dL/da = {by_hand[0]: .4f}   dL/db = {by_hand[1]: .4f}")
print(f"without dD/dx:       dL/da = {without[0]: .3e}   dL/db = {without[1]: .3e}")
torch.testing.assert_close(by_hand, autograd)
assert autograd[1] < 0 < autograd[0]  # descent raises b (towards 2) and lowers a (towards 0.5)
assert not torch.allclose(without, autograd, rtol=0.5)

# %% [markdown]
# The two computations agree. A gradient step *lowers* $\mathcal L_G$, so it moves $b$ up towards the data
# mean 2 and $a$ down towards the data's spread 0.5. The optimal discriminator tells the generator both where
# to go and how wide to be.
#
# One source article writes the generator's gradient as $\partial\mathcal L_G/\partial G(z) = -1/D(G(z))$,
# which is $\partial \mathcal L_G/\partial D$ with $\partial D/\partial x$ left out. Its values (last line) are
# huge, because of the $1/D$ of samples that $D$ rejects, and they carry no information about where the data
# is. A mirror test makes this clear. Put the data at $-2$ instead of $+2$, which flips the sign of $w_1$.
# The true $\partial\mathcal L_G/\partial b$ must change sign. The version without $\partial D/\partial x$
# cannot: it is $-\frac1m\sum_i 1/D_i < 0$ whatever $D$'s slope, so it always says "increase $b$". With the
# data at $-2$ a step along it *raises* the generator's loss.

# %%
w_mirror = w_star * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)  # data at -2 instead of +2
autograd_m, by_hand_m, without_m = generator_gradient(w_mirror)
print(f"data at +2: dL/db = {autograd[1]: .4f} (without dD/dx: {without[1]:.3e})")
print(f"data at -2: dL/db = {autograd_m[1]: .4f} (without dD/dx: {without_m[1]:.3e})")
torch.testing.assert_close(by_hand_m, autograd_m)
assert autograd[1] < 0 < autograd_m[1]           # the true gradient follows the data


def true_loss(theta, w, m=256, seed=0):
    """The non-saturating loss for x = a z + b against the quadratic-logit D (same z as above)."""
    z = torch.randn(m, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = theta[0] * z + theta[1]
    return losses.gan_g_nonsaturating(w[0] + w[1] * x + w[2] * x**2).item()


# one small descent step along each "gradient", with the data at -2: does the loss go down?
theta0, step = torch.tensor([1.0, 0.0], dtype=torch.float64), 1e-3
change = {name: true_loss(theta0 - step * g / g.norm(), w_mirror) - true_loss(theta0, w_mirror)
          for name, g in [("true gradient", autograd_m), ("without dD/dx", without_m)]}
print("change of the loss after a step of length 1e-3:", change)
assert change["true gradient"] < 0 < change["without dD/dx"]  # the wrong formula climbs the loss

# %% [markdown]
# :::{dropdown} The same split for a real discriminator network
# Autograd gives $\partial\mathcal L_G/\partial x_i$ with respect to the *input* of the trained
# `MLPDiscriminator` from above. Multiplying by $\partial x/\partial\theta_g$ by hand reproduces
# backpropagation through both networks (the folded cell below).
# :::

# %% tags=["hide-cell"]
z = torch.randn(256, 1)
theta = torch.tensor([1.0, 0.0], requires_grad=True)  # x = a z + b again
(full,) = torch.autograd.grad(losses.gan_g_nonsaturating(D0(theta[0] * z + theta[1])), theta)
x = (theta[0] * z + theta[1]).detach().requires_grad_()  # (256, 1), a leaf: the graph starts at x
(dL_dx,) = torch.autograd.grad(losses.gan_g_nonsaturating(D0(x)), x)  # dL/dD * dD/dx per sample
by_parts = torch.stack([(dL_dx * z).sum(), dL_dx.sum()])  # times dx/da = z and dx/db = 1
torch.testing.assert_close(by_parts, full)
print(f"backprop through G and D:               dL/da = {full[0]: .5f}, dL/db = {full[1]: .5f}")
print(f"dL/dx from autograd, dx/dtheta by hand: dL/da = {by_parts[0]: .5f}, "
      f"dL/db = {by_parts[1]: .5f}")

# %% [markdown]
# ## Algorithm 1: alternating stochastic gradient steps
#
# Goodfellow et al. train the two networks with the following loop {cite}`goodfellow2014gan`:
#
# :::{admonition} Algorithm 1 of Goodfellow et al. (2014), in our words
# For each training iteration:
# - repeat $k$ times:
#   - draw $m$ noise vectors $z_1, \dots, z_m \sim p_z$ and $m$ data points $x_1, \dots, x_m \sim p_{\text{data}}$;
#   - update $\theta_d$ by **ascending** the stochastic gradient
#     $\nabla_{\theta_d} \frac1m \sum_i \big[\log D(x_i) + \log(1 - D(G(z_i)))\big]$;
# - draw $m$ fresh noise vectors $z_1, \dots, z_m \sim p_z$;
# - update $\theta_g$ by **descending** the stochastic gradient
#   $\nabla_{\theta_g} \frac1m \sum_i \log\big(1 - D(G(z_i))\big)$.
# :::
#
# The paper used $k = 1$ and momentum SGD. Its algorithm box states the saturating generator loss, but the
# text recommends the non-saturating one in practice, which is the standard choice today. In PyTorch:
#
# * "ascend $V$ in $\theta_d$" means "descend `gan_d_loss`", because `gan_d_loss` $= -\hat V$. An update
#   changes the **parameters** against the gradient of the player's **own** loss,
#   $\theta \leftarrow \theta - \eta \nabla_\theta \mathcal L$ (Adam rescales the step). It is not a
#   gradient added to a sample.
# * The fakes in the $D$ step are `G(z).detach()`. The discriminator step must not change $G$, and it does
#   not need $G$'s gradients.
# * The $G$ step backpropagates **through** $D$ into $\theta_g$, but only $G$'s optimiser steps. $D$'s
#   weights stay fixed. The gradients this leaves in $D$'s `.grad` are cleared by `zero_grad()` before
#   $D$'s next update.
#
# Our choices for the 1-D problem: $k = 5$ (the discriminator steps are cheap, and a sharper $D$ gives the
# generator a usable signal about the *spread*, not just the mean), $m = 256$, Adam with $\beta_1 = 0.5$ as
# in DCGAN {cite}`radford2016dcgan`, a generator learning rate four times smaller than the discriminator's
# (a two time-scale update rule {cite}`heusel2017fid`), and learning rates that decay linearly to 0. Near the
# equilibrium, GAN training tends to circle instead of settling (2.3). The slower generator and the decay
# damp these oscillations.

# %%
def algorithm1(G, D, sample_data, steps, k=5, m=256, lr_g=5e-4, lr_d=2e-3, callback=None):
    """Algorithm 1 of Goodfellow et al. (2014): k discriminator steps, then one generator step.

    Non-saturating generator loss, Adam (beta1 = 0.5), learning rates decayed linearly to 0.
    ``callback(step, d_loss, g_loss)`` runs after every generator step.
    """
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999))
    decays = [torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / steps)
              for opt in (opt_d, opt_g)]
    for step in range(steps):
        for _ in range(k):  # D: ascend V, i.e. descend gan_d_loss = -V
            x, z = sample_data(m), G.noise(m)
            d_loss = losses.gan_d_loss(D(x), D(G(z).detach()))  # detach: the D step leaves G alone
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        # G: one step, back-propagated through D
        g_loss = losses.gan_g_nonsaturating(D(G(G.noise(m))))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        for decay in decays:
            decay.step()
        if callback is not None:
            callback(step, d_loss.item(), g_loss.item())


# %% [markdown]
# We train a fresh pair on $p_{\text{data}} = \mathcal N(2, 0.5^2)$, the same setting as the SGD runs above.
# Every 20 steps we keep a snapshot: the generator's samples from a fixed set of noise vectors, and
# $D(x)$ on a grid.

# %%
STEPS = 800
torch.manual_seed(0)
G, D = gan.build_gan(cfg)
x_axis = torch.linspace(-1, 4, 201)[:, None]  # (201, 1)
z_fixed = torch.randn(4000, cfg.z_dim)        # the same noise for every snapshot
history = {"d_loss": [], "g_loss": []}
snapshots = []  # (step, samples of G, D(x) on x_axis)


def record(step, d_loss, g_loss):
    history["d_loss"].append(d_loss)
    history["g_loss"].append(g_loss)
    if step % 20 == 0 or step == STEPS - 1:
        with torch.no_grad():
            snapshots.append((step, G(z_fixed)[:, 0].numpy(), torch.sigmoid(D(x_axis)).numpy()))


algorithm1(G, D, sample_data, STEPS, callback=record)
print(f"{len(snapshots)} snapshots; last D loss {history['d_loss'][-1]:.3f}, "
      f"G loss {history['g_loss'][-1]:.3f}")

# %%
x_np = x_axis[:, 0].numpy()
data_pdf = np.exp(-0.5 * ((x_np - MU) / SIGMA) ** 2) / (SIGMA * math.sqrt(2 * math.pi))


def draw(ax, step, samples, d_curve):
    """p_data, a histogram of G's samples and D(x) (right axis) on one axes."""
    ax.hist(samples, bins=np.linspace(-1, 4, 51), density=True, color="tab:orange", alpha=0.6,
            label="$p_g$: histogram of $G(z)$")
    ax.plot(x_np, data_pdf, color="0.25", label=r"$p_{\mathrm{data}} = \mathcal{N}(2, 0.5^2)$")
    ax.set_ylim(0, 2.0)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.set_title(f"step {step}")
    right = ax.twinx()
    right.plot(x_np, d_curve, color="tab:blue", lw=2)
    right.axhline(0.5, ls=":", color="tab:blue")
    right.set_ylim(0, 1.0)
    right.set_ylabel("$D(x)$", color="tab:blue")
    ax.legend(loc="upper left", fontsize=7)


frames = []
for snapshot in snapshots[::2] + snapshots[-1:]:  # a frame every 40 steps, and the last one
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    draw(ax, *snapshot)
    fig.tight_layout()
    frames.append(plotting.figure_to_array(fig))
    plt.close(fig)
plotting.animate(frames, f"{tempfile.mkdtemp()}/algorithm1.gif", fps=4)

# %%
on_data = np.abs(x_np - MU) < 2 * SIGMA  # where 95% of the data lies


def settled(snapshot):
    """p_g has the data's mean and spread, to within 0.1."""
    _, samples, _ = snapshot
    return bool(abs(samples.mean() - MU) < 0.1 and abs(samples.std() - SIGMA) < 0.1)


flags = [settled(snapshot) for snapshot in snapshots]
i_settled = next(i for i in range(len(snapshots)) if all(flags[i:]))
first_settled = snapshots[i_settled][0]
d_off = max(np.abs(d_curve[on_data] - 0.5).max() for _, _, d_curve in snapshots[i_settled:])
d_range = {step: np.ptp(d_curve) for step, _, d_curve in snapshots[:2]}  # max - min of D(x)
print(f"range of D(x) on the grid: step 0 {d_range[0]:.2f}, step 20 {d_range[20]:.2f}; "
      f"p_g settled from step {first_settled} on; after that |D(x) - 1/2| <= {d_off:.2f} "
      "on the data")
assert d_range[0] < 0.5 < 0.9 < d_range[20]  # a gentle slope at first, then a sharp step
assert first_settled <= STEPS // 4 and d_off < 0.2

# %% tags=["hide-input"]
glue("e22_range0", float(d_range[0]), display=False)
glue("e22_range20", float(d_range[20]), display=False)
glue("e22_d_off", float(d_off), display=False)
glue("e22_settled", int(first_settled), display=False)

# %% [markdown]
# At step 0 the generator's samples sit in a narrow spike near 0, and the discriminator, after its first
# five steps, is still a gentle slope: $D(x)$ varies by {glue:text}`e22_range0:.2f` over the plotted
# range. Twenty steps later $D$ is a sharp step, with a range of {glue:text}`e22_range20:.2f`: near 0
# over the spike, near 1 over the data. The generator climbs that slope towards the data and spreads out
# on the way, and $D$'s boundary moves ahead of it. From step {glue:text}`e22_settled` on, every snapshot
# has the data's mean and spread to within 0.1, and $D(x)$ stays within {glue:text}`e22_d_off:.2f` of
# $\tfrac12$ wherever the data is; averaged over the data, $D$ is {glue:text}`e22_d_mean:.3f` at the end.
# The discriminator can no longer tell the two apart, as 2.1 predicts for the equilibrium. (Far from all
# samples, $D$'s value means nothing, as in 2.1.) The discriminator's loss tends to $\log 4$ and the
# generator's to $\log 2$, the value of $-\log D$ at $D = \tfrac12$.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
draw(ax1, *snapshots[-1])
smooth = np.ones(20) / 20
for name, target in [("d_loss", math.log(4)), ("g_loss", math.log(2))]:
    ax2.plot(np.convolve(history[name], smooth, mode="valid"), label=name)
    ax2.axhline(target, ls=":", color="0.4")
ax2.set_xlabel("generator step")
ax2.set_title(r"losses (moving average of 20); dotted: $\log 4$ and $\log 2$")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
with torch.no_grad():
    samples = G.sample(100_000)[:, 0]
    d_on_data = torch.sigmoid(D(sample_data(100_000)))
mean, std = samples.mean().item(), samples.std().item()
print(f"p_g: mean {mean:.3f} (data {MU}), std {std:.3f} (data {SIGMA})")
print(f"mean D(x) on real data {d_on_data.mean():.3f};  D loss over the last 100 steps "
      f"{np.mean(history['d_loss'][-100:]):.3f} (log 4 = {math.log(4):.3f}), G loss "
      f"{np.mean(history['g_loss'][-100:]):.3f} (log 2 = {math.log(2):.3f})")
assert abs(mean - MU) < 0.1 and abs(std - SIGMA) < 0.1
assert abs(d_on_data.mean().item() - 0.5) < 0.1
assert abs(np.mean(history["d_loss"][-100:]) - math.log(4)) < 0.05
assert abs(np.mean(history["g_loss"][-100:]) - math.log(2)) < 0.05

# %% tags=["hide-input"]
glue("e22_d_mean", float(d_on_data.mean().item()), display=False)

# %% [markdown]
# ### The same algorithm in the course trainer
#
# `aigc_course.train.train_gan` runs the same loop: its `train_step` is Algorithm 1 with
# `n_critic` $= k$ discriminator steps, and `loss="bce"` selects `gan_d_loss` with the non-saturating
# generator loss. It reads batches from a finite data set (here 50 000 draws of $p_{\text{data}}$) and
# has no learning-rate schedule; to damp the final oscillation we sample from an **exponential moving
# average** (EMA, 指数移动平均) of the generator's weights (`ema=0.99`) instead.
#
# :::{dropdown} What else `train_gan` adds
# What longer runs need: a NaN guard, logging, checkpoints and resuming, and fast paths for GPUs (4.2,
# 4.6). Its logged history and a comparison of its discriminator loss with the loop above are in the
# folded cell after the run.
# :::

# %%
torch.manual_seed(0)
G_pkg, D_pkg = gan.build_gan(cfg)
train_cfg = ac.TrainConfig(steps=STEPS, batch_size=256, lr=5e-4, lr_d=2e-3, n_critic=5, loss="bce",
                           ema=0.99, log_every=20, seed=0)
result = train.train_gan(G_pkg, D_pkg, sample_data(50_000), train_cfg, progress=False)
with torch.no_grad():
    pkg_samples = result.ema.sample(100_000)[:, 0]
pkg_mean, pkg_std = pkg_samples.mean().item(), pkg_samples.std().item()
print(f"train_gan, EMA generator: mean {pkg_mean:.3f}, std {pkg_std:.3f}   "
      f"({result.wall_time:.1f} s); algorithm1 above: mean {mean:.3f}, std {std:.3f}")
assert abs(pkg_mean - MU) < 0.1 and abs(pkg_std - SIGMA) < 0.1
assert (abs(result.history.last("d_real") - 0.5) < 0.1
        and abs(result.history.last("d_fake") - 0.5) < 0.1)

# %% tags=["hide-cell"]
print(result.history)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
steps_pkg, d_loss_pkg = result.history.as_arrays("d_loss")
ax1.plot(np.arange(20, STEPS + 1), np.convolve(history["d_loss"], smooth, mode="valid"),
         label="algorithm1 above")
ax1.plot(steps_pkg, d_loss_pkg, label="train_gan")
ax1.axhline(math.log(4), ls=":", color="0.4")
ax1.set_title(r"discriminator loss (means over 20 steps) $\to \log 4$")
for name in ("d_real", "d_fake"):
    ax2.plot(*result.history.as_arrays(name), label=f"train_gan: mean {name}")
ax2.axhline(0.5, ls=":", color="0.4")
ax2.set_title("$D(x)$ on real and $D(G(z))$ on fake batches meet at 1/2")
for ax in (ax1, ax2):
    ax.set_xlabel("generator step")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercises
#
# Three warm-ups that rehearse the page's code, then two exercises whose answers are not on the page.
#
# ### 2.2a Warm-up: a stable non-saturating loss
#
# Write `nonsat_g_loss(fake_logits)`, which returns
# $-\frac1m \sum_i \log D(G(z_i))$ from the discriminator's **logits**. It must stay finite for any float32
# logit, including $\pm 200$.

# %%
def nonsat_g_loss(fake_logits):
    ...  # your code


ch2.q22a.check(nonsat_g_loss);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def nonsat_g_loss(fake_logits):
#     return torch.nn.functional.softplus(-fake_logits).mean()
# ```
# $-\log\sigma(\ell) = \operatorname{softplus}(-\ell)$. `-F.logsigmoid(l).mean()` and
# `F.binary_cross_entropy_with_logits(l, torch.ones_like(l))` are also right. `-torch.log(torch.sigmoid(l))`
# is infinite for $\ell \lesssim -88$. Adding an `eps` inside the log keeps it finite but wrong: it caps the
# loss and removes the gradient.
# :::

# %% tags=["hide-cell"]
# The reference solutions carry their own names: the learner's functions above stay theirs.
def nonsat_g_loss_solution(fake_logits):
    return F.softplus(-fake_logits).mean()


assert ch2.q22a.check(nonsat_g_loss_solution, quiet=True)
torch.testing.assert_close(nonsat_g_loss_solution(big), losses.gan_g_nonsaturating(big))

# %% [markdown]
# ### 2.2b Warm-up: the chain rule by hand
#
# For the linear generator $x = a z + b$ and the quadratic-logit
# discriminator $D(x) = \sigma(w_0 + w_1 x + w_2 x^2)$, write `grad_generator(z, a, b, w)`. It returns
# `torch.stack([dL/da, dL/db])` for $\mathcal L = -\frac1m\sum_i \log D(G(z_i))$. Do it **without
# autograd**: the checker runs your function under `torch.no_grad()`.

# %%
def grad_generator(z, a, b, w):
    ...  # your code


ch2.q22b.check(grad_generator);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def grad_generator(z, a, b, w):
#     x = a * z + b
#     d = torch.sigmoid(w[0] + w[1] * x + w[2] * x**2)
#     dL_dx = -(1 - d) * (w[1] + 2 * w[2] * x)      # dL/dD * dD/dx, per sample (times m)
#     return torch.stack([(dL_dx * z).mean(), dL_dx.mean()])
# ```
# $-\frac{1}{D}$ times $D(1-D)\,\ell'(x)$ simplifies to $-(1-D)\,\ell'(x)$. The mean supplies the $\frac1m$.
# :::

# %% tags=["hide-cell"]
def grad_generator_solution(z, a, b, w):
    x = a * z + b
    d = torch.sigmoid(w[0] + w[1] * x + w[2] * x**2)
    dL_dx = -(1 - d) * (w[1] + 2 * w[2] * x)
    return torch.stack([(dL_dx * z).mean(), dL_dx.mean()])


assert ch2.q22b.check(grad_generator_solution, quiet=True)
# the same numbers as autograd in the chain-rule section (same z, same D*)
z_check = torch.randn(256, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
torch.testing.assert_close(grad_generator_solution(z_check, 1.0, 0.0, w_star), autograd)

# %% [markdown]
# ### 2.2c Warm-up: one discriminator step
#
# Write `discriminator_step(D, G, x_real, z, opt_d)`, the inner
# step of Algorithm 1. It computes the loss with `losses.gan_d_loss`, updates $D$ (and only $D$) with
# `opt_d`, and returns the loss as a float. Then, as an experiment, rerun the training above with `k=1`
# and look at the generator's spread.

# %%
def discriminator_step(D, G, x_real, z, opt_d):
    ...  # your code


ch2.q22c.check(discriminator_step);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def discriminator_step(D, G, x_real, z, opt_d):
#     loss = losses.gan_d_loss(D(x_real), D(G(z).detach()))
#     opt_d.zero_grad()
#     loss.backward()
#     opt_d.step()
#     return loss.item()
# ```
# Without `zero_grad()`, the gradients left over from earlier steps (including the $G$ step, which
# backpropagates through $D$) would be added to this one. Without `.detach()` the step is still correct,
# but it computes gradients for $G$ that nobody uses.
# :::

# %% tags=["hide-cell"]
def discriminator_step_solution(D, G, x_real, z, opt_d):
    loss = losses.gan_d_loss(D(x_real), D(G(z).detach()))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


assert ch2.q22c.check(discriminator_step_solution, quiet=True)

# %% [markdown]
# ### 2.2d Apply: a generator loss for the forward KL
#
# The section "Same target, different objectives" showed what two generator losses follow when the
# optimal discriminator is held fixed during the generator's step: $\log(1 - D^*)$ follows $2\,\mathrm{JSD}$,
# $-\log D^*$ follows $\mathrm{KL}(p_g\,\|\,p_{\text{data}}) - 2\,\mathrm{JSD}$. Any divergence can be
# targeted this way, because $D^*$'s logit $\ell^* = \log p_{\text{data}} - \log p_g$ gives the density
# ratio (the idea behind f-GAN {cite}`nowozin2016fgan`). Write `forward_kl_g_loss(fake_logits)`: a batch mean
# computed from the logits whose frozen-$D^*$ gradient is that of the **forward** KL,
# $\mathrm{KL}(p_{\text{data}}\,\|\,p_g)$, the divergence maximum likelihood minimises. The checker
# back-propagates your loss through $D^*$ into a Gaussian generator and compares with the closed form.

# %%
def forward_kl_g_loss(fake_logits):
    ...  # your code


ch2.q22d.check(forward_kl_g_loss);

# %% [markdown]
# :::{dropdown} Solution
# A loss $\mathbb E_z[h(\ell^*(G_\theta(z)))]$ with $\ell^*$ frozen is $\int p_{g_\theta}\, h(\ell^*)\,dx$,
# so its gradient is $\int \nabla_\theta p_{g_\theta}\, h(\ell^*)\,dx$. The forward KL is
# $-\int p_{\text{data}} \log p_{g_\theta} + \text{const}$, with gradient
# $-\int \frac{p_{\text{data}}}{p_{g_\theta}} \nabla_\theta p_{g_\theta} = \int \nabla_\theta p_{g_\theta}
# \,\big(-e^{\ell^*}\big)$. So $h(\ell) = -e^{\ell}$:
# ```python
# def forward_kl_g_loss(fake_logits):
#     return -torch.exp(fake_logits).mean()      # weight e^l = p_data / p_g per sample
# ```
# The same recipe gives $h(\ell) = -\ell$ for the reverse KL, and for an $f$-divergence
# $\int p_g\, f(p_{\text{data}}/p_g)$ the weight $h = f(r) - r f'(r)$ with $r = e^{\ell}$. The forward KL
# weights each sample by the density ratio: it pushes hardest the samples lying where the data is denser
# than the model, which is why it covers modes; and those weights are unbounded, so with a trained,
# imperfect discriminator the gradient is noisy.
# :::

# %% tags=["hide-cell"]
def forward_kl_g_loss_solution(fake_logits):
    return -torch.exp(fake_logits).mean()


assert ch2.q22d.check(forward_kl_g_loss_solution, quiet=True)

# %% [markdown]
# ### 2.2e Debug: Article D's losses (errata E62, E63)
#
# One source article writes the two losses as below (translated to logits; the errata list them as E62 and
# E63). The code runs and returns two finite numbers, but each line is wrong. Repair
# `gan_losses` so that it returns the discriminator's loss $-\overline{\log D(x)} - \overline{\log(1 -
# D(G(z)))}$ and the non-saturating generator loss $-\overline{\log D(G(z))}$, finite for any float32 logit.

# %%
def gan_losses(real_logits, fake_logits):
    d_loss = F.softplus(-real_logits).mean() + F.softplus(-fake_logits).mean()
    g_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    return d_loss, g_loss


ch2.q22e.check(gan_losses);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def gan_losses(real_logits, fake_logits):
#     d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()   # fakes: label 0
#     g_loss = F.softplus(-fake_logits).mean()                                    # G's own loss
#     return d_loss, g_loss
# ```
# The article's `d_loss` gives the fakes the label 1 (E63): a discriminator that calls everything real
# minimises it. Its `g_loss` is the discriminator's correct loss (E62): minimised in $G$, it drives
# $D(G(z))$ down, so the generator helps the discriminator. The real term cannot move $G$ at all; the
# generator's loss depends on the fakes only.
# :::

# %% tags=["hide-cell"]
def gan_losses_solution(real_logits, fake_logits):
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    g_loss = F.softplus(-fake_logits).mean()
    return d_loss, g_loss


assert ch2.q22e.check(gan_losses_solution, quiet=True)

# %% [markdown]
# ## Summary
#
# * Write every GAN loss with logits and `softplus`. The probability form overflows in float32, and
#   `Sigmoid` + `BCELoss` loses the gradient exactly when $D$ is confident.
# * With respect to the logit, the saturating generator loss has gradient $-D$ and the non-saturating one
#   $-(1 - D)$. Their ratio is $(1 - D)/D$, huge when $D$ rejects the fakes. Use the non-saturating loss.
# * Against the optimal $D$, the saturating loss follows the gradient of $2\,\mathrm{JSD}$ and the
#   non-saturating one that of $\mathrm{KL}(p_g\|p_{\text{data}}) - 2\,\mathrm{JSD}
#   = 2\,\mathrm{KL}(m\|p_{\text{data}})$ (Arjovsky and Bottou): the same target, different objectives.
# * $\partial\mathcal L_G/\partial\theta_g = \sum_i \partial\mathcal L_G/\partial D_i \cdot \partial D_i/\partial x_i
#   \cdot \partial x_i/\partial\theta_g$: the generator climbs the slope of $D$'s logit. Without the middle
#   factor the generator has no direction.
# * Algorithm 1 alternates $k$ discriminator steps (descending $-V$) with one generator step through a
#   frozen $D$. On 1-D data it reaches $p_g \approx p_{\text{data}}$ with $D \approx \tfrac12$, and the
#   course trainer does the same. Section 2.3 looks at what goes wrong when the data has several modes.
