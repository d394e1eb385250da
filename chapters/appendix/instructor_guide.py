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
# # Instructor guide

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("instructor_guide")

# %% [markdown]
# This page is for teachers. It gives the learning goals of each Part with the exercises that practise them,
# 6- and 12-week schedules, the map of exercises with automatic checks (generated from the package, so it
# is always current), how long each notebook takes on a small machine (read from the measured results
# file), how to run a class on laptops, a JupyterHub or a GPU machine, a student edition without the
# solutions, and autograded assignments with nbgrader.
#
# ## Learning goals, and the exercises that practise them
#
# | Part | after it, a learner can | assign |
# |---|---|---|
# | I Concepts | tell generative from discriminative models and read a timeline of real milestones; work with densities, KL and JS divergences and Monte Carlo estimates; reason about convolutions, normalisation and gradients; write scaled dot-product attention and sample from a character model | q11a–d (mixtures; predict empty components; when the discriminative model wins), q12a–e (KL, JS, Monte Carlo; full-covariance KL, change of variables), q13a–e (conv sizes, batch norm, sigmoid gradient; a receptive field to predict, a 32×32 generator), q14a–e (attention, temperature, causal mask; self-attention weight, a broken multi-head split) |
# | II GAN maths | derive the minimax value and the optimal discriminator; explain saturation and use the non-saturating loss; write a discriminator step; measure mode collapse; compute and bound a Wasserstein distance and a gradient penalty | q21a–e, q22a–e, q23a–d, q24a–d |
# | III VAE maths | derive the ELBO and its gap; reparameterise and compare gradient estimators; write the Gaussian KL; say which decoders give real likelihoods; compute an IWAE bound stably; use free bits | q31a–d, q32a–d, q33a–d, q34a–d |
# | IV Hands-on | size transposed convolutions and count parameters; read a critic's estimate; train and diagnose a β-VAE (active units); compute FID, its bias and k-NN precision; reason about throughput and data-parallel batches | q41a–b, q42a–d, q43a–c, q44a–d, q45a–f, q46a–d |
# | V Applications | interpolate on the prior's shell (slerp); measure restoration (PSNR); score anomalies (ROC AUC, sensitivity); report augmentation with standard errors of paired differences; measure compression in bits; detect watermarks and generated images, with base rates | q51a–d, q52a–d, q53a–d, q54a–d, q55a–d, q56a–e |
# | VI Diffusion and flow matching | noise data with the exact forward marginal; turn a denoiser into a score (Tweedie); write DDPM's ELBO term by term and convert between ε, x0, v and velocity; derive a marginal velocity and check the continuity equation; write and debug ODE samplers and count their network evaluations; apply and reason about classifier-free guidance; model and decode a VAE's latent codes | q61a–c, q62a–c, q63a–c, q64a–c, q65a–c, q66a–b |
#
# The same exercises, one assignment per Part, are the autograded homework (see "Grading" below).
#
# ## Schedules
#
# | format | sessions | what to cover |
# |---|---|---|
# | one-day workshop | 4 × 90 min | 2.1 minimax game · 2.2 gradients and Algorithm 1 · 4.1–4.2 data and DCGAN · 4.5 evaluation |
# | 6 weeks | 2 × 90 min a week | week 1: Part I (1.1–1.4) · week 2: 2.1–2.4 · week 3: 3.1–3.4 · week 4: 4.1–4.3 · week 5: 4.4–4.5 (4.6 optional) · week 6: 5.1–5.6 (two applications in class, the rest as reading); assignments part1 … part5 due at the end of weeks 1, 2, 3, 5 and 6 |
# | 6 weeks, diffusion track | 2 × 90 min a week | for a class that knows GANs and VAEs: week 1: 1.2, 3.1, 3.3 (probability, ELBO, Gaussian KL) · week 2: 4.1, 4.5 (data, metrics) · week 3: 6.1–6.2 · week 4: 6.3 · week 5: 6.4–6.5 · week 6: 6.6 and projects; assignment part6 due at the end of week 6 |
# | 12 weeks | 1 × 90 min + lab a week | 1: 1.1–1.2 · 2: 1.3–1.4 · 3: 2.1–2.2 · 4: 2.3–2.4 · 5: 3.1–3.2 · 6: 3.3–3.4 · 7: 4.1–4.2 · 8: 4.3–4.4 · 9: 4.5 (4.6 optional) · 10: 5.1–5.6 (two applications in class, the rest as reading) · 11: 6.1–6.3 · 12: 6.4–6.6; projects (train a recipe in the full profile on a GPU, or an application of Part V on new data); one assignment after each Part |
#
# 4.6 (going fast and big: profiling, mixed precision, `torch.compile`, DDP) is optional in every schedule:
# nothing later builds on it. Assign it as reading, or as a lab where the class has GPUs.
#
# Each section is written to be taught in one session: 15 minutes of derivation on the board, the rest
# with the notebook. The check cells are natural pause points: ask the class to predict whether the
# assertion will hold before running it.
#
# ## Exercises and their automatic checks
#
# Every section ends with exercises of named kinds: *predict* (write a number down before running; the
# checker shows it beside the measured value), *apply* (the section's idea in a new setting),
# *investigate* (a small experiment whose conclusion the checker verifies), *debug* (a broken snippet,
# often one of the source articles' errors, to repair), and *warm-ups* that practise what the page shows.
# The first four ask for something that is not on the page (a test checks that no reference solution
# reappears in the page's own code). A learner edits a stub and calls `check`; the checker runs the answer
# on fresh random inputs, compares it with the reference, and when it is wrong says *which* common mistake
# it matches (many of them are printed in the source articles; see the errata). `hint()` gives
# progressively stronger hints; the solution is in a collapsed dropdown on the page and in `solution()`.

# %%
import importlib
import json
import pathlib
import pkgutil

from IPython.display import Markdown, display

import aigc_course.exercises as exercises
from aigc_course.exercises import Question

import re

# the kind of each exercise, from its title on the chapter's page ("### 1.2d Predict: ...")
KIND = re.compile(r"(?:\*\*Exercise\s+|^(?:# )?#{2,4}\s+(?:Exercise\s+)?)"
                  r"(\d\.\d[a-z]?)\b[^\n]{0,24}?"
                  r"\b(predict|apply|investigate|debug|warm-up)\b", re.I | re.M)
chapters = pathlib.Path("..")
kinds = {m.group(1): m.group(2).lower() for page in sorted(chapters.glob("0[1-6]_*/*.py"))
         for m in KIND.finditer(page.read_text(encoding="utf-8"))}
rows, counts = [], {}
for info in sorted(pkgutil.iter_modules(exercises.__path__), key=lambda m: m.name):
    module = importlib.import_module(f"aigc_course.exercises.{info.name}")
    for name, q in sorted(vars(module).items()):
        if isinstance(q, Question):
            section = f"{name[1]}.{name[2]}" if name[1:3].isdigit() else "?"
            kind = kinds.get(f"{section}{name[3:]}", "—")
            counts[kind] = counts.get(kind, 0) + 1
            prompt = " ".join(q.prompt.split())
            rows.append(f"| {section} | `{info.name}.{name}` | {kind} | "
                        f"{prompt[:110]}{'…' if len(prompt) > 110 else ''} | {len(q.hints)} |")
table = "| section | question | kind | task | hints |\n|---|---|---|---|---|\n" + "\n".join(rows)
display(Markdown(table))
assert rows, "the exercises package defines no questions"
print(f"{len(rows)} exercises with automatic checks; by kind: "
      + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))

# %% [markdown]
# Checkers are tested like the rest of the package (`tests/test_exercises_*.py`): each must accept the
# reference solution and reject every listed wrong variant with its specific message. To write a new one,
# follow `aigc_course/exercises/__init__.py`: a `Question(name, prompt, checker, hints, solution_code)` whose
# checker raises `CheckFailed` with an explanation.
#
# ## How long each notebook takes
#
# Measured with `python benchmarks/notebook_times.py`, which runs every notebook under nbval in the quick
# profile, exactly as the test command does, and writes `benchmarks/results/notebooks-cpu.json`. The
# target is the whole suite in at most 12 minutes on 2 CPU cores.

# %%
results = pathlib.Path("../../benchmarks/results/notebooks-cpu.json")
if results.exists():
    timing = json.loads(results.read_text())
    parts = {"01_concepts": "I", "02_gan_math": "II", "03_vae_math": "III", "04_hands_on": "IV",
             "05_applications": "V", "06_diffusion": "VI", "appendix": "appendix"}
    per_part: dict[str, float] = {}
    lines = []
    for nb, t in timing["notebooks"].items():
        part = parts.get(pathlib.Path(nb).parent.name, "?")
        per_part[part] = per_part.get(part, 0.0) + t
        lines.append(f"| {part} | `{nb}` | {t:.0f} s |")
    display(Markdown(
        f"Measured on {timing['date']}, {timing['machine']}:\n\n"
        "| Part | notebook | time (quick profile) |\n|---|---|---|\n"
        + "\n".join(lines)
        + "".join(f"\n| **Part {k}** | | **{v / 60:.1f} min** |" for k, v in per_part.items())
        + f"\n| **total** | | **{timing['total_s'] / 60:.1f} min** "
          f"(target ≤ {timing['target_total_s'] / 60:.0f} min) |"))
    here = {str(q.relative_to("../..")) for q in pathlib.Path("../../chapters").glob("*/*.ipynb")}
    missing = sorted(here - set(timing["notebooks"]))
    if missing:
        print(f"not measured yet: {missing}")
else:
    print("no timing results yet: run `python benchmarks/notebook_times.py`")

# %% [markdown]
# ## Running a class
#
# **1. Students' laptops (CPU, quick profile).** `bash tools/course.sh setup` once before the first session
# (the setup step of the README's two commands; it needs the internet once, for pip and npm, and either
# Debian's `dataset-fashion-mnist` package or one download of Fashion-MNIST that is checked against its
# SHA-256), then `. .venv/bin/activate && jupyter lab chapters/` (or the student edition below). The `quick`
# profile loads the small pretrained weights that ship with the package and trains only short demos, so
# every notebook runs in the times of the table above on two cores.
#
# **2. A shared JupyterHub (one environment for everyone).** Build one image or one environment:
# `pip install -r requirements.txt && pip install .` (the wheel carries the weights and the exercises),
# and install the data once for all users, either with `apt-get install dataset-fashion-mnist fortunes-zh`
# (the course finds `/usr/share/datasets/fashion-mnist` and the Tang poems by itself) or by copying the
# IDX files into a shared read-only folder. In the spawner's environment set `AIGC_DATA=/that/folder` (if
# not the Debian one), `AIGC_OFFLINE=1` (nobody downloads during class; a missing file gives a clear error
# naming it) and `AIGC_THREADS=1` when several users share a core. Nothing is written outside the user's
# home, the data cache (`~/.cache/aigc_course`, or `AIGC_CACHE`) and temporary folders: the test suite
# fails if a test or a notebook writes anywhere else in the home folder or changes the shipped weights
# (`conftest.py`). Two cores and 2 GB of memory per user are enough for every notebook in the quick profile.
# Hand out notebooks with `nbgitpuller` links, or through nbgrader (below).
#
# **3. A GPU machine (full profile).** Nothing changes in the notebooks: with CUDA the `full` profile is the
# default and trains every model from scratch (bf16 autocast where the GPU has it, channels_last, data on
# the GPU; `torch.compile` is opt-in, `TrainConfig(compile=True)`). `AIGC_PROFILE=full` forces it elsewhere. Multi-GPU training:
# `torchrun --nproc_per_node=N -m aigc_course train dcgan-fashion --profile full`. A class can compare its
# own models with the shipped ones: `python -m aigc_course weights list` shows their manifest entries
# (steps, device, time, metrics).
#
# **Handing out the notebooks without the answers.** Every chapter shows its reference solutions in
# collapsed boxes. `bash tools/course.sh student` (or `python tools/student_edition.py`) writes a
# *student edition* into `student/` (ignored by git): the same notebooks without the solution boxes and
# without the hidden cells that check the reference solutions; where a later cell needs a reference
# function, it gets it from the package in one line (`name = ch4.q45a.reference()`) without showing its
# code, and `q.solution()` answers that the solution is not part of the edition (`q.hint()` and
# `q.check(...)` work as before). Up to its first exercise each notebook runs the chapter's own code,
# which the course's tests execute; `tests/test_student_edition.py` checks that no solution text
# survives. Hand out `student/chapters/` (with the package installed as above). The reference solutions
# still ship inside the package, since the checkers need them: the edition keeps answers out of sight, not
# out of reach, so graded work goes through nbgrader.
#
# **Grading with nbgrader, step by step (a JupyterHub class).** `tools/nbgrader_course.py` turns the
# exercises into one assignment per Part; each question is an answer cell and a locked test cell worth one
# point whose hidden tests call the chapter's own checker. `tests/test_nbgrader.py` runs steps 1–2 and 4 on
# every Part: the reference answers score full marks, an answer that is wrong on one question one point
# less.
#
# 1. On the hub, as the instructor: `pip install nbgrader` (pinned in `requirements.txt`), then
#    `python tools/nbgrader_course.py --out ~/aigc-class` and `cd ~/aigc-class`. The folder holds
#    `nbgrader_config.py` (course id, 600 s per cell, crashing answers lose their point only) and
#    `source/part1` … `source/part6` (Part VI leaves out 6.5c, whose answer builds on functions defined
#    on the chapter's page; it stays an in-class exercise).
# 2. `nbgrader generate_assignment part3` writes `release/part3/part3.ipynb`: the solutions become
#    `raise NotImplementedError()` stubs and the hidden tests disappear. Check it in JupyterLab.
# 3. Hand it out: with nbgrader's exchange on a hub, `nbgrader release_assignment part3` (students
#    fetch and submit it from the Assignments tab, then `nbgrader collect part3`); without the exchange,
#    give students the release notebook and put their returned files into
#    `submitted/<student id>/part3/part3.ipynb`.
# 4. `nbgrader autograde part3 --create` runs every submission with the hidden tests restored and stores
#    the points in `gradebook.db`; `nbgrader generate_feedback part3` writes an HTML report per student,
#    and `nbgrader export` a CSV of all grades.
# 5. Students who want to know *why* an answer lost its point run the same function through the chapter's
#    `q.check(...)`, which names the mistake.
#
# Without nbgrader, `check` returns a truthy verdict, so a short grading script can import a student's
# functions and call `chN.qXY.check(fn, quiet=True)` for each question.
#
# ## Common questions from students
#
# * *"Why does my discriminator loss go to zero?"* — D wins too easily; see 2.2 (saturation) and 2.4.
# * *"My GAN samples all look alike."* — mode collapse; 2.3 measures it and shows what changes it.
# * *"The FID is tiny compared with papers."* — our FID is computed in the course classifier's feature
#   space (4.5), not Inception's; compare only numbers computed the same way, always beside the
#   real-vs-real floor.
# * *"Sampling my diffusion model takes ages on my laptop."* — every sample costs tens of network
#   evaluations (6.4): use Heun with few steps (`sample(..., sampler="heun", steps=8)`), fewer samples, or
#   the latent model of 6.6; the full profile is meant for a GPU.
