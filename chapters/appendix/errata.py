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
# This appendix lists every error we found in them, **105 in all**, with the correct version and the
# evidence for it. Wherever a number can settle the question, a code cell checks it, and the last
# column of each table, **Kind of check**, says what sort of check it is:
#
# * *article's version*: the cell runs the article's formula or code (or a faithful transcription, or
#   its direct consequence) next to the correct version on the same input, and asserts that the
#   article's breaks or gives the wrong answer. Where that cell belongs to another entry, the column
#   names it.
# * *correct statement*: for a claim in words (what $D$ is at equilibrium, whether labels are needed),
#   the cell measures the correct statement, which contradicts the article's. The assert would fail if
#   the correct statement were false.
# * *illustration*: the cell only shows the correct fact (the course's own input validation, a date,
#   arithmetic on assumed rates). Its asserts hold by construction and prove nothing about the
#   article; we keep them because they show the point, and label them so.
# * *none* (—): no number can settle the question (history, applications, references, diagrams), or
#   the code needs a library that is not installed. The summary at the end lists these entries.
#
# The book is built by executing this page, so if a check ever stopped passing, the book would not
# build.
#
# ## The five articles
#
# We call them Article A to E, in the order of their files. Titles are translated; B and D have no title
# of their own, so we describe them.
#
# | Article | Source file | Title (translated) | What it covers | Entries | Major / minor |
# |---|---|---|---|---|---|
# | A | `000_6a6815629cb8cddd.txt` | *Generative AI: gold mine or bubble?*, part 6: "AIGC, a long slope with thick snow" (a long-term opportunity) | AIGC concepts, GAN and VAE principles and "derivations", a TensorFlow/Keras DCGAN, industry applications, 38 references | E01–E24, E99, E102 (26) | 20 / 6 |
# | B | `001_462d302aa808bfd9.txt` | (untitled) AIGC concepts and AI-assisted short-video creation | history, GAN/VAE/attention concepts, probability basics, GAN and VAE losses, a TensorFlow "short-video GAN" | E25–E40, E103 (17) | 9 / 8 |
# | C | `002_342ad59ca38063a2.txt` | An analysis of how widespread AIGC technology is | drivers of adoption, GAN objective, a PyTorch DCGAN on MNIST, applications (media, games, medicine), "seminal papers" | E41–E57, E104 (18) | 12 / 6 |
# | D | `003_7dabdeebb5d8ba9e.txt` | (untitled) AIGC from beginner to practice: image generation | image-generation pipeline, GAN vs VAE, GAN and VAE loss formulas, a TensorFlow/Keras MNIST GAN, applications | E58–E74, E100–E101 (19) | 16 / 3 |
# | E | `004_e8e30c57d93bf6fd.txt` | AIGC from beginner to practice: let AI help you create short videos, crack the "traffic code" and never sink without a trace again | GAN, VAE, NLP (word2vec, GloVe, attention), object detection, loss formulas, a PyTorch DCGAN on CIFAR-10 evaluated by MSE/SSIM | E75–E98, E105 (25) | 12 / 13 |
#
# ## How to read this page
#
# * The entries are grouped by topic: GAN maths, VAE maths, probability, attention and other NLP
#   formulas, code, concepts and history, applications and evaluation, references. The numbers
#   E01–E98 follow the order of the articles, so E26 is in Article B. Entries found after that
#   numbering was fixed are numbered on from E99 (E99 and E102 are in Article A, E100 and E101 in Article D, E103 in B, E104 in C, E105 in E), so
#   that no number that other pages cite ever changes.
# * Each topic opens with a table. **The article says** is our paraphrase in English (Chinese is quoted
#   only as a few words). **What is right** gives the correct statement, **Evidence** the source, and
#   the course section where the correct version is taught. "Check" means a cell below runs it, and
#   **Kind of check** says what that cell can show (see above). Links to course sections appear only in
#   the columns that give the correct version; a section number in **The article says** is the article's own section.
# * **Severity.** *Major*: a wrong formula, sign or claim, or code that cannot run. *Minor*: imprecise,
#   outdated or cosmetic.
# * Throughout, $D$ outputs the probability that its input is real, $D=\sigma(a)$ with logit $a$;
#   $p_{data}$ is the data distribution, $p_g$ the generator's, $p_z$ the noise prior. The course's loss
#   functions (`aigc_course.losses`) take logits, as the course's discriminators return logits.
# * References written as {cite}`goodfellow2014gan` are in the course bibliography. Other real works are
#   written out in full. Works that could not be found are never cited, only listed in section 8.

# %%
import ast
import builtins
import math
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn
from torch.distributions import Normal, kl_divergence

import aigc_course as ac
from aigc_course import data, losses, metrics
from aigc_course.config import GANConfig, TrainConfig, VAEConfig
from aigc_course.gan import build_gan
from aigc_course.train import train_gan
from aigc_course.nn import View
from aigc_course.plotting import glue
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
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E01 | A | major | Under "discriminator training", the discriminator keeps adjusting the *generator's* parameters (不断调整生成器G的参数). | A discriminator step changes only $\theta_d$ (ascent on $V$). The generator has its own step; its gradient passes *through* $D$ while $\theta_d$ stays fixed. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check; the article's version (a discriminator loss stepped in the generator's parameters) runs in the check of E62. | article's version (in E62) |
# | E05 | A | major | For $L_G=-\log D(G(z))$: $\partial L_G/\partial G(z)=-1/D(G(z))$. | The chain rule needs $\nabla_x D$: $\dfrac{\partial L_G}{\partial G(z)}=-\dfrac{1}{D(G(z))}\nabla_x D(x)\Big\rvert_{x=G(z)}$. Per fake logit $a$: $\partial L_G/\partial a=-(1-D(G(z)))$. (The loss itself, the non-saturating loss, is fine.) | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E06 | A | major | "Update" $G(z)=z+\partial L_G/\partial G(z)$, and likewise $G(z)=z+\partial L_D/\partial G(z)$: the gradient is *added*, and the discriminator's loss updates the generator. | Update the **parameters** against the gradient of each player's **own** loss: $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}L_G$, $\theta_d\leftarrow\theta_d-\eta\nabla_{\theta_d}L_D$. $G(z)$ is a network output, not $z$ plus a gradient. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E07 | A | major | $\partial L_D/\partial G(z)=D(G(z))-1$. | $\dfrac{\partial L_D}{\partial G(z)}=\dfrac{\nabla_x D(x)}{1-D(x)}\Big\rvert_{x=G(z)}$; per fake logit it is $+D(G(z))$. The article's $D-1$ is the logit gradient of the **real** term $-\log D(x)$. | [Section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E26 | B | major | "Generator objective $\min_G\max_D V$" with $V=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, then "discriminator objective $\min_D V$". | $V=+\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$ inside $\min_G\max_D$. The article's $V$ is the discriminator's BCE loss: $\max_D$ of it has no solution, and the second line contradicts the first. | {cite}`goodfellow2014gan`, eq. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E29 | B | major | The overall GAN loss is $\mathcal L_{GAN}=\mathcal L_D+\mathcal L_G$. | Two players, two losses: $D$ minimises $\mathcal L_D$ in $\theta_d$, $G$ minimises $\mathcal L_G$ in $\theta_g$, in alternation. Summed, the gradient at the fake logit is $2D(G(z))-1$: it vanishes at $D=\tfrac12$ whatever $p_g$ is, and pushes $D(G(z))$ *down* above $\tfrac12$. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check (with E81). | article's version |
# | E32 | B | major | Early in training the discriminator finds it hard to tell real from generated, and its scores fluctuate; only later does it separate them. | Early on the generator is poor and $D$ rejects its samples confidently. That is exactly when $\log(1-D(G(z)))$ saturates, which is why the non-saturating loss is used. | {cite}`goodfellow2014gan`, section 3; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | correct statement |
# | E33 | B | major | At the balance point the discriminator can accurately distinguish real from generated images. | At the optimum $p_g=p_{data}$, so $D^*(x)=\tfrac12$ everywhere: $D$ **cannot** distinguish them, and $V=-\log 4$. | {cite}`goodfellow2014gan`, Prop. 1 and Thm. 1; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | correct statement |
# | E42 | C | major | Update rules $G\leftarrow\nabla_G\mathbb{E}_z[\log(1-D(G(z)))]$ and $D\leftarrow\nabla_D\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))$ (the second bracket is never closed, so as printed $\nabla_D$ applies to the first term only). | $\theta_d\leftarrow\theta_d+\eta\nabla_{\theta_d}V$ (ascent) and $\theta_g\leftarrow\theta_g-\eta\nabla_{\theta_g}\mathbb{E}_z[\log(1-D(G(z)))]$ (descent; in practice the non-saturating loss). Assigning a gradient to a network is not an update. | Algorithm 1 of {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E43 | C | major | The discriminator's *loss* is $\mathbb{E}_x[\log D(x)]+\mathbb{E}_z[\log(1-D(G(z)))]$, minimised by gradient descent. | That quantity is what $D$ **maximises**. As a loss: $\mathcal L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$, the BCE with labels 1 (real) and 0 (fake). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E44 | C | major | "Compute the real image's probability $p_D$", then the loss $\mathbb{E}[\log p_D]+\mathbb{E}[\log(1-p_D)]$, with the same $p_D$ in both terms. | The second term needs the **fake** score $D(G(z))$: $-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. With $p_D$ in both terms the loss never sees a generated sample, and minimising it drives $D$ to $\tfrac12$ on the real data. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check: trained on the article's loss, a discriminator unlearns the separation. | article's version |
# | E61 | D | major | $G(x)=\mathrm{Generator}(x)$, "where $x$ is the input data". | The generator maps latent noise to data space: $x=G(z)$, $z\sim p_z$ such as $\mathcal N(0,I)$. Data enter only $D$ (or $G$ in image-to-image models). | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check (with E78). | illustration |
# | E62 | D | major | $L_G=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$. | That is the *discriminator's* loss: minimised in $G$ it drives $D(G(z))\to0$, helping $D$. Use $L_G=\mathbb{E}_z[\log(1-D(G(z)))]$ (minimax) or $L_G=-\mathbb{E}_z[\log D(G(z))]$ (non-saturating). | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check. | article's version |
# | E63 | D | major | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log D(G(z))]$. | $L_D=-\mathbb{E}_x[\log D(x)]-\mathbb{E}_z[\log(1-D(G(z)))]$: fakes have label 0. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check: a constant $D\equiv1$ minimises the article's loss. | article's version |
# | E78 | E | major | The generator preprocesses "input data such as pictures" and forges data from the input data. | An unconditional generator takes random noise $z\sim p_z$; only the discriminator sees real data. Image-to-image GANs (e.g. pix2pix) are a separate, conditional setting. | {cite}`goodfellow2014gan`. Check (with E61). | illustration |
# | E80 | E | minor | When $D(G(z))$ is close to 1, the discriminator "cannot distinguish" real from fake. | $D(G(z))\approx1$ means $D$ is **fooled**: it confidently calls fakes real. "Cannot distinguish" is $D\equiv\tfrac12$, at $p_g=p_{data}$. | [Section 2.1](../02_gan_math/01_minimax.ipynb). Check (with E33). | correct statement |
# | E81 | E | major | Total loss $L=L_G+\lambda L_D^G$ (also $L_G+\lambda L_D$), with $\lambda$ balancing generator and discriminator. | There is no single weighted loss: $D$ minimises $L_D$ over $\theta_d$, $G$ minimises $L_G$ over $\theta_g$. With $L_D^G=-\log(1-D(G(z)))$ and $\lambda=1$ the fake-logit gradient is $2D-1$, as in E29. | {cite}`goodfellow2014gan`; [section 2.2](../02_gan_math/02_gradients.ipynb). Check (with E29). | article's version |

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
def fit_logistic_d(real: torch.Tensor, fake: torch.Tensor, loss_fn=losses.gan_d_loss,
                   init: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """(w, b) of D(x) = sigmoid(w x + b) minimising ``loss_fn`` (by default the GAN discriminator
    loss) on 1-D samples, starting from ``init``."""
    wb = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([wb], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(wb[0] * real + wb[1], wb[0] * fake + wb[1])
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
# $\sigma(wx+b)$, starting at $\theta=0$. One ascent step on $V$ in $(w,b)$ raises $V$; one descent step
# in $\theta$ lowers it and raises $D(G(z))$. The article's rules instead *assign* the gradient to the
# network. Run as printed, the generator's rule moves $\theta$ away from the data, so $D(G(z))$ falls,
# and the discriminator's rule (the gradient of the first term only, as printed) lowers $V$, the
# quantity $D$ should raise. At the equilibrium ($\theta=3$, $D\equiv\tfrac12$) the gradient is 0,
# so the article's rule would even reset the perfect generator to $\theta=0$; a real update leaves it
# where it is (that last part is an illustration).

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

# the article's rules, as printed: assign the gradient (for D, of the first term only)
theta_assigned = g_theta.detach()  # G <- grad_G E_z[log(1 - D(G(z)))]
(g_first,) = torch.autograd.grad(torch.log(torch.sigmoid(wb[0] * real + wb[1])).mean(), wb)
wb_assigned = g_first.detach()  # D <- grad_D E_x[log D(x)] + ...


def mean_d_of_fakes(th: torch.Tensor) -> float:
    return torch.sigmoid(wb[0] * (z + th) + wb[1]).mean().item()


print(f"mean D(G(z)): at theta = 0 {mean_d_of_fakes(theta.detach()):.4f}, "
      f"after the article's G rule {mean_d_of_fakes(theta_assigned):.4f}, after a descent step "
      f"{mean_d_of_fakes(theta.detach() - eta * g_theta):.4f}")
print(f"V: at the start {v0.item():.4f}, after the article's D rule "
      f"{value(theta, wb_assigned).item():.4f}, after an ascent step "
      f"{value(theta, wb + eta * g_wb).item():.4f}")
assert (mean_d_of_fakes(theta_assigned) < mean_d_of_fakes(theta.detach())
        < mean_d_of_fakes(theta.detach() - eta * g_theta))  # the article's G rule helps D
assert value(theta, wb_assigned) < v0 < value(theta, wb + eta * g_wb)  # its D rule lowers V

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
# **Check E44.** The article's recipe, run as written (with the sign of E43 already corrected, so that
# only this error is left): compute $p_D$ for the real images and minimise
# $-\mathbb{E}[\log p_D]-\mathbb{E}[\log(1-p_D)]$, with the same $p_D$ in both terms. We start both
# versions from the same discriminator $D(x)=\sigma(x-1.5)$, which already separates real
# $\mathcal N(3,1)$ from generated $\mathcal N(0,1)$ samples, and minimise each loss (L-BFGS, as in
# the check of E32). The article's loss never sees a generated sample: it pulls $D$ to $\tfrac12$ on
# the real data and unlearns the separation. The correct loss, with $D(G(z))$ in its second term,
# sharpens it.

# %%
def article_p_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log p_D] - E[log(1 - p_D)], both terms on the real images' p_D (fake_logits unused)."""
    return F.softplus(-real_logits).mean() + F.softplus(real_logits).mean()


real64, fake64 = real.double(), fake.double()  # the samples of the check of E43


def separation(wb: torch.Tensor) -> float:
    """Mean D(x) on the real samples minus mean D on the generated ones (0: no separation)."""
    return (torch.sigmoid(wb[0] * real64 + wb[1]).mean()
            - torch.sigmoid(wb[0] * fake64 + wb[1]).mean()).item()


start = (1.0, -1.5)  # D(x) = sigmoid(x - 1.5)
wb_article = fit_logistic_d(real64, fake64, article_p_d_loss, init=start)
wb_correct = fit_logistic_d(real64, fake64, losses.gan_d_loss, init=start)
print(f"mean D(real) - mean D(fake): at the start {separation(torch.tensor(start)):.3f}, "
      f"after the article's loss {separation(wb_article):.3f}, "
      f"after the correct loss {separation(wb_correct):.3f}")
assert separation(torch.tensor(start)) > 0.5
assert abs(separation(wb_article)) < 0.05  # the article's D no longer tells them apart
assert separation(wb_correct) > separation(torch.tensor(start))  # the correct D separates better
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
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E02 | A | major | The core idea of a VAE is "data compression and reconstruction"; the encoder maps an input to a *point*; the objective is reconstructing the input. | The encoder outputs the parameters of a *distribution* $q_\phi(z\mid x)$, and training maximises the ELBO: reconstruction **minus** $D_{KL}(q_\phi(z\mid x)\Vert p(z))$. The KL term is what makes decoding $z\sim p(z)$ produce data. Reconstruction alone gives a plain autoencoder. | {cite}`kingma2014vae,kingma2019introduction`; [section 3.1](../03_vae_math/01_elbo.ipynb). Check. | article's version |
# | E08 | A | major | The decoder's input is $x$ and its output $G(x)$; "encoder loss" $-\log p(x\mid\mu,\sigma)$ plus "decoder loss" $\sum_x-\log p(G(x))$, and no KL term. | The decoder takes $z=\mu+\sigma\odot\varepsilon$ and outputs the parameters of $p_\theta(x\mid z)$. The loss is $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert\mathcal N(0,I))$, and both terms train the encoder. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. | illustration |
# | E27 | B | minor | $\mathcal L(x,z)=\mathcal L_{RECON}(x,\hat x)+\mathcal L_{KL}(\hat z\Vert z)$: a KL between latent vectors. | A KL divergence compares **distributions**: $\mathcal L=-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+D_{KL}(q_\phi(z\mid x)\Vert p(z))$ with $p(z)=\mathcal N(0,I)$. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check (with E30). | correct statement |
# | E30 | B | major | "Encoder loss" $\frac1n\sum_x D_K(\mu(x),\log\sigma^2(x))$, a KL "between" $\mu$ and $\log\sigma^2$; the reconstruction is a separate "decoder loss". | $D_{KL}(\mathcal N(\mu,\operatorname{diag}\sigma^2)\Vert\mathcal N(0,I))=\tfrac12\sum_j(\mu_j^2+\sigma_j^2-\log\sigma_j^2-1)$ is a function **of** $(\mu,\sigma)$, not a divergence between them. Reconstruction gradients reach the encoder through $z=\mu+\sigma\odot\varepsilon$, so there is no encoder/decoder split of the loss. | {cite}`kingma2014vae`, appendix B; [section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |
# | E31 | B | minor | $\log\sigma^2(x)$ is the encoder's estimate of the standard deviation (标准差估计). | $\log\sigma^2$ is the log-**variance**; the standard deviation is $\sigma=\exp(\tfrac12\log\sigma^2)$. | [Section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |
# | E60 | D | major | The steps for both GAN and VAE are to "build the generator and discriminator"; the VAE section gives losses for a generative and a **discriminative** model. | A VAE has an **encoder** $q_\phi(z\mid x)$ and a **decoder** $p_\theta(x\mid z)$, and no discriminator. Hybrids such as VAE-GAN add one, but they are other models. | {cite}`kingma2014vae`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check. | illustration |
# | E64 | D | major | VAE loss $L_G=\mathbb{E}_x[\log D(x)]+\beta\,\mathbb{E}_x[\log p_\theta(x\mid x)]$ plus a discriminator loss; $p_\theta(x\mid x)$ is called the log-likelihood. | $\beta$-VAE: minimise $-\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]+\beta D_{KL}(q_\phi(z\mid x)\Vert p(z))$. It conditions on $z$, not $x$; $\beta$ weights the **KL**; $\beta=1$ is the VAE; there is no $D$. | {cite}`higgins2017betavae,kingma2014vae`; [sections 3.1](../03_vae_math/01_elbo.ipynb) and 3.4. Check. | article's version |
# | E77 | E | major | A VAE consists of an encoder, a decoder and a "deterministic mapping function" (确定性映射函数) into the latent space. | The latent code is **stochastic**: $z=\mu_\phi(x)+\sigma_\phi(x)\odot\varepsilon$, $\varepsilon\sim\mathcal N(0,I)$. This reparameterisation makes sampling differentiable in $\phi$. | {cite}`kingma2014vae,rezende2014stochastic`; [section 3.2](../03_vae_math/02_reparameterisation.ipynb). Check; the article's deterministic point encoder runs in the check of E02. | article's version (in E02) |
# | E87 | E | major | $L=\frac1N\sum_i\Big(\frac12\sum_{j=1}^D(x_i-\hat x_i)^2+\frac12\sum_{j=1}^D(\log\sigma_i^2+\sigma_i^2-1-x_i^2)\Big)$. | $L=\frac1N\sum_i\Big(\frac12\sum_{d=1}^{D}(x_{id}-\hat x_{id})^2+\frac12\sum_{j=1}^{J}(\mu_{ij}^2+\sigma_{ij}^2-\log\sigma_{ij}^2-1)\Big)$: the sign of $\log\sigma^2$ is flipped; the KL uses $+\mu^2$ where the article has $-x_i^2$ (the data, and with the wrong sign); and it runs over the $J$ **latent** dimensions. | {cite}`kingma2014vae`; [section 3.3](../03_vae_math/03_kl.ipynb). Check. | article's version |

# %% [markdown]
# **Check E02.** We train the course's MLP VAE on 8×8 digits twice, from the same initial weights, for
# the same number of steps: once as the article describes it (the encoder maps each image to a point,
# the code $\mu$, and the loss is the reconstruction alone) and once on the ELBO (a sampled
# $z=\mu+\sigma\odot\varepsilon$ and the KL term). Then we decode samples of the prior
# $z\sim\mathcal N(0,I)$, which is how a VAE generates data, and compare them with the digits by the
# Fréchet distance (the formula of FID, here on the raw pixels that are not background in every
# image). The article's model reconstructs better, but its codes fill a region of latent space that
# the prior does not match, so its prior samples are far worse. The mismatch is measured by the KL
# divergence of the moment-matched Gaussian of the codes (the aggregate posterior) from
# $\mathcal N(0,I)$.

# %%
digits = data.digits()
x = metrics.to_model_space(digits.images[:512])  # (512, 1, 8, 8) in [-1, 1]


def article_loss(model, images: torch.Tensor) -> torch.Tensor:
    """The article's VAE: encode to a point (mu), reconstruct it; no sampling, no KL term."""
    mu, _ = model.encode(images)
    return -model.log_px(images, model.decode(mu)).mean()


def elbo_loss(model, images: torch.Tensor) -> torch.Tensor:
    return model.loss(images)[0]  # mean negative ELBO


def aggregate_kl(model, images: torch.Tensor, with_sigma: bool) -> float:
    """KL(N(m, diag v) || N(0, I)) for the mean m and variance v of the codes of ``images``."""
    mu, logvar = model.encode(images)
    var = mu.var(dim=0) + (logvar.exp().mean(dim=0) if with_sigma else 0)
    return 0.5 * (mu.mean(dim=0).pow(2) + var - 1 - var.log()).sum().item()


def train_small_vae(loss_fn, images):
    """A 2-D-code MLP VAE on 8x8 images, 200 Adam steps of loss_fn(model, images); the same initial
    weights and noise for every loss (reused by E30)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_vae(VAEConfig(kind="mlp", z_dim=2, img_size=8, hidden=32))
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        for _ in range(200):
            opt.zero_grad()
            loss_fn(model, images).backward()
            opt.step()
    return model


trained = {name: train_small_vae(loss_fn, x)
           for name, loss_fn in (("article", article_loss), ("ELBO", elbo_loss))}

varying = x.flatten(1).std(dim=0) > 0  # pixels that are background in every image carry nothing
scores = {}
with torch.no_grad():
    for name, model in trained.items():
        prior_samples = model.sample(512, generator=torch.Generator().manual_seed(1))
        scores[name] = (
            (model.reconstruct(x) - x).pow(2).mean().item(),  # reconstruction MSE
            aggregate_kl(model, x, with_sigma=name == "ELBO"),  # codes vs the prior
            metrics.fid_from_features(prior_samples.flatten(1)[:, varying],
                                      x.flatten(1)[:, varying]),  # samples vs data
        )
        print(f"{name:>7}: reconstruction MSE {scores[name][0]:.3f}, "
              f"KL(codes || prior) {scores[name][1]:.2f}, "
              f"Fréchet distance of prior samples {scores[name][2]:.1f}")
(mse_a, kl_a, fd_a), (mse_e, kl_e, fd_e) = scores["article"], scores["ELBO"]
assert mse_a < mse_e  # the article's objective is the better autoencoder ...
assert kl_a > 5 > 0.5 > kl_e  # ... its codes are far from the prior, the VAE's are not ...
assert fd_a > 1.5 * fd_e  # ... so it is the worse generator
vae = trained["ELBO"]
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
# **Check E27.** The KL term is a function of the distribution's parameters. The closed form
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
passed("E27")

# %% [markdown]
# **Check E30.** Article B's split loss, run as written: the "encoder loss" is the KL term alone and the
# reconstruction is a separate "decoder loss", so no reconstruction gradient reaches the encoder (we stop
# it at $z$). We train the same MLP VAE as in the check of E02, from the same initial weights and for
# the same steps. The KL alone pulls every code to the prior, $\mu(x)=0,\ \sigma(x)=1$ for every image:
# the encoder learns nothing about $x$, and the decoder can only output the average image. The ELBO,
# whose reconstruction gradient passes through $z=\mu+\sigma\odot\varepsilon$ into the encoder,
# reconstructs better than the average image.

# %%
def article_b_loss(model, images: torch.Tensor) -> torch.Tensor:
    """Article B: encoder loss = KL(mu, log sigma^2) alone; decoder loss = reconstruction."""
    mu, logvar = model.encode(images)
    encoder_loss = losses.gaussian_kl(mu, logvar).mean()
    z = (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).detach()  # none to the encoder
    decoder_loss = -model.log_px(images, model.decode(z)).mean()
    return encoder_loss + decoder_loss


x8 = metrics.to_model_space(digits.images[:512])  # the 8x8 digits of the check of E02
split_model = train_small_vae(article_b_loss, x8)  # the same start as the models of E02

average_image_mse = (x8 - x8.mean(dim=0)).pow(2).mean().item()
with torch.no_grad():
    for name, model in (("article B", split_model), ("ELBO", vae)):
        mu, _ = model.encode(x8)
        code_spread = mu.var(dim=0).sum().item()  # how much the codes vary from image to image
        mse = (model.reconstruct(x8) - x8).pow(2).mean().item()
        print(f"{name:>9}: variance of the codes over images {code_spread:.5f}, "
              f"reconstruction MSE {mse:.4f} (average image: {average_image_mse:.4f})")
        if name == "article B":
            spread_b, mse_b = code_spread, mse
        else:
            spread_e, mse_e = code_spread, mse
assert spread_b < 1e-3 < 0.1 < spread_e  # Article B's codes carry nothing about x
assert abs(mse_b - average_image_mse) < 0.01 * average_image_mse  # ... so it decodes the average
assert mse_e < 0.9 * average_image_mse  # the ELBO's encoder learned the images
passed("E30")

# %% [markdown]
# **Check E31.** The encoder of the VAE trained in the check of E02 outputs $\log\sigma^2$. Read as the
# standard deviation, as the article says, most of its values are negative, which no standard deviation
# can be. Sampling $z=\mu+\log\sigma^2\odot\varepsilon$ with it gives the wrong spread: decoded, those
# codes reconstruct the digits worse than the average image does, while the correct
# $z=\mu+\exp(\tfrac12\log\sigma^2)\odot\varepsilon$ reconstructs them better.

# %%
@torch.no_grad()
def sampled_mse(std: torch.Tensor) -> float:
    """Reconstruction MSE of the digits decoded from z = mu + std * eps."""
    return (vae.to_image(vae.decode(mu + std * eps)) - x8).pow(2).mean().item()


with torch.no_grad():
    mu, logvar = vae.encode(x8)  # (512, 2) each
eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(2))
mse_right, mse_article = sampled_mse(torch.exp(0.5 * logvar)), sampled_mse(logvar)
negative = (logvar < 0).double().mean().item()
print(f"'standard deviations' below 0: {negative:.0%}; reconstruction MSE with sigma = "
      f"exp(logvar / 2) {mse_right:.3f}, with sigma = logvar (the article) {mse_article:.3f}, "
      f"average image {average_image_mse:.3f}")
assert negative > 0.5
assert mse_right < average_image_mse < mse_article
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
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E09 | A | major | VAE gradients $\partial L_E/\partial\mu=\frac{x-\mu}{\sigma\sqrt{2\pi}}$, $\partial L_E/\partial\sigma=\frac{(x-\mu)^2}{2\sigma}$, and $\partial L_D/\partial G(x)=-1/p(G(x))$. | $-\log\mathcal N(x;\mu,\sigma^2)=\frac{(x-\mu)^2}{2\sigma^2}+\log\sigma+\tfrac12\log2\pi$, so $\partial_\mu=-\frac{x-\mu}{\sigma^2}$ and $\partial_\sigma=\frac1\sigma-\frac{(x-\mu)^2}{\sigma^3}$. Also $\frac{d}{dy}[-\log p(y)]=-p'(y)/p(y)$, not $-1/p(y)$. | Calculus; [section 1.2](../01_concepts/02_probability.ipynb). Check. | article's version |
# | E28 | B | minor | Covariance is a measure of the *difference* between two random variables (随机变量之间差异的度量). | $\mathrm{Cov}(X,Y)=\mathbb{E}[(X-\mathbb{E}X)(Y-\mathbb{E}Y)]$ measures how two variables vary **together**; it is not a distance between them. (The article's formula is right; its wording is not.) | [Section 1.2](../01_concepts/02_probability.ipynb). Check. | illustration |

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
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E82 | E | major | "Negative-sampling loss" $L=-\sum_{i=1}^N\sum_{j=1}^V[c_j=w_{t+1}]\log p_j$, $N$ the sentence length. | That is full-softmax cross-entropy over the whole vocabulary, not negative sampling. Skip-gram with negative sampling maximises $\log\sigma(v'^{\top}_{w_O}v_{w_I})+\sum_{i=1}^{k}\mathbb{E}_{w_i\sim P_n(w)}[\log\sigma(-v'^{\top}_{w_i}v_{w_I})]$ over (centre, context) pairs inside a window, not only $w_{t+1}$. | Mikolov, Sutskever, Chen, Corrado & Dean, "Distributed Representations of Words and Phrases and their Compositionality", NeurIPS 2013. Check. | article's version |
# | E83 | E | major | GloVe: $L=\tfrac12\sum_{i,j}[c_{ij}=1](f_i^\top f_j-\log c_{ij})$, called a mean squared loss. | $J=\sum_{i,j:X_{ij}>0}f(X_{ij})(w_i^\top\tilde w_j+b_i+\tilde b_j-\log X_{ij})^2$ with $f(x)=\min\big(1,(x/x_{max})^{3/4}\big)$, $x_{max}=100$. The article's version has no square (so it is unbounded below), no weighting, biases or context vectors, and $[c_{ij}=1]$ keeps only pairs whose $\log c_{ij}=0$. | Pennington, Socher & Manning, "GloVe: Global Vectors for Word Representation", EMNLP 2014. Check. | article's version |
# | E84 | E | minor | Seq2seq and classifier losses $L=-\sum_i[y_i=w_j]\log p_j$ with $w_j$ "the predicted probability of word $j$" and $j$ never bound; the seq2seq decoder is "usually self-attention/Transformer" while the encoder is a CNN/RNN. | Sequences: $\mathcal L=-\sum_{t=1}^{T}\log p_\theta(y_t\mid y_{<t},x)$. Classification with one-hot $y$: $-\sum_c y_c\log p_c=-\log p_y$. A Transformer uses attention in both encoder and decoder {cite}`vaswani2017attention`; classic seq2seq uses RNNs on both sides (Sutskever, Vinyals & Le, NeurIPS 2014). | Check. | article's version |
# | E85 | E | major | $\mathrm{Attention}(Q,K,V)=\dfrac{QK^\top}{\sqrt{d_k}}$. | $\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\big(QK^\top/\sqrt{d_k}\big)V$, the softmax over the **key** axis, so each query's weights sum to 1. The output is $n_q\times d_v$, not an $n_q\times n_k$ score matrix. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. | article's version |
# | E86 | E | minor | $\mathrm{head}_i=\mathrm{Attention}(QW_iQ,KW_iK,VW_iV)$, output $\mathrm{Concat}(\ldots)W_O$. | $\mathrm{head}_i=\mathrm{Attention}(QW_i^Q,KW_i^K,VW_i^V)$ with $W_i^Q,W_i^K\in\mathbb R^{d_{model}\times d_k}$, $W_i^V\in\mathbb R^{d_{model}\times d_v}$; $\mathrm{MultiHead}=\mathrm{Concat}(\mathrm{head}_1,\ldots,\mathrm{head}_h)W^O$, $W^O\in\mathbb R^{hd_v\times d_{model}}$. As printed, "$QW_iQ$" multiplies by $Q$ twice. | {cite}`vaswani2017attention`; [section 1.4](../01_concepts/04_attention.ipynb). Check. | article's version |

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
# **Check E84.** One example of class 2 out of 5, and two predictions: a right one (probability 0.6 on
# class 2) and a confident wrong one (0.9 on class 0). The correct cross-entropy
# $-\sum_c y_c\log p_c=-\log p_y$ (PyTorch's `nll_loss` of the log-probabilities) prefers the right
# one. The article's formula, evaluated literally, $-\sum_i[y_i=w_j]\log p_j$ with $y_i\in\{0,1\}$
# the label of class $i$ and $w_j=p_j$ "the predicted probability of $j$", leaves $j$ unbound, and a
# label equals a probability only if the probability is exactly 0 or 1: it is 0 for both predictions
# (this part is an illustration; it holds by construction). Read more charitably, with $w_j$ the
# predicted *label* (1 for the predicted class, 0 elsewhere) and $j$ the predicted class, it gives
# $-\log p_j$, the model's confidence in its own prediction, right or wrong. Then it prefers the
# confident wrong prediction, which is the check that could fail.

# %%
label = 2
y = F.one_hot(torch.tensor(label), 5).double()  # y_i in {0, 1}, as the article defines it
predictions = {"right": torch.tensor([0.1, 0.1, 0.6, 0.1, 0.1], dtype=torch.float64),
               "wrong": torch.tensor([0.9, 0.025, 0.025, 0.025, 0.025], dtype=torch.float64)}


def cross_entropy(p: torch.Tensor) -> torch.Tensor:
    return -(y * p.log()).sum()  # -sum_c y_c log p_c


def article_ce(p: torch.Tensor, j: int) -> torch.Tensor:
    w = p  # "w_j is the predicted probability of word j"
    return -sum((y[i] == w[j]).double() * p[j].log() for i in range(len(y)))


for name, p in predictions.items():
    torch.testing.assert_close(cross_entropy(p), F.nll_loss(p.log()[None], torch.tensor([label])))
    print(f"{name}: cross-entropy {cross_entropy(p):.3f}, the article's loss for j = 0..4: "
          f"{[round(article_ce(p, j).item(), 3) + 0.0 for j in range(5)]}")  # + 0.0: no -0.0
assert cross_entropy(predictions["right"]) < cross_entropy(predictions["wrong"])
assert all(article_ce(predictions["right"], j) == article_ce(predictions["wrong"], j)
           for j in range(5))  # no choice of j prefers the right prediction


def article_ce_labels(p: torch.Tensor) -> torch.Tensor:
    """The charitable reading: w = the predicted one-hot label, j = the predicted class."""
    j = int(p.argmax())
    w = F.one_hot(p.argmax(), len(p)).double()
    return -sum((y[i] == w[j]).double() * p[j].log() for i in range(len(y)))


print(f"charitable reading: right {article_ce_labels(predictions['right']):.3f}, "
      f"wrong {article_ce_labels(predictions['wrong']):.3f}")
# confidence, not correctness: the charitable reading ranks the confident wrong prediction first
assert article_ce_labels(predictions["wrong"]) < article_ce_labels(predictions["right"])
passed("E84")

# %% [markdown]
# ## 5. Code (25 entries)
#
# Articles A, B and D give TensorFlow/Keras code; C and E give PyTorch DCGANs. None of the five
# programs runs as printed. TensorFlow is not installed in the course environment (the course is plain
# PyTorch), and neither is torchvision, so the articles' code is transcribed: layers and losses are
# rebuilt layer for layer in PyTorch and run next to the corrected version, and the names that a
# program uses but never defines are found by reading the whole program as printed (the check of E13).
# E14, E66 and E95 are not run. The course's correct versions are in [section 4.1](../04_hands_on/01_data_pipeline.ipynb) (data pipeline) and [section 4.2](../04_hands_on/02_dcgan.ipynb)
# (DCGAN).
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E11 | A | major | Keras generator: Dense 7×7×256 → ConvTranspose (stride 1) → ConvTranspose (stride 2) → ConvTranspose (stride 2), then `assert model.output_shape == (None,128,128,1)`; the discriminator is built for 128×128. | 7 → 7 → 14 → 28: the output is 28×28 and the assert fails. 128×128 needs a 4×4 seed and five stride-2 stages. The discriminator's input must equal the generator's output. | Transposed-convolution arithmetic $H_{out}=(H_{in}-1)s-2p+k$ {cite}`dumoulin2016guide`; {cite}`radford2016dcgan`. Check. | article's version |
# | E12 | A | major | `D.train_on_batch(...)` on a model that was never compiled; the generator trained with `G.train_on_batch(z, real_labels)`; `D` ends in `Dense(1)` with no activation. | Keras refuses to train an uncompiled model, and neither `D` nor `G` is ever compiled. `G.train_on_batch(z, labels)` would regress the generated images onto the `(B, 1)` label tensor, a target that says nothing about images; the generator must be trained through `D(G(z))` with `D` frozen (or a `GradientTape` loop). Raw scores need `BinaryCrossentropy(from_logits=True)`. | Keras API. Check (the logits part, in PyTorch). | article's version (logits part) |
# | E13 | A | minor | Uses `np` (never imported), `iters` and `load_data()` (never defined); the "generated faces" of the results section are a placeholder URL. | Import and define them; make the figure with the code. A 28×28 grey model cannot produce the claimed faces. | Check (names used but never defined). | article's version |
# | E14 | A | minor | Keras is a library "based on TensorFlow and Theano". | Theano support ended with multi-backend Keras 2.3 (2019); Keras 2.4+ ran on TensorFlow only; Keras 3 (2023) runs on TensorFlow, JAX or PyTorch. | Keras release notes. Not run (Keras is not installed). | — |
# | E34 | B | major | The training loop uses `fake_images` without generating them; `noise_dim`, `optimizer`, `compute_discriminator_loss`, `compute_generator_loss`, `np`, `MaxPooling2D`, `load_video_dataset`, `preprocess_videos` are never defined or imported; one optimizer serves both networks. | Compute `fake = G(noise)` inside the discriminator's tape, define the BCE losses (from logits), and use one optimizer per player (DCGAN: Adam, lr $2\times10^{-4}$, $\beta_1=0.5$). | {cite}`radford2016dcgan`. Check (names used but never defined). | article's version |
# | E35 | B | major | The project's goal is to "use a GAN to generate high-quality short videos" (使用GAN生成高质量的短视频). Its `build_generator(input_shape)` begins with `Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape)`, applies six stride-1 `Conv2D` layers, `Flatten`, `Dense(128, activation='relu')` and `Dense(np.prod(input_shape), activation='tanh')`, and ends with `Reshape(input_shape)`; `generate_videos(generator, num_videos, video_length)` calls `generator.predict` on noise of shape `(num_videos, noise_dim)` and never uses `video_length`. | The generator takes a 2-D frame of shape `input_shape` and returns one of the same shape. Built for the noise, `input_shape=(noise_dim,)`, its first line fails (there is no `input_shape[1]`); built for frames, it cannot take the noise that `generate_videos` feeds it. Either way it has no time axis, so it cannot make a video of `video_length` frames. A video generator maps noise to frames $\times$ height $\times$ width, e.g. with 3-D (space-time) transposed convolutions (Vondrick, Pirsiavash & Torralba, "Generating Videos with Scene Dynamics", NeurIPS 2016) or with separate content and motion codes (Tulyakov, Liu, Yang & Kautz, "MoCoGAN: Decomposing Motion and Content for Video Generation", CVPR 2018). | Check. | article's version |
# | E45 | C | major | DCGAN for MNIST: generator ConvT(100→256, k4, s1, p0) then three ConvT(k4, s2, p1) and Tanh; discriminator three Conv(k4, s2, p1) then Conv(256→1, k4, s1, p0). | The generator outputs **32×32** (1→4→8→16→32) but MNIST is **28×28**; on 28×28 input the discriminator goes 28→14→7→3 and the last 4×4 convolution fails. Resize the data to 32, or use a 7→14→28 generator with a matching discriminator. `view(-1, 28, 28)` on 32×32 fakes fails too. | Check (torch's error reproduced); [section 4.2](../04_hands_on/02_dcgan.ipynb). | article's version |
# | E46 | C | major | `transforms.Normalize((0.5,0.5,0.5),(0.5,0.5,0.5))` on MNIST. | MNIST has one channel: `Normalize((0.5,),(0.5,))`, which maps $[0,1]$ to $[-1,1]$, the range of the generator's `Tanh`. | [Section 4.1](../04_hands_on/01_data_pipeline.ipynb). Check (torch's error reproduced). | article's version |
# | E47 | C | major | `G.parameters()`, `D.parameters()` and `device` are used, but `G`, `D` and `device` are never created. | Create `device`, `G = Generator().to(device)` and `D = Discriminator().to(device)` before the optimizers; move the real images to `device` too. | Check (names used but never defined). | article's version |
# | E48 | C | major | `criterion(D(g_imgs), torch.ones(g_imgs.size(0), 1, device=device))` with `nn.BCELoss`, where `D` returns shape `(N, 1, 1, 1)`. | `BCELoss` needs input and target of the same shape: `D(x).view(-1)` with `torch.ones(N)`. Better: drop the final `Sigmoid` and use `BCEWithLogitsLoss` (numerically stable). | Check (torch's error reproduced). | article's version |
# | E49 | C | minor | `save_image(torch.cat((real_images, fake_images), 0), ...)` on NumPy arrays, into `images/{epoch + 1}/` folders never created; the display code indexes a 3-D array with `[0, :, :, :]` and creates 5 000 folders. | Keep tensors; `os.makedirs(path, exist_ok=True)`; `save_image(torch.cat([real, fake]), path, normalize=True)`. | Check (TypeError and IndexError). | article's version |
# | E65 | D | major | Generator: three stride-1 `Conv2D` layers applied directly to $z$, the last with sigmoid. Discriminator: three stride-2 `Conv2D` layers, the last with sigmoid. | A latent vector cannot enter `Conv2D`: first Dense + Reshape, then transposed convolutions up to 28×28, with an output activation that matches the data range ($\tanh$ for $[-1,1]$). The discriminator must end in Flatten + Dense(1); the article's outputs a 4×4 map. | {cite}`radford2016dcgan`. Check (shape arithmetic, in PyTorch). | article's version |
# | E66 | D | major | `layers.Conv2D(units=64, kernel_size=(3,3), stride=(2,2), ...)`. | The signature is `Conv2D(filters, kernel_size, strides=..., padding=...)`: `units` belongs to `Dense` and `stride` is misspelt, so the constructor raises a TypeError. | Keras API documentation. Not run (TensorFlow is not installed). | — |
# | E67 | D | major | The builders return tensors, not models; `z` is undefined where `build_gan(build_generator(z), ...)` is called; inside `build_gan`, `valid = discriminator(img)` and `fake = discriminator(img)` score the same generated image. | Wrap each builder in `tf.keras.Model(inputs, outputs)`. "Valid" must be the discriminator's score of **real** images. | Check (the article's "valid" is the fake score). | article's version |
# | E68 | D | major | `g_loss = tf.reduce_mean(fake) + tf.reduce_mean(valid)` and `disc_loss = tf.reduce_mean(valid) + tf.reduce_mean(1 - fake)`. | $L_D=-\overline{\log D(x)}-\overline{\log(1-D(G(z)))}$ and $L_G=-\overline{\log D(G(z))}$, i.e. BCE with labels 1/0. The article's $L_D$ is minimised by the *inverted* discriminator and equals 2, its maximum, for a perfect one. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). Check. | article's version |
# | E69 | D | major | After training, `generator = build_generator(z)` builds a generator from the last batch of noise (the training loop called a `generator` that did not exist yet, E100) and then calls `.predict(...)`; the results claim digits "highly similar to real images" (a placeholder image). | Rebuilding creates a fresh, **untrained** network (and `build_generator` returns a tensor, which has no `.predict`). Sample from the trained model, and back a quality claim with a metric such as FID {cite}`heusel2017fid`. | Check (the rebuilt generator differs). | illustration |
# | E88 | E | major | `labels = torch.full((batch_size,), 1, device=device)` passed to `nn.BCELoss`. | An integer fill value makes an int64 tensor and `BCELoss` raises. Use `torch.full((b,), 1.0)` or `torch.ones(b)`; better, `BCEWithLogitsLoss` on logits. | Check (torch's error reproduced). | article's version |
# | E89 | E | major | `fake_images = netG(noise)`, but `noise` and `num_epochs` are never defined; Adam with its default $\beta_1=0.9$. | Draw fresh noise every iteration, `torch.randn(batch_size, 100, 1, 1, device=device)`, and define `num_epochs`. DCGAN uses $\beta_1=0.5$. | {cite}`radford2016dcgan`. Check (names used but never defined). | article's version |
# | E90 | E | major | Evaluation noise `torch.randn(100, 1, 1, 1, device=device)`. | The generator's first layer is `ConvTranspose2d(100, ...)`, so the noise needs **100 channels**: `torch.randn(100, 100, 1, 1)`. | Check (torch's error reproduced). | article's version |
# | E92 | E | minor | `ssim(fake_images, real_images, multichannel=True)` on whole `(N, C, H, W)` batches, and later on torch tensors. | scikit-image's `structural_similarity` compares **one** pair of NumPy images with channels last (`channel_axis=-1` replaces the deprecated `multichannel`) and needs `data_range` for floats (2 for $[-1,1]$). On a `(100, 3, 32, 32)` batch it would treat the width as the channel axis. SSIM is a full-reference metric for *paired* images {cite}`wang2004ssim`; see E91. | scikit-image documentation. Not run (scikit-image is not installed; the course has its own `metrics.ssim`). | — |
# | E93 | E | minor | `plt.imshow(np.transpose(fake_images[0], (1, 2, 0)))` on the raw generator output. | The generator ends in `Tanh`, so values lie in $[-1,1]$: map them with $(x+1)/2$ first, or matplotlib clips every negative value of float RGB data to 0. | Check. | article's version |
# | E95 | E | minor | Keras is "based on TensorFlow and Theano". | As E14. | Not run. | — |
# | E100 | D | major | The program uses `discriminator` and `generator` before it creates them: `build_discriminator` is never called, yet `discriminator.compile(...)` follows the optimizers; `generator`, called in the training loop (`img = generator(z)`), is first assigned after the loop. The compiled `gan` model is never used: training runs through a `GradientTape` loop. (The article's own section 5.3, its code walk-through (代码解读与分析), says the generator has fully connected and convolutional layers and that both models are compiled; the code's generator has only `Dense` layers, and only the discriminator and `gan` are compiled.) | Build both models before using them, e.g. `generator = tf.keras.Model(z_in, build_generator(z_in))` with `z_in = layers.Input(shape=(latent_dim,))`, and `discriminator` likewise on `layers.Input(shape=image_dim)`; then train either through `gan` or through the tape loop, not set up both. As printed, the program stops with a `NameError` at `discriminator.compile`. | Check (names used before they exist). | article's version |
# | E101 | D | minor | The samples are shown with `plt.figure(figsize=(10, 10))` and `plt.subplot(1, batch_size, i + 1)` for each of the `batch_size` (64) images. | That is one row of 64 panels across a 10-inch figure: each panel is narrower than the digit's 28 pixels at matplotlib's default resolution, so every sample is drawn shrunk to a sliver and most of the figure stays empty. Use a grid, `plt.subplot(8, 8, i + 1)`, or the course's `plotting.show_grid`. | Check. | article's version |
# | E105 | E | minor | The PyTorch DCGAN trains the generator and the discriminator with learning rates 0.0002 and 0.00005 (`lr=0.00005` for the discriminator's Adam), a discriminator four times slower than the generator, with no reason given. | Nothing forbids unequal rates, but this direction is the one that invites mode collapse: a slow discriminator lets the generator crowd into the few places it currently rewards. The two time-scale update rule (TTUR) of Heusel et al. {cite}`heusel2017fid`, the usual reason for unequal rates, gives the *discriminator* the larger one; the DCGAN paper uses 0.0002 for both {cite}`radford2016dcgan`. | [Section 2.3](../02_gan_math/03_dynamics.ipynb) (the ratio swept over seeds). Check. | article's version |

# %% [markdown]
# **Check E11.** Article A's generator and discriminator in PyTorch, layer for layer. Keras's
# `padding="same"` transposed convolution multiplies the size by the stride; in PyTorch the same layer
# is `ConvTranspose2d(k=5, stride=s, padding=2, output_padding=s-1)` (in general
# $H_{out}=(H_{in}-1)s-2p+k+\text{output\_padding}$), and a `"same"` convolution with stride 2 is
# `Conv2d(k=5, stride=2, padding=2)`. The article's generator ends at 28×28, so its own
# `assert model.output_shape == (None, 128, 128, 1)` fails, and its discriminator, built for 128×128,
# cannot take the generator's images. The corrected generator, a 4×4 seed and five stride-2 stages,
# makes 128×128 images that the same discriminator accepts.

# %%
def conv_transpose_out(h: int, k: int, s: int, p: int = 0, output_padding: int = 0) -> int:
    return (h - 1) * s - 2 * p + k + output_padding


def keras_generator(seed: int, channels: list[int], strides: list[int]) -> nn.Sequential:
    """Dense(seed*seed*channels[0]) + BatchNorm + LeakyReLU + Reshape, then one 5x5 "same"
    Conv2DTranspose per stride (BatchNorm + LeakyReLU between them, tanh at the end)."""
    layers = [nn.Linear(100, seed * seed * channels[0], bias=False),
              nn.BatchNorm1d(seed * seed * channels[0], momentum=0.2), nn.LeakyReLU(0.3),
              nn.Unflatten(1, (channels[0], seed, seed))]  # (B, C, seed, seed)
    for i, s in enumerate(strides):
        layers.append(nn.ConvTranspose2d(channels[i], channels[i + 1], 5, stride=s, padding=2,
                                         output_padding=s - 1, bias=False))  # size x s
        last = i == len(strides) - 1
        layers += [nn.Tanh()] if last else [nn.BatchNorm2d(channels[i + 1], momentum=0.2),
                                            nn.LeakyReLU(0.3)]
    return nn.Sequential(*layers)


def keras_discriminator(size: int) -> nn.Sequential:
    """The article's build_discriminator((size, size, 1)): two 5x5 "same" convs with stride 2."""
    return nn.Sequential(nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                         nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                         nn.Flatten(), nn.Linear(128 * (size // 4) ** 2, 1))  # Dense(1)


def article_shape_assert(images: torch.Tensor) -> None:
    """The article's `assert model.output_shape == (None, 128, 128, 1)`, channels first."""
    shape = tuple(images.shape[1:])
    assert shape == (1, 128, 128), f"output shape {shape}, not (1, 128, 128)"


sizes = [7]
for stride in (1, 2, 2):  # the article's three transposed convolutions
    sizes.append(conv_transpose_out(sizes[-1], k=5, s=stride, p=2, output_padding=stride - 1))
article_g = keras_generator(7, [256, 128, 64, 1], [1, 2, 2]).eval()
fixed_g = keras_generator(4, [256, 128, 64, 32, 16, 1], [2, 2, 2, 2, 2]).eval()
d_128 = keras_discriminator(128).eval()  # the article builds D for (128, 128, 1)
z = torch.randn(2, 100)
with torch.no_grad():
    article_images, fixed_images = article_g(z), fixed_g(z)
    print("sizes:", sizes, "article's generator:", tuple(article_images.shape),
          "corrected:", tuple(fixed_images.shape))
    assert sizes[-1] == 28 and article_images.shape == (2, 1, 28, 28)
    assert isinstance(error_of(lambda: article_shape_assert(article_images)), AssertionError)
    err = error_of(lambda: d_128(article_images))  # D cannot take G's images
    assert "cannot be multiplied" in str(err)
    article_shape_assert(fixed_images)  # the corrected generator passes the article's own assert
    assert d_128(fixed_images).shape == (2, 1)
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
# **Check E13, E34, E47, E89, E100.** These entries are about names that a program uses but never
# defines. To show it without building the answer in, the next (folded) cell holds each article's
# training program as printed (for B and E, the code blocks that make it up, in order), with the
# Chinese comments translated and four long lines re-wrapped, otherwise character for character.
# (We checked that Python's parser gives our copy the same syntax tree as the original.) We cannot run
# them: they need TensorFlow, torchvision and data sets that the course does not install. Instead a
# small static analysis reads each program, a cousin of pyflakes' "undefined name": it follows the
# module's statements in the order they run and reports every name read before any statement has
# bound it; the body of a function runs later, so it may use any name the module binds anywhere. On
# each article's program it finds exactly the names of the entry. On the same program with those
# names supplied (the fixes below, applied as text) it finds none, so it is not flagging names at
# random.

# %% tags=["hide-cell"]
ARTICLE_PROGRAMS = {  # the programs of the five articles, as printed
    "A": r'''
import tensorflow as tf
from tensorflow.keras import layers

# define the generator and discriminator models
def build_generator(z_dim):
    model = tf.keras.Sequential()
    model.add(layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(z_dim,)))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 256)))
    assert model.output_shape == (None, 7, 7, 256)  # Note: None is the batch size

    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization(momentum=0.8))
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    assert model.output_shape == (None, 128, 128, 1)

    return model

def build_discriminator(img_shape):
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same',
                                     input_shape=img_shape))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))

    return model

# train the model
def train(G, D, dataset, z_dim=100, num_epochs=100, batch_size=128, save_interval=50):
    for epoch in range(num_epochs):

        for i, (images, _) in enumerate(dataset):
            if i % 100 == 0:
                print(f"{epoch} [ {i * len(images) / len(dataset)} ]")

            # train the discriminator
            real_images = images
            real_labels = tf.ones((batch_size, 1))

            z = tf.random.normal([batch_size, z_dim])
            fake_images = G(z)
            fake_labels = tf.zeros((batch_size, 1))

            d_loss_real = D.train_on_batch(real_images, real_labels)
            d_loss_fake = D.train_on_batch(fake_images, fake_labels)
            d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

            # train the generator
            z = tf.random.normal([batch_size, z_dim])
            g_loss = G.train_on_batch(z, real_labels)

            # print training information
            print(f"{epoch} [ {i * len(images) / len(dataset)} ] "
                  f"[D: {d_loss:.3f}, G: {g_loss:.3f}]")

            # save the model
            if (iters % save_interval == 0) or ((epoch == num_epochs - 1)
                                                and (i == len(dataset) - 1)):
                G.save(f"{epoch}_{i:04d}.h5")

# main program
def main():
    # hyperparameters
    batch_size = 64
    z_dim = 100
    epochs = 20

    # load the dataset
    dataset = load_data()

    # build the generator and discriminator models
    G = build_generator(z_dim)
    D = build_discriminator((128, 128, 1))

    # train the model
    train(G, D, dataset, z_dim, epochs, batch_size)

if __name__ == "__main__":
    main()
''',  # Article A, section 5.2
    "B": r'''
import tensorflow as tf
from tensorflow.keras.preprocessing import image
from tensorflow.keras.preprocessing.sequence import pad_sequences

# load the video dataset
video_dataset = load_video_dataset("path/to/YouTube_video_dataset")

# preprocess the video data
preprocessed_videos = preprocess_videos(video_dataset)

import tensorflow.keras.models as models
from tensorflow.keras.layers import Conv2D, Flatten, Dense, Reshape, Input

# design the generator model
def build_generator(input_shape):
    model = models.Sequential()
    model.add(Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dense(np.prod(input_shape), activation='tanh'))
    model.add(Reshape(input_shape))
    return model

# design the discriminator model
def build_discriminator(input_shape):
    model = models.Sequential()
    model.add(Reshape((input_shape[0], input_shape[1], 1), input_shape=input_shape))
    model.add(Conv2D(32, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, (3, 3), activation='relu', padding='same'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(1, activation='sigmoid'))
    return model

# GAN training code
def train_gan(generator, discriminator, data_loader, batch_size, num_epochs):
    for epoch in range(num_epochs):
        for batch in data_loader:
            real_images = batch
            noise = np.random.normal(0, 1, (batch_size, noise_dim))

            # train the discriminator
            with tf.GradientTape() as disc_tape:
                disc_loss = compute_discriminator_loss(discriminator, real_images, fake_images)
            disc_gradients = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
            optimizer.apply_gradients(zip(disc_gradients, discriminator.trainable_variables))

            # train the generator
            with tf.GradientTape() as gen_tape:
                gen_loss = compute_generator_loss(generator, noise)
            gen_gradients = gen_tape.gradient(gen_loss, generator.trainable_variables)
            optimizer.apply_gradients(zip(gen_gradients, generator.trainable_variables))

            # log the training
            print(f"Epoch: {epoch}, Generator Loss: {gen_loss}, Discriminator Loss: {disc_loss}")

# generate new short videos
def generate_videos(generator, num_videos, video_length):
    noise = np.random.normal(0, 1, (num_videos, noise_dim))
    generated_videos = generator.predict(noise)
    return generated_videos
''',  # Article B, the project's four code blocks
    "C": r'''
import torch
import torch.nn as nn
import torch.optim as optim
import torchvision.transforms as transforms
from torchvision.datasets import MNIST
from torchvision.utils import save_image

# define the generator and discriminator models
class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)

class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(256, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)

# define the loss function
criterion = nn.BCELoss()

# define the optimizers
G_optimizer = optim.Adam(G.parameters(), lr=0.0002, betas=(0.5, 0.999))
D_optimizer = optim.Adam(D.parameters(), lr=0.0002, betas=(0.5, 0.999))

# prepare the data
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
])
train_dataset = MNIST(root='data', train=True, transform=transform, download=True)
train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=64, shuffle=True)

# training
for epoch in range(100):
    for i, (imgs, _) in enumerate(train_loader):
        # generator training
        G_optimizer.zero_grad()
        z = torch.randn(imgs.size(0), 100, 1, 1, device=device)
        g_imgs = G(z)
        g_reality = criterion(D(g_imgs), torch.ones(g_imgs.size(0), 1, device=device))
        g_loss = g_reality
        g_loss.backward()
        G_optimizer.step()

        # discriminator training
        D_optimizer.zero_grad()
        real_imgs = imgs.to(device)
        real_reality = criterion(D(real_imgs), torch.ones(real_imgs.size(0), 1, device=device))
        fake_imgs = g_imgs.to(device)
        fake_reality = criterion(D(fake_imgs.detach()),
                                 torch.zeros(fake_imgs.size(0), 1, device=device))
        d_loss = real_reality + fake_reality
        d_loss.backward()
        D_optimizer.step()

        # save images
        if i % 50 == 0:
            real_images = real_imgs.view(-1, 28, 28).data.cpu().numpy()
            fake_images = g_imgs.view(-1, 28, 28).data.cpu().numpy()
            save_image(torch.cat((real_images, fake_images), 0), f'images/{epoch + 1}/{i}.png')

# save the models after training
torch.save(G.state_dict(), 'gen_model.pth')
torch.save(D.state_dict(), 'dis_model.pth')
''',  # Article C, section 5.2 (training program)
    "D": r'''
import tensorflow as tf
from tensorflow.keras import layers
import numpy as np
import matplotlib.pyplot as plt

# parameters
latent_dim = 100
image_dim = (28, 28, 1)
batch_size = 64
learning_rate = 0.0002

# generator model
def build_generator(z):
    z = layers.Dense(units=128, activation='relu')(z)
    z = layers.Dense(units=64, activation='relu')(z)
    z = layers.Dense(units=image_dim[0] * image_dim[1], activation='tanh')(z)
    img = layers.Reshape(image_dim)(z)
    return img

# discriminator model
def build_discriminator(x):
    x = layers.Conv2D(units=64, kernel_size=(3, 3), stride=(2, 2), activation='relu')(x)
    x = layers.Conv2D(units=128, kernel_size=(3, 3), stride=(2, 2), activation='relu')(x)
    x = layers.Flatten()(x)
    x = layers.Dense(units=1, activation='sigmoid')(x)
    return x

# GAN model
def build_gan(generator, discriminator):
    z = layers.Input(shape=(latent_dim,))
    img = generator(z)
    valid = discriminator(img)
    fake = discriminator(img)
    model = tf.keras.Model(z, [valid, fake])
    return model

# compile the models
discriminator_optimizer = tf.keras.optimizers.Adam(learning_rate)
generator_optimizer = tf.keras.optimizers.Adam(learning_rate)
discriminator.compile(optimizer=discriminator_optimizer, loss='binary_crossentropy')
gan = build_gan(build_generator(z), discriminator)
gan.compile(optimizer=generator_optimizer, loss=['binary_crossentropy', 'binary_crossentropy'])

# data preprocessing
(x_train, _), (_, _) = tf.keras.datasets.mnist.load_data()
x_train = x_train.astype(np.float32) / 127.5 - 1.0
x_train = np.expand_dims(x_train, axis=3)

# train the model
for epoch in range(100):
    for batch in range(len(x_train) // batch_size):
        z = np.random.normal(size=(batch_size, latent_dim))
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            img = generator(z)
            valid = discriminator(x_train[batch * batch_size: (batch + 1) * batch_size])
            fake = discriminator(img)
            g_loss = tf.reduce_mean(fake) + tf.reduce_mean(valid)
            disc_loss = tf.reduce_mean(valid) + tf.reduce_mean(1 - fake)
        grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        discriminator_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
        grads = gen_tape.gradient(g_loss, generator.trainable_variables)
        generator_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
    print(f'Epoch {epoch + 1}, g_loss = {g_loss.numpy()}, disc_loss = {disc_loss.numpy()}')

# generate images
generator = build_generator(z)
generated_images = generator.predict(np.random.normal(size=(batch_size, latent_dim)))
generated_images = (generated_images + 1) * 127.5

# show the generated images
plt.figure(figsize=(10, 10))
for i in range(batch_size):
    plt.subplot(1, batch_size, i + 1)
    plt.imshow(generated_images[i, :, :, 0], cmap='gray')
    plt.axis('off')
plt.show()
''',  # Article D, section 5.2
    "E": r'''
import torch
import torchvision
import torchvision.transforms as transforms

# data preprocessing
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
])

trainset = torchvision.datasets.CIFAR10(
    root='./data', train=True, download=True, transform=transform)
trainloader = torch.utils.data.DataLoader(
    trainset, batch_size=128, shuffle=True, num_workers=2)

testset = torchvision.datasets.CIFAR10(
    root='./data', train=False, download=True, transform=transform)
testloader = torch.utils.data.DataLoader(
    testset, batch_size=100, shuffle=False, num_workers=2)

import torch.nn as nn

# generator model
class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(True),
            nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)

# discriminator model
class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 64, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(256, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)

import torch.optim as optim

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

# initialise the models
netG = Generator().to(device)
netD = Discriminator().to(device)

# initialise the loss function
criterion = nn.BCELoss()

# initialise the optimizers
optimizerG = optim.Adam(netG.parameters(), lr=0.0002)
optimizerD = optim.Adam(netD.parameters(), lr=0.00005)

# training
for epoch in range(num_epochs):
    for i, data in enumerate(trainloader, 0):
        # update the discriminator
        netD.zero_grad()
        real_images = data[0].to(device)
        batch_size = real_images.size(0)
        labels = torch.full((batch_size,), 1, device=device)
        output = netD(real_images).view(-1)
        errD_real = criterion(output, labels)
        errD_real.backward()

        fake_images = netG(noise).to(device)
        labels.fill_(0)
        output = netD(fake_images.detach()).view(-1)
        errD_fake = criterion(output, labels)
        errD_fake.backward()
        optimizerD.step()

        # update the generator
        netG.zero_grad()
        labels.fill_(1)
        output = netD(fake_images).view(-1)
        errG = criterion(output, labels)
        errG.backward()
        optimizerG.step()

        # print training information
        if i % 50 == 0:
            print(
                '[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f'
                % (epoch, num_epochs, i, len(trainloader),
                   errD_real + errD_fake, errG))
''',  # Article E, data, models and training (its first three code blocks)
}

# %%
MODULE_NAMES = set(dir(builtins)) | {"__name__", "__file__", "__doc__"}


class _InOrder(ast.NodeVisitor):
    """Walks module-level code in the order it runs; function and class bodies are set aside."""

    def __init__(self):
        self.bound, self.first_use, self.deferred = set(MODULE_NAMES), {}, []

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.bound:
                self.first_use.setdefault(node.id, (node.lineno, node.col_offset))
        else:
            self.bound.add(node.id)

    def visit_Assign(self, node):  # the value runs before the targets are bound
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    def visit_Import(self, node):
        self.bound.update((a.asname or a.name).split(".")[0] for a in node.names)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        for expr in node.decorator_list + node.args.defaults:
            self.visit(expr)
        self.bound.add(node.name)
        self.deferred.append(node)

    def visit_ClassDef(self, node):
        for expr in node.decorator_list + node.bases:
            self.visit(expr)
        self.bound.add(node.name)
        self.deferred.append(node)

    def visit_Lambda(self, node):
        self.deferred.append(node)


def unbound_names(source: str) -> list[str]:
    """Names that ``source`` reads before anything binds them, in order of first use."""
    walk = _InOrder()
    walk.visit(ast.parse(source))
    for scope in walk.deferred:  # runs later: may use any name the module binds anywhere
        nodes = list(ast.walk(scope))
        local = {n.id for n in nodes
                 if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for n in nodes if isinstance(n, ast.arguments)
                  for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
        local |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        local |= {(a.asname or a.name).split(".")[0] for n in nodes
                  if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        for n in nodes:
            if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                    and n.id not in local | walk.bound):
                walk.first_use.setdefault(n.id, (n.lineno, n.col_offset))
    return sorted(walk.first_use, key=walk.first_use.get)


FIXES = {  # the smallest change to each program that supplies its missing names: (old, new) text
    "A": [("from tensorflow.keras import layers\n",
           "from tensorflow.keras import layers\nimport numpy as np\n"),
          ("if (iters % save_interval == 0)",
           "if ((epoch * len(dataset) + i) % save_interval == 0)"),
          ("    dataset = load_data()\n",
           "    dataset = tf.keras.utils.image_dataset_from_directory(\n"
           "        'faces', color_mode='grayscale', image_size=(128, 128),\n"
           "        batch_size=batch_size)\n")],
    "B": [("import tensorflow as tf\n", "import numpy as np\nimport tensorflow as tf\n"
           "from video_data import load_video_dataset, preprocess_videos  # the reader's own\n"),
          ("Reshape, Input\n", "Reshape, Input, MaxPooling2D\n"),
          ("# GAN training code\n",
           "noise_dim = 100\n"
           "bce = tf.keras.losses.BinaryCrossentropy()\n"
           "disc_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n"
           "gen_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)\n\n\n"
           "def compute_discriminator_loss(discriminator, real_images, fake_images):\n"
           "    real, fake = discriminator(real_images), discriminator(fake_images)\n"
           "    return bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)\n\n\n"
           "def compute_generator_loss(generator, discriminator, noise):\n"
           "    fake = discriminator(generator(noise))\n"
           "    return bce(tf.ones_like(fake), fake)\n\n\n"
           "# GAN training code\n"),
          ("                disc_loss = compute_discriminator_loss(",
           "                fake_images = generator(noise)\n"
           "                disc_loss = compute_discriminator_loss("),
          ("optimizer.apply_gradients(zip(disc", "disc_optimizer.apply_gradients(zip(disc"),
          ("optimizer.apply_gradients(zip(gen", "gen_optimizer.apply_gradients(zip(gen"),
          ("compute_generator_loss(generator, noise)",
           "compute_generator_loss(generator, discriminator, noise)")],
    "C": [("# define the loss function\n",
           "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
           "G = Generator().to(device)\nD = Discriminator().to(device)\n\n"
           "# define the loss function\n")],
    "D": [("# compile the models\n",
           "z_input = layers.Input(shape=(latent_dim,))\n"
           "generator = tf.keras.Model(z_input, build_generator(z_input))\n"
           "x_input = layers.Input(shape=image_dim)\n"
           "discriminator = tf.keras.Model(x_input, build_discriminator(x_input))\n\n"
           "# compile the models\n"),
          ("gan = build_gan(build_generator(z), discriminator)",
           "gan = build_gan(generator, discriminator)"),
          ("generator = build_generator(z)\n", "")],
    "E": [("for epoch in range(num_epochs):\n",
           "num_epochs = 25\nfor epoch in range(num_epochs):\n"),
          ("        fake_images = netG(noise).to(device)\n",
           "        noise = torch.randn(batch_size, 100, 1, 1, device=device)\n"
           "        fake_images = netG(noise)\n")],
}


def patched(program: str, fixes: list[tuple[str, str]]) -> str:
    for old, new in fixes:
        assert program.count(old) == 1, f"the fix does not apply: {old!r}"
        program = program.replace(old, new)
    return program


missing_names = {  # entry: (article, the names the entry says are never defined)
    "E13": ("A", ["np", "iters", "load_data"]),
    "E34": ("B", ["load_video_dataset", "preprocess_videos", "np", "MaxPooling2D", "noise_dim",
                  "compute_discriminator_loss", "fake_images", "optimizer",
                  "compute_generator_loss"]),
    "E47": ("C", ["G", "D", "device"]),
    "E89": ("E", ["num_epochs", "noise"]),
    "E100": ("D", ["discriminator", "z", "generator"]),  # z: see E67
}
for entry, (article, expected) in missing_names.items():
    found = unbound_names(ARTICLE_PROGRAMS[article])
    print(f"{entry} (Article {article}): used but never defined: {', '.join(found)}")
    assert found == expected
    assert unbound_names(patched(ARTICLE_PROGRAMS[article], FIXES[article])) == []
passed(*missing_names)

# %% [markdown]
# **Check E35.** Article B's `build_generator` and `generate_videos` in PyTorch, layer for layer
# (Keras's `Reshape`, `"same"` `Conv2D`, `Flatten` and `Dense` become `View`, `Conv2d(padding=1)`,
# `Flatten` and `Linear`), against a minimal video generator made of 3-D transposed convolutions (in
# the spirit of Vondrick et al. 2016). We ask each for two videos of 8 frames of 16×16 pixels. Built
# for the noise, the article's generator fails on its first line; built for 16×16 frames, it refuses
# the noise and, given a frame, returns a frame. The video generator returns the videos.

# %%
def article_build_generator(input_shape: tuple[int, ...]) -> nn.Sequential:
    """Article B's build_generator(input_shape), channels first."""
    h, w = input_shape[0], input_shape[1]  # Reshape((input_shape[0], input_shape[1], 1), ...)
    convs = []
    for c_in, c_out in ((1, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)):
        convs += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]  # Conv2D(c_out, (3, 3), same)
    return nn.Sequential(View(1, h, w), *convs, nn.Flatten(),
                         nn.Linear(128 * h * w, 128), nn.ReLU(),  # Dense(128, relu)
                         nn.Linear(128, math.prod(input_shape)), nn.Tanh(),  # Dense(prod, tanh)
                         View(*input_shape))  # Reshape(input_shape)


def article_generate_videos(generator: nn.Module, num_videos: int, video_length: int,
                            noise_dim: int = 100) -> torch.Tensor:
    noise = torch.randn(num_videos, noise_dim)  # np.random.normal(0, 1, (num_videos, noise_dim))
    return generator(noise)  # generator.predict(noise); video_length is never used


def video_generator(noise_dim: int, frames: int, size: int) -> nn.Sequential:
    """Noise (B, noise_dim) -> videos (B, 1, frames, size, size): 3-D transposed convolutions."""
    return nn.Sequential(
        View(noise_dim, 1, 1, 1),
        nn.ConvTranspose3d(noise_dim, 32, (frames // 4, size // 4, size // 4)),  # (B, 32, T/4..)
        nn.BatchNorm3d(32), nn.ReLU(),
        nn.ConvTranspose3d(32, 16, 4, 2, 1), nn.BatchNorm3d(16), nn.ReLU(),  # (B, 16, T/2, ...)
        nn.ConvTranspose3d(16, 1, 4, 2, 1), nn.Tanh(),  # (B, 1, T, H, W)
    )


num_videos, video_length, size = 2, 8, 16
with torch.no_grad():
    err = error_of(lambda: article_build_generator((100,)))  # built for the noise
    assert isinstance(err, IndexError)
    frame_generator = article_build_generator((size, size))  # built for frames
    err = error_of(lambda: article_generate_videos(frame_generator, num_videos, video_length))
    assert isinstance(err, RuntimeError) and "invalid for input of size 200" in str(err)
    frames_out = frame_generator(torch.zeros(num_videos, size, size))
    assert frames_out.shape == (num_videos, size, size)  # a frame in, a frame out: no time axis
    videos = video_generator(100, video_length, size)(torch.randn(num_videos, 100))
print("article's generator, given frames:", tuple(frames_out.shape),
      " video generator:", tuple(videos.shape))
assert videos.shape == (num_videos, 1, video_length, size, size)
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
# **Check E67.** Article D's `build_gan`, transcribed, against the corrected one, with the same
# generator (Article D's, untrained: Dense 128, Dense 64, Dense 784 with tanh) and the same
# discriminator, one that does tell real images from these generated ones: a logistic function of the
# fraction of background pixels (values at $-1$), fitted as in the check of E32. The corrected model's
# "valid" output scores real Fashion-MNIST images and is close to 1. The article's scores the generated
# image a second time, so its "valid" is close to 0: it is the fake score under another name.

# %%
def article_d_generator() -> nn.Sequential:
    """Article D's build_generator: Dense(128, relu), Dense(64, relu), Dense(784, tanh),
    Reshape."""
    return nn.Sequential(nn.Linear(100, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 28 * 28), nn.Tanh(), View(1, 28, 28))


def article_build_gan(generator, discriminator):
    def gan(z):
        img = generator(z)
        valid = discriminator(img)
        fake = discriminator(img)
        return valid, fake
    return gan


def corrected_build_gan(generator, discriminator):
    def gan(z, real_images):
        valid = discriminator(real_images)  # D's score of real images
        fake = discriminator(generator(z))
        return valid, fake
    return gan


def background(images: torch.Tensor) -> torch.Tensor:
    return (images < -0.99).double().mean(dim=(1, 2, 3))  # (B,) fraction of pixels at -1


generator_d = article_d_generator()
real_images = metrics.to_model_space(test.images[:256])  # (256, 1, 28, 28)
z = torch.randn(256, 100)
with torch.no_grad():
    wb = fit_logistic_d(background(real_images), background(generator_d(z)))


def discriminator_d(images: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(wb[0] * background(images) + wb[1])  # (B,) probability "real"


with torch.no_grad():
    valid_article, fake_article = article_build_gan(generator_d, discriminator_d)(z)
    valid_fixed, fake_fixed = corrected_build_gan(generator_d, discriminator_d)(z, real_images)
print(f"mean 'valid': corrected {valid_fixed.mean():.3f}, article {valid_article.mean():.3f}; "
      f"mean 'fake': {fake_fixed.mean():.3f}")
assert valid_fixed.mean() > 0.9 and fake_fixed.mean() < 0.1  # D separates real from generated
assert valid_article.mean() < 0.1  # the article's "valid" is D's score of generated images
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
# **Check E101.** Article D's plotting loop, run as printed on 64 samples of Article D's generator
# (into a matplotlib figure that is measured, not shown), against the 8×8 grid it needs. After drawing
# at matplotlib's default 100 dpi we measure each panel in pixels and the share of the figure that
# the images cover. The article's panels are narrower than the 28-pixel digits they show, and the
# images cover only a sliver of the figure; the grid draws every digit larger than its own size.

# %%
def panels(nrows: int, ncols: int, images: np.ndarray) -> tuple[float, float]:
    """Draw ``images`` with subplot(nrows, ncols, i + 1) + imshow, as Article D does; return the
    narrowest panel's width in pixels and the fraction of the figure the panels cover."""
    fig = Figure(figsize=(10, 10), dpi=100)  # plt.figure(figsize=(10, 10))
    FigureCanvasAgg(fig)
    axes = []
    for i in range(len(images)):
        ax = fig.add_subplot(nrows, ncols, i + 1)  # plt.subplot(nrows, ncols, i + 1)
        ax.imshow(images[i, :, :, 0], cmap="gray")
        ax.axis("off")
        axes.append(ax)
    fig.canvas.draw()  # applies the images' aspect ratio to the panels
    boxes = [ax.get_window_extent() for ax in axes]
    covered = sum(box.width * box.height for box in boxes) / (fig.bbox.width * fig.bbox.height)
    return min(box.width for box in boxes), covered


with torch.no_grad():
    samples = generator_d(torch.randn(64, 100)).permute(0, 2, 3, 1).numpy()  # (64, 28, 28, 1)
generated_images = (samples + 1) * 127.5  # as the article rescales them
width_article, covered_article = panels(1, 64, generated_images)  # plt.subplot(1, batch_size, ...)
width_grid, covered_grid = panels(8, 8, generated_images)
print(f"panel width: article {width_article:.1f} px, 8x8 grid {width_grid:.1f} px "
      f"(a digit is 28 px); "
      f"figure covered: article {covered_article:.1%}, grid {covered_grid:.1%}")
assert width_article < 28 <= width_grid
assert covered_article < 0.02 and covered_grid > 0.3
passed("E101")

# %% [markdown]
# **Check E105.** The article's ratio $\eta_D = \eta_G/4$ against the opposite one, $\eta_D = 4\eta_G$,
# on the eight-Gaussian toy problem of [section 2.3](../02_gan_math/03_dynamics.ipynb): the package's
# MLP GAN, non-saturating loss, Adam with $\beta_1 = 0.5$, {glue:text}`e105_steps` steps, three seeds
# each. Both learning rates are ten times the article's (0.002 and 0.0005, so that a short run gets
# somewhere); only their ratio is the article's. A mode counts as visited when it receives at least a
# tenth of its fair share of the samples (the definition of 2.3).

# %%
toy = data.toy2d("8gaussians", 20_000, seed=0)
toy_modes = data.toy2d_modes("8gaussians")
toy_model = GANConfig(kind="mlp", z_dim=2, data_dim=2, hidden=64, depth=2)
E105_STEPS = 500


def modes_visited(lr_d: float, seed: int) -> int:
    """Train the toy GAN (lr_G = 2e-3) and count the modes its samples visit."""
    ac.set_seed(seed)
    G, D = build_gan(toy_model)
    cfg = TrainConfig(steps=E105_STEPS, batch_size=256, lr=2e-3, lr_d=lr_d, betas=(0.5, 0.999),
                      loss="bce", log_every=100, seed=seed)
    train_gan(G, D, toy, cfg, progress=False)
    G.eval()
    with torch.no_grad():
        points = G.sample(2000, generator=torch.Generator().manual_seed(1))
    return metrics.mode_coverage(points, toy_modes, math.inf)["modes_covered"]


visited_article = [modes_visited(5e-4, seed) for seed in range(3)]   # lr_D = lr_G / 4
visited_ttur = [modes_visited(8e-3, seed) for seed in range(3)]      # lr_D = 4 lr_G
print(f"modes visited (of 8) per seed: article's ratio {visited_article}, "
      f"opposite ratio {visited_ttur}")
glue("e105_steps", E105_STEPS, display=False)
assert max(visited_article) <= 2, "the article's ratio collapses in every seed"
assert min(visited_ttur) >= 7, "a faster discriminator keeps the modes"
passed("E105")

# %% [markdown]
# ## 6. Concepts and history (8 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E03 | A | major | A disadvantage of VAEs is that they need labels (需要真实数据的标签). | VAEs are trained without labels: the ELBO uses only $x$. Labels appear only in conditional variants (CVAE; for GANs, cGAN {cite}`mirza2014cgan`). | {cite}`kingma2014vae`; [section 3.1](../03_vae_math/01_elbo.ipynb). Check. | correct statement |
# | E25 | B | minor | AIGC goes back to the 1990s, and its real breakthrough came in the early 2000s with deep learning. | Computer-generated content is much older: the Illiac Suite (algorithmic music, 1957) and ELIZA (1966). The deep-learning breakthroughs were 2006 (deep belief nets) and 2012 (AlexNet). Deep generative models came with the VAE (arXiv December 2013) and the GAN (2014), then Transformers (2017) and diffusion models (2015, {cite}`sohldickstein2015deep`; competitive with GANs from DDPM, 2020, {cite}`ho2020ddpm`). | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). Check (timeline). | illustration |
# | E41 | C | major | Image-generation GANs need "large amounts of labelled data"; the training set is $\{(x_i,y_i)\}$, and labelling cost is a key obstacle. | An unconditional GAN or VAE trains on unlabelled $\{x_i\}$; the article's own objective never uses $y$. Labels are needed only for conditional models, e.g. $V=\mathbb{E}[\log D(x\mid y)]+\mathbb{E}[\log(1-D(G(z\mid y)\mid y))]$. | {cite}`mirza2014cgan`; [section 4.3](../04_hands_on/03_cgan_wgan.ipynb). Check. | correct statement |
# | E58 | D | major | In the 1980s researchers began exploring generative adversarial networks. | GANs were introduced in **2014** {cite}`goodfellow2014gan`; VAEs in 2013/14 {cite}`kingma2014vae`. | Check (timeline). | illustration |
# | E75 | E | minor | The GAN diagram runs Generator → Discriminator → Real Data → Generated Data. | $z\sim p_z\to G\to G(z)$; then $G(z)$ **and** real $x\sim p_{data}$ go into $D$, which outputs $P(\text{real})$. Gradients flow back to $D$ and, through $D$, to $G$. | {cite}`goodfellow2014gan`; [section 2.1](../02_gan_math/01_minimax.ipynb). | — |
# | E76 | E | minor | The autoencoder diagram runs Encoder → Decoder → Input Data → Reconstructed Data. | Input $x$ → encoder → code $h$ → decoder → reconstruction $\hat x$, trained so that $\hat x\approx x$. | [Section 3.1](../03_vae_math/01_elbo.ipynb). | — |
# | E79 | E | major | SSD is a two-stage object detector (两阶段目标检测算法). | SSD, the *Single Shot* MultiBox Detector (Liu et al., ECCV 2016), is a **single-stage** detector that predicts boxes from multi-scale feature maps in one pass. Faster R-CNN (Ren et al., NeurIPS 2015) is two-stage. | The paper's title. | — |
# | E99 | A | major | AIGC's core algorithms "mainly include" (主要包括) GANs and VAEs (§2.2); §2.1 introduces generative AI and AIGC, and the §2.3 diagram splits AIGC into GANs and VAEs alone. | Both are worth teaching, and they led image generation from about 2014 to 2020, but today's AIGC rests on two other families. Text generation is dominated by autoregressive Transformer language models {cite}`vaswani2017attention`, such as GPT-3 {cite}`brown2020gpt3` and ChatGPT (trained with the method of InstructGPT {cite}`ouyang2022instructgpt`). Image generation is dominated by diffusion models {cite}`sohldickstein2015deep,ho2020ddpm`, above all latent diffusion (Stable Diffusion) {cite}`rombach2022ldm`. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). | — |

# %% [markdown]
# **Check E25, E54, E56, E58.** A timeline from the course bibliography: convolutional networks
# (LeCun et al. 1998) long before AlexNet (2012), attention for translation (Bahdanau et al. 2015) before
# the Transformer (2017), GANs in 2014, not the 1980s, and diffusion models in 2015 (Sohl-Dickstein et
# al.), five years before DDPM (Ho et al. 2020).

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
            "sohldickstein2015deep", "vaswani2017attention", "ho2020ddpm"]
for key in sorted(timeline, key=years.get):
    print(years[key], key)
alexnet = 2012  # Krizhevsky, Sutskever & Hinton, NIPS 2012 (not in the bibliography)
# E58, E25: not the 1980s
assert years["goodfellow2014gan"] == 2014 and years["kingma2014vae"] >= 2013
assert min(years[k] for k in ("kingma2014vae", "goodfellow2014gan", "ho2020ddpm")) >= 2013  # E25
# E25: diffusion models date from 2015; DDPM (2020) made them competitive
assert years["sohldickstein2015deep"] == 2015 < years["ho2020ddpm"] == 2020
assert years["lecun1998gradient"] < alexnet  # E54: CNNs predate AlexNet
# E56: attention predates the Transformer
assert years["bahdanau2015attention"] < years["vaswani2017attention"]
passed("E25", "E54", "E56", "E58")

# %% [markdown]
# **Check E03 and E41.** Neither model needs labels.
#
# * *E03.* The VAE of the check of E02 was trained on the images alone: its loss, `model.loss(images)`,
#   receives no label. Yet its two-dimensional codes $\mu(x)$ sort the digits by class: a
#   nearest-neighbour classifier on the codes (each digit takes the label of the nearest other code)
#   is far above the 10 % of chance, and the same classifier with the labels shuffled is at chance.
#   The labels are used only here, to score the codes after training.
# * *E41.* A 1-D GAN whose training data are 2 000 unlabelled numbers from $\mathcal N(3,1)$:
#   generator $G(z)=z+\theta$ from $\theta=0$, and at each step a logistic discriminator fitted to the
#   current real and generated samples (as in the check of E32), then one non-saturating step in
#   $\theta$. The only "labels" are real and generated, which the algorithm assigns itself. The
#   generator reaches the data distribution. Labels are needed only for conditional models
#   ([section 4.3](../04_hands_on/03_cgan_wgan.ipynb)).

# %%
# E03: codes learned without labels, scored with labels afterwards
with torch.no_grad():
    codes, _ = vae.encode(x8)  # (512, 2)
classes = digits.labels[:512]
distance = torch.cdist(codes, codes).fill_diagonal_(float("inf"))
nearest = distance.argmin(dim=1)  # the nearest other code
shuffled = classes[torch.randperm(len(classes), generator=torch.Generator().manual_seed(3))]
accuracy_codes = (classes[nearest] == classes).double().mean().item()
accuracy_shuffled = (shuffled[nearest] == shuffled).double().mean().item()
print(f"nearest-neighbour accuracy on the VAE's codes {accuracy_codes:.1%}, "
      f"with shuffled labels {accuracy_shuffled:.1%}, chance 10%")
assert accuracy_codes > 0.35 and accuracy_shuffled < 0.2

# E41: a GAN trained on unlabelled data
data_1d = 3 + torch.randn(2000, dtype=torch.float64)  # the training set: numbers, no labels
theta = torch.tensor(0.0, dtype=torch.float64)
for _ in range(10):
    z = torch.randn(2000, dtype=torch.float64)
    wb = fit_logistic_d(data_1d, z + theta)  # D: real vs generated
    theta_ = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(losses.gan_g_nonsaturating(wb[0] * (z + theta_) + wb[1]), theta_)
    theta = theta - 1.0 * g  # G: one non-saturating step
print(f"generator shift after 10 steps: {theta.item():.3f} (data mean 3)")
assert abs(theta.item() - 3) < 0.15
passed("E03", "E41")

# %% [markdown]
# ## 7. Applications and evaluation (12 entries)
#
# | ID | Art. | Sev. | The article says | What is right | Evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E04 | A | minor | VAEs do "data augmentation" (数据增强), illustrated by image enhancement and speech enhancement (图像增强、语音增强). | *Data augmentation* enlarges a training set with transformed or synthetic samples; *enhancement* improves the signal quality of one input. Different tasks with different metrics. | [Section 5.4](../05_applications/04_augmentation.ipynb); see the glossary. | — |
# | E10 | A | major | VAE denoising: the encoder maps a *noisy* image to a point, the decoder reconstructs a "denoised" image from it, encoder and decoder are optimised to "capture the data distribution", and so the reconstruction comes ever closer to the original image (越来越接近原始图像). | A bottleneck does remove some noise: a model that reconstructs noisy images through a narrow code (PCA, an undercomplete autoencoder, a VAE) keeps the few directions that carry most of the variance and drops the noise in the others. What is wrong is the claim that this training leads to the clean image. Nothing in the objective asks for it: the gain comes from the limited capacity and stops there (the noise inside the kept directions stays, and the detail outside them is lost), and a wider code reproduces more of the noise, not less. To make denoising the objective, train on clean targets, $\mathbb{E}\Vert x_{clean}-\mathrm{dec}(\mathrm{enc}(x_{noisy}))\Vert^2$ (a denoising autoencoder: Vincent, Larochelle, Bengio & Manzagol, "Extracting and Composing Robust Features with Denoising Autoencoders", ICML 2008), or put an explicit noise model in $p_\theta(x\mid z)$. | PCA as the optimal linear bottleneck {cite}`bishop2006pattern`, ch. 12; [section 5.2](../05_applications/02_denoising.ipynb). Check. | article's version |
# | E36 | B | minor | AIGC does personalised video recommendation and content moderation; given an audio waveform, a generator produces the lyrics. | Recommendation and moderation are ranking and classification (discriminative) tasks; audio to lyrics is speech recognition. They are neighbouring AI, not GAN/VAE applications. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb) (generative vs discriminative). | — |
# | E50 | C | minor | Disney Animation Studios used GANs for backgrounds and character animation; "Unity's AIGC plugin" uses GANs to generate game images and videos. | No source is given and none was found; Unity's 2023 generative tools (Muse, Sentis) are not described as GAN-based. **Unverified**: do not repeat without a primary source. | — | — |
# | E51 | C | major | AIGC generates "high-quality CT and MRI images" and pathology slides to help doctors diagnose and treat. | An image generated from noise, or from other patients, holds no information about a particular patient and may invent structures, so it cannot support that patient's diagnosis; the article does not distinguish this from the uses that are documented. Those work with real data: image-to-image models that start from the patient's *own* acquired scans, such as MR-to-CT synthesis for radiotherapy planning (Wolterink et al., "Deep MR to CT Synthesis Using Unpaired Data", SASHIMI workshop at MICCAI 2017) and low-dose CT reconstruction (Yang et al., "Low-Dose CT Image Denoising Using a Generative Adversarial Network With Wasserstein Distance and Perceptual Loss", IEEE Trans. Medical Imaging 2018); training-data augmentation for classifiers {cite}`fridadar2018augmentation`; anomaly detection {cite}`schlegl2017anogan`. Each is validated against real scans, and a synthesised scan can still invent or hide a lesion. | Two of those uses, each scored on real test images: anomaly detection in [5.3](../05_applications/03_anomaly.ipynb) (ROC AUC of the VAE's score on held-out real images), augmentation in [5.4](../05_applications/04_augmentation.ipynb) (10-class accuracy of a classifier tested on real images only). Neither page uses a generated image as evidence about a real one. | — |
# | E59 | D | major | The loss function is the key measure of a generative model's performance: the gap between generated and real images, commonly MSE and SSIM. | A loss is a training objective; an evaluation metric is something else. An unconditional sample has **no paired real image**, so pixel MSE or SSIM {cite}`wang2004ssim` against real images says nothing about quality. Use distribution-level metrics: FID {cite}`heusel2017fid`, Inception Score {cite}`salimans2016improved`, precision/recall {cite}`kynkaanniemi2019precision`; see {cite}`theis2016note`. | [Section 4.5](../04_hands_on/05_evaluation.ipynb). Check (with E91). | article's version |
# | E70 | D | major | AIGC helps doctors by generating the patient's X-rays and CTs, improving diagnostic accuracy, even guiding surgery. | As E51: an image generated without the patient's own scans is no evidence about the patient. Models that reconstruct or translate the patient's acquired scans (low-dose CT, MR to CT) are a real, narrower use, validated against real scans; the article claims improved diagnostic accuracy and surgical guidance without any such source. | {cite}`fridadar2018augmentation,schlegl2017anogan`; [sections 5.3](../05_applications/03_anomaly.ipynb) and 5.4. | — |
# | E91 | E | major | Model quality is judged by MSE and SSIM between generated images and CIFAR-10 **test** images; "MSE 0.0339, SSIM 0.8522" is read as high quality. | Unpaired MSE/SSIM cannot rank generators: a generator that always outputs the average image beats real images on MSE. Report FID $=\Vert\mu_r-\mu_g\Vert^2+\operatorname{tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big)$ and precision/recall. The reported numbers are implausible for unpaired images, and the printed program cannot have produced them: it stops with a `NameError` before training (E89) and, with that fixed, with a channel error at the evaluation noise (E90). | {cite}`heusel2017fid,kynkaanniemi2019precision,theis2016note`; [section 4.5](../04_hands_on/05_evaluation.ipynb). Check. | article's version |
# | E94 | E | minor | AIGC's "core algorithms" include object detection (YOLO/SSD) and image classification (AlexNet/VGG/ResNet); its applications include recommendation, medical image *analysis*, financial risk and vehicle-behaviour prediction. | These are discriminative or predictive tasks, not content generation. Generative models (GANs, VAEs, diffusion models {cite}`sohldickstein2015deep,ho2020ddpm`, autoregressive language models) can support them, e.g. with synthetic training data, but are not the same thing. | [Section 1.1](../01_concepts/01_what_is_aigc.ipynb). | — |
# | E102 | A | minor | Under the heading "how to guarantee (保证) data privacy and security", §9.3 lists data encryption, privacy-preserving algorithms (differential privacy, federated learning), which it says reduce the risk (降低数据隐私风险), and access control, as the measures that achieve that aim; it names no risk they leave. | The list leaves out the main risk of a generative model, what the trained model itself reveals, which encryption and access control do not touch: generative models can reproduce training images {cite}`carlini2023extracting`. Federated learning alone shares model updates instead of data, and updates can give the data back. For one gradient through a linear layer the input is the ratio of a row of the weight gradient to the matching bias gradient, exactly; deeper networks leak it to an optimiser {cite}`zhu2019deep`; and the multi-step updates of federated averaging leak too (Geiping, Bauermeister, Dröge & Moeller, "Inverting Gradients: How easy is it to break privacy in federated learning?", NeurIPS 2020). Differential privacy does give a guarantee, but a quantified one, for a stated ε, paid for in accuracy {cite}`abadi2016dpsgd`. | Check. | correct statement |
# | E103 | B | minor | Automated review before upload "ensures" (确保) that a platform's content is compliant. | A moderation model is a classifier with error rates. At platform scale even very good rates let violations through and flag many innocent videos, so automated review reduces the human reviewers' load but ensures nothing; report its miss and false-alarm rates at the platform's base rate. | [Section 5.6](../05_applications/06_responsible.ipynb) (base rates of detectors). Check. | illustration |
# | E104 | C | minor | In its research outlook (§8.4, 研究展望), under data augmentation: generating more high-quality labelled data improves the model's generalisation (提升模型泛化能力), with no condition attached. | As a research direction this is fair, and there are documented cases. But it is not a general result: whether synthetic training data helps is an empirical question, answered by a classifier evaluated on **real** held-out data with and without the synthetic images, over several seeds {cite}`fridadar2018augmentation`. With the course's conditional GAN no mix ratio gave a resolved improvement (each within two standard errors of zero, or lower), and training on its samples alone was clearly worse. | [Section 5.4](../05_applications/04_augmentation.ipynb) (measured, with standard errors, and asserted there). | — |

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
# **Check E10.** Noisy 8×8 digits (Gaussian noise of standard deviation 0.5 on the $[-1,1]$ scale). The
# article's recipe, noisy images as both input and target, has an exact solution for a linear model:
# the best code of width $k$ is the projection on the top $k$ principal components of the noisy
# training images (PCA), the optimum that a linear autoencoder reaches {cite}`bishop2006pattern`. We
# measure the PSNR of its reconstructions against the *clean* held-out images. A narrow code does
# remove noise, so the PSNR rises above the noisy input's. But the gain belongs to the bottleneck, not
# to the objective: it peaks at a middle width and falls back to the noisy input's PSNR when the code
# is as wide as the image. The same linear model trained on clean targets (noisy → clean, least
# squares) beats every width.

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


centre = noisy[train].mean(dim=0)  # (64,)
_, _, components = torch.linalg.svd(noisy[train] - centre, full_matrices=False)  # (64, 64)


def bottleneck(images: torch.Tensor, k: int) -> torch.Tensor:
    """The best noisy -> noisy linear model with a k-dimensional code: PCA projection."""
    basis = components[:k]  # (k, 64): the top k principal directions
    return centre + (images - centre) @ basis.T @ basis


widths = (2, 4, 8, 16, 32, 64)
psnr_input = psnr_vs_clean(noisy[held_out])
psnr_code = {k: psnr_vs_clean(bottleneck(noisy[held_out], k)) for k in widths}
psnr_clean_targets = psnr_vs_clean(fit_linear(noisy[train], clean[train])(noisy[held_out]))
best = max(psnr_code, key=psnr_code.get)
print(f"PSNR vs clean: noisy input {psnr_input:.2f} dB; noisy -> noisy with a code of width "
      + ", ".join(f"{k}: {v:.2f}" for k, v in psnr_code.items())
      + f" dB; noisy -> clean {psnr_clean_targets:.2f} dB")
assert psnr_code[best] > psnr_input + 2  # a bottleneck does remove noise ...
assert widths[0] < best < widths[-1]  # ... most at a middle width ...
assert abs(psnr_code[64] - psnr_input) < 0.1  # ... and a full-width code keeps all of it
assert psnr_clean_targets > psnr_code[best] + 1  # clean targets make denoising the objective
glue("e10_best", best, display=False)
glue("e10_gain", psnr_code[best] - psnr_input, display=False)
glue("e10_gain_clean", psnr_clean_targets - psnr_input, display=False)
passed("E10")

# %% [markdown]
# Here the best code, of width {glue:text}`e10_best`, gains {glue:text}`e10_gain:.1f` dB over the noisy
# input; the model trained on clean targets gains {glue:text}`e10_gain_clean:.1f` dB.

# %% [markdown]
# **Check E102.** What a federated client sends for one private image: the gradient of its loss through a
# linear layer (784 pixels to 10 classes). Since $\partial L/\partial W = (\partial L/\partial y)\,x^\top$
# and $\partial L/\partial b = \partial L/\partial y$, any row of the weight gradient divided by the
# matching bias gradient is the image itself. Encrypting the stored data does not touch this channel.

# %%
torch.manual_seed(0)
layer = nn.Linear(784, 10)
x_private = metrics.to_model_space(test.images[:1]).flatten(1)          # one real image, (1, 784)
loss = F.cross_entropy(layer(x_private), torch.tensor([int(test.labels[0])]))
grad_w, grad_b = torch.autograd.grad(loss, [layer.weight, layer.bias])  # (10, 784), (10,)
row = int(grad_b.abs().argmax())
x_rebuilt = grad_w[row] / grad_b[row]                                   # (784,)
error = (x_rebuilt - x_private[0]).abs().max()
print(f"image rebuilt from one gradient: max |error| = {error:.1e} (pixels in [-1, 1])")
torch.testing.assert_close(x_rebuilt, x_private[0], atol=1e-4, rtol=1e-4)
passed("E102")

# %% [markdown]
# **Check E103.** A moderation classifier far better than real ones, catching 99% of violating videos and
# flagging 1% of the others, on a platform where one upload in a thousand violates the rules: "ensures
# compliance" would mean no violation gets through.

# %%
uploads, base_rate, tpr, fpr = 1_000_000, 0.001, 0.99, 0.01
violating = uploads * base_rate
missed = violating * (1 - tpr)                   # violations published anyway
false_alarms = (uploads - violating) * fpr       # innocent videos held back
flag_precision = violating * tpr / (violating * tpr + false_alarms)
print(f"per {uploads:,} uploads: {missed:.0f} violations published, "
      f"{false_alarms:,.0f} innocent videos flagged; "
      f"{flag_precision:.1%} of the flagged videos really violate the rules")
assert missed > 0 and false_alarms > 10 * violating * tpr  # not ensured, and most alarms are false
glue("e103_missed", missed, display=False)
glue("e103_precision", flag_precision, display=False)
passed("E103")

# %% [markdown]
# {glue:text}`e103_missed:.0f` violating videos per million uploads are published anyway, and only
# {glue:text}`e103_precision:.1%` of the flagged ones really violate the rules: automated review needs
# human review behind it, and "ensures" is the wrong word.

# %% [markdown]
# ## 8. References (27 entries)
#
# Status: **fabricated** means no such work could be found (exact-title searches on arXiv, DBLP, the CVF
# index and publishers' catalogues), so it must not be cited. **Real, wrong details** means the work
# exists but the title, authors, year, venue or link is wrong. **Unverified** means it could be confirmed
# neither way. Real works are cited with the course bibliography where it has them, otherwise written out.
#
# One rule for wrong titles. A wrong title is **minor** when the reference still identifies the paper by
# its authors (and, in Article E, by the real English title printed beside it); that is the case of the
# Chinese titles that translate nothing, which the articles give to real papers (E73, E96). It is
# **major** when the title or the attribution leads the reader to a different work, or to none: E15's
# "Variational Autoencoders" by Kingma & Welling is nearly the title of their *other* paper, the 2019
# introduction, and E55 credits GANs to a later tutorial.
#
# | ID | Art. | Sev. | Cited as | Status | Correct citation and evidence | Kind of check |
# |---|---|---|---|---|---|---|
# | E15 | A | major | "Variational Autoencoders", Kingma & Welling 2014, as the paper that proposed VAEs | real, wrong title | "Auto-Encoding Variational Bayes", ICLR 2014, arXiv:1312.6114 {cite}`kingma2014vae`. The article's own reference list ([3]) has the right title. | — |
# | E16 | A | minor | Bengio, Simard & Frasconi 1994, *IEEE Trans. Pattern Analysis and Machine Intelligence* 16(8), 1489–1499 | real, wrong venue | "Learning long-term dependencies with gradient descent is difficult", *IEEE Transactions on Neural Networks* 5(2):157–166, 1994 (doi:10.1109/72.279181). | — |
# | E17 | A | major | [9] Kolesnikov & Khvostov 2018, "GANs for multimodal generation", CVPR; [17] Huang, Li, Lin & Theilliol 2018, "Towards a principled multi-scale GAN for image synthesis"; [19] Cheng, Mao & He 2016, "Web-scale image annotation…"; [21] Huang, Urtasun & He 2018, "Multi-scale dense convolutional network for semantic segmentation" | fabricated | None exists; [9] reuses the page range of [16]. The nearest real work to [21] is Huang et al., "Multi-Scale Dense Networks for Resource Efficient Image Classification", ICLR 2018. | — |
# | E18 | A | major | "BigGANs at 512x512" (2019), "BigGANs at 256x256" (2020), "BigGANs at 1024x1024" (2020), "BigGAN Dissection" (CVPR 2020) | fabricated | BigGAN is Brock, Donahue & Simonyan, "Large Scale GAN Training for High Fidelity Natural Image Synthesis", ICLR 2019 (arXiv:1809.11096). GAN dissection is Bau et al., "GAN Dissection: Visualizing and Understanding Generative Adversarial Networks", ICLR 2019. | — |
# | E19 | A | major | Salimans, Chen, Cheung, Karras & Le Brun 2019, "Improved techniques for training GANs", ICLR | real, wrong authors and venue | Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen, NeurIPS 2016 {cite}`salimans2016improved`. | — |
# | E20 | A | major | Zhang, Cai & Hasegawa-Johnson 2016, "Variational image compression with a continuous prior", arXiv:1611.05644 | fabricated (not found) | Real VAE-style compression: Ballé, Laparra & Simoncelli, ICLR 2017 {cite}`balle2017endtoend`; Ballé, Minnen, Singh, Hwang & Johnston, "Variational image compression with a scale hyperprior", ICLR 2018 (arXiv:1802.01436). | — |
# | E21 | A | major | Ulyanov, Lempitsky & Ekiert 2017, "Non-local attention in deep visual representation learning", CVPR 5566–5574 | fabricated | Non-local blocks come from Wang, Girshick, Gupta & He, "Non-local Neural Networks", CVPR 2018. | — |
# | E22 | A | major | Radford, Besbridge, … Marras 2022, "Language models are few-shot learners", arXiv:2203.02155 | real title, invented authors, wrong ID | Brown et al., NeurIPS 2020, arXiv:2005.14165. arXiv:2203.02155 is Ouyang et al. 2022, "Training language models to follow instructions with human feedback". | — |
# | E23 | A | major | Dosovitskiy, Springenberg & Brox 2019, "An image is worth 16x16 words", arXiv:2010.11929 | real, wrong authors and year | Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly, Uszkoreit & Houlsby, arXiv October 2020, ICLR 2021. Check: the arXiv identifier itself says 2020. | illustration |
# | E24 | A | minor | [13] gives the GAN paper as "Generative adversarial networks"; [10] and [14] repeat [3] ([14] dated 2013); [31] and [33] date GoogLeNet to 2013; [32] dates DenseNet to 2018; [32]–[38] all repeat earlier entries ([32] and [35] repeat [27], [33] repeats [31], [34] repeats [26], [36] [30], [37] [29], [38] [28]); none of [1]–[38] is cited in the text | real, duplicated, wrong years | "Generative Adversarial Nets" {cite}`goodfellow2014gan`; Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842, September 2014); Huang et al., "Densely Connected Convolutional Networks", CVPR 2017. Check (the duplicates and the GoogLeNet year). | article's version |
# | E37 | B | major | "Ganapati" / "GANapati", a Python library that simplifies GANs, at `github.com/jtseng/ganapati` | fabricated (not found) | No such library was found; use plain PyTorch (`torch.nn`) or the course package. | — |
# | E38 | B | minor | "Attention Is All You Need", listed under books | real paper, wrong type | Vaswani et al., NeurIPS 2017 {cite}`vaswani2017attention`. | — |
# | E39 | B | major | "Variational Autoencoders: A Review" (Hannun et al. 2018) | fabricated | Real reviews: Kingma & Welling, "An Introduction to Variational Autoencoders", 2019 {cite}`kingma2019introduction`; Doersch, "Tutorial on Variational Autoencoders", arXiv:1606.05908, 2016. | — |
# | E40 | B | minor | Books 《生成对抗网络：入门…》 (by 李航 et al.), 《自编码器与变分自编码器…》 (by 曹志宏), "Generative Adversarial Networks: An Introduction"; the survey "Unsupervised Representation Learning" | unverified | None could be identified (Li Hang's known books are 《统计学习方法》 and 《机器学习方法》, neither about GANs); do not cite. Real: Blei, Kucukelbir & McAuliffe, "Variational Inference: A Review for Statisticians", *JASA* 2017; Goodfellow, Bengio & Courville, *Deep Learning*, MIT Press 2016. | — |
# | E52 | C | minor | The book 《深度学习》 was "written by Yoshua Bengio and other experts" | real, misleading attribution | Ian Goodfellow, Yoshua Bengio & Aaron Courville, *Deep Learning*, MIT Press 2016. Literally true (Bengio is the second author), but naming him alone hides the first author: cite all three. | — |
# | E53 | C | minor | Coursera's "Deep Learning Specialization" is offered by Stanford University | real, wrong provider | Offered by DeepLearning.AI and taught by Andrew Ng; Stanford's deep-learning course is CS230, not on Coursera. | — |
# | E54 | C | major | The AlexNet paper "proposed convolutional neural networks" | real, wrong claim | CNNs predate it: Fukushima's Neocognitron (1980) and LeCun et al. 1989/1998 {cite}`lecun1998gradient`. Krizhevsky, Sutskever & Hinton (NIPS 2012) scaled them up with GPUs, ReLU and dropout. Check (timeline). | illustration |
# | E55 | C | major | "A Tutorial on Generative Adversarial Nets" proposed GANs | wrong title | GANs were proposed in "Generative Adversarial Nets" {cite}`goodfellow2014gan`. The tutorial is Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial Networks", arXiv:1701.00160. | — |
# | E56 | C | minor | "Attention Is All You Need" proposed the self-attention mechanism | real, imprecise claim | It proposed the **Transformer**, built entirely on attention {cite}`vaswani2017attention`. Attention for translation came earlier {cite}`bahdanau2015attention`, and so did self-attention (e.g. Cheng, Dong & Lapata 2016; Lin et al. 2017). Check (timeline). | illustration |
# | E57 | C | major | "Generating Pre-trained Text for Natural Language Generation" proposed BERT, GPT and other pretrained models | fabricated | BERT: Devlin, Chang, Lee & Toutanova, NAACL 2019. GPT: Radford, Narasimhan, Salimans & Sutskever 2018, "Improving Language Understanding by Generative Pre-Training" (OpenAI report). No single paper proposed both. | — |
# | E71 | D | major | The book 《生成对抗网络》 by Ilg, Reichert & Schiele | fabricated (not found) | No such book; for a GAN overview use Goodfellow's NIPS 2016 tutorial (arXiv:1701.00160). | — |
# | E72 | D | minor | 《Python深度学习》 (*Python Deep Learning*) by Raschka & Mirjalili | real books, mixed up | Raschka & Mirjalili wrote *Python Machine Learning* (Packt, 2nd ed. 2017). 《Python深度学习》 is the Chinese edition of Chollet, *Deep Learning with Python* (Manning 2017; 2nd ed. 2021). | — |
# | E73 | D | minor | Section 7.3 lists its three papers under Chinese titles only, none of which translates the real title: the GAN paper (Goodfellow, …, Bengio) as "generative adversarial networks: a new method for training generative models", the VAE paper (Kingma, Welling) as "VAE: learning for generative models and loss functions", and the ImageNet paper as "ImageNet: a large-scale image-recognition database" (its authors are E74) | real, invented Chinese titles | "Generative Adversarial Nets", NeurIPS 2014 {cite}`goodfellow2014gan`; "Auto-Encoding Variational Bayes", ICLR 2014 {cite}`kingma2014vae`; "ImageNet: A Large-Scale Hierarchical Image Database", CVPR 2009. The authors still identify each paper, so, by the rule above, the error is minor. | — |
# | E74 | D | major | The ImageNet paper by Deng, Dong, Socher, Li, Li, Li and **Lafferty**, as the founding paper of the ImageNet *competition* | real, wrong authors and claim | Deng, Dong, Socher, Li, Li & Fei-Fei, "ImageNet: A Large-Scale Hierarchical Image Database", CVPR 2009, pp. 248–255: a *dataset* paper. The challenge paper is Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge", IJCV 2015. | — |
# | E96 | E | minor | Sections 7.1 and 7.3 give three papers with the real English title and an invented Chinese one: the GAN paper as "generative adversarial networks: the game of training a generator and a discriminator", Mikolov et al. as "word-vector models: a frequency-based neural-network method", "Attention Is All You Need" as "attention mechanisms and the Transformer model"; the reference list links Mikolov et al., "Distributed Representations of Words and Phrases and their Compositionality" (NeurIPS 2013), to arXiv:1301.3781 | real, invented Chinese titles, wrong link | The English titles are right {cite}`goodfellow2014gan,vaswani2017attention`; the Chinese ones translate none of them (and word2vec is not "frequency-based"). Mikolov et al. 2013 is arXiv:1310.4546; arXiv:1301.3781 is Mikolov, Chen, Corrado & Dean, "Efficient Estimation of Word Representations in Vector Space". | — |
# | E97 | E | minor | "TensorFlow GAN implementation" linked to `tensorflow/…/python/keras/applications`; "PyTorch GAN implementation" linked to `pytorch/examples/tree/master/gan` | wrong links | Keras *applications* are pretrained classifiers (ResNet, VGG, …), not a GAN. pytorch/examples has a `dcgan/` folder and no `gan/`. The TensorFlow DCGAN tutorial is at tensorflow.org/tutorials/generative/dcgan. | — |
# | E98 | E | minor | The book 《生成对抗网络：原理…》 (*Generative Adversarial Networks: Theory, Algorithms and Applications*) by 李航, "the authoritative guide" | unverified | No such book by Li Hang could be found. *Deep Learning* (Goodfellow, Bengio & Courville 2016) and *Speech and Language Processing* (Jurafsky & Martin), also recommended, are real. | — |

# %% [markdown]
# **Check E23 and E24.** New-style arXiv identifiers (since 2007) begin with the year and month of
# submission, `YYMM.NNNNN`. The identifier the article gives for the Vision Transformer dates it to
# October 2020, so its year 2019 is impossible; GoogLeNet's (arXiv:1409.4842) dates it to September
# 2014, so the year 2013 of [31] and [33] is impossible too. For the duplicates of E24 we transcribe
# the first author, year and title of the entries of Article A's list that repeat a paper, and find
# each entry whose title (ignoring case) already appeared under a smaller number.

# %%
def arxiv_year_month(identifier: str) -> tuple[int, int]:
    yymm = identifier.split(".")[0]
    return 2000 + int(yymm[:2]), int(yymm[2:])


assert (arxiv_year_month("2010.11929") == (2020, 10)
        and arxiv_year_month("2010.11929")[0] != 2019)  # E23
# AEVB: arXiv December 2013, ICLR 2014 (E24, E25)
assert arxiv_year_month("1312.6114") == (2013, 12)
assert arxiv_year_month("2005.14165") == (2020, 5)  # Brown et al., the real few-shot paper (E22)
assert arxiv_year_month("1409.4842")[0] > 2013  # GoogLeNet, dated 2013 in [31] and [33] (E24)

references_a = {  # number: (first author, year, title) as Article A prints them
    1: ("Goodfellow", 2014, "Generative adversarial nets"),
    3: ("Kingma", 2014, "Auto-encoding variational bayes"),
    10: ("Kingma", 2014, "Auto-encoding variational bayes"),
    13: ("Goodfellow", 2014, "Generative adversarial networks"),
    14: ("Kingma", 2013, "Auto-encoding variational bayes"),
    26: ("He", 2016, "Deep residual learning for image recognition"),
    27: ("Huang", 2017, "Densely connected convolutional networks"),
    28: ("Deng", 2009, "Imagenet: A large-scale hierarchical image database"),
    29: ("Krizhevsky", 2012, "Imagenet classification with deep convolutional neural networks"),
    30: ("Simonyan", 2014, "Very deep convolutional networks for large-scale image recognition"),
    31: ("Szegedy", 2013, "Going deeper with convolutions"),
    32: ("Huang", 2018, "Densely connected convolutional networks"),
    33: ("Szegedy", 2013, "Going deeper with convolutions"),
    34: ("He", 2016, "Deep residual learning for image recognition"),
    35: ("Huang", 2017, "Densely connected convolutional networks"),
    36: ("Simonyan", 2014, "Very deep convolutional networks for large-scale image recognition"),
    37: ("Krizhevsky", 2012, "Imagenet classification with deep convolutional neural networks"),
    38: ("Deng", 2009, "Imagenet: A large-scale hierarchical image database"),
}
first_with_title: dict[str, int] = {}
repeats = {}  # entry -> the earlier entry it repeats
for number, (_, _, title) in sorted(references_a.items()):
    if title.casefold() in first_with_title:
        repeats[number] = first_with_title[title.casefold()]
    first_with_title.setdefault(title.casefold(), number)
print("repeats:", ", ".join(f"[{n}] = [{m}]" for n, m in repeats.items()))
assert repeats == {10: 3, 14: 3, 32: 27, 33: 31, 34: 26, 35: 27, 36: 30, 37: 29, 38: 28}  # E24
passed("E23", "E24")

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
# | [27], [35] | Huang et al. 2017, DenseNet | OK (duplicate; [32] repeats it too) | CVPR 2017 |
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
# | 《深度学习》 "by Yoshua Bengio et al." | real, first author left out | E52 |
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
# | The GAN paper (Goodfellow, …, Courville, Bengio) | real, invented Chinese title | {cite}`goodfellow2014gan`; E73 |
# | The VAE paper (Kingma, Welling) | real, invented Chinese title | {cite}`kingma2014vae`; E73 |
# | ImageNet (Deng, …, Lafferty) | real, wrong authors, invented Chinese title | E74, E73 |
#
# **Article E**:
#
# | As cited | Status | Correct form |
# |---|---|---|
# | 《深度学习》, Goodfellow, Bengio & Courville | OK | MIT Press 2016 |
# | A GAN book by 李航 | unverified | E98 |
# | 《自然语言处理综论》, Jurafsky & Martin | OK | *Speech and Language Processing* |
# | The GAN, word2vec and Transformer papers of sections 7.1 and 7.3, each with the English title and an invented Chinese one | real, invented Chinese titles | E96 |
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
all_ids = {f"E{i:02d}" for i in range(1, 106)}
assert CHECKED <= all_ids
print(f"{len(CHECKED)} of {len(all_ids)} entries have an executable check that passed:")
def number(entry: str) -> int:
    return int(entry[1:])  # "E101" -> 101, so that E101 sorts after E99


print(", ".join(sorted(CHECKED, key=number)))
print("without a check:", ", ".join(sorted(all_ids - CHECKED, key=number)))
assert len(CHECKED) == 67  # update when a check is added
