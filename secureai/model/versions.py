"""Kubernetes facts by minor version: one definition for the checks and the compilers."""

from __future__ import annotations

CRONJOB_GA = 21  # batch/v1 CronJob from 1.21; batch/v1beta1 before
NAME_LABEL_MINOR = 21  # the API server labels every namespace with its name from 1.21
BOUND_TOKENS_MINOR = 21  # the automounted API token is a projected volume from 1.21
PSA_ENABLED = 23  # Pod Security Admission: beta and on by default from 1.23
PSP_REMOVED = 25  # PodSecurityPolicy is gone from 1.25
VAP_BETA = 28  # ValidatingAdmissionPolicy: admissionregistration.k8s.io/v1beta1 in 1.28-1.29
VAP_GA = 30  # ... and v1 from 1.30
NATIVE_SIDECARS = 29  # init containers with restartPolicy: Always, on by default (beta) from 1.29
PROBE_HOST_RULE = 34  # Pod Security baseline forbids `host` in probes and lifecycle hooks from 1.34
LIFECYCLE_SLEEP = 30  # the `sleep` lifecycle handler (PodLifecycleSleepAction on by default)
END_PORT_MINOR = 22  # NetworkPolicy endPort (beta, on by default from 1.22; GA 1.25)
