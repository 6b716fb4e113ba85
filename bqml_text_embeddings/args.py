"""What every component does with its arguments: checks the plain ones, keeps Inputs as Inputs.

A component's `args` is a TypedDict (its schema for every Pulumi language). Values that
name resources or shape SQL are checked before anything is declared, with one line per
problem naming the component and the argument, as the stack's config does with its keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi

Rule = Callable[[Any], str | None]


class ArgumentError(ValueError):
    """One line per bad argument, each naming the component, the argument and the fix."""


def checked(what: str, args: Mapping[str, Any], **rules: Rule) -> tuple[Any, ...]:
    """The values of `args` that `rules` name, in order, each judged by its rule (None: good).

    A missing argument is passed to its rule as None, so a rule for an optional one accepts None.
    """
    problems = [f"{what}: {key}: {message}" for key, rule in rules.items() if (message := rule(args.get(key)))]
    if problems:
        raise ArgumentError("invalid arguments:\n  " + "\n  ".join(problems))
    return tuple(args.get(key) for key in rules)


def optional(rule: Rule) -> Rule:
    """A rule that also accepts an argument left out."""
    return lambda value: None if value is None else rule(value)


def depends(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """What the component was declared after, as a list."""
    found = opts.depends_on if opts else None
    if found is None:
        return []
    return list(found) if isinstance(found, (list, tuple)) else [found]


def opts_after(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None, *more: Any) -> pulumi.ResourceOptions:
    """A first child's options: parented to the component, and after what the component was declared after
    (a component's depends_on does not hold its children back on its own), and `more`."""
    return pulumi.ResourceOptions(parent=parent, depends_on=[*depends(opts), *more])
