"""The pharmacy's answer to a NewRx: a SCRIPT Status (verified) or Error (with the reasons).

Codes (SCRIPT 2017071 Status/Error code list, uncertain: docs/epcs.md): Status ``010``
"accepted by the ultimate receiver"; Error ``900`` "transaction rejected", with our reason
codes in ``DescriptionCode`` and the sentences in ``Description``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from csos_desktop.domain.script.mapping_2017071 import TABLE as SCRIPT_2017071
from csos_desktop.domain.script.newrx import SCRIPT_NAMESPACE
from csos_desktop.domain.script.table import MappingTable
from csos_desktop.domain.timestamps import format_timestamp

STATUS_ACCEPTED = "010"
ERROR_REJECTED = "900"
#: Description is free text of bounded length in SCRIPT; ours is cut there.
MAX_DESCRIPTION = 2000


def build_answer(
    *,
    own_ncpdp_id: str,
    message_id: str,
    relates_to: str,
    reasons: Sequence[tuple[str, str]],
    now: datetime,
    table: MappingTable = SCRIPT_2017071,
    to: str = "",
) -> bytes:
    """Status when *reasons* is empty, else Error listing them; canonical bytes. *to*: the
    NewRx's From, when it named its sender."""
    # The schemas' namespace as the default, like the NewRx (newrx.SCRIPT_NAMESPACE).
    root = ET.Element("Message", {"xmlns": SCRIPT_NAMESPACE, **dict(table.message_attributes)})
    header = ET.SubElement(root, "Header")
    if to:
        ET.SubElement(header, "To").text = to
    ET.SubElement(header, "From", {"Qualifier": table.to_qualifier}).text = own_ncpdp_id
    ET.SubElement(header, "MessageID").text = message_id
    ET.SubElement(header, "RelatesToMessageID").text = relates_to
    ET.SubElement(header, "SentTime").text = format_timestamp(now)
    body = ET.SubElement(root, "Body")
    if not reasons:
        ET.SubElement(ET.SubElement(body, "Status"), "Code").text = STATUS_ACCEPTED
    else:
        error = ET.SubElement(body, "Error")
        ET.SubElement(error, "Code").text = ERROR_REJECTED
        ET.SubElement(error, "DescriptionCode").text = " ".join(code for code, _ in reasons)
        text = "; ".join(message for _, message in reasons)
        ET.SubElement(error, "Description").text = text[:MAX_DESCRIPTION]
    return ET.canonicalize(ET.tostring(root, encoding="unicode")).encode("utf-8")
