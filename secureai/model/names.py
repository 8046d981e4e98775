"""Constrained string types: names as Kubernetes and Vault check them, with readable errors.

Each type validates with a plain function (so the message says what a good name looks like,
not a regex) and publishes the equivalent pattern in the JSON Schema for editors. Patterns are
applied as full matches (`re.fullmatch`): `re.match` with `$` accepts a trailing newline, which
then breaks file names, manifests, HCL and CEL. No name, path, label or setting may hold a
control character; only free text (commands, arguments, env values) may hold tabs and line
breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from secureai.loader import raw_text

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL_NAME = r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"
VAULT_SEGMENT = r"[A-Za-z0-9_.-]+"
VAULT_PATH = rf"^{VAULT_SEGMENT}(/{VAULT_SEGMENT})*$"
# A read grant may use Vault's glob forms: `+` for one segment, a trailing `*`.
VAULT_GRANT = r"^([A-Za-z0-9_.-]+|\+)(/([A-Za-z0-9_.-]+|\+))*(/\*|\*)?$"
KUBE_VERSION = r"^1\.[0-9]{1,2}$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
DURATION = r"^[0-9]+[smh]$"
# A file name in a directory secureai fills: no '/', and no leading '.' (so never '.' or '..').
FILE_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"

MIN_MINOR, MAX_MINOR = 19, 37


def as_text(value: Any) -> Any:
    """A number written where text belongs is taken as written (`1.30`, `08`), not as parsed."""
    return raw_text(value)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def no_control(value: str) -> str:
    """Refuse control characters (and invisible line breaks, bidi controls) in a one-line value."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs, escapes)")
    return value


def _free_text(value: str) -> str:
    if _CONTROL_IN_FREE_TEXT.search(value):
        raise ValueError("must not contain control characters other than tabs and line breaks")
    return value


class _Matcher:
    """A name check (a class, not a closure: validators must pickle for the schema cache)."""

    __slots__ = ("compiled", "max_len", "what")

    def __init__(self, pattern: str, what: str, max_len: int | None = None):
        self.compiled = re.compile(pattern)
        self.what = what
        self.max_len = max_len

    def __call__(self, value: str) -> str:
        if self.max_len is not None and len(value) > self.max_len:
            raise ValueError(f"'{value}' is too long for {self.what} (at most {self.max_len} characters)")
        if not self.compiled.fullmatch(value):
            raise ValueError(f"'{value}' is not {self.what}")
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Matcher, (self.compiled.pattern, self.what, self.max_len))


def _matcher(pattern: str, what: str, max_len: int | None = None) -> Callable[[str], str]:
    return _Matcher(pattern, what, max_len)


def _text_type(pattern: str, what: str, max_len: int | None = None, *more: AfterValidator) -> Any:
    """Text matching `pattern`; `more` validators check what a pattern cannot say."""
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    if max_len:
        schema["maxLength"] = max_len
    return Annotated[
        str,
        BeforeValidator(as_text),
        AfterValidator(_matcher(pattern, what, max_len)),
        *more,
        WithJsonSchema(schema),
    ]


DnsLabel = _text_type(
    DNS_LABEL,
    "a valid name: use lowercase letters, digits and '-', starting and ending with a letter "
    "or digit (RFC 1123 label)",
    63,
)
DnsSubdomain = _text_type(
    DNS_SUBDOMAIN,
    "a valid name: use lowercase letters, digits, '-' and '.', starting and ending with a "
    "letter or digit (RFC 1123 subdomain)",
    253,
)
EnvName = _text_type(ENV_NAME, "a valid environment variable name")


def _secret_key(value: str) -> str:
    """As Kubernetes checks a Secret key: the kubelet's volume layout owns `.`, `..` and `..x`."""
    if value in (".", "..") or value.startswith(".."):
        raise ValueError(f"'{value}' is not a valid secret key: it must not be '.' or start with '..'")
    return value


def _no_dot_segments(value: str) -> str:
    """`a/./b` and `a/../b` would name another path than written (and collide on disk)."""
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError(f"'{value}' is not a valid Vault path: no '.' or '..' segments")
    return value


SecretKey = _text_type(
    SECRET_KEY,
    "a valid secret key: use letters, digits, '-', '_' and '.'",
    253,
    AfterValidator(_secret_key),
)
VaultPath = _text_type(
    VAULT_PATH,
    "a valid Vault path: segments of letters, digits, '_', '-' and '.', separated by '/', "
    "with no leading or trailing '/'",
    None,
    AfterValidator(_no_dot_segments),
)
VaultGrant = _text_type(
    VAULT_GRANT,
    "a valid Vault path: segments separated by '/', '+' for any one segment, '*' at the end",
    None,
    AfterValidator(_no_dot_segments),
)
FileName = _text_type(
    FILE_NAME, "a valid file name: letters, digits, '.', '_' and '-', not starting with '.'", 253
)
Quantity = _text_type(QUANTITY, "a valid Kubernetes quantity such as 500m, 2, 512Mi or 4Gi")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(text: str) -> int:
    """A `Duration` (`90s`, `15m`, `1h`) in seconds, as Vault's TTL fields take them."""
    return int(text[:-1]) * _SECONDS[text[-1]]


Duration = _text_type(DURATION, "a valid duration such as 90s, 15m or 1h")
# One-line settings and paths (a file name, an address, a resource name): no control characters.
Text = Annotated[
    str, BeforeValidator(as_text), AfterValidator(no_control), WithJsonSchema({"type": "string"})
]
# Free text (commands, arguments, env values): tabs and line breaks allowed, other controls not.
FreeText = Annotated[
    str, BeforeValidator(as_text), AfterValidator(_free_text), WithJsonSchema({"type": "string"})
]
Capability = _text_type(r"^[A-Z_]+$", "a capability name such as NET_BIND_SERVICE (upper case)")

PORT_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _port_name(value: str) -> str:
    """As Kubernetes checks a port name (IANA_SVC_NAME), which the pattern alone does not say."""
    if not re.search("[a-z]", value) or "--" in value:
        raise ValueError(f"'{value}' is not a valid port name: it needs a letter, and no '--'")
    return value


PortName = _text_type(
    PORT_NAME, "a valid port name: lowercase letters, digits and '-'", 15, AfterValidator(_port_name)
)


def _descending_path(value: str) -> str:
    """A path below a directory, as Kubernetes checks a Localhost seccomp profile: no '..'."""
    if ".." in value.split("/"):
        raise ValueError(f"'{value}' must stay inside the kubelet's seccomp directory: no '..'")
    return value


LocalhostProfile = _text_type(
    r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$",
    "a relative path: segments of letters, digits, '_', '.' and '-' separated by '/'",
    None,
    AfterValidator(_descending_path),
)


def _label_key(value: str) -> str:
    prefix, slash, name = value.rpartition("/")
    if slash and not re.fullmatch(DNS_SUBDOMAIN, prefix):
        raise ValueError(f"'{value}' is not a valid label key: the prefix must be a DNS subdomain")
    if len(name) > 63 or not re.fullmatch(LABEL_NAME, name):
        raise ValueError(
            f"'{value}' is not a valid label key: at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


def _label_value(value: str) -> str:
    if len(value) > 63 or not re.fullmatch(LABEL_VALUE, value):
        raise ValueError(
            f"'{value}' is not a valid label value: at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return value


LabelKey = Annotated[
    str, BeforeValidator(as_text), AfterValidator(_label_key), WithJsonSchema({"type": "string"})
]
LabelValue = Annotated[
    str,
    BeforeValidator(as_text),
    AfterValidator(_label_value),
    WithJsonSchema({"type": "string", "pattern": LABEL_VALUE, "maxLength": 63}),
]
Labels = dict[LabelKey, LabelValue]


def _kube_version(value: str) -> str:
    if not re.fullmatch(KUBE_VERSION, value):
        raise ValueError(f"'{value}' is not a Kubernetes minor version such as \"1.30\"")
    minor = int(value.split(".")[1])
    if not MIN_MINOR <= minor <= MAX_MINOR:
        raise ValueError(
            f"Kubernetes {value} is not supported; secureai targets 1.{MIN_MINOR} to 1.{MAX_MINOR}"
        )
    return value


KubeVersion = Annotated[
    str,
    BeforeValidator(as_text),
    AfterValidator(_kube_version),
    WithJsonSchema({"type": "string", "pattern": KUBE_VERSION}),
]


def _cidr(value: str) -> str:
    import ipaddress  # only specs with CIDRs pay for it

    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid CIDR: {exc}") from None


Cidr = Annotated[str, BeforeValidator(as_text), AfterValidator(_cidr), WithJsonSchema({"type": "string"})]

# A domain name, or `*.` and one: the wildcard stands for one whole label on the left (as in
# Cilium's matchPattern: `*.s3.amazonaws.com` matches `bucket.s3.amazonaws.com`, not
# `s3.amazonaws.com` nor `a.b.s3.amazonaws.com`), never for the whole name (a bare `*` would
# allow every domain, i.e. the internet).
FQDN = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"
_FQDN_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _fqdn(value: str) -> str:
    no_control(value)
    name = value[2:] if value.startswith("*.") else value
    labels = name.split(".")
    problem = None
    if len(labels) < 2:
        problem = "a domain has at least two labels ('example.com'); a bare '*' or name would match too much"
    elif "*" in name:
        problem = "'*' may only be the whole leftmost label ('*.example.com')"
    elif len(value) > 253:
        problem = "at most 253 characters"
    elif not all(len(label) <= 63 and _FQDN_LABEL.fullmatch(label) for label in labels):
        problem = "lowercase letters, digits and '-' in labels of at most 63, separated by '.'"
    if problem:
        raise ValueError(f"'{value}' is not a valid domain name: {problem}")
    return value


Fqdn = Annotated[
    str,
    BeforeValidator(as_text),
    AfterValidator(_fqdn),
    WithJsonSchema({"type": "string", "pattern": FQDN, "maxLength": 253}),
]


def _abs_path(value: str) -> str:
    no_control(value)
    if not value.startswith("/") or "/../" in f"{value}/":
        raise ValueError(f"'{value}' must be an absolute path without '..'")
    return value


AbsPath = Annotated[
    str,
    BeforeValidator(as_text),
    AfterValidator(_abs_path),
    WithJsonSchema({"type": "string", "pattern": "^/"}),
]


def _image(value: str) -> str:
    if not value or any(c.isspace() for c in value) or _CONTROL.search(value):
        raise ValueError(f"'{value}' is not a container image reference")
    return value


Image = Annotated[str, BeforeValidator(as_text), AfterValidator(_image), WithJsonSchema({"type": "string"})]

# A namespace name with shell-style wildcards: `ml-*`, `team-?`, `serving`.
NamespacePattern = _text_type(
    r"^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$",
    "a namespace name or pattern: lowercase letters, digits, '-', and the wildcards '*' and '?'",
    63,
)
# A Vault path with wildcards (`ml/*`: '*' spans segments), for what a composed spec's part owns.
VaultPattern = _text_type(
    r"^[A-Za-z0-9_.*?-]+(/[A-Za-z0-9_.*?-]+)*$",
    "a Vault path or pattern: segments of letters, digits, '_', '-', '.', '*' and '?', separated by '/'",
)
