#!/usr/bin/env python3
"""Reads the JUnit files of scripts/test's ctest runs: lists every skipped test by name with its reason,
and fails when every test of one driver was skipped (a suite that never ran says nothing about its
driver). MCORE_ALLOW_SKIPPED_DRIVERS names the drivers for which that is wanted ("cgroup-v2", "all")."""
import os
import re
import sys
import xml.etree.ElementTree as ElementTree

# Each driver's tests, by name: its own unit and integration tests, its conformance-kit instances and,
# for cgroup-v2, the runs inside the cgroup v2 VM.
DRIVER_SUITES = {
    "cgroup-v1": re.compile(r"cgroup_v1"),
    "cgroup-v2": re.compile(r"cgroup_v2"),
    "storage-overlay": re.compile(r"Overlay|StorageConformance"),
    "network-bridge": re.compile(r"Bridge|NetworkConformance"),
    "registry-docker": re.compile(r"Registry"),
}


def skip_reason(case):
    """gtest prints 'file:line: Skipped' and the message on the next line; a VM test prints 'skipped: ...'."""
    output = case.findtext("system-out") or ""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(": Skipped") and i + 1 < len(lines):
            return lines[i + 1].strip()
        if line.startswith("skipped: "):
            return line[len("skipped: "):].strip()
    return "no reason given"


def main(paths):
    ran, skipped = [], []
    for path in paths:
        if not os.path.exists(path):
            continue
        for case in ElementTree.parse(path).getroot().iter("testcase"):
            name = case.get("name", "").split("  #")[0]
            if case.get("status") == "notrun" or case.find("skipped") is not None:
                skipped.append((name, skip_reason(case)))
            else:
                ran.append(name)

    if skipped:
        print(f"==> skipped tests ({len(skipped)})")
        for name, reason in skipped:
            print(f"  {name}: {reason}")

    allowed = set(os.environ.get("MCORE_ALLOW_SKIPPED_DRIVERS", "").replace(",", " ").split())
    status = 0
    for driver, pattern in DRIVER_SUITES.items():
        ran_here = [name for name in ran if pattern.search(name)]
        skipped_here = [name for name, _ in skipped if pattern.search(name)]
        if skipped_here and not ran_here:
            if "all" in allowed or driver in allowed:
                print(f"test: every {driver} test was skipped ({len(skipped_here)}); allowed by MCORE_ALLOW_SKIPPED_DRIVERS")
            else:
                print(f"test: every {driver} test was skipped ({len(skipped_here)}): the driver was not tested; "
                      f"fix what the reasons above name, or set MCORE_ALLOW_SKIPPED_DRIVERS={driver}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
