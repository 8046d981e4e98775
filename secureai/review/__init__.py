"""Review commands: the posture of a spec (`access`) and its change between two specs (`diff`).

Above the pipeline (they compile specs, and `diff` reads old revisions from git), beside
render; they never import pulumi.
"""
