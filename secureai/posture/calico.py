"""Calico selector expressions and rule ports, as far as posture needs to read them.

secureai writes Calico selectors in a small subset (`all()`, `k == 'v'`, `k != 'v'`,
`k in {'a', 'b'}`, `has(k)`, `!has(k)`, joined by `&&`); anything else is refused rather
than guessed, so a posture answer is never silently wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from secureai.posture.ports import MAX_PORT, PROTOCOLS, PortSet

_TERM = re.compile(
    r"""^\s*(?:
        (?P<all>all\(\))
      | (?P<neg>!)?has\((?P<has>[^)]+)\)
      | (?P<key>[A-Za-z0-9_./-]+)\s*(?P<op>==|!=)\s*'(?P<value>[^']*)'
      | (?P<inkey>[A-Za-z0-9_./-]+)\s+(?P<notin>not\s+)?in\s*\{(?P<values>[^}]*)\}
    )\s*$""",
    re.VERBOSE,
)


class UnsupportedSelector(ValueError):
    pass


def calico_matches(selector: str | None, labels: Mapping[str, str]) -> bool:
    if selector is None or not selector.strip():
        return True
    for term in selector.split("&&"):
        m = _TERM.match(term)
        if m is None:
            raise UnsupportedSelector(f"Calico selector not understood: {selector!r}")
        if m["all"]:
            continue
        if m["has"] is not None:
            present = m["has"].strip() in labels
            if present == bool(m["neg"]):
                return False
        elif m["key"] is not None:
            equal = labels.get(m["key"]) == m["value"]
            if equal != (m["op"] == "=="):
                return False
        else:
            values = {v.strip().strip("'") for v in m["values"].split(",") if v.strip()}
            inside = labels.get(m["inkey"]) in values
            if inside == bool(m["notin"]):
                return False
    return True


def calico_ports(protocol: str | None, ports: list[object] | None) -> PortSet:
    """A rule's protocol and destination ports; named ports are not used by secureai."""
    protocols = [protocol] if protocol in PROTOCOLS else list(PROTOCOLS) if protocol is None else []
    if not ports:
        return PortSet.of((p, 1, MAX_PORT) for p in protocols)
    ranges = []
    for port in ports:
        if isinstance(port, int):
            lo = hi = port
        elif isinstance(port, str) and re.fullmatch(r"\d+:\d+", port):
            lo, hi = (int(x) for x in port.split(":"))
        else:
            raise UnsupportedSelector(f"Calico port not understood: {port!r}")
        ranges += [(p, lo, hi) for p in protocols]
    return PortSet.of(ranges)
