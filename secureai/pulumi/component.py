"""SecuritySpec: the Pulumi component that registers every resource of a compiled Plan.

One child per Plan resource, in dependency order, each on an explicit provider built here
(never the ambient default provider, so a stray kubeconfig context cannot receive the
resources). Secret placeholders are resolved at the last moment and wrapped in
`pulumi.Output.secret` at once; generated secrets come from stack config so that they stay
the same from one run to the next.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from secureai.compile.plan import Plan, Resource, SecretValue, iter_secrets, replace_secrets
from secureai.diagnostics import Diagnostic
from secureai.pulumi.mapping import VAULT_JSON_ARGS, kwargs_for, target_for
from secureai.resolve import ResolveContext, ResolveError, VaultReader, resolve, resolve_all, vault_address

COMPONENT_TYPE = "secureai:index:SecuritySpec"
CONFIG_NAMESPACE = "secureai"
SECRET_TYPE = "kubernetes:core/v1:Secret"
KV_SECRET_TYPE = "vault:kv/secretV2:SecretV2"


class SpecError(Exception):
    """The spec did not compile; carries the diagnostics, already formatted in the message."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class MissingGeneratedSecretError(Exception):
    """A generated secret has no stored value; the message says how to store one."""


class ConfigurationError(Exception):
    """The environment lacks something a provider needs (e.g. the Vault address)."""


def load_plan(spec: str | os.PathLike[str] | Plan, environ: Mapping[str, str] | None = None) -> Plan:
    """The Plan itself, or the compiled spec file; SpecError when it does not compile."""
    if isinstance(spec, Plan):
        return spec
    from secureai.pipeline import compile_file  # late: the pipeline is not needed for Plans

    result = compile_file(Path(spec), environ)
    if result.ok and result.value is not None:
        return result.value
    errors = [d for d in result.diagnostics if d.is_error] or result.diagnostics
    lines = "\n".join(d.text() for d in errors) or "(no diagnostics)"
    raise SpecError(f"{os.fspath(spec)} does not compile:\n{lines}", result.diagnostics)


_READABLE_PART = re.compile(r"^[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*$")


def generated_config_key(ref: str) -> str:
    """The stack config key (in namespace `secureai`) that stores a generated secret.

    Readable where the ref allows: `<namespace>/<secret>/<key>` becomes
    `generated-<namespace>__<secret>__<key>` (`generated-ml__db__api_token`), the parts joined
    by `__`, which no such part holds. A part with characters outside the config-key alphabet
    (a `.` in a secret name) falls back to a slug plus a short hash of the ref, so that
    distinct refs never share a key.
    """
    parts = ref.split("/")
    if all(_READABLE_PART.match(part) for part in parts):
        return "generated-" + "__".join(parts)
    return _hashed_config_key(ref)


def legacy_generated_config_key(ref: str) -> str:
    """The key secureai 0.1 stored a generated secret under (always hashed): still read, so
    that a stack created then keeps its values instead of generating new ones."""
    return _hashed_config_key(ref)


def _hashed_config_key(ref: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", ref).strip("-")
    if slug != ref:
        slug = f"{slug}-{hashlib.sha256(ref.encode()).hexdigest()[:8]}"
    return f"generated-{slug}"


def generated_refs(plan: Plan) -> dict[str, SecretValue]:
    """Every generated secret in a Plan, by ref (one value per ref, shared by its users)."""
    found: dict[str, SecretValue] = {}
    for resource in plan.resources:
        for _, value in iter_secrets(resource.properties):
            if value.source == "generate":
                found.setdefault(value.ref, value)
    return found


class SecuritySpec(pulumi.ComponentResource):
    """All resources of one secureai spec, as children of one component.

    After construction, `resources` maps each Plan resource key (`type::name`) to its Pulumi
    resource, and `namespaces` lists the namespaces it creates.
    """

    resources: dict[str, pulumi.CustomResource]

    def __init__(
        self,
        name: str,
        spec: str | os.PathLike[str] | Plan,
        opts: pulumi.ResourceOptions | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        generated: Mapping[str, str] | None = None,
        vault_reader: VaultReader | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """Compile `spec` and register every resource it describes.

        Args:
            name: the component's Pulumi name (part of every child's URN: keep it stable).
            spec: a spec file path, or an already compiled `Plan`.
            opts: options for the component itself (parent, protect, ...).
            environ: where `fromEnv` values and `VAULT_ADDR` are read; default `os.environ`.
                Pass a mapping to decide exactly what the program may see.
            generated: values for `generate` secrets by ref (`<namespace>/<secret>/<key>`,
                `vault/<path>/<key>`), used when the stack config has none. Normally empty:
                `secureai apply` stores each generated value once as secret stack config
                (`secureai:generated-<namespace>__<secret>__<key>`) and it is read from there.
            vault_reader: `(path, key) -> value` for `fromVault` values on paths this spec
                does not write (`secureai.vaultio.vault_reader(address, token, mount)` builds
                one); without it such a value raises `ResolveError`.
            base_dir: where `fromFile` paths are relative to; default the spec's directory.

        Raises:
            SpecError: the spec has errors; `.diagnostics` holds them, positioned.
            ResolveError: a value is not available (unset variable, unreadable file, no Vault
                reader); the message names every missing value's source, never a value.
            MissingGeneratedSecretError: a generated secret has no stored value (the message
                says the `pulumi config set --secret` command that stores one).
            ConfigurationError: the spec has Vault resources and no Vault address.
        """
        super().__init__(COMPONENT_TYPE, name, None, opts)
        env = dict(os.environ) if environ is None else dict(environ)
        plan = load_plan(spec, env)
        ctx = ResolveContext(base_dir=_base_dir(spec, plan, base_dir), environ=env, vault_reader=vault_reader)
        secrets = _SecretSource(ctx, generated or {}, _declared_vault_data(plan))
        secrets.resolve_now(plan)  # every missing value in one error, before any resource
        providers = _providers(self, name, plan, env)
        self._vault_address = _vault_address(plan, env) if _uses_builtin_vault(plan) else None
        index = _reference_index(plan.resources)
        self.resources = {}
        for resource in ordered(plan.resources):
            depends_on = [self.resources[dep.key] for dep in dependencies(resource, index)]
            self.resources[resource.key] = self._child(resource, providers, secrets, depends_on)
        self.namespaces = sorted(r.name for r in plan.resources if r.type == "kubernetes:core/v1:Namespace")
        self.register_outputs({"resources": sorted(self.resources), "namespaces": self.namespaces})

    def _child(
        self,
        resource: Resource,
        providers: Mapping[str, pulumi.ProviderResource],
        secrets: _SecretSource,
        depends_on: list[pulumi.CustomResource],
    ) -> pulumi.CustomResource:
        properties = secrets.substitute(resource)
        if resource.provider == "vault":
            properties = _encode_json_args(properties)
        if resource.provider == "vault" and self._vault_address is not None:
            return self._builtin_vault_child(resource, properties, depends_on)
        target = target_for(resource.type)
        options = pulumi.ResourceOptions(
            parent=self,
            provider=providers[resource.provider],
            depends_on=depends_on,
            additional_secret_outputs=_secret_fields(resource),
        )
        instance: pulumi.CustomResource = target.cls(
            resource.name, opts=options, **kwargs_for(target, properties)
        )
        return instance

    def _builtin_vault_child(
        self, resource: Resource, properties: dict[str, Any], depends_on: list[pulumi.CustomResource]
    ) -> pulumi.CustomResource:
        """A Vault object through the built-in provider: no provider resource, no plugin."""
        from secureai.pulumi.vault_builtin import BUILTIN_CLASSES

        cls = BUILTIN_CLASSES.get(resource.type)
        if cls is None:
            raise ValueError(f"the built-in Vault provider has no resource for {resource.type!r}")
        options = pulumi.ResourceOptions(
            parent=self, depends_on=depends_on, additional_secret_outputs=_secret_fields(resource)
        )
        instance: pulumi.CustomResource = cls(
            resource.name, opts=options, address=self._vault_address, **properties
        )
        return instance


class _SecretSource:
    """Resolves SecretValue leaves into secret Outputs; generated ones from stack config."""

    def __init__(
        self, ctx: ResolveContext, generated: Mapping[str, str], declared: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self._ctx = ctx
        self._generated = generated
        self._declared = declared
        self._config = pulumi.Config(CONFIG_NAMESPACE)
        self._resolved: dict[tuple[str, str], str] = {}

    def resolve_now(self, plan: Plan) -> None:
        """Read every value from its source at once (not the generated ones, nor those of
        Vault paths the plan writes itself), so a ResolveError names all that are missing."""
        wanted = [
            value
            for resource in plan.resources
            for _, value in iter_secrets(resource.properties)
            if value.source != "generate" and not self._declared_here(value)
        ]
        self._resolved = resolve_all(wanted, self._ctx)

    def _declared_here(self, value: SecretValue) -> bool:
        path, _, key = value.ref.partition("#")
        return value.source == "vault" and key in self._declared.get(path, {})

    def substitute(self, resource: Resource) -> dict[str, Any]:
        # Kubernetes Secret `data` holds base64 per the API; `stringData` holds plain text.
        def leaf(path: tuple[str | int, ...], value: SecretValue) -> pulumi.Output[str]:
            output = self.output(value)
            if resource.type == SECRET_TYPE and path[:1] == ("data",):
                return output.apply(_b64)
            return output

        result = replace_secrets(resource.properties, leaf)
        assert isinstance(result, dict)
        return result

    def output(self, value: SecretValue) -> pulumi.Output[str]:
        if value.source == "vault":
            path, _, key = value.ref.partition("#")
            if key in self._declared.get(path, {}):
                # The same spec writes this path: on a first apply Vault does not hold it yet,
                # so the value is taken from where the spec says it comes from.
                declared = self._declared[path][key]
                if isinstance(declared, SecretValue):
                    return self.output(declared)
                return pulumi.Output.secret(declared if isinstance(declared, str) else json.dumps(declared))
        if value.source != "generate":
            known = self._resolved.get((value.source, value.ref))
            return pulumi.Output.secret(known if known is not None else resolve(value, self._ctx))
        for key in (generated_config_key(value.ref), legacy_generated_config_key(value.ref)):
            stored = self._config.get_secret(key)
            if stored is not None:
                return stored
        if value.ref in self._generated:
            return pulumi.Output.secret(self._generated[value.ref])
        key = f"{CONFIG_NAMESPACE}:{generated_config_key(value.ref)}"
        raise MissingGeneratedSecretError(
            f"generated secret {value.ref} has no stored value in stack config key {key}; "
            f"run `secureai apply` (it generates and stores it) or set it with "
            f"`pulumi config set --secret {key} <value>`"
        )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _encode_json_args(properties: dict[str, Any]) -> dict[str, Any]:
    """Vault JSON args become secret JSON text: what a KV secret holds is sensitive as a whole,
    even where the spec wrote plain values (model parameters are the seed's own example)."""
    return {
        key: pulumi.Output.secret(pulumi.Output.json_dumps(value)) if key in VAULT_JSON_ARGS else value
        for key, value in properties.items()
    }


def _secret_fields(resource: Resource) -> list[str]:
    """Top-level properties holding a secret: their outputs must be secret in state too."""
    fields = {str(path[0]) for path in resource.secret_paths() if path}
    fields |= {key for key in resource.properties if key in VAULT_JSON_ARGS}
    return sorted(fields)


def _declared_vault_data(plan: Plan) -> dict[str, Mapping[str, Any]]:
    """KV v2 data the plan itself writes, by path: `fromVault` on these needs no Vault read."""
    return {
        str(r.properties["name"]): r.properties["data_json"]
        for r in plan.resources
        if r.type == KV_SECRET_TYPE and isinstance(r.properties.get("data_json"), Mapping)
    }


def ordered(resources: Sequence[Resource]) -> list[Resource]:
    """Plan order, except that a resource comes after everything it depends on."""
    index = _reference_index(resources)
    done: set[str] = set()
    visiting: set[str] = set()
    result: list[Resource] = []

    def visit(resource: Resource) -> None:
        if resource.key in done:
            return
        if resource.key in visiting:
            raise ValueError(f"dependency cycle through {resource.key}")
        visiting.add(resource.key)
        for dependency in dependencies(resource, index):
            visit(dependency)
        visiting.discard(resource.key)
        done.add(resource.key)
        result.append(resource)

    for resource in resources:
        visit(resource)
    return result


def _reference_index(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    """depends_on entries may be keys (`type::name`) or bare names; index both."""
    index: dict[str, list[Resource]] = {}
    for resource in resources:
        index.setdefault(resource.key, []).append(resource)
        if resource.name != resource.key:
            index.setdefault(resource.name, []).append(resource)
    return index


def dependencies(resource: Resource, index: Mapping[str, list[Resource]]) -> list[Resource]:
    """The Plan resources `resource.depends_on` names; unknown or ambiguous refs are errors."""
    found = []
    for ref in resource.depends_on:
        matches = index.get(ref, [])
        if len(matches) != 1:
            problem = "is ambiguous (use the type::name key)" if matches else "is not in the plan"
            raise ValueError(f"{resource.key} depends on {ref!r}, which {problem}")
        found.append(matches[0])
    return found


def _base_dir(
    spec: str | os.PathLike[str] | Plan, plan: Plan, explicit: str | os.PathLike[str] | None
) -> Path:
    """Where `fromFile` paths are relative to: the spec's directory when known."""
    if explicit is not None:
        return Path(explicit)
    if not isinstance(spec, Plan):
        return Path(spec).resolve().parent
    return Path(str(plan.settings.get("base_dir", "."))).resolve()


def _providers(
    parent: pulumi.Resource, name: str, plan: Plan, env: Mapping[str, str]
) -> dict[str, pulumi.ProviderResource]:
    """One explicit provider per provider package the plan uses, and no other."""
    used = {r.provider for r in plan.resources}
    unknown = used - {"kubernetes", "vault"}
    if unknown:
        raise ValueError(f"no provider for {', '.join(sorted(unknown))}")
    opts = pulumi.ResourceOptions(parent=parent)
    providers: dict[str, pulumi.ProviderResource] = {}
    if "kubernetes" in used:
        providers["kubernetes"] = _kubernetes_provider(f"{name}-kubernetes", plan, opts)
    if "vault" in used and not _uses_builtin_vault(plan):
        providers["vault"] = _vault_provider(f"{name}-vault", plan, env, opts)
    return providers


def _uses_builtin_vault(plan: Plan) -> bool:
    """Vault resources go through the built-in provider unless the spec asks for pulumi-vault."""
    uses_vault = any(r.provider == "vault" for r in plan.resources)
    return uses_vault and plan.settings.get("vault_provider", "builtin") != "pulumi-vault"


def _vault_address(plan: Plan, env: Mapping[str, str]) -> str:
    try:
        return vault_address(plan.settings.get("vault_address"), env)
    except ResolveError as exc:
        raise ConfigurationError(str(exc)) from None


# Provider inputs are stored in the stack's state, and `destroy` (which does not run the
# program) configures the providers from that stored copy. So only what names *where* the
# resources live goes in (the kube context, the Vault address); credentials and machine-local
# paths (VAULT_TOKEN, KUBECONFIG) are left to the providers, which read them from the
# environment of each run. Stored, a rotated Vault token would make every later destroy fail
# and every preview show a provider change (drift), and a KUBECONFIG path from one machine
# would point nowhere on the next.


def _kubernetes_provider(name: str, plan: Plan, opts: pulumi.ResourceOptions) -> pulumi.ProviderResource:
    from pulumi_kubernetes import Provider

    provider: pulumi.ProviderResource = Provider(name, context=plan.settings.get("kube_context"), opts=opts)
    return provider


def _vault_provider(
    name: str, plan: Plan, env: Mapping[str, str], opts: pulumi.ResourceOptions
) -> pulumi.ProviderResource:
    from pulumi_vault import Provider

    address = _vault_address(plan, env)
    provider: pulumi.ProviderResource = Provider(name, address=address, opts=opts)
    return provider
