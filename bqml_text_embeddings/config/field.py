"""A configuration key as the table of keys defines it: default, bounds, the fix an error gives, its doc."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bqml_text_embeddings import validate


@dataclass(frozen=True)
class Field:
    """One key. Its parser (parsing.py and the section modules) enforces it; docs/configuration.md documents it."""

    name: str
    default: Any = None  # None: unset, unless required
    doc: str = ""  # the configuration table's "meaning" cell (Markdown); "" for a key its object's line documents
    kind: str = ""  # a stack key's type as Pulumi.yaml declares it: string, integer, array or object
    required: bool = False
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    fix: str = ""  # what an error asks for after the value; "": the shared check's own message
    shown: str = ""  # the table's default when it is not the value itself ("per model")
    fields: tuple[Field, ...] = ()  # an object's keys

    def __getitem__(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)

    @property
    def defaults(self) -> dict[str, Any]:
        """An object's optional keys and their defaults, in the table's order."""
        return {field.name: field.default for field in self.fields if not field.required}

    @property
    def required_keys(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields if field.required)

    def refusal(self, value: Any, problem: str | None) -> str | None:
        """A shared check's verdict on this key's value, in this key's words when it has its own fix."""
        if problem is None:
            return None
        return f"{value!r}: {self.fix}" if self.fix else problem

    def whole(self, value: Any) -> tuple[int | None, str | None]:
        """(the number, None) for a whole number within this key's bounds, else (None, the error)."""
        assert self.low is not None, self.name
        problem = self.refusal(value, validate.whole(value, self.low, self.high))
        return (None, problem) if problem else (validate.as_int(value), None)


def section(name: str, doc: str, *fields: Field) -> Field:
    """An object key: its value's keys merge over these defaults, one by one."""
    defaults = {field.name: field.default for field in fields if not field.required}
    return Field(name, defaults, doc, kind="object", fields=fields)
