"""Hypothesis strategies for prescriptions and pharmacies (SCRIPT tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from csos_desktop.domain.dea import DeaNumber
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.order import Party
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Drug, Patient, Prescription
from csos_desktop.domain.schedule import Schedule
from tests.unit.domain.strategies import addresses, dea_numbers, texts

_DIGIT = "0123456789"
_II = (Schedule.II, Schedule.II_NON_NARCOTIC)

#: Text an XML 1.0 document can carry (what a SCRIPT message can hold at all).
xml_texts = texts.filter(lambda s: all(c not in "\ufffe\uffff" for c in s))


@st.composite
def prescriptions(draw: st.DrawFn) -> Prescription:
    schedule = draw(st.sampled_from([s for s in Schedule if s is not Schedule.I]))
    issued = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    not_before = None
    if schedule in _II and draw(st.booleans()):
        not_before = issued + timedelta(days=draw(st.integers(0, 90)))
    refills = 0 if schedule in _II else draw(st.integers(0, 5))
    prescriber_dea = draw(dea_numbers().filter(lambda d: d[0] in "ABFGMX"))
    ndc = draw(st.one_of(st.none(), st.text(_DIGIT, min_size=11, max_size=11).map(Ndc)))
    return Prescription(
        rx_id=str(draw(st.uuids())),
        created_at=draw(
            st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))
        ).replace(microsecond=0),
        date_of_issue=issued,
        patient=Patient(draw(xml_texts), draw(addresses().filter(_xml_address))),
        drug=Drug(draw(xml_texts), draw(xml_texts), draw(xml_texts), schedule, ndc),
        quantity=draw(st.integers(1, 10**6)),
        directions=draw(xml_texts),
        refills=refills,
        practitioner=Party(
            draw(xml_texts), draw(addresses().filter(_xml_address)), DeaNumber(prescriber_dea)
        ),
        do_not_fill_before=not_before,
    )


def _xml_address(a: object) -> bool:
    return all(c not in "\ufffe\uffff" for c in repr(a))


@st.composite
def pharmacies(draw: st.DrawFn) -> Pharmacy:
    return Pharmacy(
        draw(st.text(_DIGIT, min_size=7, max_size=7)),
        draw(st.text(_DIGIT, min_size=10, max_size=10)),
        draw(xml_texts),
        draw(addresses().filter(_xml_address)),
    )
