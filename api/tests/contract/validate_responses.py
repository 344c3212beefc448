#!/usr/bin/env python3
"""Validates fleetd's real HTTP exchanges against api/openapi.yaml (issue #16, item 6).

The integration tests' client (integration-tests/fleetd_process.cpp) appends each exchange to the file named by
FLEET_CONTRACT_LOG as one JSON line: {"method", "path", "status", "contentType", "allow", "body",
"requestContentType"?, "requestBody"?}. Each one is matched to the spec's path template, method and status (then
"4XX", then "default"), and its body is validated against the response schema, converted from OpenAPI 3.0 to JSON
Schema (draft 4) with every $ref inlined. Responses are held to a closed world: an object schema that lists its
properties accepts no others, so that a member fleetd sends and the spec does not describe is a violation too. A
2xx exchange's request body is validated against the request schema as written (fleetd accepted it, so the spec
must). The spec itself is checked for weak response schemas: an object with neither properties nor an explicit
additionalProperties, or an empty schema.

Exit status 1 on any violation, or when fewer than --min-operations distinct operations were exercised (so that an
empty or truncated log can never pass). Needs Python 3 with PyYAML and jsonschema (Debian 12: python3-yaml,
python3-jsonschema 4.10); works with later jsonschema releases too.
"""
import argparse
import collections
import copy
import json
import re
import sys
import urllib.parse

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Members of an OpenAPI 3.0 Schema Object that JSON Schema lacks or that only annotate.
ANNOTATIONS = ("example", "examples", "xml", "externalDocs", "deprecated", "discriminator", "readOnly",
               "writeOnly", "nullable")
MAX_MESSAGE = 300

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def format_checker():
    """The formats the spec uses, checked without optional packages (jsonschema's own date-time check needs one)."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value):
        return not isinstance(value, str) or bool(RFC3339.match(value))

    @checker.checks("uuid")
    def _uuid(value):
        return not isinstance(value, str) or bool(UUID.match(value))

    @checker.checks("int64")
    def _int64(value):
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    @checker.checks("int32")
    def _int32(value):
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    return checker


class SpecError(Exception):
    pass


class Converter:
    """OpenAPI 3.0 Schema Objects → self-contained JSON Schema (draft 4), $refs inlined."""

    def __init__(self, spec):
        self.spec = spec

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise SpecError("only local $refs are supported: " + ref)
        node = self.spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SpecError("unresolved $ref " + ref)
            node = node[part]
        return node

    def deref(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            if node["$ref"] in seen:
                raise SpecError("$ref cycle at " + node["$ref"])
            seen.add(node["$ref"])
            node = self.resolve(node["$ref"])
        return node

    def convert(self, schema, closed, stack=()):
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref in stack:
                raise SpecError("recursive schema " + ref + " (not supported by this validator)")
            return self.convert(self.resolve(ref), closed, stack + (ref,))
        if closed and "allOf" in schema:
            schema = self.merge_all_of(schema, stack)
        out = {}
        for key, value in schema.items():
            if key in ANNOTATIONS:
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {name: self.convert(sub, closed, stack) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not"):
                out[key] = self.convert(value, closed, stack)
            elif key in ("allOf", "oneOf", "anyOf"):
                out[key] = [self.convert(sub, closed, stack) for sub in value]
            else:
                out[key] = copy.deepcopy(value)
        if closed and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if schema.get("nullable") is True:
            out = self.nullable(out)
        return out

    def merge_all_of(self, schema, stack):
        """allOf of object schemas as one object: closing each part alone would refuse the others' members."""
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        properties = dict(merged.get("properties", {}))
        required = list(merged.get("required", []))
        for part in schema["allOf"]:
            ref_stack = stack
            if isinstance(part, dict) and "$ref" in part:
                ref_stack = stack + (part["$ref"],)
            part = self.deref(part)
            if "allOf" in part:
                part = self.merge_all_of(part, ref_stack)
            if any(k in part for k in ("oneOf", "anyOf", "not")) or part.get("type", "object") != "object":
                return schema  # not a plain object: leave the allOf as it is (open world)
            properties.update(part.get("properties", {}))
            required += [r for r in part.get("required", []) if r not in required]
            for key, value in part.items():
                if key not in ("properties", "required", "type", "description") and key not in merged:
                    merged[key] = value
        merged["type"] = "object"
        merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    @staticmethod
    def nullable(out):
        if "type" in out:
            t = out["type"]
            out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = list(out["enum"]) + [None]
            return out
        return {"anyOf": [out, {"type": "null"}]}


def weak_schemas(converter, schema, where, stack=()):
    """Response schemas that say nothing: `{}` or `type: object` without properties or additionalProperties."""
    found = []
    if not isinstance(schema, dict):
        return found
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in stack:
            return found
        return weak_schemas(converter, converter.resolve(ref), ref, stack + (ref,))
    combined = any(k in schema for k in ("allOf", "oneOf", "anyOf", "not", "$ref"))
    meaningful = {k for k in schema if k not in ANNOTATIONS and k != "description"}
    if not meaningful:
        found.append(where + ": empty schema")
    elif schema.get("type") == "object" and not combined and "properties" not in schema \
            and "additionalProperties" not in schema:
        found.append(where + ": object without properties (write them out, or say additionalProperties: true "
                     "and why in the description)")
    for key, value in schema.items():
        if key in ("properties", "patternProperties"):
            for name, sub in value.items():
                found += weak_schemas(converter, sub, where + "/" + key + "/" + name, stack)
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            found += weak_schemas(converter, value, where + "/" + key, stack)
        elif key in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(value):
                found += weak_schemas(converter, sub, "%s/%s/%d" % (where, key, i), stack)
    return found


class Operation:
    def __init__(self, template, method, op, path_item):
        self.template = template
        self.method = method
        self.op = op
        self.id = op.get("operationId", method.upper() + " " + template)
        self.path_item = path_item


class Contract:
    def __init__(self, spec):
        self.spec = spec
        self.converter = Converter(spec)
        self.checker = format_checker()
        self.templates = []  # (literal length, regex, template, path item)
        for template, item in spec.get("paths", {}).items():
            pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]+\})", template))
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            self.templates.append((literal, re.compile("^" + pattern + "$"), template, item))
        self.templates.sort(key=lambda t: -t[0])
        self.operations = {}
        for template, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if method in METHODS:
                    self.operations[(method, template)] = Operation(template, method, op, item)
        self.validators = {}
        problem = spec.get("components", {}).get("schemas", {}).get("Problem")
        self.problem_schema = self.compile(problem, True) if problem else None

    def compile(self, schema, closed):
        key = (json.dumps(schema, sort_keys=True, default=str), closed)
        if key not in self.validators:
            converted = self.converter.convert(schema, closed)
            jsonschema.Draft4Validator.check_schema(converted)
            self.validators[key] = jsonschema.Draft4Validator(converted, format_checker=self.checker)
        return self.validators[key]

    def match(self, path):
        for _, regex, template, item in self.templates:
            if regex.match(path):
                return template, item
        return None, None

    def weak_response_schemas(self):
        found = []
        for (method, template), operation in sorted(self.operations.items()):
            for status, response in operation.op.get("responses", {}).items():
                response = self.converter.deref(response)
                for media, content in response.get("content", {}).items():
                    if "json" not in media or "schema" not in content:
                        continue
                    where = "%s %s %s %s" % (method.upper(), template, status, media)
                    found += weak_schemas(self.converter, content["schema"], where)
        return sorted(set(found))


def pointer(parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts) if parts else "(root)"


def schema_errors(validator, document):
    """(JSON pointer, kind, message) of each error; kind groups repeats of one error over the items of an array."""
    out = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        deepest = error
        while deepest.context:
            deepest = jsonschema.exceptions.best_match(deepest.context)
        message = deepest.message
        if deepest is not error:
            message = "%s (at %s, one reason: %s)" % (error.validator + " failed", pointer(deepest.absolute_path),
                                                      deepest.message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        kind = "%s@%s" % (error.validator, "/".join(str(p) for p in error.relative_schema_path))
        out.append((pointer(error.absolute_path), kind, message))
    return out


def media_type(value):
    return value.split(";")[0].strip().lower()


def find_response(responses, status):
    for key in (str(status), "%dXX" % (status // 100), "%dxx" % (status // 100), "default"):
        if key in responses:
            return key, responses[key]
    return None, None


class Report:
    """Violations, a repeat of one (the same error at another index of an array, in another exchange) counted once."""

    def __init__(self):
        self.violations = collections.OrderedDict()  # (where, pointer pattern, kind) → [count, pointer, message, path]

    def add(self, where, path, ptr, message, kind=None):
        key = (where, re.sub(r"/[0-9]+(?=/|$)", "/*", ptr), kind or message)
        if key in self.violations:
            self.violations[key][0] += 1
        else:
            self.violations[key] = [1, ptr, message, path]

    def __len__(self):
        return sum(v[0] for v in self.violations.values())


def check_body(contract, report, where, path, content_types, content_type, body, closed):
    """The body against the declared media types; the parsed document when it was JSON."""
    media = media_type(content_type)
    if not content_types:
        if body:
            report.add(where, path, "(body)", "a body of %d bytes where the spec declares none" % len(body))
        return
    if media not in content_types:
        wild = [m for m in content_types if m.endswith("/*") and media.startswith(m[:-1])] or \
               (["*/*"] if "*/*" in content_types else [])
        if not wild:
            report.add(where, path, "(content-type)",
                       "content type %r is not one of %s" % (content_type, sorted(content_types)))
            return
        media = wild[0]
    schema = content_types[media].get("schema") if isinstance(content_types[media], dict) else None
    if schema is None:
        return
    if "json" in media:
        try:
            document = json.loads(body)
        except ValueError as e:
            report.add(where, path, "(body)", "not JSON: %s" % e)
            return
    else:
        document = body
    for ptr, kind, message in schema_errors(contract.compile(schema, closed), document):
        report.add(where, path, ptr, message, kind)
    return document


def check_exchange(contract, report, coverage, exchange):
    method = exchange["method"].lower()
    full_path = exchange["path"]
    path = full_path.split("?", 1)[0]
    status = int(exchange["status"])
    body = exchange.get("body", "")
    content_type = exchange.get("contentType", "")
    template, item = contract.match(path)
    label = "%s %s → %d" % (exchange["method"], template or path, status)
    if template is None:
        # Not an operation of the spec: only the router's 404 problem may answer it.
        if status == 404 and contract.problem_schema is not None:
            check_body(contract, report, label + " (unknown path)", full_path,
                       {"application/problem+json": {"schema": contract.spec["components"]["schemas"]["Problem"]}},
                       content_type, body, True)
        else:
            report.add(label, full_path, "(path)", "no path of the spec matches")
        return
    lookup = "get" if method == "head" else method
    if lookup not in item:
        # docs: a method a path does not support answers 405 method-not-allowed with Allow.
        allowed = sorted(m.upper() for m in item if m in METHODS)
        if "GET" in allowed:
            allowed = sorted(allowed + ["HEAD"])
        if status != 405:
            report.add(label, full_path, "(status)", "method not in the spec, so 405 was expected")
            return
        got = sorted(m.strip().upper() for m in exchange.get("allow", "").split(",") if m.strip())
        if got != allowed:
            report.add(label, full_path, "(Allow)", "Allow %s, the spec's methods are %s" % (got, allowed))
        check_body(contract, report, label + " (method not allowed)", full_path,
                   {"application/problem+json": {"schema": contract.spec["components"]["schemas"]["Problem"]}},
                   content_type, body, True)
        coverage["405"].add(template)
        return
    operation = contract.operations[(lookup, template)]
    label = "%s %s (%s) → %d" % (exchange["method"], template, operation.id, status)
    key, response = find_response(operation.op.get("responses", {}), status)
    if response is None:
        report.add(label, full_path, "(status)", "status %d is not declared for this operation" % status)
        return
    if method == "head":
        if body:
            report.add(label, full_path, "(body)", "HEAD answered with a body")
        coverage["head"].add(operation.id)
        return
    coverage["operations"][operation.id].add(status)
    response = contract.converter.deref(response)
    document = check_body(contract, report, label, full_path, response.get("content", {}), content_type, body, True)
    if isinstance(document, dict) and media_type(content_type) == "application/problem+json":
        if document.get("status") != status:
            report.add(label, full_path, "/status", "problem status %r differs from HTTP %d" %
                       (document.get("status"), status))
        if document.get("instance") not in (path, urllib.parse.unquote(path, errors="replace")):
            report.add(label, full_path, "/instance", "problem instance %r, expected the request path %r" %
                       (document.get("instance"), path))
    request_body = exchange.get("requestBody")
    if 200 <= status < 300 and request_body and "requestBody" in operation.op:
        request = contract.converter.deref(operation.op["requestBody"])
        request_type = exchange.get("requestContentType") or "application/json"
        check_body(contract, report, label + " request", full_path, request.get("content", {}), request_type,
                   request_body, False)


def validate(spec, exchanges):
    contract = Contract(spec)
    report = Report()
    coverage = {"operations": collections.defaultdict(set), "head": set(), "405": set()}
    for weak in contract.weak_response_schemas():
        report.add("spec", "api/openapi.yaml", "(schema)", "weak response schema: " + weak)
    for exchange in exchanges:
        check_exchange(contract, report, coverage, exchange)
    return contract, report, coverage


def read_log(path):
    exchanges = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                exchanges.append(json.loads(line))
            except ValueError as e:
                raise SystemExit("%s:%d: not a JSON line: %s" % (path, number, e))
    return exchanges


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", required=True, help="api/openapi.yaml")
    parser.add_argument("--log", required=True, help="the FLEET_CONTRACT_LOG file the integration tests wrote")
    parser.add_argument("--min-operations", type=int, default=1,
                        help="fail when fewer distinct operations (method + path template) were exercised")
    parser.add_argument("--list-uncovered", action="store_true", help="name the operations no exchange reached")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    exchanges = read_log(args.log)
    contract, report, coverage = validate(spec, exchanges)
    for (where, _, _), (count, ptr, message, example) in report.violations.items():
        times = " (%d times)" % count if count > 1 else ""
        print("VIOLATION %s: %s: %s%s [%s]" % (where, ptr, message, times, example))
    exercised = coverage["operations"]
    total = len(contract.operations)
    with_2xx = sum(1 for codes in exercised.values() if any(200 <= c < 300 for c in codes))
    print("contract: %d exchanges, %d violations; operations exercised %d/%d (%d with a 2xx answer), "
          "HEAD on %d, 405 on %d paths" % (len(exchanges), len(report), len(exercised), total, with_2xx,
                                           len(coverage["head"]), len(coverage["405"])))
    if args.list_uncovered:
        for op in sorted(o.id for o in contract.operations.values() if o.id not in exercised):
            print("  not exercised: " + op)
    failed = len(report) > 0
    if len(exercised) < args.min_operations:
        print("contract: FAIL: only %d operations exercised, at least %d required (an empty or truncated log?)" %
              (len(exercised), args.min_operations))
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
