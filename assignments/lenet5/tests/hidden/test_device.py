"""Hidden test for the LeNet-5 lab: training runs on the GPU (graded on a GPU machine).

Without a GPU ``nb.require_gpu()`` skips the test and the rubric leaves the criterion
out of the total. With one, the trained model must live on the GPU and the student's
``train_one_epoch`` must feed it batches that are on the GPU too.
"""

from __future__ import annotations

import numpy as np

from grader import checks
from grader.datasets import load_cifar10


def test_training_uses_gpu(nb):
    nb.require_gpu()
    assert nb.exists("model"), "the notebook has no trained `model`"
    checks.expect_model_on(checks.model_devices(nb, "model"), "cuda")
    device = nb.call("get_device")
    checks.seed_everything(nb, 9)
    model = nb.new("LeNet5")
    nb.method(model, "to", device)
    images = load_cifar10(n_train=0, n_test=128, seed=1_505, tier=nb.tier)
    loader = checks.make_loader(nb, images.x_test, images.y_test.astype(np.int64), batch_size=32)
    optimizer = checks.make_optimizer(nb, model, "adam", lr=1e-3)
    step = checks.observe_training_step(
        nb, model, "train_one_epoch", model, loader, optimizer, checks.make_loss_fn(nb), device
    )
    checks.expect_step_ran(step)
    checks.expect_model_on(step, "cuda")
    checks.expect_batches_on(step, "cuda")
