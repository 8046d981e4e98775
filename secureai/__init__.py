"""secureai: one YAML security spec for AI workloads on Kubernetes, compiled to Pulumi."""

__version__ = "0.1.0"
