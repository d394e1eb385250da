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
# # 6.4 Hands-on: a U-Net on Fashion-MNIST

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("04_unet")

# %% [markdown]
# Sections 6.1–6.3 worked in the plane, where every density and velocity has a closed form. Now the data
# are the 28×28 images of Part IV, and the denoiser is the network that made diffusion work on pictures: a
# **U-Net** (U 形网络) {cite}`ronneberger2015unet`, as Ho et al. used it {cite}`ho2020ddpm`. The recipe is
# the one 6.3 derived: **flow matching** (流匹配) on the straight path $x_t = (1-t)\,x_0 + t\,\varepsilon$,
# the network predicting the velocity $\varepsilon - x_0$ {cite}`lipman2023flow,liu2023flow`, with training
# times drawn from a logit-normal law that favours the middle of the path {cite}`esser2024scaling`, and an
# exponential moving average (EMA, 指数移动平均) of the weights that does the sampling.
#
# This page
#
# 1. writes the U-Net out on the page and checks it against the package's model;
# 2. shows how the model plugs into the course's trainer as a new *model kind*, and trains it a few steps;
# 3. watches the shipped model turn noise into clothes, and compares four samplers;
# 4. measures quality against the number of network evaluations, against training time, against a DDPM
#    loop written as in the original paper, and against every GAN and VAE of Part IV on one scale.

# %%
import json
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import aigc_course as ac
from aigc_course import checkpoint, diffusion, kinds, plotting, recipes, train
from aigc_course.exercises import ch6_unet
from aigc_course.nn import count_parameters
from aigc_course.plotting import glue

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))
QUICK = ac.profile() == "quick"
# the measured curves (AIGC_RESULTS_DIR: your own, made with tools/evaluate_diffusion.py)
SHIPPED_RESULTS = Path(ac.__file__).parents[1] / "benchmarks" / "results"
RESULTS = Path(os.environ.get("AIGC_RESULTS_DIR") or SHIPPED_RESULTS)
CLASSES = [
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Boot",
]

# %% [markdown]
# ## The U-Net
#
# A denoiser must return an image the size of its input, and it needs both fine detail (where exactly is
# the edge of a sleeve?) and the global picture (is this a shoe or a bag?). The U-Net gets both: an encoder
# halves the resolution twice (28 → 14 → 7) while widening the channels, a middle section with
# self-attention (自注意力) sees the whole 7×7 map, and a decoder climbs back up, taking at each level the
# encoder's feature maps of the same size through **skip connections** (跳跃连接). The time $t$ enters
# every residual block (残差块) as a learned per-channel shift, computed from sinusoidal features of $t$
# (the positional encoding of 1.4); a class label, when there is one, adds its own embedding to the time's.
#
# The building block: two 3×3 convolutions with group normalisation {cite}`wu2018group` and the SiLU
# activation, the embedding added in between, and the input added back.


# %%
def gn(channels):
    return nn.GroupNorm(min(8, channels // 4), channels)


class Block(nn.Module):
    """(B, c_in, H, W), (B, E) -> (B, c_out, H, W)"""

    def __init__(self, c_in, c_out, emb_dim):
        super().__init__()
        self.norm1, self.conv1 = gn(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)  # time (+ label) -> a shift per channel
        self.norm2, self.conv2 = gn(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class Attention(nn.Module):
    """Self-attention over the H*W positions (1.4's attention, one head): (B, C, H, W) -> same."""

    def __init__(self, c):
        super().__init__()
        self.norm, self.qkv, self.out = gn(c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).transpose(2, 3).unbind(1)
        h = torch.softmax(q @ k.transpose(1, 2) / C**0.5, dim=-1) @ v  # (B, HW, C)
        return x + self.out(h.transpose(1, 2).reshape(B, C, H, W))


# %% [markdown]
# The whole network. The list `hs` keeps every encoder output; the decoder pops them in reverse order, so
# each decoder block sees the encoder's features of its own resolution. The label embedding has one more
# row than there are classes: label 10 means "no label", which 6.5 uses for guidance.


# %%
class UNet(nn.Module):
    """(x_t, t, label) -> velocity; widths c, 2c, 4c at sides 28, 14, 7."""

    def __init__(self, c=32, n_classes=10):
        super().__init__()
        e = 4 * c
        self.time_mlp = nn.Sequential(nn.Linear(c, e), nn.SiLU(), nn.Linear(e, e))
        self.label_emb = nn.Embedding(n_classes + 1, e)
        self.inp = nn.Conv2d(1, c, 3, padding=1)

        def down(ch):
            return nn.Conv2d(ch, ch, 3, stride=2, padding=1)  # halves the side

        def up(ch):
            return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(ch, ch, 3, padding=1))

        self.down = nn.ModuleList(
            [Block(c, c, e), down(c), Block(c, 2 * c, e), down(2 * c), Block(2 * c, 4 * c, e)]
        )
        self.mid1, self.attn, self.mid2 = (
            Block(4 * c, 4 * c, e),
            Attention(4 * c),
            Block(4 * c, 4 * c, e),
        )
        self.up = nn.ModuleList(
            [
                Block(8 * c, 4 * c, e),
                Block(6 * c, 4 * c, e),
                up(4 * c),
                Block(6 * c, 2 * c, e),
                Block(3 * c, 2 * c, e),
                up(2 * c),
                Block(3 * c, c, e),
                Block(2 * c, c, e),
            ]
        )
        self.out = nn.Sequential(gn(c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, x, t, labels):
        c = self.inp.out_channels
        emb = self.time_mlp(diffusion.time_embedding(t, c)) + self.label_emb(labels)  # (B, 4c)
        hs = [self.inp(x)]  # (B, c, 28, 28)
        for layer in self.down:
            hs.append(layer(hs[-1], emb) if isinstance(layer, Block) else layer(hs[-1]))
        h = self.mid2(self.attn(self.mid1(hs[-1], emb)), emb)  # (B, 4c, 7, 7)
        for layer in self.up:
            h = (
                layer(torch.cat([h, hs.pop()], dim=1), emb)
                if isinstance(layer, Block)
                else layer(h)
            )
        return self.out(h)  # (B, 1, 28, 28)


# %% [markdown]
# The package's `diffusion.UNet` is the same network, written for any number of levels and blocks. The
# check: the page's network takes the package model's weights under the same names (a strict
# `load_state_dict`), has as many parameters, and gives the same outputs.

# %%
recipe = recipes.get_recipe("flow-fashion")
package_model = diffusion.Diffusion(recipe.model)
page_net = UNet(c=recipe.model.width, n_classes=recipe.model.n_classes)
page_net.load_state_dict(package_model.net.state_dict(), strict=True)

x = torch.randn(4, 1, 28, 28)
t = torch.tensor([0.05, 0.3, 0.7, 1.0])
labels = torch.tensor([0, 3, 7, 10])
with torch.no_grad():
    ours, theirs = page_net(x, t, labels), package_model(x, t, labels)
print(
    f"parameters: page {count_parameters(page_net):,}, package {count_parameters(package_model):,}"
)
torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)

# %% tags=["hide-input"]
assert count_parameters(page_net) == count_parameters(package_model)
glue("e64_params", count_parameters(package_model) / 1e6, display=False)
# a freshly built package model starts every residual block as the identity (its last conv
# is zero): perturb the weights, so that the comparison is not between two networks that
# ignore their input
with torch.no_grad():
    for p in package_model.parameters():
        p.add_(0.05 * torch.randn_like(p))
    page_net.load_state_dict(package_model.net.state_dict())
    ours, theirs = page_net(x, t, labels), package_model(x, t, labels)
torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
assert ours.abs().mean() > 0.1  # a network that depends on its input

# %% [markdown]
# The network has {glue:text}`e64_params:.2f` million parameters, about as many as the conditional GAN of
# 4.3. (A freshly built model starts each residual block as the identity, its last convolution zero; the
# folded cell repeats the check after perturbing every weight.)
#
# ## A new model kind, and its training step
#
# Part IV's trainer knows nothing of GANs or VAEs: each *kind* of model registers how to build it and
# which part samples (`ac.kinds`), and its one training step (`ac.train.register_trainer`). Adding
# diffusion touched exactly those two places and nothing else of the trainer: the module
# `aigc_course/diffusion.py` ends with `kinds.register(ModelKind("diffusion", ...))`, and
# `DiffusionTrainer.train_step` in `train.py` is the whole algorithm:
#
# ```python
# x, y = self.batch()                                   # images in [-1, 1], labels
# with self.autocast():                                 # bf16 where the hardware has it
#     loss = self.loss_fn(x, y, self.noise)             # = model.loss: one flow-matching regression
# self.step_model(loss.float())                         # Adam (+ gradient clipping)
# _update_ema(self.ema, self.model, decay)              # the average that will sample
# ```
#
# and `Diffusion.loss` is 6.3's conditional flow matching in eight lines: draw $t$ and $\varepsilon$, form
# $x_t$, drop the label with probability 0.1, regress the network on $\varepsilon - x_0$. Checkpoints,
# resuming, the NaN guard, progress bars, bf16 and DDP came for free.

# %%
spec = kinds.get("diffusion")
print(spec.name, "| parts:", spec.parts, "| samples with:", spec.sampler, "| EMA of:", spec.ema_of)
print("trainer:", train.trainer_for("diffusion").__name__)
print(recipe.full)

# %% [markdown]
# A short run with the course's `Trainer`, from scratch, to see the loop (the quick profile stops after a
# few steps; the full profile of this page's recipe is the run that made the shipped weights):

# %%
demo_steps = 8 if QUICK else 300
ac.set_seed(0)
trainer = train.trainer_for("diffusion")(
    recipe.build(),
    recipes.make_data(recipe, limit=2048 if QUICK else None),
    recipe.config().replace(steps=demo_steps, log_every=1),
    progress=False,
)
for step, logs in enumerate(trainer.steps(), start=1):  # one optimiser step per iteration
    if step % max(1, demo_steps // 8) == 0:
        print(f"step {step:3d}: loss {float(logs['loss']):.3f}")
print(f"{trainer.step} steps in {trainer.wall:.1f} s")

# %% [markdown]
# The shipped model was trained by `python -m aigc_course train flow-fashion --profile full`: its
# manifest entry records the run.

# %%
entry = checkpoint.manifest_entry("flow-fashion")
print(
    f"{entry['steps']:,} steps of batch {entry['train_config']['batch_size']} in "
    f"{entry['wall_time_s'] / 3600:.1f} h on {entry['device']}"
)
model = recipes.load_or_train(
    "flow-fashion"
)  # quick: the shipped EMA weights; full: trains them here
model.eval()

# %% tags=["hide-input"]
glue("e64_steps", entry["steps"], display=False)
glue("e64_hours", entry["wall_time_s"] / 3600, display=False)
glue("e64_device", entry["device"], display=False)
glue("e64_epochs", entry["steps"] * entry["train_config"]["batch_size"] / 60_000, display=False)

# %% [markdown]
# {glue:text}`e64_steps:,` steps of 128 images (about {glue:text}`e64_epochs:.0f` passes over the
# training set) took {glue:text}`e64_hours:.1f` hours on {glue:text}`e64_device`.
#
# ## From noise to clothes
#
# The sampler integrates the probability-flow ODE $\mathrm d x/\mathrm d t = v_\theta(x, t)$ from $t=1$
# (pure noise) down to $t=0$. Below, one row per step of a 10-step Euler run of one sample per class:
# the state $x_t$ (top of each pair) and the model's current guess of the clean image,
# $\hat x_0 = x_t - t\,v_\theta(x_t, t)$ (bottom). The guess is a blurry average early on, when many
# images are compatible with the noise, and sharpens as $t$ falls: the coarse layout is decided first,
# the details last.

# %%
n_show, steps_show = 10, 10
gen = torch.Generator().manual_seed(1)
with torch.no_grad():
    final, path = model.sample(n_show, gen, steps=steps_show, sampler="euler", return_path=True)
    times = diffusion.time_grid(steps_show)
    guesses = [
        model.predict(path[i].to(dev), times[i], torch.arange(n_show, device=dev))[0].cpu()
        for i in range(steps_show)
    ]
rows = [path[i] for i in (0, 3, 6, 9)]
guess_rows = [guesses[i] for i in (0, 3, 6, 9)]
fig, axes = plt.subplots(8, 1, figsize=(8, 7.5))
for r, (state, guess, i) in enumerate(zip(rows, guess_rows, (0, 3, 6, 9))):
    for ax, img, what in ((axes[2 * r], state, "x_t"), (axes[2 * r + 1], guess, "guess of x_0")):
        ax.imshow(plotting.make_grid(img.clamp(-1, 1), nrow=n_show, padding=1), cmap="gray")
        ax.set_axis_off()
        ax.set_title(f"t = {float(times[i]):.1f}: {what}", fontsize=8, loc="left")
fig.suptitle("Euler, 10 steps: the state and the model's guess of the clean image", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The same run as an animation, one frame per step:

# %%
frames = [
    plotting.make_grid(torch.cat([p.clamp(-1, 1), g.clamp(-1, 1)]), nrow=n_show)
    for p, g in zip(path[:-1], guesses)
] + [plotting.make_grid(torch.cat([final, final]), nrow=n_show)]
plotting.animate(frames, Path("_build/gifs/flow_fashion_sampling.gif"), fps=3, scale=3)

# %% [markdown]
# ## Four samplers
#
# The package has the four samplers of 6.3: **Euler** and **Heun** (休恩法, second order: a trial Euler
# step, then the average of the slopes at both ends; two network evaluations per step except the last) on
# the ODE, **DDIM** {cite}`song2021ddim` (on this straight path it *is* Euler, 6.3), and the stochastic
# **ancestral** sampler of DDPM, which draws fresh noise at each step. The network evaluations (NFE, 函数
# 评估次数) are the cost: each is one forward pass of the U-Net. Same starting noise, four samplers, four
# budgets:

# %%
budgets = [4, 8, 16, 50]
noise = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(5))
labels = torch.tensor([0, 5, 7, 8])
grids = {}
with torch.no_grad():
    for sampler in diffusion.SAMPLERS:
        for budget in budgets:
            steps = (budget + 1) // 2 if sampler == "heun" else budget  # Heun: 2 per step
            grids[sampler, budget] = model.sample(
                4,
                torch.Generator().manual_seed(9),
                noise=noise,
                labels=labels,
                steps=steps,
                sampler=sampler,
            )
fig, axes = plt.subplots(len(budgets), 4, figsize=(11, 6.5))
for j, sampler in enumerate(diffusion.SAMPLERS):
    for i, budget in enumerate(budgets):
        axes[i, j].imshow(
            plotting.make_grid(grids[sampler, budget], nrow=4, padding=1), cmap="gray"
        )
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
        axes[0, j].set_title(sampler)
        axes[i, 0].set_ylabel(f"~{budget} NFE")
fig.suptitle("The same noise through four samplers at four budgets", fontsize=10)
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
with (
    torch.no_grad()
):  # the ODE's solution for this noise, to high accuracy: Heun with 99 evaluations
    exact = model.sample(4, noise=noise, labels=labels, steps=50, sampler="heun")


def rms_to_exact(sampler, budget):
    return float((grids[sampler, budget] - exact).pow(2).mean().sqrt())


for budget in budgets:  # DDIM is Euler on this path, but for its clamp of x0_hat (see below)
    ddim_vs_euler = float((grids["ddim", budget] - grids["euler", budget]).pow(2).mean().sqrt())
    assert ddim_vs_euler < rms_to_exact("euler", budget)
assert rms_to_exact("euler", 50) < rms_to_exact("euler", 4)  # both converge to the ODE's solution
assert rms_to_exact("heun", 16) < rms_to_exact("heun", 4)
assert rms_to_exact("ancestral", 50) > 3 * rms_to_exact(
    "euler", 50
)  # another image, not a worse one
for key in [("euler", 4), ("euler", 50), ("heun", 4), ("heun", 8), ("ancestral", 50)]:
    glue(f"e64_rms_{key[0]}{key[1]}", rms_to_exact(*key), display=False)

# %% [markdown]
# The deterministic samplers integrate the same ODE from the same noise, so they converge to the same
# images: measured against a very accurate solution (Heun with 99 evaluations), the root-mean-square pixel
# error of Euler falls from {glue:text}`e64_rms_euler4:.3f` at 4 evaluations to
# {glue:text}`e64_rms_euler50:.3f` at 50 (pixels span $[-1, 1]$), Heun's from
# {glue:text}`e64_rms_heun4:.3f` at 4 to {glue:text}`e64_rms_heun8:.3f` at 8. The ancestral sampler is
# not solving that ODE: it draws fresh noise at every step, so it lands on *other* clothes
# ({glue:text}`e64_rms_ancestral50:.2f` away at 50 evaluations), one sample of the same distribution.
# Even 4 evaluations give recognisable clothes here. Whether they have the right *distribution* is what
# the next curve measures.
#
# ## Quality against network evaluations
#
# FID, precision and recall as in 4.5 (the course classifier's features), measured by
# `tools/evaluate_diffusion.py nfe` for each sampler and budget, with the unconditional model (guidance
# weight 0: the "no label" embedding, 6.5), against the 10,000 test images; the two GANs of Part IV on the
# same protocol for scale. Each point is the mean over noise seeds; the bars show their spread. The
# network ran in bf16 where the CPU computes it natively, as the trainer does; the integration state stays
# in fp32. Does the rounding change the samples? The first lines below compare both on the same noise.

# %%
check_noise = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(6))
with ac.runtime.autocast(dev, enabled=False):
    exact = model.sample(16, noise=check_noise, steps=8, sampler="heun", guidance=0.0)
with ac.runtime.autocast(dev):  # what the measurements used: bf16 where native, else fp32
    rounded = model.sample(16, noise=check_noise, steps=8, sampler="heun", guidance=0.0)
bf16_rms = (exact - rounded).pow(2).mean().sqrt().item()
print(f"network precision here: {ac.runtime.fast_path(dev)['amp']}; RMS change of the samples "
      f"{bf16_rms:.4f} (pixels in [-1, 1]: one grey level is {2 / 255:.4f})")
assert bf16_rms < 0.05  # a few grey levels: small against the differences between samples
nfe_file = json.loads((RESULTS / "diffusion-nfe-cpu.json").read_text())
rows = nfe_file["rows"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for sampler, marker in zip(diffusion.SAMPLERS, "osD^"):
    pts = [r for r in rows if r["sampler"] == sampler]
    for ax, key in zip(axes, ("fid", "recall")):
        ax.errorbar(
            [r["nfe"] for r in pts],
            [r[key]["mean"] for r in pts],
            [r[key]["std"] for r in pts],
            marker=marker,
            capsize=2,
            label=sampler,
        )
for name, style in (("dcgan-fashion", "--"), ("cgan-fashion", ":")):
    gan = next(r for r in rows if r["sampler"] == name)
    for ax, key in zip(axes, ("fid", "recall")):
        ax.axhline(gan[key]["mean"], color="k", ls=style, lw=1, label=f"{name} (1 evaluation)")
axes[0].axhline(nfe_file["fid_floor"], color="0.6", lw=1, label="real vs real")
axes[0].set(
    xscale="log",
    yscale="log",
    xlabel="network evaluations per sample",
    ylabel="FID (lower is better)",
    title=f"FID, {nfe_file['n_samples']} samples",
)
axes[1].set(
    xscale="log",
    xlabel="network evaluations per sample",
    ylabel="recall (higher is better)",
    title="Recall: the share of real images the samples cover",
)
axes[0].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% tags=["hide-input"]
glue("e64_bf16_rms", bf16_rms, display=False)
glue("e64_bf16_levels", bf16_rms / (2 / 255), display=False)


# %% tags=["hide-input"]
def best(sampler, max_nfe):
    pts = [r for r in rows if r["sampler"] == sampler and r["nfe"] <= max_nfe]
    return min(pts, key=lambda r: r["fid"]["mean"])


dcgan_row = next(r for r in rows if r["sampler"] == "dcgan-fashion")
heun50 = best("heun", 50)
euler_small = next(r for r in rows if r["sampler"] == "euler" and r["nfe"] == 8)
heun_small = next(r for r in rows if r["sampler"] == "heun" and r["nfe"] == 7)
anc_small = next(r for r in rows if r["sampler"] == "ancestral" and r["nfe"] == 8)
# DDIM as implemented clamps its x0 estimate to [-1, 1]; without the clamp it is Euler (6.3)
x_e = x_d = check_noise[:4].clone()
ts = diffusion.time_grid(4, model.cfg.t_min, t_max=model.cfg.t_max)
with torch.no_grad():
    for t, t_next in zip(ts[:-1], ts[1:]):
        x_e = x_e + (t_next - t) * model.velocity(x_e, t, None, 0.0)
        x0_hat, eps_hat = model.predict(x_d, t, None, 0.0)  # no clamp
        x_d = diffusion.ddim_step(x_d, x0_hat, eps_hat, t, t_next, model.cfg.schedule)
unclamped_gap = (x_e - x_d).abs().max().item()
assert unclamped_gap < 1e-4  # DDIM without the clamp = Euler, step for step
ddim_rows = {r["steps"]: r["fid"]["mean"] for r in rows if r["sampler"] == "ddim"}
euler_rows = {r["steps"]: r["fid"]["mean"] for r in rows if r["sampler"] == "euler"}
clamp_cost = {k: ddim_rows[k] - euler_rows[k] for k in ddim_rows}
glue("e64_unclamped_gap", unclamped_gap, display=False)
glue("e64_ddim4", ddim_rows[4], display=False)
glue("e64_euler4", euler_rows[4], display=False)
glue("e64_ddim8", ddim_rows[8], display=False)
glue("e64_clamp_verdict", "costs" if min(clamp_cost.values()) > 0 else "changes", display=False)
assert heun_small["fid"]["mean"] < euler_small["fid"]["mean"]  # the 2nd order pays off early
assert anc_small["fid"]["mean"] > euler_small["fid"]["mean"]  # fresh noise hurts at few steps
glue("e64_n_curve", nfe_file["n_samples"], display=False)
glue("e64_floor_curve", nfe_file["fid_floor"], display=False)
glue("e64_heun_nfe", heun50["nfe"], display=False)
glue("e64_heun_fid", heun50["fid"]["mean"], display=False)
glue("e64_heun_recall", heun50["recall"]["mean"], display=False)
glue("e64_dcgan_fid_curve", dcgan_row["fid"]["mean"], display=False)
glue("e64_dcgan_recall_curve", dcgan_row["recall"]["mean"], display=False)
glue("e64_euler8", euler_small["fid"]["mean"], display=False)
glue("e64_heun7", heun_small["fid"]["mean"], display=False)
glue("e64_anc8", anc_small["fid"]["mean"], display=False)

# %% [markdown]
# Read off the curves ({glue:text}`e64_n_curve` samples per point; the real-vs-real floor at that size is
# {glue:text}`e64_floor_curve:.2f`; bf16 moved the samples above by an RMS of
# {glue:text}`e64_bf16_rms:.4f`, about {glue:text}`e64_bf16_levels:.1f` grey levels, mostly in one image
# whose path it tipped: the same distribution, not the same images):
#
# * **DDIM is Euler, up to a clamp.** 6.3 proved that on the straight path a DDIM step is an Euler step;
#   the cell above confirms it step for step (largest difference {glue:text}`e64_unclamped_gap:.1e`).
#   But DDIM as it is implemented clamps its estimate $\hat x_0$ to the pixel range $[-1, 1]$ before
#   stepping, and that clamp {glue:text}`e64_clamp_verdict` a little at few steps: FID
#   {glue:text}`e64_ddim4:.2f` against Euler's {glue:text}`e64_euler4:.2f` at 4 steps,
#   {glue:text}`e64_ddim8:.2f` against {glue:text}`e64_euler8:.2f` at 8.
# * **Heun wins at small budgets**: with 7 evaluations FID {glue:text}`e64_heun7:.1f` against Euler's
#   {glue:text}`e64_euler8:.1f` with 8. The flow's paths are not straight (6.3), and a second-order step
#   follows their curvature.
# * **The ancestral sampler needs many steps**: {glue:text}`e64_anc8:.1f` at 8 evaluations. Its fresh
#   noise at every step is what DDPM's 1000-step chain was designed for.
# * The best Heun point within 50 evaluations, {glue:text}`e64_heun_nfe` evaluations, reaches FID
#   {glue:text}`e64_heun_fid:.2f` and recall {glue:text}`e64_heun_recall:.2f`, against the DCGAN's
#   {glue:text}`e64_dcgan_fid_curve:.2f` and {glue:text}`e64_dcgan_recall_curve:.2f` on the same
#   protocol, at 1 evaluation.
#
# ## Every model of the course on one scale
#
# The table below is read from the weights manifest: each shipped image model scored by
# `tools/evaluate_weights.py` on 10,000 samples against the 10,000 test images, in the feature space of
# the course classifier. Density and coverage {cite}`naeem2020reliable` are the k-NN measures of fidelity
# and diversity that outliers cannot inflate (4.5 discusses recall's weakness). The time per sample was
# measured by the same tool on this course's CPU (drawing 500 at once; the diffusion models' network in
# bf16, as above, the GANs and VAEs in fp32: one network evaluation each).

# %%
manifest = checkpoint.read_manifest()["weights"]
table = []
for name, e in manifest.items():
    m = e.get("metrics", {})
    if "fid" not in m or e["kind"] == "classifier":
        continue
    for prefix, what in (("", ""), ("uncond_", " (unconditional)")):
        if prefix + "fid" in m:
            table.append(
                {
                    "model": name + what,
                    "kind": e["kind"],
                    "NFE": m.get("nfe", 1),
                    **{
                        k: m.get(prefix + k)
                        for k in ("fid", "precision", "recall", "density", "coverage", "sample_ms")
                    },
                }
            )
table.sort(key=lambda r: r["fid"])
header = (
    f"{'model':32s} {'kind':9s} {'NFE':>4s} {'FID':>6s} {'prec':>5s} {'recall':>6s} "
    f"{'dens':>5s} {'cover':>5s} {'ms/sample':>9s}"
)
print(header)
for r in table:
    cells = [
        f"{r[k]:.3f}" if isinstance(r[k], float) else "   --"
        for k in ("precision", "recall", "density", "coverage")
    ]
    ms = f"{r['sample_ms']:9.2f}" if r["sample_ms"] is not None else "       --"
    print(
        f"{r['model']:32s} {r['kind']:9s} {r['NFE']:4d} {r['fid']:6.2f} "
        f"{cells[0]:>5s} {cells[1]:>6s} "
        f"{cells[2]:>5s} {cells[3]:>5s} {ms}"
    )

# %% tags=["hide-input"]
flow = manifest["flow-fashion"]["metrics"]
dcgan = manifest["dcgan-fashion"]["metrics"]
glue("e64_flow_fid", flow["uncond_fid"], display=False)
glue("e64_flow_recall", flow["uncond_recall"], display=False)
glue("e64_flow_cov", flow["uncond_coverage"], display=False)
glue("e64_cond_fid", flow["fid"], display=False)
glue("e64_dcgan_fid", dcgan["fid"], display=False)
glue("e64_dcgan_recall", dcgan["recall"], display=False)
glue("e64_dcgan_cov", dcgan["coverage"], display=False)
glue("e64_ms_ratio", flow["uncond_sample_ms"] / dcgan["sample_ms"], display=False)
fid_verdict = "below" if flow["uncond_fid"] <= dcgan["fid"] else "above"
glue("e64_fid_verdict", fid_verdict, display=False)

# %% [markdown]
# Unconditionally, the flow model scores FID {glue:text}`e64_flow_fid:.2f`
# ({glue:text}`e64_fid_verdict` the DCGAN's {glue:text}`e64_dcgan_fid:.2f`), recall
# {glue:text}`e64_flow_recall:.2f` against {glue:text}`e64_dcgan_recall:.2f` and coverage
# {glue:text}`e64_flow_cov:.2f` against {glue:text}`e64_dcgan_cov:.2f`; conditioned on the class it
# scores {glue:text}`e64_cond_fid:.2f`. Its price is the sampling time: each sample costs
# {glue:text}`e64_ms_ratio:.0f` times the DCGAN's. That is the trade the field has made since 2021
# {cite}`dhariwal2021diffusion`: diffusion models cover the data and train as a plain regression, and pay
# at sampling time, which is why so much work goes into samplers that need fewer steps
# {cite}`karras2022elucidating,salimans2022progressive`.
#
# ## Quality against training time
#
# `tools/evaluate_diffusion.py training` scored snapshots of the shipped run (unconditional, Heun with 25
# steps) as it trained:

# %%
train_file = json.loads((RESULTS / "diffusion-training-cpu.json").read_text())
curve = train_file["rows"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(
    [r["wall_time_s"] / 3600 for r in curve], [r["fid"] for r in curve], "o-", label="flow-fashion"
)
ax.axhline(
    next(r for r in rows if r["sampler"] == "dcgan-fashion")["fid"]["mean"],
    color="k",
    ls="--",
    lw=1,
    label="dcgan-fashion (shipped)",
)
ax.set(
    yscale="log",
    xlabel="hours of training (one CPU thread, shared machine)",
    ylabel="FID (lower is better)",
    title=f"FID of snapshots, {train_file['n_samples']} samples (one noise seed)",
)
ax.legend()
plt.show()

# %% tags=["hide-input"]
late = [r["fid"] for r in curve[len(curve) // 2 :]]
drop = late[0] - curve[-1]["fid"]
noise = next(r for r in rows if r["sampler"] == "heun" and r["steps"] == 25)["fid"]["std"]
glue("e64_train_first", curve[0]["fid"], display=False)
glue("e64_train_first_step", curve[0]["step"], display=False)
glue("e64_train_last", curve[-1]["fid"], display=False)
glue("e64_train_half_drop", drop, display=False)
glue("e64_train_noise", noise, display=False)
glue(
    "e64_train_verdict",
    (
        "more than that: the model had not converged when the CPU budget ended"
        if drop > 2 * noise
        else "no more than that: more steps at this learning rate would buy little"
    ),
    display=False,
)

# %% [markdown]
# After {glue:text}`e64_train_first_step:,` steps the FID is {glue:text}`e64_train_first:.1f`; at the
# end {glue:text}`e64_train_last:.2f`. Over the second half of the run it fell by
# {glue:text}`e64_train_half_drop:.2f`; changing only the sampling noise moves this FID by about
# {glue:text}`e64_train_noise:.2f` (the spread of the Heun point above), so the fall is
# {glue:text}`e64_train_verdict`.
#
# ## Against the original recipe, at equal time
#
# Is the course's recipe better than the one from the paper, or just trained longer?
# `python -m aigc_course bench --quality --parts diffusion` trains both for the same wall-clock time on the
# same machine, in alternating turns, over several seeds (printed below): our `flow-fashion` recipe made
# unconditional (flow matching, velocity target, logit-normal times, EMA, bf16 where the CPU has it, the
# data on the device) against a loop written like the DDPM paper's Algorithm 1 and the Hugging Face course's
# from-scratch notebook (the same U-Net predicting the noise, linear betas over 1000 steps, a
# `DataLoader`, fp32, no EMA), with the same learning rate and gradient clipping. Both are then sampled
# with about 50 network evaluations (ours: Heun, 25 steps; DDPM: 50 ancestral steps over its 1000), and
# DDPM also with its own 1000 steps (Algorithm 2).

# %%
bench = json.loads((RESULTS / "quality-diffusion-cpu.json").read_text())
print(
    f"{bench['device']}, {bench['threads']} thread(s), torch {bench['torch']}, "
    f"seeds {bench['seeds']}"
)
for r in bench["rows"]:
    o, ref = r["ours"], r["reference"]
    print(
        f"{r['budget']}\n   ours {o['mean']:6.2f} ± {o['std']:.2f}   "
        f"DDPM loop {ref['mean']:6.2f} ± "
        f"{ref['std']:.2f}   ({r['metric']})"
    )

# %% tags=["hide-input"]
last_equal = [r for r in bench["rows"] if "about 50" in r["budget"]][-1]
native = next(r for r in bench["rows"] if "1000 steps" in r["budget"])
glue("e64_bench_s", last_equal["seconds"] / 60, display=False)
glue("e64_bench_ours", last_equal["ours"]["mean"], display=False)
glue("e64_bench_ref", last_equal["reference"]["mean"], display=False)
glue("e64_bench_steps_ours", last_equal["steps"]["ours"]["mean"], display=False)
glue("e64_bench_steps_ref", last_equal["steps"]["reference"]["mean"], display=False)
glue("e64_bench_native_ours", native["ours"]["mean"], display=False)
glue("e64_bench_native_ref", native["reference"]["mean"], display=False)
better_each_seed = all(
    o < r for o, r in zip(last_equal["ours"]["values"], last_equal["reference"]["values"])
)
glue(
    "e64_bench_seeds",
    "on every seed" if better_each_seed else "on average, but not on every seed",
    display=False,
)

# %% [markdown]
# After {glue:text}`e64_bench_s:.0f` minutes each, with about 50 evaluations per sample, our recipe
# scores FID {glue:text}`e64_bench_ours:.1f` against the DDPM loop's {glue:text}`e64_bench_ref:.1f`
# ({glue:text}`e64_bench_seeds`); with its own 1000 steps the DDPM loop reaches
# {glue:text}`e64_bench_native_ref:.1f` (ours, still at 49 evaluations, {glue:text}`e64_bench_native_ours:.1f`
# on as many samples). Part of the gap is speed, not algorithm: in the same time our trainer made
# {glue:text}`e64_bench_steps_ours:.0f` steps and the plain loop {glue:text}`e64_bench_steps_ref:.0f`
# (bf16 and data kept on the device; 4.6 measures these separately).
#
# ## Exercises
#
# ### 6.4a Predict: how much does one Heun step cost?
#
# Before running anything: how many network evaluations does Heun's sampler with 12 steps make per
# sample, and how many with classifier-free guidance at weight 3 (6.5: the conditional and the
# unconditional output at each evaluation)? Write your two numbers.

# %%
my_heun_nfe = ...  # your number: Heun, 12 steps
my_guided_nfe = ...  # your number: the same with guidance weight 3
ch6_unet.q64a.check((my_heun_nfe, my_guided_nfe))

# %% [markdown]
# :::{dropdown} Solution
# Heun evaluates the velocity at the start of each step and again at its end, except on the last step,
# which ends at $t = 0$ and is taken with Euler: $2 \cdot 12 - 1 = 23$. Guidance with a weight other than
# 0 and 1 needs the conditional and the unconditional output at every evaluation: $46$
# (`diffusion.nfe("heun", 12, 3.0, conditional=True)`).
# :::

# %% tags=["hide-cell"]
assert ch6_unet.q64a.check((23, 46), quiet=True)

# %% [markdown]
# ### 6.4b Apply: a sampler for a wider U-Net
#
# Write `heun_sample(velocity, x, steps)` that integrates $\mathrm dx/\mathrm dt = $ `velocity(x, t)`
# from $t = 1$ down to $t = 0$ in `steps` equal steps with Heun's method (Euler on the last step), and
# returns the final `x`. `velocity` takes a batch `x` and a 0-dimensional tensor `t`. The checker runs
# your function on a velocity field whose exact solution it knows, and on the package's model.


# %%
def heun_sample(velocity, x, steps):
    ...  # your code


ch6_unet.q64b.check(heun_sample)

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def heun_sample(velocity, x, steps):
#     ts = torch.linspace(1.0, 0.0, steps + 1)
#     for t, s in zip(ts[:-1], ts[1:]):
#         v = velocity(x, t)
#         x_euler = x + (s - t) * v
#         x = x_euler if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_euler, s))
#     return x
# ```
# The step is negative ($s < t$): time runs from noise to data.
# :::


# %% tags=["hide-cell"]
def heun_reference(velocity, x, steps):
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = velocity(x, t)
        x_euler = x + (s - t) * v
        x = x_euler if s == 0 else x + (s - t) * 0.5 * (v + velocity(x_euler, s))
    return x


assert ch6_unet.q64b.check(heun_reference, quiet=True)

# %% [markdown]
# ### 6.4c Debug: a sampler from a blog post
#
# The function below is meant to sample the shipped model with Euler's method, but its images are grey
# noise. Find and fix the two mistakes (keep the signature); the checker compares your images with the
# package's Euler sampler on the same noise.


# %%
def euler_sample(model, noise, labels, steps):
    x = noise
    ts = torch.linspace(0.0, 1.0, steps + 1)  # times from 0 to 1
    for t, s in zip(ts[:-1], ts[1:]):
        v = model(x, t.expand(len(x)), labels)  # the network's velocity
        x = x + (t - s) * v
    return x.clamp(-1, 1)


ch6_unet.q64c.check(euler_sample)

# %% [markdown]
# :::{dropdown} Solution
# Sampling runs from noise ($t = 1$) to data ($t = 0$): `ts = torch.linspace(1.0, 0.0, steps + 1)`. With
# that, the step is `x + (s - t) * v`: $s - t < 0$, the velocity $\varepsilon - x_0$ points from data to
# noise, and we move against it. (The buggy version has both errors, and two sign errors do not cancel:
# it evaluates the network at the wrong times.)
# :::


# %% tags=["hide-cell"]
def euler_fixed(model, noise, labels, steps):
    x = noise
    ts = torch.linspace(1.0, 0.0, steps + 1)
    for t, s in zip(ts[:-1], ts[1:]):
        v = model(x, t.expand(len(x)), labels)
        x = x + (s - t) * v
    return x.clamp(-1, 1)


assert ch6_unet.q64c.check(euler_fixed, quiet=True)

# %% [markdown]
# ## Summary
#
# * A U-Net denoiser: an encoder–decoder with skip connections, residual blocks that take the time (and
#   label) embedding, attention at the lowest resolution.
# * Diffusion entered the course's trainer as a new model kind: its module, one registration and one
#   training step.
# * Samplers trade network evaluations for accuracy; on the straight path DDIM equals Euler, Heun is the
#   better deterministic sampler at small budgets, and the ancestral sampler needs many steps.
# * Against the GANs and VAEs of Part IV on one scale, the diffusion model covers the data better and
#   costs tens of network evaluations per sample.
