"""Health: liveness, readiness and startup probes and lifecycle hooks, as Kubernetes names them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from secureai.model.base import INT32_MAX, Int, Model, empty_list, exactly_one
from secureai.model.names import PORT_NAME, AbsPath, Text


def _port_ref(value: Any) -> int | str:
    """A port by number, or by the name of one of the container's ports (resolved by a check)."""
    value = getattr(value, "raw", value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= 65535:
            raise ValueError(f"{value} is not a port: ports are 1 to 65535")
        return value
    if isinstance(value, str) and value.isdigit():
        return _port_ref(int(value))
    if isinstance(value, str) and re.fullmatch(PORT_NAME, value) and len(value) <= 15:
        return value
    raise ValueError("a port is a number (1-65535) or the name of one of the workload's ports")


PortRef = Annotated[
    int | str,
    PlainValidator(_port_ref),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string"}]}),
]


class HttpHeader(Model):
    name: Text
    value: Text


class HttpGet(Model):
    path: AbsPath = "/"
    port: PortRef
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    host: Text | None = Field(None, description="Pod Security baseline forbids it from Kubernetes 1.34")
    http_headers: list[HttpHeader] = Field(default_factory=empty_list)


class TcpSocket(Model):
    port: PortRef
    host: Text | None = Field(None, description="Pod Security baseline forbids it from Kubernetes 1.34")


class Grpc(Model):
    port: PortRef
    service: Text | None = None


class Exec(Model):
    command: list[Text] = Field(min_length=1)


class Probe(Model):
    """One of httpGet, tcpSocket, grpc or exec, with Kubernetes' timing fields."""

    http_get: HttpGet | None = None
    tcp_socket: TcpSocket | None = None
    grpc: Grpc | None = None
    exec: Exec | None = None
    initial_delay_seconds: Int | None = Field(None, ge=0, le=INT32_MAX)
    period_seconds: Int | None = Field(None, ge=1, le=INT32_MAX)
    timeout_seconds: Int | None = Field(None, ge=1, le=INT32_MAX)
    success_threshold: Int | None = Field(None, ge=1, le=INT32_MAX)
    failure_threshold: Int | None = Field(None, ge=1, le=INT32_MAX)
    termination_grace_period_seconds: Int | None = Field(None, ge=1, le=INT32_MAX)

    @model_validator(mode="after")
    def _one_handler(self) -> Probe:
        exactly_one(self, ("http_get", "tcp_socket", "grpc", "exec"), "a probe")
        return self


class Sleep(Model):
    seconds: Int = Field(ge=0, le=INT32_MAX)


class LifecycleHandler(Model):
    """One of exec, httpGet or sleep (sleep from Kubernetes 1.30)."""

    exec: Exec | None = None
    http_get: HttpGet | None = None
    sleep: Sleep | None = None

    @model_validator(mode="after")
    def _one_handler(self) -> LifecycleHandler:
        exactly_one(self, ("exec", "http_get", "sleep"), "a lifecycle hook")
        return self


class Lifecycle(Model):
    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None
