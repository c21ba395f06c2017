"""Hidden tests for the tensors lab: derivatives, real roots and the no-real-roots contract.

The functions handed to first_derivative and second_derivative include TensorFlow's own
(tf.sin, tf.exp, tf.tanh) at points the lab never uses, so a derivative formula written
for the lab's two polynomials fails. Expected values are closed forms computed here. The
functions are the grader's (probe ``keras.tf_function``), not the notebook's: the tests do
not depend on its `cubic`, `quartic` or the name of its TensorFlow import.
"""

from __future__ import annotations

import math

import numpy as np

from grader.bridge import StudentError

#: (function of keras.tf_function, x, f'(x)) and (function, x, f''(x)).
FIRST = [
    ("sin", 0.7, math.cos(0.7)),
    ("exp", -1.2, math.exp(-1.2)),
    ("cubic", -1.5, 9 * 1.5**2 - 8 * 1.5),
]
SECOND = [
    ("tanh", 0.4, -2 * math.tanh(0.4) * (1 - math.tanh(0.4) ** 2)),
    ("sin", 1.1, -math.sin(1.1)),
    ("cubic", 0.3, 18 * 0.3 + 8),
    ("quartic", -3.0, 9.0),
]
#: How the feedback names each function.
SHOWN = {"sin": "tf.sin", "exp": "tf.exp", "tanh": "tf.tanh", "cubic": "3x^3 + 4x^2",
         "quartic": "x^4 / 12"}  # fmt: skip
#: Coefficients with real roots: distinct, a < 0, a double root, irrational, fractional a.
REAL = [(2.0, -3.0, -5.0), (-1.0, 1.0, 6.0), (4.0, -12.0, 9.0), (1.0, 0.0, -2.0), (0.5, 1.5, -2.0)]
#: No real roots (negative discriminant), and a == 0 (not a quadratic).
NO_REAL = [(1.0, 2.0, 5.0), (-2.0, 1.0, -1.0), (3.0, 0.0, 1.0)]
NOT_QUADRATIC = (0.0, 2.0, 1.0)


def close(got: float, want: float) -> bool:
    return abs(got - want) <= 1e-5 + 1e-5 * abs(want)  # float32 arithmetic; NaN fails


def number(value: object, what: str) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise AssertionError(f"{what} must return one number, not {value!r:.60}") from None


def function_ref(nb, name: str):
    """The grader's own TensorFlow function ``name``, kept in the kernel."""
    return nb.probe("keras.tf_function", name=name)


def test_derivatives_of_new_functions(nb):
    for function, x, expected in FIRST:
        call = f"first_derivative({SHOWN[function]}, {x})"
        got = number(nb.call("first_derivative", function_ref(nb, function), x), call)
        assert close(got, expected), (
            f"{call} is {got:.6g}, expected {expected:.6g}: differentiate the f you are given "
            "with a GradientTape"
        )
    for function, x, expected in SECOND:
        call = f"second_derivative({SHOWN[function]}, {x})"
        got = number(nb.call("second_derivative", function_ref(nb, function), x), call)
        assert close(got, expected), (
            f"{call} is {got:.6g}, expected {expected:.6g}: nest two tapes and take the inner "
            "gradient inside the outer tape"
        )


def test_real_roots_of_new_quadratics(nb):
    for a, b, c in REAL:
        call = f"solve_quadratic({a:g}, {b:g}, {c:g})"
        roots = nb.probe("keras.tf_values", value=nb.new("solve_quadratic", a, b, c))
        assert isinstance(roots, list) and len(roots) == 2, f"{call} must return two roots"
        kinds = {(root["kind"], root["dtype"]) for root in roots}
        assert kinds == {("tf.Tensor", "float32")}, (
            f"{call} returned {sorted(kinds)}: compute the roots with TensorFlow operations and "
            "return float32 tensors"
        )
        got = [number(root["value"], call) for root in roots]
        expected = sorted(float(r.real) for r in np.roots([a, b, c]))
        assert all(close(g, e) for g, e in zip(got, expected, strict=True)), (
            f"{call} gives {got}, expected {expected} (the smaller root first)"
        )


def test_no_real_roots_raise_value_error(nb):
    for a, b, c in [*NO_REAL, NOT_QUADRATIC]:
        call = f"solve_quadratic({a:g}, {b:g}, {c:g})"
        why = "a = 0 is not a quadratic" if a == 0 else f"b^2 - 4ac = {b * b - 4 * a * c:g} < 0"
        try:
            returned = nb.call("solve_quadratic", a, b, c)
        except StudentError as error:
            assert error.type_name == "ValueError", (
                f"{call} raised {error.type_name}, expected ValueError ({why})"
            )
            continue
        raise AssertionError(
            f"{call} returned {returned!r:.80} instead of raising ValueError ({why}): check before "
            "taking the square root"
        )
