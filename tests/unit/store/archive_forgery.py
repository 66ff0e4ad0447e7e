"""What an attacker does to an archive bundle: rewrite members, re-hash and re-sign the manifest.

Signatures here are built with asn1crypto and a key the attacker holds (not our CMS
code), with or without a signing-time attribute, so verification is tested against
CMS it did not produce.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.trust_anchors import TrustMaterial


def crl_options(ca: TestCa, directory: Path) -> list[str]:
    """`--crl FILE` for *ca*'s two current CRLs, written into *directory*."""
    out = []
    for name, crl in (("crl.pem", ca.crl()), ("root-crl.pem", ca.root_crl())):
        (directory / name).write_bytes(crl.public_bytes(Encoding.PEM))
        out += ["--crl", str(directory / name)]
    return out


def roots(ca: TestCa, *, with_crls: bool = True, at: datetime | None = None) -> TrustMaterial:
    """Trust *ca*'s root, with its CRLs (issuing CA and root) issued *at* (default now)
    unless told not to."""
    crls = (
        tuple(
            asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
            for c in (ca.crl(now=at), ca.root_crl(now=at))
        )
        if with_crls
        else ()
    )
    return TrustMaterial(
        (asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER)),), crls
    )


def forged_signature(
    document: bytes,
    key: ec.EllipticCurvePrivateKey,
    cert_der: bytes,
    chain_der: tuple[bytes, ...] = (),
    *,
    signing_time: datetime | None = None,
) -> bytes:
    """A detached CMS SignedData over *document*; signing-time only when given."""
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(document).digest()]}),
    ]
    if signing_time is not None:
        attrs.append(
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
            )
        )
    signed_attrs = cms.CMSAttributes(attrs)
    signature = key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    cert = asn1_x509.Certificate.load(cert_der)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [cert, *(asn1_x509.Certificate.load(d) for d in chain_der)],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def read_members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_members(bundle: Path, items: dict[str, bytes]) -> None:
    with zipfile.ZipFile(bundle, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def rehash(items: dict[str, bytes]) -> bytes:
    """manifest.json listing *items* as they are now (what an attacker writes)."""
    manifest = json.loads(items["manifest.json"])
    manifest["files"] = [
        {"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
        for n, d in sorted(items.items())
        if n not in ("manifest.json", "manifest.p7s")
    ]
    return json.dumps(manifest, indent=2).encode()


def reseal(
    bundle: Path,
    items: dict[str, bytes],
    key: ec.EllipticCurvePrivateKey,
    cert_der: bytes,
    chain_der: tuple[bytes, ...] = (),
    *,
    signing_time: datetime | None = None,
) -> None:
    """Write *items* with a re-hashed manifest signed by the attacker's key."""
    reseal_with(
        bundle,
        items,
        lambda manifest: forged_signature(
            manifest, key, cert_der, chain_der, signing_time=signing_time
        ),
    )


def reseal_with(bundle: Path, items: dict[str, bytes], sign: Callable[[bytes], bytes]) -> None:
    """Write *items* with a re-hashed manifest signed by *sign*."""
    items = dict(items)
    items["manifest.json"] = rehash(items)
    items["manifest.p7s"] = sign(items["manifest.json"])
    write_members(bundle, items)
