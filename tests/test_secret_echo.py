"""No diagnostic quotes source text from where a secret value can stand, in any output format.

An unquoted secret literal can read as YAML syntax: a tag (`!pw`), an alias (`*pw`), an anchor
(`&pw`), the keys of a flow mapping (`{pw, pw}`), or a character the parser reports. Each case
must still be a positioned error, and the secret must not appear in text, JSON or SARIF.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from secureai.cli import app

SECRET = "Zq8sEcReT"

SPEC = """\
version: 1
project: demo
kubernetes: {{ version: "1.30" }}
namespaces: {{ ml: {{}} }}
secrets:
  s:
    namespace: ml
    data:
      a: {{ literal: "x", allowPlaintext: true }}
      b: {{ literal: {value}, allowPlaintext: true }}
{extra}"""

CASES = {
    "tag": (f"!{SECRET}", ""),
    "tag with a handle": (f"!!{SECRET}", ""),
    "tag on a mapping": (f"!{SECRET} {{}}", ""),
    "alias": (f"*{SECRET}", ""),
    "alias with a suffix": (f"*{SECRET}x", ""),
    "anchor defined twice": (f"&{SECRET} x", f"other: &{SECRET} y\n"),
    "anchor twice, both as values": (f"&{SECRET} x", f"more: {{ k: &{SECRET} z }}\n"),
    "duplicate flow key": (f"{{{SECRET}, {SECRET}}}", ""),
    "duplicate flow key with values": (f"{{{SECRET}: 1, {SECRET}: 2}}", ""),
    "duplicate flow key in a list": (f"[{{{SECRET}, {SECRET}}}]", ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_secret_shaped_as_yaml_syntax_is_never_quoted(tmp_path: Path, case: str, fmt: str) -> None:
    value, extra = CASES[case]
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(value=value, extra=extra), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--format", fmt])
    assert result.exit_code == 1, result.output
    assert "spec.yaml" in result.output and "SA00" in result.output
    if fmt == "text":
        assert result.output.split("spec.yaml:")[1].split(":")[0] in ("10", "11"), result.output
    assert SECRET not in result.output
