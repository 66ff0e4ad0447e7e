"""One thread at a time drives the PKCS#11 modules of this process.

python-pkcs11 initialises a module without locking arguments, which under PKCS#11 means the
application promises never to call it from two threads at once: SoftHSM2 crashed listing
slots from two token threads. A thread that drives a module for a stretch (the GUI's token
thread, for each poll and each job) holds ``ONE_CALLER``; the app has one token thread, so
it is never contended there, and a second one (tests run two people's tokens) waits its turn.
"""

from __future__ import annotations

import threading

ONE_CALLER = threading.RLock()
