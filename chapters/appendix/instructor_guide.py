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
#
# This page is for teachers. It gives ways to schedule the course, the map of exercises with automatic
# checks (generated from the package, so it is always current), how long each notebook takes on a small
# machine (read from the measured results file), and how to run a class on laptops, JupyterHub or GPUs.
#
# ## Schedules
#
# | format | sessions | what to cover |
# |---|---|---|
# | one-day workshop | 4 × 90 min | 2.1 minimax game · 2.2 gradients and Algorithm 1 · 4.1–4.2 data and DCGAN · 4.5 evaluation |
# | one-week intensive | 10 × 90 min | Part II complete, Part III (VAE maths), 4.1–4.5, one application of Part V |
# | semester module | 12–14 weeks | one section per week, exercises as homework, 4.6 and Part V as projects |
#
# Each section is written to be taught in one session: 15 minutes of derivation on the board, the rest
# with the notebook. The check cells are natural pause points: ask the class to predict whether the
# assertion will hold before running it.
#
# ## Exercises and their automatic checks
#
# Every section ends with exercises. A learner edits a stub and calls `check`; the checker runs the answer
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

rows = []
for info in sorted(pkgutil.iter_modules(exercises.__path__), key=lambda m: m.name):
    module = importlib.import_module(f"aigc_course.exercises.{info.name}")
    for name, q in sorted(vars(module).items()):
        if isinstance(q, Question):
            section = f"{name[1]}.{name[2]}" if name[1:3].isdigit() else "?"
            prompt = " ".join(q.prompt.split())
            rows.append(f"| {section} | `{info.name}.{name}` | "
                        f"{prompt[:110]}{'…' if len(prompt) > 110 else ''} | {len(q.hints)} |")
table = "| section | question | task | hints |\n|---|---|---|---|\n" + "\n".join(rows)
display(Markdown(table))
assert rows, "the exercises package defines no questions"
print(f"{len(rows)} exercises with automatic checks")

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
# target is the whole suite in at most 10 minutes on 2 CPU cores.

# %%
results = pathlib.Path("../../benchmarks/results/notebooks-cpu.json")
if results.exists():
    timing = json.loads(results.read_text())
    lines = [f"| `{nb}` | {t:.0f} s |" for nb, t in timing["notebooks"].items()]
    display(Markdown(
        f"Measured on {timing['date']}, {timing['machine']}:\n\n"
        "| notebook | time (quick profile) |\n|---|---|\n"
        + "\n".join(lines)
        + f"\n| **total** | **{timing['total_s']:.0f} s** "
          f"(target ≤ {timing['target_total_s']} s) |"))
else:
    print("no timing results yet: run `python benchmarks/notebook_times.py`")

# %% [markdown]
# ## Running a class
#
# **Students' laptops (CPU).** The default `quick` profile loads the small pretrained weights that ship
# with the package and trains for a few dozen steps to show the loop live. Ask students to run
# `bash tools/course.sh setup` *before* the first session (it needs the internet once for pip, and either
# Debian's `dataset-fashion-mnist` package or one download of Fashion-MNIST).
#
# **JupyterHub.** Build one image with `pip install -r requirements.txt && pip install -e .`; put the
# Fashion-MNIST IDX files in a shared read-only folder and set `AIGC_DATA` to it and `AIGC_OFFLINE=1` in
# the spawner's environment, so nobody downloads during class. Two cores and 2 GB of memory per user are
# enough for every notebook in the quick profile; give each user `AIGC_THREADS=1` if several share a core.
#
# **GPUs.** Nothing changes in the notebooks: with CUDA the `full` profile trains every model from
# scratch (bf16 autocast, channels_last, fused Adam, data on the GPU). A class can also train the shipped
# models itself: `python -m aigc_course train dcgan-fashion --profile full` and compare its manifest
# entry (`python -m aigc_course weights list`) with the shipped one.
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
# out of reach.
#
# **Grading.** `check` returns a truthy verdict, so a grading script can import a student's notebook
# functions and call `chN.qXY.check(fn, quiet=True)` for each question.
#
# ## Common questions from students
#
# * *"Why does my discriminator loss go to zero?"* — D wins too easily; see 2.2 (saturation) and 2.4.
# * *"My GAN samples all look alike."* — mode collapse; 2.3 measures it and shows what changes it.
# * *"The FID is tiny compared with papers."* — our FID is computed in the course classifier's feature
#   space (4.5), not Inception's; compare only numbers computed the same way, always beside the
#   real-vs-real floor.
