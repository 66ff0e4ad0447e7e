"""A NewRx as another prescribing system writes it, read by the pharmacy side.

Written by hand as SCRIPT 2017071 examples show it, not by our writer: an XML
declaration, indentation, the schemas' namespace (default, or under a prefix), elements
we do not map (From, Gender, DateOfBirth, NPI, CommunicationNumbers, DaysSupply,
Substitutions, QuantityUnitOfMeasure, CountryCode), a MiddleName, a decimal quantity and
WrittenDate as a DateTime. Every 1306.05 element is read; what is not there is named.
"""

from __future__ import annotations

import pytest

from csos_desktop.domain.script.newrx import NewRxInvalid, read_newrx

FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns="http://www.ncpdp.org/schema/SCRIPT" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         DatatypesVersion="20170715" TransportVersion="20170715" TransactionDomain="SCRIPT"
         TransactionVersion="20170715" StructuresVersion="20170715" ECLVersion="20170715">
  <Header>
    <To Qualifier="P">1234567</To>
    <From Qualifier="C">EHRVENDOR01</From>
    <MessageID>a1b2c3d4e5f6</MessageID>
    <SentTime>2026-11-25T15:00:00Z</SentTime>
    <PrescriberOrderNumber>RX-778812</PrescriberOrderNumber>
  </Header>
  <Body>
    <NewRx>
      <Patient>
        <HumanPatient>
          <Name>
            <LastName>Lopez</LastName>
            <FirstName>Maria</FirstName>
            <MiddleName>Elena</MiddleName>
          </Name>
          <Gender>F</Gender>
          <DateOfBirth><Date>1961-04-02</Date></DateOfBirth>
          <Address>
            <AddressLine1>48 Elm Street</AddressLine1>
            <City>Springfield</City>
            <StateProvince>IL</StateProvince>
            <PostalCode>62704</PostalCode>
            <CountryCode>US</CountryCode>
          </Address>
        </HumanPatient>
      </Patient>
      <Pharmacy>
        <Identification>
          <NCPDPID>1234567</NCPDPID>
          <NPI>1234567893</NPI>
        </Identification>
        <BusinessName>Main Street Pharmacy</BusinessName>
        <Address>
          <AddressLine1>12 Main Street</AddressLine1>
          <City>Springfield</City>
          <StateProvince>IL</StateProvince>
          <PostalCode>62701</PostalCode>
        </Address>
        <CommunicationNumbers>
          <PrimaryTelephone><Number>2175550100</Number></PrimaryTelephone>
        </CommunicationNumbers>
      </Pharmacy>
      <Prescriber>
        <NonVeterinarian>
          <Identification>
            <NPI>1003000126</NPI>
            <DEANumber>AB1234563</DEANumber>
          </Identification>
          <Name>
            <LastName>Smith</LastName>
            <FirstName>Jane</FirstName>
          </Name>
          <Address>
            <AddressLine1>200 Medical Plaza</AddressLine1>
            <City>Springfield</City>
            <StateProvince>IL</StateProvince>
            <PostalCode>62702</PostalCode>
          </Address>
        </NonVeterinarian>
      </Prescriber>
      <MedicationPrescribed>
        <DrugDescription>Oxycodone Hydrochloride 5 MG Oral Tablet</DrugDescription>
        <DrugCoded>
          <ProductCode>
            <Code>00406055262</Code>
            <Qualifier>ND</Qualifier>
          </ProductCode>
          <Strength>
            <StrengthValue>5</StrengthValue>
            <StrengthForm><Code>C42998</Code></StrengthForm>
            <StrengthUnitOfMeasure><Code>C28253</Code></StrengthUnitOfMeasure>
          </Strength>
          <DEASchedule><Code>C48675</Code></DEASchedule>
        </DrugCoded>
        <Quantity>
          <Value>20.000</Value>
          <CodeListQualifier>38</CodeListQualifier>
          <QuantityUnitOfMeasure><Code>C48542</Code></QuantityUnitOfMeasure>
        </Quantity>
        <DaysSupply>5</DaysSupply>
        <WrittenDate><DateTime>2026-11-25T14:58:12</DateTime></WrittenDate>
        <Substitutions>0</Substitutions>
        <NumberOfRefills>0</NumberOfRefills>
        <Sig><SigText>Take 1 tablet by mouth every 6 hours as needed for pain</SigText></Sig>
      </MedicationPrescribed>
    </NewRx>
  </Body>
</Message>
"""


def test_another_system_s_newrx_is_read_element_by_element() -> None:
    got = read_newrx(FOREIGN.encode())
    rx = got.prescription
    assert rx.patient.name == "Maria Elena Lopez"
    assert rx.patient.address.postal_code == "62704"
    assert rx.practitioner.dea_number.value == "AB1234563"
    assert rx.practitioner.name == "Jane Smith"
    assert rx.drug.ndc is not None and rx.drug.ndc.digits == "00406055262"
    assert rx.drug.schedule.value == "2"
    assert rx.quantity == 20
    assert rx.date_of_issue.isoformat() == "2026-11-25"
    assert rx.refills == 0
    assert rx.directions.startswith("Take 1 tablet")
    assert got.pharmacy.ncpdp_id == "1234567"
    assert got.signature is None  # no DigitalSignature element: the pharmacy is told
    # Its PrescriberOrderNumber is no UUID: the ID here is derived from it, the same each time.
    assert rx.rx_id == read_newrx(FOREIGN.encode()).prescription.rx_id
    assert (
        rx.rx_id
        != read_newrx(FOREIGN.replace("RX-778812", "RX-778813").encode()).prescription.rx_id
    )


def test_the_namespace_under_a_prefix_reads_the_same() -> None:
    prefixed = (
        FOREIGN.replace(
            'xmlns="http://www.ncpdp.org/schema/SCRIPT"',
            'xmlns:s="http://www.ncpdp.org/schema/SCRIPT"',
        )
        .replace("<", "<s:")
        .replace("<s:/", "</s:")
        .replace("<s:?xml", "<?xml")
    )
    assert "<s:Message" in prefixed and "</s:NewRx>" in prefixed
    assert read_newrx(prefixed.encode()).prescription == read_newrx(FOREIGN.encode()).prescription


def test_a_prefix_of_another_namespace_is_not_taken_for_script() -> None:
    other = FOREIGN.replace('xmlns="http://www.ncpdp.org/schema/SCRIPT"', 'xmlns:s="urn:other"')
    other = other.replace("<", "<s:").replace("<s:/", "</s:").replace("<s:?xml", "<?xml")
    with pytest.raises(NewRxInvalid, match="is not a SCRIPT NewRx message"):
        read_newrx(other.encode())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("<Value>20.000</Value>", "<Value>20.5</Value>"), "quantity"),
        (
            ("<WrittenDate><DateTime>2026-11-25T14:58:12</DateTime></WrittenDate>", ""),
            "date_of_issue",
        ),
        (("<DEANumber>AB1234563</DEANumber>", ""), "practitioner.dea_number"),
    ],
)
def test_what_is_missing_or_wrong_is_named(change: tuple[str, str], field: str) -> None:
    with pytest.raises(NewRxInvalid) as refused:
        read_newrx(FOREIGN.replace(*change).encode())
    assert field in {p.field for p in refused.value.problems}
