"""The self-test: every validator runs on a known-good input, which must pass, and on planted mistakes, each of
which must be refused with the expected finding. A validator that accepts everything fails here."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml

from . import Findings
from .dockerfiles import check_dockerfile, external_linters, lint_with, parse_dockerfile
from .kustomize import Obj, RenderError, kustomize_hash, render
from .manifests import check_objects, compare_with_kubectl
from .systemd import check_dropin, check_unit, run_systemd_analyze

GOOD_MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: *l}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: demo, namespace: demo, labels: *l}
---
apiVersion: v1
kind: Secret
metadata: {name: demo-abc, namespace: demo, labels: *l}
type: Opaque
data: {token: dG9r}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: demo-state, namespace: demo, labels: *l}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Service
metadata: {name: demo, namespace: demo, labels: *l}
spec:
  selector: {app.kubernetes.io/name: demo}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: demo, labels: *l}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: demo}
subjects: [{kind: ServiceAccount, name: demo, namespace: demo}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: demo, labels: *l}
rules: []
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo, namespace: demo, labels: *l}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: demo}}
  template:
    metadata:
      labels: *l
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "8080"}
    spec:
      serviceAccountName: demo
      securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: demo
          image: registry.example/demo:1.0
          args: [--listen, "0.0.0.0:8080"]
          ports: [{name: http, containerPort: 8080}]
          env:
            - {name: T, valueFrom: {secretKeyRef: {name: demo-abc, key: token}}}
            - {name: O, valueFrom: {secretKeyRef: {name: fleetd-database, key: x, optional: true}}}
          livenessProbe: {httpGet: {path: /healthz, port: http}}
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                            capabilities: {drop: [ALL]}}
          volumeMounts: [{name: token, mountPath: /run/t}, {name: state, mountPath: /var/lib/demo}]
      volumes:
        - {name: token, secret: {secretName: demo-abc}}
        - {name: state, persistentVolumeClaim: {claimName: demo-state}}
"""


# YAML anchors do not reach across documents: *l stands for these labels in every one.
GOOD_LABELS = ('{app.kubernetes.io/name: demo, app.kubernetes.io/instance: demo, app.kubernetes.io/component: c, '
               'app.kubernetes.io/part-of: fleetd, app.kubernetes.io/version: "1.0", '
               'app.kubernetes.io/managed-by: kustomize}')


def good_manifests() -> list[dict]:
    return [d for d in yaml.safe_load_all(GOOD_MANIFESTS.replace("*l", GOOD_LABELS))]


def _deploy(docs: list[dict]) -> dict:
    return next(d for d in docs if d["kind"] == "Deployment")


def _container(docs: list[dict]) -> dict:
    return _deploy(docs)["spec"]["template"]["spec"]["containers"][0]


MANIFEST_MISTAKES = [
    ("image tagged latest", lambda d: _container(d).update(image="registry.example/demo:latest"), "latest tag"),
    ("untagged image", lambda d: _container(d).update(image="registry.example/demo"), "has no tag"),
    ("selector not matching the template",
     lambda d: _deploy(d)["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "other"}),
     "does not match the pod template"),
    ("writable root filesystem", lambda d: _container(d)["securityContext"].pop("readOnlyRootFilesystem"),
     "readOnlyRootFilesystem"),
    ("capabilities kept", lambda d: _container(d)["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
     "must contain ALL"),
    ("privilege escalation", lambda d: _container(d)["securityContext"].update(allowPrivilegeEscalation=True),
     "allowPrivilegeEscalation"),
    ("runAsNonRoot missing", lambda d: _deploy(d)["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot"),
     "runAsNonRoot"),
    ("no seccomp profile", lambda d: _deploy(d)["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile"),
     "seccompProfile"),
    ("probe on an undeclared port", lambda d: _container(d)["livenessProbe"]["httpGet"].update(port="metrics"),
     "is not a containerPort"),
    ("no readiness probe", lambda d: _container(d).pop("readinessProbe"), "readinessProbe: missing"),
    ("mount of an undeclared volume", lambda d: _container(d)["volumeMounts"].append({"name": "x", "mountPath": "/x"}),
     "names no volume"),
    ("reference to a missing Secret",
     lambda d: _deploy(d)["spec"]["template"]["spec"]["volumes"][0]["secret"].update(secretName="demo"),
     "Secret 'demo' is not in the rendered output"),
    ("optional reference to an undocumented Secret",
     lambda d: _container(d)["env"][1]["valueFrom"]["secretKeyRef"].update(name="fleetd-databse"),
     "Secret 'fleetd-databse' is not in the rendered output"),
    ("env from a missing Secret key",
     lambda d: _container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(key="nope"), "is not a key of"),
    ("reference to a missing PVC",
     lambda d: _deploy(d)["spec"]["template"]["spec"]["volumes"][1]["persistentVolumeClaim"].update(claimName="x"),
     "PVC 'x' is not in"),
    ("missing ServiceAccount", lambda d: _deploy(d)["spec"]["template"]["spec"].update(serviceAccountName="nobody"),
     "ServiceAccount 'nobody'"),
    ("Service selecting nothing", lambda d: next(x for x in d if x["kind"] == "Service")["spec"].update(
        selector={"app.kubernetes.io/name": "nothing"}), "matches no workload"),
    ("Service to an undeclared port",
     lambda d: next(x for x in d if x["kind"] == "Service")["spec"]["ports"][0].update(targetPort=9999),
     "is not a containerPort of"),
    ("recommended label missing", lambda d: d[1]["metadata"].update(labels={"app.kubernetes.io/name": "demo"}),
     "app.kubernetes.io/part-of: missing"),
    ("unquoted label value", lambda d: d[1]["metadata"].update(labels=dict(d[1]["metadata"]["labels"], x=1.0)),
     "not a valid label value"),
    ("unknown apiVersion", lambda d: _deploy(d).update(apiVersion="apps/v1beta1"), "unknown pair apps/v1beta1"),
    ("namespaced object without a namespace", lambda d: d[1]["metadata"].pop("namespace"), "has no namespace"),
    ("no resources", lambda d: _container(d).pop("resources"), "resources.requests.cpu: missing"),
    ("version label not the image tag", lambda d: _container(d).update(image="registry.example/demo:2.0"),
     "is not the image tag"),
    ("scrape annotation on an undeclared port",
     lambda d: _deploy(d)["spec"]["template"]["metadata"]["annotations"].update({"prometheus.io/port": "9400"}),
     "prometheus.io/port"),
    ("listen flag on an undeclared port", lambda d: _container(d).update(args=["--health-listen", "0.0.0.0:9400"]),
     "port 9400 is not a declared containerPort"),
    ("binding to a missing ServiceAccount",
     lambda d: next(x for x in d if x["kind"] == "ClusterRoleBinding")["subjects"][0].update(name="ghost"),
     "ServiceAccount demo/ghost"),
    ("hostPath volume", lambda d: (_deploy(d)["spec"]["template"]["spec"]["volumes"].append(
        {"name": "h", "hostPath": {"path": "/"}}), _container(d)["volumeMounts"].append(
        {"name": "h", "mountPath": "/h"})), "hostPath"),
]

GOOD_DOCKERFILE = """# syntax=docker/dockerfile:1
ARG BASE=12
FROM debian:${BASE} AS build
RUN apt-get update \\
 && apt-get install -y --no-install-recommends \\
      # a comment inside a continuation is dropped
      g++ \\
 && rm -rf /var/lib/apt/lists/*
COPY . /src
FROM debian:12-slim
LABEL org.opencontainers.image.title="demo" org.opencontainers.image.version="1" \\
      org.opencontainers.image.revision="x"
COPY --from=build /src/demo /usr/local/bin/demo
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/demo"]
"""
GOOD_DOCKERFILE_EXPECT = {"entrypoint": "/usr/local/bin/demo", "expose": {"8080"}}

DOCKERFILE_MISTAKES = [
    ("single stage", lambda t: t.split("COPY . /src\n", 1)[1].replace("COPY --from=build", "COPY"), "not multi-stage"),
    ("base image untagged", lambda t: t.replace("FROM debian:12-slim", "FROM debian"), "not pinned to a tag"),
    ("base image latest", lambda t: t.replace("FROM debian:12-slim", "FROM debian:latest"), "latest tag"),
    ("tag from an ARG without default", lambda t: t.replace("ARG BASE=12", "ARG BASE"), "without a default"),
    ("USER root", lambda t: t.replace("USER 65532:65532", "USER 0"), "is root"),
    ("USER by name", lambda t: t.replace("USER 65532:65532", "USER nobody"), "not numeric"),
    ("no USER", lambda t: t.replace("USER 65532:65532\n", ""), "runs as root"),
    ("no ENTRYPOINT", lambda t: t.replace('ENTRYPOINT ["/usr/local/bin/demo"]\n', ""), "ENTRYPOINT: missing"),
    ("shell-form ENTRYPOINT",
     lambda t: t.replace('ENTRYPOINT ["/usr/local/bin/demo"]', "ENTRYPOINT /usr/local/bin/demo"),
     "exec form"),
    ("ADD of a URL", lambda t: t.replace("COPY . /src", "ADD https://example.com/x.tgz /src/"), "remote URL"),
    ("recommends installed", lambda t: t.replace("--no-install-recommends", ""), "--no-install-recommends"),
    ("apt lists kept", lambda t: t.replace(" \\\n && rm -rf /var/lib/apt/lists/*", ""), "apt lists not removed"),
    ("no build stage name", lambda t: t.replace(" AS build", "").replace("--from=build", "--from=0"),
     "no named build stage"),
    ("nothing copied from the build", lambda t: t.replace("COPY --from=build /src/demo", "COPY demo"),
     "copies nothing from a build stage"),
    ("no OCI labels", lambda t: t.replace("org.opencontainers.image.version", "version"),
     "org.opencontainers.image.version missing"),
    ("wrong EXPOSE", lambda t: t.replace("EXPOSE 8080", "EXPOSE 8081"), "EXPOSE"),
    ("RUN after USER", lambda t: t.replace("EXPOSE 8080", "RUN true\nEXPOSE 8080"), "keep USER last"),
]

GOOD_UNIT = """[Unit]
Description=demo
[Service]
User=demo
ExecStart=/usr/local/bin/fleetd --data-dir /var/lib/fleetd
StateDirectory=fleetd
Restart=on-failure
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallFilter=@system-service
[Install]
WantedBy=multi-user.target
"""

UNIT_MISTAKES = [
    ("NoNewPrivileges missing", lambda t: t.replace("NoNewPrivileges=yes\n", ""), "NoNewPrivileges"),
    ("ProtectSystem full", lambda t: t.replace("ProtectSystem=strict", "ProtectSystem=full"), "ProtectSystem"),
    ("password on the command line",
     lambda t: t.replace("--data-dir /var/lib/fleetd", "--database-url postgresql://u:p@db/fleet"),
     "a secret on the command line"),
    ("runs as root", lambda t: t.replace("User=demo\n", ""), "runs as root"),
    ("LimitNOFILE below --max-connections", lambda t: t.replace("LimitNOFILE=65536", "LimitNOFILE=1024"),
     "LimitNOFILE"),
    ("capabilities kept", lambda t: t.replace("CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_ADMIN\n"),
     "CapabilityBoundingSet"),
    ("no syscall filter", lambda t: t.replace("SystemCallFilter=@system-service\n", ""), "SystemCallFilter"),
    ("data dir not the state directory", lambda t: t.replace("--data-dir /var/lib/fleetd", "--data-dir /srv/x"),
     "is not the StateDirectory"),
]

GOOD_DROPIN = """[Service]
LoadCredential=database.json:/etc/fleetd/database.json
Environment=FLEETD_CONFIG=%d/database.json
"""
DROPIN_MISTAKES = [
    ("URL in the environment", lambda t: t + "Environment=FLEETD_DATABASE_URL=postgresql://u:p@db/x\n",
     "FLEETD_DATABASE_URL in the unit"),
    ("config not the credential", lambda t: t.replace("%d/database.json", "/etc/fleetd/database.json"),
     "FLEETD_CONFIG must name the credential"),
]


def self_test(root: Path, notes: list[str]) -> tuple[int, list[str]]:
    """Runs every validator on known-good inputs (must pass) and planted mistakes (each must be refused)."""
    failures: list[str] = []
    count = 0

    def expect_refused(what: str, findings: Findings, needle: str) -> None:
        nonlocal count
        count += 1
        if not any(needle in item for item in findings.items):
            failures.append(f"self-test: {what}: not refused (expected a finding with {needle!r}; "
                            f"got {findings.items or 'none'})")

    def expect_clean(what: str, findings: Findings) -> None:
        nonlocal count
        count += 1
        if findings.items:
            failures.append(f"self-test: {what}: the good input was refused: {findings.items}")

    def manifests(docs: list[dict]) -> Findings:
        f = Findings()
        check_objects(f, [Obj(d, "planted.yaml") for d in docs])
        return f

    good = good_manifests()
    expect_clean("manifests", manifests(copy.deepcopy(good)))
    for what, plant, needle in MANIFEST_MISTAKES:
        docs = copy.deepcopy(good)
        plant(docs)
        expect_refused(what, manifests(docs), needle)

    def dockerfile(text: str) -> Findings:
        f = Findings()
        check_dockerfile(f, "planted.Dockerfile", text, GOOD_DOCKERFILE_EXPECT)
        return f

    expect_clean("Dockerfile", dockerfile(GOOD_DOCKERFILE))
    _, stages = parse_dockerfile(GOOD_DOCKERFILE)
    count += 1
    install = stages[0].body[0].args
    if "g++" not in install or "comment" in install or "rm -rf /var/lib/apt/lists/*" not in install:
        failures.append(f"self-test: continuation lines not joined into one RUN: {install!r}")
    for what, plant, needle in DOCKERFILE_MISTAKES:
        expect_refused(what, dockerfile(plant(GOOD_DOCKERFILE)), needle)

    for name, _, argv in external_linters(root):
        with tempfile.TemporaryDirectory(prefix="validate-lint-") as tmp:
            good, bad = Path(tmp) / "good.Dockerfile", Path(tmp) / "bad.Dockerfile"
            good.write_text(GOOD_DOCKERFILE)
            bad.write_text(GOOD_DOCKERFILE.replace("USER 65532:65532", "USER"))
            f = Findings()
            lint_with(f, "planted.Dockerfile", name, argv + [str(good)])
            expect_clean(f"{name} on the good Dockerfile", f)
            f = Findings()
            lint_with(f, "planted.Dockerfile", name, argv + [str(bad)])
            expect_refused(f"{name} on a USER without argument", f, name)

    def unit(text: str) -> Findings:
        f = Findings()
        check_unit(f, "planted.service", text, 10000)
        return f

    expect_clean("systemd unit", unit(GOOD_UNIT))
    for what, plant, needle in UNIT_MISTAKES:
        expect_refused(what, unit(plant(GOOD_UNIT)), needle)

    def dropin(text: str) -> Findings:
        f = Findings()
        check_dropin(f, "planted.conf", text)
        return f

    expect_clean("drop-in", dropin(GOOD_DROPIN))
    for what, plant, needle in DROPIN_MISTAKES:
        expect_refused(what, dropin(plant(GOOD_DROPIN)), needle)

    if shutil.which("systemd-analyze"):
        f = Findings()
        run_systemd_analyze(f, root, [], GOOD_UNIT.replace("[Service]\n", "[Service]\nBogusKey=1\n"), None, "planted")
        expect_refused("systemd-analyze verify on an unknown key", f, "BogusKey")
        f = Findings()
        run_systemd_analyze(f, root, [], "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n", None, "planted")
        expect_refused("systemd-analyze security on an unhardened unit", f, "exposure")

    # The renderer: kustomize v5.5's hash suffixes (from kubectl kustomize), references, refusals.
    vectors = [("Secret", {"a": "b"}, "Opaque", "k695gkmbtk"),
               ("ConfigMap", {"a": "b"}, None, "4h2mbtbbt6"),
               ("Secret", {"a": "b<&>"}, "kubernetes.io/tls", "c6ck2fctkc"),
               ("Secret", {"tok": "tok123\n",
                           "ca.crt": "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"},
                "Opaque", "kd2k7d24kd")]
    for kind, data, stype, want in vectors:
        count += 1
        got = kustomize_hash(kind, data, stype)
        if got != want:
            failures.append(f"self-test: kustomize hash of {kind} {data}: {got}, kustomize says {want}")
    with tempfile.TemporaryDirectory(prefix="validate-render-") as tmp:
        t = Path(tmp)
        (t / "base").mkdir()
        (t / "base/kustomization.yaml").write_text("resources: [deploy.yaml]\nnamespace: demo\n")
        (t / "base/deploy.yaml").write_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n"
            "      containers: [{name: c, image: app,\n"
            "                    env: [{name: E, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]\n"
            "      volumes: [{name: v, secret: {secretName: s}}]\n")
        (t / "overlay").mkdir()
        (t / "overlay/kustomization.yaml").write_text(
            "resources: [../base]\nnamespace: demo\nimages: [{name: app, newName: r.example/app, newTag: '2'}]\n"
            "secretGenerator: [{name: s, literals: [k=v]}]\n")
        objs = render(t / "overlay", t)
        d = next(o.doc for o in objs if o.kind == "Deployment")
        s = next(o for o in objs if o.kind == "Secret")
        spec = d["spec"]["template"]["spec"]
        count += 1
        if not (s.name.startswith("s-") and spec["volumes"][0]["secret"]["secretName"] == s.name and
                spec["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] == s.name and
                spec["containers"][0]["image"] == "r.example/app:2" and d["metadata"]["namespace"] == "demo"):
            failures.append(f"self-test: renderer: references, image or namespace not rewritten: {d} {s.doc}")
        if shutil.which("kubectl"):
            f = Findings()
            count += 1
            if compare_with_kubectl(f, t / "overlay", "planted", objs) is not True:
                failures.append(f"self-test: renderer and kubectl kustomize differ on the planted overlay: {f.items}")
            d["metadata"].setdefault("labels", {})["planted"] = "x"
            f = Findings()
            compare_with_kubectl(f, t / "overlay", "planted", objs)
            expect_refused("a rendering that differs from kubectl kustomize's", f, "at metadata.labels")
        (t / "overlay/kustomization.yaml").write_text("resources: [../base]\npatches: [{path: p.yaml}]\n")
        count += 1
        try:
            render(t / "overlay", t)
            failures.append("self-test: renderer: a kustomization field it does not implement was accepted")
        except RenderError:
            pass
        (t / "overlay/kustomization.yaml").write_text(
            "resources: [../base]\nsecretGenerator: [{name: s, files: [missing]}]\n")
        count += 1
        try:
            render(t / "overlay", t)
            failures.append("self-test: renderer: a generator file that does not exist was accepted")
        except RenderError:
            pass
    return count, failures
