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
# # Errata of the source articles (勘误)
#
# This course was commissioned on the basis of five Chinese blog articles about AIGC (AI-generated
# content, 人工智能生成内容). They were the *source material*: they set the topics the course had to
# cover (GANs, VAEs, their mathematics, code, applications), and many readers arrive here after reading
# articles like them. They are not reliable texts. They read like unfinished, machine-generated drafts:
# one of them even ends with a leftover note from the language model that wrote it, offering to expand
# the "framework" into the full article. Their formulas have flipped signs, their code has never been run,
# and fourteen of the works and tools they cite could not be found anywhere.
#
# This appendix lists every error we found in them, **98 in all**, with the correct version and the
# evidence for it. Wherever a number can settle the question, a code cell runs both versions: it
# asserts that the correct version holds and that the article's version fails. The book is built by
# executing this page, so if a check ever stopped passing, the book would not build.
#
# ## The five articles
#
# We call them Article A to E, in the order of their files. Titles are translated; B and D have no title
# of their own, so we describe them.
#
# | Article | Source file | Title (translated) | What it covers | Entries | Major / minor |
# |---|---|---|---|---|---|
# | A | `000_6a6815629cb8cddd.txt` | *Generative AI: gold mine or bubble?*, part 6: "AIGC, a long slope with thick snow" (a long-term opportunity) | AIGC concepts, GAN and VAE principles and "derivations", a TensorFlow/Keras DCGAN, industry applications, 38 references | E01–E24 (24) | 19 / 5 |
# | B | `001_462d302aa808bfd9.txt` | (untitled) AIGC concepts and AI-assisted short-video creation | history, GAN/VAE/attention concepts, probability basics, GAN and VAE losses, a TensorFlow "short-video GAN" | E25–E40 (16) | 9 / 7 |
# | C | `002_342ad59ca38063a2.txt` | An analysis of how widespread AIGC technology is | drivers of adoption, GAN objective, a PyTorch DCGAN on MNIST, applications (media, games, medicine), "seminal papers" | E41–E57 (17) | 12 / 5 |
# | D | `003_7dabdeebb5d8ba9e.txt` | (untitled) AIGC from beginner to practice: image generation | image-generation pipeline, GAN vs VAE, GAN and VAE loss formulas, a TensorFlow/Keras MNIST GAN, applications | E58–E74 (17) | 16 / 1 |
# | E | `004_e8e30c57d93bf6fd.txt` | AIGC from beginner to practice: let AI help you create short videos, crack the "traffic code" and never sink without a trace again | GAN, VAE, NLP (word2vec, GloVe, attention), object detection, loss formulas, a PyTorch DCGAN on CIFAR-10 evaluated by MSE/SSIM | E75–E98 (24) | 12 / 12 |
#
# ## How to read this page
#
# * The entries are grouped by topic: GAN maths, VAE maths, probability, attention and other NLP
#   formulas, code, concepts and history, applications and evaluation, references. Their numbers
#   (E01–E98) follow the order of the articles, so E26 is in Article B.
# * Each topic opens with a table. **The article says** is our paraphrase in English (Chinese is quoted
#   only as a few words). **What is right** gives the correct statement, **Evidence** the source, and
#   the course section where the correct version is taught. "Check" means a cell below runs it.
# * **Severity.** *Major*: a wrong formula, sign or claim, or code that cannot run. *Minor*: imprecise,
#   outdated or cosmetic.
# * Throughout, $D$ outputs the probability that its input is real, $D=\sigma(a)$ with logit $a$;
#   $p_{data}$ is the data distribution, $p_g$ the generator's, $p_z$ the noise prior. The course's loss
#   functions (`aigc_course.losses`) take logits, as the course's discriminators return logits.
# * References written as {cite}`goodfellow2014gan` are in the course bibliography. Other real works are
#   written out in full. Works that could not be found are never cited, only listed in section 8.

# %%
import math
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig, VAEConfig
from aigc_course.gan import build_gan
from aigc_course.vae import build_vae

ac.set_seed(0)
# every check is tiny: one thread is fastest and leaves the other cores alone
ac.runtime.set_threads(1)
print(ac.describe())

CHECKED: set[str] = set()  # entries whose check has passed on this page


def passed(*ids: str) -> None:
    """Record that the checks of the entries ``ids`` have passed."""
    CHECKED.update(ids)
    print("passed:", ", ".join(ids))


def error_of(fn) -> Exception:
    """Run ``fn`` (the article's version), print the exception it raises and return it.

    Fails if ``fn`` runs without an error, so a check built on it cannot pass by accident.
    """
    try:
        fn()
    except Exception as exc:  # we want to show whatever torch raises, exactly as it says it
        print(f"{type(exc).__name__}: {exc}")
        return exc
    raise AssertionError("the article's version ran without an error")


# %% [markdown]
# ## 1. GAN maths (17 entries)
#
# The correct game {cite}`goodfellow2014gan`, taught in [section 2.1](../02_gan_math/01_minimax.ipynb), is
# $\min_G\max_D V(D,G)$ with
# $V(D,G)=\mathbb{E}_{x\sim p_{data}}[\log D(x)]+\mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]$.
# For a fixed $G$ the best discriminator is $D^*_G(x)=\dfrac{p_{data}(x)}{p_{data}(x)+p_g(x)}$, and
# $\max_D V=-\log 4+2\,\mathrm{JSD}(p_{data}\Vert p_g)$, smallest exactly when $p_g=p_{data}$. There
# $D^*\equiv\tfrac12$. Algorithm 1 alternates $k$ ascent steps on $V$ in $\theta_d$ with one descent step
# in $\theta_g$; in practice the generator minimises the non-saturating loss
# $-\mathbb{E}_z[\log D(G(z))]$ ([section 2.2](../02_gan_math/02_gradients.ipynb)).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E01 | A | major | Under "discriminator training", the discriminator keeps adjusting the *generator's* parameters (不断调整生成器G的参数). | A discriminator step changes only $\theta_d$ (ascent on $V$). The generator has its own step; its gradient passes *through* $D$ while $\theta_d$ stays fixed. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E05 | A | major | For $L_G=-\log D(G(z))$: $\partial L_G/\partial G(z)=-1/D(G(z))$. | The chain rule needs $\nabla_x D$: $\dfrac{\partial L_G}{\partial G(z)}=-\dfrac{1}{D(G(z))}\nabla_x D(x)\Big\rvert_{x=G(z)}$. Per fake logit $a$: $\partial L_G/\partial a=-(1-D(G(z)))$. (The loss itself, the non-saturating loss, is fine.) | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E06 | A | major | "Update" $G(z)=z+\partial L_G/\partial G(z)$, and likewise $G(z)=z+\partial L_D/\partial G(z)$: the gradient is *added*, and the discriminator's loss updates the generator. | Update the **parameters** against the gradient of each player's **own** loss: $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}L_G$, $\theta_d\leftarrow\theta_d-\eta\nabla_{\theta_d}L_D$. $G(z)$ is a network output, not $z$ plus a gradient. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E07 | A | major | $\partial L_D/\partial G(z)=D(G(z))-1$. | $\dfrac{\partial L_D}{\partial G(z)}=\dfrac{\nabla_x D(x)}{1-D(x)}\Big\rvert_{x=G(z)}$; per fake logit it is $+D(G(z))$. The article's $D-1$ is the logit gradient of the **real** term $-\log D(x)$. | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E26 | B | major | "Generator objective $\min_G\max_D V$" with $V=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, then "discriminator objective $\min_D V$". | $V=+\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$ inside $\min_G\max_D$. The article's $V$ is the discriminator's BCE loss: $\max_D$ of it has no solution, and the second line contradicts the first. | {cite}`goodfellow2014gan`, eq. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. |
# | E29 | B | major | The overall GAN loss is $\mathcal L_{GAN}=\mathcal L_D+\mathcal L_G$. | Two players, two losses: $D$ minimises $\mathcal L_D$ in $\theta_d$, $G$ minimises $\mathcal L_G$ in $\theta_g$, in alternation. Summed, the gradient at the fake logit is $2D(G(z))-1$: it vanishes at $D=\tfrac12$ whatever $p_g$ is, and pushes $D(G(z))$ *down* above $\tfrac12$. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check (with E81). |
# | E32 | B | major | Early in training the discriminator finds it hard to tell real from generated, and its scores fluctuate; only later does it separate them. | Early on the generator is poor and $D$ rejects its samples confidently. That is exactly when $\log(1-D(G(z)))$ saturates, which is why the non-saturating loss is used. | {cite}`goodfellow2014gan`, section 3; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E33 | B | major | At the balance point the discriminator can accurately distinguish real from generated images. | At the optimum $p_g=p_{data}$, so $D^*(x)=\tfrac12$ everywhere: $D$ **cannot** distinguish them, and $V=-\log 4$. | {cite}`goodfellow2014gan`, Prop. 1 and Thm. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. |
# | E42 | C | major | Update rules $G\leftarrow\nabla_G\mathbb{E}_z[\log(1-D(G(z)))]$ and $D\leftarrow\nabla_D\{\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$ (bracket never closed). | $\theta_d\leftarrow\theta_d+\eta\nabla_{\theta_d}V$ (ascent) and $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}\mathbb{E}_z[\log(1-D(G(z)))]$ (descent; in practice the non-saturating loss). Assigning a gradient to a network is not an update. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E43 | C | major | The discriminator's *loss* is $\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$, minimised by gradient descent. | That quantity is what $D$ **maximises**. As a loss: $\mathcal L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, the BCE with labels 1 (real) and 0 (fake). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. |
# | E44 | C | major | "Compute the real image's probability $p_D$", then the loss $\mathbb{E}[\log p_D]+\mathbb{E}[\log(1-p_D)]$, with the same $p_D$ in both terms. | The second term needs the **fake** score $D(G(z))$: $-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. | Check: the article's loss does not depend on the generated batch. |
# | E61 | D | major | $G(x)=\mathrm{Generator}(x)$, "where $x$ is the input data". | The generator maps latent noise to data space: $x=G(z)$, $z\sim p_z$ such as $\mathcal N(0,I)$. Data enter only $D$ (or $G$ in image-to-image models). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check (with E78). |
# | E62 | D | major | $L_G=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. | That is the *discriminator's* loss: minimised in $G$ it drives $D(G(z))\to0$, helping $D$. Use $L_G=\mathbb{E}_z[\log(1-D(G(z)))]$ (minimax) or $L_G=-\mathbb{E}_z[\log D(G(z))]$ (non-saturating). | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. |
# | E63 | D | major | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log D(G(z))]$. | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$: fakes have label 0. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check: a constant $D\equiv1$ minimises the article's loss. |
# | E78 | E | major | The generator preprocesses "input data such as pictures" and forges data from the input data. | An unconditional generator takes random noise $z\sim p_z$; only the discriminator sees real data. Image-to-image GANs (e.g. pix2pix) are a separate, conditional setting. | {cite}`goodfellow2014gan`. Check (with E61). |
# | E80 | E | minor | When $D(G(z))$ is close to 1, the discriminator "cannot distinguish" real from fake. | $D(G(z))\approx1$ means $D$ is **fooled**: it confidently calls fakes real. "Cannot distinguish" is $D\equiv\tfrac12$, at $p_g=p_{data}$. | [Section 2.1](../02_gan_math/01_minimax.ipynb). Check (with E33). |
# | E81 | E | major | Total loss $L=L_G+\lambda L_D^G$ (also $L_G+\lambda L_D$), with $\lambda$ balancing generator and discriminator. | There is no single weighted loss: $D$ minimises $L_D$ over $\theta_d$, $G$ minimises $L_G$ over $\theta_g$. With $L_D^G=-\log(1-D(G(z)))$ and $\lambda=1$ the fake-logit gradient is $2D-1$, as in E29. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check (with E29). |

# %% [markdown]
# **Check E01.** One discriminator step with the discriminator's optimiser leaves every generator
# parameter bit-for-bit unchanged; one generator step sends gradients *through* $D$ into $G$ but leaves
# $D$'s parameters unchanged. We use the course's small MLP GAN.

# %%
G, D = build_gan(GANConfig(kind="mlp", z_dim=4, data_dim=1, hidden=16, depth=2))
opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
real = 3 + torch.randn(64, 1)  # (64, 1) data from N(3, 1)


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def unchanged(module: nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(p, b) for p, b in zip(module.parameters(), before))


g_before, d_before = snapshot(G), snapshot(D)
loss_d = losses.gan_d_loss(D(real), D(G.sample(64).detach()))
opt_d.zero_grad()
loss_d.backward()
opt_d.step()
assert unchanged(G, g_before) and not unchanged(D, d_before)  # the D step moved only D

g_before, d_before = snapshot(G), snapshot(D)
opt_g.zero_grad()
opt_d.zero_grad()
loss_g = losses.gan_g_nonsaturating(D(G.sample(64)))
loss_g.backward()
# through D into G
assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
opt_g.step()
assert unchanged(D, d_before) and not unchanged(G, g_before)  # the G step moved only G
passed("E01")

# %% [markdown]
# **Check E05, E06, E07.** A toy discriminator $D(x)=\sigma(wx+b)$ and three generated samples $x=G(z)$.
# Autograd gives the true derivatives; we compare them with the article's.

# %%
w, b = 1.5, -0.5
x = torch.tensor([0.8, -1.0, 2.0], dtype=torch.float64, requires_grad=True)  # three samples G(z)
logits = w * x + b
# E05: per-sample L_G = -log D(x); the course loss is a mean, so multiply by the batch size
(grad_x,) = torch.autograd.grad(losses.gan_g_nonsaturating(logits) * len(x), x)
d = torch.sigmoid(logits).detach()
correct = -(1 / d) * (w * d * (1 - d))  # -1/D times dD/dx
article = -1 / d
print("autograd:", grad_x.numpy(), " chain rule:", correct.numpy(), " article:", article.numpy())
torch.testing.assert_close(grad_x, correct)
assert not torch.allclose(grad_x, article)


# E06: the article moves a sample by +gradient; the loss goes up. Moving against it brings it down.
def per_sample_lg(samples: torch.Tensor) -> torch.Tensor:
    return F.softplus(-(w * samples + b))  # -log D(x) for each sample


x0 = x.detach()
assert (per_sample_lg(x0 + grad_x) > per_sample_lg(x0)).all()  # the article's rule
assert (per_sample_lg(x0 - 0.5 * grad_x) < per_sample_lg(x0)).all()  # gradient descent

# E07: gradient of the discriminator loss at a fake logit a = 0.3
# (the real logit is an arbitrary 1.0)
a = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
real_logit = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
grad_real, grad_fake = torch.autograd.grad(losses.gan_d_loss(real_logit, a), (real_logit, a))
print(f"dL_D/da = {grad_fake.item():.4f} = D(G(z)); "
      f"the article's D(G(z)) - 1 = {torch.sigmoid(a).item() - 1:.4f}")
torch.testing.assert_close(grad_fake, torch.sigmoid(a.detach()))
assert not torch.allclose(grad_fake, torch.sigmoid(a.detach()) - 1)
# D - 1 belongs to the real term
torch.testing.assert_close(grad_real, torch.sigmoid(real_logit.detach()) - 1)
passed("E05", "E06", "E07")

# %% [markdown]
# **Check E26.** Take $p_g=p_{data}$. Then $V$ depends on $D$ only through $\log D+\log(1-D)$ at each
# point, so a constant $D\equiv c$ loses nothing. The correct $V$ has its maximum $-\log 4$ at
# $c=\tfrac12$ ([section 2.1](../02_gan_math/01_minimax.ipynb)). The article's $V$ is the discriminator loss `gan_d_loss`, the negative of
# the correct one: it grows without bound as $c\to0$ or $c\to1$, so "$\max_D$" has no solution.

# %%
# constant D
c = torch.tensor([1e-8, 1e-4, 0.1, 0.3, 0.5, 0.7, 0.9, 1 - 1e-4], dtype=torch.float64)
t = torch.logit(c)
v_correct = torch.stack([-losses.gan_d_loss(ti.view(1), ti.view(1)) for ti in t])
v_article = torch.stack([losses.gan_d_loss(ti.view(1), ti.view(1)) for ti in t])
for ci, vc, va in zip(c.tolist(), v_correct.tolist(), v_article.tolist()):
    print(f"D = {ci:<8.4g} correct V = {vc:8.4f}   article's V = {va:8.4f}")
assert (c[v_correct.argmax()] == 0.5
        and math.isclose(v_correct.max().item(), -math.log(4), rel_tol=1e-12))
# -log(1e-8) = 18.4, and no bound
assert v_article[0] > v_article[1] > v_article[4] and v_article[0] > 18
passed("E26")

# %% [markdown]
# **Check E29 and E81.** Seen from a fake logit $a$ (with $D(G(z))=\sigma(a)$), the summed loss
# $\mathcal L_D+\mathcal L_G$ has gradient $2\sigma(a)-1$. It is zero at $D(G(z))=\tfrac12$ and
# positive above it, so descent pushes $D(G(z))$ back down: the generator stops trying to fool $D$.
# The non-saturating generator loss alone has gradient $-(1-\sigma(a))<0$ everywhere.

# %%
a = torch.linspace(-6, 6, 13, dtype=torch.float64, requires_grad=True)  # fake logits
real_logits = torch.zeros_like(a)  # the real term of L_D does not involve a
# the articles' single loss
summed = losses.gan_d_loss(real_logits, a) + losses.gan_g_nonsaturating(a)
(g_sum,) = torch.autograd.grad(summed * len(a), a)
(g_ns,) = torch.autograd.grad(losses.gan_g_nonsaturating(a) * len(a), a)
d_fake = torch.sigmoid(a.detach())
torch.testing.assert_close(g_sum, 2 * d_fake - 1)
torch.testing.assert_close(g_ns, -(1 - d_fake))
assert (g_ns < 0).all()  # the generator's own loss always asks for a larger D(G(z))
assert g_sum[6] == 0 and (g_sum[7:] > 0).all()  # the sum stalls at D = 1/2 and reverses above it
passed("E29", "E81")

# %% [markdown]
# **Check E32, E33 and E80.** We fit a logistic discriminator $D(x)=\sigma(wx+b)$ by minimising the
# discriminator loss (L-BFGS) in two situations.
#
# * *Early training* (E32): real data $\mathcal N(4,1)$, an untrained generator's samples
#   $\mathcal N(0,1)$. $D$ separates them easily, $D(G(z))$ is near 0, and there the saturating
#   generator loss has a tiny gradient while the non-saturating one does not.
# * *Equilibrium* (E33, E80): $p_g=p_{data}=\mathcal N(0,1)$. The fitted $D$ is $\tfrac12$ to within
#   sampling noise, its accuracy is 50 %, and $V=-\log 4$ ([section 2.1](../02_gan_math/01_minimax.ipynb)).

# %%
def fit_logistic_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """(w, b) of D(x) = sigmoid(w x + b) minimising the GAN discriminator loss on 1-D samples."""
    wb = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([wb], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = losses.gan_d_loss(wb[0] * real + wb[1], wb[0] * fake + wb[1])
        loss.backward()
        return loss

    opt.step(closure)
    return wb.detach()


def accuracy(wb: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> float:
    d_real, d_fake = torch.sigmoid(wb[0] * real + wb[1]), torch.sigmoid(wb[0] * fake + wb[1])
    return 0.5 * ((d_real > 0.5).double().mean() + (d_fake < 0.5).double().mean()).item()


n = 20_000
fake = torch.randn(n, dtype=torch.float64)  # samples of the generator, N(0, 1)

# E32: early training, the generator is far from the data
real = 4 + torch.randn(n, dtype=torch.float64)
wb = fit_logistic_d(real, fake)
fake_logits = (wb[0] * fake + wb[1]).requires_grad_(True)
(g_sat,) = torch.autograd.grad(losses.gan_g_saturating(fake_logits), fake_logits)
(g_nonsat,) = torch.autograd.grad(losses.gan_g_nonsaturating(fake_logits), fake_logits)
d_fake_mean = torch.sigmoid(fake_logits).mean().item()
print(f"early: accuracy {accuracy(wb, real, fake):.3f}, mean D(G(z)) {d_fake_mean:.3f}, "
      f"gradient size saturating {g_sat.abs().sum():.4f} "
      f"vs non-saturating {g_nonsat.abs().sum():.4f}")
assert accuracy(wb, real, fake) > 0.95 and d_fake_mean < 0.1
assert g_nonsat.abs().sum() > 10 * g_sat.abs().sum()

# E33 and E80: equilibrium, p_g = p_data
real = torch.randn(n, dtype=torch.float64)
wb = fit_logistic_d(real, fake)
grid = torch.linspace(-3, 3, 7, dtype=torch.float64)
d_grid = torch.sigmoid(wb[0] * grid + wb[1])
v = -losses.gan_d_loss(wb[0] * real + wb[1], wb[0] * fake + wb[1]).item()
print(f"equilibrium: accuracy {accuracy(wb, real, fake):.3f}, "
      f"D on [-3, 3]: {np.round(d_grid.numpy(), 3)}, "
      f"V = {v:.4f} (-log 4 = {-math.log(4):.4f})")
assert (d_grid - 0.5).abs().max() < 0.05  # D is 1/2 (not 1, and not a confident classifier)
assert abs(accuracy(wb, real, fake) - 0.5) < 0.03
assert abs(v + math.log(4)) < 1e-3
passed("E32", "E33", "E80")

# %% [markdown]
# **Check E42.** A 1-D toy GAN: data $\mathcal N(3,1)$, generator $G(z)=z+\theta$, discriminator
# $\sigma(wx+b)$. One ascent step on $V$ in $(w,b)$ raises $V$; one descent step in $\theta$ lowers it.
# The article's rule instead *assigns* the gradient to the generator. At the equilibrium ($\theta=3$,
# $D\equiv\tfrac12$) that gradient is 0, so the article's rule would reset the perfect generator to
# $\theta=0$; a real update leaves it where it is.

# %%
real = 3 + torch.randn(4000, dtype=torch.float64)
z = torch.randn(4000, dtype=torch.float64)


def value(theta: torch.Tensor, wb: torch.Tensor) -> torch.Tensor:
    """V(D, G) for G(z) = z + theta and D(x) = sigmoid(w x + b)."""
    return -losses.gan_d_loss(wb[0] * real + wb[1], wb[0] * (z + theta) + wb[1])


theta = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
wb = torch.tensor([0.5, -0.75], dtype=torch.float64, requires_grad=True)
v0 = value(theta, wb)
g_theta, g_wb = torch.autograd.grad(v0, (theta, wb))
eta = 0.1
assert value(theta, wb + eta * g_wb) > v0  # D: gradient ascent on V
assert value(theta - eta * g_theta, wb) < v0  # G: gradient descent on V

theta_star = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)  # p_g = p_data
wb_half = torch.zeros(2, dtype=torch.float64)  # D = 1/2 everywhere
(g_star,) = torch.autograd.grad(
    losses.gan_g_saturating(wb_half[0] * (z + theta_star) + wb_half[1]), theta_star)
theta_article = g_star  # "G <- gradient"
theta_update = theta_star.detach() - eta * g_star
print(f"at equilibrium: article's rule gives theta = {theta_article.item():.1f}, "
      f"gradient descent keeps theta = {theta_update.item():.1f}")
assert theta_article == 0 and theta_update == 3
passed("E42")

# %% [markdown]
# **Check E43.** The same data, and a logistic discriminator trained for 200 steps of gradient descent,
# once on the correct loss `gan_d_loss` and once on the article's "loss" (which is $V$, its negative).
# The article's version learns the inverse classifier: its accuracy falls far below 50 %.

# %%
real = 3 + torch.randn(2000)
fake = torch.randn(2000)


def train_logistic_d(loss_fn, steps: int = 200, lr: float = 0.5) -> torch.Tensor:
    wb = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([wb], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(wb[0] * real + wb[1], wb[0] * fake + wb[1]).backward()
        opt.step()
    return wb.detach()


acc_correct = accuracy(train_logistic_d(losses.gan_d_loss), real, fake)
acc_article = accuracy(train_logistic_d(lambda r, f: -losses.gan_d_loss(r, f)), real, fake)
print(f"accuracy after descent on the correct loss {acc_correct:.3f}, "
      f"on the article's {acc_article:.3f}")
assert acc_correct > 0.9 and acc_article < 0.5
passed("E43")

# %% [markdown]
# **Check E44.** In the article's loss both terms use the real-image probability, so the generated
# batch never enters it: autograd finds no path from the loss to $G(z)$.

# %%
x_real = 3 + torch.randn(64)
x_fake = torch.randn(64, requires_grad=True)  # a generated batch G(z)
w = torch.tensor(1.0, requires_grad=True)  # the discriminator's parameters
b = torch.tensor(-1.5, requires_grad=True)
p_d = torch.sigmoid(w * x_real + b)
article_loss = torch.log(p_d).mean() + torch.log(1 - p_d).mean()
(g_article,) = torch.autograd.grad(article_loss, x_fake, allow_unused=True)
(g_correct,) = torch.autograd.grad(losses.gan_d_loss(w * x_real + b, w * x_fake + b), x_fake)
assert g_article is None  # the fakes play no part in the article's loss
assert g_correct.abs().sum() > 0
passed("E44")

# %% [markdown]
# **Check E61 and E78.** The course's DCGAN generator takes latent vectors $z$ of shape
# `(B, z_dim)` and returns images; the discriminator takes images. Handing the generator an image
# (the articles' "input data") is refused with a message that says what it expects.

# %%
G, D = build_gan(GANConfig(kind="dcgan", z_dim=64, img_size=28, channels=1, width=16))
z = G.noise(4)  # (4, 64) ~ N(0, I)
images = G(z)  # (4, 1, 28, 28)
assert images.shape == (4, 1, 28, 28) and D(images).shape == (4,)
err = error_of(lambda: G(images))
assert isinstance(err, ValueError)
passed("E61", "E78")

# %% [markdown]
# **Check E62.** Data $\mathcal N(3,1)$, fixed discriminator $\sigma(x-1.5)$, generator
# $G(z)=z+\theta$. One gradient step on the article's $L_G$ (the discriminator's loss) *lowers*
# $D(G(z))$; one step on the non-saturating loss raises it.

# %%
real = 3 + torch.randn(512)
z = torch.randn(512)
w, b = 1.0, -1.5


def mean_d_fake(theta: torch.Tensor) -> float:
    return torch.sigmoid(w * (z + theta) + b).mean().item()


def one_generator_step(loss_fn, lr: float = 0.5) -> torch.Tensor:
    theta = torch.tensor(0.0, requires_grad=True)
    (g,) = torch.autograd.grad(loss_fn(w * (z + theta) + b), theta)
    return (theta - lr * g).detach()


theta_article = one_generator_step(lambda f: losses.gan_d_loss(w * real + b, f))
theta_ns = one_generator_step(losses.gan_g_nonsaturating)
print(f"mean D(G(z)): before {mean_d_fake(torch.tensor(0.0)):.3f}, after the article's step "
      f"{mean_d_fake(theta_article):.3f}, "
      f"after the non-saturating step {mean_d_fake(theta_ns):.3f}")
assert mean_d_fake(theta_article) < mean_d_fake(torch.tensor(0.0)) < mean_d_fake(theta_ns)
passed("E62")

# %% [markdown]
# **Check E63.** A discriminator that calls everything real ($D\equiv1$, logit 20) reaches the
# article's minimum, 0, while classifying nothing. The correct loss punishes it and is 0 only for a
# perfect discriminator.

# %%
big = torch.tensor([20.0])  # logit 20: D = 1 - 2e-9


def article_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log D(G(z))]: the article's discriminator loss, from logits."""
    return F.softplus(-real_logits).mean() + F.softplus(-fake_logits).mean()


assert article_d_loss(big, big) < 1e-8 and losses.gan_d_loss(big, big) > 19  # D = 1 everywhere
assert losses.gan_d_loss(big, -big) < 1e-8 and article_d_loss(big, -big) > 19  # a perfect D
passed("E63")

# %% [markdown]
# ## 2. VAE maths (9 entries)
#
# The VAE {cite}`kingma2014vae,kingma2019introduction` ([sections 3.1](../03_vae_math/01_elbo.ipynb) to 3.4) maximises the evidence lower
# bound (ELBO, 证据下界)
# $\log p_\theta(x)\ge\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]-D_{KL}(q_\phi(z\mid x)\Vert p(z))$,
# with $q_\phi(z\mid x)=\mathcal N(\mu,\operatorname{diag}\sigma^2)$ and $p(z)=\mathcal N(0,I)$, so that
# $D_{KL}=\tfrac12\sum_{j=1}^{J}(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ over the $J$ latent dimensions.
# Samples are drawn as $z=\mu+\sigma\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$ (the
# reparameterisation trick, 重参数化技巧).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E02 | A | major | The core idea of a VAE is "data compression and reconstruction"; the encoder maps an input to a *point*; the objective is reconstructing the input. | The encoder outputs the parameters of a *distribution* $q_\phi(z\mid x)$, and training maximises the ELBO: reconstruction **minus** $D_{KL}(q_\phi(z\mid x)\Vert p(z))$. The KL term is what makes decoding $z\sim p(z)$ produce data. Reconstruction alone gives a plain autoencoder. | {cite}`kingma2014vae,kingma2019introduction`; [section 3.1](../03_vae_math/01_elbo.ipynb). Check. |
# | E08 | A | major | The decoder's input is $x$ and its output $G(x)$; "encoder loss" $-\log p(x\mid\mu,\sigma)$ plus "decoder loss" $\sum_x-\log p(G(x))$, and no KL term. | The decoder takes $z=\mu+\sigma\odot\varepsilon$ and outputs the parameters of $p_\theta(x\mid z)$. The loss is $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert\mathcal N(0,I))$, and both terms train the encoder. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. |
# | E27 | B | minor | $\mathcal L(x,z)=\mathcal L_{RECON}(x,\hat x)+\mathcal L_{KL}(\hat z\Vert z)$: a KL between latent vectors. | A KL divergence compares **distributions**: $\mathcal L=-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert p(z))$ with $p(z)=\mathcal N(0,I)$. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check (with E30). |
# | E30 | B | major | "Encoder loss" $\frac1n\sum_x D_K(\mu(x),\log\sigma^2(x))$, a KL "between" $\mu$ and $\log\sigma^2$; the reconstruction is a separate "decoder loss". | $D_{KL}(\mathcal N(\mu,\operatorname{diag}\sigma^2)\Vert\mathcal N(0,I))=\tfrac12\sum_j(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ is a function **of** $(\mu,\sigma)$, not a divergence between them. Reconstruction gradients reach the encoder through $z=\mu+\sigma\odot\varepsilon$, so there is no encoder/decoder split of the loss. | {cite}`kingma2014vae`, appendix B; [section 3.3](../03_vae_math/03_kl.ipynb). Check. |
# | E31 | B | minor | $\log\sigma^2(x)$ is the encoder's estimate of the standard deviation (标准差估计). | $\log\sigma^2$ is the log-**variance**; the standard deviation is $\sigma=\exp(\tfrac12\log\sigma^2)$. | [Section 3.3](../03_vae_math/03_kl.ipynb). Check. |
# | E60 | D | major | The steps for both GAN and VAE are to "build the generator and discriminator"; the VAE section gives losses for a generative and a **discriminative** model. | A VAE has an **encoder** $q_\phi(z\mid x)$ and a **decoder** $p_\theta(x\mid z)$, and no discriminator. Hybrids such as VAE-GAN add one, but they are other models. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. |
# | E64 | D | major | VAE loss $L_G=\mathbb{E}_x[\log D(x)]+\beta\,\mathbb{E}_x[\log p_\theta(x\mid x)]$ plus a discriminator loss; $p_\theta(x\mid x)$ is called the log-likelihood. | $\beta$-VAE: minimise $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+\beta D_{KL}(q_\phi(z\mid x)\Vert p(z))$. It conditions on $z$, not $x$; $\beta$ weights the **KL**; $\beta=1$ is the VAE; there is no $D$. | {cite}`higgins2017betavae,kingma2014vae`; [sections 3.1](../03_vae_math/01_elbo.ipynb) and 3.4. Check. |
# | E77 | E | major | A VAE consists of an encoder, a decoder and a "deterministic mapping function" (确定性映射函数) into the latent space. | The latent code is **stochastic**: $z=\mu_\phi(x)+\sigma_\phi(x)\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$. This reparameterisation makes sampling differentiable in $\phi$. | {cite}`kingma2014vae,rezende2014stochastic`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. |
# | E87 | E | major | $L=\frac1N\sum_i\Big(\frac12\sum_{j=1}^D(x_i-\hat x_i)^2+\frac12\sum_{j=1}^D(\log\sigma_i^2+\sigma_i^2-1-x_i^2)\Big)$. | $L=\frac1N\sum_i\Big(\frac12\sum_{d=1}^{D}(x_{id}-\hat x_{id})^2+\frac12\sum_{j=1}^{J}(\mu_{ij}^2+\sigma_{ij}^2-\log\sigma_{ij}^2-1)\Big)$: the sign of $\log\sigma^2$ is flipped, the KL uses $\mu^2$ (not the data $x^2$), and it runs over the $J$ **latent** dimensions. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check. |

# %% [markdown]
# **Check E02.** Reconstruction alone cannot tell a latent space that matches the prior from one that
# is a hundred times too wide. Multiply the encoder's codes by 100 and divide by 100 at the decoder's
# input: every reconstruction is the same, but the KL term explodes, and decoding prior samples
# $z\sim\mathcal N(0,I)$ now gives nearly the same image every time (they all land near the centre of
# the codes). Only the KL term sees the difference. We use the course's MLP VAE on 8×8 digits.

# %%
digits = data.digits()
x = metrics.to_model_space(digits.images[:256])  # (256, 1, 8, 8) in [-1, 1]
vae = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
scale = 100.0
with torch.no_grad():
    mu, logvar = vae.encode(x)  # (256, 2) each
    recon = vae.log_px(x, vae.decode(mu))
    # wide codes, decoder divides back
    recon_wide = vae.log_px(x, vae.decode((scale * mu) / scale))
    kl = losses.gaussian_kl(mu, logvar).mean()
    kl_wide = losses.gaussian_kl(scale * mu, logvar + 2 * math.log(scale)).mean()
    z = torch.randn(256, 2)
    spread = vae.decode(z).std(dim=0).mean()  # how much prior samples differ from each other
    spread_wide = vae.decode(z / scale).std(dim=0).mean()
print(f"KL {kl:.3f} -> {kl_wide:.0f}; spread of prior samples {spread:.4f} -> {spread_wide:.5f}")
torch.testing.assert_close(recon, recon_wide)  # reconstruction cannot see it
assert kl_wide > 1000 * kl and spread_wide < 0.1 * spread
passed("E02")

# %% [markdown]
# **Check E08.** The decoder takes latent vectors `(B, z_dim)`; given data-shaped input, as in the
# article, the course model refuses it. At $\mu=0,\ \log\sigma^2=0$ the KL is exactly 0, so the loss
# is the reconstruction term alone.

# %%
err = error_of(lambda: vae.decode(x.flatten(1)))  # the article's decoder input: x
assert isinstance(err, ValueError)
assert vae.decode(torch.zeros(3, 2)).shape == (3, 1, 8, 8)
assert (losses.gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2)) == 0).all()
passed("E08")

# %% [markdown]
# **Check E27 and E30.** The KL term is a function of the distribution's parameters. The closed form
# (`losses.gaussian_kl`, [section 3.3](../03_vae_math/03_kl.ipynb)) equals `torch.distributions.kl_divergence` and a Monte Carlo
# estimate $\frac1S\sum_s[\log q(z_s)-\log p(z_s)]$, and it is 0 exactly at $(\mu,\log\sigma^2)=(0,0)$.

# %%
mu = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
logvar = torch.tensor([[0.0, -1.0, 0.7]], dtype=torch.float64)
q, p = Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)
closed = losses.gaussian_kl(mu, logvar)
reference = kl_divergence(q, p).sum(-1)
zs = q.sample((200_000,))  # (S, 1, 3)
monte_carlo = (q.log_prob(zs) - p.log_prob(zs)).sum(-1).mean(0)
print(f"closed form {closed.item():.4f}, torch.distributions {reference.item():.4f}, "
      f"Monte Carlo {monte_carlo.item():.4f}")
torch.testing.assert_close(closed, reference)
assert abs(closed - monte_carlo).item() < 0.03
assert losses.gaussian_kl(torch.zeros(1, 3), torch.zeros(1, 3)).item() == 0
passed("E27", "E30")

# %% [markdown]
# **Check E31.** `logvar` $=\log 4$ means variance 4 and standard deviation 2, which is what the course
# VAE uses in $z=\mu+\exp(\tfrac12\log\sigma^2)\,\varepsilon$. Reading it as the standard deviation
# would give 4 or $\log 4$.

# %%
logvar = torch.tensor(math.log(4.0))
std = torch.exp(0.5 * logvar)
samples = std * torch.randn(100_000)
print(f"std = {std.item():.3f}, sample std = {samples.std().item():.3f}")
assert math.isclose(std.item(), 2.0, rel_tol=1e-6) and abs(samples.std().item() - 2) < 0.03
assert not math.isclose(std.item(), 4.0) and not math.isclose(std.item(), math.log(4.0))
passed("E31")

# %% [markdown]
# **Check E60.** The course VAE is made of exactly two networks, an encoder and a decoder.

# %%
parts = {name for name, _ in vae.named_children()}
print(parts)
assert parts == {"encoder", "decoder"}
passed("E60")

# %% [markdown]
# **Check E64.** A linear-Gaussian model where $\log p(x)$ is known exactly ([section 3.1](../03_vae_math/01_elbo.ipynb)):
# $p(z)=\mathcal N(0,1)$, $p(x\mid z)=\mathcal N(z,1)$, so $p(x)=\mathcal N(0,2)$ and the posterior is
# $\mathcal N(x/2,\tfrac12)$. For $q=\mathcal N(m,s^2)$,
# $\mathbb{E}_q[\log p(x\mid z)]=-\tfrac12\log2\pi-\tfrac12\big((x-m)^2+s^2\big)$. The ELBO equals
# $\log p(x)$ at the true posterior and is below it elsewhere; $\beta>1$ weights the KL and lowers it
# further. The article's "$\log p_\theta(x\mid x)$" is not a bound at all: a model that copies its
# input, $\mathcal N(x;x,0.01^2)$, scores far *above* $\log p(x)$ while learning nothing.

# %%
x = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64)
log_px = Normal(0.0, math.sqrt(2.0)).log_prob(x)


def linear_gaussian_elbo(m: torch.Tensor, s2: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    expected_loglik = -0.5 * math.log(2 * math.pi) - 0.5 * ((x - m) ** 2 + s2)
    kl = losses.gaussian_kl(m.unsqueeze(-1), torch.log(s2).unsqueeze(-1))  # (3,)
    return losses.elbo(expected_loglik, kl, beta)


posterior = (x / 2, torch.full_like(x, 0.5))
prior = (torch.zeros_like(x), torch.ones_like(x))
torch.testing.assert_close(linear_gaussian_elbo(*posterior), log_px)  # tight at the posterior
assert (linear_gaussian_elbo(*prior) < log_px).all()  # a lower bound elsewhere
assert (linear_gaussian_elbo(*posterior, beta=4.0) < linear_gaussian_elbo(*posterior)).all()
copy_model = Normal(x, 0.01).log_prob(x)  # the article's log p(x | x), for a decoder that copies x
print(f"log p(x) = {log_px.numpy().round(3)}, "
      f"'log p(x|x)' of a copying model = {copy_model.numpy().round(3)}")
assert (copy_model > log_px).all()  # not a lower bound on log p(x)
passed("E64")

# %% [markdown]
# **Check E77.** Two forward passes of the course VAE on the same input give the same $(\mu,\sigma)$ but
# different $z$. With the reparameterisation $z=\mu+\sigma\varepsilon$, the samples have variance
# $\sigma^2$ and a gradient with respect to $\mu$.

# %%
x = metrics.to_model_space(digits.images[:4])
out1, out2 = vae(x), vae(x)
torch.testing.assert_close(out1.mu, out2.mu)
assert not torch.equal(out1.z, out2.z)

mu = torch.tensor([0.5], requires_grad=True)
logvar = torch.tensor([math.log(0.25)], requires_grad=True)
z = mu + torch.exp(0.5 * logvar) * torch.randn(100_000, 1)  # (S, 1)
(g_mu,) = torch.autograd.grad(z.mean(), mu)
print(f"sample variance {z.var().item():.4f} (sigma^2 = 0.25), dz/dmu = {g_mu.item():.3f}")
assert abs(z.var().item() - 0.25) < 0.01 and math.isclose(g_mu.item(), 1.0, rel_tol=1e-5)
passed("E77")

# %% [markdown]
# **Check E87.** At $\mu=0,\ \sigma=1$ the posterior equals the prior and the KL must be 0. The
# article's term gives $-\tfrac12\sum_d x_d^2<0$ on a Fashion-MNIST image, an impossible negative KL.
# As $\sigma\to0$ the article's term goes to $-\infty$, rewarding a posterior that collapses to a point,
# while the true KL goes to $+\infty$.

# %%
test = data.fashion_mnist("test")
image = metrics.to_model_space(test.images[:1]).flatten(1)  # (1, 784) in [-1, 1]


def article_kl(x: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The article's 'KL' term: 1/2 sum_d (log sigma^2 + sigma^2 - 1 - x_d^2), over the
    data dims."""
    return 0.5 * (logvar + logvar.exp() - 1 - x.pow(2)).sum(-1)


zeros = torch.zeros(1, 16)  # mu = 0 and log sigma^2 = 0 for 16 latent dimensions
print(f"at mu=0, sigma=1: gaussian_kl {losses.gaussian_kl(zeros, zeros).item():.1f}, "
      f"torch {kl_divergence(Normal(0.0, 1.0), Normal(0.0, 1.0)).item():.1f}, "
      f"article {article_kl(image, torch.zeros_like(image)).item():.1f}")
assert losses.gaussian_kl(zeros, zeros).item() == 0
assert article_kl(image, torch.zeros_like(image)).item() < 0
tiny = torch.full((1, 16), -20.0)  # sigma^2 = exp(-20)
assert article_kl(image, torch.full_like(image, -20.0)).item() < -1000
assert losses.gaussian_kl(zeros, tiny).item() > 100
passed("E87")

# %% [markdown]
# ## 3. Probability (2 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E09 | A | major | VAE gradients $\partial L_E/\partial\mu=\frac{x-\mu}{\sigma\sqrt{2\pi}}$, $\partial L_E/\partial\sigma=\frac{(x-\mu)^2}{2\sigma}$, and $\partial L_D/\partial G(x)=-1/p(G(x))$. | $-\log\mathcal N(x;\mu,\sigma^2)=\frac{(x-\mu)^2}{2\sigma^2}+\log\sigma+\tfrac12\log2\pi$, so $\partial_\mu=-\frac{x-\mu}{\sigma^2}$ and $\partial_\sigma=\frac1\sigma-\frac{(x-\mu)^2}{\sigma^3}$. Also $\frac{d}{dy}[-\log p(y)]=-p'(y)/p(y)$, not $-1/p(y)$. | Calculus; [section 1.2](../01_concepts/02_probability.ipynb). Check. |
# | E28 | B | minor | Covariance is a measure of the *difference* between two random variables (随机变量之间差异的度量). | $\mathrm{Cov}(X,Y)=\mathbb{E}[(X-\mathbb{E}X)(Y-\mathbb{E}Y)]$ measures how two variables vary **together**; it is not a distance between them. (The article's formula is right; its wording is not.) | [Section 1.2](../01_concepts/02_probability.ipynb). Check. |

# %% [markdown]
# **Check E09.** Autograd on the Gaussian negative log-likelihood at $x=1,\ \mu=0,\ \sigma=2$ gives
# $(-0.25,\ 0.375)$; the article's formulas give $(0.199,\ 0.25)$. For $p=\mathcal N(0,1)$,
# $\frac{d}{dy}[-\log p(y)]=y$, not $-1/p(y)$.

# %%
x = torch.tensor(1.0, dtype=torch.float64)
mu = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
sigma = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
g_mu, g_sigma = torch.autograd.grad(-Normal(mu, sigma).log_prob(x), (mu, sigma))
m, s = mu.item(), sigma.item()
correct = (-(1 - m) / s**2, 1 / s - (1 - m) ** 2 / s**3)
article = ((1 - m) / (s * math.sqrt(2 * math.pi)), 0.5 * (1 - m) ** 2 / s)
print(f"autograd ({g_mu.item():.3f}, {g_sigma.item():.3f}); formula {correct}; article "
      f"({article[0]:.3f}, {article[1]:.3f})")
assert np.allclose([g_mu.item(), g_sigma.item()], correct) and not np.allclose(correct, article)

y = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
standard = Normal(0.0, 1.0)
(g_y,) = torch.autograd.grad(-standard.log_prob(y), y)
minus_one_over_p = -1 / standard.log_prob(y).exp().item()
print(f"d/dy[-log p(y)] = {g_y.item():.3f}; the article's -1/p(y) = {minus_one_over_p:.3f}")
assert math.isclose(g_y.item(), 0.7) and not math.isclose(g_y.item(), minus_one_over_p)
passed("E09")

# %% [markdown]
# **Check E28.** $X$ and $X+5$ always differ by 5, yet $\mathrm{Cov}(X,X+5)=\mathrm{Var}(X)>0$;
# $\mathrm{Cov}(X,-X)=-\mathrm{Var}(X)<0$. Covariance measures co-variation, not difference.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=100_000)
cov_shift, cov_neg, var = np.cov(X, X + 5)[0, 1], np.cov(X, -X)[0, 1], X.var(ddof=1)
print(f"Cov(X, X+5) = {cov_shift:.4f}, Cov(X, -X) = {cov_neg:.4f}, Var(X) = {var:.4f}")
assert math.isclose(cov_shift, var, rel_tol=1e-9) and math.isclose(cov_neg, -var, rel_tol=1e-9)
passed("E28")

# %% [markdown]
# ## 4. Attention and other NLP formulas (5 entries)
#
# Article E's NLP section (taught correctly in [section 1.4](../01_concepts/04_attention.ipynb)) has the attention formula without its
# softmax and values, and loss formulas for word2vec, GloVe and cross-entropy that do not match the
# methods they name.
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E82 | E | major | "Negative-sampling loss" $L=-\sum_{i=1}^N\sum_{j=1}^V[c_j=w_{t+1}]\log p_j$, $N$ the sentence length. | That is full-softmax cross-entropy over the whole vocabulary, not negative sampling. Skip-gram with negative sampling maximises $\log\sigma(v'^{\top}_{w_O}v_{w_I})+\sum_{i=1}^{k}\mathbb{E}_{w_i\sim P_n(w)}[\log\sigma(-v'^{\top}_{w_i}v_{w_I})]$ over (centre, context) pairs inside a window, not only $w_{t+1}$. | Mikolov, Sutskever, Chen, Corrado & Dean, "Distributed Representations of Words and Phrases and their Compositionality", NeurIPS 2013. Check. |
# | E83 | E | major | GloVe: $L=\tfrac12\sum_{i,j}[c_{ij}=1](f_i^\top f_j-\log c_{ij})$, called a mean squared loss. | $J=\sum_{i,j:X_{ij}>0}f(X_{ij})(w_i^\top\tilde w_j+b_i+\tilde b_j-\log X_{ij})^2$ with $f(x)=\min\big(1,(x/x_{max})^{3/4}\big)$, $x_{max}=100$. The article's version has no square (so it is unbounded below), no weighting, biases or context vectors, and $[c_{ij}=1]$ keeps only pairs whose $\log c_{ij}=0$. | Pennington, Socher & Manning, "GloVe: Global Vectors for Word Representation", EMNLP 2014. Check. |
# | E84 | E | minor | Seq2seq and classifier losses $L=-\sum_i[y_i=w_j]\log p_j$ with $w_j$ "the predicted probability of word $j$" and $j$ never bound; the seq2seq decoder is "usually self-attention/Transformer" while the encoder is a CNN/RNN. | Sequences: $\mathcal L=-\sum_{t=1}^{T}\log p_\theta(y_t\mid y_{<t},x)$. Classification with one-hot $y$: $-\sum_c y_c\log p_c=-\log p_y$. A Transformer uses attention in both encoder and decoder {cite}`vaswani2017attention`; classic seq2seq uses RNNs on both sides (Sutskever, Vinyals & Le, NeurIPS 2014). | Check. |
# | E85 | E | major | $\mathrm{Attention}(Q,K,V)=\dfrac{QK^\top}{\sqrt{d_k}}$. | $\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\big(QK^\top/\sqrt{d_k}\big)V$, the softmax over the **key** axis, so each query's weights sum to 1. The output is $n_q\times d_v$, not an $n_q\times n_k$ score matrix. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. |
# | E86 | E | minor | $\mathrm{head}_i=\mathrm{Attention}(QW_iQ,KW_iK,VW_iV)$, output $\mathrm{Concat}(\ldots)W_O$. | $\mathrm{head}_i=\mathrm{Attention}(QW_i^Q,KW_i^K,VW_i^V)$ with $W_i^Q,W_i^K\in\mathbb R^{d_{model}\times d_k}$, $W_i^V\in\mathbb R^{d_{model}\times d_v}$; $\mathrm{MultiHead}=\mathrm{Concat}(\mathrm{head}_1,\ldots,\mathrm{head}_h)W^O$, $W^O\in\mathbb R^{hd_v\times d_{model}}$. As printed, "$QW_iQ$" multiplies by $Q$ twice. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. |

# %% [markdown]
# **Check E85.** Five queries, seven keys, values of width 4. The article's formula returns the
# $5\times7$ score matrix, whose rows do not sum to 1 and can be negative. Softmax over the key axis
# followed by $V$ matches PyTorch's `scaled_dot_product_attention`; a softmax over the wrong axis does not.

# %%
Q, K, V = torch.randn(5, 8), torch.randn(7, 8), torch.randn(7, 4)
scores = Q @ K.T / math.sqrt(8)  # (5, 7): the article's "attention"
weights = scores.softmax(dim=-1)  # over the keys
out = weights @ V  # (5, 4)
reference = F.scaled_dot_product_attention(Q[None], K[None], V[None])[0]
print("article's output", tuple(scores.shape), "vs attention", tuple(reference.shape))
torch.testing.assert_close(out, reference)
torch.testing.assert_close(weights.sum(-1), torch.ones(5))
assert scores.shape != reference.shape and (scores < 0).any()
assert not torch.allclose(scores.softmax(dim=0) @ V, reference)
passed("E85")

# %% [markdown]
# **Check E86.** Multi-head attention written out with per-head projections $W_i^Q,W_i^K,W_i^V$ and an
# output projection $W^O$ reproduces `torch.nn.MultiheadAttention` with the same weights. The article's
# $QW_iQ$ does not even have compatible shapes.

# %%
d_model, h = 8, 2
d_k = d_model // h
mha = nn.MultiheadAttention(d_model, h, batch_first=True)
X = torch.randn(1, 5, d_model)  # (B, n, d_model); self-attention: Q = K = V = X
with torch.no_grad():
    reference, _ = mha(X, X, X)
    Wq, Wk, Wv = mha.in_proj_weight.chunk(3)  # each (d_model, d_model): all heads stacked
    bq, bk, bv = mha.in_proj_bias.chunk(3)
    q, k, v = X @ Wq.T + bq, X @ Wk.T + bk, X @ Wv.T + bv  # (1, 5, d_model)
    heads = [F.scaled_dot_product_attention(*(t[..., i * d_k:(i + 1) * d_k] for t in (q, k, v)))
             for i in range(h)]  # h tensors (1, 5, d_k)
    out = torch.cat(heads, dim=-1) @ mha.out_proj.weight.T + mha.out_proj.bias  # Concat(...) W^O
    torch.testing.assert_close(out, reference)
    err = error_of(lambda: X[0] @ Wq[:d_k].T @ X[0])  # "Q W_i Q": (5, 8) @ (8, 4) @ (5, 8)
assert isinstance(err, RuntimeError)
passed("E86")

# %% [markdown]
# **Check E82.** Skip-gram with negative sampling touches only $k+1$ output vectors per (centre,
# context) pair; the article's formula, a softmax over the vocabulary, needs all $V$ of them.

# %%
vocab, dim, k = 50, 8, 5
emb_in = torch.randn(vocab, dim, requires_grad=True)  # centre-word vectors v
emb_out = torch.randn(vocab, dim, requires_grad=True)  # context-word vectors v'
centre, context = 3, 17
candidates = torch.tensor([i for i in range(vocab) if i not in (centre, context)])
negatives = candidates[torch.randperm(len(candidates))[:k]]  # k noise words
v_c = emb_in[centre]
sgns = -F.logsigmoid(emb_out[context] @ v_c) - F.logsigmoid(-(emb_out[negatives] @ v_c)).sum()
(g_sgns,) = torch.autograd.grad(sgns, emb_out)
softmax_ce = F.cross_entropy((emb_out @ v_c)[None], torch.tensor([context]))
(g_full,) = torch.autograd.grad(softmax_ce, emb_out)


def rows(grad: torch.Tensor) -> int:
    return int((grad.abs().sum(dim=1) > 0).sum())  # output vectors that receive a gradient


print(f"output vectors updated: negative sampling {rows(g_sgns)}, full softmax {rows(g_full)}")
assert rows(g_sgns) == k + 1 and rows(g_full) == vocab
passed("E82")

# %% [markdown]
# **Check E83.** Take two words that co-occur once, $c_{01}=1$, and set $f_0=tu$, $f_1=-tu$. The
# article's "loss" is then $-t^2\Vert u\Vert^2$: it decreases without bound as $t$ grows. GloVe's $J$
# is a weighted sum of squares, never negative.

# %%
counts = torch.tensor([[0, 1, 3, 0],
                       [1, 0, 2, 5],
                       [3, 2, 0, 1],
                       [0, 5, 1, 0]], dtype=torch.float64)  # symmetric co-occurrence counts
log_counts = torch.log(counts.clamp(min=1))


def article_glove(f: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((counts == 1) * (f @ f.T - log_counts)).sum()


def glove_j(w: torch.Tensor, w_ctx: torch.Tensor, b: torch.Tensor,
            b_ctx: torch.Tensor) -> torch.Tensor:
    weight = (counts / 100).pow(0.75).clamp(max=1) * (counts > 0)  # f(X_ij), zero where X_ij = 0
    return (weight * (w @ w_ctx.T + b[:, None] + b_ctx[None, :] - log_counts) ** 2).sum()


u = torch.tensor([1.0, 0.5, -0.5], dtype=torch.float64)
values = []
for t in (1.0, 10.0, 100.0):
    f = torch.zeros(4, 3, dtype=torch.float64)
    f[0], f[1] = t * u, -t * u
    values.append(article_glove(f).item())
    assert glove_j(f, f, torch.zeros(4, dtype=torch.float64),
                   torch.zeros(4, dtype=torch.float64)) >= 0
print("article's loss for t = 1, 10, 100:", values)
assert values[0] > values[1] > values[2] and values[2] < -1e4
passed("E83")

# %% [markdown]
# **Check E84.** With a one-hot label, $-\sum_c y_c\log p_c=-\log p_y$, which is PyTorch's
# `cross_entropy`. Read as printed, the article's indicator $[y_i=w_j]$ compares a class label with a
# *probability*; it is never 1, so the "loss" is 0 whatever the prediction.

# %%
logits = torch.randn(4, 5)
y = torch.tensor([0, 3, 1, 4])
p = logits.softmax(dim=-1)
manual = -(F.one_hot(y, 5) * p.log()).sum(-1).mean()
torch.testing.assert_close(manual, F.cross_entropy(logits, y))
article = -((y[:, None].float() == p) * p.log()).sum()
assert article == 0
passed("E84")

# %% [markdown]
# ## 5. Code (22 entries)
#
# Articles A, B and D give TensorFlow/Keras code; C and E give PyTorch DCGANs. None of the five
# programs runs as printed. TensorFlow is not installed in the course environment (the course is plain
# PyTorch), so the Keras errors are shown through the same shape arithmetic in PyTorch, or are not run
# (E14, E66, E95). The course's correct versions are in [section 4.1](../04_hands_on/01_data_pipeline.ipynb) (data pipeline) and [section 4.2](../04_hands_on/02_dcgan.ipynb)
# (DCGAN).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E11 | A | major | Keras generator: Dense 7×7×256 → ConvTranspose (stride 1) → ConvTranspose (stride 2) → ConvTranspose (stride 2), then `assert model.output_shape == (None,128,128,1)`; the discriminator is built for 128×128. | 7 → 7 → 14 → 28: the output is 28×28 and the assert fails. 128×128 needs a 4×4 seed and five stride-2 stages. The discriminator's input must equal the generator's output. | Transposed-convolution arithmetic $H_{out}=(H_{in}-1)s-2p+k$ {cite}`dumoulin2016guide`; {cite}`radford2016dcgan`. Check. |
# | E12 | A | major | `D.train_on_batch(...)` on a model that was never compiled; the generator trained with `G.train_on_batch(z, real_labels)`; `D` ends in `Dense(1)` with no activation. | Keras refuses to train an uncompiled model. `G.train_on_batch(z, labels)` regresses images onto labels; the generator must be trained through `D(G(z))` with `D` frozen (or a `GradientTape` loop). Raw scores need `BinaryCrossentropy(from_logits=True)`. | Keras API. Check (the logits part, in PyTorch). |
# | E13 | A | minor | Uses `np` (never imported), `iters` and `load_data()` (never defined); the "generated faces" of the results section are a placeholder URL. | Import and define them; make the figure with the code. A 28×28 grey model cannot produce the claimed faces. | Check (NameError). |
# | E14 | A | minor | Keras is a library "based on TensorFlow and Theano". | Theano support ended with multi-backend Keras 2.3 (2019); Keras 2.4+ ran on TensorFlow only; Keras 3 (2023) runs on TensorFlow, JAX or PyTorch. | Keras release notes. Not run (Keras is not installed). |
# | E34 | B | major | The training loop uses `fake_images` without generating them; `noise_dim`, `optimizer`, `compute_discriminator_loss`, `compute_generator_loss`, `np`, `MaxPooling2D`, `load_video_dataset`, `preprocess_videos` are never defined or imported; one optimizer serves both networks. | Compute `fake = G(noise)` inside the discriminator's tape, define the BCE losses (from logits), and use one optimizer per player (DCGAN: Adam, lr $2\times10^{-4}$, $\beta_1=0.5$). | {cite}`radford2016dcgan`. Check (NameError). |
# | E35 | B | major | "Use a GAN to generate high-quality short videos": the generator takes an image-shaped input through stride-1 Conv2D layers, Dense and Reshape; `generate_videos` feeds it noise of shape `(num_videos, noise_dim)`; `video_length` is never used. | This generator maps a frame to a frame: it cannot take a noise vector and has no time axis. Video generation needs temporal modelling (3-D convolutions, recurrent or latent motion models), e.g. Vondrick, Pirsiavash & Torralba, "Generating Videos with Scene Dynamics", NeurIPS 2016; Tulyakov et al., "MoCoGAN", CVPR 2018. | Check (the reshape fails). |
# | E45 | C | major | DCGAN for MNIST: generator ConvT(100→256, k4, s1, p0) then three ConvT(k4, s2, p1) and Tanh; discriminator three Conv(k4, s2, p1) then Conv(256→1, k4, s1, p0). | The generator outputs **32×32** (1→4→8→16→32) but MNIST is **28×28**; on 28×28 input the discriminator goes 28→14→7→3 and the last 4×4 convolution fails. Resize the data to 32, or use a 7→14→28 generator with a matching discriminator. `view(-1, 28, 28)` on 32×32 fakes fails too. | Check (torch's error reproduced); [section 4.2](../04_hands_on/02_dcgan.ipynb). |
# | E46 | C | major | `transforms.Normalize((0.5,0.5,0.5),(0.5,0.5,0.5))` on MNIST. | MNIST has one channel: `Normalize((0.5,),(0.5,))`, which maps $[0,1]$ to $[-1,1]$, the range of the generator's `Tanh`. | [Section 4.1](../04_hands_on/01_data_pipeline.ipynb). Check (torch's error reproduced). |
# | E47 | C | major | `G.parameters()`, `D.parameters()` and `device` are used, but `G`, `D` and `device` are never created. | Create `device`, `G = Generator().to(device)` and `D = Discriminator().to(device)` before the optimizers; move the real images to `device` too. | Check (NameError). |
# | E48 | C | major | `criterion(D(g_imgs), torch.ones(N, 1))` with `nn.BCELoss`, where `D` returns shape `(N, 1, 1, 1)`. | `BCELoss` needs input and target of the same shape: `D(x).view(-1)` with `torch.ones(N)`. Better: drop the final `Sigmoid` and use `BCEWithLogitsLoss` (numerically stable). | Check (torch's error reproduced). |
# | E49 | C | minor | `save_image(torch.cat((real_images, fake_images), 0), ...)` on NumPy arrays, into `images/{epoch}/` folders never created; the display code indexes a 3-D array with `[0,:,:,:]` and creates 5 000 folders. | Keep tensors; `os.makedirs(path, exist_ok=True)`; `save_image(torch.cat([real, fake]), path, normalize=True)`. | Check (TypeError and IndexError). |
# | E65 | D | major | Generator: three stride-1 `Conv2D` layers applied directly to $z$, the last with sigmoid. Discriminator: three stride-2 `Conv2D` layers, the last with sigmoid. | A latent vector cannot enter `Conv2D`: first Dense + Reshape, then transposed convolutions up to 28×28, with an output activation that matches the data range ($\tanh$ for $[-1,1]$). The discriminator must end in Flatten + Dense(1); the article's outputs a 4×4 map. | {cite}`radford2016dcgan`. Check (shape arithmetic, in PyTorch). |
# | E66 | D | major | `layers.Conv2D(units=64, kernel_size=(3,3), stride=(2,2), ...)`. | The signature is `Conv2D(filters, kernel_size, strides=..., padding=...)`: `units` belongs to `Dense` and `stride` is misspelt, so the constructor raises a TypeError. | Keras API documentation. Not run (TensorFlow is not installed). |
# | E67 | D | major | The builders return tensors, not models; `z` is undefined where `build_gan(build_generator(z), ...)` is called; inside `build_gan`, `valid = discriminator(img)` and `fake = discriminator(img)` score the same generated image. | Wrap each builder in `tf.keras.Model(inputs, outputs)`. "Valid" must be the discriminator's score of **real** images. | Check (the two scores are identical). |
# | E68 | D | major | `g_loss = mean(fake) + mean(valid)` and `disc_loss = mean(valid) + mean(1 - fake)`. | $L_D=-\overline{\log D(x)}-\overline{\log(1-D(G(z)))}$ and $L_G=-\overline{\log D(G(z))}$, i.e. BCE with labels 1/0. The article's $L_D$ is minimised by the *inverted* discriminator and equals 2, its maximum, for a perfect one. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. |
# | E69 | D | major | After training, `generator = build_generator(z)` is called again and then `.predict(...)`; the results claim digits "highly similar to real images" (a placeholder image). | Rebuilding creates a fresh, **untrained** network (and `build_generator` returns a tensor, which has no `.predict`). Sample from the trained model, and back a quality claim with a metric such as FID {cite}`heusel2017fid`. | Check (the rebuilt generator differs). |
# | E88 | E | major | `labels = torch.full((batch_size,), 1, device=device)` passed to `nn.BCELoss`. | An integer fill value makes an int64 tensor and `BCELoss` raises. Use `torch.full((b,), 1.0)` or `torch.ones(b)`; better, `BCEWithLogitsLoss` on logits. | Check (torch's error reproduced). |
# | E89 | E | major | `fake_images = netG(noise)`, but `noise` and `num_epochs` are never defined; Adam with its default $\beta_1=0.9$. | Draw fresh noise every iteration, `torch.randn(batch_size, 100, 1, 1, device=device)`, and define `num_epochs`. DCGAN uses $\beta_1=0.5$. | {cite}`radford2016dcgan`. Check (NameError). |
# | E90 | E | major | Evaluation noise `torch.randn(100, 1, 1, 1)`. | The generator's first layer is `ConvTranspose2d(100, ...)`, so the noise needs **100 channels**: `torch.randn(100, 100, 1, 1)`. | Check (torch's error reproduced). |
# | E92 | E | minor | `ssim(fake_images, real_images, multichannel=True)` on whole `(N, C, H, W)` batches, and later on torch tensors. | scikit-image's `structural_similarity` compares **one** pair of NumPy images with channels last (`channel_axis=-1` replaces the deprecated `multichannel`) and needs `data_range` for floats (2 for $[-1,1]$). On a `(100, 3, 32, 32)` batch it would treat the width as the channel axis. SSIM is a full-reference metric for *paired* images {cite}`wang2004ssim`; see E91. | scikit-image documentation. Not run (scikit-image is not installed; the course has its own `metrics.ssim`). |
# | E93 | E | minor | `plt.imshow(np.transpose(fake_images[0], (1, 2, 0)))` on the raw generator output. | The generator ends in `Tanh`, so values lie in $[-1,1]$: map them with $(x+1)/2$ first, or matplotlib clips every negative value of float RGB data to 0. | Check. |
# | E95 | E | minor | Keras is "based on TensorFlow and Theano". | As E14. | Not run. |

# %% [markdown]
# **Check E11.** Keras's `padding="same"` transposed convolution multiplies the size by the stride; in
# PyTorch the same layer is `ConvTranspose2d(k=5, stride=s, padding=2, output_padding=s-1)`, and the
# general formula is $H_{out}=(H_{in}-1)s-2p+k+\text{output\_padding}$. The article's generator ends at
# 28×28, not 128×128.

# %%
def conv_transpose_out(h: int, k: int, s: int, p: int = 0, output_padding: int = 0) -> int:
    return (h - 1) * s - 2 * p + k + output_padding


sizes = [7]
for stride in (1, 2, 2):  # the article's three transposed convolutions
    sizes.append(conv_transpose_out(sizes[-1], k=5, s=stride, p=2, output_padding=stride - 1))
h = torch.zeros(1, 1, 7, 7)
for stride in (1, 2, 2):
    h = nn.ConvTranspose2d(1, 1, 5, stride=stride, padding=2, output_padding=stride - 1)(h)
print("sizes:", sizes, "PyTorch:", tuple(h.shape))
assert sizes[-1] == tuple(h.shape)[-1] == 28 != 128
# a 4x4 seed needs five stride-2 stages: 4, 8, ..., 128
assert [4 * 2**i for i in range(6)][-1] == 128
passed("E11")

# %% [markdown]
# **Check E12 (the logits part).** A discriminator that ends in `Dense(1)` outputs raw scores. Feeding
# them to a probability-based BCE is refused by PyTorch (Keras would silently clip them); the right loss
# is BCE *with logits*, which for the generator with target "real" is exactly the course's
# non-saturating loss.

# %%
scores = torch.randn(8) * 3  # raw outputs of Dense(1)
err = error_of(lambda: nn.BCELoss()(scores, torch.ones(8)))
assert "between 0 and 1" in str(err)
torch.testing.assert_close(F.binary_cross_entropy_with_logits(scores, torch.ones(8)),
                           losses.gan_g_nonsaturating(scores))
passed("E12")

# %% [markdown]
# **Check E13, E34, E47, E89.** One line from each program, run with the names that the article *does*
# define: each stops with a `NameError` on a name the article never defines.

# %%
fragments = {  # entry: (the article's line, the names it has defined by then, the missing name)
    "E13": ("d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)",
            {"d_loss_real": 0.7, "d_loss_fake": 0.6}, "np"),
    "E34": ("disc_loss = compute_discriminator_loss(discriminator, real_images, fake_images)",
            {"compute_discriminator_loss": lambda *args: 0.0, "discriminator": None,
             "real_images": None},
            "fake_images"),
    "E47": ("G_optimizer = optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))",
            {"optim": torch.optim}, "G"),
    "E89": ("fake_images = netG(noise).to(device)",
            {"netG": nn.Identity(), "device": "cpu"}, "noise"),
}
for entry, (line, defined, missing) in fragments.items():
    print(entry, end=": ")
    err = error_of(lambda: exec(line, dict(defined)))
    assert isinstance(err, NameError) and f"'{missing}'" in str(err)
passed(*fragments)

# %% [markdown]
# **Check E35.** The article's video generator starts with `Reshape((64, 64, 1))` for 64×64 frames, and
# `generate_videos` feeds it noise of shape `(num_videos, noise_dim)`. The same reshape in PyTorch fails,
# and even the intended output `(B, H, W, C)` has no time axis.

# %%
noise = torch.zeros(2, 100)  # (num_videos, noise_dim)
err = error_of(lambda: noise.reshape(2, 64, 64, 1))
assert isinstance(err, RuntimeError) and "invalid for input of size 200" in str(err)
passed("E35")


# %% [markdown]
# **Check E45.** Articles C and E share one DCGAN (one grey channel for MNIST in C, three colour channels
# for CIFAR-10 in E); we retype it below. Its generator makes 32×32 images; on 28×28 MNIST-sized images its
# discriminator fails. The course's DCGAN for 28×28 ([section 4.2](../04_hands_on/02_dcgan.ipynb)) works.

# %%
def article_dcgan(channels: int) -> tuple[nn.Sequential, nn.Sequential]:
    """The generator and discriminator of Articles C (channels=1) and E (channels=3),
    as printed."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),  # (B, 256, 4, 4)
        nn.BatchNorm2d(256), nn.ReLU(True),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),  # (B, 128, 8, 8)
        nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),  # (B, 64, 16, 16)
        nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False), nn.Tanh(),  # (B, C, 32, 32)
    )
    discriminator = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1, bias=False),  # (B, 64, H/2, W/2)
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False),
        nn.BatchNorm2d(256), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Sigmoid(),  # (B, 1, 1, 1) for 32x32 inputs
    )
    return generator, discriminator


G_c, D_c = article_dcgan(channels=1)
fakes = G_c(torch.randn(2, 100, 1, 1)).detach()
mnist_sized = metrics.to_model_space(test.images[:2])  # (2, 1, 28, 28)
print("generator output:", tuple(fakes.shape))
assert fakes.shape == (2, 1, 32, 32)
err = error_of(lambda: D_c(mnist_sized))
assert "Kernel size can't be greater than actual input size" in str(err)
err = error_of(lambda: fakes.view(-1, 28, 28))  # the article's image-saving code
assert isinstance(err, RuntimeError)

G28, D28 = build_gan(GANConfig(kind="dcgan", z_dim=100, img_size=28, channels=1, width=16))
assert G28(G28.noise(2)).shape == (2, 1, 28, 28) and D28(mnist_sized).shape == (2,)
passed("E45")

# %% [markdown]
# **Check E46.** `transforms.Normalize` subtracts a per-channel mean in place,
# `tensor.sub_(mean.view(-1, 1, 1)).div_(std.view(-1, 1, 1))`; we run those two operations on one
# 1×28×28 image as `ToTensor` gives it (values in $[0,1]$). Three means on one channel fail; one mean
# gives $[-1,1]$, the same as the course's data pipeline ([section 4.1](../04_hands_on/01_data_pipeline.ipynb)).

# %%
def normalize(image: torch.Tensor, mean: tuple, std: tuple) -> torch.Tensor:
    """What torchvision's transforms.Normalize does to a (C, H, W) tensor."""
    mean_t, std_t = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)
    return image.clone().sub_(mean_t).div_(std_t)


image01 = test.images[0].float() / 255  # (1, 28, 28) in [0, 1], as ToTensor gives it
err = error_of(lambda: normalize(image01, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
assert "doesn't match the broadcast shape [3, 28, 28]" in str(err)
scaled = normalize(image01, (0.5,), (0.5,))
assert scaled.shape == (1, 28, 28) and scaled.min() >= -1 and scaled.max() <= 1
loader = data.TensorLoader(test.images[:1], batch_size=1, shuffle=False)
pipeline_x, _ = next(iter(loader))  # the course pipeline scales uint8 to [-1, 1] on the device
torch.testing.assert_close(scaled[None], pipeline_x.cpu())
passed("E46")

# %% [markdown]
# **Check E48.** The article's discriminator returns `(N, 1, 1, 1)` and the target is `(N, 1)`:
# `BCELoss` refuses. Flattening fixes the shape; dropping the `Sigmoid` and using `BCEWithLogitsLoss`
# gives the course's non-saturating generator loss.

# %%
scores = D_c(G_c(torch.randn(2, 100, 1, 1)))  # (2, 1, 1, 1) probabilities
err = error_of(lambda: nn.BCELoss()(scores, torch.ones(2, 1)))
assert "different to the input size" in str(err)
fixed = nn.BCELoss()(scores.view(-1), torch.ones(2))  # runs
logits = D_c[:-1](G_c(torch.randn(2, 100, 1, 1))).view(-1)  # (2,) without the final Sigmoid
torch.testing.assert_close(nn.BCEWithLogitsLoss()(logits, torch.ones(2)),
                           losses.gan_g_nonsaturating(logits))
passed("E48")

# %% [markdown]
# **Check E49.** `torch.cat` refuses NumPy arrays, and a 3-D array has no fourth index.

# %%
real_np = mnist_sized.view(-1, 28, 28).numpy()  # as the article converts them before saving
err = error_of(lambda: torch.cat((real_np, real_np), 0))
assert isinstance(err, TypeError)
err = error_of(lambda: real_np[0, :, :, :])
assert isinstance(err, IndexError)
passed("E49")

# %% [markdown]
# **Check E65.** Keras's `padding="same"` with stride 2 gives $\lceil H/2\rceil$: the article's
# discriminator goes 28 → 14 → 7 → 4 and returns a 4×4 map, not one score. The same layers in
# PyTorch agree; Flatten + Linear fixes it. And a latent *vector* cannot enter a 2-D convolution at all.

# %%
sizes = [28]
for _ in range(3):
    sizes.append(math.ceil(sizes[-1] / 2))
convs = [nn.Conv2d(1, 64, 3, 2, 1), nn.ReLU(), nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU(),
         nn.Conv2d(128, 1, 3, 2, 1)]
article_d = nn.Sequential(*convs, nn.Sigmoid())  # (B, 1, 4, 4)
fixed_d = nn.Sequential(*convs[:4], nn.Conv2d(128, 128, 3, 2, 1), nn.Flatten(),
                        nn.Linear(128 * 4 * 4, 1))
x = torch.zeros(1, 1, 28, 28)
print("Keras sizes:", sizes, " article's D:", tuple(article_d(x).shape),
      " fixed D:", tuple(fixed_d(x).shape))
assert sizes[-1] == 4 and article_d(x).shape == (1, 1, 4, 4) and fixed_d(x).shape == (1, 1)
# z straight into Conv2D
err = error_of(lambda: nn.Conv2d(1, 32, 3, padding=1)(torch.randn(2, 100)))
assert isinstance(err, RuntimeError)
passed("E65")

# %% [markdown]
# **Check E67.** Scoring the same generated image twice gives the same numbers: the article's "valid"
# term never sees a real image.

# %%
D_c.eval()
img = G_c(torch.randn(2, 100, 1, 1)).detach()
valid, fake = D_c(img), D_c(img)
assert torch.equal(valid, fake)
D_c.train()
passed("E67")

# %% [markdown]
# **Check E68.** Feed the article's losses the outputs of a perfect discriminator ($D(x)=1$,
# $D(G(z))=0$): the correct loss is 0, the article's `disc_loss` is 2, its maximum. Its minimum, 0,
# belongs to the inverted discriminator.

# %%
def article_disc_loss(valid: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return valid.mean() + (1 - fake).mean()


def bce_d_loss(valid: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (F.binary_cross_entropy(valid, torch.ones_like(valid))
            + F.binary_cross_entropy(fake, torch.zeros_like(fake)))


one, zero = torch.ones(4), torch.zeros(4)
assert bce_d_loss(one, zero) == 0 and article_disc_loss(one, zero) == 2  # perfect D
assert article_disc_loss(zero, one) == 0  # the inverted D is the article's optimum
passed("E68")

# %% [markdown]
# **Check E69.** One training step changes the generator; "rebuilding" it afterwards gives a different,
# untrained network whose samples for the same $z$ differ.

# %%
cfg = GANConfig(kind="mlp", z_dim=4, data_dim=2, hidden=16, depth=2)
G_trained, D_small = build_gan(cfg)
opt = torch.optim.Adam(G_trained.parameters(), lr=1e-2)
opt.zero_grad()
losses.gan_g_nonsaturating(D_small(G_trained.sample(32))).backward()
opt.step()
G_rebuilt, _ = build_gan(cfg)  # what the article does after training
z = G_trained.noise(8)
assert not torch.allclose(G_trained(z), G_rebuilt(z))
passed("E69")

# %% [markdown]
# **Check E88.** `torch.full` with the integer 1 makes an int64 tensor, which `BCELoss` refuses.

# %%
labels = torch.full((4,), 1)
assert labels.dtype == torch.int64
probs = torch.sigmoid(torch.randn(4))
err = error_of(lambda: nn.BCELoss()(probs, labels))
assert "Found dtype Long but expected Float" in str(err)
assert (torch.full((4,), 1.0).dtype == torch.float32
        and nn.BCELoss()(probs, torch.full((4,), 1.0)) > 0)
passed("E88")

# %% [markdown]
# **Check E90.** Article E's generator (three channels) needs noise with 100 channels.

# %%
G_e, _ = article_dcgan(channels=3)
with torch.no_grad():
    err = error_of(lambda: G_e(torch.randn(100, 1, 1, 1)))
    assert "to have 100 channels" in str(err)
    fake_images = G_e(torch.randn(100, 100, 1, 1))
assert fake_images.shape == (100, 3, 32, 32)
passed("E90")

# %% [markdown]
# **Check E93.** About half of a `Tanh` generator's values are negative, and `imshow` clips float RGB
# data to $[0,1]$, so all of them would show as 0. $(x+1)/2$ maps the whole range into $[0,1]$.

# %%
hwc = fake_images[0].permute(1, 2, 0).numpy()  # (32, 32, 3), as the article passes it to imshow
clipped = (hwc < 0).mean()
shown = (hwc + 1) / 2
print(f"fraction of values imshow would clip to 0: {clipped:.2f}")
assert hwc.min() < 0 and clipped > 0.2 and shown.min() >= 0 and shown.max() <= 1
passed("E93")

# %% [markdown]
# ## 6. Concepts and history (7 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E03 | A | major | A disadvantage of VAEs is that they need labels (需要真实数据的标签). | VAEs are trained without labels: the ELBO uses only $x$. Labels appear only in conditional variants (CVAE; for GANs, cGAN {cite}`mirza2014cgan`). | {cite}`kingma2014vae`; [section 3.1](../03_vae_math/01_elbo.ipynb). |
# | E25 | B | minor | AIGC goes back to the 1990s, and its real breakthrough came in the early 2000s with deep learning. | Computer-generated content is much older: the Illiac Suite (algorithmic music, 1957) and ELIZA (1966). The deep-learning breakthroughs were 2006 (deep belief nets) and 2012 (AlexNet). Deep generative models came with the VAE (arXiv December 2013) and the GAN (2014), then Transformers (2017) and diffusion models (2020, {cite}`ho2020ddpm`). | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). Check (timeline). |
# | E41 | C | major | Image-generation GANs need "large amounts of labelled data"; the training set is $\{(x_i,y_i)\}$, and labelling cost is a key obstacle. | An unconditional GAN or VAE trains on unlabelled $\{x_i\}$; the article's own objective never uses $y$. Labels are needed only for conditional models, e.g. $V=\mathbb{E}[\log D(x\mid y)]+\mathbb{E}[\log(1-D(G(z\mid y)\mid y))]$. | {cite}`mirza2014cgan`; [section 4.3](../04_hands_on/03_cgan_wgan.ipynb). |
# | E58 | D | major | In the 1980s researchers began exploring generative adversarial networks. | GANs were introduced in **2014** {cite}`goodfellow2014gan`; VAEs in 2013/14 {cite}`kingma2014vae`. | Check (timeline). |
# | E75 | E | minor | The GAN diagram runs Generator → Discriminator → Real Data → Generated Data. | $z\sim p_z\to G\to G(z)$; then $G(z)$ **and** real $x\sim p_{data}$ go into $D$, which outputs $P(\text{real})$. Gradients flow back to $D$ and, through $D$, to $G$. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). |
# | E76 | E | minor | The autoencoder diagram runs Encoder → Decoder → Input Data → Reconstructed Data. | Input $x$ → encoder → code $h$ → decoder → reconstruction $\hat x$, trained so that $\hat x\approx x$. | [Section 3.1](../03_vae_math/01_elbo.ipynb). |
# | E79 | E | major | SSD is a two-stage object detector (两阶段目标检测算法). | SSD, the *Single Shot* MultiBox Detector (Liu et al., ECCV 2016), is a **single-stage** detector that predicts boxes from multi-scale feature maps in one pass. Faster R-CNN (Ren et al., NeurIPS 2015) is two-stage. | The paper's title. |

# %% [markdown]
# **Check E25, E54, E56, E58.** A timeline from the course bibliography: convolutional networks
# (LeCun et al. 1998) long before AlexNet (2012), attention for translation (Bahdanau et al. 2015) before
# the Transformer (2017), and GANs in 2014, not the 1980s.

# %%
def bib_years() -> dict[str, int]:
    """{key: year} of every entry in the course's references.bib (found from this page upwards)."""
    here = Path.cwd().resolve()
    bib = next(p / "references.bib" for p in (here, *here.parents)
               if (p / "references.bib").exists())
    years = {}
    for entry in re.split(r"\n(?=@)", bib.read_text(encoding="utf-8")):
        key, year = (re.match(r"@\w+\{([^,]+),", entry),
                     re.search(r"year\s*=\s*[{\"]?(\d{4})", entry))
        if key and year:
            years[key.group(1).strip()] = int(year.group(1))
    return years


years = bib_years()
timeline = ["lecun1998gradient", "kingma2014vae", "goodfellow2014gan", "bahdanau2015attention",
            "vaswani2017attention", "ho2020ddpm"]
for key in sorted(timeline, key=years.get):
    print(years[key], key)
alexnet = 2012  # Krizhevsky, Sutskever & Hinton, NIPS 2012 (not in the bibliography)
# E58, E25: not the 1980s
assert years["goodfellow2014gan"] == 2014 and years["kingma2014vae"] >= 2013
assert min(years[k] for k in ("kingma2014vae", "goodfellow2014gan", "ho2020ddpm")) >= 2013  # E25
assert years["lecun1998gradient"] < alexnet  # E54: CNNs predate AlexNet
# E56: attention predates the Transformer
assert years["bahdanau2015attention"] < years["vaswani2017attention"]
passed("E25", "E54", "E56", "E58")

# %% [markdown]
# ## 7. Applications and evaluation (9 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence |
# |---|---|---|---|---|---|
# | E04 | A | minor | VAEs do "data augmentation" (数据增强), illustrated by image enhancement and speech enhancement (图像增强、语音增强). | *Data augmentation* enlarges a training set with transformed or synthetic samples; *enhancement* improves the signal quality of one input. Different tasks with different metrics. | Section 5.4; see the glossary. |
# | E10 | A | major | VAE denoising: encode a noisy image and the reconstruction "approaches the original image". | A model trained to reconstruct its noisy input learns to reproduce that input, noise included. Denoising needs clean targets in the loss (a denoising autoencoder: Vincent, Larochelle, Bengio & Manzagol, ICML 2008) or an explicit noise model in $p_\theta(x\mid z)$. | Section 5.2. Check. |
# | E36 | B | minor | AIGC does personalised video recommendation and content moderation; given an audio waveform, a generator produces the lyrics. | Recommendation and moderation are ranking and classification (discriminative) tasks; audio to lyrics is speech recognition. They are neighbouring AI, not GAN/VAE applications. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb) (generative vs discriminative). |
# | E50 | C | minor | Disney Animation Studios used GANs for backgrounds and character animation; "Unity's AIGC plugin" uses GANs to generate game images and videos. | No source is given and none was found; Unity's 2023 generative tools (Muse, Sentis) are not described as GAN-based. **Unverified**: do not repeat without a primary source. | — |
# | E51 | C | major | AIGC generates "high-quality CT and MRI images" and pathology slides to help doctors diagnose and treat. | A synthetic image holds no new information about a particular patient and may invent structures, so it cannot support that patient's diagnosis. Documented uses: training-data augmentation for classifiers {cite}`fridadar2018augmentation`, anomaly detection {cite}`schlegl2017anogan`, translation and denoising of *acquired* scans, always validated on real data. | Sections 5.3 and 5.4. |
# | E59 | D | major | The loss function is the key measure of a generative model's performance: the gap between generated and real images, commonly MSE and SSIM. | A loss is a training objective; an evaluation metric is something else. An unconditional sample has **no paired real image**, so pixel MSE or SSIM {cite}`wang2004ssim` against real images says nothing about quality. Use distribution-level metrics: FID {cite}`heusel2017fid`, Inception Score {cite}`salimans2016improved`, precision/recall {cite}`kynkaanniemi2019precision`; see {cite}`theis2016note`. | [Section 4.5](../04_hands_on/05_evaluation.ipynb). Check (with E91). |
# | E70 | D | major | AIGC helps doctors by generating the patient's X-rays and CTs, improving diagnostic accuracy, even guiding surgery. | As E51: generated images are no evidence about the patient. | {cite}`fridadar2018augmentation,schlegl2017anogan`; sections 5.3 and 5.4. |
# | E91 | E | major | Model quality is judged by MSE and SSIM between generated images and CIFAR-10 **test** images; "MSE 0.0339, SSIM 0.8522" is read as high quality. | Unpaired MSE/SSIM cannot rank generators: a generator that always outputs the average image beats real images on MSE. Report FID $=\Vert\mu_r-\mu_g\Vert^2+\operatorname{tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big)$ and precision/recall. The reported numbers are implausible for unpaired images. | {cite}`heusel2017fid,kynkaanniemi2019precision,theis2016note`; [section 4.5](../04_hands_on/05_evaluation.ipynb). Check. |
# | E94 | E | minor | AIGC's "core algorithms" include object detection (YOLO/SSD) and image classification (AlexNet/VGG/ResNet); its applications include recommendation, medical image *analysis*, financial risk and vehicle-behaviour prediction. | These are discriminative or predictive tasks, not content generation. Generative models (GANs, VAEs, diffusion {cite}`ho2020ddpm`, autoregressive language models) can support them, e.g. with synthetic training data, but are not the same thing. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). |

# %% [markdown]
# **Check E59 and E91.** 2 000 Fashion-MNIST test images in $[-1,1]$ (CIFAR-10, which Article E used, is
# not in the course data; the argument is the same).
#
# * Pixel MSE between *different real images* is large, and a "generator" that always outputs the average
#   image scores *better* than real images. The average image is the best any generator can do against
#   unpaired test images: its MSE, the mean per-pixel variance of the test set, is a floor. The article's
#   0.0339 is far below that floor here.
# * SSIM between different real images is near 0, nowhere near the article's 0.85.
# * A distribution-level score, here the Fréchet distance (the formula of FID) on 7×7 average-pooled
#   pixels instead of classifier features, is near 0 for real vs real and large for the average image.

# %%
x = metrics.to_model_space(test.images[:2000])  # (2000, 1, 28, 28)
others = x[torch.roll(torch.arange(2000), 1)]  # each image paired with a different real image
mean_image = x.mean(dim=0, keepdim=True).expand_as(x)
mse_real = (x - others).pow(2).mean().item()
mse_floor = (x - mean_image).pow(2).mean().item()  # = average per-pixel variance
ssim_real = metrics.ssim(x[:500], others[:500]).item()
print(f"pixel MSE: real vs other real {mse_real:.3f}, "
      f"average image vs real {mse_floor:.3f}, article 0.0339")
print(f"SSIM real vs other real {ssim_real:.3f}; article 0.8522")
assert mse_floor < mse_real  # MSE prefers one blurry average to real images
assert 0.0339 < mse_floor and ssim_real < 0.5


def pooled(images: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(images, 4).flatten(1)  # (N, 49) simple features


# the average image, slightly jittered
blurry = mean_image[:1000] + 0.01 * torch.randn(1000, 1, 28, 28)
fd_real = metrics.fid_from_features(pooled(x[:1000]), pooled(x[1000:]))
fd_blurry = metrics.fid_from_features(pooled(blurry), pooled(x[1000:]))
print(f"Fréchet distance: real vs real {fd_real:.3f}, average image vs real {fd_blurry:.2f}")
assert fd_blurry > 20 * fd_real  # the distribution metric ranks them the right way round
passed("E59", "E91")

# %% [markdown]
# **Check E10.** Fit the best linear map (with bias) from noisy 8×8 digits to a target, by least squares,
# and measure PSNR against the clean test images. With the noisy image as its own target the best map is
# the identity, so the output is exactly as noisy as the input. With clean targets it denoises. (A model
# with a narrow bottleneck removes some noise even when trained noisy-to-noisy, as PCA does; that comes
# from its limited capacity, not from its objective.)

# %%
clean = metrics.to_model_space(digits.images).flatten(1).double()  # (1797, 64)
noisy = clean + 0.5 * torch.randn(clean.shape, dtype=torch.float64)
train, held_out = slice(0, 1200), slice(1200, None)


def with_bias(t: torch.Tensor) -> torch.Tensor:
    return torch.cat([t, torch.ones(len(t), 1, dtype=t.dtype)], dim=1)  # (N, 65)


def fit_linear(inputs: torch.Tensor, targets: torch.Tensor):
    """Least-squares affine map inputs -> targets; returns it as a function."""
    weights = torch.linalg.lstsq(with_bias(inputs), targets).solution  # (65, 64)
    return lambda t: with_bias(t) @ weights


def psnr_vs_clean(images: torch.Tensor) -> float:
    return metrics.psnr(images.reshape(-1, 1, 8, 8), clean[held_out].reshape(-1, 1, 8, 8)).item()


noisy_to_noisy = fit_linear(noisy[train], noisy[train])
noisy_to_clean = fit_linear(noisy[train], clean[train])
psnr_input = psnr_vs_clean(noisy[held_out])
psnr_nn = psnr_vs_clean(noisy_to_noisy(noisy[held_out]))
psnr_nc = psnr_vs_clean(noisy_to_clean(noisy[held_out]))
print(f"PSNR vs clean: noisy input {psnr_input:.2f} dB, trained noisy->noisy {psnr_nn:.2f} dB, "
      f"trained noisy->clean {psnr_nc:.2f} dB")
assert abs(psnr_nn - psnr_input) < 0.1 and psnr_nc > psnr_input + 3
passed("E10")

# %% [markdown]
# ## 8. References (27 entries)
#
# Status: **fabricated** means no such work could be found (exact-title searches on arXiv, DBLP, the CVF
# index and publishers' catalogues), so it must not be cited. **Real, wrong details** means the work
# exists but the title, authors, year, venue or link is wrong. **Unverified** means it could be confirmed
# neither way. Real works are cited with the course bibliography where it has them, otherwise written out.
#
# | ID | Art. | Sev. | Cited as | Status | Correct citation and evidence |
# |---|---|---|---|---|---|
# | E15 | A | major | "Variational Autoencoders", Kingma & Welling 2014, as the paper that proposed VAEs | real, wrong title | "Auto-Encoding Variational Bayes", ICLR 2014, arXiv:1312.6114 {cite}`kingma2014vae`. The article's own reference list ([3]) has the right title. |
# | E16 | A | minor | Bengio, Simard & Frasconi 1994, *IEEE Trans. Pattern Analysis and Machine Intelligence* 16(8), 1489–1499 | real, wrong venue | "Learning long-term dependencies with gradient descent is difficult", *IEEE Transactions on Neural Networks* 5(2):157–166, 1994 (doi:10.1109/72.279181). |
# | E17 | A | major | [9] Kolesnikov & Khvostov 2018, "GANs for multimodal generation", CVPR; [17] Huang, Li, Lin & Theilliol 2018, "Towards a principled multi-scale GAN for image synthesis"; [19] Cheng, Mao & He 2016, "Web-scale image annotation…"; [21] Huang, Urtasun & He 2018, "Multi-scale dense convolutional network for semantic segmentation" | fabricated | None exists; [9] reuses the page range of [16]. The nearest real work to [21] is Huang et al., "Multi-Scale Dense Networks for Resource Efficient Image Classification", ICLR 2018. |
# | E18 | A | major | "BigGANs at 512x512" (2019), "BigGANs at 256x256" (2020), "BigGANs at 1024x1024" (2020), "BigGAN Dissection" (CVPR 2020) | fabricated | BigGAN is Brock, Donahue & Simonyan, "Large Scale GAN Training for High Fidelity Natural Image Synthesis", ICLR 2019 (arXiv:1809.11096). GAN dissection is Bau et al., "GAN Dissection: Visualizing and Understanding Generative Adversarial Networks", ICLR 2019. |
# | E19 | A | major | Salimans, Chen, Cheung, Karras & Le Brun 2019, "Improved techniques for training GANs", ICLR | real, wrong authors and venue | Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen, NeurIPS 2016 {cite}`salimans2016improved`. |
# | E20 | A | major | Zhang, Cai & Hasegawa-Johnson 2016, "Variational image compression with a continuous prior", arXiv:1611.05644 | fabricated (not found) | Real VAE-style compression: Ballé, Laparra & Simoncelli, ICLR 2017 {cite}`balle2017endtoend`; Ballé, Minnen, Singh, Hwang & Johnston, "Variational image compression with a scale hyperprior", ICLR 2018 (arXiv:1802.01436). |
# | E21 | A | major | Ulyanov, Lempitsky & Ekiert 2017, "Non-local attention in deep visual representation learning", CVPR 5566–5574 | fabricated | Non-local blocks come from Wang, Girshick, Gupta & He, "Non-local Neural Networks", CVPR 2018. |
# | E22 | A | major | Radford, Besbridge, … Marras 2022, "Language models are few-shot learners", arXiv:2203.02155 | real title, invented authors, wrong ID | Brown et al., NeurIPS 2020, arXiv:2005.14165. arXiv:2203.02155 is Ouyang et al. 2022, "Training language models to follow instructions with human feedback". |
# | E23 | A | major | Dosovitskiy, Springenberg & Brox 2019, "An image is worth 16x16 words", arXiv:2010.11929 | real, wrong authors and year | Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly, Uszkoreit & Houlsby, arXiv October 2020, ICLR 2021. Check: the arXiv identifier itself says 2020. |
# | E24 | A | minor | [13] gives the GAN paper as "Generative adversarial networks"; [10] and [14] repeat [3] ([14] dated 2013); [31] and [33] date GoogLeNet to 2013; [32] dates DenseNet to 2018; [32]–[38] repeat [26]–[30]; none of [1]–[38] is cited in the text | real, duplicated, wrong years | "Generative Adversarial Nets" {cite}`goodfellow2014gan`; Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842); Huang et al., "Densely Connected Convolutional Networks", CVPR 2017. |
# | E37 | B | major | "Ganapati" / "GANapati", a Python library that simplifies GANs, at `github.com/jtseng/ganapati` | fabricated (not found) | No such library was found; use plain PyTorch (`torch.nn`) or the course package. |
# | E38 | B | minor | "Attention Is All You Need", listed under books | real paper, wrong type | Vaswani et al., NeurIPS 2017 {cite}`vaswani2017attention`. |
# | E39 | B | major | "Variational Autoencoders: A Review" (Hannun et al. 2018) | fabricated | Real reviews: Kingma & Welling, "An Introduction to Variational Autoencoders", 2019 {cite}`kingma2019introduction`; Doersch, "Tutorial on Variational Autoencoders", arXiv:1606.05908, 2016. |
# | E40 | B | minor | Books 《生成对抗网络：入门…》 (by 李航 et al.), 《自编码器与变分自编码器…》 (by 曹志宏), "Generative Adversarial Networks: An Introduction"; the survey "Unsupervised Representation Learning" | unverified | None could be identified (Li Hang's known books are 《统计学习方法》 and 《机器学习方法》, neither about GANs); do not cite. Real: Blei, Kucukelbir & McAuliffe, "Variational Inference: A Review for Statisticians", *JASA* 2017; Goodfellow, Bengio & Courville, *Deep Learning*, MIT Press 2016. |
# | E52 | C | minor | The book 《深度学习》 was "written by Yoshua Bengio and other experts" | real, wrong first author | Ian Goodfellow, Yoshua Bengio & Aaron Courville, *Deep Learning*, MIT Press 2016. |
# | E53 | C | minor | Coursera's "Deep Learning Specialization" is offered by Stanford University | real, wrong provider | Offered by DeepLearning.AI and taught by Andrew Ng; Stanford's deep-learning course is CS230, not on Coursera. |
# | E54 | C | major | The AlexNet paper "proposed convolutional neural networks" | real, wrong claim | CNNs predate it: Fukushima's Neocognitron (1980) and LeCun et al. 1989/1998 {cite}`lecun1998gradient`. Krizhevsky, Sutskever & Hinton (NIPS 2012) scaled them up with GPUs, ReLU and dropout. Check (timeline). |
# | E55 | C | major | "A Tutorial on Generative Adversarial Nets" proposed GANs | wrong title | GANs were proposed in "Generative Adversarial Nets" {cite}`goodfellow2014gan`. The tutorial is Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial Networks", arXiv:1701.00160. |
# | E56 | C | minor | "Attention Is All You Need" proposed the self-attention mechanism | real, imprecise claim | It proposed the **Transformer**, built entirely on attention {cite}`vaswani2017attention`. Attention for translation came earlier {cite}`bahdanau2015attention`, and so did self-attention (e.g. Cheng, Dong & Lapata 2016; Lin et al. 2017). Check (timeline). |
# | E57 | C | major | "Generating Pre-trained Text for Natural Language Generation" proposed BERT, GPT and other pretrained models | fabricated | BERT: Devlin, Chang, Lee & Toutanova, NAACL 2019. GPT: Radford, Narasimhan, Salimans & Sutskever 2018, "Improving Language Understanding by Generative Pre-Training" (OpenAI report). No single paper proposed both. |
# | E71 | D | major | The book 《生成对抗网络》 by Ilg, Reichert & Schiele | fabricated (not found) | No such book; for a GAN overview use Goodfellow's NIPS 2016 tutorial (arXiv:1701.00160). |
# | E72 | D | minor | 《Python深度学习》 (*Python Deep Learning*) by Raschka & Mirjalili | real books, mixed up | Raschka & Mirjalili wrote *Python Machine Learning* (Packt, 2nd ed. 2017). 《Python深度学习》 is the Chinese edition of Chollet, *Deep Learning with Python* (Manning 2017; 2nd ed. 2021). |
# | E73 | D | major | The VAE paper, under a Chinese title that glosses as "VAE: learning for generative models and loss functions" (Kingma, Welling) | real, wrong title | "Auto-Encoding Variational Bayes", ICLR 2014 {cite}`kingma2014vae`. |
# | E74 | D | major | The ImageNet paper by Deng, Dong, Socher, Li, Li, Li and **Lafferty**, as the founding paper of the ImageNet *competition* | real, wrong authors and claim | Deng, Dong, Socher, Li, Li & Fei-Fei, "ImageNet: A Large-Scale Hierarchical Image Database", CVPR 2009, pp. 248–255: a *dataset* paper. The challenge paper is Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge", IJCV 2015. |
# | E96 | E | minor | Mikolov et al., "Distributed Representations of Words and Phrases and their Compositionality", NeurIPS 2013, linked to arXiv:1301.3781, with a Chinese title that glosses as "word-vector models: a frequency-based neural-network method" | real, wrong link | The paper is arXiv:1310.4546. arXiv:1301.3781 is Mikolov, Chen, Corrado & Dean, "Efficient Estimation of Word Representations in Vector Space". The Chinese "title" translates neither. |
# | E97 | E | minor | "TensorFlow GAN implementation" linked to `tensorflow/…/python/keras/applications`; "PyTorch GAN implementation" linked to `pytorch/examples/tree/master/gan` | wrong links | Keras *applications* are pretrained classifiers (ResNet, VGG, …), not a GAN. pytorch/examples has a `dcgan/` folder and no `gan/`. The TensorFlow DCGAN tutorial is at tensorflow.org/tutorials/generative/dcgan. |
# | E98 | E | minor | The book 《生成对抗网络：原理…》 (*Generative Adversarial Networks: Theory, Algorithms and Applications*) by 李航, "the authoritative guide" | unverified | No such book by Li Hang could be found. *Deep Learning* (Goodfellow, Bengio & Courville 2016) and *Speech and Language Processing* (Jurafsky & Martin), also recommended, are real. |

# %% [markdown]
# **Check E23.** New-style arXiv identifiers (since 2007) begin with the year and month of submission,
# `YYMM.NNNNN`. The identifier the article gives for the Vision Transformer dates it to October 2020, so
# its year 2019 is impossible.

# %%
def arxiv_year_month(identifier: str) -> tuple[int, int]:
    yymm = identifier.split(".")[0]
    return 2000 + int(yymm[:2]), int(yymm[2:])


assert (arxiv_year_month("2010.11929") == (2020, 10)
        and arxiv_year_month("2010.11929")[0] != 2019)  # E23
# AEVB: arXiv December 2013, ICLR 2014 (E24, E25)
assert arxiv_year_month("1312.6114") == (2013, 12)
assert arxiv_year_month("2005.14165") == (2020, 5)  # Brown et al., the real few-shot paper (E22)
passed("E23")

# %% [markdown]
# ### Every work the articles cite
#
# For completeness, every cited work, including those the articles get right.
#
# **Article A** (sections 7.1, 7.3 and the reference list [1]–[38]):
#
# | Ref. | As cited | Status | Correct form |
# |---|---|---|---|
# | 7.1 | The article's own series, *Generative AI: gold mine or bubble?*, as a book | unverified | a blog series, not a book |
# | 7.1 | 《深度学习》, Goodfellow et al. | OK | *Deep Learning*, MIT Press 2016 |
# | 7.1 | A book on GAN theory and applications, no author | unverified | — |
# | 7.3 | "Generative Adversarial Nets", Goodfellow 2014 | OK | {cite}`goodfellow2014gan` |
# | 7.3 | DCGAN, Radford et al. 2015 | OK | arXiv 2015, ICLR 2016 {cite}`radford2016dcgan` |
# | 7.3 | "Variational Autoencoders", Kingma & Welling 2014 | real, wrong title | E15 |
# | [1] | Goodfellow et al. 2014, NeurIPS 27 | OK | {cite}`goodfellow2014gan` |
# | [2] | Radford, Metz & Chintala 2015, arXiv:1511.06434 | OK | {cite}`radford2016dcgan` |
# | [3], [10], [14] | Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114 | OK ([10], [14] duplicates; [14] dated 2013) | {cite}`kingma2014vae`; E24 |
# | [4] | Bengio, Simard & Frasconi 1994 | real, wrong venue | E16 |
# | [5] | LeCun, Bengio & Hinton 2015, *Nature* 521 | OK | pp. 436–444 |
# | [6] | Hochreiter & Schmidhuber 1997, LSTM | OK | *Neural Computation* 9(8) |
# | [7] | Hinton, Osindero & Teh 2006, deep belief nets | OK | *Neural Computation* 18(7) |
# | [8] | Srivastava et al. 2014, Dropout | OK | *JMLR* 15 |
# | [9], [17], [19], [21] | four CVPR papers | fabricated | E17 |
# | [11], [23], [24], [25] | "BigGANs at …" and "BigGAN Dissection" | fabricated | E18 |
# | [12] | Salimans et al. 2019, ICLR | real, wrong authors and venue | E19 |
# | [13] | Goodfellow et al., "Generative adversarial networks" | real, wrong title (duplicate of [1]) | E24 |
# | [15] | Zhang, Cai & Hasegawa-Johnson 2016 | fabricated | E20 |
# | [16] | Ulyanov, Lempitsky & Ekiert 2017 | fabricated | E21 |
# | [18] | "Language models are few-shot learners", Radford et al. 2022 | real title, invented authors | E22 |
# | [20] | Arjovsky, Chintala & Bottou 2017, WGAN | OK | ICML 2017 {cite}`arjovsky2017wgan` |
# | [22] | Dosovitskiy, Springenberg & Brox 2019, ViT | real, wrong authors and year | E23 |
# | [26], [34] | He et al. 2016, ResNet | OK (duplicate) | CVPR 2016 |
# | [27], [35] | Huang et al. 2017, DenseNet | OK (duplicate) | CVPR 2017 |
# | [28], [38] | Deng et al. 2009, ImageNet | OK (duplicate) | CVPR 2009 |
# | [29], [37] | Krizhevsky, Sutskever & Hinton 2012, AlexNet | OK (duplicate) | NIPS 2012 |
# | [30], [36] | Simonyan & Zisserman 2014, VGG | OK (duplicate) | ICLR 2015 |
# | [31], [33] | Szegedy et al. "2013", GoogLeNet | real, wrong year | CVPR 2015; E24 |
# | [32] | Huang et al. "2018", DenseNet | real, wrong year | CVPR 2017; E24 |
#
# **Article B**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | *Deep Learning*, Goodfellow et al. | OK | MIT Press 2016 |
# | *Generative Adversarial Networks: An Introduction* | unverified | E40 |
# | "Generative Adversarial Nets", Goodfellow 2014 | OK | {cite}`goodfellow2014gan` |
# | DCGAN, Radford et al. 2016 | OK | {cite}`radford2016dcgan` |
# | "Ganapati" library | fabricated | E37 |
# | "Variational Autoencoders: A Review", Hannun et al. 2018 | fabricated | E39 |
# | "Attention Is All You Need", as a book | real paper, wrong type | E38 |
# | "Variational Inference: A Review for Statisticians" | OK | Blei, Kucukelbir & McAuliffe, *JASA* 2017 |
# | "Unsupervised Representation Learning" (survey) | unverified | E40 |
# | Two Chinese books on GANs and on autoencoders | unverified | E40 |
# | TensorFlow and Keras sites and tutorials; Coursera's deep-learning specialization | OK | the Keras `/tutorials` path is outdated |
# | deeplearning.net; aitechtoday.com | unverified | deeplearning.net was the Theano-era LISA lab site and is no longer maintained |
#
# **Article C**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》 "by Yoshua Bengio et al." | real, wrong first author | E52 |
# | Coursera's deep-learning specialization "by Stanford" | real, wrong provider | E53 |
# | "ImageNet Classification with Deep Convolutional Neural Networks" (AlexNet) | real, wrong claim | E54 |
# | "A Tutorial on Generative Adversarial Nets" | wrong title | E55 |
# | "Attention Is All You Need" | real, imprecise claim | E56 |
# | "Generating Pre-trained Text for Natural Language Generation" | fabricated | E57 |
#
# **Article D**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》, Goodfellow, Bengio & Courville | OK | MIT Press 2016 |
# | 《生成对抗网络》, Ilg, Reichert & Schiele | fabricated | E71 |
# | 《Python深度学习》, Raschka & Mirjalili | real books, mixed up | E72 |
# | The GAN paper (Goodfellow, …, Courville, Bengio) | OK | {cite}`goodfellow2014gan`; the Chinese title is a loose translation |
# | The VAE paper (Kingma, Welling) | real, wrong title | E73 |
# | ImageNet (Deng, …, Lafferty) | real, wrong authors | E74 |
#
# **Article E**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》, Goodfellow, Bengio & Courville | OK | MIT Press 2016 |
# | A GAN book by 李航 | unverified | E98 |
# | 《自然语言处理综论》, Jurafsky & Martin | OK | *Speech and Language Processing* |
# | Goodfellow et al. 2014, arXiv:1406.2661 | OK | {cite}`goodfellow2014gan` |
# | Mikolov et al. 2013, "Distributed Representations…" | real, wrong link | E96 |
# | Vaswani et al. 2017, arXiv:1706.03762 | OK | {cite}`vaswani2017attention` |
# | The TensorFlow and PyTorch "GAN implementation" links | wrong links | E97 |
# | huggingface/transformers, deeplearning.ai, keras.io, online-course and conference sites | OK, not load-bearing | the `cvpr.org` address and a WeChat article are unverified |

# %% [markdown]
# ## Summary
#
# The cell below counts the entries whose check ran on this page. Entries without a check are those
# where no number can settle the question (history, applications, references, diagrams) or whose code
# needs a library that is not installed (Keras/TensorFlow for E14, E66, E95; scikit-image for E92).

# %%
all_ids = {f"E{i:02d}" for i in range(1, 99)}
assert CHECKED <= all_ids
print(f"{len(CHECKED)} of {len(all_ids)} entries have an executable check that passed:")
print(", ".join(sorted(CHECKED)))
print("without a check:", ", ".join(sorted(all_ids - CHECKED)))
assert len(CHECKED) == 59  # update when a check is added
