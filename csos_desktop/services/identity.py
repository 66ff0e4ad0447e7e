"""Moved to :mod:`csos_desktop.token.identity`; this name stays while other branches merge.

Import from ``csos_desktop.token.identity`` in new code.
"""

from csos_desktop.token.identity import RENEWAL_WINDOW_DAYS as RENEWAL_WINDOW_DAYS
from csos_desktop.token.identity import CertificateNotUsable as CertificateNotUsable
from csos_desktop.token.identity import SigningIdentity as SigningIdentity
from csos_desktop.token.identity import chain_for as chain_for
from csos_desktop.token.identity import choose_identity as choose_identity
from csos_desktop.token.identity import load_certificates as load_certificates
from csos_desktop.token.identity import signing_identities as signing_identities
