"""Validation of rendered Kubernetes objects, the comparison with `kubectl kustomize`, and the walk over every
kustomization and YAML file under deploy/kubernetes."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from . import Findings
from .kustomize import KNOWN_KINDS, Obj, RenderError, all_containers, load_documents, pod_template, render, split_image

RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)

LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}
WORKLOADS = LONG_RUNNING | {"Job", "CronJob"}

# Objects a workload may reference optionally without the rendering containing them, and why.
OPTIONAL_OBJECTS = {
    ("Secret", "fleetd-database"): "generated only by fleetd/external-database; without it fleetd runs its embedded "
                                   "PostgreSQL",
}

# YAML files under deploy/kubernetes that no kustomization applies, and why.
NOT_APPLIED = {
    "gpu-probe-job.yaml": "documentation of the Job fleet-agent builds per probe (agents/kube/probe_job.cpp)",
    "system-upgrade-controller-rbac.yaml": "applied by hand only where system-upgrade-controller runs: its namespace "
                                           "must exist first",
}

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


def absent_ok(kind: str, ref: dict | None, name_key: str, namespace: str, index: dict) -> bool:
    """A referenced object may be missing from the output only when the reference is optional and the object is
    one of OPTIONAL_OBJECTS (so a misspelt optional reference does not pass unnoticed)."""
    if ref is None:
        return True
    name = ref.get(name_key)
    return (kind, namespace, name) in index or (bool(ref.get("optional")) and (kind, name) in OPTIONAL_OBJECTS)


def declared_ports(pod_spec: dict) -> tuple[set[str], set[int]]:
    names, numbers = set(), set()
    for c in pod_spec.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name"):
                names.add(p["name"])
            if p.get("containerPort") is not None:
                numbers.add(p["containerPort"])
    return names, numbers


def port_declared(port, names: set[str], numbers: set[int]) -> bool:
    if isinstance(port, int):
        return port in numbers
    if isinstance(port, str) and port.isdigit():
        return int(port) in numbers
    return port in names


def check_probe(f: Findings, o: Obj, where: str, probe: dict, names: set[str], numbers: set[int]) -> None:
    handlers = [h for h in ("httpGet", "tcpSocket", "grpc", "exec") if h in probe]
    if len(handlers) != 1:
        f.add(o.source, where, "a probe needs exactly one of httpGet, tcpSocket, grpc, exec")
        return
    h = handlers[0]
    if h == "exec":
        return
    port = probe[h].get("port")
    if not port_declared(port, names, numbers):
        f.add(o.source, f"{where}.{h}.port", f"{port!r} is not a containerPort (name or number) of the pod")
    if h == "httpGet":
        path = probe[h].get("path", "")
        if not str(path).startswith("/"):
            f.add(o.source, f"{where}.httpGet.path", f"{path!r} is not an absolute path")
        if probe[h].get("scheme", "HTTP") not in ("HTTP", "HTTPS"):
            f.add(o.source, f"{where}.httpGet.scheme", "must be HTTP or HTTPS")


def listen_ports(args: list) -> list[tuple[str, str]]:
    """(flag, port) for every --listen/--health-listen HOST:PORT in a container's args."""
    out = []
    args = [str(a) for a in args or []]
    for i, a in enumerate(args):
        flag, value = (a.split("=", 1) + [None])[:2] if a.startswith("--") and "=" in a else (a, None)
        if flag in ("--listen", "--health-listen"):
            if value is None and i + 1 < len(args):
                value = args[i + 1]
            if value and ":" in value:
                out.append((flag, value.rsplit(":", 1)[1]))
    return out


def check_workload(f: Findings, o: Obj, index: dict) -> None:
    tpl = pod_template(o.doc)
    src = o.source
    if tpl is None:
        f.add(src, "spec.template", "missing")
        return
    tlabels = (tpl.get("metadata") or {}).get("labels") or {}
    if o.kind != "Job" and o.kind != "CronJob":
        match = ((o.doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not match:
            f.add(src, "spec.selector.matchLabels", "empty")
        for key, value in match.items():
            if tlabels.get(key) != value:
                f.add(src, f"spec.selector.matchLabels.{key}", "does not match the pod template's labels")
    if o.kind == "StatefulSet":
        service = (o.doc.get("spec") or {}).get("serviceName")
        if not service or ("Service", o.namespace, service) not in index:
            f.add(src, "spec.serviceName", f"{service!r} is not a Service in the rendered output")
    spec = tpl.get("spec") or {}
    psc = spec.get("securityContext") or {}
    names, numbers = declared_ports(spec)
    volumes = {v.get("name") for v in spec.get("volumes") or []}
    if len(volumes) != len(spec.get("volumes") or []):
        f.add(src, "spec.template.spec.volumes", "duplicate volume names")
    claim_templates = {(v.get("metadata") or {}).get("name")
                       for v in (o.doc.get("spec") or {}).get("volumeClaimTemplates") or []}
    mounted: set[str] = set()
    sa = spec.get("serviceAccountName")
    if sa and ("ServiceAccount", o.namespace, sa) not in index:
        f.add(src, "spec.template.spec.serviceAccountName", f"ServiceAccount {sa!r} is not in the rendered output")
    if (psc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        f.add(src, "spec.template.spec.securityContext.seccompProfile.type", "must be RuntimeDefault")
    if psc.get("runAsUser") == 0:
        f.add(src, "spec.template.spec.securityContext.runAsUser", "0 is root")
    annotations = (tpl.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get("prometheus.io/scrape", "")).lower() == "true":
        port = annotations.get("prometheus.io/port")
        if port is None or not str(port).isdigit() or int(port) not in numbers:
            f.add(src, "spec.template.metadata.annotations.prometheus.io/port",
                  f"{port!r} is not a declared containerPort number")
    for v in spec.get("volumes") or []:
        where = f"spec.template.spec.volumes[{v.get('name')}]"
        if "secret" in v:
            ref = v["secret"].get("secretName")
            if not absent_ok("Secret", v["secret"], "secretName", o.namespace, index):
                f.add(src, f"{where}.secret.secretName", f"Secret {ref!r} is not in the rendered output")
        if "configMap" in v:
            ref = v["configMap"].get("name")
            if not absent_ok("ConfigMap", v["configMap"], "name", o.namespace, index):
                f.add(src, f"{where}.configMap.name", f"ConfigMap {ref!r} is not in the rendered output")
        if "persistentVolumeClaim" in v:
            ref = v["persistentVolumeClaim"].get("claimName")
            if ("PersistentVolumeClaim", o.namespace, ref) not in index:
                f.add(src, f"{where}.persistentVolumeClaim.claimName", f"PVC {ref!r} is not in the rendered output")
        if "hostPath" in v:
            f.add(src, where, "hostPath volumes are not allowed")
    containers = spec.get("containers") or []
    if not containers:
        f.add(src, "spec.template.spec.containers", "empty")
    for c in all_containers(spec):
        init = c in (spec.get("initContainers") or [])
        where = f"{'initContainers' if init else 'containers'}[{c.get('name')}]"
        image = str(c.get("image", ""))
        name, tag, digest = split_image(image)
        if not image:
            f.add(src, f"{where}.image", "missing")
        elif not tag and not digest:
            f.add(src, f"{where}.image", f"{image!r} has no tag (or digest)")
        elif tag == "latest":
            f.add(src, f"{where}.image", f"{image!r} uses the latest tag")
        version = tlabels.get("app.kubernetes.io/version")
        if version is not None and tag and name.rsplit("/", 1)[-1] == tlabels.get("app.kubernetes.io/name") \
                and str(version) != tag:
            f.add(src, "spec.template.metadata.labels.app.kubernetes.io/version",
                  f"{version!r} is not the image tag {tag!r}")
        res = c.get("resources") or {}
        for part, key in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
            if key not in (res.get(part) or {}):
                f.add(src, f"{where}.resources.{part}.{key}", "missing")
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            f.add(src, f"{where}.securityContext.allowPrivilegeEscalation", "must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            f.add(src, f"{where}.securityContext.readOnlyRootFilesystem", "must be true")
        if sc.get("privileged"):
            f.add(src, f"{where}.securityContext.privileged", "must not be true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            f.add(src, f"{where}.securityContext.capabilities.drop", "must contain ALL")
        if (sc.get("capabilities") or {}).get("add"):
            f.add(src, f"{where}.securityContext.capabilities.add", "adds capabilities")
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            f.add(src, f"{where}.securityContext.runAsNonRoot", "must be true (pod or container)")
        if sc.get("runAsUser") == 0:
            f.add(src, f"{where}.securityContext.runAsUser", "0 is root")
        paths = set()
        for m in c.get("volumeMounts") or []:
            mounted.add(m.get("name"))
            if m.get("name") not in volumes | claim_templates:
                f.add(src, f"{where}.volumeMounts[{m.get('name')}]", "names no volume of the pod")
            if m.get("mountPath") in paths:
                f.add(src, f"{where}.volumeMounts[{m.get('name')}].mountPath", "mounted twice")
            paths.add(m.get("mountPath"))
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            for ref_key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                ref = vf.get(ref_key)
                if not ref:
                    continue
                target = index.get((kind, o.namespace, ref.get("name")))
                if target is None and not absent_ok(kind, ref, "name", o.namespace, index):
                    f.add(src, f"{where}.env[{e.get('name')}].valueFrom.{ref_key}",
                          f"{kind} {ref.get('name')!r} is not in the rendered output (nor an optional one of "
                          f"OPTIONAL_OBJECTS)")
                elif target is not None and ref.get("key") not in (target.doc.get("data") or {}):
                    f.add(src, f"{where}.env[{e.get('name')}].valueFrom.{ref_key}.key",
                          f"{ref.get('key')!r} is not a key of {target.ref()}")
        for ef in c.get("envFrom") or []:
            for ref_key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                ref = ef.get(ref_key)
                if not absent_ok(kind, ref, "name", o.namespace, index):
                    f.add(src, f"{where}.envFrom.{ref_key}", f"{kind} {ref.get('name')!r} is not in the output")
        for flag, port in listen_ports(c.get("args") or []):
            if not port.isdigit() or int(port) not in numbers:
                f.add(src, f"{where}.args {flag}", f"port {port} is not a declared containerPort")
        if init:
            continue
        probes = ("livenessProbe", "readinessProbe") if o.kind in LONG_RUNNING else ()
        for p in probes:
            if p not in c:
                f.add(src, f"{where}.{p}", "missing")
        for p in ("livenessProbe", "readinessProbe", "startupProbe"):
            if p in c:
                check_probe(f, o, f"{where}.{p}", c[p], names, numbers)
    for v in volumes - mounted:
        f.add(src, f"spec.template.spec.volumes[{v}]", "declared but mounted by no container")


def check_service(f: Findings, o: Obj, objs: list[Obj]) -> None:
    selector = (o.doc.get("spec") or {}).get("selector") or {}
    if not selector:
        f.add(o.source, "spec.selector", "empty")
        return
    targets = []
    for w in objs:
        tpl = pod_template(w.doc)
        if w.kind in LONG_RUNNING and tpl is not None and w.namespace == o.namespace:
            labels = (tpl.get("metadata") or {}).get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()):
                targets.append(w)
    if not targets:
        f.add(o.source, "spec.selector", f"{selector} matches no workload's pod labels in the rendered output")
        return
    for p in (o.doc.get("spec") or {}).get("ports") or []:
        target = p.get("targetPort", p.get("port"))
        for w in targets:
            names, numbers = declared_ports(pod_template(w.doc).get("spec") or {})
            if not port_declared(target, names, numbers):
                f.add(o.source, f"spec.ports[{p.get('name')}].targetPort",
                      f"{target!r} is not a containerPort of {w.ref()}")


def check_objects(f: Findings, objs: list[Obj]) -> None:
    index = {(o.kind, o.namespace, o.name): o for o in objs}
    for o in objs:
        d, src = o.doc, o.source
        key = (d.get("apiVersion"), d.get("kind"))
        if key not in KNOWN_KINDS:
            f.add(src, "apiVersion/kind", f"unknown pair {key[0]}/{key[1]}")
            continue
        md = d.get("metadata") or {}
        name = md.get("name")
        pattern = DNS1123_LABEL if o.kind in {"Namespace", "Service"} else DNS1123_SUBDOMAIN
        if not name or not pattern.match(str(name)):
            f.add(src, "metadata.name", f"{name!r} is not a valid {o.kind} name")
        if KNOWN_KINDS[key] and not md.get("namespace"):
            f.add(src, "metadata.namespace", f"{o.ref()} is namespaced but has no namespace")
        if not KNOWN_KINDS[key] and md.get("namespace"):
            f.add(src, "metadata.namespace", f"{o.kind} is cluster-scoped")
        if KNOWN_KINDS[key] and md.get("namespace") and ("Namespace", "", md["namespace"]) not in index:
            f.add(src, "metadata.namespace", f"namespace {md['namespace']!r} is not created by this kustomization")
        labels = md.get("labels") or {}
        for label in RECOMMENDED_LABELS:
            if label not in labels:
                f.add(src, f"metadata.labels.{label}", f"missing on {o.ref()}")
        for k, v in labels.items():
            if not isinstance(v, str) or not LABEL_VALUE.match(v):
                f.add(src, f"metadata.labels.{k}", f"{v!r} is not a valid label value (a quoted string)")
        if o.kind in WORKLOADS:
            check_workload(f, o, index)
        elif o.kind == "Service":
            check_service(f, o, objs)
        elif o.kind in {"RoleBinding", "ClusterRoleBinding"}:
            ref = d.get("roleRef") or {}
            ns = o.namespace if ref.get("kind") == "Role" else ""
            if (ref.get("kind"), ns, ref.get("name")) not in index:
                f.add(src, "roleRef", f"{ref.get('kind')} {ref.get('name')!r} is not in the rendered output")
            for s in d.get("subjects") or []:
                if s.get("kind") == "ServiceAccount" and \
                        ("ServiceAccount", s.get("namespace", o.namespace), s.get("name")) not in index:
                    f.add(src, "subjects", f"ServiceAccount {s.get('namespace')}/{s.get('name')} is not in the output")
        elif o.kind == "PersistentVolumeClaim":
            spec = d.get("spec") or {}
            if not spec.get("accessModes"):
                f.add(src, "spec.accessModes", "missing")
            if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
                f.add(src, "spec.resources.requests.storage", "missing")
        elif o.kind == "Secret":
            if not d.get("data") and not d.get("stringData"):
                f.add(src, "data", f"{o.ref()} is empty")
            for k, v in (d.get("data") or {}).items():
                try:
                    base64.b64decode("".join(str(v).split()), validate=True)
                except ValueError:
                    f.add(src, f"data.{k}", "not base64")
    # The version label says which image runs: it must be the tag of the app's image.
    for o in objs:
        version = (o.doc.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/version")
        app = (o.doc.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name")
        for w in objs:
            tpl = pod_template(w.doc)
            for c in all_containers((tpl or {}).get("spec") or {}):
                name, tag, _ = split_image(str(c.get("image", "")))
                if version is not None and tag and name.rsplit("/", 1)[-1] == app and str(version) != tag:
                    f.add(o.source, "metadata.labels.app.kubernetes.io/version",
                          f"{version!r} on {o.ref()} is not the tag {tag!r} of the image {name}")


def differences(a, b, path: str = "") -> list[str]:
    """Where two parsed documents differ, as paths (a.b[2].c)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += differences(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: kubectl {json.dumps(a)[:80]}, renderer {json.dumps(b)[:80]}"]


def normalized(doc: dict) -> dict:
    d = copy.deepcopy(doc)
    if d.get("kind") == "Secret":
        d["data"] = {k: "".join(str(v).split()) for k, v in (d.get("data") or {}).items()}
    return d


def compare_with_kubectl(f: Findings, kdir: Path, krel: str, objs: list[Obj]) -> bool | None:
    """None when kubectl is not on PATH; else whether its rendering equals ours."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    r = subprocess.run([kubectl, "kustomize", str(kdir)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        f.add(krel, "kubectl kustomize", f"failed: {r.stderr.strip()}")
        return False
    theirs = {(d.get("kind"), (d.get("metadata") or {}).get("namespace", ""), d["metadata"]["name"]): normalized(d)
              for d in yaml.safe_load_all(r.stdout) if d}
    ours = {(o.kind, o.namespace, o.name): normalized(o.doc) for o in objs}
    ok = True
    for key in sorted(set(theirs) | set(ours), key=str):
        if key not in ours:
            f.add(krel, "rendering", f"kubectl kustomize prints {key[0]} {key[1]}/{key[2]}, the renderer does not")
            ok = False
        elif key not in theirs:
            f.add(krel, "rendering", f"the renderer prints {key[0]} {key[1]}/{key[2]}, kubectl kustomize does not")
            ok = False
        elif theirs[key] != ours[key]:
            f.add(krel, "rendering", f"{key[0]} {key[1]}/{key[2]} differs from kubectl kustomize's at "
                  + "; ".join(differences(theirs[key], ours[key])[:5]))
            ok = False
    return ok


def staged_tree(root: Path) -> tuple[Path, list[str]]:
    """A copy of deploy/kubernetes in which every missing git-ignored input X is its X.example."""
    tmp = Path(tempfile.mkdtemp(prefix="validate-packaging-"))
    dst = tmp / "kubernetes"
    shutil.copytree(root / "deploy/kubernetes", dst)
    filled = []
    for example in sorted(dst.rglob("*.example")):
        target = example.with_suffix("")
        if not target.exists():
            shutil.copyfile(example, target)
            filled.append(os.path.relpath(target, dst))
    return dst, filled


def validate_kubernetes(f: Findings, root: Path, notes: list[str]) -> dict:
    stats = {"kustomizations": 0, "objects": 0, "kubectl": None}
    base = root / "deploy/kubernetes"
    staged, filled = staged_tree(root)
    try:
        if filled:
            notes.append("rendered with the example files for " + ", ".join(filled))
        applied: set[str] = set()
        kubectl_results = []
        all_rendered = True
        for kfile in sorted(staged.rglob("kustomization.yaml")):
            kdir = kfile.parent
            krel = os.path.relpath(root / "deploy/kubernetes" / kfile.relative_to(staged), root)
            try:
                objs = render(kdir, staged)
            except RenderError as e:
                f.add(os.path.join("deploy/kubernetes", e.file), "kustomize", e.message)
                all_rendered = False
                continue
            for o in objs:
                if not o.generated:
                    applied.add(o.source)
                o.source = os.path.join("deploy/kubernetes", o.source)
            stats["kustomizations"] += 1
            stats["objects"] += len(objs)
            check_objects(f, objs)
            kubectl_results.append(compare_with_kubectl(f, kdir, krel, objs))
        if kubectl_results and all(r is None for r in kubectl_results):
            notes.append("kubectl not on PATH: the comparison with kubectl kustomize was skipped")
        else:
            stats["kubectl"] = sum(1 for r in kubectl_results if r)
        for path in sorted(base.rglob("*.yaml")):
            rel = os.path.relpath(path, base)
            if path.name == "kustomization.yaml" or rel in applied or not all_rendered:
                continue
            if rel in NOT_APPLIED:
                try:
                    docs = load_documents(path, rel)
                except RenderError as e:
                    f.add(f"deploy/kubernetes/{rel}", "yaml", e.message)
                    continue
                for d in docs:
                    if (d.get("apiVersion"), d.get("kind")) not in KNOWN_KINDS:
                        f.add(f"deploy/kubernetes/{rel}", "apiVersion/kind", "unknown pair")
                    tpl = pod_template(d)
                    for c in all_containers((tpl or {}).get("spec") or {}):
                        _, tag, digest = split_image(str(c.get("image", "")))
                        if (not tag and not digest) or tag == "latest":
                            f.add(f"deploy/kubernetes/{rel}", f"containers[{c.get('name')}].image", "not pinned")
                continue
            f.add(f"deploy/kubernetes/{rel}", "kustomization",
                  "in no kustomization's resources (and not in NOT_APPLIED)")
    finally:
        shutil.rmtree(staged.parent, ignore_errors=True)
    return stats


def container_ports_by_app(root: Path) -> dict[str, set[int]]:
    """containerPort numbers per container name in the applied manifests (for the Dockerfiles' EXPOSE)."""
    out: dict[str, set[int]] = {}
    for path in (root / "deploy/kubernetes").rglob("*.yaml"):
        if path.name == "kustomization.yaml" or path.name in NOT_APPLIED:
            continue
        for d in yaml.safe_load_all(path.read_text()):
            tpl = pod_template(d) if isinstance(d, dict) else None
            for c in ((tpl or {}).get("spec") or {}).get("containers") or []:
                out.setdefault(c.get("name"), set()).update(p.get("containerPort") for p in c.get("ports") or [])
    return out
