"""The chapter 4 exercises accept the reference solution and reject the common wrong answers by name."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import linalg

from aigc_course import metrics
from aigc_course.exercises import ch4
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [ch4.q41b, ch4.q42a, ch4.q42b, ch4.q42c, ch4.q42d, ch4.q43a, ch4.q43c, ch4.q44a, ch4.q44b, ch4.q44c,
             ch4.q44d, ch4.q45a, ch4.q45b, ch4.q45c, ch4.q45e, ch4.q45f, ch4.q46d]
NUMERIC = [ch4.q41a, ch4.q43b, ch4.q45d, ch4.q46c]  # predictions and an investigation: the answer is a value


def _solution(question):
    # running a solution may draw from the global generator (4.3b's loads shipped models, whose layers are
    # initialised before the weights are copied in); the checks below are about the checkers, so fork here
    with torch.random.fork_rng(devices=[]):
        return solution_of(question, torch=torch, math=math, np=np)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS + NUMERIC, _solution,
                                                           none_phrases=("None", "tensor", "nn.Module"),
                                                           numeric=NUMERIC)


def test_q42a_transposed_conv_size():
    q = ch4.q42a
    assert q.check(lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op, quiet=True)
    rejected(q, lambda n, k, s, p, op: (n + 2 * p - k) // s + 1, "ordinary (strided) convolution")
    rejected(q, lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op, "padding must be subtracted")
    rejected(q, lambda n, k, s, p, op: n * s - 2 * p + k + op, "(n − 1)")
    rejected(q, lambda n, k, s, p, op: (n - 1) * s - 2 * p + k, "output_padding is missing")
    rejected(q, lambda n, k, s, p, op: 2 * n + 1, "off by")


def test_q42b_block_parameters():
    q = ch4.q42b
    assert q.check(lambda i, o, k: i * o * k * k + 2 * o, quiet=True)
    rejected(q, lambda i, o, k: i * o * k * k + 3 * o, "bias")
    rejected(q, lambda i, o, k: i * o * k * k, "scale γ and a shift β")
    rejected(q, lambda i, o, k: i * o * k * k + 4 * o, "buffers")
    rejected(q, lambda i, o, k: (i + o) * k * k + 2 * o, "c_in · c_out · k²")


def test_q43a_wasserstein_estimate():
    q = ch4.q43a
    assert q.check(lambda r, f: r.mean() - f.mean(), quiet=True)
    rejected(q, lambda r, f: f.mean() - r.mean(), "sign flipped")
    rejected(q, lambda r, f: torch.sigmoid(r).mean() - torch.sigmoid(f).mean(), "not probabilities")
    rejected(q, lambda r, f: r.sum() - f.sum(), "not a sum")


def test_q44a_beta_vae_loss():
    q = ch4.q44a
    assert q.check(lambda r, kl, b: (r + b * kl).mean(), quiet=True)
    rejected(q, lambda r, kl, b: (b * r + kl).mean(), "β multiplies the wrong term")
    rejected(q, lambda r, kl, b: (r - b * kl).mean(), "ADDED")
    rejected(q, lambda r, kl, b: (r + kl).mean(), "β is missing")
    rejected(q, lambda r, kl, b: (r + b * kl).sum(), "do not sum")


def test_q44b_active_units():
    q = ch4.q44b
    assert q.check(lambda mu, t: int((mu.var(dim=0) > t).sum()), quiet=True)
    rejected(q, lambda mu, t: int((mu.var(dim=1) > t).sum()), "over the data")
    rejected(q, lambda mu, t: int((mu.std(dim=0) > t).sum()), "not the standard deviation")
    rejected(q, lambda mu, t: int((mu.mean(dim=0).abs() > t).sum()), "VARIES")
    # a hard-coded threshold passed when the checker tried only threshold=0.01
    rejected(q, lambda mu, t: int((mu.var(dim=0) > 0.01).sum()), "`threshold` argument")
    rejected(q, lambda mu, t=0.01: 3, "threshold")


def test_q45a_frechet_distance():
    q = ch4.q45a

    def without_cross(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2)

    def elementwise(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * np.sqrt(s1 @ s2))

    def product_of_roots(m1, s1, m2, s2):
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1).real @ linalg.sqrtm(s2).real)

    def symmetric_form(m1, s1, m2, s2):  # tr((S1 S2)^1/2) = tr((S1^1/2 S2 S1^1/2)^1/2): also right
        r1 = linalg.sqrtm(s1).real
        return (m1 - m2) @ (m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(r1 @ s2 @ r1).real)

    assert q.check(symmetric_form, quiet=True)
    rejected(q, without_cross, "cross term")
    rejected(q, elementwise, "ELEMENT-WISE")
    rejected(q, product_of_roots, "commute")
    rejected(q, lambda m1, s1, m2, s2: np.linalg.norm(m1 - m2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real),
              "SQUARED")


def test_q45b_precision():
    q = ch4.q45b

    def right(real, fake, k):
        radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
        return (torch.cdist(fake, real) <= radii).any(dim=1).float().mean()

    def with_a_loop(real, fake, k):  # another correct form: one fake at a time, numpy
        real, fake = real.numpy(), fake.numpy()
        d = np.linalg.norm(real[:, None] - real[None], axis=2)
        radii = np.sort(d, axis=1)[:, k]
        return float(np.mean([np.any(np.linalg.norm(real - f, axis=1) <= radii) for f in fake]))

    assert q.check(right, quiet=True)
    assert q.check(with_a_loop, quiet=True)
    assert q.check(lambda r, f, k: metrics.precision_recall(r, f, k).precision, quiet=True)
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= torch.cdist(r, r).kthvalue(k, 1).values).any(1).float().mean(),
             "OTHER")
    rejected(q, lambda r, f, k: metrics.precision_recall(r, f, k).recall, "RECALL")
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= torch.cdist(r, r).kthvalue(k + 1, 1).values.mean())
             .any(1).float().mean(), "own radius")

    def nearest_only(real, fake, k):
        radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
        d, i = torch.cdist(fake, real).min(dim=1)
        return (d <= radii[i]).float().mean()

    rejected(q, nearest_only, "NEAREST")


def test_q45c_fid_at_infinity():
    q = ch4.q45c

    def lstsq(ns, fids):
        ns = np.asarray(ns, dtype=float)
        return np.linalg.lstsq(np.stack([np.ones_like(ns), 1 / ns], 1), fids, rcond=None)[0][0]

    assert q.check(lstsq, quiet=True)
    assert q.check(lambda ns, f: np.polyfit(1 / np.asarray(ns, float), f, 1)[1], quiet=True)
    rejected(q, lambda ns, f: f[-1], "largest n")
    rejected(q, lambda ns, f: np.polyfit(ns, f, 1)[1], "not linearly in n")
    rejected(q, lambda ns, f: np.mean(f), "mean of the FIDs")
    rejected(q, lambda ns, f: np.polyfit(1 / np.asarray(ns, float), f, 1)[0], "slope")
    rejected(q, lambda ns, f: 0.0, "intercept")
    # two points only (the two largest n): not the least-squares fit of all of them
    rejected(q, lambda ns, f: (f[-1] * ns[-1] - f[-2] * ns[-2]) / (ns[-1] - ns[-2]))


def test_q45c_fit_recovers_a_known_intercept():
    from aigc_course.exercises.ch4 import _fit_infinity

    ns = np.array([100, 400, 1600])
    assert abs(_fit_infinity(ns, 2.5 + 300 / ns) - 2.5) < 1e-9


def test_q46a_mfu_accepts_reference_and_names_wrong_answers():
    from aigc_course.exercises import ch4

    assert ch4.q46a.check(lambda f, r, p: f * r / p, quiet=True)
    for wrong, words in [(lambda f, r, p: 100 * f * r / p, "percentage"), (lambda f, r, p: p / (f * r), "upside down"),
                         (lambda f, r, p: f / p, "images per second")]:
        verdict = ch4.q46a.check(wrong, quiet=True)
        assert not verdict and words in verdict.message


def test_q46b_batches_per_rank_matches_tensorloader_and_names_wrong_answers():
    import math

    from aigc_course.exercises import ch4

    assert ch4.q46b.check(lambda n, b, w: (n // w) // b, quiet=True)
    for wrong, words in [(lambda n, b, w: n // b, "sharding"), (lambda n, b, w: math.ceil(n / w / b), "round down"),
                         (lambda n, b, w: n / w / b, "whole number")]:
        verdict = ch4.q46b.check(wrong, quiet=True)
        assert not verdict and words in verdict.message



# ------------------------------------------------------------------------------------------------------
# the exercises of issue 27: predict, apply, investigate, debug
# ------------------------------------------------------------------------------------------------------
def test_q41a_predicted_share_beyond_tanh():
    from aigc_course import data

    q = ch4.q41a
    u = data.fashion_mnist("train").images.float()
    truth = float((u > u.mean() + u.std()).float().mean())
    assert q.check(truth + 0.02, quiet=True)
    rejected(q, 0.1587, "Gaussian")
    rejected(q, 0.0, "variance of 1")
    rejected(q, 0.7, "measured value")


def _article_to_tanh_range(u):  # the page's broken version (errata E46)
    mean = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)
    std = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)
    return (u / 256 - mean) / std


def test_q41b_normalisation_debug():
    q = ch4.q41b
    rejected(q, _article_to_tanh_range, "three channels", "E46")
    rejected(q, lambda u: (u / 256 - 0.5) / 0.5, "256")
    rejected(q, lambda u: u / 255, "[0, 1]")
    rejected(q, lambda u: (u - 0.5) / 0.5, "BYTES")
    rejected(q, lambda u: u // 128 - 1, "floating-point")
    assert q.check(lambda u: u.float() / 127.5 - 1, quiet=True)
    assert q.check(lambda u: u.to(torch.float64).div(255).sub(0.5).mul(2), quiet=True)


def test_q42c_generator32():
    from torch import nn

    q = ch4.q42c

    def build(z_dim, width, side=4, n_up=3, hidden_bias=False, last_bias=True):
        c = 4 * width
        layers = [nn.Linear(z_dim, c * side * side, bias=False), nn.Unflatten(1, (c, side, side)),
                  nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=hidden_bias), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        return nn.Sequential(*layers, nn.ConvTranspose2d(c, 1, 4, 2, 1, bias=last_bias), nn.Tanh())

    class AsAClass(nn.Module):  # another correct form: a module with a view
        def __init__(self, z_dim, width):
            super().__init__()
            self.w = width
            self.fc = nn.Linear(z_dim, 64 * width, bias=False)
            blocks = []
            for c_in, c_out in [(4 * width, 2 * width), (2 * width, width)]:
                blocks += [nn.BatchNorm2d(c_in), nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
            self.up = nn.Sequential(*blocks, nn.BatchNorm2d(width), nn.ReLU(), nn.ConvTranspose2d(width, 1, 4, 2, 1))

        def forward(self, z):
            return torch.tanh(self.up(self.fc(z).view(-1, 4 * self.w, 4, 4)))

    assert q.check(build, quiet=True)
    assert q.check(AsAClass, quiet=True)
    rejected(q, lambda z, w: build(z, w, side=7, n_up=2), "28×28", "E45")
    rejected(q, lambda z, w: build(z, w, n_up=4), "one doubling too many")
    rejected(q, lambda z, w: build(z, w, hidden_bias=True), "no bias")
    rejected(q, lambda z, w: build(z, w, last_bias=False), "keeps its bias")
    rejected(q, lambda z, w: build(z, w)[:-1], "different outputs")     # no tanh
    rejected(q, lambda z, w: "G", "nn.Module")


def _article_d_loss(D, real, fake):  # the page's broken version (errata E48, E88)
    from torch import nn

    criterion = nn.BCELoss()
    ones = torch.full((real.size(0), 1), 1)
    zeros = torch.full((fake.size(0), 1), 0)
    return criterion(D(real), ones) + criterion(D(fake), zeros)


def test_q42d_discriminator_loss_debug():
    from torch import nn

    q = ch4.q42d
    bce = nn.functional.binary_cross_entropy
    rejected(q, _article_d_loss, "E48")       # the shapes fail first
    rejected(q, lambda D, r, f: nn.BCELoss()(D(r).view(-1), torch.full((len(r),), 1))
             + nn.BCELoss()(D(f).view(-1), torch.full((len(f),), 0)), "E88")

    def shapes_still_wrong(D, real, fake):
        return nn.BCELoss()(D(real), torch.ones(len(real), 1)) + nn.BCELoss()(D(fake), torch.zeros(len(fake), 1))

    rejected(q, shapes_still_wrong, "E48")
    rejected(q, lambda D, r, f: bce(D(r).squeeze(), torch.ones(len(r))) + bce(D(f).squeeze(), torch.zeros(len(f))),
             "same shape")
    rejected(q, lambda D, r, f: bce(D(r).view(-1), torch.zeros(len(r))) + bce(D(f).view(-1), torch.ones(len(f))),
             "swapped")
    rejected(q, lambda D, r, f: bce(D(r).view(-1), torch.ones(len(r))), "only the real")
    rejected(q, lambda D, r, f: (bce(D(r).view(-1), torch.ones(len(r))) + bce(D(f).view(-1), torch.zeros(len(f)))) / 2,
             "half")
    rejected(q, lambda D, r, f: (bce(D(r).view(-1), torch.ones(len(r)))
                                 + bce(D(f).view(-1), torch.zeros(len(f)))).item(), "no gradient")
    assert q.check(lambda D, r, f: bce(D(r).flatten(), torch.ones(len(r))) + bce(D(f).flatten(), torch.zeros(len(f))),
                   quiet=True)
    assert q.check(lambda D, r, f: -(torch.log(D(r)).mean() + torch.log(1 - D(f)).mean()), quiet=True)


def test_q43b_rare_classes():
    q = ch4.q43b
    assert q.check(["Pullover", "Sneaker"], quiet=True)
    assert q.check((7, 2), quiet=True)
    assert q.check({"sneaker", "pullover"}, quiet=True)
    rejected(q, ["Sandal"], "cGAN")
    rejected(q, ["Shirt", "Sneaker", "Pullover"], "MOST often")
    rejected(q, ["Sneaker"], "another class")
    rejected(q, ["Sneaker", "Pullover", "Bag"], "Bag")
    rejected(q, ["Hat"], "not a Fashion-MNIST class")
    rejected(q, ["Dress"], "not these")


def _article_sample_class(G, c, n, generator):  # the page's broken version (errata E90)
    z = torch.randn(n, 1, 1, 1, generator=generator)
    labels = torch.full((n,), c * 1.0)
    return G(z, labels)


def test_q43c_sample_class_debug():
    q = ch4.q43c
    rejected(q, _article_sample_class, "E90")

    def labels_float(G, c, n, generator):
        return G(torch.randn(n, G.z_dim, generator=generator), torch.full((n,), c * 1.0))

    rejected(q, labels_float, "integers")
    rejected(q, lambda G, c, n, g: G(torch.randn(n, G.z_dim, generator=g), torch.arange(n) % 10), "each class in turn")
    rejected(q, lambda G, c, n, g: G(torch.randn(n, G.z_dim), torch.full((n,), c)), "generator")
    assert q.check(lambda G, c, n, g: G.sample(n, c, generator=g), quiet=True)
    assert q.check(lambda G, c, n, g: G(G.noise(n, generator=g), torch.tensor([c] * n)), quiet=True)


def _article_vae_loss(x, x_hat, mu, logvar):  # the page's broken version (errata E87)
    recon = 0.5 * ((x - x_hat) ** 2).sum(dim=1)
    kl = 0.5 * (logvar + logvar.exp() - 1 - x**2).sum(dim=1)
    return (recon + kl).mean()


def test_q44c_vae_loss_debug():
    q = ch4.q44c
    rejected(q, _article_vae_loss, "both bugs", "E87")
    rejected(q, lambda x, xh, mu, lv: (0.5 * ((x - xh) ** 2).sum(1)
                                       + 0.5 * (-lv + lv.exp() - 1 - x**2).sum(1)).mean(), "posterior")
    rejected(q, lambda x, xh, mu, lv: (0.5 * ((x - xh) ** 2).sum(1)
                                       + 0.5 * (mu**2 + lv.exp() - 1 + lv).sum(1)).mean(), "MINUS")
    rejected(q, lambda x, xh, mu, lv: (0.5 * ((x - xh) ** 2).sum(1)
                                       + 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(1)).sum(), "average over the batch")
    assert q.check(lambda x, xh, mu, lv: 0.5 * (((x - xh) ** 2).sum() + (mu**2 + lv.exp() - 1 - lv).sum()) / len(x),
                   quiet=True)


def test_q44d_gaussian_nll():
    from torch.distributions import Normal

    q = ch4.q44d
    assert q.check(lambda x, m, s: -Normal(m, s).log_prob(x).sum(dim=(1, 2, 3)), quiet=True)
    d = lambda x: x[0].numel()  # noqa: E731
    rejected(q, lambda x, m, s: ((x - m) ** 2).sum((1, 2, 3)) / (2 * s**2), "normaliser")
    rejected(q, lambda x, m, s: ((x - m) ** 2).sum((1, 2, 3)) / (2 * s**2) + d(x) * math.log(s), "log 2π")
    rejected(q, lambda x, m, s: ((x - m) ** 2).sum((1, 2, 3)) / (2 * s) + d(x) * (math.log(s) + 0.5 * math.log(2 * math.pi)),
             "variance")
    rejected(q, lambda x, m, s: -Normal(m, s).log_prob(x).mean(dim=(1, 2, 3)), "do not average")
    rejected(q, lambda x, m, s: Normal(m, s).log_prob(x).sum(dim=(1, 2, 3)), "sign")


def test_q45d_recall_on_a_line():
    q = ch4.q45d
    assert q.check(0.01, quiet=True)
    rejected(q, 0.5, "DIRECTIONS")
    rejected(q, 1.0, "PRECISION")


def test_q45e_density():
    q = ch4.q45e
    assert q.check(lambda r, f, k: metrics.density_coverage(r, f, k=k).density, quiet=True)

    def loop(real, fake, k):  # another correct form
        radii = [sorted(torch.norm(real - p, dim=1).tolist())[k] for p in real]
        return sum(sum(float(torch.norm(p - c)) <= r for c, r in zip(real, radii)) for p in fake) / (k * len(fake))

    assert q.check(loop, quiet=True)
    rejected(q, lambda r, f, k: metrics.density_coverage(r, f, k=k).coverage, "COVERAGE")
    rejected(q, lambda r, f, k: metrics.precision_recall(r, f, k=k).precision, "precision")
    radii = lambda r, k: torch.cdist(r, r).kthvalue(k + 1, dim=1).values  # noqa: E731
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= radii(r, k)).sum() / len(f), "divide by k")
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= radii(r, k)).sum() / (k * len(r)), "M generated")
    rejected(q, lambda r, f, k: (torch.cdist(f, r) <= torch.cdist(r, r).kthvalue(k, 1).values).sum() / (k * len(f)),
             "OTHER")


def _article_fid_of_images(classifier, real_images, fake_images):  # the page's broken version
    with torch.no_grad():
        real = classifier(real_images).numpy()
        fake = classifier(fake_images).numpy()
    return metrics.frechet_distance(real.mean(0), np.cov(real), fake.mean(0), np.cov(fake))


def test_q45f_fid_debug():
    q = ch4.q45f
    rejected(q, _article_fid_of_images, "ROW")

    def logits_only(classifier, real_images, fake_images):
        with torch.no_grad():
            real, fake = classifier(real_images).numpy(), classifier(fake_images).numpy()
        return metrics.frechet_distance(real.mean(0), np.cov(real, rowvar=False), fake.mean(0),
                                        np.cov(fake, rowvar=False))

    rejected(q, logits_only, "LOGITS")
    assert q.check(lambda c, r, f: metrics.fid(r, f, model=c), quiet=True)


def test_q46c_images_left_out_under_ddp():
    q = ch4.q46c
    assert q.check(864, quiet=True)
    rejected(q, 96, "ONE process")
    rejected(q, 3, "remainder")
    rejected(q, 861, "as well")
    rejected(q, 0, "padded")
    rejected(q, 500, "measured value")


def _article_epoch_shard(n, rank, world_size, epoch, seed=0):  # the page's broken version
    perm = torch.randperm(n)
    per_rank = math.ceil(n / world_size)
    return perm[rank * per_rank:(rank + 1) * per_rank]


def test_q46d_epoch_shard_debug():
    q = ch4.q46d
    rejected(q, _article_epoch_shard, "n // world_size")

    def shared_perm_ceil(n, rank, world_size, epoch, seed=0):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
        per_rank = math.ceil(n / world_size)
        return perm[rank * per_rank:(rank + 1) * per_rank]

    rejected(q, shared_perm_ceil, "all-reduce")

    def own_perm(n, rank, world_size, epoch, seed=0):
        return torch.randperm(n)[rank * (n // world_size):(rank + 1) * (n // world_size)]

    rejected(q, own_perm, "overlap")

    def same_every_epoch(n, rank, world_size, epoch, seed=0):
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        return perm[rank * (n // world_size):(rank + 1) * (n // world_size)]

    rejected(q, same_every_epoch, "reshuffled")

    def strided(n, rank, world_size, epoch, seed=0):  # another correct form: every world_size-th index
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(1000 * seed + epoch))
        return perm[rank::world_size][:n // world_size]

    assert q.check(strided, quiet=True)
