#!/usr/bin/env python3
"""Validates fleetd's packaging: the Kubernetes manifests, the Dockerfiles and the systemd unit (issue #16).

Kubernetes: every kustomization under deploy/kubernetes is rendered the way `kubectl kustomize` renders what these
files use (resources, namespace, labels, images, secretGenerator/configMapGenerator with the hash-suffixed name
and the rewritten references), on a copy where each git-ignored secret input (`X`) missing is taken from its
`X.example`. Every rendered object is checked: known apiVersion/kind, names, namespaces, the recommended
app.kubernetes.io/* labels, workload hardening, resources, probes against declared ports, volumes, references to
Secrets/ConfigMaps/PVCs/ServiceAccounts/Services, Service selectors and target ports. Where kubectl is on PATH,
its rendering must equal ours object for object.

Dockerfiles: instructions parsed (continuations, comments), then multi-stage, pinned base images, a numeric
non-root USER, an exec-form ENTRYPOINT, no ADD, apt-get hygiene, OCI labels, and the ports and shared libraries
the manifests and the built binaries need. systemd: fleetd.service, its drop-in and sysusers file parsed and
checked for the hardening directives, no secret on the command line; `systemd-analyze verify` and
`systemd-analyze security` run where they exist.

Before any of that a self-test (--no-self-test skips it) runs every validator on planted mistakes and fails unless
each is refused, so a validator that accepts everything cannot pass. The checks live in packaging_checks/.

Usage: validate_packaging.py [--root REPO] [--build-dir DIR] [--no-self-test]. Exit 0 and one summary line when
all is valid; exit 1 with one line per finding (file: field: problem) otherwise. Standard library and PyYAML only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

try:
    import yaml  # noqa: F401 (the checks import it; this only finds an interpreter that has it)
except ImportError:  # e.g. a pyenv python3 first on PATH: Debian's has python3-yaml (scripts/setup)
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("validate_packaging: PyYAML is missing: apt-get install python3-yaml (scripts/setup installs it)")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree when CTest runs this
from packaging_checks import Findings  # noqa: E402 (after the PyYAML fallback)
from packaging_checks.dockerfiles import validate_dockerfiles  # noqa: E402
from packaging_checks.manifests import container_ports_by_app, validate_kubernetes  # noqa: E402
from packaging_checks.self_test import self_test  # noqa: E402
from packaging_checks.systemd import validate_systemd  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help="repository root")
    parser.add_argument("--build-dir", type=Path, help="where fleetd/fleetd and agents/fleet-agent are built "
                        "(default ROOT/build); their shared libraries are checked against the Dockerfiles")
    parser.add_argument("--no-self-test", action="store_true", help="skip the planted-mistake checks")
    args = parser.parse_args()
    root = args.root.resolve()
    notes: list[str] = []
    problems: list[str] = []
    self_checks = 0
    if not args.no_self_test:
        self_checks, failures = self_test(root, notes)
        problems += failures
    f = Findings()
    k8s = validate_kubernetes(f, root, notes)
    docker = validate_dockerfiles(f, root, (args.build_dir or root / "build").resolve(), notes,
                                  container_ports_by_app(root))
    systemd = validate_systemd(f, root, notes)
    problems += f.items
    for note in dict.fromkeys(notes):
        print(f"note: {note}")
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"validate_packaging: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    kubectl = ("kubectl kustomize identical" if k8s["kubectl"] == k8s["kustomizations"]
               else "no kubectl comparison")
    print(f"validate_packaging: OK: {k8s['kustomizations']} kustomizations ({k8s['objects']} objects; {kubectl}), "
          f"{docker['dockerfiles']} Dockerfiles ({docker['linked']} checked against their binary's libraries), "
          f"systemd unit and drop-in ({systemd['analyzed']} systemd-analyze runs), "
          + (f"{self_checks} self-checks passed (planted mistakes refused)" if not args.no_self_test
             else "self-checks skipped"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
