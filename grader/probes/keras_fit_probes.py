"""Probes for the Keras labs that compile, fit and plot (mlp_mnist, cnn_cifar).

Two raw readings, no verdicts:

* ``keras.compile_settings``: what ``compile()`` was given (optimizer class and its plain
  hyperparameters, the loss, the metrics), so a test can tell SGD with momentum 0.9 from
  plain SGD without training anything;
* ``keras.figure_curves``: the curves drawn on a matplotlib figure (each line's data,
  labels and the axes' titles), so a test can compare a student's plot with the
  ``history`` it claims to show. The inline backend closes figures once a cell ends, so
  the notebook keeps its figure in a variable and the probe reads that object.

Strings are cut to :data:`MAX_TEXT` characters and curves to :data:`MAX_POINTS` points,
so that a hostile figure cannot make the reply huge.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.probes.keras_probes import _layer
from grader.probes.library import probe

MAX_TEXT = 200
MAX_AXES, MAX_LINES, MAX_POINTS = 32, 32, 10_000
_PLAIN = (bool, int, float, str, type(None))


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if type(value) is str else ""


def _plain_options(config: Any) -> dict[str, Any]:
    """The scalar entries of a Keras config (learning rate, momentum...); nested ones dropped."""
    if not isinstance(config, dict):
        return {}
    return {str(k): v for k, v in config.items() if type(v) in _PLAIN}


def _describe_loss(loss: Any) -> dict[str, Any] | None:
    """A loss given as a name, a ``keras.losses.Loss`` object or a function."""
    if loss is None:
        return None
    if type(loss) is str:
        return {"kind": "name", "name": _text(loss), "options": {}}
    get_config = getattr(loss, "get_config", None)
    if callable(get_config):
        try:
            config = get_config()
        except Exception:  # noqa: BLE001 - a custom loss may not serialise
            config = {}
        name = config.get("name") if isinstance(config, dict) else None
        return {
            "kind": "object",
            "name": _text(name) or type(loss).__name__,
            "class": type(loss).__name__,
            "options": _plain_options(config),
        }
    return {"kind": "function", "name": _text(getattr(loss, "__name__", type(loss).__name__))}


def _metric_names(model: Any) -> list[str]:
    """Metric names as given to ``compile()`` (strings, or the class names of objects)."""
    try:
        config = model.get_compile_config() or {}
    except Exception:  # noqa: BLE001 - not compiled, or a custom metric
        return []
    metrics = config.get("metrics") or []
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    names = []
    for metric in metrics:
        if type(metric) is str:
            names.append(_text(metric))
        elif isinstance(metric, dict):
            names.append(_text(metric.get("class_name")) or "?")
    return names


@probe("keras.compile_settings")
def compile_settings(model: Any) -> dict[str, Any]:
    """How the model was compiled: optimizer class and options, loss, metrics."""
    model = _layer(model)
    optimizer = getattr(model, "optimizer", None)
    settings: dict[str, Any] = {
        "compiled": bool(getattr(model, "compiled", False)),
        "optimizer": None,
        "optimizer_options": {},
        "learning_rate_schedule": None,
        "loss": _describe_loss(getattr(model, "loss", None)),
        "metrics": _metric_names(model),
    }
    if optimizer is not None:
        settings["optimizer"] = type(optimizer).__name__
        try:
            config = optimizer.get_config()
        except Exception:  # noqa: BLE001 - a custom optimizer
            config = {}
        settings["optimizer_options"] = _plain_options(config)
        rate = config.get("learning_rate") if isinstance(config, dict) else None
        if isinstance(rate, dict):  # a schedule serialises as a nested config
            settings["learning_rate_schedule"] = _text(rate.get("class_name")) or "?"
    return settings


def _float_data(values: Any) -> np.ndarray | None:
    try:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    return array[:MAX_POINTS]


def _axes_of(figure: Any) -> list[Any]:
    """The axes of a Figure, or the given Axes / array or list of Axes themselves."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    if isinstance(figure, (Figure, SubFigure)):
        return list(figure.get_axes())
    if isinstance(figure, Axes):
        return [figure]
    if isinstance(figure, (np.ndarray, list, tuple)):
        found = [a for a in np.asarray(figure, dtype=object).reshape(-1) if isinstance(a, Axes)]
        if found:
            return found
    raise TypeError(f"expected a matplotlib Figure or Axes, got a {type(figure).__name__}")


@probe("keras.figure_curves")
def figure_curves(figure: Any) -> list[dict[str, Any]]:
    """Every axes of ``figure`` with its title, axis labels, legend and lines' data."""
    axes_rows = []
    for axes in _axes_of(figure)[:MAX_AXES]:
        legend = axes.get_legend()
        lines = []
        for line in axes.get_lines()[:MAX_LINES]:
            lines.append(
                {
                    "label": _text(line.get_label()),
                    "x": _float_data(line.get_xdata()),
                    "y": _float_data(line.get_ydata()),
                }
            )
        axes_rows.append(
            {
                "title": _text(axes.get_title()),
                "xlabel": _text(axes.get_xlabel()),
                "ylabel": _text(axes.get_ylabel()),
                "legend": [_text(t.get_text()) for t in legend.get_texts()] if legend else [],
                "lines": lines,
            }
        )
    return axes_rows
