"""`python -m csos_desktop` runs the `csos` command."""

from csos_desktop.cli.entry import run

run()
