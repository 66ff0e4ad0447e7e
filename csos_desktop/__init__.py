"""CSOS Desktop: DEA CSOS ordering and EPCS signing with PKCS#11 tokens."""

__version__ = "0.1.0"
