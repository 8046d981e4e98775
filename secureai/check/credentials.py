"""Value sources that would copy the deployer's own credentials into a workload's Secret.

`fromFile: /etc/shadow` or `fromEnv: VAULT_TOKEN` validate and deploy fine, and put the
machine's password hashes or the deploy token into the cluster, readable by whoever may read
the Secret. Usually a typo or a spec written by someone else: warned about, by name of the
source, never its content. Paths are checked as written and as they resolve (symlinks, `..`).
"""

from __future__ import annotations

import re
from contextlib import suppress
from pathlib import Path

from secureai.check.values import value_sources
from secureai.diagnostics import Diagnostic, warning
from secureai.model.spec import Spec

# Variables the deploy itself, or the CI running it, authenticates with.
CREDENTIAL_VARIABLES = frozenset(
    {
        "VAULT_TOKEN",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_ACCESS_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GOOGLE_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "CLOUDSDK_AUTH_ACCESS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "AZURE_STORAGE_KEY",
        "ARM_CLIENT_SECRET",
        "ARM_ACCESS_KEY",
        "DIGITALOCEAN_TOKEN",
        "GITHUB_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "CI_JOB_TOKEN",
    }
)

# System files holding credentials, and those under any home directory.
_SYSTEM_FILES = re.compile(
    r"^/etc/(shadow|gshadow|master\.passwd|sudoers|security/opasswd)(-|\.bak)?$|"
    r"^/etc/sudoers\.d/|^/etc/ssh/ssh_host_[^/]*_key$|^/etc/kubernetes/(admin|kubelet|controller-manager|scheduler)\.conf$|"
    r"^/etc/kubernetes/pki/.*\.key$|^/var/lib/kubelet/pki/|"
    r"^/(var/)?run/secrets/(kubernetes\.io|eks\.amazonaws\.com|azure)/|^/proc/"
)
_HOME_FILES = re.compile(
    r"^(/root|/home/[^/]+|/Users/[^/]+)/("
    r"\.ssh/|\.aws/(credentials|config)$|\.kube/config$|\.vault-token$|\.docker/config\.json$|"
    r"\.config/gcloud/|\.azure/|\.pulumi/credentials\.json$|\.netrc$|\.pgpass$|\.gnupg/|"
    r"\.git-credentials$|\.npmrc$|\.pypirc$)"
)


def is_credential_file(path: Path) -> bool:
    """`path` (absolute) or what it resolves to is a system or per-user credential file."""
    candidates = {str(path)}
    with suppress(OSError, RuntimeError):  # a symlink loop: the lexical path still counts
        candidates.add(str(path.resolve()))
    home = str(Path.home())
    for text in list(candidates):
        if text.startswith(home + "/"):
            candidates.add("/root" + text[len(home) :])
    return any(_SYSTEM_FILES.search(c) or _HOME_FILES.search(c) for c in candidates)


def check_credentials(spec: Spec, base_dir: Path) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for path, source in value_sources(spec):
        where = ".".join(str(p) for p in path)
        if source.from_file is not None and is_credential_file(_absolute(base_dir / source.from_file)):
            out.append(
                warning(
                    "SA125",
                    f"{where}: fromFile reads a system or user credential file "
                    "(password hashes, keys, cloud or cluster credentials)",
                    (*path, "fromFile"),
                    hint="a workload should get its own credential, not the deploying machine's; "
                    "copy the value it needs into a file of its own",
                )
            )
        if source.from_env is not None and source.from_env in CREDENTIAL_VARIABLES:
            out.append(
                warning(
                    "SA126",
                    f"{where}: fromEnv reads {source.from_env}, a credential the deploy or its CI "
                    "authenticates with",
                    (*path, "fromEnv"),
                    hint="export the workload's value under a name of its own; the deployer's "
                    "credential would be readable by everyone who may read this Secret",
                )
            )
    return out


def _absolute(path: Path) -> Path:
    """Lexically normalised (`..` removed) and absolute, without touching the file system."""
    import os

    return Path(os.path.normpath(path.absolute()))
