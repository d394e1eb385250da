"""The chapter 1 exercises accept the reference solution (and equivalent forms) and reject the common
wrong answers by name."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.distributions import Normal

from aigc_course.exercises import ch1
from exercise_helpers import checker_tests, rejected, solution_of

QUESTIONS = [getattr(ch1, name) for name in ch1.__all__]


def _solution(question):
    return solution_of(question, torch=torch, Normal=Normal)


(test_shown_solution_is_accepted, test_stub_and_crash_give_a_verdict_not_an_exception,
 test_checkers_leave_the_global_rng_alone) = checker_tests(QUESTIONS, _solution, none_phrases=("",),
                                                          numeric=(ch1.q11c, ch1.q13d, ch1.q14d))


# --- 1.1 ------------------------------------------------------------------------------------------

def test_q11a_mixture_log_density():
    q = ch1.q11a

    def components(x, m, s):
        return Normal(m, s).log_prob(x[:, None])

    def by_hand(x, w, m, s):  # the density written out, combined stably
        log_n = -0.5 * ((x[:, None] - m) / s) ** 2 - torch.log(s) - 0.5 * math.log(2 * math.pi)
        return torch.logsumexp(torch.log(w) + log_n, dim=1)

    assert q.check(by_hand, quiet=True)
    rejected(q, lambda x, w, m, s: (w * components(x, m, s)).sum(1), "log of the weighted SUM")
    rejected(q, lambda x, w, m, s: torch.logsumexp(components(x, m, s), 1), "weights are missing")
    rejected(q, lambda x, w, m, s: torch.logsumexp(w.log() + components(x, m, s), 1).exp(), "not its logarithm")
    rejected(q, lambda x, w, m, s: torch.logsumexp(w.log() + components(x, m, s.sqrt()), 1), "variances")
    rejected(q, lambda x, w, m, s: (w.log() + components(x, m, s)).max(1).values, "max instead of a sum")
    rejected(q, lambda x, w, m, s: torch.log((w * components(x, m, s).exp()).sum(1)), "not numerically stable")
    rejected(q, lambda x, w, m, s: torch.logsumexp(w.log() + components(x, m, s), 1) + 0.01, "off by")


def test_q11b_sample_mixture():
    q = ch1.q11b

    def averaged(n, w, m, s, g):  # a weighted average of one draw per component
        eps = torch.randn(n, len(w), generator=g, dtype=m.dtype)
        return ((m + s * eps) * w).sum(1)

    def same_noise_averaged(n, w, m, s, g):
        eps = torch.randn(n, 1, generator=g, dtype=m.dtype)
        return ((m + s * eps) * w).sum(1)

    def with_weights(weights_of):
        def fn(n, w, m, s, g):
            k = torch.multinomial(weights_of(w), n, replacement=True, generator=g)
            return m[k] + s[k] * torch.randn(n, generator=g, dtype=m.dtype)
        return fn

    def by_inverse_cdf(n, w, m, s, g):  # a different, correct sampler: choose k by comparing a uniform
        u = torch.rand(n, generator=g, dtype=m.dtype)
        k = torch.searchsorted(torch.cumsum(w, 0), u).clamp(max=len(w) - 1)
        return m[k] + s[k] * torch.randn(n, generator=g, dtype=m.dtype)

    def variance_as_std(n, w, m, s, g):
        k = torch.multinomial(w, n, replacement=True, generator=g)
        return m[k] + s[k] ** 2 * torch.randn(n, generator=g, dtype=m.dtype)

    def unseeded(n, w, m, s, g):
        k = torch.multinomial(w, n, replacement=True)
        return m[k] + s[k] * torch.randn(n, dtype=m.dtype)

    assert q.check(by_inverse_cdf, quiet=True)
    rejected(q, averaged, "choosing ONE component")
    rejected(q, same_noise_averaged, "choosing ONE component")
    rejected(q, with_weights(lambda w: torch.ones_like(w)), "equal probability")
    rejected(q, variance_as_std, "variances")
    rejected(q, lambda n, w, m, s, g: m[1] + s[1] * torch.randn(n, generator=g, dtype=m.dtype), "largest weight")
    rejected(q, unseeded, "generator=generator")
    rejected(q, lambda n, w, m, s, g: torch.randn(n, generator=g), "do not follow the mixture")
    rejected(q, lambda n, w, m, s, g: torch.randn(n, 2, generator=g), "1-D tensor")


# --- 1.2 ------------------------------------------------------------------------------------------

def test_q12a_gaussian_kl():
    q = ch1.q12a

    def kl(m1, s1, m2, s2):
        return torch.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5

    assert q.check(lambda m1, s1, m2, s2: 0.5 * (torch.log(s2 ** 2 / s1 ** 2) + s1 ** 2 / s2 ** 2
                                                 + (m1 - m2) ** 2 / s2 ** 2 - 1), quiet=True)
    rejected(q, lambda m1, s1, m2, s2: kl(m2, s2, m1, s1), "swapped")
    rejected(q, lambda m1, s1, m2, s2: 0.5 * torch.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2) - 0.5,
             "variances")
    rejected(q, lambda m1, s1, m2, s2: kl(m1, s1, m2, s2) + 0.5, "−½ is missing")
    rejected(q, lambda m1, s1, m2, s2: kl(m1, s1, m2, s2) - 2 * torch.log(s2 / s1), "wrong sign")
    rejected(q, lambda m1, s1, m2, s2: torch.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s1 ** 2) - 0.5,
             "2 sigma2²")


def test_q12b_js_divergence():
    q = ch1.q12b

    def kl(p, r):
        return torch.xlogy(p, p / r).sum(-1)

    def jsd(p, r):
        m = (p + r) / 2
        return 0.5 * kl(p, m) + 0.5 * kl(r, m)

    def naive(p, r):  # right formula, but 0·log 0 gives nan
        m = (p + r) / 2
        return 0.5 * (p * torch.log(p / m)).sum(-1) + 0.5 * (r * torch.log(r / m)).sum(-1)

    assert q.check(lambda p, r: torch.special.entr((p + r) / 2).sum(-1)
                   - 0.5 * (torch.special.entr(p).sum(-1) + torch.special.entr(r).sum(-1)), quiet=True)
    rejected(q, kl, "this is KL(p || q)")
    rejected(q, lambda p, r: kl(p, r) + kl(r, p), "Jeffreys")
    rejected(q, lambda p, r: 0.5 * (kl(p, r) + kl(r, p)), "half the symmetrised")
    rejected(q, lambda p, r: 2 * jsd(p, r), "factors ½ are missing")
    rejected(q, lambda p, r: jsd(p, r) / math.log(2), "bits")
    rejected(q, naive, "0·log 0")


def test_q12c_mc_estimate():
    q = ch1.q12c
    assert q.check(lambda v: (v.mean(), v.std(correction=0) / math.sqrt(len(v))), quiet=True)
    assert q.check(lambda v: [v.mean().item(), (v.var() / len(v)).sqrt().item()], quiet=True)
    rejected(q, lambda v: (v.mean(), v.std()), "divide by sqrt(n)")
    rejected(q, lambda v: (v.mean(), v.std() / len(v)), "not by n")
    rejected(q, lambda v: (v.mean(), v.var() / len(v)), "square root")
    rejected(q, lambda v: (v.mean(), v.var() / math.sqrt(len(v))), "divided the variance")
    rejected(q, lambda v: (v.sum(), v.std() / math.sqrt(len(v))), "sample MEAN")
    rejected(q, lambda v: v.mean(), "pair")


# --- 1.3 ------------------------------------------------------------------------------------------

def test_q13a_conv_out():
    q = ch1.q13a
    assert q.check(lambda n, k, s, p, d=1: math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1, quiet=True)
    rejected(q, lambda n, k, s, p, d=1: (n + 2 * p - d * (k - 1) - 1) // s, "+1 is missing")
    rejected(q, lambda n, k, s, p, d=1: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1, "rounded up")
    rejected(q, lambda n, k, s, p, d=1: (n + 2 * p - k) // s + 1, "dilation is missing")
    rejected(q, lambda n, k, s, p, d=1: (n + p - d * (k - 1) - 1) // s + 1, "BOTH sides")
    rejected(q, lambda n, k, s, p, d=1: n + 2 * p - d * (k - 1), "stride is missing")
    rejected(q, lambda n, k, s, p, d=1: (n + 2 * p - d * (k - 1) - 1) / s + 1, "whole number")
    rejected(q, lambda n, k, s, p, d=1: n // s, "nn.Conv2d gives")


def test_q13b_batch_norm():
    q = ch1.q13b

    def norm(dims, correction=0, eps_inside=True):
        def fn(x, eps):
            mean = x.mean(dim=dims, keepdim=True)
            var = x.var(dim=dims, keepdim=True, correction=correction)
            return (x - mean) / ((var + eps).sqrt() if eps_inside else var.sqrt() + eps)
        return fn

    assert q.check(lambda x, eps: F.batch_norm(x, None, None, training=True, eps=eps), quiet=True)
    rejected(q, norm((1, 2, 3)), "layer norm")
    rejected(q, norm((2, 3)), "instance norm")
    rejected(q, norm((0,)), "batch only")
    rejected(q, norm((0, 1, 2, 3)), "whole tensor")
    rejected(q, norm((0, 2, 3), correction=1), "BIASED")
    rejected(q, norm((0, 2, 3), eps_inside=False), "inside the square root")


def test_q13c_sigmoid_grad():
    q = ch1.q13c
    assert q.check(lambda x: torch.sigmoid(x) * torch.sigmoid(-x), quiet=True)
    rejected(q, torch.sigmoid, "sigmoid(x) itself")
    rejected(q, lambda x: x * (1 - x), "OUTPUT")
    rejected(q, lambda x: 1 - torch.sigmoid(x) ** 2, "tanh")
    rejected(q, lambda x: -torch.sigmoid(x) * (1 - torch.sigmoid(x)), "sign")
    rejected(q, lambda x: 1 - torch.sigmoid(x), "log-sigmoid")
    rejected(q, lambda x: torch.exp(-x) / (1 + torch.exp(-x)) ** 2, "overflows")

    def with_autograd(x):  # the checker switches autograd off
        x = x.clone().requires_grad_(True)
        return torch.autograd.grad(torch.sigmoid(x).sum(), x)[0]

    assert not q.check(with_autograd, quiet=True)


# --- 1.4 ------------------------------------------------------------------------------------------

def _attention(scale=lambda d: d ** -0.5, dim=-1, mask="before", keep_diagonal=True, future=False):
    def fn(q, k, v, causal=False):
        d, t = q.shape[-1], q.shape[-2]
        scores = q @ k.transpose(-2, -1) * scale(d)
        if causal:
            allowed = torch.ones(t, t, dtype=torch.bool).tril(0 if keep_diagonal else -1)
            if future:
                allowed = ~allowed | torch.eye(t, dtype=torch.bool)
            if mask == "after":
                return (torch.softmax(scores, dim=dim) * allowed) @ v
            if mask == "before":
                scores = scores.masked_fill(~allowed, float("-inf"))
        return torch.softmax(scores, dim=dim) @ v
    return fn


def test_q14a_attention():
    q = ch1.q14a
    assert q.check(lambda q_, k, v, causal=False: F.scaled_dot_product_attention(q_, k, v, is_causal=causal),
                   quiet=True)
    assert q.check(_attention(), quiet=True)
    rejected(q, _attention(scale=lambda d: 1 / d), "divided by d")
    rejected(q, _attention(scale=lambda d: 1.0), "scaling is missing")
    rejected(q, _attention(dim=-2), "wrong axis")
    rejected(q, lambda q_, k, v, causal=False: q_ @ k.transpose(-2, -1) / q_.shape[-1] ** 0.5, "E85")
    rejected(q, _attention(future=True), "wrong way round")
    rejected(q, _attention(keep_diagonal=False), "diagonal is masked")
    rejected(q, _attention(mask="after"), "AFTER the softmax")
    rejected(q, _attention(mask="none"), "causal mask is missing")


def test_q14b_next_char_probs():
    q = ch1.q14b

    def probs(temp_op=lambda l, t: l / t, dim=-1, topk="before", largest=True):
        def fn(logits, temperature=1.0, top_k=None):
            scaled = temp_op(logits, temperature)
            if top_k is not None and topk == "before":
                kth = torch.topk(scaled, top_k, dim=-1, largest=largest).values[..., -1:]
                keep = scaled >= kth if largest else scaled <= kth
                scaled = scaled.masked_fill(~keep, float("-inf"))
            p = torch.softmax(scaled, dim=dim)
            if top_k is not None and topk == "after":
                p = p * (p >= torch.topk(p, top_k, dim=-1).values[..., -1:])
            return p
        return fn

    def power(logits, temperature=1.0, top_k=None):  # p^(1/T), renormalised: the same distribution
        p = torch.softmax(logits, dim=-1) ** (1 / temperature)
        if top_k is not None:
            p = p * (p >= torch.topk(p, top_k, dim=-1).values[..., -1:])
        return p / p.sum(-1, keepdim=True)

    assert q.check(power, quiet=True)
    rejected(q, probs(temp_op=lambda l, t: l * t), "multiplies the logits")
    rejected(q, probs(temp_op=lambda l, t: l), "temperature is missing")
    rejected(q, probs(dim=0), "wrong axis")
    rejected(q, probs(topk="after"), "without renormalising")
    rejected(q, probs(largest=False), "SMALLEST")
    rejected(q, probs(topk="never"), "top-k is missing")


def test_q14c_causal_mask():
    q = ch1.q14c
    assert q.check(lambda t: ~torch.ones(t, t, dtype=torch.bool).triu(1), quiet=True)
    assert q.check(lambda t: torch.arange(t)[None, :] <= torch.arange(t)[:, None], quiet=True)
    rejected(q, lambda t: torch.ones(t, t, dtype=torch.bool).triu(), "FUTURE")
    rejected(q, lambda t: torch.ones(t, t, dtype=torch.bool).triu(1), "BLOCK")
    rejected(q, lambda t: torch.ones(t, t, dtype=torch.bool).tril(-1), "diagonal is missing")
    rejected(q, lambda t: torch.ones(t, t, dtype=torch.bool), "allows everything")
    rejected(q, lambda t: torch.ones(t, t).tril(), "boolean")



# --- the exercises that ask what the page does not print (issue 27) --------------------------------

def test_q11c_predict_empty_modes():
    q = ch1.q11c
    assert q.check(25 * math.exp(-2), quiet=True)          # the Poisson approximation is close enough
    assert q.check(3, quiet=True)
    rejected(q, 0, "ONE component", "measured value")
    rejected(q, 9.0, "the answer for 25 draws")
    rejected(q, 12, "Within")
    rejected(q, "three", "number")


def _two_gaussians(n, generator, shift=2.0):
    y = (torch.rand(n, generator=generator) < 0.5).long()
    x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    x[y == 1] += torch.tensor([shift, 0.0], dtype=torch.float64)
    return x, y


def test_q11d_investigate_beat_generative():
    q = ch1.q11d

    def wide_outliers(n, generator):  # another correct answer: class 1 has a far cluster in a new direction
        y = (torch.rand(n, generator=generator) < 0.5).long()
        x = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        far = torch.rand(n, generator=generator) < 0.3
        x[y == 1] += torch.tensor([2.0, 0.0], dtype=torch.float64)
        x[(y == 1) & far] += torch.tensor([12.0, 3.0], dtype=torch.float64)
        return x, y

    assert q.check(wide_outliers, quiet=True)
    rejected(q, _two_gaussians, "They tie")
    rejected(q, lambda n, g: _two_gaussians(n, torch.Generator().manual_seed(int(torch.randint(9, (1,))))),
             "identically seeded")
    rejected(q, lambda n, g: (torch.randn(n, 2, generator=g), torch.zeros(n)), "at least 10%")
    rejected(q, lambda n, g: torch.randn(n, 2, generator=g), "pair")
    rejected(q, lambda n, g: (torch.randn(n, 3, generator=g), (torch.rand(n, generator=g) < 0.5).long()), "shape")


def _kl_full(m1, c1, m2, c2, minus=None, half=0.5):
    d = m1.shape[0]
    p2 = torch.linalg.inv(c2)
    return half * (torch.trace(p2 @ c1) + (m2 - m1) @ p2 @ (m2 - m1) - (d if minus is None else minus)
                   + torch.logdet(c2) - torch.logdet(c1))


def test_q12d_apply_gaussian_kl_full():
    q = ch1.q12d

    def by_cholesky(m1, c1, m2, c2):  # another correct answer: whitening with Cholesky factors
        l1, l2 = torch.linalg.cholesky(c1), torch.linalg.cholesky(c2)
        a = torch.linalg.solve_triangular(l2, l1, upper=False)
        b = torch.linalg.solve_triangular(l2, (m2 - m1)[:, None], upper=False)
        return 0.5 * ((a ** 2).sum() + (b ** 2).sum() - len(m1)) + (l2.diagonal().log() - l1.diagonal().log()).sum()

    assert q.check(by_cholesky, quiet=True)
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m2, c2, m1, c1), "swapped")
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m1, c1, m2, c2, minus=1), "−d/2")
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m1, c1, m2, c2, half=1.0), "overall ½")
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m1, c1, m2, c2) - torch.logdet(c2) + torch.logdet(c1), "upside down")
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m1, torch.diag(c1.diagonal()), m2, torch.diag(c2.diagonal())),
             "diagonals")
    rejected(q, lambda m1, c1, m2, c2: _kl_full(m1, c1, m2, c2) + 0.01, "off by")


def test_q12e_apply_cube_density():
    q = ch1.q12e

    def by_autograd(x):  # another correct answer: log|dG^-1/dx| from autograd
        x = x.clone().requires_grad_(True)
        z = torch.where(x > 0, x.abs() ** (1 / 3), -(x.abs() ** (1 / 3)))
        (dz,) = torch.autograd.grad(z.sum(), x)
        return (Normal(0.0, 1.0).log_prob(z) + dz.abs().log()).detach()

    assert q.check(by_autograd, quiet=True)
    cbrt = lambda x: x.sign() * x.abs() ** (1 / 3)  # noqa: E731
    normal = Normal(0.0, 1.0)
    rejected(q, lambda x: normal.log_prob(cbrt(x)), "Jacobian factor is missing")
    rejected(q, lambda x: normal.log_prob(cbrt(x)) + math.log(3) + 2 * cbrt(x).abs().log(), "upside down")
    rejected(q, lambda x: normal.log_prob(cbrt(x)) - math.log(3) - 2 * x.abs().log(), "evaluated at z")
    rejected(q, lambda x: (normal.log_prob(cbrt(x)) - math.log(3) - 2 * cbrt(x).abs().log()).exp(),
             "not its logarithm")
    rejected(q, lambda x: normal.log_prob(x ** (1 / 3)) - math.log(3) - 2 / 3 * x.abs().log(), "real cube root")
    rejected(q, lambda x: -0.5 * x ** (2 / 3) - 0.5 * math.log(2 * math.pi) - math.log(3) - 2 / 3 * x.abs().log(),
             "real cube root")                     # written out by hand: nan for x < 0, no exception


def test_q13d_predict_footprint():
    q = ch1.q13d
    assert q.check(484, quiet=True) and q.check(22 * 22 + 10, quiet=True)
    rejected(q, 4096, "overlap")
    rejected(q, 1024, "whole image")
    rejected(q, 64, "strides")
    rejected(q, 144, "(4 + 4 + 4)²")
    rejected(q, 16, "4×4 stamp")
    rejected(q, 300, "Within")


def test_q13e_apply_generator_32():
    q = ch1.q13e
    from torch import nn

    def upsampled(z_dim):  # another correct answer: a stride-1 then three k=4 s=2 layers, no BatchNorm
        return nn.Sequential(nn.ConvTranspose2d(z_dim, 32, 4), nn.LeakyReLU(0.2),
                             nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.LeakyReLU(0.2),
                             nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.LeakyReLU(0.2),
                             nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Tanh())

    def odd_kernels(z_dim):  # also correct: kernel 3 with output padding
        return nn.Sequential(nn.ConvTranspose2d(z_dim, 16, 4), nn.ReLU(),
                             *[m for _ in range(2) for m in (nn.ConvTranspose2d(16, 16, 3, 2, 1, output_padding=1),
                                                             nn.ReLU())],
                             nn.ConvTranspose2d(16, 3, 3, 2, 1, output_padding=1), nn.Tanh())

    assert q.check(upsampled, quiet=True) and q.check(odd_kernels, quiet=True)

    def fashion_sizes(z_dim):  # 1 -> 7 -> 14 -> 28
        return nn.Sequential(nn.ConvTranspose2d(z_dim, 16, 7), nn.ReLU(), nn.ConvTranspose2d(16, 8, 4, 2, 1),
                             nn.ReLU(), nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Tanh())

    def grey(z_dim):
        return nn.Sequential(*list(upsampled(z_dim))[:-2], nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh())

    rejected(q, fashion_sizes, "28×28")
    rejected(q, lambda z: nn.Sequential(*upsampled(z), nn.ConvTranspose2d(3, 3, 4, 2, 1), nn.Tanh()),
             "one doubling too many")
    rejected(q, lambda z: nn.Sequential(*list(upsampled(z))[:4], nn.ConvTranspose2d(16, 3, 4, 2, 1), nn.Tanh()),
             "one doubling too few")
    rejected(q, grey, "3 (RGB)")
    rejected(q, lambda z: nn.Sequential(*list(upsampled(z))[:-1]), "Tanh")
    rejected(q, lambda z: nn.Sequential(nn.ConvTranspose2d(z, 3, 4), nn.Upsample(scale_factor=8), nn.Tanh()),
             "nn.Upsample")
    rejected(q, lambda z: nn.Sequential(*upsampled(z), nn.Flatten()), "(B, 3, 32, 32)")
    rejected(q, lambda z: torch.zeros(3), "nn.Module")


def test_q14d_predict_self_attention_weight():
    q = ch1.q14d
    assert q.check(math.exp(8) / (math.exp(8) + 31 * math.exp(0.5)), quiet=True) and q.check(1.0, quiet=True)
    rejected(q, 1 / 32, "uniform")
    rejected(q, 0.5, "a half")
    rejected(q, 0.8, "Within")


def test_q14e_debug_multi_head():
    q = ch1.q14e
    sdpa = F.scaled_dot_product_attention

    def by_einsum(q_, k_, v_, h):  # another correct answer: the heads as an extra axis, attention by hand
        b, t, d = q_.shape
        qh, kh, vh = (m.reshape(b, t, h, d // h) for m in (q_, k_, v_))
        scores = torch.einsum("bihd,bjhd->bhij", qh, kh) / math.sqrt(d // h)
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        return torch.einsum("bhij,bjhd->bihd", scores.softmax(-1), vh).reshape(b, t, d)

    def article(q_, k_, v_, h):  # the broken version on the page
        b, t, d = q_.shape
        q_, k_, v_ = (m.view(b, h, t, d // h) for m in (q_, k_, v_))
        return sdpa(q_, k_, v_, is_causal=True).reshape(b, t, d)

    def half_fixed(q_, k_, v_, h):
        b, t, d = q_.shape
        q_, k_, v_ = (m.view(b, t, h, d // h).transpose(1, 2) for m in (q_, k_, v_))
        return sdpa(q_, k_, v_, is_causal=True).reshape(b, t, d)

    def other_half(q_, k_, v_, h):
        b, t, d = q_.shape
        q_, k_, v_ = (m.view(b, h, t, d // h) for m in (q_, k_, v_))
        return sdpa(q_, k_, v_, is_causal=True).transpose(1, 2).reshape(b, t, d)

    def no_mask(q_, k_, v_, h):
        b, t, d = q_.shape
        q_, k_, v_ = (m.view(b, t, h, d // h).transpose(1, 2) for m in (q_, k_, v_))
        return sdpa(q_, k_, v_).transpose(1, 2).reshape(b, t, d)

    assert q.check(by_einsum, quiet=True)
    rejected(q, article, "both bugs")
    rejected(q, half_fixed, "not put back")
    rejected(q, other_half, "split is still")
    rejected(q, lambda q_, k_, v_, h: sdpa(q_, k_, v_, is_causal=True), "single-head")
    rejected(q, no_mask, "causal mask")
