"""A certificate's name against the practitioner a prescription names (1311.140(a)(3))."""

from __future__ import annotations

import pytest

from csos_desktop.domain.person_name import name_words, same_person_name


@pytest.mark.parametrize(
    ("certificate", "prescription"),
    [
        ("Jane Smith", "Dr. Jane Smith"),
        ("JANE A. SMITH, MD", "Dr. Jane Smith"),
        ("Jane Ann Smith", "Jane Smith DO"),
        ("Mary O'Neil-Jones", "Dr. Mary O'Neil-Jones"),
    ],
)
def test_titles_credentials_case_and_a_middle_name_do_not_matter(
    certificate: str, prescription: str
) -> None:
    assert same_person_name(certificate, prescription)


@pytest.mark.parametrize(
    ("certificate", "prescription"),
    [
        ("Main Street Pharmacy", "Dr. Jane Smith"),
        ("John Smith", "Dr. Jane Smith"),
        ("Jane Smithers", "Dr. Jane Smith"),
        ("Smith", "Dr. Jane Smith"),
    ],
)
def test_another_person_or_a_business_is_not_the_practitioner(
    certificate: str, prescription: str
) -> None:
    assert not same_person_name(certificate, prescription)


def test_name_words_drop_titles_and_credentials() -> None:
    assert name_words("Dr. Jane A. Smith, M.D.") == ("jane", "a", "smith")
