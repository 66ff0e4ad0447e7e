"""What Suspicious Order Monitoring says about each draft, in words, before it is signed.

Home's *Drafts to sign* card and the Orders list show it, so a flagged draft is seen before
the signing dialog asks for its justification. The same check as signing (gate.check_som).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order_state import OrderState
from csos_desktop.services.som.gate import check_som, editor_justification
from csos_desktop.som.flags import Decision
from csos_desktop.store.local_store import Store


@dataclass(frozen=True)
class DraftSom:
    """One draft's SOM state: the decision (None: SOM cannot judge it) and the words."""

    decision: Decision | None
    justified: bool

    @property
    def flagged(self) -> bool:
        """Signing will ask for a justification (none recorded for the draft as it is)."""
        return self.decision not in (None, Decision.OK) and not self.justified

    @property
    def words(self) -> str:
        if self.decision is None:
            return "Not checked (a product is not in the catalogue)"
        if self.decision is Decision.OK:
            return "OK"
        kind = "Would be held (intercept)" if self.decision is Decision.INTERCEPT else "Warning"
        return f"{kind}: {'justified' if self.justified else 'needs a justification'}"


def draft_som(store: Store, order_id: str, *, now: datetime) -> DraftSom | None:
    """The SOM state of the draft *order_id*; None when it is not a draft (or unreadable)."""
    try:
        record = store.orders.get(order_id)
        if record.state is not OrderState.DRAFT:
            return None
        check = check_som(store, store.orders.order(order_id), now=now)
    except (CsosError, sqlite3.Error):
        # Shown beside a list: a store that is busy or already closed leaves the words out.
        return None
    decision = check.assessment.decision
    # A justification saved in the editor for the draft as it is now: signing offers it
    # again (and checks it as words) before recording it with the signature.
    justified = decision is not Decision.OK and editor_justification(store, order_id) is not None
    return DraftSom(decision, justified)
