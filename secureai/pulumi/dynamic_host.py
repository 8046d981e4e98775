"""secureai's dynamic-provider host: the Pulumi SDK's own (`python -m pulumi.dynamic`), whose
Diff also names the changed properties.

The engine starts `pulumi-resource-pulumi-python` to run dynamic providers; the official CLI
ships it, a CLI built from Go modules does not, so `secureai.deploy.stack` writes one that runs
this module. The SDK's host answers Diff with "some change" and no property names, which
leaves `preview` to print `~ update` without saying what; a provider whose DiffResult carries
`changed` (the built-in Vault provider's does) gets those names sent as the diff's keys, and
a built-in Vault provider failure reaches the user as its one-line message, not a traceback.
The SDK's servicer is used as it is, loaded from its installed source without the module's
last line (its unconditional `main()` call), so nothing of it is copied here.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path
from typing import Any


def _sdk_host() -> dict[str, Any] | None:
    import pulumi.dynamic

    path = Path(pulumi.dynamic.__file__).with_name("__main__.py")
    body, call, rest = path.read_text(encoding="utf-8").rpartition("\nmain()")
    if not call or rest.strip():
        return None  # another SDK layout: run it unchanged
    namespace: dict[str, Any] = {"__name__": "pulumi.dynamic.__secureai_host__", "__file__": str(path)}
    exec(compile(body, str(path), "exec"), namespace)
    return namespace


def main() -> None:
    namespace = _sdk_host()
    if namespace is None or "DynamicResourceProviderServicer" not in namespace:
        runpy.run_module("pulumi.dynamic", run_name="__main__")
        return
    base = namespace["DynamicResourceProviderServicer"]
    get_provider = namespace["get_provider"]
    rpc = namespace["rpc"]

    class Servicer(base):  # type: ignore[misc, valid-type]
        def Diff(self, request: Any, context: Any) -> Any:
            response = super().Diff(request, context)
            olds = rpc.deserialize_properties(request.olds, True)
            news = rpc.deserialize_properties(request.news, True)
            source = olds if news.get("__provider") == rpc.UNKNOWN else news
            result = get_provider(source, self._config).diff(request.id, olds, news)
            response.diffs.extend(getattr(result, "changed", None) or [])
            return response

    namespace["DynamicResourceProviderServicer"] = Servicer
    namespace["traceback"] = _Tracebacks
    namespace["main"]()


class _Tracebacks:
    """What the SDK's host sends the engine for a failed operation: a built-in Vault provider
    failure is one line for the user (its message names the object and the reason), anything
    else the whole traceback, as the SDK sends it."""

    @staticmethod
    def format_exc() -> str:
        from secureai.pulumi.vault_builtin import VaultProviderError

        error = sys.exc_info()[1]
        if isinstance(error, VaultProviderError):
            return str(error)
        return traceback.format_exc()


if __name__ == "__main__":
    main()
