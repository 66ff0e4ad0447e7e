"""Moved to :mod:`csos_desktop.token.access`; this name stays while other branches merge."""

from csos_desktop.token.access import open_library as open_library
from csos_desktop.token.access import open_token as open_token
