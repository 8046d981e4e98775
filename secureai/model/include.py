"""A composed spec's `include` entries: which files hold the teams' parts, and what each may declare.

The loader composes the parts into one spec before this model sees it (secureai.loader.compose);
the model checks the entries' shape, so that the root spec's own errors are positioned like
any other field's.
"""

from __future__ import annotations

from pydantic import Field, StrictBool

from secureai.model.base import Model, empty_list
from secureai.model.names import NamespacePattern, Text, VaultPattern


class Include(Model):
    """Files that hold part of the spec, and the namespaces and Vault paths they may declare in.

    A part may declare namespaces, secrets, config maps, workloads, network rules and access
    only in the namespaces `owns` matches, and Vault paths only where `vaultPaths` matches: a
    CODEOWNERS entry per part then makes each team's review the review that counts.
    """

    files: Text = Field(description="a file or a glob, relative to the root spec's directory")
    owns: list[NamespacePattern] = Field(min_length=1, description="namespaces the files may declare in")
    vault_paths: list[VaultPattern] = Field(
        default_factory=empty_list, description="vaultSecrets paths the files may declare"
    )
    allow_outside_root: StrictBool = Field(
        False, description="allow files outside the root spec's directory (refused by default)"
    )
