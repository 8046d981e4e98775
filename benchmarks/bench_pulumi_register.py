"""Benchmark SecuritySpec's overhead: registering a Plan vs a hand-written Pulumi program.

Run: python benchmarks/bench_pulumi_register.py [--reps 5] [--n 500] [--spec FILE | --generate N]

Both programs run in this process under Pulumi's mock runtime (the real SDK, no engine),
side by side, after one warm-up each (imports excluded). The hand-written program gets its
kwargs ready-made, as literals in a user's program would be; SecuritySpec does its whole job
(ordering, secret resolution, mapping, providers). Reported: median seconds and the ratio.
Input: a synthetic Plan of N Deployments + N Secrets (default), a spec file compiled
through `secureai.pipeline.compile_file`, or a spec made by `benchmarks/gen_spec.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from secureai.compile.plan import Plan, Resource, SecretValue, iter_secrets  # noqa: E402
from secureai.pulumi.component import SecuritySpec, generated_refs  # noqa: E402
from secureai.pulumi.mapping import VAULT_JSON_ARGS, camel_to_snake, kwargs_for, target_for  # noqa: E402

ENV = {"DB_PASSWORD": "bench-password", "VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_TOKEN": "t"}


class Counting(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.count = 0

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.count += 1
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def synthetic_plan(n: int) -> Plan:
    resources: list[Resource] = []
    for i in range(n):
        ns, name = f"ns-{i % 10}", f"app-{i}"
        labels = {"app": name}
        resources.append(
            Resource(
                "kubernetes:core/v1:Secret",
                f"{ns}/{name}",
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": name, "namespace": ns},
                    "stringData": {"password": SecretValue("env", "DB_PASSWORD")},
                },
            )
        )
        resources.append(
            Resource(
                "kubernetes:apps/v1:Deployment",
                f"{ns}/{name}",
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "automountServiceAccountToken": False,
                                "securityContext": {
                                    "runAsNonRoot": True,
                                    "seccompProfile": {"type": "RuntimeDefault"},
                                },
                                "containers": [
                                    {
                                        "name": "main",
                                        "image": "ghcr.io/acme/app:1.0.0",
                                        "securityContext": {
                                            "allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]},
                                        },
                                        "env": [
                                            {
                                                "name": "PASSWORD",
                                                "valueFrom": {
                                                    "secretKeyRef": {"name": name, "key": "password"}
                                                },
                                            }
                                        ],
                                    }
                                ],
                            },
                        },
                    },
                },
                depends_on=(f"kubernetes:core/v1:Secret::{ns}/{name}",),
            )
        )
    return Plan("bench", "dev", "1.30", tuple(resources))


def plan_from(args: argparse.Namespace) -> Plan:
    if args.spec or args.generate:
        from secureai.pipeline import compile_file

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(args.spec) if args.spec else Path(tmp) / "gen.yaml"
            if args.generate:
                from gen_spec import generate  # written alongside bench_validate.py

                path.write_text(generate(args.generate), encoding="utf-8")
            result = compile_file(path, ENV)
        if result.value is None:
            raise SystemExit("\n".join(d.text() for d in result.diagnostics))
        return result.value
    return synthetic_plan(args.n)


def hand_written(plan: Plan) -> Callable[[], None]:
    """The same resources as a user would write them: classes and kwargs known up front."""
    generated = {ref: "g" * 16 for ref in generated_refs(plan)}
    prepared = []
    for resource in plan.resources:
        target = target_for(resource.type)
        secrets = {camel_to_snake(str(path[0])) for path, _ in iter_secrets(resource.properties)}
        plain = _plain(resource.properties, generated)
        kwargs = kwargs_for(target, plain)
        for key in VAULT_JSON_ARGS & set(kwargs):
            kwargs[key] = kwargs[key] if isinstance(kwargs[key], str) else json.dumps(kwargs[key])
        prepared.append((resource, target.cls, kwargs, secrets))

    def program() -> None:
        import pulumi_kubernetes as k8s
        import pulumi_vault as vault

        providers: dict[str, pulumi.ProviderResource] = {}
        if plan.of_provider("kubernetes"):
            providers["kubernetes"] = k8s.Provider("k8s")
        if plan.of_provider("vault"):
            providers["vault"] = vault.Provider("vault", address=ENV["VAULT_ADDR"])
        created: dict[str, pulumi.CustomResource] = {}
        for resource, cls, kwargs, secret_keys in prepared:
            call = {k: pulumi.Output.secret(v) if k in secret_keys else v for k, v in kwargs.items()}
            deps = [created[d] for d in resource.depends_on if d in created]
            opts = pulumi.ResourceOptions(provider=providers[resource.provider], depends_on=deps)
            created[resource.key] = cls(resource.name, opts=opts, **call)

    return program


def _plain(value: Any, generated: dict[str, str]) -> Any:
    if isinstance(value, SecretValue):
        return generated.get(value.ref) or ENV.get(value.ref, "x")
    if isinstance(value, dict):
        return {k: _plain(v, generated) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, generated) for v in value]
    return value


def with_component(plan: Plan, base_dir: Path) -> Callable[[], None]:
    generated = {ref: "g" * 16 for ref in generated_refs(plan)}

    def program() -> None:
        SecuritySpec("secureai", plan, environ=ENV, generated=generated, base_dir=base_dir)

    return program


def timed(program: Callable[[], None]) -> tuple[float, int]:
    counting = Counting()
    pulumi.runtime.set_mocks(
        counting, project="bench", stack="dev", preview=False, monitor=mocks.MockMonitor(counting)
    )

    @pulumi.runtime.test
    def run() -> Any:
        program()
        return pulumi.Output.from_input(None)

    start = time.perf_counter()
    run()
    return time.perf_counter() - start, counting.count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--n", type=int, default=500, help="synthetic: N Deployments + N Secrets")
    parser.add_argument("--spec", help="compile this spec file instead")
    parser.add_argument("--generate", type=int, help="compile a gen_spec.py spec of N workloads")
    args = parser.parse_args()
    plan = plan_from(args)
    base_dir = Path(args.spec).resolve().parent if args.spec else Path.cwd()
    programs = {"hand-written": hand_written(plan), "SecuritySpec": with_component(plan, base_dir)}
    times: dict[str, list[float]] = {name: [] for name in programs}
    counts: dict[str, int] = {}
    for name, program in programs.items():
        counts[name] = timed(program)[1]  # warm-up: imports and caches
    for _ in range(args.reps):
        for name, program in programs.items():  # interleaved, so drift hits both alike
            elapsed, counts[name] = timed(program)
            times[name].append(elapsed)
    print(f"plan: {len(plan.resources)} resources; registered: {counts}")
    for name, values in times.items():
        print(
            f"{name:>13}: median {statistics.median(values):.3f} s "
            f"(min {min(values):.3f}, max {max(values):.3f}, {len(values)} reps)"
        )
    ratio = statistics.median(times["SecuritySpec"]) / statistics.median(times["hand-written"])
    print(f"ratio SecuritySpec / hand-written: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
