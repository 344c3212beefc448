#!/usr/bin/env python3
"""Proves that validate_responses.py catches what it is for: each planted fault must be a violation, and a log that
exercises too few operations must fail. Runs against the real api/openapi.yaml. Usage: validate_responses_test.py
REPO_ROOT."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate_responses as vr  # noqa: E402

import yaml  # noqa: E402

ROOT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..")
SPEC_PATH = os.path.join(ROOT, "api", "openapi.yaml")
with open(SPEC_PATH, encoding="utf-8") as f:
    SPEC = yaml.safe_load(f)

CLUSTER = {
    "id": "7f6c0a52-3f5e-4b8e-9a55-1d2f3c4b5a69", "name": "aks-1", "provider": "aks", "region": "westeurope",
    "labels": {"env": "prod"}, "taints": [], "updateGroup": "", "state": "registering", "kubernetesVersion": "",
    "nodeImageVersion": "", "lastHeartbeat": None, "resourceVersion": "42",
    "createdAt": "2026-11-23T01:02:03.456Z", "updatedAt": "2026-11-23T01:02:03.456Z",
}


def exchange(method, path, status, body, content_type="application/json", **extra):
    e = {"method": method, "path": path, "status": status, "contentType": content_type, "allow": "",
         "body": body if isinstance(body, str) else json.dumps(body)}
    e.update(extra)
    return e


def problem(path, status, slug):
    return {"type": "urn:fleetd:problem:" + slug, "title": "t", "status": status, "detail": "d", "instance": path,
            "requestId": "r1"}


def violations(*exchanges):
    _, report, _ = vr.validate(SPEC, list(exchanges))
    return [(where, v[1], v[2]) for (where, _, _), v in report.violations.items()]


class ValidatorTest(unittest.TestCase):
    def test_the_spec_has_no_weak_response_schema(self):
        self.assertEqual(violations(), [])

    def test_a_conforming_exchange_passes(self):
        self.assertEqual(violations(exchange("GET", "/v1/clusters/aks-1", 200, CLUSTER)), [])

    def test_a_wrong_type_is_reported_with_its_pointer(self):
        bad = dict(CLUSTER, resourceVersion=42)
        found = violations(exchange("GET", "/v1/clusters/aks-1", 200, bad))
        self.assertEqual(len(found), 1, found)
        self.assertIn("getCluster", found[0][0])
        self.assertEqual(found[0][1], "/resourceVersion")

    def test_a_missing_required_member_and_an_undocumented_one_are_reported(self):
        bad = dict(CLUSTER, surprise=1)
        del bad["state"]
        messages = " ".join(v[2] for v in violations(exchange("GET", "/v1/clusters/aks-1", 200, bad)))
        self.assertIn("'state' is a required property", messages)
        self.assertIn("surprise", messages)

    def test_nullable_formats_and_enums_are_checked(self):
        self.assertEqual(violations(exchange("GET", "/v1/clusters/aks-1", 200,
                                             dict(CLUSTER, lastHeartbeat="2026-11-23T01:02:03Z"))), [])
        for member, value in (("lastHeartbeat", "yesterday"), ("id", "not-a-uuid"), ("state", "sleeping")):
            with self.subTest(member=member):
                found = violations(exchange("GET", "/v1/clusters/aks-1", 200, dict(CLUSTER, **{member: value})))
                self.assertEqual([v[1] for v in found], ["/" + member])

    def test_an_undeclared_status_and_a_wrong_content_type_are_reported(self):
        found = violations(exchange("GET", "/v1/clusters/aks-1", 418, problem("/v1/clusters/aks-1", 418, "internal"),
                                    "application/problem+json"))
        self.assertIn("not declared", found[0][2])
        found = violations(exchange("GET", "/v1/clusters/aks-1", 200, CLUSTER, "text/html"))
        self.assertIn("content type", found[0][2])

    def test_problems_must_name_their_status_and_instance(self):
        ok = exchange("GET", "/v1/clusters/x", 404, problem("/v1/clusters/x", 404, "not-found"),
                      "application/problem+json")
        self.assertEqual(violations(ok), [])
        bad = exchange("GET", "/v1/clusters/x", 404, dict(problem("", 404, "not-found"), status=400),
                       "application/problem+json")
        self.assertEqual(sorted(v[1] for v in violations(bad)), ["/instance", "/status"])

    def test_custom_methods_match_their_own_template(self):
        found = violations(exchange("POST", "/v1/rollouts/r1:start", 200, {"name": "r1"}))
        self.assertTrue(found and all("startRollout" in v[0] for v in found), found)

    def test_a_405_must_carry_the_spec_s_methods_in_allow(self):
        body = problem("/v1/tokens", 405, "method-not-allowed")
        ok = exchange("PUT", "/v1/tokens", 405, body, "application/problem+json", allow="GET, HEAD, POST")
        self.assertEqual(violations(ok), [])
        bad = exchange("PUT", "/v1/tokens", 405, body, "application/problem+json", allow="GET")
        self.assertEqual([v[1] for v in violations(bad)], ["(Allow)"])

    def test_head_has_no_body_and_a_2xx_request_body_must_fit_the_request_schema(self):
        self.assertEqual([v[1] for v in violations(exchange("HEAD", "/v1/clusters/aks-1", 200, "x"))], ["(body)"])
        create = exchange("POST", "/v1/clusters", 201, CLUSTER, requestContentType="application/json",
                          requestBody=json.dumps({"name": "aks-1", "provider": "gcp"}))
        found = violations(create)
        self.assertEqual([v[1] for v in found], ["/provider"])
        self.assertIn("request", found[0][0])

    def test_repeats_over_array_items_are_counted_once(self):
        bad = {"items": [dict(CLUSTER, resourceVersion=1), dict(CLUSTER, resourceVersion=2)]}
        _, report, _ = vr.validate(SPEC, [exchange("GET", "/v1/clusters", 200, bad)])
        self.assertEqual(len(report.violations), 1)
        self.assertEqual(len(report), 2)

    def test_main_fails_on_a_violation_and_on_too_few_operations(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "log.jsonl")

            def run(lines, minimum):
                with open(log, "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(e) + "\n" for e in lines)
                return vr.main(["--spec", SPEC_PATH, "--log", log, "--min-operations", str(minimum)])

            good = [exchange("GET", "/v1/clusters/aks-1", 200, CLUSTER), exchange("GET", "/healthz", 200,
                                                                                 {"status": "ok"})]
            self.assertEqual(run(good, 2), 0)
            self.assertEqual(run(good, 3), 1)
            self.assertEqual(run([], 1), 1)
            self.assertEqual(run(good + [exchange("GET", "/readyz", 200, {"status": "ok"})], 2), 1)


if __name__ == "__main__":
    unittest.main(verbosity=1)
