"""Real AI workloads: GPUs, scheduling, probes, storage, services, images, config maps, more
containers, Job settings and exceptions. Exact manifests from small specs, and the exact
positioned message of each misuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from specutil import BASE, WORKLOAD, messages, write_spec

from secureai.compile.plan import Plan
from secureai.pipeline import compile_path

FULL = BASE + WORKLOAD
G = FULL.replace(
    'resources: { limits: { cpu: "1", memory: 1Gi } }',
    'resources: { requests: { nvidia.com/gpu: 1 }, limits: { cpu: "1", nvidia.com/gpu: 2 } }',
)

INPUTS = {
    "SA170": G,
    "SA171": FULL.replace("memory: 1Gi", "memory: 1Gi, nvidia.com/gpu: 500m"),
    "SA172": FULL + "    ports: [http:8080]\n    readinessProbe: { httpGet: { path: /ready, port: htp } }\n",
    "SA172b": FULL + "    ports: [http:8080]\n    service: { ports: [metrics] }\n",
    "SA173": FULL
    + "    envFrom: [{ configMap: settings }]\nconfigMaps:\n  setting: { namespace: ml, data: { a: b } }\n",
    "SA173b": FULL
    + "    env:\n      LEVEL: { configMap: settings, key: levle }\nconfigMaps:\n  settings: { namespace: ml, data: { level: info } }\n",
    "SA174": FULL
    + "    imagePullSecrets: [regcred]\nsecrets:\n  regcred: { namespace: ml, data: { token: { fromEnv: T } } }\n",
    "SA111": FULL
    + "    imagePullSecrets: [regcrd]\nsecrets:\n  regcred: { namespace: ml, type: kubernetes.io/dockerconfigjson, data: { .dockerconfigjson: { fromEnv: T } } }\n",
    "SA175": FULL
    + "    sidecars:\n      shipper: { image: fluent/fluent-bit:3.1.9, volumeMounts: [{ name: log, mountPath: /logs }] }\n    volumes:\n      logs: { mountPath: /logs, emptyDir: {} }\n",
    "SA176": FULL
    + "    replicas: 2\n    volumes:\n      cache: { mountPath: /cache, claim: { size: 10Gi } }\n",
    "SA177": FULL + "    ports: [http:8080]\n    service: { type: LoadBalancer }\n",
    "SA178": FULL
    + "    exceptions: [{ rule: readOnlyRootFilesystem, because: the CUDA runtime writes its cache under /root }]\n",
    "SA179": FULL.replace('"1.30"', '"1.29"') + "    lifecycle: { preStop: { sleep: { seconds: 5 } } }\n",
    "SA180": FULL
    + "    initContainers:\n      migrate: { image: ghcr.io/acme/migrate:1.0.0, readinessProbe: { exec: { command: [cat, /ready] } } }\n",
    "SA181": FULL + "    sidecars:\n      trainer: { image: ghcr.io/acme/train:1.0.0 }\n",
    "SA132": FULL + "    backoffLimit: 3\n",
    "SA132b": FULL.replace("namespace: ml\n    image", "namespace: ml\n    kind: Job\n    image")
    + "    service: {}\n",
    "SA221": FULL.replace('"1.30"', '"1.28"').replace(
        "namespace: ml\n    image", "namespace: ml\n    kind: Job\n    image"
    )
    + "    sidecars:\n      proxy: { image: ghcr.io/acme/proxy:1.0.0 }\n",
    "SA220": FULL.replace('"1.30"', '"1.34"').replace("ml: {}", "ml: { podSecurity: baseline }")
    + "    livenessProbe: { tcpSocket: { port: 8080, host: 10.0.0.1 } }\n",
    "SA100": FULL.replace("memory: 1Gi", "memroy: 1Gi"),
    "SA100b": FULL + "    tolerations: [{ key: gpu, operator: Exists, value: x }]\n",
    "SA101": FULL
    + "    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelectr: {} }]\n",
}

WORKLOAD_CASES = [
    (
        "SA170",
        INPUTS["SA170"],
        "spec.yaml:12:87: error[SA170]: workload 'trainer' requests 1 of nvidia.com/gpu but limits it to 2: Kubernetes requires requests and limits of an extended resource to be equal",
    ),
    (
        "SA171",
        INPUTS["SA171"],
        "spec.yaml:12:67: error[SA171]: workload 'trainer' asks for 500m of nvidia.com/gpu: extended resources are whole numbers",
    ),
    (
        "SA172",
        INPUTS["SA172"],
        "spec.yaml:14:54: error[SA172]: workload 'trainer' has no port named 'htp' (did you mean 'http'?)",
    ),
    (
        "SA172",
        INPUTS["SA172b"],
        "spec.yaml:14:24: error[SA172]: workload 'trainer' has no port named 'metrics' for its Service",
    ),
    (
        "SA173",
        INPUTS["SA173"],
        "spec.yaml:13:28: error[SA173]: workload 'trainer' reads config map 'settings' which is not declared (did you mean 'setting'?)",
    ),
    (
        "SA173",
        INPUTS["SA173b"],
        "spec.yaml:14:42: error[SA173]: workload 'trainer' reads key 'levle' of config map 'settings', which has no such key (did you mean 'level'?)",
    ),
    (
        "SA174",
        INPUTS["SA174"],
        "spec.yaml:13:24: error[SA174]: workload 'trainer' pulls images with secret 'regcred', which is not a registry credential (type 'Opaque')",
    ),
    (
        "SA111",
        INPUTS["SA111"],
        "spec.yaml:13:24: error[SA111]: workload 'trainer' pulls images with secret 'regcrd' which is not declared (did you mean 'regcred'?)",
    ),
    (
        "SA175",
        INPUTS["SA175"],
        "spec.yaml:14:73: error[SA175]: sidecar 'shipper' of workload 'trainer' mounts volume 'log' which is not declared (did you mean 'logs'?)",
    ),
    (
        "SA176",
        INPUTS["SA176"],
        "spec.yaml:15:42: error[SA176]: workload 'trainer' has 2 replicas sharing the ReadWriteOnce claim of volume 'cache': replicas on other nodes cannot mount it",
    ),
    (
        "SA177",
        INPUTS["SA177"],
        "spec.yaml:14:22: warning[SA177]: workload 'trainer' is exposed outside the cluster by a LoadBalancer Service",
    ),
    (
        "SA178",
        INPUTS["SA178"],
        "spec.yaml:13:18: warning[SA178]: workload 'trainer' relaxes readOnlyRootFilesystem: \"the CUDA runtime writes its cache under /root\"",
    ),
    (
        "SA179",
        INPUTS["SA179"],
        "spec.yaml:13:36: error[SA179]: workload 'trainer' uses a sleep lifecycle hook, which Kubernetes 1.29 does not have (from 1.30)",
    ),
    (
        "SA180",
        INPUTS["SA180"],
        "spec.yaml:14:69: error[SA180]: init container 'migrate' of workload 'trainer' cannot have 'readinessProbe': init containers run to completion before the pod starts",
    ),
    (
        "SA181",
        INPUTS["SA181"],
        "spec.yaml:14:16: error[SA181]: workload 'trainer' has two containers named 'trainer' (the workload's own container and this one)",
    ),
    (
        "SA132",
        INPUTS["SA132"],
        "spec.yaml:13:19: error[SA132]: workload 'trainer' is a Deployment; only a Job or CronJob takes 'backoffLimit'",
    ),
    (
        "SA132",
        INPUTS["SA132b"],
        "spec.yaml:14:14: error[SA132]: workload 'trainer' is a Job; only a Deployment or StatefulSet takes 'service'",
    ),
    (
        "SA221",
        INPUTS["SA221"],
        "spec.yaml:14:5: warning[SA221]: workload 'trainer' is a Job with sidecars on Kubernetes 1.28: before 1.29 they are ordinary containers, and the Job does not complete while they run",
    ),
    (
        "SA220",
        INPUTS["SA220"],
        "spec.yaml:13:53: error[SA220]: workload 'trainer' violates the baseline Pod Security Standard of namespace 'ml': probes and lifecycle hooks may not set 'host'",
    ),
    (
        "SA100",
        INPUTS["SA100"],
        "spec.yaml:12:38: error[SA100]: workloads.trainer.resources.limits.memroy: 'memroy' is not a resource: cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource named domain/name such as nvidia.com/gpu (did you mean 'memory'?)",
    ),
    (
        "SA100",
        INPUTS["SA100b"],
        "spec.yaml:13:19: error[SA100]: workloads.trainer.tolerations[0]: a toleration with operator Exists takes no 'value'",
    ),
    (
        "SA101",
        INPUTS["SA101"],
        "spec.yaml:13:100: error[SA101]: workloads.trainer.topologySpreadConstraints[0]: unknown field 'labelSelectr' (did you mean 'labelSelector'?)",
    ),
    (
        "SA179",
        FULL.replace('"1.30"', '"1.21"')
        + "network:\n  nccl:\n    namespace: ml\n    from: [{ pods: { app.kubernetes.io/name: trainer } }]\n"
        "    to: [{ pods: { app.kubernetes.io/name: trainer } }]\n    ports: [{ port: 29400, endPort: 29500 }]\n",
        "spec.yaml:18:37: error[SA179]: network rule 'nccl' uses a port range (endPort), which Kubernetes 1.21 "
        "does not have (from 1.22)",
    ),
    (
        "SA132",
        FULL + "    ports: [{ port: 8000, endPort: 8010 }]\n",
        "spec.yaml:13:36: error[SA132]: workload 'trainer' gives a port range (endPort): a container port is "
        "one port; ranges are for network rules",
    ),
    (
        "SA133",
        FULL.replace("    runAsUser: 10001\n", "    runAsUser: 10001\n    securityProfile: tight\n")
        + "    shm: 1Gi\nsecurityProfiles:\n  tight: { volumes: [secret] }\n",
        "spec.yaml:14:10: error[SA133]: workload 'trainer' asks for shm, a memory-backed emptyDir volume, "
        "which its security profile 'tight' does not allow",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), WORKLOAD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(WORKLOAD_CASES)]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert found and found[0] == expected, messages(tmp_path, text)


# ----------------------------------------------------------------------------- manifests


def plan_of(tmp_path: Path, text: str) -> Plan:
    result = compile_path(write_spec(tmp_path, text), {})
    errors = [d.text() for d in result.diagnostics if d.is_error]
    assert result.value is not None and not errors, errors
    return result.value.plan


def manifest(plan: Plan, kind: str, name: str) -> dict[str, Any]:
    found = [
        dict(r.properties)
        for r in plan.resources
        if r.properties["kind"] == kind and r.properties["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def pod(plan: Plan, kind: str = "Deployment", name: str = "trainer") -> dict[str, Any]:
    m = manifest(plan, kind, name)
    if kind == "CronJob":
        return m["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    if kind == "Pod":
        return m["spec"]  # type: ignore[no-any-return]
    return m["spec"]["template"]["spec"]  # type: ignore[no-any-return]


SECURE = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}
TMP = {"name": "secureai-tmp", "mountPath": "/tmp", "readOnly": False}


def test_empty_dir_is_writable_and_secret_config_map_stay_read_only(tmp_path: Path) -> None:
    text = FULL + (
        "    volumes:\n"
        "      scratch: { mountPath: /scratch, emptyDir: {} }\n"
        "      conf: { mountPath: /conf, configMap: settings }\n"
        "      locked: { mountPath: /locked, emptyDir: {}, readOnly: true }\n"
        "configMaps:\n  settings: { namespace: ml, data: { a: b } }\n"
    )
    mounts = pod(plan_of(tmp_path, text))["containers"][0]["volumeMounts"]
    assert mounts == [
        {"name": "scratch", "mountPath": "/scratch", "readOnly": False},
        {"name": "conf", "mountPath": "/conf", "readOnly": True},
        {"name": "locked", "mountPath": "/locked", "readOnly": True},
        TMP,
    ]


def test_gpu_limits_default_requests_and_scheduling_passes_through(tmp_path: Path) -> None:
    text = FULL.replace(
        'resources: { limits: { cpu: "1", memory: 1Gi } }',
        'resources: { limits: { cpu: "1", memory: 1Gi, nvidia.com/gpu: 2 } }',
    ) + (
        "    runtimeClassName: nvidia\n"
        "    priorityClassName: high\n"
        "    nodeSelector: { nvidia.com/gpu.present: 'true' }\n"
        "    tolerations: [{ key: nvidia.com/gpu, operator: Exists, effect: NoSchedule }]\n"
        "    affinity:\n"
        "      nodeAffinity:\n"
        "        requiredDuringSchedulingIgnoredDuringExecution:\n"
        "          nodeSelectorTerms: [{ matchExpressions: [{ key: gpu, operator: In, values: [a100] }] }]\n"
        "    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule }]\n"
        "    shm: 8Gi\n"
    )
    spec = pod(plan_of(tmp_path, text))
    assert spec["containers"][0]["resources"] == {
        "requests": {"nvidia.com/gpu": "2"},
        "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "2"},
    }
    assert spec["runtimeClassName"] == "nvidia" and spec["priorityClassName"] == "high"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a100"]}]}
                ]
            }
        }
    }
    assert spec["topologySpreadConstraints"] == [
        {
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "trainer"}},
            "maxSkew": 1,
            "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule",
        }
    ]
    assert {"name": "secureai-shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}} in spec["volumes"]
    assert {"name": "secureai-shm", "mountPath": "/dev/shm", "readOnly": False} in spec["containers"][0][
        "volumeMounts"
    ]


def test_probes_lifecycle_and_grpc_port_names_resolve(tmp_path: Path) -> None:
    text = FULL + (
        "    ports: [http:8080, grpc:9000]\n"
        "    workingDir: /app\n"
        "    readinessProbe: { httpGet: { path: /ready, port: http }, periodSeconds: 5 }\n"
        "    livenessProbe: { grpc: { port: grpc } }\n"
        "    startupProbe: { exec: { command: [cat, /ready] }, failureThreshold: 30 }\n"
        "    lifecycle: { preStop: { sleep: { seconds: 5 } } }\n"
    )
    c = pod(plan_of(tmp_path, text))["containers"][0]
    assert c["workingDir"] == "/app"
    assert c["readinessProbe"] == {
        "httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"},
        "periodSeconds": 5,
    }
    assert c["livenessProbe"] == {"grpc": {"port": 9000}}
    assert c["startupProbe"] == {"exec": {"command": ["cat", "/ready"]}, "failureThreshold": 30}
    assert c["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_claims_become_templates_on_statefulsets_and_owned_claims_elsewhere(tmp_path: Path) -> None:
    volumes = (
        "    volumes:\n"
        "      data: { mountPath: /data, claim: { size: 10Gi, storageClassName: fast } }\n"
        "      scratch: { mountPath: /scratch, ephemeral: { size: 1Gi } }\n"
    )
    claim = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "10Gi"}},
        "storageClassName": "fast",
    }
    sts = plan_of(
        tmp_path, FULL.replace("image:", "kind: StatefulSet\n    image:") + "    replicas: 3\n" + volumes
    )
    m = manifest(sts, "StatefulSet", "trainer")
    assert m["spec"]["volumeClaimTemplates"] == [{"metadata": {"name": "data"}, "spec": claim}]
    assert [v["name"] for v in m["spec"]["template"]["spec"]["volumes"]] == ["scratch", "secureai-tmp"]
    assert not [r for r in sts.resources if r.properties["kind"] == "PersistentVolumeClaim"]

    dep = plan_of(tmp_path, FULL + volumes)
    pvc = manifest(dep, "PersistentVolumeClaim", "trainer-data")
    assert pvc["spec"] == claim
    assert pvc["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    spec = pod(dep)
    assert spec["volumes"][:2] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "trainer-data"}},
        {
            "name": "scratch",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
                }
            },
        },
    ]
    deployment = next(r for r in dep.resources if r.properties["kind"] == "Deployment")
    assert any(d.endswith("PersistentVolumeClaim::ml/trainer-data") for d in deployment.depends_on)


def test_service_by_port_name_and_statefulset_keeps_its_headless_one(tmp_path: Path) -> None:
    text = FULL + "    ports: [http:8080, metrics:9090]\n    service: { ports: [http] }\n"
    svc = manifest(plan_of(tmp_path, text), "Service", "trainer")
    assert svc["spec"] == {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": "trainer"},
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}],
    }
    sts = plan_of(tmp_path, text.replace("image:", "kind: StatefulSet\n    image:"))
    assert manifest(sts, "Service", "trainer")["spec"]["clusterIP"] == "None"
    assert manifest(sts, "Service", "trainer-client")["spec"]["type"] == "ClusterIP"


def test_image_pull_secrets_and_the_always_pull_default(tmp_path: Path) -> None:
    text = FULL + (
        "    imagePullSecrets: [regcred]\n"
        "secrets:\n  regcred:\n    namespace: ml\n    type: kubernetes.io/dockerconfigjson\n"
        "    data: { .dockerconfigjson: { fromEnv: REGISTRY_AUTH } }\n"
    )
    spec = pod(plan_of(tmp_path, text))
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["containers"][0]["imagePullPolicy"] == "Always"
    spec = pod(plan_of(tmp_path, FULL + "    imagePullPolicy: IfNotPresent\n"))
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_config_maps_env_sources_and_env_from(tmp_path: Path) -> None:
    text = FULL + (
        "    env:\n"
        "      LEVEL: { configMap: settings, key: level }\n"
        "      NODE: { fieldRef: { fieldPath: spec.nodeName } }\n"
        "      MEM: { resourceFieldRef: { resource: limits.memory, divisor: 1Mi } }\n"
        "    envFrom: [{ configMap: settings, prefix: APP_ }, { configMap: ca-bundle }]\n"
        "configMaps:\n"
        "  settings: { namespace: ml, data: { level: info } }\n"
        "  ca-bundle: { namespace: ml, external: true }\n"
    )
    plan = plan_of(tmp_path, text)
    assert manifest(plan, "ConfigMap", "settings")["data"] == {"level": "info"}
    assert not [r for r in plan.resources if r.properties["metadata"]["name"] == "ca-bundle"]
    c = pod(plan)["containers"][0]
    assert c["env"] == [
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
    ]
    assert c["envFrom"] == [
        {"configMapRef": {"name": "settings"}, "prefix": "APP_"},
        {"configMapRef": {"name": "ca-bundle"}},
    ]


SIDECARS = FULL + (
    "    initContainers:\n"
    "      fetch: { image: ghcr.io/acme/fetch:1.0.0, volumeMounts: [{ name: data, mountPath: /data }] }\n"
    "    sidecars:\n"
    "      proxy: { image: ghcr.io/acme/proxy:1.0.0, ports: [admin:9901], readinessProbe: { tcpSocket: { port: admin } } }\n"
    "    volumes:\n"
    "      data: { mountPath: /data, emptyDir: {} }\n"
)


def test_native_sidecars_from_1_29_and_every_container_hardened(tmp_path: Path) -> None:
    spec = pod(plan_of(tmp_path, SIDECARS))
    assert [c["name"] for c in spec["containers"]] == ["trainer"]
    fetch, proxy = spec["initContainers"]
    assert fetch == {
        "name": "fetch",
        "image": "ghcr.io/acme/fetch:1.0.0",
        "imagePullPolicy": "Always",
        "securityContext": SECURE,
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": False}, TMP],
    }
    assert proxy == {
        "name": "proxy",
        "image": "ghcr.io/acme/proxy:1.0.0",
        "imagePullPolicy": "Always",
        "securityContext": SECURE,
        "ports": [{"containerPort": 9901, "protocol": "TCP", "name": "admin"}],
        "readinessProbe": {"tcpSocket": {"port": "admin"}},
        "restartPolicy": "Always",
        "volumeMounts": [TMP],
    }


def test_sidecars_are_ordinary_containers_before_1_29(tmp_path: Path) -> None:
    spec = pod(plan_of(tmp_path, SIDECARS.replace('"1.30"', '"1.28"')))
    assert [c["name"] for c in spec["containers"]] == ["trainer", "proxy"]
    assert [c["name"] for c in spec["initContainers"]] == ["fetch"]
    assert "restartPolicy" not in spec["containers"][1]


def test_job_and_cronjob_settings(tmp_path: Path) -> None:
    text = FULL.replace("image:", "kind: CronJob\n    schedule: '0 2 * * *'\n    image:") + (
        "    backoffLimit: 2\n    activeDeadlineSeconds: 3600\n    ttlSecondsAfterFinished: 600\n"
        "    parallelism: 2\n    completions: 4\n    completionMode: Indexed\n"
        "    concurrencyPolicy: Replace\n    timeZone: Etc/UTC\n    suspend: false\n"
        "    startingDeadlineSeconds: 300\n    successfulJobsHistoryLimit: 1\n    failedJobsHistoryLimit: 5\n"
        "    annotations: { team: ml }\n    podAnnotations: { sidecar.istio.io/inject: 'false' }\n"
        "    terminationGracePeriodSeconds: 30\n"
    )
    plan = plan_of(tmp_path, text)
    cron = manifest(plan, "CronJob", "trainer")
    assert cron["metadata"]["annotations"] == {"team": "ml"}
    spec = cron["spec"]
    assert {k: v for k, v in spec.items() if k != "jobTemplate"} == {
        "schedule": "0 2 * * *",
        "concurrencyPolicy": "Replace",
        "timeZone": "Etc/UTC",
        "suspend": False,
        "startingDeadlineSeconds": 300,
        "successfulJobsHistoryLimit": 1,
        "failedJobsHistoryLimit": 5,
    }
    job = spec["jobTemplate"]["spec"]
    assert {k: v for k, v in job.items() if k != "template"} == {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 3600,
        "ttlSecondsAfterFinished": 600,
        "parallelism": 2,
        "completions": 4,
        "completionMode": "Indexed",
    }
    assert job["template"]["metadata"]["annotations"] == {"sidecar.istio.io/inject": "false"}
    assert job["template"]["spec"]["terminationGracePeriodSeconds"] == 30


def test_port_ranges_in_network_rules(tmp_path: Path) -> None:
    text = FULL + (
        "network:\n  nccl:\n    namespace: ml\n"
        "    from: [{ pods: { app.kubernetes.io/name: trainer } }]\n"
        "    to: [{ pods: { app.kubernetes.io/name: trainer } }]\n"
        "    ports: [{ port: 29400, endPort: 29500 }]\n"
    )
    plan = plan_of(tmp_path, text)
    ingress = manifest(plan, "NetworkPolicy", "nccl-ingress")
    assert ingress["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 29400, "endPort": 29500}]


def test_an_exception_relaxes_one_default_and_pod_security_still_applies(tmp_path: Path) -> None:
    relaxed = (
        FULL
        + "    exceptions: [{ rule: readOnlyRootFilesystem, because: the CUDA runtime writes under /root }]\n"
    )
    spec = pod(plan_of(tmp_path, relaxed))
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
    non_root = (
        FULL + "    exceptions: [{ rule: runAsNonRoot, because: the vendor image runs as root only }]\n"
    )
    found = [m.split("\n")[0] for m in messages(tmp_path, non_root)]
    assert found == [
        "spec.yaml:8:3: error[SA206]: workload 'trainer' violates the restricted Pod Security Standard of "
        "namespace 'ml': containers must run as non-root (runAsNonRoot: true) ('trainer')",
        "spec.yaml:13:18: warning[SA178]: workload 'trainer' relaxes runAsNonRoot: "
        '"the vendor image runs as root only"',
    ]
    baseline = non_root.replace("ml: {}", "ml: { podSecurity: baseline }")
    assert [m.split(": ")[1] for m in messages(tmp_path, baseline)] == ["warning[SA178]"]


# ----------------------------------------------------------------------------- pod security


def test_pod_security_covers_init_containers_sidecars_and_probe_hosts(tmp_path: Path) -> None:
    profile = "securityProfiles:\n  esc:\n    allowPrivilegeEscalation: true\n"
    text = (
        SIDECARS.replace("    runAsUser: 10001\n", "    runAsUser: 10001\n    securityProfile: esc\n")
        + profile
    )
    found = [m.split("\n")[0] for m in messages(tmp_path, text)]
    assert found == [
        "spec.yaml:12:22: error[SA205]: workload 'trainer' violates the restricted Pod Security Standard "
        "of namespace 'ml': containers must set allowPrivilegeEscalation: false ('fetch', 'proxy', 'trainer')"
    ]
    probe = FULL.replace("ml: {}", "ml: { podSecurity: baseline }") + (
        "    lifecycle: { postStart: { httpGet: { port: 80, host: 169.254.169.254 } } }\n"
    )
    assert not [m for m in messages(tmp_path, probe.replace('"1.30"', '"1.33"')) if "[SA220]" in m]
    assert [
        m.split("\n")[0] for m in messages(tmp_path, probe.replace('"1.30"', '"1.34"')) if "[SA220]" in m
    ] == [
        "spec.yaml:13:58: error[SA220]: workload 'trainer' violates the baseline Pod Security Standard of "
        "namespace 'ml': probes and lifecycle hooks may not set 'host'"
    ]


def test_a_probe_host_is_reported_at_that_field_of_each_container(tmp_path: Path) -> None:
    text = FULL.replace('"1.30"', '"1.34"').replace("ml: {}", "ml: { podSecurity: baseline }") + (
        "    ports: [http:8080]\n"
        "    readinessProbe:\n"
        "      httpGet: { path: /ready, port: http, host: 10.0.0.9 }\n"
        "    initContainers:\n"
        "      fetch: { image: ghcr.io/acme/fetch:1.0.0 }\n"
        "    sidecars:\n"
        "      shipper:\n"
        "        image: ghcr.io/acme/shipper:1.0.0\n"
        "        lifecycle: { preStop: { httpGet: { port: 80, host: 10.0.0.7 } } }\n"
        "      proxy:\n"
        "        image: ghcr.io/acme/proxy:1.0.0\n"
        "        startupProbe: { tcpSocket: { port: 9901, host: metadata.internal } }\n"
        "        livenessProbe: { tcpSocket: { port: 9901 } }\n"
    )
    prefix = "error[SA220]: workload 'trainer' violates the baseline Pod Security Standard of namespace 'ml'"
    found = [m for m in messages(tmp_path, text) if "[SA220]" in m]
    hint = (
        "  hint: the cluster would reject its pods; remove 'host' (the kubelet then connects to the "
        "pod's own IP), or lower the namespace's podSecurity level"
    )
    assert found == [
        f"spec.yaml:{line}:{column}: {prefix}: probes and lifecycle hooks may not set 'host'\n{hint}"
        for line, column in ((15, 50), (21, 60), (24, 56))
    ]


def test_an_exception_is_a_sarif_suppression_with_its_justification(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from secureai.cli import app

    path = write_spec(
        tmp_path,
        FULL
        + "    exceptions: [{ rule: readOnlyRootFilesystem, because: the CUDA runtime writes under /root }]\n",
    )
    result = CliRunner().invoke(app, ["validate", "-f", "sarif", str(path)])
    results = json.loads(result.stdout)["runs"][0]["results"]
    assert [(r["ruleId"], r.get("suppressions")) for r in results] == [
        ("SA178", [{"kind": "inSource", "justification": "the CUDA runtime writes under /root"}])
    ]
