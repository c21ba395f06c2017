"""Hidden tests for the GPU CNN lab: the device, chosen and used.

Two of them grade on any machine. ``get_device`` is called while PyTorch reports a GPU
and while it reports none (the ``torch.device_choice`` probe patches the question
``torch.cuda.is_available()``), so a hard-coded ``"cpu"`` fails here as a hard-coded
``"cuda"`` does. The loops are handed a model on PyTorch's ``meta`` device (shapes, no
data: it exists in every build) and that device as ``device``: a loop that moves its
batches feeds the model ``meta`` tensors, one that forgets feeds it ``cpu`` tensors, which
is exactly what would crash on a GPU. The loop itself cannot finish on ``meta``
(``loss.item()`` has no value there); the devices seen before that are the evidence.

The third needs a GPU (``nb.require_gpu()`` skips it without one; the rubric's
``gpu_policy`` leaves it out of the total): the trained model and the batches are on it.
"""

from __future__ import annotations

from grader import checks
from grader.datasets import image_folder_sample as grader_images
from grader.datasets import standardize_images  # noqa: F401 - compared with the notebook's
from grader.testing.fixture import Notebook

#: Images the loops are fed, and the seed that draws them (never used by the notebook).
IMAGES, IMAGES_SEED = 48, 2_606


def _device_answer(nb: Notebook, cuda_available: bool) -> str:
    raw = nb.probe("torch.device_choice", function="get_device", cuda_available=cuda_available)
    assert isinstance(raw, dict), "could not read get_device()'s answer from the kernel"
    reported = "a GPU" if cuda_available else "no GPU"
    assert raw.get("error") is None, (
        f"get_device() raised {raw.get('error')} while PyTorch reported {reported}"
    )
    device = raw.get("device")
    assert isinstance(device, str), (
        f"get_device() returned a {raw.get('type')}, expected a torch.device"
    )
    return device


def test_device_follows_availability(nb):
    with_gpu = nb.record("device_with_gpu", _device_answer(nb, True))
    without_gpu = nb.record("device_without_gpu", _device_answer(nb, False))
    assert with_gpu.startswith("cuda"), (
        f"while PyTorch reported a GPU, get_device() returned {with_gpu}: choose the device "
        "with torch.cuda.is_available(), so the same code uses a GPU wherever there is one"
    )
    assert without_gpu == "cpu", (
        f"while PyTorch reported no GPU, get_device() returned {without_gpu}: a hard-coded "
        "'cuda' crashes on every machine without a GPU; use torch.cuda.is_available()"
    )


def _expect_fed_on(step: checks.StepDevices, function: str, device: str) -> None:
    """The model was called, and only with tensors on ``device``."""
    if step.forward_calls == 0:
        cause = f"raised {step.error}" if step.error else "returned"
        raise AssertionError(f"{function} {cause} before calling the model")
    stray = [d for d in step.batch_devices if d != device]
    if stray:
        raise AssertionError(
            f"{function} fed the model batches on {', '.join(stray)} while the model and the "
            f"device argument were {device}: move every batch with images.to(device), using "
            "the device argument you are given (on a GPU machine this crashes)"
        )


def test_loops_move_batches_to_their_device(nb):
    x, y = grader_images(IMAGES, IMAGES_SEED)
    stand_in = nb.probe("torch.make_device", kind="meta")
    checks.seed_everything(nb, 3)
    model = nb.new("CNNClassifier", 2)
    nb.method(model, "to", stand_in)
    loader = checks.make_loader(nb, x, y, batch_size=16)
    optimizer = checks.make_optimizer(nb, model, "sgd", lr=0.01)
    loss_fn = nb.probe("torch.recording_loss", loss="cross_entropy")
    training = checks.observe_training_step(
        nb, model, "train_one_epoch", model, loader, optimizer, loss_fn, stand_in
    )
    _expect_fed_on(training, "train_one_epoch", "meta")
    calls = nb.probe("torch.loss_devices", loss_fn=loss_fn)
    assert isinstance(calls, list) and calls, (
        "train_one_epoch never called loss_fn: compute the loss with the loss function it is given"
    )
    seen = nb.record("loss_input_devices", sorted({d for call in calls for d in call}))
    assert seen == ["meta"], (
        f"train_one_epoch gave the loss function tensors on {', '.join(seen)} while its device "
        "argument was meta: move the labels too, with labels.to(device)"
    )
    evaluation = checks.observe_training_step(nb, model, "evaluate", model, loader, stand_in)
    _expect_fed_on(evaluation, "evaluate", "meta")


def test_training_uses_gpu(nb):
    nb.require_gpu()
    assert nb.exists("model"), "the notebook has no trained `model`"
    checks.expect_model_on(checks.model_devices(nb, "model"), "cuda")
    device = nb.call("get_device")
    checks.seed_everything(nb, 9)
    model = nb.new("CNNClassifier", 2)
    nb.method(model, "to", device)
    x, y = grader_images(IMAGES, IMAGES_SEED)
    loader = checks.make_loader(nb, x, y, batch_size=16)
    optimizer = checks.make_optimizer(nb, model, "adam", lr=1e-3)
    step = checks.observe_training_step(
        nb, model, "train_one_epoch", model, loader, optimizer, checks.make_loss_fn(nb), device
    )
    checks.expect_step_ran(step)
    checks.expect_model_on(step, "cuda")
    checks.expect_batches_on(step, "cuda")
    checks.expect_cuda_memory_used(step)
