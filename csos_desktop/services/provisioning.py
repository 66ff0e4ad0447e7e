"""Moved to :mod:`csos_desktop.token.provisioning`; this name stays while other branches merge."""

from csos_desktop.token.provisioning import CertificateDoesNotMatchKey as CertificateDoesNotMatchKey
from csos_desktop.token.provisioning import PendingKey as PendingKey
from csos_desktop.token.provisioning import install_certificate as install_certificate
from csos_desktop.token.provisioning import new_key_and_csr as new_key_and_csr
