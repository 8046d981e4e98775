"""Sets of (protocol, port) as disjoint ranges: what a flow allows, with union, meet and minus.

NetworkPolicy ports are single ports, ranges (`endPort`) or everything; Calico rules deny
what earlier rules left, so the set algebra needs difference as well as union and meet.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535

Range = tuple[str, int, int]


def _normal(ranges: Iterable[Range]) -> tuple[Range, ...]:
    out: list[Range] = []
    for proto, lo, hi in sorted(ranges, key=lambda r: (PROTOCOLS.index(r[0]), r[1], r[2])):
        if out and out[-1][0] == proto and lo <= out[-1][2] + 1:
            last = out[-1]
            out[-1] = (proto, last[1], max(last[2], hi))
        else:
            out.append((proto, lo, hi))
    return tuple(out)


@dataclass(frozen=True)
class PortSet:
    ranges: tuple[Range, ...] = ()

    @staticmethod
    def of(ranges: Iterable[Range]) -> PortSet:
        return PortSet(_normal(ranges))

    @staticmethod
    def all() -> PortSet:
        return _ALL

    @staticmethod
    def none() -> PortSet:
        return _NONE

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __or__(self, other: PortSet) -> PortSet:
        if not other.ranges or self is _ALL:
            return self
        if not self.ranges or other is _ALL:
            return other
        return PortSet.of((*self.ranges, *other.ranges))

    def __and__(self, other: PortSet) -> PortSet:
        if other is _ALL or not self.ranges:
            return self
        if self is _ALL or not other.ranges:
            return other
        out = [
            (p, max(lo, lo2), min(hi, hi2))
            for p, lo, hi in self.ranges
            for p2, lo2, hi2 in other.ranges
            if p == p2 and max(lo, lo2) <= min(hi, hi2)
        ]
        return PortSet.of(out)

    def __sub__(self, other: PortSet) -> PortSet:
        if not other.ranges or not self.ranges:
            return self
        if other is _ALL:
            return _NONE
        out: list[Range] = []
        for p, lo, hi in self.ranges:
            pieces = [(lo, hi)]
            for p2, lo2, hi2 in other.ranges:
                if p2 != p:
                    continue
                cut: list[tuple[int, int]] = []
                for a, b in pieces:
                    if hi2 < a or lo2 > b:
                        cut.append((a, b))
                        continue
                    if a < lo2:
                        cut.append((a, lo2 - 1))
                    if b > hi2:
                        cut.append((hi2 + 1, b))
                pieces = cut
            out += [(p, a, b) for a, b in pieces]
        return PortSet.of(out)

    def covers(self, other: PortSet) -> bool:
        return not (other - self)

    def is_all(self) -> bool:
        return self is _ALL or self.ranges == _ALL.ranges

    def text(self) -> str:
        """`all`, `TCP/5432`, `TCP/8000-8080`, `UDP/53, TCP/53`, `TCP/all`."""
        return _text(self.ranges)

    def to_json(self) -> list[dict[str, object]]:
        return [{"protocol": p, "from": lo, "to": hi} for p, lo, hi in self.ranges]


@functools.lru_cache(maxsize=4096)
def _text(ranges: tuple[Range, ...]) -> str:
    # Cached: a large spec prints the same few port sets tens of thousands of times.
    if not ranges:
        return "none"
    if ranges == _ALL.ranges:
        return "all"
    parts = []
    for p, lo, hi in ranges:
        if lo == 1 and hi == MAX_PORT:
            parts.append(f"{p}/all")
        else:
            parts.append(f"{p}/{lo}" if lo == hi else f"{p}/{lo}-{hi}")
    return ", ".join(parts)


_ALL = PortSet(tuple((p, 1, MAX_PORT) for p in PROTOCOLS))
_NONE = PortSet()
