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
# # 4.6 Going fast and big (optional)

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("06_fast_and_big")

# %% [markdown]
# **Optional.** This page is performance engineering for readers who want their training runs faster or on
# several GPUs. Nothing later in the course builds on it (later pages only cite its measurements), so a
# first reading, or a course short of time, can skip it.
#
# The DCGAN of 4.2 {cite}`radford2016dcgan` trains in minutes on a laptop CPU and in seconds on a GPU, but
# only if the loop around the model does not waste the hardware. This page looks at the training loop the
# way a performance engineer does: first **measure** where the time goes (profiling, 性能剖析), then apply
# the standard remedies one at a time and check what each really changes:
#
# 1. mixed precision (混合精度) with bfloat16 autocast,
# 2. the `channels_last` memory format (内存格式),
# 3. `torch.compile` and operator fusion (算子融合),
# 4. data kept on the device instead of a per-sample `DataLoader`,
# 5. fused optimisers,
#
# and finally the benchmark of the course trainer against a reference loop, and training on several GPUs
# with data parallelism (数据并行, `torchrun` + DDP). Everything here is plain PyTorch {cite}`paszke2019pytorch`;
# the course's `Trainer` (which `train_gan` wraps) switches these features on from what the hardware has
# (`ac.runtime.fast_path`), prints its choice when it starts and records it in every checkpoint. None of
# them changes the algorithm; the last section measures whether they buy a better model per minute.

# %%
import copy
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display
from torch import nn
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

import aigc_course as ac
from aigc_course import bench, checkpoint, data, recipes
from aigc_course.gan import build_gan
from aigc_course.plotting import glue
from aigc_course.train import train_gan

ac.set_seed(0)
dev = ac.device()
print(ac.describe(dev))

# %% [markdown]
# ## Where does the time go? Profiling a training step
#
# We take the DCGAN of the `dcgan-fashion` recipe with its training settings for this profile (batch 128),
# a slice of Fashion-MNIST in a `TensorLoader`, and let the course trainer run a few steps under
# `torch.profiler`. Two steps first, untimed: the first calls of a model pay one-off costs (memory
# allocation, the choice of convolution algorithms by oneDNN or cuDNN) that say nothing about the steady
# state. The table lists the operators by their *self* time (time inside the operator itself, not in the
# operators it calls).

# %%
recipe = recipes.get_recipe("dcgan-fashion")
cfg = recipe.config()  # the TrainConfig of this profile
images = data.fashion_mnist("train").images[:4096]  # uint8 (4096, 1, 28, 28)
ac.set_seed(0)
# one set of initial weights for every experiment
G0, D0 = (m.to(dev) for m in build_gan(recipe.model))
cuda = dev.type == "cuda"
activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
sort_key = "self_device_time_total" if cuda else "self_cpu_time_total"

G, D = copy.deepcopy(G0), copy.deepcopy(D0)
loader = data.TensorLoader(images, batch_size=cfg.batch_size, device=dev)
warm = train_gan(G, D, loader, cfg.replace(steps=2), progress=False)  # warm-up
shown = ("amp", "channels_last", "compile")
print("the trainer's settings here:", {k: warm.settings[k] for k in shown})
with profile(activities=activities) as prof:
    start = time.perf_counter()
    train_gan(G, D, loader, cfg.replace(steps=3), progress=False)
    step_s = (time.perf_counter() - start) / 3
print(f"{step_s * 1e3:.0f} ms per step (under the profiler)")
print(prof.key_averages().table(sort_by=sort_key, row_limit=10, max_name_column_width=36))


# %%
def share_of(prof, device: bool, ops: tuple[str, ...]) -> float:
    """Share of the measured time (GPU time if ``device``) spent in ``ops`` and what they call."""
    own, inclusive = (("self_device_time_total", "device_time_total") if device
                      else ("self_cpu_time_total", "cpu_time_total"))
    events = prof.key_averages()
    return sum(getattr(e, inclusive) for e in events if e.key in ops) / sum(
        getattr(e, own) for e in events)


conv_share = share_of(prof, cuda, ("aten::convolution", "aten::convolution_backward"))
bn_share = share_of(prof, cuda, ("aten::native_batch_norm", "aten::native_batch_norm_backward",
                                 "aten::cudnn_batch_norm", "aten::cudnn_batch_norm_backward"))
print(f"convolutions: {conv_share:.0%}, batch norm: {bn_share:.0%} of the "
      f"{'GPU' if cuda else 'CPU'} time")
assert conv_share > 2 * bn_share  # what the text says: the convolutions are where the time goes

# %% tags=["hide-input"]
assert any(e.key == "aten::convolution_backward" for e in prof.key_averages())
glue("conv_share", conv_share, display=False)
glue("bn_share", bn_share, display=False)
glue("amdahl_bound", 1 / conv_share, display=False)

# %% [markdown]
# Here the convolutions of G and D, forward and backward, take {glue:text}`conv_share:.0%` of the time,
# and batch norm {glue:text}`bn_share:.0%`; the activations, the optimiser and the rest share what is left.
# By Amdahl's law, anything that does not make convolutions cheaper can speed the step up by at most
# 1 / (the convolutions' share) = {glue:text}`amdahl_bound:.2f` times.
# On a GPU the same step should take in the order of a millisecond (an estimate: this course has no GPU
# measurement of it yet), and then the picture changes completely: Python overheads, kernel launches and
# the data pipeline, invisible on the CPU, can dominate.
#
# How much work *is* a step? `FlopCounterMode` counts the floating-point operations of matrix products and
# convolutions as they run, per module. Dividing FLOPs by time gives the achieved FLOP/s; dividing that by
# the hardware's peak gives the **model FLOPs utilisation** (MFU), the standard measure of how well a
# training run uses a GPU.

# %%
with FlopCounterMode(display=False) as counter:
    train_gan(copy.deepcopy(G0), copy.deepcopy(D0), loader, cfg.replace(steps=1), progress=False)
counts = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
step_flops = counter.get_total_flops()
print(f"one training step: {step_flops / 1e9:.2f} GFLOP = "
      f"{step_flops / cfg.batch_size / 1e6:.0f} MFLOP per real image")
print(f"  in G: {counts['DCGenerator'] / 1e9:.2f} GFLOP, "
      f"in D: {counts['DCDiscriminator'] / 1e9:.2f} GFLOP")
print(f"achieved: {step_flops / step_s / 1e9:.1f} GFLOP/s on {bench.device_name(dev)}")
# every FLOP is inside G or D
assert counts["DCGenerator"] + counts["DCDiscriminator"] == step_flops

# %% [markdown]
# ## bf16 autocast
#
# Mixed-precision training {cite}`micikevicius2018mixed` runs the expensive operations (matrix products,
# convolutions) in a 16-bit format and keeps everything that needs range or accuracy in float32: the master
# copy of the weights, the optimiser state, reductions and losses. Tensor cores run bf16 matrix products
# many times faster than fp32 ones, and 16-bit activations halve the memory traffic.
#
# *bfloat16* keeps float32's 8 exponent bits and cuts the mantissa to 7 bits: the same range as float32
# (small gradients do not underflow to zero, so it needs none of the loss scaling that float16 relies on),
# with a relative rounding error of about
# $2^{-8} \approx 0.4\%$. `torch.autocast` switches the precision per operation: inside the context, a
# matrix product of float32 tensors returns bf16. `ac.autocast(dev, enabled)` is the course's switch (the
# trainer passes it `TrainConfig.amp`): by default (`None`) it uses what the hardware computes natively:
# bf16 on GPUs that have it (fp16 with loss scaling on older GPUs such as the T4), bf16 on CPUs with native
# bf16 instructions (AVX512-BF16, AMX), and fp32 on other CPUs, where emulated bf16 would be slower;
# `enabled=False` (`amp=False`) keeps fp32 everywhere.

# %%
a, b = torch.randn(256, 512), torch.randn(512, 128)
exact = a @ b
with torch.autocast("cpu", dtype=torch.bfloat16):
    c = a @ b
    pooled = c.sum(dim=0)
print(f"inside torch.autocast('cpu', bfloat16): a @ b is {c.dtype}, its sum {pooled.dtype}")
rel_err = ((c.float() - exact).norm() / exact.norm()).item()
print(f"relative error of the bf16 product: {rel_err:.2e}")
assert c.dtype == torch.bfloat16 and a.dtype == torch.float32  # inputs untouched, output in bf16
assert rel_err < 1e-2

native_bf16 = ac.runtime.cpu_bf16_supported()
with ac.autocast(torch.device("cpu")):  # what the default TrainConfig(amp=None) gives on this CPU
    default = (a @ b).dtype
with ac.autocast(torch.device("cpu"), enabled=False):
    assert (a @ b).dtype == torch.float32  # amp=False: always fp32
print(f"this CPU has native bf16: {native_bf16}; the default autocast gives {default}")
assert default == (torch.bfloat16 if native_bf16 else torch.float32)
if cuda:
    with ac.autocast(dev):
        on_gpu = a.to(dev) @ b.to(dev)
    print(f"on {torch.cuda.get_device_name(dev)}: ac.autocast gives {on_gpu.dtype}")
    assert on_gpu.dtype == ac.runtime.amp_dtype(dev)   # bf16 where the GPU has it, else fp16

# %% [markdown]
# Note the `sum`: on the CPU, autocast leaves it in bf16, so a loss computed from bf16 logits would be
# summed in bf16. That is why the trainer converts D's outputs with `.float()` before the loss. Whether bf16
# pays off on a CPU depends on the chip: with native bf16 instructions (AVX512-BF16, AMX) oneDNN's bf16
# convolutions are much faster; without them bf16 is emulated and slower, which is why the default asks
# the hardware first. It changes the numbers a run produces (rounding, not the algorithm), so the trainer
# prints its choice and stores it in the checkpoint, and `amp=False` reproduces fp32 runs exactly. We
# measure one D step (forward and backward on a real and a fake batch) both ways, alternating the two so
# that other programs on the machine slow both alike.

# %%
x_real = next(iter(loader))[0]  # (128, 1, 28, 28)
with torch.no_grad():
    x_fake = copy.deepcopy(G0)(torch.randn(cfg.batch_size, recipe.model.z_dim,
                                           device=dev))  # (128, 1, 28, 28)


def d_step(D: nn.Module, bf16: bool) -> float:
    """One discriminator forward + backward on a real and a fake batch; returns the loss."""
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        loss = ac.losses.gan_d_loss(D(x_real).float(), D(x_fake).float())
    loss.backward()
    return loss.item()


D_fp32, D_bf16 = copy.deepcopy(D0), copy.deepcopy(D0)
times = {False: [], True: []}
for _ in range(4):
    for bf16, model in ((False, D_fp32), (True, D_bf16)):
        start = time.perf_counter()
        loss = d_step(model, bf16)
        times[bf16].append(time.perf_counter() - start)
fp32_s, bf16_s = min(times[False][1:]), min(times[True][1:])
print(f"D step: fp32 {fp32_s * 1e3:.0f} ms, bf16 autocast {bf16_s * 1e3:.0f} ms "
      f"-> {fp32_s / bf16_s:.2f}x (this {'CPU has' if native_bf16 else 'CPU has no'} native bf16)")
print(f"loss fp32 {d_step(D_fp32, False):.4f} vs bf16 {d_step(D_bf16, True):.4f}")
# same model, same batch: close losses
assert abs(d_step(D_fp32, False) - d_step(D_bf16, True)) < 0.05

# %% [markdown]
# ## `channels_last`
#
# A batch of images is a 4-D tensor (B, C, H, W), but memory is one long line. The default layout (NCHW)
# stores each channel's H×W plane in one piece; `channels_last` (NHWC) stores all C channels of a pixel
# next to each other. The *shape* stays (B, C, H, W); only the **strides** (how many elements to jump
# for +1 along each dimension) change. cuDNN's tensor-core kernels and oneDNN's CPU kernels work in NHWC
# natively, so an NCHW tensor costs them a transposition before and after every convolution.

# %%
x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)  # (B, C, H, W)
x_cl = x.contiguous(memory_format=torch.channels_last)
print(f"shape {tuple(x.shape)}: NCHW strides {x.stride()}, channels_last strides {x_cl.stride()}")
B, C, H, W = x.shape
assert x.stride() == (C * H * W, H * W, W, 1)
assert x_cl.stride() == (H * W * C, 1, W * C, C)  # neighbours in memory: the channels of one pixel
assert torch.equal(x, x_cl) and x_cl.is_contiguous(memory_format=torch.channels_last)

conv = nn.Conv2d(3, 8, 3, padding=1).to(memory_format=torch.channels_last)
y = conv(x_cl)  # (2, 8, 4, 5)
assert y.is_contiguous(memory_format=torch.channels_last)  # the layout flows through the network
torch.testing.assert_close(y, nn.functional.conv2d(x, conv.weight.contiguous(), conv.bias,
                                                   padding=1))

# %% [markdown]
# The trainer converts G and D with `.to(memory_format=torch.channels_last)` and every real batch with
# `.contiguous(memory_format=torch.channels_last)`; the layers then keep the layout. It is on by default on
# CPUs and GPUs. Measured on one D step in fp32, alternating the two layouts:

# %%
D_nchw, D_nhwc = copy.deepcopy(D0), copy.deepcopy(D0).to(memory_format=torch.channels_last)
batches = {False: (x_real, x_fake), True: tuple(t.contiguous(memory_format=torch.channels_last)
                                                for t in (x_real, x_fake))}
layout_times = {False: [], True: []}
for _ in range(6):
    for cl, model in ((False, D_nchw), (True, D_nhwc)):
        real, fake = batches[cl]
        if cuda:
            torch.cuda.synchronize()                   # time the kernels, not their launches
        start = time.perf_counter()
        ac.losses.gan_d_loss(model(real), model(fake)).backward()
        if cuda:
            torch.cuda.synchronize()
        layout_times[cl].append(time.perf_counter() - start)
nchw_s, nhwc_s = (sorted(layout_times[cl][1:])[2] for cl in (False, True))  # medians of 5
print(f"D step, fp32: NCHW {nchw_s * 1e3:.0f} ms, channels_last {nhwc_s * 1e3:.0f} ms "
      f"-> {nchw_s / nhwc_s:.2f}x (medians of 5)")

# %% tags=["hide-input"]
glue("channels_last_gain", nchw_s / nhwc_s, display=False)

# %% [markdown]
# Here `channels_last` made the step {glue:text}`channels_last_gain:.2f` times as fast. On GPUs with
# tensor cores the gain is usually larger.
#
# ## `torch.compile`
#
# In eager mode every operation is a separate kernel that reads its input from memory and writes its output
# back: `conv → batch norm → leaky ReLU` moves the activations through memory three times. `torch.compile`
# captures the Python code as a graph (TorchDynamo, which reads the bytecode and inserts *guards* that
# trigger a recompilation if shapes or types change), then TorchInductor generates fused kernels for it
# (Triton on GPUs, C++/OpenMP on CPUs) that do the elementwise work in one pass. A custom *backend* lets us
# see the graph that Dynamo hands to the compiler: here D's forward.

# %%
graphs = []


def show_graph(gm: torch.fx.GraphModule, example_inputs):
    """A torch.compile backend that records the captured graph and runs it as it is."""
    graphs.append(gm)
    return gm.forward


torch._dynamo.reset()
torch.compile(copy.deepcopy(D0), backend=show_graph)(x_real[:8])
ops = [getattr(n.target, "__name__", str(n.target)) for n in graphs[0].graph.nodes
       if n.op == "call_function"]
print(f"{len(graphs)} graph, {len(ops)} operations: {' -> '.join(ops)}")
assert len(graphs) == 1 and "conv2d" in ops  # the whole forward in one graph, no graph break

# %% [markdown]
# Compilation costs time, once per graph (and again for every new shape or mode: D in training and in
# evaluation mode are two graphs). Even a three-operation function takes seconds on a CPU, since Inductor
# writes C++ and calls the C++ compiler:

# %%
def scaled_leaky(v):
    return nn.functional.leaky_relu(v * 2 + 1, 0.2).sum(dim=1)


v = torch.randn(256, 512)
if shutil.which("g++") or shutil.which("clang++"):
    compiled = torch.compile(scaled_leaky)
    start = time.perf_counter()
    out = compiled(v)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    compiled(v)
    print(f"first call (compiles): {first_s:.1f} s; "
          f"second call: {(time.perf_counter() - start) * 1e3:.2f} ms")
    torch.testing.assert_close(out, scaled_leaky(v))
else:
    print("no C++ compiler here: TorchInductor cannot compile for the CPU (install g++ to try it)")

# %% [markdown]
# For a whole DCGAN step the compile time is paid for each graph of G and D, and on a CPU the step is
# dominated by oneDNN's hand-tuned convolutions, which compiling does not replace. So `torch.compile` is
# opt-in (`TrainConfig(compile=True)`): worth it for long runs on a GPU, where fusing the many small
# elementwise kernels of a small model saves real time (the benchmark turns it on on CUDA and reports the
# compile time separately).
#
# ## Data on the device
#
# Section 4.1 compared a per-sample `DataLoader` with `TensorLoader`, which keeps the `uint8` images on the
# device and scales whole batches there. Inside a training step, the profiler tells how much that matters:
# we profile three steps of the **reference loop**, written as the PyTorch DCGAN example writes it
# (`bench.reference_steps`: a map-style `Dataset` that converts one image at a time, `DataLoader`,
# `.to(device)` per batch, fp32, `nn.BCELoss` on sigmoid outputs, five `.item()` calls per step).

# %%
ref = bench.reference_steps(copy.deepcopy(G0), copy.deepcopy(D0), images, cfg, dev)
bench.run_steps(ref, dev, n=2)  # warm-up
with profile(activities=activities) as ref_prof:
    ref_s = bench.run_steps(ref, dev, n=3)["timed_s"] / 3
events = ref_prof.key_averages()
loading = sum(e.cpu_time_total for e in events if e.key.startswith("enumerate(DataLoader)")) / 3
print(f"reference loop: {ref_s * 1e3:.0f} ms per step, "
      f"of which {loading * 1e-3:.1f} ms in the DataLoader "
      f"({loading * 1e-6 / ref_s:.1%})")

# %% tags=["hide-input"]
loading_share = loading * 1e-6 / ref_s
glue("loading_ms", loading * 1e-3, display=False)
glue("loading_share", loading_share, display=False)
# the profiler saw the DataLoader (a renamed event would give 0); what the text says: a small share
assert loading * 1e-3 > 0.1, "under 0.1 ms for 128 __getitem__ calls: DataLoader events missed"
assert loading_share < 0.25, "the text calls the DataLoader's share of a CPU step small"

# %% [markdown]
# {glue:text}`loading_ms:.1f` ms per batch for Python calling `__getitem__` 128 times and stacking the
# results: a small share of a CPU step ({glue:text}`loading_share:.0%`), but on a GPU, where the whole step
# should take in the order of a millisecond (the estimate above), it alone would cap the throughput. The
# same goes for the per-batch `.to(device)` copy and for every `.item()`, which makes the
# CPU wait until the GPU has finished all queued work. The trainer reads its losses back only every
# `log_every` steps.
#
# ## Fused optimisers
#
# Adam updates every parameter tensor with about ten elementwise operations. The simple implementation runs
# them tensor by tensor (for D: 10 tensors, so about a hundred small kernels per step); `foreach=True`
# applies each operation to the whole list of tensors at once, and `fused=True` does the complete update of
# all tensors in a single kernel. The results are the same: we check that three implementations, fed the
# same gradients, end at the same weights.

# %%
params = {impl: [p.detach().clone().requires_grad_() for p in D0.parameters()]
          for impl in ("for-loop", "foreach", "fused")}
options = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
opts = {impl: torch.optim.Adam(ps, lr=2e-4, betas=(0.5, 0.999), **options[impl])
        for impl, ps in params.items()}
grads = [torch.randn_like(p) for p in D0.parameters()]
for impl, opt in opts.items():
    for _ in range(3):
        for p, g in zip(params[impl], grads):
            p.grad = g.clone()
        start = time.perf_counter()
        opt.step()
    print(f"Adam {impl:>8}: last step {(time.perf_counter() - start) * 1e3:.2f} ms "
          f"for {len(grads)} tensors")
for impl in ("foreach", "fused"):
    for p, q in zip(params["for-loop"], params[impl]):
        torch.testing.assert_close(p, q)

# %% [markdown]
# The trainer uses `fused=True` on CUDA and `foreach=True` on the CPU.
#
# ## The benchmark: our trainer against the reference loop
#
# `python -m aigc_course bench` trains the same DCGAN from the same initial weights on the same device with
# three loops: the reference above; ours doing **the same work in fp32** (same precision, memory format
# and algorithm: the G step reuses the D step's fakes, as the example does; a test checks that the two
# give the same losses step for step from the same batches and noise, so this row measures the plumbing
# only); and ours on this hardware's **fast path** (`ac.runtime.fast_path`: bf16 or fp16 where the chip
# has it, `channels_last`, `torch.compile` on CUDA), shown only where it differs from the first. Each loop
# first runs the same number of untimed warm-up steps; then, in each of several rounds, every loop trains
# for the same number of seconds, in an order that rotates, so a busy machine slows all alike. A round
# gives each loop a rate and each of ours a speedup against the reference *of the same round*; the table
# gives medians and ranges. The files in `benchmarks/results/` hold everything: devices, the settings of
# each loop and why, per-round rates, FLOPs per image, MFU against the bf16 peak on known GPUs, a profile.

# %%
results_dir = Path(ac.__file__).resolve().parents[1] / "benchmarks" / "results"
results = [json.loads(p.read_text()) | {"file": p.name}
           for p in sorted(results_dir.glob("bench-*.json"))]

rows = ["| file | device | loop | img/s (median, range) | speedup (median, range) | MFU |",
        "|---|---|---|---|---|---|"]
for r in results:
    ref = r["reference"]["img_per_s"]
    rows.append(f"| {r['file']} | {r['device']} | reference | {ref['median']:.0f} "
                f"({ref['min']:.0f}–{ref['max']:.0f}) | 1 | – |")
    for row in r["rows"]:
        rate, sp = row["img_per_s"], row["speedup"]
        mfu_s = "–" if row["mfu"] is None else f"{row['mfu']:.1%}"
        rate_s = f"{rate['median']:.0f} ({rate['min']:.0f}–{rate['max']:.0f})"
        sp_s = f"**{sp['median']:.2f}x** ({sp['min']:.2f}–{sp['max']:.2f})"
        rows.append(f"| | | {row['name']} | {rate_s} | {sp_s} | {mfu_s} |")
        # the medians are those of the per-round values in the file
        assert abs(sp["median"] - sorted(sp["rounds"])[len(sp["rounds"]) // 2]) < 1e-9 or \
            len(sp["rounds"]) % 2 == 0
display(Markdown("\n".join(rows) if results
                 else "No results yet: run `python -m aigc_course bench --json ...`."))
for r in results:
    print(f"{r['file']} ({r['command']}; load average before/after "
          f"{r['load_average']['before'][0]}/{r['load_average']['after'][0]}):")
    for note in r["notes"]:
        print(textwrap.fill(note, 96, initial_indent="  - ", subsequent_indent="    "))

cpu = next(r for r in results if r["device_type"] == "cpu")
same, fastest = cpu["rows"][0], cpu["rows"][-1]

# %% tags=["hide-input"]
glue("same_speedup", same["speedup"]["median"], display=False)
glue("same_lo", same["speedup"]["min"], display=False)
glue("same_hi", same["speedup"]["max"], display=False)
glue("fast_speedup", fastest["speedup"]["median"], display=False)
glue("fast_name", fastest["name"], display=False)
glue("ref_conv", cpu["profile"]["reference"]["shares"]["convolutions"], display=False)

# %% [markdown]
# **Reading the CPU rows.** Doing the same work, the trainer is {glue:text}`same_speedup:.2f` times as
# fast as the reference (median over the rounds; {glue:text}`same_lo:.2f` to {glue:text}`same_hi:.2f`):
# the convolutions take {glue:text}`ref_conv:.0%` of the reference's wall time (its profile in the notes),
# and no loop trick shortens them; the per-sample `DataLoader`, the per-step host syncs and the discarded
# weight gradients of D in the G step are what is left to save. What moves the CPU number is making the
# convolutions themselves cheaper: the fast path ({glue:text}`fast_name`) reaches
# {glue:text}`fast_speedup:.2f` times the reference where the chip computes bf16 natively; on a CPU
# without bf16 the fast path is only `channels_last`, and the speedup is correspondingly smaller (the file
# records the CPU's `cpu_native_bf16`).
#
# **No GPU row.** No GPU was available when these results were made. On a machine with one, this command
# writes the row (a few minutes, compile time reported separately), and this page then shows it; there
# the target is 10 times the reference's images per second, since the reference is bound by its per-sample
# data pipeline, per-batch copies and five host syncs per step:
#
# ```bash
# python -m aigc_course bench --recipe dcgan-fashion --seconds 60 --json benchmarks/results/bench-h100.json
# ```
#
# ## Quality per minute
#
# Faster steps matter only if they buy a better model in the same time. `python -m aigc_course bench
# --quality` trains, on the same machine and in alternating turns, our recipes as learners run them
# against the recipes of the `pytorch/examples` repository as written there, for several seeds:
#
# * GAN: `dcgan-fashion` (the `Trainer`, batch 128, 32 feature maps, EMA generator) against the DCGAN
#   example's defaults on 28×28 images (batch 64, 64 feature maps, z of size 100, a `DataLoader`, fp32);
#   FID of 10 000 samples (4.5) after each has trained for the same time, and at the same number of steps;
# * VAE: our `vae-mlp-fashion` (two hidden layers of 512, z of size 20, data on the device) and the
#   convolutional `vae-fashion` of 4.4 against the example's MLP VAE (784-400-20, batch 128, Adam 1e-3):
#   the example's test loss (summed binary cross-entropy on grey levels plus KL, in nats per image; a score,
#   not a likelihood, as Part III explains) after each of the example's 10 epochs, with ours trained for
#   exactly as long.

# %%
quality_path = results_dir / "quality-cpu.json"
quality = json.loads(quality_path.read_text())
vae_rows = [r for r in quality["rows"] if r["model"] == "vae"]
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, style in (("reference", "k--"), ("vae-mlp-fashion", "C0-"), ("vae-fashion", "C1-")):
    wanted = "vae-mlp-fashion" if name == "reference" else name
    mine = [r for r in vae_rows if r["ours_recipe"] == wanted]
    side = "reference" if name == "reference" else "ours"
    t = [r["seconds"] for r in mine]
    mean = [r[side]["mean"] for r in mine]
    lo, hi = [r[side]["min"] for r in mine], [r[side]["max"] for r in mine]
    label = "pytorch/examples MLP VAE" if name == "reference" else name
    ax.plot(t, mean, style, marker="o", ms=3, label=label)
    ax.fill_between(t, lo, hi, color=style[:2] if name != "reference" else "0.7", alpha=0.2)
ax.set_xlabel("training time on this machine (s)")
ax.set_ylabel("test BCE + KL (nats/image)")
ax.set_ylim(top=min(270, max(r["reference"]["max"] for r in vae_rows) + 2))
ax.set_title(f"VAE test loss at equal wall-clock, {quality['seeds']} seeds (band: min-max)")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

table = ["| model | after | ours | reference | better |", "|---|---|---|---|---|"]
for r in quality["rows"]:
    if r["model"] == "vae" and r["budget"] not in ("reference epoch 1", "reference epoch 5",
                                                    "reference epoch 10"):
        continue
    if r["seconds"] is not None:
        when = f"{r['seconds']:.0f} s"
    else:
        when = f"{r['steps']['mean']:.0f} steps"
    o, f = r["ours"], r["reference"]
    table.append(f"| {r['ours_recipe']} ({r['metric'].split(',')[0]}) | {when} | "
                 f"{o['mean']:.2f} ± {o['std']:.2f} | {f['mean']:.2f} ± {f['std']:.2f} | "
                 f"{'ours' if o['mean'] < f['mean'] else 'reference'} |")
display(Markdown("\n".join(table)))

mlp_rows = [r for r in vae_rows if r["ours_recipe"] == "vae-mlp-fashion"]
assert all(r["ours"]["mean"] < r["reference"]["mean"] for r in mlp_rows), "vae-mlp-fashion lost"
conv_wins = sum(r["ours"]["mean"] < r["reference"]["mean"] for r in vae_rows
                if r["ours_recipe"] == "vae-fashion")
shipped_vaes = {name: checkpoint.read_manifest()["weights"][name]["metrics"]["bce_kl_elbo"]
                for name in ("vae-fashion", "vae-mlp-fashion")}
gan = {r["budget"]: r for r in quality["rows"] if r["model"] == "gan"}
print({k: (round(v["ours"]["mean"], 2), round(v["reference"]["mean"], 2)) for k, v in gan.items()})

# %% tags=["hide-input"]
glue("vae_mlp_margin", min(r["reference"]["mean"] - r["ours"]["mean"] for r in mlp_rows),
     display=False)
glue("vae_t10", mlp_rows[-1]["seconds"], display=False)
glue("conv_wins", conv_wins, display=False)
glue("shipped_conv_elbo", shipped_vaes["vae-fashion"], display=False)
glue("shipped_mlp_elbo", shipped_vaes["vae-mlp-fashion"], display=False)
for key, row in gan.items():
    glue(f"gan_ours_{key.split()[0]}", row["ours"]["mean"], display=False)
    glue(f"gan_ref_{key.split()[0]}", row["reference"]["mean"], display=False)

# %% [markdown]
# **What the measurements say.** The MLP recipe beats the example at every one of the example's epochs,
# by at least {glue:text}`vae_mlp_margin:.2f` nats per image, up to the {glue:text}`vae_t10:.0f` s the
# example needs for 10 epochs. What made the difference: the example's own kind of model, but wider (two
# hidden layers of 512) and fed from the device (no per-sample `DataLoader`), in bf16 where the CPU has it.
# The convolutional VAE of 4.4 beats the example at only {glue:text}`conv_wins` of those 10 points: each of
# its steps costs several times an MLP step on a CPU, and in under a minute that outweighs its inductive
# bias. Whether it overtakes the MLP with more time or on a GPU is not measured here; the fully trained
# shipped models score {glue:text}`shipped_conv_elbo:.1f` (convolutional `vae-fashion`) and
# {glue:text}`shipped_mlp_elbo:.1f` (`vae-mlp-fashion`) nats on this loss (the manifest, 4.5).
#
# For the GAN, the FIDs after the same two minutes are {glue:text}`gan_ours_120:.1f` (ours) and
# {glue:text}`gan_ref_120:.1f` (the example), after ten minutes {glue:text}`gan_ours_600:.1f` and
# {glue:text}`gan_ref_600:.1f`, and at the same number of steps {glue:text}`gan_ours_equal:.1f` and
# {glue:text}`gan_ref_equal:.1f` (the table gives the spread over seeds; the real-vs-real floor of FID at
# 10 000 images is near zero, 4.5).
#
# The same benchmark has a diffusion part (`--parts diffusion`, section 6.4 explains the setting): the
# course's flow-matching recipe against a loop written like the original DDPM recipe, trained for equal
# time in alternating turns and sampled with an equal budget of network evaluations.

# %%
diffusion_bench = json.loads((results_dir / "quality-diffusion-cpu.json").read_text())
table = ["| after | sampling | ours | DDPM loop | better |", "|---|---|---|---|---|"]
for r in diffusion_bench["rows"]:
    o, f = r["ours"], r["reference"]
    table.append(f"| {r['seconds']:.0f} s | {r['budget'].split(', ', 1)[-1].split('; ', 1)[-1]} | "
                 f"{o['mean']:.2f} ± {o['std']:.2f} | {f['mean']:.2f} ± {f['std']:.2f} | "
                 f"{'ours' if o['mean'] < f['mean'] else 'reference'} |")
display(Markdown("\n".join(table)))
print(f"FID (lower is better), {diffusion_bench['seeds']} seeds, {diffusion_bench['device']}, "
      f"{diffusion_bench['threads']} thread(s); real-vs-real floors by sample count: "
      f"{diffusion_bench['diffusion_fid_real_floor']}")

# %% [markdown]
# ## Going big: several GPUs with `torchrun` and DDP
#
# Distributed data parallelism (DDP) {cite}`li2020pytorchddp` runs one process per GPU, each with a full
# copy of the models. Every process trains on a different slice of each batch; during the backward pass
# DDP averages the gradients across processes (an *all-reduce* in buckets, overlapped with the rest of
# the backward computation), so after `optimizer.step()` all copies hold the same weights. With N GPUs
# and `batch_size` per process, a step sees N × `batch_size` images.
#
# The course trainer needs no code change for this. Started by `torchrun`, which sets `RANK`,
# `LOCAL_RANK` and `WORLD_SIZE` for each process, `train_gan`
#
# * starts the process group (NCCL on GPUs, Gloo on CPUs) and puts each process on its GPU (`LOCAL_RANK`);
# * gives each rank a disjoint shard of every epoch (`TensorLoader(rank=, world_size=)`), and each rank
#   its own noise stream;
# * wraps the G and D that receive gradients in `DistributedDataParallel`, which copies rank 0's weights
#   to every rank at the start (the frozen D in the G step and the no-grad G that makes D's fakes bypass
#   it: nothing there needs averaging);
# * keeps batch-norm statistics per rank during training (`broadcast_buffers=False`: D runs several
#   forwards per step) and copies rank 0's at the end;
# * shows progress, runs callbacks and writes checkpoints on rank 0 only, and stops every rank together
#   if any rank's loss becomes NaN.
#
# On a machine with 8 GPUs:
#
# ```bash
# torchrun --nproc_per_node=8 -m aigc_course train dcgan-fashion --profile full
# ```
#
# The same mechanics run on a CPU with the Gloo backend, which lets us check the central promise, identical
# weights on every rank, right here: two processes, different initial weights on purpose, five steps.

# %%
worker = '''
import hashlib, os, sys, torch
from aigc_course import data, runtime
from aigc_course.config import GANConfig, TrainConfig
from aigc_course.gan import build_gan
from aigc_course.train import train_gan
torch.set_num_threads(1)
rank = int(os.environ["RANK"])
runtime.set_seed(rank)  # different initial weights per rank: DDP must start all from rank 0's
G, D = build_gan(GANConfig(kind="dcgan", z_dim=16, width=8))
images = (torch.rand(512, 1, 28, 28, generator=torch.Generator().manual_seed(0))
          * 255).to(torch.uint8)
loader = data.TensorLoader(images, batch_size=32, device="cpu")  # the trainer shards it by rank
result = train_gan(G, D, loader, TrainConfig(steps=5, batch_size=32), progress=False)
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes()
                                 for p in G.parameters())).hexdigest()[:16]
report = (f"rank {rank} of {os.environ['WORLD_SIZE']}: {result.steps} steps, "
          f"G weights sha256 {digest}")
# one file per rank: no interleaved prints
open(os.path.join(sys.argv[1], f"rank{rank}.txt"), "w").write(report)
'''
with tempfile.TemporaryDirectory() as tmp:
    script = Path(tmp) / "ddp_demo.py"
    script.write_text(worker)
    start = time.perf_counter()
    # torchrun's rendezvous can time out on a heavily loaded machine: one retry
    for attempt in range(2):
        run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                              "--nproc_per_node=2", str(script), tmp],
                             capture_output=True, text=True, timeout=120)
        if run.returncode == 0:
            break
    lines = sorted(f.read_text() for f in Path(tmp).glob("rank*.txt"))
print("\n".join(lines), f"\n({time.perf_counter() - start:.1f} s including start-up)")
assert run.returncode == 0, run.stderr[-2000:]
# both ranks hold the same weights
assert len(lines) == 2 and lines[0].split()[-1] == lines[1].split()[-1]

# %% [markdown]
# ## Exercises
#
# ### 4.6a Warm-up: model FLOPs utilisation
#
# Write `mfu(flops_per_image, images_per_s, peak_flops)`, the
# fraction of the device's peak FLOP/s that training really uses (the benchmark reports it on GPUs).

# %%
from aigc_course.exercises import ch4


def mfu(flops_per_image, images_per_s, peak_flops):
    ...  # your code


ch4.q46a.check(mfu);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def mfu(flops_per_image, images_per_s, peak_flops):
#     return flops_per_image * images_per_s / peak_flops
# ```
# Achieved FLOP/s is work per image times images per second; MFU divides it by the peak. A well-fed DCGAN
# this small stays far below the peak of a large GPU: its layers are too small to fill the tensor cores.
# :::

# %% tags=["hide-cell"]
def reference_mfu(flops_per_image, images_per_s, peak_flops):
    return flops_per_image * images_per_s / peak_flops


assert ch4.q46a.check(reference_mfu, quiet=True)

# %% [markdown]
# ### 4.6b Warm-up: sharding an epoch
#
# Under DDP each process sees only its share of every epoch. Write
# `batches_per_rank(n_samples, batch_size, world_size)`: the number of full batches each process trains on
# per epoch (incomplete batches are dropped), as `data.TensorLoader(..., rank=r, world_size=W)` does.

# %%
def batches_per_rank(n_samples, batch_size, world_size):
    ...  # your code


ch4.q46b.check(batches_per_rank);

# %% [markdown]
# :::{dropdown} Solution
# ```python
# def batches_per_rank(n_samples, batch_size, world_size):
#     return (n_samples // world_size) // batch_size
# ```
# With 60 000 images, batch 128 and 8 GPUs each process runs 58 steps per epoch instead of 468: the
# *global* batch is 8 × 128 = 1024, which is why learning rates are often retuned when scaling out.
# :::

# %% tags=["hide-cell"]
def reference_batches_per_rank(n_samples, batch_size, world_size):
    return (n_samples // world_size) // batch_size


assert ch4.q46b.check(reference_batches_per_rank, quiet=True)
assert reference_batches_per_rank(60_000, 128, 8) == 58
assert reference_batches_per_rank(60_000, 128, 1) == 468

# %% [markdown]
# ### 4.6c Predict: the images an epoch leaves out
#
# Under DDP nothing is padded: the data set is cut into `world_size` equal shares (the remainder is left
# out), and each rank then drops its incomplete last batch. With Fashion-MNIST's 60 000 images,
# `batch_size=128` per process and **seven** processes, how many distinct images does one epoch leave out,
# summed over all ranks? Write down a number; the checker builds the seven ranks' `TensorLoader`s and counts
# the images they yield.

# %%
answer = ...  # your prediction

ch4.q46c.check(answer);

# %% [markdown]
# :::{dropdown} Solution
# The shares hold 60 000 // 7 = 8 571 images each (3 left out). Each rank then uses 8 571 // 128 = 66
# full batches, 8 448 images, and drops 123. In all 3 + 7 × 123 = 864 images, 1.4% of the epoch, a
# different set each epoch:
# ```python
# per_rank = 60_000 // 7
# answer = 60_000 - 7 * (per_rank // 128) * 128
# ```
# On one process the loss would be 60 000 mod 128 = 96 images; with more ranks each rank drops its own
# partial batch, so the loss grows with the number of processes (up to `world_size` × (batch − 1)).
# :::

# %% tags=["hide-cell"]
seen, tiny = set(), torch.zeros(60_000, 1, 1, 1, dtype=torch.uint8)
for rank in range(7):
    loader = data.TensorLoader(tiny, torch.arange(60_000), batch_size=128, rank=rank, world_size=7,
                               device="cpu", scale=False)
    seen |= {int(i) for _, ids in loader for i in ids}
left_out_solution = 60_000 - len(seen)
assert ch4.q46c.check(left_out_solution, quiet=True) and left_out_solution == 864

# %% [markdown]
# ### 4.6d Debug: every rank its own share
#
# Each DDP process calls a function like the one below at the start of every epoch to get the indices it
# trains on. The shares of the ranks must be disjoint (no image twice per epoch) and of equal length
# `n // world_size` (the ranks must take the same number of steps), the same whatever each process's global
# random state is (the demo above seeds every rank differently), and reshuffled every epoch. This version
# breaks two of these promises. Repair it.

# %%
def epoch_shard(n, rank, world_size, epoch, seed=0):
    perm = torch.randperm(n)                                 # this epoch's order
    per_rank = -(-n // world_size)                           # ceil(n / world_size)
    return perm[rank * per_rank:(rank + 1) * per_rank]


ch4.q46d.check(epoch_shard);

# %% [markdown]
# :::{dropdown} Solution
# Every process draws its own permutation from its own global random state, so the shares of two ranks are
# slices of *different* permutations: they overlap and miss images. All ranks must cut the same
# permutation, drawn from a generator seeded by (seed, epoch). And rounding up gives the last rank fewer
# images (for n = 10 and 4 ranks: 3, 3, 3, 1): it runs out of batches first, and the other ranks wait
# forever in DDP's gradient all-reduce. Round down and drop the remainder, as `TensorLoader` does:
# ```python
# def epoch_shard(n, rank, world_size, epoch, seed=0):
#     generator = torch.Generator().manual_seed(seed * 100_003 + epoch)    # the same on every rank
#     perm = torch.randperm(n, generator=generator)                        # this epoch's order
#     per_rank = n // world_size                                           # equal shares; the rest is dropped
#     return perm[rank * per_rank:(rank + 1) * per_rank]
# ```
# `perm[rank::world_size][:per_rank]`, every world_size-th index, works as well.
# :::

# %% tags=["hide-cell"]
def reference_epoch_shard(n, rank, world_size, epoch, seed=0):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return perm[rank::world_size][:n // world_size]


assert ch4.q46d.check(reference_epoch_shard, quiet=True)

# %% [markdown]
# ## Try it
#
# 1. Profile the reference loop and the trainer with `sort_by="cpu_time_total"` instead of self time:
#    which Python-level functions (`Optimizer.step`, `enumerate(DataLoader)`) stand out?
# 2. Repeat the bf16 measurement with `G0` included in the timing (generator forward and backward). Is
#    the gain larger or smaller than for D alone, and why might the transposed convolutions differ?
# 3. If you have a GPU: run the benchmark command above, then once more with `--seconds 10`. How much do the
#    images per second change, and what does the compile time do to a short run?
