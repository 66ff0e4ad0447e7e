"""The statement the application must show while the practitioner signs (21 CFR 1311.140(a)(3)).

Kept verbatim in one place: the CLI, the GUI and the tests all read it from here.
"""

from __future__ import annotations

CITATION = "21 CFR 1311.140(a)(3)"

RX_SIGNING_ATTESTATION = (
    "By completing the two-factor authentication protocol at this time, you are legally "
    "signing the prescription(s) and authorizing the transmission of the above information "
    "to the pharmacy for dispensing. The two-factor authentication protocol may only be "
    "completed by the practitioner whose name and DEA registration number appear above."
)

#: 1311.140(b): the function that signs is labelled as signing.
SIGN_BUTTON_LABEL = "Sign prescription(s)"
