"""The subset of kustomize that deploy/kubernetes uses, rendered as `kubectl kustomize` does: resources (files and
folders), namespace, labels, images, secretGenerator/configMapGenerator (files, literals, envs) with kustomize's
hash suffix, and references to generated objects rewritten. Anything else is refused rather than ignored."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# apiVersion/kind pairs these manifests may use, and whether the kind is namespaced.
KNOWN_KINDS = {
    ("v1", "Namespace"): False,
    ("v1", "ServiceAccount"): True,
    ("v1", "Secret"): True,
    ("v1", "ConfigMap"): True,
    ("v1", "Service"): True,
    ("v1", "PersistentVolumeClaim"): True,
    ("apps/v1", "Deployment"): True,
    ("apps/v1", "StatefulSet"): True,
    ("apps/v1", "DaemonSet"): True,
    ("batch/v1", "Job"): True,
    ("batch/v1", "CronJob"): True,
    ("rbac.authorization.k8s.io/v1", "Role"): True,
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): False,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): True,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): False,
    ("policy/v1", "PodDisruptionBudget"): True,
    ("networking.k8s.io/v1", "NetworkPolicy"): True,
}


class RenderError(Exception):
    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


@dataclass
class Obj:
    doc: dict
    source: str                 # the file it came from (a kustomization for generated objects)
    orig_name: str = ""         # the name before a hash suffix
    generated: bool = False

    @property
    def kind(self) -> str:
        return self.doc.get("kind", "")

    @property
    def name(self) -> str:
        return self.doc.get("metadata", {}).get("name", "")

    @property
    def namespace(self) -> str:
        return self.doc.get("metadata", {}).get("namespace", "") or ""

    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "labels", "images", "secretGenerator",
                      "configMapGenerator"}
GENERATOR_KEYS = {"name", "namespace", "type", "files", "literals", "envs", "options", "behavior"}


def kustomize_hash(kind: str, data: dict[str, str], secret_type: str | None) -> str:
    """kustomize v5's name suffix: sha256 over a JSON encoding of kind, type and data, first 10 hex characters
    with the vowel-like ones replaced. Two quirks make it match kubectl's output: the name in the encoding is
    always "" (its lookup of metadata/name finds nothing), and Secret data values are base64 wrapped at 70
    columns with a newline after each full line, as kyaml stores them."""
    if kind == "Secret":
        values = {}
        for key, raw in data.items():
            b64 = base64.b64encode(raw.encode("utf-8") if isinstance(raw, str) else raw).decode()
            if len(b64) > 70:
                b64 = "".join(b64[i:i + 70] + "\n" for i in range(0, len(b64), 70))
            values[key] = b64
        encoded = {"data": values, "kind": "Secret", "name": "", "type": secret_type or ""}
    else:
        encoded = {"data": data, "kind": "ConfigMap", "name": ""}
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoding/json escapes these; Python's does not.
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def load_documents(path: Path, rel: str) -> list[dict]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as e:
        raise RenderError(rel, f"not valid YAML: {e}") from e
    for d in docs:
        if not isinstance(d, dict):
            raise RenderError(rel, "a document is not a mapping")
    return docs


def inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def read_env_file(path: Path, rel: str) -> dict[str, str]:
    """kustomize's env files: KEY=VALUE lines, leading blanks and comment lines (#) skipped, value verbatim."""
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise RenderError(rel, f"line {n}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        out[key] = value
    return out


def generate(kdir: Path, krel: str, entry: dict, kind: str, namespace: str | None) -> Obj:
    unknown = set(entry) - GENERATOR_KEYS
    if unknown:
        raise RenderError(krel, f"{kind} generator: unsupported keys {sorted(unknown)}")
    if entry.get("behavior", "create") != "create":
        raise RenderError(krel, f"{kind} generator {entry.get('name')}: only behavior create is supported")
    name = entry.get("name")
    if not name:
        raise RenderError(krel, f"{kind} generator without a name")
    data: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if not re.fullmatch(r"[-._a-zA-Z0-9]+", key):
            raise RenderError(krel, f"{kind} {name}: key {key!r} is not a valid data key")
        if key in data:
            raise RenderError(krel, f"{kind} {name}: key {key!r} given twice")
        data[key] = value

    for spec in entry.get("files", []) or []:
        key, _, path = spec.partition("=") if "=" in spec else (Path(spec).name, "", spec)
        file = kdir / path
        if not inside(kdir, file):
            raise RenderError(krel, f"{kind} {name}: {path} is outside the kustomization's folder")
        if not file.is_file():
            raise RenderError(krel, f"{kind} {name}: file {path} does not exist")
        put(key, file.read_text())
    for spec in entry.get("literals", []) or []:
        if "=" not in spec:
            raise RenderError(krel, f"{kind} {name}: literal {spec!r} is not KEY=VALUE")
        key, value = spec.split("=", 1)
        put(key, value)
    for path in entry.get("envs", []) or []:
        file = kdir / path
        if not inside(kdir, file) or not file.is_file():
            raise RenderError(krel, f"{kind} {name}: env file {path} does not exist in the kustomization's folder")
        for key, value in read_env_file(file, f"{krel} ({path})").items():
            put(key, value)
    if not data:
        raise RenderError(krel, f"{kind} {name}: no data (files, literals or envs)")
    metadata: dict = {"name": name}
    ns = entry.get("namespace") or namespace
    if ns:
        metadata["namespace"] = ns
    if kind == "Secret":
        secret_type = entry.get("type", "Opaque")
        doc = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": secret_type,
               "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
        suffix = kustomize_hash("Secret", data, secret_type)
    else:
        doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(data)}
        suffix = kustomize_hash("ConfigMap", data, None)
    if not (entry.get("options") or {}).get("disableNameSuffixHash", False):
        metadata["name"] = f"{name}-{suffix}"
    return Obj(doc, krel, orig_name=name, generated=True)


def pod_template(doc: dict) -> dict | None:
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        return spec.get("template")
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    return None


def all_containers(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("initContainers") or []) + list(pod_spec.get("containers") or [])


def split_image(image: str) -> tuple[str, str, str]:
    """name, tag, digest of an image reference."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    return name, tag, digest


def apply_namespace(objs: list[Obj], namespace: str) -> None:
    service_accounts = {(o.name, o.namespace) for o in objs if o.kind == "ServiceAccount"}
    for o in objs:
        namespaced = KNOWN_KINDS.get((o.doc.get("apiVersion"), o.kind), True)
        if o.kind == "Namespace":
            o.doc["metadata"]["name"] = namespace
        elif namespaced:
            o.doc.setdefault("metadata", {})["namespace"] = namespace
        if o.kind in {"RoleBinding", "ClusterRoleBinding"}:
            for s in o.doc.get("subjects") or []:
                if s.get("kind") == "ServiceAccount" and (s.get("name"), s.get("namespace", "")) in service_accounts:
                    s["namespace"] = namespace


def apply_labels(objs: list[Obj], entries: list, krel: str) -> None:
    for entry in entries:
        if set(entry) - {"pairs", "includeSelectors", "includeTemplates"}:
            unknown = sorted(set(entry) - {"pairs", "includeSelectors", "includeTemplates"})
            raise RenderError(krel, f"labels: unsupported keys {unknown}")
        if entry.get("includeSelectors"):
            raise RenderError(krel, "labels: includeSelectors true is not supported (selectors are immutable)")
        pairs = {str(k): v for k, v in (entry.get("pairs") or {}).items()}
        for o in objs:
            o.doc.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if not entry.get("includeTemplates"):
                continue
            if o.kind == "CronJob":
                jt = o.doc.get("spec", {}).get("jobTemplate", {})
                jt.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            tpl = pod_template(o.doc)
            if tpl is not None:
                tpl.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if o.kind == "StatefulSet":
                for vct in o.doc.get("spec", {}).get("volumeClaimTemplates") or []:
                    vct.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def apply_images(objs: list[Obj], entries: list, krel: str) -> None:
    for entry in entries:
        if set(entry) - {"name", "newName", "newTag", "digest"}:
            raise RenderError(krel, f"images: unsupported keys in {entry}")
        for o in objs:
            tpl = pod_template(o.doc)
            pod_spec = (tpl or {}).get("spec") if tpl is not None else (o.doc.get("spec") if o.kind == "Pod" else None)
            for c in all_containers(pod_spec or {}):
                name, tag, digest = split_image(str(c.get("image", "")))
                if name != entry.get("name"):
                    continue
                name = entry.get("newName", name)
                if "newTag" in entry:
                    tag = str(entry["newTag"])
                if "digest" in entry:
                    c["image"] = f"{name}@{entry['digest']}"
                else:
                    c["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def rewrite_references(objs: list[Obj]) -> None:
    """Points references to generated Secrets/ConfigMaps at their suffixed names (same namespace only)."""
    renamed = {(o.kind, o.namespace, o.orig_name): o.name for o in objs if o.generated and o.orig_name != o.name}
    if not renamed:
        return

    def fix(kind: str, ns: str, holder: dict | None, key: str) -> None:
        if holder and (kind, ns, holder.get(key)) in renamed:
            holder[key] = renamed[(kind, ns, holder[key])]

    for o in objs:
        tpl = pod_template(o.doc)
        if tpl is None:
            continue
        spec = tpl.get("spec") or {}
        ns = o.namespace
        for v in spec.get("volumes") or []:
            fix("Secret", ns, v.get("secret"), "secretName")
            fix("ConfigMap", ns, v.get("configMap"), "name")
            for src in (v.get("projected") or {}).get("sources") or []:
                fix("Secret", ns, src.get("secret"), "name")
                fix("ConfigMap", ns, src.get("configMap"), "name")
        for ips in spec.get("imagePullSecrets") or []:
            fix("Secret", ns, ips, "name")
        for c in all_containers(spec):
            for e in c.get("env") or []:
                value_from = e.get("valueFrom") or {}
                fix("Secret", ns, value_from.get("secretKeyRef"), "name")
                fix("ConfigMap", ns, value_from.get("configMapKeyRef"), "name")
            for ef in c.get("envFrom") or []:
                fix("Secret", ns, ef.get("secretRef"), "name")
                fix("ConfigMap", ns, ef.get("configMapRef"), "name")


def render(kdir: Path, root: Path, stack: tuple[Path, ...] = ()) -> list[Obj]:
    """The objects `kubectl kustomize kdir` prints (as a set; kustomize also sorts them)."""
    krel = os.path.relpath(kdir / "kustomization.yaml", root)
    kfile = kdir / "kustomization.yaml"
    if not kfile.is_file():
        raise RenderError(os.path.relpath(kdir, root), "no kustomization.yaml")
    if kdir.resolve() in stack:
        raise RenderError(krel, "kustomizations include each other")
    docs = load_documents(kfile, krel)
    if len(docs) != 1:
        raise RenderError(krel, "expected one document")
    k = docs[0]
    unknown = set(k) - KUSTOMIZATION_KEYS
    if unknown:
        raise RenderError(krel, f"fields this renderer does not implement (extend it or drop them): {sorted(unknown)}")
    if k.get("apiVersion", "kustomize.config.k8s.io/v1beta1") != "kustomize.config.k8s.io/v1beta1" or \
            k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(krel, "not a kustomize.config.k8s.io/v1beta1 Kustomization")
    objs: list[Obj] = []
    for res in k.get("resources") or []:
        path = kdir / res
        if path.is_dir():
            objs.extend(render(path, root, stack + (kdir.resolve(),)))
        elif path.is_file():
            rel = os.path.relpath(path, root)
            for d in load_documents(path, rel):
                md = d.get("metadata") or {}
                objs.append(Obj(d, rel, orig_name=md.get("name", "")))
        else:
            raise RenderError(krel, f"resources: {res} does not exist")
    namespace = k.get("namespace")
    for entry in k.get("secretGenerator") or []:
        objs.append(generate(kdir, krel, entry, "Secret", namespace))
    for entry in k.get("configMapGenerator") or []:
        objs.append(generate(kdir, krel, entry, "ConfigMap", namespace))
    seen = {}
    for o in objs:
        key = (o.kind, o.namespace, o.name)
        if key in seen:
            raise RenderError(krel, f"{o.ref()} defined twice ({seen[key]} and {o.source})")
        seen[key] = o.source
    if namespace:
        apply_namespace(objs, namespace)
    apply_labels(objs, k.get("labels") or [], krel)
    apply_images(objs, k.get("images") or [], krel)
    rewrite_references(objs)
    return objs
