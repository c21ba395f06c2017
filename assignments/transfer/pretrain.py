"""Pretrain the small convolutional base that the transfer lab starts from.

No pretrained weights can be downloaded where this course is graded, so the course
makes its own: a two-convolution feature extractor (the seed manual's MNIST network
without its dense layers: 160 + 4,640 = 4,800 parameters) trained to tell the digits
0-4 apart, on the offline MNIST stand-in of ``grader.datasets`` (real scikit-learn
digits rendered at 28x28), with fixed seeds and one thread. The lab then transfers it
to a task it never saw: the digits 5-9, from a handful of images each.

Run from the repository root::

    python assignments/transfer/pretrain.py            # writes assignments/transfer/data/
    python assignments/transfer/pretrain.py --out DIR  # anywhere else (tests do this)

It writes ``base.keras`` (architecture and weights, about 40 KB) and ``base.json``:
what was trained and how well, and a digest of every weight (the same digest the
grader's ``keras.weight_digests`` probe computes), so the hidden tests can tell the
shipped weights from any others and tests/test_assignment_transfer.py can check that
the shipped file is what this script describes. Takes about 15 s on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
BASE_NAME = "digits_base"
INPUT_SHAPE = (28, 28, 1)
#: The pretraining task: the digits 0-4 (the lab transfers to 5-9).
PRETRAIN_DIGITS = (0, 1, 2, 3, 4)
#: Offline renders drawn (about half are 0-4), epochs, batch, learning rate, seed.
SETTINGS: dict[str, Any] = {
    "tier": "offline",
    "n_train": 20_000,
    "n_test": 1_000,
    "data_seed": 0,
    "seed": 0,
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "head_units": 64,
}
#: The base layer by layer: (name, kind, per-example output shape, parameters).
ARCHITECTURE = [
    ("conv1", "Conv2D", (26, 26, 16), 160),
    ("pool1", "MaxPooling2D", (13, 13, 16), 0),
    ("conv2", "Conv2D", (11, 11, 32), 4_640),
    ("pool2", "MaxPooling2D", (5, 5, 32), 0),
    ("flatten", "Flatten", (800,), 0),
]
BASE_PARAMS = 4_800


def build_base():
    """The base network, untrained: conv 16 (3x3) - pool - conv 32 (3x3) - pool - flatten."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(16, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(32, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
        ],
        name=BASE_NAME,
    )


def describe_base(base) -> list[dict[str, Any]]:
    """Each layer's name, kind, per-example output shape and parameter count."""
    return [
        {
            "name": layer.name,
            "kind": type(layer).__name__,
            "output_shape": [int(d) for d in layer.output.shape[1:]],
            "params": int(layer.count_params()),
        }
        for layer in base.layers
    ]


def weight_digests(model) -> dict[str, str]:
    """Digest of every weight, as the grader's probe computes it, keyed ``layer/weight``.

    Not by the variable's path: Keras names paths by where a variable was created, so the
    same weight is ``digits_base/conv1/kernel`` here and ``conv1/kernel`` once loaded.
    """
    import keras

    from grader.probes.keras_freeze_probes import array_digest

    return {
        f"{layer.name}/{variable.path.rsplit('/', 1)[-1]}": array_digest(
            np.asarray(keras.ops.convert_to_numpy(variable))
        )
        for layer in model.layers
        for variable in layer.weights
    }


def pretraining_data():
    """Images of the digits 0-4 with a channel axis, train and test."""
    from grader.datasets import load_mnist

    data = load_mnist(
        n_train=SETTINGS["n_train"],
        n_test=SETTINGS["n_test"],
        seed=SETTINGS["data_seed"],
        tier=SETTINGS["tier"],
    )
    train = np.isin(data.y_train, PRETRAIN_DIGITS)
    test = np.isin(data.y_test, PRETRAIN_DIGITS)
    return (
        data.x_train[train][..., None],
        data.y_train[train],
        data.x_test[test][..., None],
        data.y_test[test],
    )


def pretrain(out: Path) -> dict[str, Any]:
    """Train the base with a temporary head, save the base alone, describe it."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    import keras
    from keras import layers

    started = time.perf_counter()
    x_train, y_train, x_test, y_test = pretraining_data()
    keras.utils.set_random_seed(SETTINGS["seed"])
    base = build_base()
    classifier = keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            base,
            layers.Dense(SETTINGS["head_units"], activation="relu"),
            layers.Dense(len(PRETRAIN_DIGITS), activation="softmax"),
        ]
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(SETTINGS["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = classifier.fit(
        x_train,
        y_train,
        epochs=SETTINGS["epochs"],
        batch_size=SETTINGS["batch_size"],
        shuffle=True,
        verbose=0,
    )
    test_loss, test_accuracy = classifier.evaluate(x_test, y_test, verbose=0)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "base.keras"
    base.save(path)
    report = {
        "file": path.name,
        "file_bytes": path.stat().st_size,
        "base_name": BASE_NAME,
        "input_shape": list(INPUT_SHAPE),
        "params": int(base.count_params()),
        "architecture": describe_base(base),
        "pretraining": {
            **SETTINGS,
            "digits": list(PRETRAIN_DIGITS),
            "train_images": len(x_train),
            "test_images": len(x_test),
            "final_train_loss": round(float(history.history["loss"][-1]), 4),
            "test_loss": round(float(test_loss), 4),
            "test_accuracy": round(float(test_accuracy), 4),
        },
        "weights": weight_digests(base),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "base.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "data", help="folder to write to")
    args = parser.parse_args()
    report = pretrain(args.out)
    summary = {k: report[k] for k in ("file", "file_bytes", "params", "seconds")}
    print(json.dumps({**summary, "test_accuracy": report["pretraining"]["test_accuracy"]}))


if __name__ == "__main__":
    main()
