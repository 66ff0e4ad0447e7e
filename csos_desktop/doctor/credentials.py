"""Where the distributor credential is kept: the system keyring, or a user-only file."""

from __future__ import annotations

from csos_desktop.doctor.result import CheckResult, Status


def credential_check() -> CheckResult:
    from csos_desktop.sync.credentials import default_place, keyring_problem

    title = "Credential storage"
    problem = keyring_problem()
    if problem is None:
        import keyring

        name = keyring.get_keyring().name
        return CheckResult(
            "credentials", title, Status.OK, f"System keyring available ({name}).", ""
        )
    fallback = default_place().file
    return CheckResult(
        "credentials",
        title,
        Status.WARNING,
        f"No system keyring: {problem}. The distributor credential is kept in {fallback}, "
        "readable only by you.",
        "Use a desktop session with a keyring (GNOME Keyring, KWallet, Windows Credential "
        "Manager), then run `csos sync login` again to move the credential there.",
        {"keyring": False, "file": str(fallback)},
    )
