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

# %% tags=["remove-input"]
from aigc_course.plotting import page_info

page_info("errata")

# %% [markdown]
# This course was commissioned on the basis of five Chinese blog articles about AIGC (AI-generated
# content, 人工智能生成内容). They were the *source material*: they set the topics the course had to
# cover (GANs, VAEs, their mathematics, code, applications), and many readers arrive here after reading
# articles like them. They are not reliable texts. They read like unfinished, machine-generated drafts:
# one of them even ends with a leftover note from the language model that wrote it, offering to expand
# the "framework" into the full article. Their formulas have flipped signs, their code has never been run,
# and fourteen of the works and tools they cite could not be found anywhere.
#
# This appendix lists every error we found in them, **105 in all**, with the correct version and the
# evidence for it, on one page per article (the table below links to them). Wherever a number can
# settle the question, a code cell on the article's page checks it, and the last column of each table,
# **Kind of check**, says what sort of check it is:
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
# The book is built by executing every page, so if a check ever stopped passing, the book would not
# build.
#
# ## The five articles
#
# We call them Article A to E, in the order of their files. Titles are translated; B and D have no title
# of their own, so we describe them.
#
# | Article | Source file | Title (translated) | What it covers | Entries | Major / minor |
# |---|---|---|---|---|---|
# | [A](errata_a.ipynb) | `000_6a6815629cb8cddd.txt` | *Generative AI: gold mine or bubble?*, part 6: "AIGC, a long slope with thick snow" (a long-term opportunity) | AIGC concepts, GAN and VAE principles and "derivations", a TensorFlow/Keras DCGAN, industry applications, 38 references | E01–E24, E99, E102 (26) | 20 / 6 |
# | [B](errata_b.ipynb) | `001_462d302aa808bfd9.txt` | (untitled) AIGC concepts and AI-assisted short-video creation | history, GAN/VAE/attention concepts, probability basics, GAN and VAE losses, a TensorFlow "short-video GAN" | E25–E40, E103 (17) | 9 / 8 |
# | [C](errata_c.ipynb) | `002_342ad59ca38063a2.txt` | An analysis of how widespread AIGC technology is | drivers of adoption, GAN objective, a PyTorch DCGAN on MNIST, applications (media, games, medicine), "seminal papers" | E41–E57, E104 (18) | 12 / 6 |
# | [D](errata_d.ipynb) | `003_7dabdeebb5d8ba9e.txt` | (untitled) AIGC from beginner to practice: image generation | image-generation pipeline, GAN vs VAE, GAN and VAE loss formulas, a TensorFlow/Keras MNIST GAN, applications | E58–E74, E100–E101 (19) | 16 / 3 |
# | [E](errata_e.ipynb) | `004_e8e30c57d93bf6fd.txt` | AIGC from beginner to practice: let AI help you create short videos, crack the "traffic code" and never sink without a trace again | GAN, VAE, NLP (word2vec, GloVe, attention), object detection, loss formulas, a PyTorch DCGAN on CIFAR-10 evaluated by MSE/SSIM | E75–E98, E105 (25) | 12 / 13 |
#
# ## How to read these pages
#
# * Each article has its own page, linked from the table above. On it the entries are grouped by topic,
#   numbered the same way on every page: 1. GAN maths, 2. VAE maths, 3. probability, 4. attention and
#   other NLP formulas, 5. code, 6. concepts and history, 7. applications and evaluation,
#   8. references. The table *All entries* below lists them in one place. The numbers
#   E01–E98 follow the order of the articles, so E26 is in Article B. Entries found after that
#   numbering was fixed are numbered on from E99 (E99 and E102 are in Article A, E100 and E101 in Article D, E103 in B, E104 in C, E105 in E), so
#   that no number that other pages cite ever changes.
# * Each topic opens with a table. **The article says** is our paraphrase in English (Chinese is quoted
#   only as a few words). **What is right** gives the correct statement, **Evidence** the source, and
#   the course section where the correct version is taught. "Check" means a cell of the article's page
#   runs it, and **Kind of check** says what that cell can show (see above). A cell that serves entries
#   of several articles is on the page of the entry with the smallest number; the other rows link to it.
#   Links to course sections appear only in the columns that give the correct version; a section number in **The article says** is the article's own section.
# * **Severity.** *Major*: a wrong formula, sign or claim, or code that cannot run. *Minor*: imprecise,
#   outdated or cosmetic.
# * Throughout, $D$ outputs the probability that its input is real, $D=\sigma(a)$ with logit $a$;
#   $p_{data}$ is the data distribution, $p_g$ the generator's, $p_z$ the noise prior. The course's loss
#   functions (`aigc_course.losses`) take logits, as the course's discriminators return logits.
# * References written as {cite}`goodfellow2014gan` are in the course bibliography. Other real works are
#   written out in full. Works that could not be found are never cited, only listed in section 8 of
#   the article's page.

# %% [markdown]
# ## All entries
#
# Every entry with its article, severity and topic, and a one-line subject; the link opens the article's
# page, where the entry's row, its evidence and its check are.
#
# | ID | Article | Severity | Topic | Subject | Page |
# |---|---|---|---|---|---|
# | E01 | A | major | 1. GAN maths | Discriminator training said to adjust the generator's parameters | [Article A](errata_a.ipynb) |
# | E02 | A | major | 2. VAE maths | VAE described as compression with a point encoder and no KL term | [Article A](errata_a.ipynb) |
# | E03 | A | major | 6. Concepts and history | VAEs said to need labels | [Article A](errata_a.ipynb) |
# | E04 | A | minor | 7. Applications and evaluation | Data augmentation confused with image and speech enhancement | [Article A](errata_a.ipynb) |
# | E05 | A | major | 1. GAN maths | Gradient of the generator loss without the chain rule through $D$ | [Article A](errata_a.ipynb) |
# | E06 | A | major | 1. GAN maths | An "update" that adds the gradient to $z$, with the discriminator's loss | [Article A](errata_a.ipynb) |
# | E07 | A | major | 1. GAN maths | $\partial L_D/\partial G(z)$ given as $D(G(z))-1$ | [Article A](errata_a.ipynb) |
# | E08 | A | major | 2. VAE maths | VAE decoder fed $x$; encoder and decoder losses without a KL term | [Article A](errata_a.ipynb) |
# | E09 | A | major | 3. Probability | Wrong gradients of the Gaussian negative log-likelihood | [Article A](errata_a.ipynb) |
# | E10 | A | major | 7. Applications and evaluation | Reconstructing noisy images said to lead to the clean image | [Article A](errata_a.ipynb) |
# | E11 | A | major | 5. Code | Keras generator makes 28×28 images but asserts 128×128 | [Article A](errata_a.ipynb) |
# | E12 | A | major | 5. Code | Uncompiled Keras models; raw scores fed to a probability loss | [Article A](errata_a.ipynb) |
# | E13 | A | minor | 5. Code | Names used but never defined (`np`, `iters`, `load_data`) | [Article A](errata_a.ipynb) |
# | E14 | A | minor | 5. Code | Keras said to be based on TensorFlow and Theano | [Article A](errata_a.ipynb) |
# | E15 | A | major | 8. References | The VAE paper cited under a wrong title | [Article A](errata_a.ipynb) |
# | E16 | A | minor | 8. References | Bengio, Simard & Frasconi 1994 cited in the wrong journal | [Article A](errata_a.ipynb) |
# | E17 | A | major | 8. References | Four fabricated CVPR papers | [Article A](errata_a.ipynb) |
# | E18 | A | major | 8. References | Fabricated "BigGANs at …" papers | [Article A](errata_a.ipynb) |
# | E19 | A | major | 8. References | "Improved techniques for training GANs" with wrong authors and venue | [Article A](errata_a.ipynb) |
# | E20 | A | major | 8. References | A fabricated variational image compression paper | [Article A](errata_a.ipynb) |
# | E21 | A | major | 8. References | A fabricated non-local attention paper | [Article A](errata_a.ipynb) |
# | E22 | A | major | 8. References | The GPT-3 paper with invented authors and a wrong arXiv number | [Article A](errata_a.ipynb) |
# | E23 | A | major | 8. References | The ViT paper with wrong authors and year | [Article A](errata_a.ipynb) |
# | E24 | A | minor | 8. References | Duplicated references and wrong years in the reference list | [Article A](errata_a.ipynb) |
# | E25 | B | minor | 6. Concepts and history | AIGC's history dated to the 1990s and 2000s | [Article B](errata_b.ipynb) |
# | E26 | B | major | 1. GAN maths | GAN value function with flipped signs | [Article B](errata_b.ipynb) |
# | E27 | B | minor | 2. VAE maths | A KL divergence between latent vectors | [Article B](errata_b.ipynb) |
# | E28 | B | minor | 3. Probability | Covariance called a measure of difference | [Article B](errata_b.ipynb) |
# | E29 | B | major | 1. GAN maths | One overall GAN loss $\mathcal L_D+\mathcal L_G$ | [Article B](errata_b.ipynb) |
# | E30 | B | major | 2. VAE maths | VAE KL "between" $\mu$ and $\log\sigma^2$; split encoder and decoder losses | [Article B](errata_b.ipynb) |
# | E31 | B | minor | 2. VAE maths | $\log\sigma^2$ called the standard deviation | [Article B](errata_b.ipynb) |
# | E32 | B | major | 1. GAN maths | Discriminator said to struggle early in training | [Article B](errata_b.ipynb) |
# | E33 | B | major | 1. GAN maths | Discriminator said to tell real from fake at equilibrium | [Article B](errata_b.ipynb) |
# | E34 | B | major | 5. Code | Training loop with undefined names and one shared optimizer | [Article B](errata_b.ipynb) |
# | E35 | B | major | 5. Code | A "video" generator that maps frames to frames | [Article B](errata_b.ipynb) |
# | E36 | B | minor | 7. Applications and evaluation | Recommendation, moderation and lyrics transcription as AIGC | [Article B](errata_b.ipynb) |
# | E37 | B | major | 8. References | A fabricated "Ganapati" library | [Article B](errata_b.ipynb) |
# | E38 | B | minor | 8. References | "Attention Is All You Need" listed as a book | [Article B](errata_b.ipynb) |
# | E39 | B | major | 8. References | A fabricated VAE review | [Article B](errata_b.ipynb) |
# | E40 | B | minor | 8. References | Books and a survey that could not be identified | [Article B](errata_b.ipynb) |
# | E41 | C | major | 6. Concepts and history | GANs said to need large labelled data sets | [Article C](errata_c.ipynb) |
# | E42 | C | major | 1. GAN maths | Update rules that assign a gradient to a network | [Article C](errata_c.ipynb) |
# | E43 | C | major | 1. GAN maths | The discriminator's objective minimised as a loss | [Article C](errata_c.ipynb) |
# | E44 | C | major | 1. GAN maths | Discriminator loss with the real score in both terms | [Article C](errata_c.ipynb) |
# | E45 | C | major | 5. Code | DCGAN makes 32×32 images for 28×28 MNIST | [Article C](errata_c.ipynb) |
# | E46 | C | major | 5. Code | Three-channel `Normalize` on one-channel MNIST | [Article C](errata_c.ipynb) |
# | E47 | C | major | 5. Code | `G`, `D` and `device` never created | [Article C](errata_c.ipynb) |
# | E48 | C | major | 5. Code | `BCELoss` on input and target of different shapes | [Article C](errata_c.ipynb) |
# | E49 | C | minor | 5. Code | `torch.cat` on NumPy arrays; a fourth index into a 3-D array | [Article C](errata_c.ipynb) |
# | E50 | C | minor | 7. Applications and evaluation | Unsourced claims that Disney and Unity use GANs | [Article C](errata_c.ipynb) |
# | E51 | C | major | 7. Applications and evaluation | Generated CT and MRI images to help diagnose patients | [Article C](errata_c.ipynb) |
# | E52 | C | minor | 8. References | *Deep Learning* attributed to Bengio alone | [Article C](errata_c.ipynb) |
# | E53 | C | minor | 8. References | Coursera's deep-learning specialization attributed to Stanford | [Article C](errata_c.ipynb) |
# | E54 | C | major | 8. References | AlexNet credited with proposing CNNs | [Article C](errata_c.ipynb) |
# | E55 | C | major | 8. References | GANs credited to a later tutorial | [Article C](errata_c.ipynb) |
# | E56 | C | minor | 8. References | The Transformer paper credited with proposing self-attention | [Article C](errata_c.ipynb) |
# | E57 | C | major | 8. References | A fabricated paper credited with BERT and GPT | [Article C](errata_c.ipynb) |
# | E58 | D | major | 6. Concepts and history | GANs dated to the 1980s | [Article D](errata_d.ipynb) |
# | E59 | D | major | 7. Applications and evaluation | Loss, MSE and SSIM as measures of a generator's quality | [Article D](errata_d.ipynb) |
# | E60 | D | major | 2. VAE maths | A VAE built from a generator and a discriminator | [Article D](errata_d.ipynb) |
# | E61 | D | major | 1. GAN maths | Generator said to take the input data $x$ | [Article D](errata_d.ipynb) |
# | E62 | D | major | 1. GAN maths | A generator loss that is the discriminator's loss | [Article D](errata_d.ipynb) |
# | E63 | D | major | 1. GAN maths | A discriminator loss that labels fakes as real | [Article D](errata_d.ipynb) |
# | E64 | D | major | 2. VAE maths | VAE loss with $\log p_\theta(x\mid x)$, $\beta$ on the wrong term and a discriminator | [Article D](errata_d.ipynb) |
# | E65 | D | major | 5. Code | `Conv2D` on a latent vector; a discriminator that outputs a 4×4 map | [Article D](errata_d.ipynb) |
# | E66 | D | major | 5. Code | `Conv2D` called with `units=` and `stride=` | [Article D](errata_d.ipynb) |
# | E67 | D | major | 5. Code | Builders that return tensors; "valid" scores the fake image | [Article D](errata_d.ipynb) |
# | E68 | D | major | 5. Code | GAN losses written as plain means of $D$'s outputs | [Article D](errata_d.ipynb) |
# | E69 | D | major | 5. Code | Generator rebuilt, untrained, after training | [Article D](errata_d.ipynb) |
# | E70 | D | major | 7. Applications and evaluation | Generated X-rays and CTs said to improve diagnosis | [Article D](errata_d.ipynb) |
# | E71 | D | major | 8. References | A fabricated GAN book | [Article D](errata_d.ipynb) |
# | E72 | D | minor | 8. References | Two real books mixed up | [Article D](errata_d.ipynb) |
# | E73 | D | minor | 8. References | Real papers under invented Chinese titles | [Article D](errata_d.ipynb) |
# | E74 | D | major | 8. References | The ImageNet paper with a wrong author, as the competition's paper | [Article D](errata_d.ipynb) |
# | E75 | E | minor | 6. Concepts and history | GAN diagram in the wrong order | [Article E](errata_e.ipynb) |
# | E76 | E | minor | 6. Concepts and history | Autoencoder diagram in the wrong order | [Article E](errata_e.ipynb) |
# | E77 | E | major | 2. VAE maths | VAE latent mapping called deterministic | [Article E](errata_e.ipynb) |
# | E78 | E | major | 1. GAN maths | Generator said to forge data from input pictures | [Article E](errata_e.ipynb) |
# | E79 | E | major | 6. Concepts and history | SSD called a two-stage detector | [Article E](errata_e.ipynb) |
# | E80 | E | minor | 1. GAN maths | $D(G(z))\approx1$ read as "cannot distinguish" | [Article E](errata_e.ipynb) |
# | E81 | E | major | 1. GAN maths | A total loss $L_G+\lambda L_D$ | [Article E](errata_e.ipynb) |
# | E82 | E | major | 4. Attention and other NLP formulas | Softmax cross-entropy called negative sampling | [Article E](errata_e.ipynb) |
# | E83 | E | major | 4. Attention and other NLP formulas | GloVe loss without square, weights or biases | [Article E](errata_e.ipynb) |
# | E84 | E | minor | 4. Attention and other NLP formulas | Cross-entropy with an unbound index; seq2seq architectures mixed up | [Article E](errata_e.ipynb) |
# | E85 | E | major | 4. Attention and other NLP formulas | Attention without the softmax and $V$ | [Article E](errata_e.ipynb) |
# | E86 | E | minor | 4. Attention and other NLP formulas | Multi-head attention projections misprinted | [Article E](errata_e.ipynb) |
# | E87 | E | major | 2. VAE maths | VAE KL term with a flipped sign and $x$ in place of $\mu$ | [Article E](errata_e.ipynb) |
# | E88 | E | major | 5. Code | Integer labels for `BCELoss` | [Article E](errata_e.ipynb) |
# | E89 | E | major | 5. Code | `noise` and `num_epochs` never defined; Adam's default $\beta_1$ | [Article E](errata_e.ipynb) |
# | E90 | E | major | 5. Code | Evaluation noise with 1 channel instead of 100 | [Article E](errata_e.ipynb) |
# | E91 | E | major | 7. Applications and evaluation | Generator judged by MSE and SSIM against test images | [Article E](errata_e.ipynb) |
# | E92 | E | minor | 5. Code | SSIM called on whole batches with `multichannel` | [Article E](errata_e.ipynb) |
# | E93 | E | minor | 5. Code | `Tanh` output shown without rescaling | [Article E](errata_e.ipynb) |
# | E94 | E | minor | 7. Applications and evaluation | Detection and classification counted as AIGC | [Article E](errata_e.ipynb) |
# | E95 | E | minor | 5. Code | Keras said to be based on TensorFlow and Theano | [Article E](errata_e.ipynb) |
# | E96 | E | minor | 8. References | Real papers under invented Chinese titles; a wrong arXiv link | [Article E](errata_e.ipynb) |
# | E97 | E | minor | 8. References | Wrong links to GAN implementations | [Article E](errata_e.ipynb) |
# | E98 | E | minor | 8. References | A GAN book by Li Hang that could not be found | [Article E](errata_e.ipynb) |
# | E99 | A | major | 6. Concepts and history | AIGC's core algorithms said to be GANs and VAEs | [Article A](errata_a.ipynb) |
# | E100 | D | major | 5. Code | `discriminator` and `generator` used before they exist | [Article D](errata_d.ipynb) |
# | E101 | D | minor | 5. Code | 64 samples drawn in one row of sliver-thin panels | [Article D](errata_d.ipynb) |
# | E102 | A | minor | 7. Applications and evaluation | Privacy measures said to guarantee data privacy | [Article A](errata_a.ipynb) |
# | E103 | B | minor | 7. Applications and evaluation | Automated review said to ensure compliance | [Article B](errata_b.ipynb) |
# | E104 | C | minor | 7. Applications and evaluation | Synthetic labelled data said to improve generalisation, unconditionally | [Article C](errata_c.ipynb) |
# | E105 | E | minor | 5. Code | Discriminator learning rate four times below the generator's | [Article E](errata_e.ipynb) |

# %% [markdown]
# ## Summary
#
# The cell below reads the five article pages. It checks that every entry has exactly one row, that the
# entries whose table claims a check are exactly those whose check is in a code cell of the pages, and
# counts them. Each page asserts its own count after running its checks, and the book is built by
# executing every page, so each of these checks has passed. Entries without a check are those where no
# number can settle the question (history, applications, references, diagrams) or whose code needs a
# library that is not installed (Keras/TensorFlow for E14, E66, E95; scikit-image for E92).

# %%
import re
from pathlib import Path

import nbformat

ENTRY = re.compile(r"E\d{2,3}")


def article_page(article: str) -> list:
    """The cells of Article ``article``'s page, found beside this page or in the repository."""
    name = f"errata_{article.lower()}.ipynb"
    here = Path.cwd().resolve()
    folders = (here, *(parent / "chapters" / "appendix" for parent in here.parents))
    path = next(folder / name for folder in folders if (folder / name).exists())
    return nbformat.read(path, as_version=4).cells


kind_of_check = {}  # entry -> (article, the last column of its row)
checked_on = {}  # entry -> the article whose page runs its check
for article in "ABCDE":
    for cell in article_page(article):
        if cell.cell_type == "markdown":
            for row in cell.source.splitlines():
                if ENTRY.fullmatch(row.strip("| ").split(" |")[0]):
                    entry = row.strip("| ").split(" |")[0]
                    assert entry not in kind_of_check, f"{entry} has two rows"
                    kind_of_check[entry] = (article, row.rstrip(" |").rsplit("|", 1)[1].strip())
        else:
            checked_on.update(dict.fromkeys(re.findall(r'"(E\d{2,3})"', cell.source), article))

all_ids = {f"E{i:02d}" for i in range(1, 106)}
assert set(kind_of_check) == all_ids, sorted(all_ids ^ set(kind_of_check))
claimed = {entry for entry, (_, kind) in kind_of_check.items() if kind != "—"}
assert claimed == set(checked_on), sorted(claimed ^ set(checked_on))


def number(entry: str) -> int:
    return int(entry[1:])  # E101 -> 101, so that E101 sorts after E99


for article in "ABCDE":
    own = [e for e, (a, _) in kind_of_check.items() if a == article]
    here = [e for e, a in checked_on.items() if a == article]
    print(f"Article {article}: {sum(e in checked_on for e in own)} of {len(own)} entries checked; "
          f"its page runs {len(here)} checks")
print(f"{len(checked_on)} of {len(all_ids)} entries have an executable check that passed:")
print(", ".join(sorted(checked_on, key=number)))
print("without a check:", ", ".join(sorted(all_ids - set(checked_on), key=number)))
assert len(checked_on) == 67  # update when a check is added
