"""The example specs as the engine tests use them: retargeted to a version the cluster serves,
compiled with stand-in values, rendered to the manifests `secureai render` writes."""

from __future__ import annotations

import re
import shutil
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from test_vault_proof import FakeEnviron

from secureai.pipeline import Compiled, compile_path
from secureai.render.kubernetes import TEMPLATES, kubernetes_files, to_yaml

from .toolchain import minor_of

SPECS = Path(__file__).resolve().parents[2] / "specs"
# The bundled examples: every spec in specs/, and the composed organisation in specs/org/.
EXAMPLES = [*sorted(SPECS.glob("*.yaml")), SPECS / "org" / "secureai.yaml"]
OLDEST_SERVABLE = (1, 25)  # PodSecurityPolicy (policy/v1beta1) was removed in 1.25
# The version quoted either way (a spec written by yaml.safe_dump has single quotes).
_BLOCK = re.compile(
    r'(?m)^(kubernetes:[ \t]*\n(?:[ \t]+.*\n|[ \t]*\n)*?[ \t]+version:[ \t]*)["\'][^"\'\n]*["\']'
)
_FLOW = re.compile(r'(?m)^(kubernetes:[ \t]*\{[^}\n]*version:[ \t]*)["\'][^"\'\n]*["\']')


# API groups that operators add to a cluster and this control plane cannot validate, with why.
# (external-secrets.io is served by the operator's real CRDs: operator_apis.py.)
NOT_SERVED = {
    "projectcalico.org": (
        "projectcalico.org/v3 is served by Calico's aggregated API server, not a CRD, and no real "
        "schema for it is on the Go module proxy: it serves no version of "
        "github.com/projectcalico/api, and the one github.com/projectcalico/calico version it "
        "serves leaves out api/ and has CRDs of crd.projectcalico.org/v1 only, another group "
        "(its spec is checked against that group's schema of the same Go type, see "
        "test_rendered_calico_policy_specs_fit_calicos_schema_of_that_type)"
    ),
}


def not_served(manifest: dict[str, Any]) -> str | None:
    """Why this control plane cannot validate `manifest` (None: it can)."""
    group = str(manifest["apiVersion"]).rpartition("/")[0]
    return NOT_SERVED.get(group)


def declared_version(spec: Path) -> str:
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    return str(data["kubernetes"]["version"])


def servable(version: str, server: str) -> bool:
    """Whether a cluster at `server` (e.g. v1.34.4) serves every API a `version` target renders."""
    want = tuple(int(x) for x in version.split("."))
    have = tuple(int(x) for x in minor_of(server).split("."))
    return OLDEST_SERVABLE <= want <= have


def targets(spec: Path, server: str) -> list[str]:
    """The spec's own target if this cluster can serve it, and the cluster's own minor."""
    minor = minor_of(server)
    own = declared_version(spec)
    return [own, minor] if servable(own, server) and own != minor else [minor]


def retarget(spec: Path, version: str, into: Path) -> Path:
    """A copy of `spec` in `into` with `kubernetes.version` set (files/ next to it, as a link)."""
    text = spec.read_text(encoding="utf-8")
    new, count = _BLOCK.subn(rf'\g<1>"{version}"', text, count=1)
    if count == 0:
        new, count = _FLOW.subn(rf'\g<1>"{version}"', text, count=1)
    assert count == 1, f"{spec}: no kubernetes.version to retarget"
    into.mkdir(parents=True, exist_ok=True)
    copy = into / spec.name
    copy.write_text(new, encoding="utf-8")
    if (spec.parent / "files").is_dir() and not (into / "files").exists():
        (into / "files").symlink_to(spec.parent / "files")
    bring_parts(spec, into)
    return copy


def bring_parts(spec: Path, into: Path) -> None:
    """A composed spec's folders of included files, copied beside its copy (a link would resolve
    outside the root's directory, which the composer refuses)."""
    if "\ninclude:" not in "\n" + spec.read_text(encoding="utf-8"):
        return
    for child in spec.parent.iterdir():
        if child.is_dir() and child.name != "files" and not (into / child.name).exists():
            shutil.copytree(child, into / child.name)


def compiled_at(spec: Path, version: str, into: Path, environ: Mapping[str, str] | None = None) -> Compiled:
    """`spec` at `version`, compiled with stand-in values for every variable (`environ` first)."""
    stand_ins = FakeEnviron()
    result = compile_path(retarget(spec, version, into), ChainMap(dict(environ or {}), stand_ins))
    assert result.value is not None, [d.text() for d in result.diagnostics]
    return result.value


def rendered(compiled: Compiled) -> list[tuple[str, str, dict[str, Any]]]:
    """(file name, YAML text, parsed manifest) of every rendered Kubernetes object, in apply order
    (by the numeric prefix; Secrets with placeholder values, in `secret-templates/`, included)."""
    files = kubernetes_files(compiled.plan)
    ordered = sorted(files.items(), key=lambda item: item[0].rsplit("/", 1)[-1])
    out = []
    for name, text in ordered:
        manifest = yaml.safe_load(text)
        if name.startswith(TEMPLATES) and manifest.get("type") in PARSED_SECRET_TYPES:
            text, manifest = _stand_in(manifest)
        out.append((name, text, manifest))
    return out


# Secret types whose value the API server parses: a `<secret:...>` placeholder is not JSON, so
# their templates carry a well-formed stand-in where the user's value will go.
PARSED_SECRET_TYPES = {
    "kubernetes.io/dockerconfigjson": {".dockerconfigjson": '{"auths": {}}'},
    "kubernetes.io/dockercfg": {".dockercfg": "{}"},
}


def _stand_in(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    values = manifest.get("stringData", {})
    for key, stand_in in PARSED_SECRET_TYPES[manifest["type"]].items():
        if str(values.get(key, "")).startswith("<secret:"):
            values[key] = stand_in
    return to_yaml(manifest), manifest
