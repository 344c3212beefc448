"""Dockerfile checks: instructions parsed (continuation lines joined, comments dropped), then the rules for a
small non-root multi-stage image, and the runtime stage's packages against the shared libraries of the built
binary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import Findings
from .kustomize import split_image

# What each Dockerfile must declare, cross-checked with the manifests.
DOCKERFILES = {
    "deploy/docker/fleetd.Dockerfile": {"entrypoint": "/usr/local/bin/fleetd", "expose": {"8443"},
                                        "binary": "fleetd/fleetd"},
    "deploy/docker/fleet-agent.Dockerfile": {"entrypoint": "/usr/local/bin/fleet-agent", "expose": {"9400"},
                                             "binary": "agents/fleet-agent"},
    "gpu-probe/Dockerfile": {"entrypoint": "/usr/local/bin/gpu-probe", "expose": set(), "binary": None},
}
# Packages of debian:12-slim that a binary may link without installing them.
SLIM_BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}


@dataclass
class Instruction:
    line: int
    cmd: str
    args: str


@dataclass
class Stage:
    image: str
    alias: str | None
    line: int
    body: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str) -> tuple[list[tuple[str, str]], list[Stage]]:
    """(ARGs before the first FROM, stages). Continuation lines are joined; comment lines inside them dropped."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = n
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        cmd, _, args = pending.strip().partition(" ")
        instructions.append(Instruction(start, cmd.upper(), args.strip()))
        pending = ""
    if pending:
        cmd, _, args = pending.strip().partition(" ")
        instructions.append(Instruction(start, cmd.upper(), args.strip()))
    global_args: list[tuple[str, str]] = []
    stages: list[Stage] = []
    for ins in instructions:
        if ins.cmd == "FROM":
            words = ins.args.split()
            words = [w for w in words if not w.startswith("--platform")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0] if words else "", alias, ins.line))
        elif not stages:
            if ins.cmd == "ARG":
                name, _, default = ins.args.partition("=")
                global_args.append((name.strip(), default.strip()))
            else:
                stages.append(Stage("", None, ins.line, [ins]))  # an instruction before FROM
        else:
            stages[-1].body.append(ins)
    return global_args, stages


def substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


def check_dockerfile(f: Findings, rel: str, text: str, expect: dict | None = None) -> list[Stage]:
    global_args, stages = parse_dockerfile(text)
    values = {k: v for k, v in global_args if v}
    if len(stages) < 2:
        f.add(rel, "FROM", "not multi-stage (needs a build stage and a runtime stage)")
    aliases: list[str] = []
    for s in stages:
        if not s.image:
            f.add(rel, f"line {s.line}", "an instruction before the first FROM (only ARG may come first)")
            continue
        image = substitute(s.image, values)
        if "$" in image:
            f.add(rel, f"line {s.line} FROM", f"{s.image}: a variable without a default")
        elif image not in aliases:
            _, tag, digest = split_image(image)
            if not tag and not digest:
                f.add(rel, f"line {s.line} FROM", f"{image} is not pinned to a tag")
            elif tag == "latest":
                f.add(rel, f"line {s.line} FROM", f"{image} uses the latest tag")
        if s.alias:
            aliases.append(s.alias)
    if stages and not any(s.alias for s in stages[:-1]):
        f.add(rel, "FROM", "no named build stage (FROM … AS build)")
    for s in stages:
        for ins in s.body:
            where = f"line {ins.line} {ins.cmd}"
            if ins.cmd == "ADD":
                if re.search(r"https?://", ins.args):
                    f.add(rel, where, "ADD of a remote URL (download in RUN with a checksum, or COPY)")
                else:
                    f.add(rel, where, "use COPY for local files")
            if ins.cmd == "RUN":
                run = ins.args
                if re.search(r"\bapt-get\s+(-\S+\s+)*(dist-)?upgrade\b", run):
                    f.add(rel, where, "apt-get upgrade in an image build (pin the base image instead)")
                if re.search(r"\bsudo\b", run):
                    f.add(rel, where, "sudo in an image build")
                if re.search(r"\bapt-get\s+(-\S+\s+)*install\b", run):
                    if "--no-install-recommends" not in run:
                        f.add(rel, where, "apt-get install without --no-install-recommends")
                    if not re.search(r"\s-y\b|--yes|--assume-yes", run):
                        f.add(rel, where, "apt-get install without -y")
                    if "rm -rf /var/lib/apt/lists/*" not in run:
                        f.add(rel, where, "apt lists not removed in the same RUN (rm -rf /var/lib/apt/lists/*)")
                    if not re.search(r"\bapt-get\s+(-\S+\s+)*update\b", run):
                        f.add(rel, where, "apt-get install without apt-get update in the same RUN")
                elif re.search(r"\bapt-get\s+(-\S+\s+)*update\b", run):
                    f.add(rel, where, "apt-get update without an install in the same RUN")
            if ins.cmd == "WORKDIR" and not ins.args.startswith("/"):
                f.add(rel, where, f"{ins.args} is not absolute")
            if ins.cmd == "COPY":
                m = re.search(r"--from=(\S+)", ins.args)
                if m and m.group(1) not in aliases and not m.group(1).isdigit() and ":" not in m.group(1):
                    f.add(rel, where, f"--from={m.group(1)} names no earlier stage")
    if not stages:
        return stages
    final = stages[-1]
    final_cmds = [i.cmd for i in final.body]
    if not any(i.cmd == "COPY" and "--from=" in i.args for i in final.body):
        f.add(rel, "runtime stage", "copies nothing from a build stage (COPY --from=…)")
    users = [i for i in final.body if i.cmd == "USER"]
    if not users:
        f.add(rel, "USER", "the runtime stage runs as root (no USER)")
    else:
        user = users[-1].args
        m = re.fullmatch(r"(\d+)(:(\d+))?", user)
        if not m:
            f.add(rel, f"line {users[-1].line} USER",
                  f"{user!r} is not numeric (uid[:gid]); runAsNonRoot needs a number")
        elif int(m.group(1)) == 0 or (m.group(3) is not None and int(m.group(3)) == 0):
            f.add(rel, f"line {users[-1].line} USER", f"{user} is root")
        last_user = max(i for i, cmd in enumerate(final_cmds) if cmd == "USER")
        if "RUN" in final_cmds[last_user + 1:]:
            f.add(rel, "USER", "a RUN after the last USER runs as that user; keep USER last")
    entry = [i for i in final.body if i.cmd == "ENTRYPOINT"]
    argv = None
    if not entry:
        f.add(rel, "ENTRYPOINT", "missing in the runtime stage")
    else:
        try:
            argv = json.loads(entry[-1].args)
        except json.JSONDecodeError:
            argv = None
        if not isinstance(argv, list) or not argv:
            f.add(rel, f"line {entry[-1].line} ENTRYPOINT", "not the exec form [\"/path\", …]")
            argv = None
    labels = " ".join(i.args for i in final.body if i.cmd == "LABEL")
    for label in ("org.opencontainers.image.title", "org.opencontainers.image.version",
                  "org.opencontainers.image.revision"):
        if label not in labels:
            f.add(rel, "LABEL", f"{label} missing in the runtime stage")
    if expect:
        if argv and argv[0] != expect["entrypoint"]:
            f.add(rel, "ENTRYPOINT", f"{argv[0]} is not {expect['entrypoint']}")
        if argv and not any(i.cmd == "COPY" and i.args.split()[-1] == argv[0] for i in final.body):
            f.add(rel, "ENTRYPOINT", f"{argv[0]} is not what the runtime stage copies in")
        exposed = {p.split("/")[0] for i in final.body if i.cmd == "EXPOSE" for p in i.args.split()}
        if exposed != expect["expose"]:
            f.add(rel, "EXPOSE", f"{sorted(exposed)} is not {sorted(expect['expose'])}")
    return stages


def runtime_packages(stages: list[Stage]) -> set[str]:
    """Package names the runtime stage's RUN lines mention (apt-get install arguments and shell variables)."""
    words: set[str] = set()
    for ins in stages[-1].body if stages else []:
        if ins.cmd == "RUN" and "apt-get" in ins.args:
            words |= set(re.findall(r"[a-z0-9][a-z0-9.+-]+", ins.args))
    return words


def check_linked_packages(f: Findings, build_dir: Path, rel: str, binary: str, stages: list[Stage],
                          notes: list[str]) -> bool:
    """Every shared library the built binary needs comes from a package the runtime stage installs."""
    path = build_dir / binary
    tools = [shutil.which(t) for t in ("readelf", "ldd", "dpkg-query")]
    if not path.is_file() or not all(tools):
        notes.append(f"{path} not built (or no readelf/ldd/dpkg): {rel}'s runtime libraries not checked")
        return False
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run([tools[0], "-d", str(path)], capture_output=True, text=True).stdout)
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run([tools[1], str(path)], capture_output=True,
                                                                        text=True).stdout, re.M))
    installed = runtime_packages(stages)
    for lib in needed:
        where = resolved.get(lib)
        if not where or where == "not":
            f.add(rel, "runtime libraries", f"{path.name} needs {lib}, which ldd cannot resolve here")
            continue
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(where)], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", where], capture_output=True, text=True)
        package = owner.stdout.split(":", 1)[0].strip() if owner.returncode == 0 else ""
        if not package:
            f.add(rel, "runtime libraries", f"{path.name} needs {lib} ({where}), which no Debian package owns")
        elif package not in installed and package not in SLIM_BASE_PACKAGES:
            f.add(rel, "runtime libraries",
                  f"{path.name} links {lib} from {package}, which the runtime stage does not install")
    return True


def external_linters(root: Path) -> list[tuple[str, str, list[str]]]:
    """(name, path, argv) of the Dockerfile linters found: dockerfile-utils from scripts/setup's .tools/npm or PATH,
    hadolint from PATH (Debian 12 has no package for it). DL3008 (pin every apt package's version) is off: the
    images follow Debian 12's stable updates."""
    found = []
    utils = root / ".tools/npm/node_modules/.bin/dockerfile-utils"
    utils_path = str(utils) if utils.is_file() else shutil.which("dockerfile-utils")
    if utils_path and shutil.which("node"):
        found.append(("dockerfile-utils", utils_path, [utils_path, "lint"]))
    hadolint = shutil.which("hadolint")
    if hadolint:
        found.append(("hadolint", hadolint, [hadolint, "--ignore", "DL3008"]))
    return found


def lint_with(f: Findings, rel: str, name: str, argv: list[str]) -> None:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        output = " ".join((r.stdout + r.stderr).split())
        f.add(rel, name, output or f"exit {r.returncode}")


def validate_dockerfiles(f: Findings, root: Path, build_dir: Path, notes: list[str],
                         k8s_ports: dict[str, set[int]]) -> dict:
    stats = {"dockerfiles": 0, "linked": 0}
    for rel, expect in DOCKERFILES.items():
        path = root / rel
        if not path.is_file():
            f.add(rel, "file", "missing")
            continue
        stages = check_dockerfile(f, rel, path.read_text(), expect)
        stats["dockerfiles"] += 1
        if expect["binary"] and check_linked_packages(f, build_dir, rel, expect["binary"], stages, notes):
            stats["linked"] += 1
        app = Path(expect["entrypoint"]).name
        for port in expect["expose"]:
            if app in k8s_ports and int(port) not in k8s_ports[app]:
                f.add(rel, "EXPOSE", f"{port} is no containerPort of the {app} container in deploy/kubernetes")
    if not (root / ".dockerignore").is_file():
        f.add(".dockerignore", "file", "missing: the build context would carry build/ and .git")
    else:
        ignored = {l.strip().rstrip("/") for l in (root / ".dockerignore").read_text().splitlines()}
        for must in (".git", "build", "deploy"):
            if must not in ignored:
                f.add(".dockerignore", must, "not excluded from the build context")
    linted = []
    for name, _, argv in external_linters(root):
        for rel in DOCKERFILES:
            lint_with(f, rel, name, argv + [str(root / rel)])
        linted.append(name)
    notes.append(("Dockerfiles also linted by " + " and ".join(linted)) if linted else
                 "no Dockerfile linter installed (dockerfile-utils: scripts/setup; hadolint): only the script's "
                 "own Dockerfile checks ran")
    return stats
