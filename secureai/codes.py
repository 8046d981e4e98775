"""Every diagnostic code with a one-line title: for SARIF rules and the README's table."""

CODES: dict[str, str] = {
    # loader
    "SA000": "the file cannot be read",
    "SA001": "invalid YAML",
    "SA002": "not a spec file (empty, binary, not UTF-8, too large, or not a mapping)",
    "SA003": "duplicate key",
    "SA004": "more than one YAML document",
    "SA005": "nesting too deep",
    "SA006": "alias expansion too large",
    "SA007": "YAML tag not allowed",
    # model
    "SA100": "invalid value",
    "SA101": "unknown field",
    "SA102": "missing required field",
    # references
    "SA110": "unknown namespace",
    "SA111": "unknown secret",
    "SA112": "unknown secret key",
    "SA113": "unknown security profile",
    "SA114": "unknown service account",
    "SA115": "reference across namespaces",
    "SA116": "access grant names a secret the spec does not declare",
    # values
    "SA120": "fromFile path does not exist",
    "SA121": "fromEnv variable not set at validate time",
    "SA122": "literal secret value without allowPlaintext",
    "SA123": "literal secret value in plain text",
    "SA124": "allowPlaintext without a literal",
    # workloads
    "SA130": "image not pinned",
    "SA131": "CronJob without schedule",
    "SA132": "field not valid for this workload kind",
    "SA133": "volume type not allowed by the security profile",
    "SA134": "host path not allowed by the security profile",
    "SA135": "no resource requests or limits",
    # target
    "SA141": "target has no admission policy mechanism for profile rules",
    "SA142": "ValidatingAdmissionPolicy is beta on the target",
    # network
    "SA150": "network selector matches no workload",
    "SA151": "API server peer without kubernetes.apiServer",
    # access
    "SA160": "secrets granted without names",
    "SA161": "list/watch on secrets",
    "SA162": "list/watch on secrets allowed explicitly",
    "SA163": "wildcard in an access grant",
    # vault
    "SA300": "Vault used without a vault section",
    "SA301": "Vault grant to an undeclared path",
    "SA302": "Vault wildcard grant matches no declared path",
    "SA303": "Vault path written with its mount or data/ prefix",
    "SA304": "Vault mount name reserved",
    "SA305": "Vault token TTL zero or above the max TTL",
    "SA306": "Vault reader's security profile forbids projected volumes",
    "SA307": "Vault readers share a service account with different grants",
    "SA308": "'+*' in a Vault grant",
    "SA309": "fromVault key missing from the declared path",
    "SA310": "fromVault path not declared in vaultSecrets",
}
