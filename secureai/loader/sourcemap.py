"""Where each value of a loaded document stands in its file."""

from __future__ import annotations

from dataclasses import dataclass, field

from secureai.diagnostics import Diagnostic, PathElem, Position, SpecPath


@dataclass
class SourceMap:
    """Where each value of the document stands. Paths are tuples of keys and list indexes."""

    file: str
    values: dict[SpecPath, Position] = field(default_factory=dict)
    keys: dict[SpecPath, Position] = field(default_factory=dict)
    # An alias stands where it is written, but what lies below it is written at its anchor.
    aliases: dict[SpecPath, SpecPath] = field(default_factory=dict)
    # A key a mapping got from a `<<` merge -> the merged node it is written in (the first
    # source that has it, as the data has it). One entry per key, so a lookup is one step even
    # when a mapping merges thousands of sources.
    merged_from: dict[SpecPath, SpecPath] = field(default_factory=dict)
    # Block collections "start" at their first entry, so they are shown at their key instead.
    blocks: set[SpecPath] = field(default_factory=set)

    def locate(self, path: SpecPath, *, key: bool = False) -> Position | None:
        """The position of `path`, or of its nearest ancestor that the file spells out.

        Elements that the file does not contain (pydantic adds union member names and
        validator labels to error locations) are skipped rather than ending the walk. Below an
        alias or a merge key the walk continues where the data is written: at the anchor.
        """
        best = self.values.get(())
        current: SpecPath = ()
        for elem in path:
            found = self._written(current, elem)
            if found is None:
                continue
            current = found
            best = self.values[current]
        if (key or current in self.blocks) and current in self.keys:
            return self.keys[current]
        return best

    def _written(self, parent: SpecPath, elem: PathElem) -> SpecPath | None:
        """Where the file spells out entry `elem` of the node at `parent`, if anywhere.

        Aliases and merges only point back at nodes that were complete when they were used,
        so following them always ends.
        """
        while parent in self.aliases:
            parent = self.aliases[parent]
        candidate = (*parent, elem)
        if candidate in self.values:
            return candidate
        source = self.merged_from.get(candidate)
        return None if source is None else self._written(source, elem)

    def place(self, path: SpecPath, *, key: bool = False) -> tuple[str, Position | None]:
        """The file and position of `path` (a composed spec's entries stand in several files)."""
        return self.file, self.locate(path, key=key)

    def position_diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        if diagnostic.position is not None:
            return diagnostic
        return diagnostic.located(*self.place(diagnostic.path))
