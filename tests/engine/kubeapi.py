"""A small typed client for the Kubernetes API (token auth, one CA), enough for the engine tests.

Plain HTTPS with the standard library: server-side apply (for real or `dryRun=All`), create,
get, delete, TokenRequest and discovery (kind -> resource path). The `kubernetes` Python
client would add a large dependency for these few calls.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIELD_MANAGER = "secureai-engine-tests"


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message", self.body))


class KubeError(Exception):
    def __init__(self, what: str, reply: Reply) -> None:
        super().__init__(f"{what}: HTTP {reply.status}: {reply.message}")
        self.reply = reply


@dataclass(frozen=True)
class ApiResource:
    path: str  # /api/v1 or /apis/group/version
    plural: str
    namespaced: bool

    def url(self, namespace: str | None, name: str | None = None) -> str:
        base = (
            f"{self.path}/namespaces/{namespace}/{self.plural}"
            if self.namespaced
            else f"{self.path}/{self.plural}"
        )
        return f"{base}/{name}" if name else base


class KubeClient:
    def __init__(self, server: str, token: str, ca_file: Path) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._tls = ssl.create_default_context(cafile=str(ca_file))
        self._resources: dict[tuple[str, str], ApiResource] = {}

    def with_token(self, token: str) -> KubeClient:
        other = KubeClient.__new__(KubeClient)
        other.server, other._token, other._tls, other._resources = (
            self.server,
            token,
            self._tls,
            self._resources,
        )
        return other

    # ------------------------------------------------------------------ raw requests

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> Reply:
        url = self.server + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        if isinstance(body, bytes):
            data: bytes | None = body
        else:
            data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._tls, timeout=timeout) as reply:
                return Reply(reply.status, _json(reply.read()))
        except urllib.error.HTTPError as failed:
            return Reply(failed.code, _json(failed.read()))

    # ------------------------------------------------------------------ discovery

    def resource(self, api_version: str, kind: str) -> ApiResource:
        key = (api_version, kind)
        if key not in self._resources:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            reply = self.request("GET", path)
            if not reply.ok:
                raise KubeError(f"the API server does not serve {api_version}", reply)
            for item in reply.body.get("resources", []):
                if "/" not in item["name"]:
                    self._resources[(api_version, item["kind"])] = ApiResource(
                        path, item["name"], item["namespaced"]
                    )
            if key not in self._resources:
                raise KubeError(f"the API server has no kind {kind} in {api_version}", reply)
        return self._resources[key]

    def served(self, api_version: str) -> bool:
        path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        return self.request("GET", path).ok

    def url_of(self, manifest: Mapping[str, Any]) -> str:
        meta = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        return resource.url(meta.get("namespace"), meta["name"])

    # ------------------------------------------------------------------ verbs

    def apply(self, manifest: Mapping[str, Any], dry_run: bool = False) -> Reply:
        """Server-side apply with strict field validation (unknown fields are errors, not dropped)."""
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request(
            "PATCH", self.url_of(manifest), manifest, query, content_type="application/apply-patch+yaml"
        )

    def apply_yaml(self, text: str, manifest: Mapping[str, Any], dry_run: bool = False) -> Reply:
        """Server-side apply of rendered YAML exactly as written: the server's YAML reader parses
        it, as for `kubectl apply --server-side`; `manifest` is the same text parsed (for the URL)."""
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request(
            "PATCH", self.url_of(manifest), text.encode(), query, content_type="application/apply-patch+yaml"
        )

    def apply_ok(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        reply = self.apply(manifest)
        if not reply.ok:
            raise KubeError(f"apply {manifest['kind']} {manifest['metadata']['name']}", reply)
        return reply.body

    def create(self, manifest: Mapping[str, Any], dry_run: bool = False) -> Reply:
        meta = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("POST", resource.url(meta.get("namespace")), manifest, query)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Reply:
        return self.request("GET", self.resource(api_version, kind).url(namespace, name))

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Reply:
        url = self.resource(api_version, kind).url(namespace, name)
        return self.request("DELETE", url, {"propagationPolicy": "Background", "gracePeriodSeconds": 0})

    def token_request(
        self, namespace: str, service_account: str, audiences: list[str], seconds: int = 600
    ) -> str:
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": audiences, "expirationSeconds": seconds},
        }
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        reply = self.request("POST", path, body)
        if not reply.ok:
            raise KubeError(f"TokenRequest for {namespace}/{service_account}", reply)
        token: str = reply.body["status"]["token"]
        return token

    def wait_for(
        self, what: str, probe: Callable[[], bool], timeout: float = 60.0, interval: float = 0.25
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if probe():
                return
            time.sleep(interval)
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": raw.decode(errors="replace")[:2000]}
    return value if isinstance(value, dict) else {"items": value}
