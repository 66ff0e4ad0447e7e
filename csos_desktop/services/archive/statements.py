"""Tying each signed distributor statement in an archive bundle to its order.

The statement's signature and chain are checked like every other signature in the
bundle; here, what makes it the supplier's word about *this* order: it names the
order's id, number and the SHA-256 of the order's exact bytes and signature as
bundled (the signed 850's, ``<id>.850.p7m``, for an order sent over AS2), and its
signer's certificate carries the supplier's DEA number (as a hash).
"""

from __future__ import annotations

import json
import re
import zipfile

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.pki.cms_attached import detach
from csos_desktop.pki.cms_parse import MalformedSignature
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.services.archive.container import MemberUnreadable, read_member
from csos_desktop.sync.statements import OrderFacts, binding_problems

_STATEMENT_SIGNATURE = re.compile(r"(?P<order>[^/]+)\.statement-[0-9]+\.p7s")


def is_statement_signature(name: str) -> bool:
    return _STATEMENT_SIGNATURE.fullmatch(name.rsplit("/", 1)[-1]) is not None


def statement_problems(
    zf: zipfile.ZipFile, sig_name: str, signer: CsosCertificateInfo | None
) -> list[str]:
    """What does not tie the statement signed by *sig_name* to its bundled order.

    *signer* is the signer's CSOS profile as the signature's check read it (None: that
    check already reported why it could not be read).
    """
    folder, _, file = sig_name.rpartition("/")
    match = _STATEMENT_SIGNATURE.fullmatch(file)
    if match is None:
        return []
    order_id = match.group("order")
    try:
        content = load_document(read_member(zf, sig_name[: -len(".p7s")] + ".json"))
        order_document = read_member(zf, f"{folder}/{order_id}.json")
        order_signature = read_member(zf, f"{folder}/{order_id}.p7s")
        order = json.loads(order_document)
        supplier = order["supplier"]["dea_number"]
        number = order["order_number"]
    except (MemberUnreadable, MalformedDocument, ValueError, RecursionError, KeyError) as exc:
        return [f"{sig_name}: cannot be tied to its order ({type(exc).__name__}: {exc})"]
    except TypeError as exc:
        return [f"{sig_name}: cannot be tied to its order ({exc})"]
    signed_850 = f"{folder}/{order_id}.850.p7m"
    if signed_850 in zf.namelist():  # sent over AS2: the distributor holds the signed 850
        try:
            order_document, order_signature = detach(read_member(zf, signed_850))
        except (MemberUnreadable, MalformedSignature) as exc:
            return [f"{sig_name}: cannot be tied to its signed 850 ({exc})"]
    facts = OrderFacts(order_id, str(supplier), order_document, order_signature, str(number))
    return [f"{sig_name}: {p}" for p in binding_problems(content, signer, facts, None)]
