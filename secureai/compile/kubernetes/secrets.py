"""Kubernetes Secrets whose values are SecretValue placeholders, never the values themselves."""

from __future__ import annotations

from secureai.compile.kubernetes.common import resource
from secureai.compile.plan import Resource, SecretValue
from secureai.diagnostics import SpecPath
from secureai.model.spec import Spec, ValueSource


def secret_value(source: ValueSource, namespace: str, secret: str, key: str, path: SpecPath) -> SecretValue:
    """Where one value comes from, as the placeholder the Plan carries."""
    if source.from_env is not None:
        return SecretValue("env", source.from_env, path)
    if source.from_file is not None:
        return SecretValue("file", source.from_file, path)
    if source.generate is not None:
        gen = source.generate
        return SecretValue("generate", f"{namespace}/{secret}/{key}", path, gen.length, gen.charset)
    if source.from_vault is not None:
        return SecretValue("vault", f"{source.from_vault.path}#{source.from_vault.key}", path)
    assert source.literal is not None  # the model guarantees exactly one source
    dotted = ".".join(str(p) for p in path)
    return SecretValue("literal", dotted, path, literal=source.literal)


def compile_secrets(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, secret in spec.secrets.items():
        base: SpecPath = ("secrets", name)
        # stringData, not data: the API base64-encodes it, so the Plan never holds encoded text.
        string_data = {
            key: secret_value(src, secret.namespace, name, key, (*base, "data", key))
            for key, src in secret.data.items()
        }
        body = {"type": secret.type, "immutable": secret.immutable, "stringData": string_data}
        out.append(resource("v1", "Secret", name, secret.namespace, body, base))
    return out
