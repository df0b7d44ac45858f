"""Bounds of numeric options that typer's ``min=``/``max=`` cannot say: finite floats, open intervals, lists."""

import math
from collections.abc import Callable

import typer


def bound_problem(value: float, low: float, high: float = math.inf, low_open: bool = False) -> str | None:
    """Why ``value`` is not a finite number from ``low`` (excluded with ``low_open``) to ``high``, or None."""
    if math.isfinite(value) and (value > low if low_open else value >= low) and value <= high:
        return None
    above = f"more than {low:g}" if low_open else f"at least {low:g}"
    wanted = above if high == math.inf else f"{above} and at most {high:g}"
    return f"must be a number {wanted}, not {value:g}"


def bounded(low: float, high: float = math.inf, low_open: bool = False) -> Callable[[float | None], float | None]:
    """A typer callback that refuses, as a bad parameter, a value outside the bounds (``bound_problem``)."""

    def check(value: float | None) -> float | None:
        if value is not None and (problem := bound_problem(value, low, high, low_open)):
            raise typer.BadParameter(problem)
        return value

    return check


def number_list(text: str, option: str, low: float, high: float = math.inf) -> list[float]:
    """A comma-separated list of at least one number, each within ``bound_problem``'s bounds."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a comma-separated list of numbers", param_hint=option) from None
    if not values:
        raise typer.BadParameter("give at least one number", param_hint=option)
    for value in values:
        if problem := bound_problem(value, low, high):
            raise typer.BadParameter(f"each {problem}", param_hint=option)
    return values
