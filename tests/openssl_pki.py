"""A CA made by the `openssl` command (not by our sandbox CA), for testing the reader.

Certificates are issued with `openssl x509 -req -extfile`, the DEA extensions given
in openssl's own `DER:` / `ASN1:` forms, so the profile reader is tested against
encodings another tool produced. CRLs come from `openssl ca -gencrl`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")

DEA = "AB1234563"
SUBJECT_SERIAL = "FOREIGN-0001"
OID = "2.16.840.1.101.3.5"
SUBJECT = f"/C=US/O=Foreign Pharmacy/CN=Foreign Pharmacist/serialNumber={SUBJECT_SERIAL}"


def openssl(*args: str | Path, cwd: Path | None = None) -> str:
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def dea_hash_hex(dea: str = DEA, serial: str = SUBJECT_SERIAL) -> str:
    return hashlib.sha1((dea + serial).encode("ascii")).hexdigest()


def der_octets(hexdigits: str) -> str:
    return ":".join(hexdigits[i : i + 2] for i in range(0, len(hexdigits), 2))


#: Encodings of the DEA-number and schedules extensions, as openssl's extfile writes them.
HASH_AS_OCTET_STRING = f"DER:04:14:{der_octets(dea_hash_hex())}"
HASH_AS_IA5_HEX = f"ASN1:IA5STRING:{dea_hash_hex()}"
HASH_AS_UTF8_HEX = f"ASN1:UTF8String:{dea_hash_hex().upper()}"
SCHEDULES_AS_BITS = "ASN1:FORMAT:BITLIST,BITSTRING:1,2,3,4,5,6"  # 2,2N,3,3N,4,5
SCHEDULES_AS_TEXT = "ASN1:UTF8String:2\\$2N\\$3"


def dea_extension_lines(
    hash_value: str = HASH_AS_OCTET_STRING, schedules: str = SCHEDULES_AS_BITS
) -> list[str]:
    return [
        f"{OID}.1=ASN1:INTEGER:1",
        f"{OID}.2=ASN1:UTF8String:Foreign Pharmacy",
        f"{OID}.3={hash_value}",
        f"{OID}.4={schedules}",
        f"{OID}.5=ASN1:PRINTABLESTRING:Retail Pharmacy",
        f"{OID}.6=ASN1:IA5STRING:1 Main St\\$Springfield\\$IL 62701",
    ]


@dataclass(frozen=True)
class OpensslCa:
    """A self-signed root in *directory* that issues and revokes with `openssl ca`."""

    directory: Path

    @property
    def root(self) -> Path:
        return self.directory / "root.pem"

    @classmethod
    def create(cls, directory: Path) -> OpensslCa:
        directory.mkdir(parents=True, exist_ok=True)
        openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", directory / "root.key", "-out", directory / "root.pem",
            "-subj", "/C=US/O=Foreign Test PKI/CN=Foreign E-Commerce Root CA", "-days", "3650",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        (directory / "index.txt").write_text("")
        (directory / "index.txt.attr").write_text("unique_subject = no\n")
        (directory / "crlnumber").write_text("01\n")
        (directory / "ca.cnf").write_text(
            "[ca]\ndefault_ca = CA_default\n[CA_default]\n"
            f"database = {directory / 'index.txt'}\ncrlnumber = {directory / 'crlnumber'}\n"
            "default_md = sha256\ndefault_crl_days = 7\n"
        )
        return cls(directory)

    def issue(
        self,
        name: str,
        public_key_pem: Path,
        *,
        subject: str = SUBJECT,
        extensions: list[str] | None = None,
        key_usage: str = "critical,digitalSignature,nonRepudiation",
        crl_url: str | None = None,
    ) -> Path:
        """A subscriber certificate for *public_key_pem* (PEM), via `x509 -req -extfile`."""
        d = self.directory
        throwaway = d / f"{name}.csr-key"
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", throwaway)  # fmt: skip
        openssl("req", "-new", "-key", throwaway, "-subj", subject, "-out", d / f"{name}.csr")
        lines = [
            "[v3]",
            "basicConstraints=critical,CA:FALSE",
            f"keyUsage={key_usage}",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid",
            *([f"crlDistributionPoints=URI:{crl_url}"] if crl_url else []),
            *(dea_extension_lines() if extensions is None else extensions),
        ]
        (d / f"{name}.ext").write_text("\n".join(lines) + "\n")
        out = d / f"{name}.pem"
        openssl(
            "x509", "-req", "-in", d / f"{name}.csr", "-force_pubkey", public_key_pem,
            "-CA", self.root, "-CAkey", d / "root.key", "-CAcreateserial", "-days", "365",
            "-extfile", d / f"{name}.ext", "-extensions", "v3", "-out", out,
        )  # fmt: skip
        # `openssl ca -revoke` looks certificates up in its database: register it.
        openssl("ca", "-config", d / "ca.cnf", "-cert", self.root, "-keyfile", d / "root.key",
                "-valid", out)  # fmt: skip
        return out

    def revoke(self, cert: Path, reason: str = "keyCompromise") -> None:
        openssl("ca", "-config", self.directory / "ca.cnf", "-cert", self.root,
                "-keyfile", self.directory / "root.key", "-revoke", cert,
                "-crl_reason", reason)  # fmt: skip

    def crl(self, out: Path, *, days: int = 7, seconds: int | None = None) -> Path:
        """A CRL valid *days* (or only *seconds*: stale right after)."""
        d = self.directory
        span = ["-crlsec", str(seconds)] if seconds is not None else ["-crldays", str(days)]
        openssl("ca", "-gencrl", "-config", d / "ca.cnf", "-cert", self.root,
                "-keyfile", d / "root.key", *span, "-out", out)  # fmt: skip
        return out


def new_public_key(directory: Path, name: str = "leaf") -> Path:
    """A fresh RSA key pair made by openssl; returns the public key PEM (tests without a token)."""
    key = directory / f"{name}.key"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    pub = directory / f"{name}.pub"
    openssl("pkey", "-in", key, "-pubout", "-out", pub)
    return pub
