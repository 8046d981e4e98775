"""Generated secrets reach the stack config down a pipe, never on a command line or in an
environment: a fake `pulumi` on PATH records every invocation's argv, environment and input.

The Automation API's own `set_config` passes the value as an argument; the control test shows
the fake would catch that, so the real test is not vacuous.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from specutil import write_spec

from secureai.deploy.stack import (
    StackRequest,
    ensure_generated_secrets,
    local_stack,
)
from secureai.pipeline import compile_path

FAKE = """#!{python}
import json, os, sys
args = sys.argv[1:]
entry = {{"argv": sys.argv, "env": dict(os.environ)}}
words = [a for a in args if not a.startswith("-")]
if words[:2] == ["config", "set"] and "--" not in args:
    entry["stdin"] = sys.stdin.read()
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
if words[:1] == ["version"]:
    print("v3.272.0")
elif words[:1] == ["config"] and "--json" in args:
    print("{{}}")
"""

SPEC = """\
version: 1
project: demo
kubernetes: { version: "1.30" }
namespaces: { ml: {} }
secrets:
  s:
    namespace: ml
    data:
      api_token: { generate: { length: 40 } }
      other: { generate: { length: 24, charset: hex } }
"""


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    log = tmp_path / "pulumi.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    return log


def _calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _stack(tmp_path: Path) -> Any:
    request = StackRequest(
        project="demo",
        stack="dev",
        backend_url=f"file://{tmp_path / 'state'}",
        work_dir=tmp_path / "work",
        secrets_provider=None,
        program=lambda: None,
        env_vars={"PULUMI_CONFIG_PASSPHRASE": "a-passphrase-for-tests"},
    )
    return local_stack(request)


def _plan(tmp_path: Path) -> Any:
    result = compile_path(write_spec(tmp_path, SPEC), {})
    assert result.value is not None
    return result.value.plan


def test_generated_values_go_through_stdin_only(tmp_path: Path, fake_pulumi: Path) -> None:
    stack = _stack(tmp_path)
    values = ensure_generated_secrets(stack, _plan(tmp_path))
    assert len(values) == 2 and all(len(v) >= 24 for v in values.values())
    calls = _calls(fake_pulumi)
    stored = [c for c in calls if "stdin" in c]
    assert sorted(c["stdin"] for c in stored) == sorted(values.values())
    for call in stored:
        assert "--secret" in call["argv"] and "--stack" in call["argv"]
    for call in calls:
        for value in values.values():
            assert all(value not in arg for arg in call["argv"]), call["argv"]
            assert all(value not in v for v in call["env"].values())


def test_control_the_automation_api_would_put_the_value_on_argv(tmp_path: Path, fake_pulumi: Path) -> None:
    from pulumi.automation import ConfigValue

    stack = _stack(tmp_path)
    stack.set_config("secureai:x", ConfigValue(value="visible-on-argv-value", secret=True))
    assert any("visible-on-argv-value" in c["argv"] for c in _calls(fake_pulumi))


def test_a_failed_store_is_a_command_error(tmp_path: Path, fake_pulumi: Path) -> None:
    from pulumi.automation import errors as auto_errors

    from secureai.deploy.errors import to_deploy_error

    stack = _stack(tmp_path)
    failing = tmp_path / "bin" / "pulumi"
    failing.write_text(
        failing.read_text(encoding="utf-8")
        + "if words[:2] == ['config', 'set']:\n    sys.stderr.write('error: backend is read-only')\n    sys.exit(1)\n",
        encoding="utf-8",
    )
    with pytest.raises(auto_errors.CommandError) as raised:
        ensure_generated_secrets(stack, _plan(tmp_path))
    err = to_deploy_error(raised.value)
    assert "backend is read-only" in err.text()
