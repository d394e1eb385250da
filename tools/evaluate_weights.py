"""Evaluate every shipped model and record the numbers in the weights manifest's ``metrics`` field.

    python tools/evaluate_weights.py [--n 10000] [--nll-images 2000] [--iwae-k 100] [--names NAME ...] [--dry-run]
    python tools/evaluate_weights.py --run runs/vae-binarized-mnist   # a training folder: its binarised NLL


The metrics are those of chapter 4.5, computed with more samples:

* image models (GANs, VAEs and diffusion models on Fashion-MNIST; latent diffusion decoded by its VAE): FID,
  precision and recall (k = 3), density and coverage (k = 5, Naeem et al. 2020) in the feature space of
  the shipped ``classifier-fashion``, ``--n`` samples against the first ``--n`` test images, and the
  real-vs-real floor (the first ``--n`` training images against the same test images) for reference.
  The median time per sample (``sample_ms``, drawing 500 at once on this machine) is recorded too. Diffusion
  models use Heun's sampler with 25 steps (49 network evaluations), the network in bf16 where the hardware
  has it natively (``sample_precision``); conditional ones are scored with guidance weight 1 and, as
  ``uncond_*``, unconditionally;
* VAEs with a proper likelihood (recipes on dynamically binarised data): the IWAE bound on the negative
  log-likelihood of the binarised test images (a fixed binarisation, seed 0) with K = ``--iwae-k-binary``, in
  nats per image and bits per dimension, with its standard error over the images;
* VAEs with a Bernoulli decoder on grey levels: the same bounds, recorded as what they are: a cross-entropy
  score (``bce_kl_iwae``, ``bce_kl_elbo``), not a likelihood, so no bits per dimension (Part III, 3.4);
* 2-D toy GANs: mode coverage (2.3) of 10 000 samples.

Each entry's ``metrics`` dict is updated (other keys, such as the classifier's accuracy, are kept) and the
manifest is rewritten atomically. Samples and IWAE noise come from fixed seeds, so a rerun gives the same
numbers on the same machine.
"""
from __future__ import annotations

import argparse
import time

import torch

from aigc_course import checkpoint, data, losses, metrics, recipes, runtime

TOY_STD = 0.02  # standard deviation of each component of data.toy2d("8gaussians")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000, help="samples per set for FID and precision/recall")
    p.add_argument("--nll-images", type=int, default=2000, help="test images for the IWAE bound")
    p.add_argument("--iwae-k", type=int, default=100, help="importance samples K of the grey-level IWAE score")
    p.add_argument("--iwae-k-binary", type=int, default=5000, help="K of the IWAE NLL of binarised-data VAEs")
    p.add_argument("--binary-images", type=int, default=10_000, help="binarised test images for that NLL")
    p.add_argument("--names", nargs="*", default=None, help="only these manifest entries (default: all models)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: the best available)")
    p.add_argument("--dry-run", action="store_true", help="print the metrics, do not write the manifest")
    p.add_argument("--samples-only", action="store_true",
                   help="only the sample metrics (FID, precision/recall, density/coverage, time per sample): no NLL")
    p.add_argument("--run", default=None, help="instead: the binarised test NLL of the VAE in this training "
                   "folder (a recipe with binarised data, e.g. vae-binarized-mnist); prints, writes nothing")
    return p.parse_args(argv)


class ImageReference:
    """Classifier features of the real test images (and the floor) shared by every image model."""

    def __init__(self, n: int, device: torch.device):
        self.n = n
        self.classifier = recipes.classifier(device=device)
        test, train = data.fashion_mnist("test"), data.fashion_mnist("train")
        self.test_images = test.images
        self.test_feats = self.features(test.images[:n])
        self.floor = metrics.fid(self.features(train.images[:n]), self.test_feats)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return metrics.extract_features(self.classifier, images)

    def sample_metrics(self, model: torch.nn.Module, sample=None, prefix: str = "",
                       time_the_draw: bool = False) -> dict:
        """FID, precision and recall (k = 3), density and coverage (k = 5) of ``n`` samples (conditional
        models: classes in turn, balanced), and the time per sample. ``sample(n, generator)`` draws them
        (default: ``model.sample``); ``prefix`` names the keys (e.g. ``uncond_``). ``time_the_draw``: the
        time per sample is that of this draw (slow samplers, which draw in batches of 500 anyway), not
        the median of :func:`sample_ms`."""
        sample = sample or (lambda n, gen: model.sample(n, generator=gen))
        with torch.no_grad():
            start = time.perf_counter()
            fake = sample(self.n, torch.Generator().manual_seed(0))
            draw_ms = 1000 * (time.perf_counter() - start) / self.n
        feats = self.features(fake.cpu())
        precision, recall = metrics.precision_recall(self.test_feats, feats, k=3)
        density, coverage = metrics.density_coverage(self.test_feats, feats, k=5)
        values = {"fid": metrics.fid(feats, self.test_feats), "precision": precision, "recall": recall,
                  "density": density, "coverage": coverage,
                  "sample_ms": draw_ms if time_the_draw else sample_ms(sample)}
        return {**{prefix + k: v for k, v in values.items()}, "fid_floor": self.floor, "n_samples": self.n,
                "feature_space": recipes.CLASSIFIER_NAME}


def sample_ms(sample, n: int = 500, repeats: int = 3) -> float:
    """Median wall time per sample, in milliseconds, of drawing ``n`` samples at once (after one warm-up)."""
    times = []
    with torch.no_grad():
        sample(min(n, 50), torch.Generator().manual_seed(1))
        for r in range(repeats):
            start = time.perf_counter()
            sample(n, torch.Generator().manual_seed(2 + r))
            times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[len(times) // 2] / n


def diffusion_metrics(model: torch.nn.Module, recipe, reference: ImageReference) -> dict:
    """A diffusion model's samples with the default sampler (Heun, 25 steps: 49 network evaluations):
    conditional models with guidance weight 1 (classes in turn) and unconditionally (weight 0, keys
    ``uncond_...``); latent models decoded by their VAE."""
    steps, sampler = 25, "heun"
    device = next(model.parameters()).device

    def fast(draw):  # the network in bf16 where the hardware has it natively (the state stays fp32)
        def run(n, gen):
            with runtime.autocast(device):
                return draw(n, gen)
        return run

    precision = {"sample_precision": runtime.fast_path(device)["amp"] + " autocast (network only)"}
    if recipe.data.startswith("latents:"):
        vae = recipes.pretrained(recipe.data.split(":", 1)[1], device=next(model.parameters()).device)

        def sample(n, gen):
            z = model.sample(n, gen, steps=steps, sampler=sampler)
            return torch.cat([vae.to_image(vae.decode(part)) for part in z.split(1000)])

        return {**reference.sample_metrics(model, fast(sample), time_the_draw=True), "nfe": 49,
                "sampler": f"{sampler}, {steps} steps", **precision}
    out = reference.sample_metrics(model, fast(lambda n, gen: model.sample(n, gen, steps=steps, sampler=sampler)),
                                   time_the_draw=True)
    if model.n_classes:
        out.update(reference.sample_metrics(
            model, fast(lambda n, gen: model.sample(n, gen, steps=steps, sampler=sampler, guidance=0.0)), "uncond_",
            time_the_draw=True))
    return {**out, "nfe": 49, "sampler": f"{sampler}, {steps} steps", "guidance": 1.0, **precision}


def grey_level_scores(vae: torch.nn.Module, images: torch.Tensor, K: int) -> dict:
    """For a Bernoulli decoder on grey levels: the IWAE and ELBO bounds of a cross-entropy, not of a
    likelihood (no bits per dimension)."""
    iwae = metrics.nll_iwae(vae, images, K=K, generator=torch.Generator().manual_seed(1))
    neg_elbo = metrics.nll_iwae(vae, images, K=1, generator=torch.Generator().manual_seed(2))
    return {"bce_kl_iwae": iwae, "iwae_k": K, "bce_kl_elbo": neg_elbo, "score_images": len(images),
            "score_note": "Bernoulli cross-entropy on grey levels (nats/image): a score, not a negative "
                          "log-likelihood"}


@torch.no_grad()
def binary_nll(vae: torch.nn.Module, images: torch.Tensor, K: int, chunk: int = 50) -> dict:
    """IWAE bound on -log p(x) of binarised images (nats/image), its standard error over the images, and
    the negative ELBO (K = 1): a real likelihood, since the pixels are binary."""
    binary = data.binarize(images, seed=0)
    gen = torch.Generator().manual_seed(1)
    per_image = []
    dev = next(vae.parameters()).device
    with torch.no_grad():
        for start in range(0, len(binary), chunk):
            x = data.to_model_space(binary[start:start + chunk].to(dev))
            log_w = torch.cat([vae.log_weights(x, min(500, K - k), gen) for k in range(0, K, 500)])  # (K, B)
            per_image.append(-losses.iwae_bound(log_w).cpu())
    nll = torch.cat(per_image).double()
    neg_elbo = metrics.nll_iwae(vae, binary, K=1, generator=torch.Generator().manual_seed(2))
    return {"nll_iwae": nll.mean().item(), "nll_stderr": (nll.std() / len(nll) ** 0.5).item(), "iwae_k": K,
            "neg_elbo": neg_elbo, "nll_images": len(nll), "data": "binarised test images (data.binarize, seed 0)",
            "bits_per_dim": metrics.bits_per_dim(nll.mean().item(), tuple(images.shape[1:]))}


def evaluate_run(path: str, args: argparse.Namespace, device: torch.device) -> dict:
    """The binarised-test-set NLL of the VAE saved in training folder ``path`` (its recipe's data set)."""
    from aigc_course.recipes import get_recipe

    ckpt = checkpoint.find_checkpoint(path)
    name = checkpoint.read_state(ckpt).get("state", {}).get("meta", {}).get("recipe")
    recipe = get_recipe(name) if name else None
    if recipe is None or recipe.kind != "vae" or not recipe.binarize:
        raise SystemExit(f"error: --run {path}: holds a run of {name!r}, not of a VAE recipe on binarised data "
                         "(vae-binarized-fashion, vae-binarized-mnist)")
    model = recipes.load_models(path, device=device)
    test = data.load(recipe.data, "test")
    return {"recipe": name, **binary_nll(model, test.images[:args.binary_images], args.iwae_k_binary)}


def toy_metrics(generator: torch.nn.Module, recipe_data: str) -> dict:
    """Mode coverage of 10 000 samples of a 2-D GAN."""
    name = recipe_data.split(":", 1)[1]
    with torch.no_grad():
        samples = generator.sample(10_000, generator=torch.Generator().manual_seed(0)).cpu()
    cov = metrics.mode_coverage(samples, data.toy2d_modes(name), TOY_STD)
    return {"modes_covered": cov["modes_covered"], "n_modes": cov["n_modes"], "high_quality": cov["high_quality"]}


def evaluate(name: str, entry: dict, reference: ImageReference, args: argparse.Namespace,
             device: torch.device) -> dict:
    """The metrics of one manifest entry."""
    from aigc_course.recipes import get_recipe

    model = recipes.pretrained(name, device=device)
    recipe_data = get_recipe(entry["recipe"]).data
    if recipe_data.startswith("toy2d:"):
        return toy_metrics(model, recipe_data)
    if entry["kind"] == "diffusion":
        return diffusion_metrics(model, get_recipe(entry["recipe"]), reference)
    result = reference.sample_metrics(model)
    if args.samples_only:
        return result
    if entry["kind"] == "vae":
        if get_recipe(entry["recipe"]).binarize:
            result.update(binary_nll(model, reference.test_images[:args.binary_images], args.iwae_k_binary))
        else:
            result.update(grey_level_scores(model, reference.test_images[:args.nll_images], args.iwae_k))
    return result


def record(results: dict[str, dict]) -> None:
    """Merge ``results`` (name -> metrics) into the manifest entries' ``metrics``; atomic rewrite."""
    manifest = checkpoint.read_manifest()
    stale_if_score = ("nll_iwae", "nll_stderr", "bits_per_dim", "nll_images", "neg_elbo")  # not a likelihood
    for name, values in results.items():
        old = manifest["weights"][name].get("metrics", {})
        if "bce_kl_iwae" in values:
            old = {k: v for k, v in old.items() if k not in stale_if_score}
        manifest["weights"][name]["metrics"] = {**old, **values}
    checkpoint.write_manifest(manifest)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dev = runtime.device(args.device)
    print(runtime.describe(dev))
    if args.run:
        result = evaluate_run(args.run, args, dev)
        print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))
        return 0
    entries = checkpoint.read_manifest()["weights"]
    names = args.names or [n for n, e in sorted(entries.items()) if e["kind"] in ("gan", "vae", "diffusion")]
    unknown = [n for n in names if n not in entries]
    if unknown:
        raise SystemExit(f"error: not in the manifest: {', '.join(unknown)} (it has {', '.join(sorted(entries))})")
    reference = ImageReference(args.n, dev)
    print(f"real-vs-real FID floor with {args.n} images: {reference.floor:.3f}")
    results = {}
    for name in names:
        start = time.perf_counter()
        results[name] = evaluate(name, entries[name], reference, args, dev)
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in results[name].items())
        print(f"{name:<16} {shown}  ({time.perf_counter() - start:.0f} s)")
    if args.dry_run:
        print("dry run: manifest not changed")
    else:
        record(results)
        print(f"recorded in {checkpoint.weights_dir() / checkpoint.MANIFEST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
