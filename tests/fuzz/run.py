"""`make fuzz`: run the fuzz targets round-robin for a fixed time, then print JSON.

    python -m tests.fuzz.run [SECONDS]     (default 600)

Each round calls every Hypothesis test in tests/fuzz/test_fuzz.py with the "fuzz"
profile (fresh random inputs each call, no example database). A failure is reported
with Hypothesis' falsifying example and reproduce blob, and the run goes on; the exit
status is 1 if anything failed. Add each crash to test_fuzz.py as a regression test.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
import traceback


def main(argv: list[str]) -> int:
    seconds = float(argv[1]) if len(argv) > 1 else 600.0
    os.environ["CSOS_FUZZ_PROFILE"] = "fuzz"
    from tests.fuzz import archive_targets, targets, test_fuzz

    # What the pytest fixtures give these tests under `make test`, made here instead.
    fixtures = {"bundle_material": archive_targets.standalone_bundle_material}
    tests = [
        (name, fn, {p: fixtures[p]() for p in inspect.signature(fn).parameters})
        for name, fn in vars(test_fuzz).items()
        if name.startswith("test_") and hasattr(fn, "hypothesis")
    ]
    started = time.monotonic()
    rounds, failures, seen = 0, [], set()
    while time.monotonic() - started < seconds:
        for name, fn, kwargs in tests:
            if time.monotonic() - started >= seconds:
                break
            try:
                fn(**kwargs)
            except Exception as exc:
                text = "".join(traceback.format_exception(exc))
                key = (name, type(exc).__name__, text.strip().splitlines()[-1][:200])
                if key not in seen:
                    seen.add(key)
                    failures.append({"test": name, "error": text[-6000:]})
                    print(text, file=sys.stderr, flush=True)
        rounds += 1
    report = {
        "seconds": round(time.monotonic() - started, 1),
        "rounds": rounds,
        "inputs": sum(targets.COUNTS.values()),
        "inputs_per_target": dict(sorted(targets.COUNTS.items())),
        "crashes": len(failures),
        "failures": [f["test"] for f in failures],
    }
    print(json.dumps(report, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
