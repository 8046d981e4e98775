"""The built-in Vault provider: KV v2 secrets, ACL policies and kubernetes auth roles as Pulumi
dynamic resources over `hvac`, so that deploying Vault content needs no provider plugin.

The provider runs in the engine's dynamic-provider process (`python -m pulumi.dynamic`),
which unpickles `VaultProvider` by reference to this module: the class holds no state, and the
Vault token is read from that process's VAULT_TOKEN on every operation, never passed as an
input, so it is in neither the pickled provider nor the stack's state. The address *is* an
input (it says where the resources live, and `destroy` must find them again); the token is
only sent to it when VAULT_ADDR agrees (`secureai.resolve.vault_address`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from secureai.resolve import ResolveError, vault_address

KV_SECRET_TYPE = "vault:kv/secretV2:SecretV2"
POLICY_TYPE = "vault:index/policy:Policy"
AUTH_ROLE_TYPE = "vault:kubernetes/authBackendRole:AuthBackendRole"


class VaultProviderError(Exception):
    """A Vault operation failed; the message names the object and the reason, never a value."""


# What each kind is addressed by (a change there is a new object: replace) and what it holds.
_ROLE_BODY = (
    "bound_service_account_names",
    "bound_service_account_namespaces",
    "token_policies",
    "token_no_default_policy",
    "token_ttl",
    "token_max_ttl",
    "audience",
)


class VaultProvider(ResourceProvider):
    """Create, read, diff, update and delete one kind of Vault object.

    Subclasses say which input properties address the object (`identity`) and which it holds
    (`body`); nothing else is stored on an instance, so the pickle holds no secret.
    """

    identity: ClassVar[tuple[str, ...]] = ()
    body: ClassVar[tuple[str, ...]] = ()
    # The pickle captures no secret Output, so the serialized provider need not be a secret.
    serialize_as_secret_always = False

    # -- what each kind does against the API
    def object_id(self, props: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def write(self, client: Any, props: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def read_body(self, client: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The live body, in the inputs' shape; None when the object does not exist."""
        raise NotImplementedError

    def remove(self, client: Any, props: Mapping[str, Any]) -> None:
        raise NotImplementedError

    # -- the dynamic provider protocol
    def create(self, props: dict[str, Any]) -> CreateResult:
        self.write(_client(props), props)
        return CreateResult(self.object_id(props), outs=self._outs(props))

    def read(self, id: str, props: dict[str, Any]) -> ReadResult:
        live = self.read_body(_client(props), props)
        if live is None:
            # Deleted outside secureai: an empty id tells the engine it is gone.
            return ReadResult("", {})
        outs = {**self._outs(props), **live}
        return ReadResult(id, outs)

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in (*self.identity, *self.body) if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in self.identity]
        result = DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=bool(replaces))
        # Read by secureai's dynamic-provider host (secureai.pulumi.dynamic_host), which sends
        # the names to the engine so that preview says what changes.
        result.changed = changed  # type: ignore[attr-defined]
        return result

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.write(_client(news), news)
        return UpdateResult(outs=self._outs(news))

    def delete(self, id: str, props: dict[str, Any]) -> None:
        self.remove(_client(props), props)

    def _outs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in ("address", *self.identity, *self.body) if k in props}


class KvSecretProvider(VaultProvider):
    identity = ("address", "mount", "name")
    body = ("data_json",)

    def object_id(self, props: Mapping[str, Any]) -> str:
        return f"{props['mount']}/data/{props['name']}"

    def write(self, client: Any, props: Mapping[str, Any]) -> None:
        data = json.loads(props["data_json"])
        _call(
            f"write {self.object_id(props)}",
            lambda: client.secrets.kv.v2.create_or_update_secret(
                path=props["name"], secret=data, mount_point=props["mount"]
            ),
        )

    def read_body(self, client: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
        response = _unless_absent(
            f"read {self.object_id(props)}",
            lambda: client.secrets.kv.v2.read_secret_version(
                path=props["name"], mount_point=props["mount"], raise_on_deleted_version=True
            ),
        )
        if response is None:
            return None
        data = response["data"]["data"]
        # Same text as the input when the data is the same, so an unchanged secret is no diff.
        same = json.loads(props.get("data_json") or "null") == data
        return {"data_json": props["data_json"] if same else json.dumps(data, sort_keys=True)}

    def remove(self, client: Any, props: Mapping[str, Any]) -> None:
        # Every version and the metadata: a plain delete would keep old versions readable.
        _unless_absent(
            f"delete {self.object_id(props)}",
            lambda: client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=props["name"], mount_point=props["mount"]
            ),
        )


class PolicyProvider(VaultProvider):
    identity = ("address", "name")
    body = ("policy",)

    def object_id(self, props: Mapping[str, Any]) -> str:
        return str(props["name"])

    def write(self, client: Any, props: Mapping[str, Any]) -> None:
        _call(
            f"write policy {props['name']}",
            lambda: client.sys.create_or_update_acl_policy(name=props["name"], policy=props["policy"]),
            quote_server=True,
        )

    def read_body(self, client: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
        response = _unless_absent(
            f"read policy {props['name']}", lambda: client.sys.read_acl_policy(name=props["name"])
        )
        return None if response is None else {"policy": response["data"]["policy"]}

    def remove(self, client: Any, props: Mapping[str, Any]) -> None:
        _call(f"delete policy {props['name']}", lambda: client.sys.delete_acl_policy(name=props["name"]))


class AuthRoleProvider(VaultProvider):
    identity = ("address", "backend", "role_name")
    body = _ROLE_BODY

    def object_id(self, props: Mapping[str, Any]) -> str:
        return f"auth/{props['backend']}/role/{props['role_name']}"

    def write(self, client: Any, props: Mapping[str, Any]) -> None:
        fields = {k: _whole(props[k]) for k in self.body if props.get(k) is not None}
        _call(
            f"write {self.object_id(props)}",
            lambda: client.write_data(self.object_id(props), data=fields),
            quote_server=True,
        )

    def read_body(self, client: Any, props: Mapping[str, Any]) -> dict[str, Any] | None:
        response = _unless_absent(f"read {self.object_id(props)}", lambda: client.read(self.object_id(props)))
        if response is None:
            return None
        live = response["data"]
        return {k: _as_input(live.get(k), props.get(k)) for k in self.body if k in props}

    def remove(self, client: Any, props: Mapping[str, Any]) -> None:
        _call(f"delete {self.object_id(props)}", lambda: client.delete(self.object_id(props)))


def _as_input(live: Any, given: Any) -> Any:
    """Vault answers a list where a string was written (audience) and vice versa; an equal
    value in another shape is no drift, so it is reported in the input's shape."""
    if isinstance(given, str) and isinstance(live, list) and live == [given]:
        return given
    if isinstance(given, str) and isinstance(live, str | int) and str(live) == given:
        return given
    return live


def _whole(value: Any) -> Any:
    """Numbers cross the engine as floats; Vault refuses `900.0` seconds."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _call(what: str, operation: Any, *, quote_server: bool = False, absent_ok: bool = False) -> Any:
    hvac = _hvac()
    try:
        return operation()
    except hvac.exceptions.InvalidPath:
        if absent_ok:
            return None
        raise VaultProviderError(f"cannot {what}: it does not exist (InvalidPath)") from None
    except (hvac.exceptions.VaultError, OSError) as exc:
        # The server's reply may quote what was sent: only for objects that hold no secret
        # (policies, roles) is it worth showing; otherwise the class name says enough.
        errors = getattr(exc, "errors", None) if quote_server else None
        reason = f"{type(exc).__name__}: {'; '.join(map(str, errors))}" if errors else type(exc).__name__
        raise VaultProviderError(f"cannot {what}: {reason}") from None


def _unless_absent(what: str, operation: Any) -> Any:
    """`operation()`, or None when the object does not exist (gone is what read and delete
    may find: deleted outside secureai)."""
    return _call(what, operation, absent_ok=True)


def _hvac() -> Any:
    import hvac  # type: ignore[import-untyped]
    import hvac.exceptions  # type: ignore[import-untyped]

    return hvac


def _client(props: Mapping[str, Any]) -> Any:
    """A client for the resource's Vault, with the token of this run's environment."""
    try:
        address = vault_address(props.get("address"), os.environ)
    except ResolveError as exc:
        raise VaultProviderError(str(exc)) from None
    token = os.environ.get("VAULT_TOKEN", "")
    if not token:
        raise VaultProviderError(f"VAULT_TOKEN is not set: the built-in Vault provider needs it ({address})")
    return _hvac().Client(url=address, token=token)


class _VaultResource(Resource):
    """One Vault object through its kind's provider. Its inputs are `address`, the provider's
    identity and body, by keyword as pulumi-vault's classes take them; `optional_inputs` may be
    left out, `secret_inputs` are made secret Outputs before they reach the engine."""

    vault_provider: ClassVar[type[VaultProvider]]
    plan_type: ClassVar[str]
    optional_inputs: ClassVar[tuple[str, ...]] = ()
    secret_inputs: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None, **inputs: Any
    ) -> None:
        known = dict.fromkeys(("address", *self.vault_provider.identity, *self.vault_provider.body))
        unknown = sorted(set(inputs) - set(known))
        missing = [k for k in known if k not in inputs and k not in self.optional_inputs]
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: unknown inputs {unknown}, missing inputs {missing}")
        props = {k: inputs.get(k) for k in known}
        for k in self.secret_inputs:
            props[k] = pulumi.Output.secret(props[k])
        super().__init__(self.vault_provider(), resource_name, props, opts)


class KvSecret(_VaultResource, module="secureai", name="VaultKvSecretV2"):
    """A KV v2 secret at `<mount>/data/<name>`; `data_json` is its data as JSON text."""

    vault_provider = KvSecretProvider
    plan_type = KV_SECRET_TYPE
    secret_inputs = ("data_json",)


class Policy(_VaultResource, module="secureai", name="VaultPolicy"):
    """An ACL policy."""

    vault_provider = PolicyProvider
    plan_type = POLICY_TYPE


class AuthBackendRole(_VaultResource, module="secureai", name="VaultKubernetesAuthRole"):
    """A role of a kubernetes auth method, `auth/<backend>/role/<role_name>`."""

    vault_provider = AuthRoleProvider
    plan_type = AUTH_ROLE_TYPE
    optional_inputs = ("token_no_default_policy", "token_ttl", "token_max_ttl", "audience")


BUILTIN_CLASSES: Mapping[str, Callable[..., pulumi.CustomResource]] = {
    KV_SECRET_TYPE: KvSecret,
    POLICY_TYPE: Policy,
    AUTH_ROLE_TYPE: AuthBackendRole,
}
