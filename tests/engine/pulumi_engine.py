"""The real Pulumi engine for tests and scripts: the built CLI, its plugins, a private PULUMI_HOME.

Binaries are built by `scripts/engine/build-pulumi.sh` into the engine cache as
`pulumi-<version>/pulumi` and `pulumi-resource-<name>-<version>/pulumi-resource-<name>`, at the
versions in `engine/pulumi/versions.env`. `PulumiEngine.prepare(home)` installs the providers
into a PULUMI_HOME the caller owns (`pulumi plugin install ... --file`), and `env()` is the
environment a `secureai` run needs: the CLI first on PATH, that PULUMI_HOME, and automatic
plugin download off, so that a missing plugin fails at once instead of reaching for the network.
No pytest here: scripts/example.sh uses it too.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .toolchain import PULUMI_VERSIONS_ENV, Tool, cached, pinned

BUILD_HINT = "run `bash scripts/engine/build-pulumi.sh` (builds what is missing)"


@dataclass(frozen=True)
class PulumiEngine:
    cli: Tool
    providers: dict[str, Tool]

    def missing_reason(self) -> str | None:
        gone = [t.describe() for t in (self.cli, *self.providers.values()) if not t.present]
        return f"Pulumi engine incomplete: missing {'; '.join(gone)}; {BUILD_HINT}" if gone else None

    def env(self, home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for the CLI and for `secureai` runs that drive it."""
        env = dict(os.environ if base is None else base)
        env.update(
            PATH=f"{self.cli.path.parent}{os.pathsep}{env.get('PATH', '')}",
            PULUMI_HOME=str(home),
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            # Plugins come only from PULUMI_HOME: one on PATH would be used with a warning.
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            PULUMI_SKIP_UPDATE_CHECK="true",
        )
        return env

    def prepare(self, home: Path) -> None:
        """Install every built provider into `home` (idempotent)."""
        home.mkdir(parents=True, exist_ok=True)
        env = self.env(home)
        for name, tool in self.providers.items():
            if (home / "plugins" / f"resource-{name}-v{tool.version}").is_dir():
                continue
            subprocess.run(
                [
                    str(self.cli.path),
                    "plugin",
                    "install",
                    "resource",
                    name,
                    f"v{tool.version}",
                    "--file",
                    str(tool.path),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )


def pulumi_engine() -> PulumiEngine:
    return PulumiEngine(
        cli=cached("pulumi", pinned("PULUMI_VERSION", PULUMI_VERSIONS_ENV)),
        providers={
            "kubernetes": cached(
                "pulumi-resource-kubernetes", pinned("KUBERNETES_PROVIDER_VERSION", PULUMI_VERSIONS_ENV)
            ),
        },
    )
