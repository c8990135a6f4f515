"""Fail unless the JUnit report shows integration tests that really ran (not skipped) and passed."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    cases = ET.parse(path).getroot().iter("testcase")
    ran = failed = skipped = 0
    for case in cases:
        if not case.get("classname", "").startswith("tests.integration"):
            continue
        if case.find("skipped") is not None:
            skipped += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            ran += 1
    print(f"integration tests: {ran} passed, {failed} failed, {skipped} skipped")
    if ran == 0 or failed:
        print("error: no integration test ran against the real stack" if ran == 0 else "error: failures")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
