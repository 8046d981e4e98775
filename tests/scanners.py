"""What the outside-scanner tests (trivy, checkov) share: an example rendered to the manifests a
scanner reads, and the accepted findings (each with its reason, for the examples, kind and
resource name it is accepted for) held against what the scanner reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from secureai.pipeline import Compiled, compile_path
from secureai.render import render_files, write_tree


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


F = TypeVar("F", bound=Finding)


def rendered_manifests(
    path: Path, environ: Mapping[str, str], tmp_path: Path, edit: Callable[[Path], None] | None = None
) -> tuple[Compiled, Path]:
    """The example compiled, and the folder of its rendered Kubernetes manifests (`edit`ed)."""
    compiled = compile_path(path, environ).value
    assert compiled is not None
    out = tmp_path / "out"
    write_tree(render_files(compiled.plan), out)
    manifests = out / "kubernetes"
    if edit is not None:
        edit(manifests)
    return compiled, manifests


def unaccepted(
    tool: str,
    example: str,
    found: Sequence[F],
    accepted: Sequence[Accepted],
    rule: Callable[[F], Any],
    stale_too: bool,
) -> list[F]:
    """The findings nothing accepts (neither an entry nor the test's `rule`); with `stale_too`,
    an accepted entry the tool no longer reports fails, so the list cannot go stale."""
    if stale_too:
        stale = [
            a for a in accepted if example in a.examples and not any(a.covers(example, f) for f in found)
        ]
        assert not stale, f"accepted findings {tool} no longer reports (drop them): {stale}"
    return [f for f in found if not any(a.covers(example, f) for a in accepted) and rule(f) is None]
