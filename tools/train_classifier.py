"""Train the course's feature classifier on Fashion-MNIST and ship it as ``classifier-fashion``.

    python tools/train_classifier.py [--epochs 8] [--batch-size 128] [--lr 2e-3] [--seed 0] [--device cpu] [--limit N]

Writes ``aigc_course/weights/classifier-fashion-<sha256[:12]>.safetensors`` (float16) and its entry in
``manifest.json``. The test accuracy recorded there is measured on the stored (float16-rounded)
weights, i.e. on exactly what ``aigc_course.recipes.classifier()`` loads. FID and precision/recall
in chapter 4.5 live in this network's 128-d feature space.
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import sys

import torch

from aigc_course import checkpoint, classifier, data, recipes, runtime


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: the best available)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only (smoke test)")
    return p.parse_args(argv)


def ship(model: classifier.FashionClassifier) -> tuple[str, classifier.FashionClassifier]:
    """Save the weights as float16 under the ``model.`` part prefix; return (file name, reloaded copy)."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    data = checkpoint.weights_bytes(tensors, {"name": recipes.CLASSIFIER_NAME}, half=True)
    # content-addressed, as register_weights does: nothing refers to the file until register() commits it
    file, _ = checkpoint.write_shipped_file(checkpoint.weights_dir(), recipes.CLASSIFIER_NAME, data)
    path = checkpoint.weights_dir() / file
    stored = {k.removeprefix("model."): v for k, v in checkpoint.load_weights(path).items()}
    reloaded = classifier.FashionClassifier(**model.config)
    reloaded.load_state_dict(stored)  # float16 values are cast back to float32
    return file, reloaded.eval()


def register(entry: dict) -> None:
    """Add ``entry`` to the manifest, keeping every other entry (under the manifest lock, atomic); the
    previous classifier file is removed once the manifest points at the new one."""
    checkpoint.commit_entry(recipes.CLASSIFIER_NAME, lambda old: entry)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dev = runtime.device(args.device)
    print(runtime.describe(dev))
    train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
    images, labels = train.images[:args.limit], train.labels[:args.limit]
    model, history = classifier.train_classifier(
        images, labels, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        width=args.width, seed=args.seed, device=dev)
    file, shipped = ship(model.cpu())
    test_acc = classifier.evaluate_classifier(shipped, test.images, test.labels)
    train_acc = classifier.evaluate_classifier(shipped, train.images, train.labels)
    print(f"test accuracy {test_acc:.4f} | train accuracy {train_acc:.4f} | "
          f"training {history['wall_time_s']:.0f} s on {dev}")
    steps = history["loss"][-1][0]
    register({
        "file": file,
        "sha256": checkpoint.sha256_bytes((checkpoint.weights_dir() / file).read_bytes()),
        "recipe": recipes.CLASSIFIER_NAME,
        "kind": "classifier",
        "model_config": model.config,
        "train_config": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                         "seed": args.seed, "train_images": len(images), "optimizer": "adam", "schedule": "cosine",
                         "augment": "random shift of up to 2 px"},
        "ema": False,
        "steps": steps,
        "wall_time_s": round(history["wall_time_s"], 1),
        "device": str(dev) if dev.type != "cuda" else torch.cuda.get_device_name(dev),
        "final_losses": {"loss": history["loss"][-1][1]},
        "metrics": {"test_accuracy": round(test_acc, 4), "train_accuracy": round(train_acc, 4)},
        "command": shlex.join(["python", "tools/train_classifier.py", *(argv if argv is not None else sys.argv[1:])]),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
    })
    loaded = recipes.classifier(device="cpu")  # the public path: manifest, hash check, build, load
    assert classifier.evaluate_classifier(loaded, test.images, test.labels) == test_acc
    print(f"registered {recipes.CLASSIFIER_NAME} in {checkpoint.weights_dir() / checkpoint.MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
