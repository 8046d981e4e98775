"""Read KV v2 values from Vault at deploy time, as `secureai.resolve`'s `VaultReader`.

Errors are `ResolveError`s naming the path and key, never a value: a message may end up in a
CI log. Each path is read once per reader, however many of its keys are used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from secureai.resolve import ResolveError, VaultReader


def vault_reader(address: str, token: str, kv_mount: str) -> VaultReader:
    """A `(path, key) -> value` reader over the KV v2 mount `kv_mount` at `address`."""
    client = _client(address, token)
    cache: dict[str, Mapping[str, Any]] = {}
    unreachable: list[str] = []  # the reason, once Vault could not be reached

    def read(path: str, key: str) -> str:
        if unreachable:
            # Every missing value is reported in one run: do not wait out one connection
            # timeout per path once the server is known to be down.
            raise ResolveError(f"cannot reach Vault at {address} to read {path}: {unreachable[0]}")
        if path not in cache:
            try:
                cache[path] = _read_data(client, address, kv_mount, path)
            except _Unreachable as exc:
                unreachable.append(exc.reason)
                raise ResolveError(str(exc)) from None
        data = cache[path]
        if key not in data:
            raise ResolveError(f"Vault secret {kv_mount}/{path} has no key '{key}'")
        return as_text(data[key])

    return read


class _Unreachable(ResolveError):
    def __init__(self, address: str, path: str, reason: str) -> None:
        super().__init__(f"cannot reach Vault at {address} to read {path}: {reason}")
        self.reason = reason


def as_text(value: Any) -> str:
    """A KV value as a Kubernetes secret holds it: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _hvac() -> Any:
    # Imported on use: only deploys that read Vault need the client library.
    try:
        import hvac  # type: ignore[import-untyped]
        import hvac.exceptions  # type: ignore[import-untyped]
    except ImportError:
        raise ResolveError("reading values from Vault needs the 'hvac' package") from None
    return hvac


def _client(address: str, token: str) -> Any:
    return _hvac().Client(url=address, token=token)


def _read_data(client: Any, address: str, kv_mount: str, path: str) -> Mapping[str, Any]:
    exceptions = _hvac().exceptions
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=kv_mount, raise_on_deleted_version=True
        )
    except exceptions.Forbidden:
        raise ResolveError(f"Vault denied access to {path}") from None
    except exceptions.InvalidPath:
        raise ResolveError(f"Vault has no secret at {path} (KV v2 mount '{kv_mount}')") from None
    except exceptions.VaultError as exc:
        # hvac's message quotes the server's reply; the class name says enough, leaks nothing.
        raise ResolveError(f"cannot read {path} from Vault: {type(exc).__name__}") from None
    except OSError as exc:  # requests' connection errors are OSErrors
        raise _Unreachable(address, path, type(exc).__name__) from None
    data = response["data"]["data"]
    if not isinstance(data, Mapping):
        raise ResolveError(f"Vault secret {kv_mount}/{path} holds no key/value data")
    return data
