"""Option types shared by several commands."""

import click

from ..activations import HIDDEN, OUTPUTS


class IntList(click.ParamType):
    """A comma-separated list of positive integers, e.g. ``784,100,10,10``."""

    name = "N,N,…"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        try:
            sizes = [int(v) for v in str(value).split(",")]
        except ValueError:
            sizes = []
        if len(sizes) < 2 or min(sizes) < 1:
            self.fail(f"{value!r} is not a list of at least two positive integers like 784,100,10,10",
                      param, ctx)
        return sizes


class NameList(click.ParamType):
    """A comma-separated list of activation names, e.g. ``sigmoid,sigmoid,softmax``."""

    name = "NAME,NAME,…"

    def convert(self, value, param, ctx):
        if isinstance(value, (list, tuple)):
            return list(value)
        names = [v.strip().lower() for v in str(value).split(",")]
        for n in names:
            if n not in HIDDEN + OUTPUTS:
                self.fail(f"unknown activation {n!r}; choose from {', '.join(HIDDEN + OUTPUTS)}",
                          param, ctx)
        return names


LAYER_SIZES = IntList()
ACTIVATION_NAMES = NameList()
