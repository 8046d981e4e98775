"""Exit codes, as named constants (the CLI is the only place that turns results into them)."""

OK = 0  # valid (warnings allowed unless --strict), or the command did what it was asked
FINDINGS = 1  # the spec has errors (or warnings under --strict), or drift under --expect-no-changes
USAGE = 2  # bad usage, unreadable input, a deploy failure, or an internal error
INTERRUPTED = 130  # Ctrl-C: the update was cancelled
