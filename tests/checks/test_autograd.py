"""Jacobian check of custom torch autograd code, compared in the grader like gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import JacobianCheck, autograd_check, expect_jacobians_match

CELLS = [
    """
import torch

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad

class SquareMissingFactor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x * grad

class ScaledMatmul(torch.autograd.Function):
    '''y = s * (a @ b) with an integer scale that gets no gradient.'''
    @staticmethod
    def forward(ctx, a, b, s):
        ctx.save_for_backward(a, b)
        ctx.s = int(s)
        return ctx.s * (a @ b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return ctx.s * grad @ b.T, ctx.s * a.T @ grad, None

def detached_square(x):
    return (x * x).detach()

def mul_add(a, b):
    return a * b + a
"""
]

RNG = np.random.default_rng(0)


def test_correct_function_passes(nb):
    result = autograd_check(nb, "Square", [RNG.normal(size=(2, 3))])
    assert result.analytic[0].shape == (6, 6)
    assert result.output_dtype == "float64"
    expect_jacobians_match(result)


def test_wrong_backward_fails_naming_an_entry(nb):
    result = autograd_check(nb, "SquareMissingFactor", [np.array([1.0, 2.0, 3.0])])
    with pytest.raises(AssertionError) as failure:
        expect_jacobians_match(result)
    assert str(failure.value) == (
        "the backward pass disagrees with the numerical gradient for input 1: "
        "d output[2] / d input[2] is 3 by backward, 6 numerically"
    )


def test_several_inputs_and_an_integer_argument(nb):
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    result = autograd_check(nb, "ScaledMatmul", [a, b, np.array(3)])
    assert [j.shape for j in result.analytic] == [(8, 6), (8, 12)]
    expect_jacobians_match(result)
    expect_jacobians_match(autograd_check(nb, "mul_add", [a, a + 1]))


def test_detached_output_fails(nb):
    result = autograd_check(nb, "detached_square", [np.ones(3)])
    assert not result.output_requires_grad
    with pytest.raises(AssertionError, match="does not require grad"):
        expect_jacobians_match(result)


def test_comparison_is_gradchecks_and_nan_fails():
    numeric = np.array([[1.0, 100.0]])
    within = JacobianCheck([numeric + [[9e-6, 0.09]]], [numeric], "float64", True)
    expect_jacobians_match(within)  # atol 1e-5 + rtol 1e-3 * |n|
    outside = JacobianCheck([numeric + [[0.0, 0.2]]], [numeric], "float64", True)
    with pytest.raises(AssertionError, match=r"d output\[0\] / d input\[1\]"):
        expect_jacobians_match(outside)
    nan = JacobianCheck([np.array([[np.nan, 1.0]])], [np.array([[0.0, 1.0]])], "float64", True)
    with pytest.raises(AssertionError, match="is nan by backward"):
        expect_jacobians_match(nan)
