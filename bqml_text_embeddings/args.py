"""What every component does with its arguments: checks the plain ones, keeps Inputs as Inputs.

A component's `args` is a TypedDict (its schema for every Pulumi language). Values that
name resources or shape SQL are checked before anything is declared, with one line per
problem naming the component and the argument, as the stack's config does with its keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

from bqml_text_embeddings.config.problems import Problems

Rule = Callable[[Any], str | None]
T = TypeVar("T")


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


def camel(name: str) -> str:
    """An argument's name as the configuration (and every non-Python language) spells it: max_replicas -> maxReplicas."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """A configuration key as a Python argument: bert.maxReplicas -> bert.max_replicas."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m[1].lower(), name)


def argument_name(what: str, key: str) -> str:
    """A configuration key named as the component's argument: gcp:region -> `what: region`."""
    return f"{what}: {snake(key.rpartition(':')[2])}"


def by_config_rules(what: str, parse: Callable[[Problems], T]) -> T:
    """`parse` run with the configuration's rules (bqml_text_embeddings/config), its problems named as arguments."""
    problems = Problems(lambda key: argument_name(what, key), ArgumentError, "invalid arguments")
    result = parse(problems)
    problems.raise_if_any()
    return result
