"""What the signing dialog shows, as rich text: the documents, the token, the PIN state."""

from __future__ import annotations

from html import escape

from csos_desktop.domain.order import Order, Party
from csos_desktop.domain.token_state import PinState, pin_wording
from csos_desktop.gui.jobs.signing import Outcome, Preview
from csos_desktop.gui.theme import PIN_TONES, Tone, dot


def pin_warning(state: PinState) -> tuple[Tone, str] | None:
    """The warning to show above the PIN field, before the PIN is asked (``domain.token_state``)."""
    words = pin_wording(state)
    return None if words.advice is None else (PIN_TONES[words.severity], words.advice)


def _party(role: str, p: Party) -> str:
    a = p.address
    return (
        f"<b>{role}</b>: {escape(p.name)}, {escape(a.street)}, {escape(a.city)}, "
        f"{escape(a.state)} {escape(a.postal_code)} · DEA {escape(p.dea_number.value)}"
    )


def order_html(order: Order) -> str:
    """One order: number, parties, lines and totals (what 1305.21 says it holds)."""
    rows = "".join(
        f"<tr><td>{ln.line_no}</td><td>{escape(str(ln.ndc))}</td>"
        f"<td>{escape(ln.item_name)}</td><td>{escape(ln.strength)}</td>"
        f"<td>{escape(ln.dosage_form)}</td><td align='right'>{ln.package_size}</td>"
        f"<td align='right'>{ln.quantity}</td>"
        f"<td>{'non-controlled' if ln.schedule is None else 'C' + ln.schedule.value}</td></tr>"
        for ln in order.lines
    )
    return (
        f"<h3>Order {escape(order.order_number)}</h3>"
        f"<p>{_party('Purchaser', order.purchaser)}<br>{_party('Supplier', order.supplier)}</p>"
        "<table border='1' cellspacing='0' cellpadding='3'>"
        "<tr><th>#</th><th>NDC</th><th>Item</th><th>Strength</th><th>Form</th>"
        "<th>Package size</th><th>Packages</th><th>Schedule</th></tr>"
        f"{rows}</table>"
        f"<p>Total: {len(order.lines)} line(s), {order.total_packages} package(s).</p>"
    )


def receipt_html(preview: Preview) -> str:
    order = preview.orders[0]
    names = {ln.line_no: ln for ln in order.lines}
    rows = "".join(
        f"<tr><td>{r.line_no}</td><td>{escape(names[r.line_no].item_name)} "
        f"{escape(names[r.line_no].strength)}</td><td align='right'>{r.quantity_received}"
        f" of {names[r.line_no].quantity}</td><td>{r.date_received.isoformat()}</td></tr>"
        for r in preview.receipt_lines
        if r.line_no in names
    )
    return (
        f"<h3>Receipt for order {escape(order.order_number)}</h3>"
        f"<p>{_party('Supplier', order.supplier)}</p>"
        "<table border='1' cellspacing='0' cellpadding='3'><tr><th>Line</th><th>Item</th>"
        f"<th>Packages received</th><th>Date received</th></tr>{rows}</table>"
        f"<p>Total: {sum(r.quantity_received for r in preview.receipt_lines)} package(s) "
        f"on {len(preview.receipt_lines)} line(s).</p>"
    )


def preview_html(preview: Preview, *, signed: bool = False) -> str:
    """Everything that will be signed, then what will not be and why.

    *signed*: shown under the outcome once the batch ran, without the future tense.
    """
    if preview.description_html is not None:
        body = preview.description_html
    elif preview.noun == "receipt":
        body = receipt_html(preview)
    else:
        n = preview.signable
        body = (
            "<p><b>The order(s) as presented for signing:</b></p>"
            if signed
            else f"<p><b>{n} order(s) will be signed with one PIN entry.</b></p>"
        )
        body += "".join(order_html(o) for o in preview.orders)
    if preview.warnings:
        body += "".join(f"<p>{dot(Tone.WARN)} {escape(w)}</p>" for w in preview.warnings)
    if preview.refused:
        body += (
            "<h3>Will not be signed</h3><ul>"
            + "".join(
                f"<li>{dot(Tone.BAD)} {escape(r.label)}: {escape(r.reason)}</li>"
                for r in preview.refused
            )
            + "</ul>"
        )
    return body


def signer_html(preview: Preview) -> str:
    """The token and the certificate the signature will be made with."""
    t = preview.token
    token = (
        f"{dot(Tone.OK)} Token <b>{escape(t.label)}</b> ({escape(t.manufacturer)} "
        f"{escape(t.model)}, serial {escape(t.serial)})"
    )
    if preview.certificates:  # several locations: each certificate signs its own orders
        lines = [
            f"{dot(Tone.WARN if c.renewal_due else Tone.OK)} {escape(c.location)}: DEA "
            f"{escape(c.dea_label)}, schedules {', '.join(c.schedules)}, valid until "
            f"{c.not_after:%Y-%m-%d} ({c.days_left} days)"
            for c in preview.certificates
        ]
        return (
            token
            + "<br>Each order is signed with its location's certificate:<br>"
            + ("<br>".join(lines))
        )
    c = preview.certificate
    tone = Tone.WARN if c.renewal_due else Tone.OK
    return (
        f"{token}<br>"
        f"{dot(tone)} Certificate: {escape(c.subject)}, DEA {escape(c.dea_label)}, schedules "
        f"{', '.join(c.schedules)}, valid until {c.not_after:%Y-%m-%d} ({c.days_left} days)"
    )


def outcome_html(outcome: Outcome) -> str:
    """One line per item: signed, or not signed with the reason (words and colour)."""
    parts = [f"{dot(Tone.OK)} <b>Signed</b> {escape(label)}" for label in outcome.signed]
    parts += [
        f"{dot(Tone.BAD)} <b>Not signed</b> {escape(r.label)}: {escape(r.reason)}"
        for r in outcome.unsigned
    ]
    head = ""
    if outcome.stopped:
        head = (
            f"<p>{dot(Tone.BAD)} <b>The batch stopped:</b> {escape(outcome.stopped)} "
            "Orders signed before it stay signed; the rest are still drafts.</p>"
        )
    return head + "<br>".join(parts)
