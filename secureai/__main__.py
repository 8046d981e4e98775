"""`python -m secureai` runs the CLI."""

from secureai.cli import main

main()
