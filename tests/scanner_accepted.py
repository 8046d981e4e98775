"""What an outside scanner (trivy, checkov) may report on an example: each accepted finding with
its reason, for the examples, kind and resource name it is accepted for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Finding(Protocol):
    @property
    def check(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Accepted:
    """A finding accepted in the named examples, on one resource (name "*": each of that kind)."""

    check: str
    examples: tuple[str, ...]
    kind: str
    name: str
    reason: str

    def covers(self, example: str, f: Finding) -> bool:
        return (
            example in self.examples
            and f.check == self.check
            and f.kind == self.kind
            and self.name in ("*", f.name)
        )
