"""Egress CIDRs leave out the cloud metadata endpoints unless the spec names them."""

from __future__ import annotations

import pytest

from secureai.compile.kubernetes.network import with_metadata_excluded


@pytest.mark.parametrize(
    ("cidr", "excepts", "expected"),
    [
        ("0.0.0.0/0", [], ["169.254.169.254/32"]),
        ("169.254.0.0/16", ["169.254.1.0/24"], ["169.254.1.0/24", "169.254.169.254/32"]),
        ("::/0", [], ["fd00:ec2::254/128"]),
        ("fd00::/8", [], ["fd00:ec2::254/128"]),
        ("10.0.0.0/8", [], []),
        ("169.254.169.254/32", [], []),  # named: wanted
        ("0.0.0.0/0", ["169.254.0.0/16"], ["169.254.0.0/16"]),  # already left out
    ],
)
def test_metadata_endpoints_are_excluded(cidr: str, excepts: list[str], expected: list[str]) -> None:
    assert with_metadata_excluded(cidr, excepts) == expected
