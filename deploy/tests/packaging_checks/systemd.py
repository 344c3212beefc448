"""systemd checks: fleetd.service, its external-database drop-in and the sysusers file, parsed and checked for the
hardening directives and for secrets on the command line; `systemd-analyze verify` and `security` where they
exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import Findings

SYSTEMD_UNIT = "deploy/systemd/fleetd.service"
SYSTEMD_DROPIN = "deploy/systemd/fleetd.service.d/external-database.conf"
SYSUSERS = "deploy/systemd/fleetd.sysusers"
# systemd-analyze security's exposure (0-100 here, 0-10 in its report) the unit may not exceed.
SECURITY_THRESHOLD = 25


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise ValueError(f"not a unit file line: {line!r}")
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def last(unit: dict, section: str, key: str) -> str | None:
    values = unit.get(section, {}).get(key)
    return values[-1] if values else None


def check_unit(f: Findings, rel: str, text: str, max_connections: int | None) -> dict:
    try:
        unit = parse_unit(text)
    except ValueError as e:
        f.add(rel, "syntax", str(e))
        return {}
    svc = "Service"
    if not last(unit, "Unit", "Description"):
        f.add(rel, "[Unit] Description", "missing")
    exec_start = last(unit, svc, "ExecStart") or ""
    if not exec_start.lstrip("-@:+!").startswith("/"):
        f.add(rel, "[Service] ExecStart", "missing or not an absolute path")
    if re.search(r"--database-url|postgres(ql)?://|--token\b|password", exec_start, re.I):
        f.add(rel, "[Service] ExecStart", "a secret on the command line (world-readable in /proc)")
    for key in ("Environment",):
        for value in unit.get(svc, {}).get(key, []):
            if re.search(r"postgres(ql)?://[^@\s]*:[^@\s]*@", value):
                f.add(rel, f"[Service] {key}", "a database password in the unit (use the credential)")
    if last(unit, svc, "Restart") not in ("on-failure", "always", "on-abnormal"):
        f.add(rel, "[Service] Restart", "must restart on failure")
    if not last(unit, svc, "User") and last(unit, svc, "DynamicUser") != "yes":
        f.add(rel, "[Service] User", "runs as root (no User= or DynamicUser=yes)")
    if last(unit, svc, "User") == "root":
        f.add(rel, "[Service] User", "root")
    required = {"NoNewPrivileges": {"yes", "true"}, "ProtectSystem": {"strict"}, "ProtectHome": {"yes", "true"},
                "PrivateTmp": {"yes", "true"}, "PrivateDevices": {"yes", "true"},
                "ProtectKernelTunables": {"yes", "true"}, "ProtectKernelModules": {"yes", "true"},
                "ProtectControlGroups": {"yes", "true"}, "RestrictNamespaces": {"yes", "true"},
                "RestrictSUIDSGID": {"yes", "true"}, "LockPersonality": {"yes", "true"},
                "SystemCallArchitectures": {"native"}}
    for key, allowed in required.items():
        if last(unit, svc, key) not in allowed:
            f.add(rel, f"[Service] {key}", f"must be {'/'.join(sorted(allowed))}")
    if last(unit, svc, "CapabilityBoundingSet") != "":
        f.add(rel, "[Service] CapabilityBoundingSet", "must be set and empty (fleetd needs no capability)")
    families = " ".join(unit.get(svc, {}).get("RestrictAddressFamilies", []))
    if not families or "AF_PACKET" in families or families.startswith("~"):
        f.add(rel, "[Service] RestrictAddressFamilies", "must allow-list the families (AF_UNIX AF_INET AF_INET6 …)")
    filters = " ".join(unit.get(svc, {}).get("SystemCallFilter", []))
    if "@system-service" not in filters:
        f.add(rel, "[Service] SystemCallFilter", "must include @system-service")
    nofile = last(unit, svc, "LimitNOFILE") or "0"
    limit = int(nofile.split(":")[-1]) if nofile.split(":")[-1].isdigit() else (1 << 30 if nofile == "infinity" else 0)
    if limit < (max_connections or 10000) + 1024:
        f.add(rel, "[Service] LimitNOFILE", f"{nofile} is below --max-connections ({max_connections}) plus headroom")
    state = last(unit, svc, "StateDirectory")
    if not state:
        f.add(rel, "[Service] StateDirectory", "missing (fleetd's data directory)")
    else:
        m = re.search(r"--data-dir[= ](\S+)", exec_start)
        if m and m.group(1) not in (f"/var/lib/{state}", "${STATE_DIRECTORY}", "%S/" + state):
            f.add(rel, "[Service] ExecStart", f"--data-dir {m.group(1)} is not the StateDirectory /var/lib/{state}")
    if not last(unit, "Install", "WantedBy"):
        f.add(rel, "[Install] WantedBy", "missing")
    return unit


def check_dropin(f: Findings, rel: str, text: str) -> None:
    try:
        unit = parse_unit(text)
    except ValueError as e:
        f.add(rel, "syntax", str(e))
        return
    creds = [v.split(":", 1)[0] for v in unit.get("Service", {}).get("LoadCredential", [])]
    envs = unit.get("Service", {}).get("Environment", [])
    config = [e.split("=", 1)[1] for e in envs if e.startswith("FLEETD_CONFIG=")]
    if not creds:
        f.add(rel, "[Service] LoadCredential", "missing: the database URL comes in as a credential")
    named = {f"%d/{cred}" for cred in creds} | {f"${{CREDENTIALS_DIRECTORY}}/{cred}" for cred in creds}
    if not config or not any(c in named for c in config):
        f.add(rel, "[Service] Environment", "FLEETD_CONFIG must name the credential (%d/ID)")
    for e in envs:
        if e.startswith("FLEETD_DATABASE_URL="):
            f.add(rel, "[Service] Environment", "FLEETD_DATABASE_URL in the unit: the URL carries the password")
    if unit.get("Service", {}).get("ExecStart"):
        f.add(rel, "[Service] ExecStart", "a drop-in should not replace the command line")


def run_systemd_analyze(f: Findings, root: Path, notes: list[str], unit_text: str, dropin_text: str | None,
                        label: str) -> bool:
    """systemd-analyze verify (every message is a finding: unknown keys are only warnings there) and security."""
    tool = shutil.which("systemd-analyze")
    if not tool:
        notes.append("systemd-analyze not found: the unit was not verified by systemd")
        return False
    exec_start = re.search(r"^ExecStart=[-@:+!]*(\S+)", unit_text, re.M)
    binary = exec_start.group(1) if exec_start else ""
    # The binary is not installed here: verify would say so and stop checking it. /bin/true stands in for it.
    text = unit_text.replace(f"ExecStart={binary}", "ExecStart=/bin/true") if binary else unit_text
    with tempfile.TemporaryDirectory(prefix="validate-unit-") as tmp:
        path = Path(tmp) / "fleetd.service"
        path.write_text(text)
        if dropin_text is not None:
            (Path(tmp) / "fleetd.service.d").mkdir()
            (Path(tmp) / "fleetd.service.d" / "dropin.conf").write_text(dropin_text)
        r = subprocess.run([tool, "verify", str(path)], capture_output=True, text=True, cwd=tmp, timeout=120)
        messages = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
        for m in messages:
            f.add(label, "systemd-analyze verify", m.replace(tmp + "/", ""))
        if r.returncode != 0 and not messages:
            f.add(label, "systemd-analyze verify", f"exit {r.returncode}")
        r = subprocess.run([tool, "security", "--offline=true", f"--threshold={SECURITY_THRESHOLD}", str(path)],
                           capture_output=True, text=True, cwd=tmp, timeout=120)
        if r.returncode != 0:
            level = re.search(r"Overall exposure level for \S+: (.*)", r.stdout)
            f.add(label, "systemd-analyze security",
                  f"exposure {level.group(1) if level else '?'} above {SECURITY_THRESHOLD / 10}" +
                  (f": {r.stderr.strip()}" if r.stderr.strip() and not level else ""))
    return True


def fleetd_max_connections(root: Path) -> int | None:
    header = root / "fleetd/app/config.hpp"
    m = re.search(r"max_connections\s*=\s*([\d']+)\s*;", header.read_text()) if header.is_file() else None
    return int(m.group(1).replace("'", "")) if m else None


def validate_systemd(f: Findings, root: Path, notes: list[str]) -> dict:
    stats = {"analyzed": 0}
    unit_path, dropin_path, sysusers = root / SYSTEMD_UNIT, root / SYSTEMD_DROPIN, root / SYSUSERS
    for p, rel in ((unit_path, SYSTEMD_UNIT), (dropin_path, SYSTEMD_DROPIN), (sysusers, SYSUSERS)):
        if not p.is_file():
            f.add(rel, "file", "missing")
    if not unit_path.is_file():
        return stats
    max_conn = fleetd_max_connections(root)
    if max_conn is None:
        notes.append("fleetd/app/config.hpp: max_connections default not found; LimitNOFILE checked against 10000")
    unit = check_unit(f, SYSTEMD_UNIT, unit_path.read_text(), max_conn)
    dropin_text = dropin_path.read_text() if dropin_path.is_file() else None
    if dropin_text is not None:
        check_dropin(f, SYSTEMD_DROPIN, dropin_text)
    if sysusers.is_file():
        users = re.findall(r"^u\s+(\S+)", sysusers.read_text(), re.M)
        if last(unit, "Service", "User") not in users:
            f.add(SYSUSERS, "u", f"does not create the unit's User= {last(unit, 'Service', 'User')!r}")
    unit_text = unit_path.read_text()
    if run_systemd_analyze(f, root, notes, unit_text, None, SYSTEMD_UNIT):
        stats["analyzed"] += 1
    if dropin_text is not None and run_systemd_analyze(f, root, notes, unit_text, dropin_text,
                                                        f"{SYSTEMD_UNIT} + {SYSTEMD_DROPIN}"):
        stats["analyzed"] += 1
    return stats
