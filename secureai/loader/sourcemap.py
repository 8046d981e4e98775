"""Where each value of a loaded document stands in its file."""

from __future__ import annotations

from dataclasses import dataclass, field

from secureai.diagnostics import Diagnostic, Position, SpecPath


@dataclass
class SourceMap:
    """Where each value of the document stands. Paths are tuples of keys and list indexes."""

    file: str
    values: dict[SpecPath, Position] = field(default_factory=dict)
    keys: dict[SpecPath, Position] = field(default_factory=dict)

    def locate(self, path: SpecPath, *, key: bool = False) -> Position | None:
        """The position of `path`, or of its nearest ancestor that the file spells out.

        Elements that the file does not contain (pydantic adds union member names and
        validator labels to error locations) are skipped rather than ending the walk.
        """
        best = self.values.get(())
        current: SpecPath = ()
        for elem in path:
            candidate = (*current, elem)
            if candidate not in self.values:
                continue
            current = candidate
            best = self.values[current]
        if key and current in self.keys:
            return self.keys[current]
        return best

    def position_diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        if diagnostic.position is not None:
            return diagnostic
        return diagnostic.located(self.file, self.locate(diagnostic.path))
