"""Who must have signed the images a namespace's pods run: a keyless (Sigstore) identity or a
public key, verified by Sigstore policy-controller (`images.signatures`).

Absent, nothing is verified: a signature policy nobody asked for would refuse working images.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from secureai.model.base import Model, exactly_one

# Constructs Python's `re` accepts but Go's RE2 (which the verifier uses) refuses.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?P=")
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----\s+(?P<body>[A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----")


def _issuer(value: str) -> str:
    if not re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ValueError(
            f"'{value}' is not an OIDC issuer URL such as https://token.actions.githubusercontent.com"
        )
    return value


def _regexp(value: str) -> str:
    try:
        re.compile(value)
    except re.error as e:
        raise ValueError(f"'{value}' is not a regular expression: {e}") from None
    if _NOT_RE2.search(value):
        raise ValueError(
            f"'{value}' uses a look-around or a back reference, which the verifier's regular "
            "expressions (Go RE2) do not have"
        )
    return value


def _public_key(value: str) -> str:
    """The key as PEM, its body re-wrapped at 64 columns (a folded YAML string is accepted)."""
    found = _PEM.fullmatch(value.strip())
    try:
        if found is None:
            raise ValueError
        body = "".join(found["body"].split())
        base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(
            "not a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----, "
            "as `cosign generate-key-pair` writes cosign.pub)"
        ) from None
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----", ""])


def _signed_prefix(value: str) -> str:
    # images.py imports this module (ImagePolicy.signatures): its prefix check is read on use.
    from secureai.model.images import _registry_prefix

    return _registry_prefix(value)


SignedPrefix = Annotated[str, AfterValidator(_signed_prefix), WithJsonSchema({"type": "string"})]
Issuer = Annotated[str, AfterValidator(_issuer), WithJsonSchema({"type": "string"})]
RegExp = Annotated[str, AfterValidator(_regexp), WithJsonSchema({"type": "string"})]
PublicKey = Annotated[str, AfterValidator(_public_key), WithJsonSchema({"type": "string"})]


class KeylessIdentity(Model):
    """A Sigstore keyless signer: the OIDC issuer of its token and its certificate's subject."""

    issuer: Issuer = Field(description="the OIDC issuer, such as https://token.actions.githubusercontent.com")
    subject: str | None = Field(
        None, min_length=1, description="the exact subject (a workflow URL, an e-mail address)"
    )
    subject_reg_exp: RegExp | None = Field(
        None,
        min_length=1,
        description="a regular expression the whole subject must match, such as "
        "https://github.com/acme/.+/.github/workflows/release.yaml@refs/tags/.+",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> KeylessIdentity:
        exactly_one(self, ("subject", "subject_reg_exp"), "a keyless identity")
        return self


class ImageSignatures(Model):
    """Every image of the namespace's pods under `registries` (default: every image) must carry a
    signature of this signer, verified by Sigstore policy-controller."""

    keyless: KeylessIdentity | None = None
    public_key: PublicKey | None = Field(
        None, description="a PEM public key (cosign.pub) whose signature every image must carry"
    )
    registries: list[SignedPrefix] | None = Field(
        None,
        min_length=1,
        description="the registry or repository prefixes whose images must be signed; default: "
        "every image (under allowedRegistries when given)",
    )

    @model_validator(mode="after")
    def _one_signer(self) -> ImageSignatures:
        exactly_one(self, ("keyless", "public_key"), "signatures")
        return self
