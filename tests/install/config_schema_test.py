#!/usr/bin/env python3
"""The configuration's JSON Schema (deploy/config/aftershock.schema.json) against the loader.

1. The schema is a valid draft 2020-12 schema, and the shipped configs (aftershock.yaml,
   demo.yaml, and each calendar file's exchanges) validate against it.
2. Its key sets match the loader's exactly: for every mapping the schema describes, a config
   with an unknown key there makes `aftershockd check-config` list the keys it accepts
   ("unknown key ... (expected one of: ...)"); that list must equal the schema's properties.
   So a key added to the loader without the schema (or the reverse) fails here.

Usage: config_schema_test.py AFTERSHOCKD SOURCE_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

# YAML as yaml-cpp and yaml-language-server read it (1.2 core): dates stay strings and only
# true/false are booleans (PyYAML's 1.1 would turn `log_level: off` into false).
class Yaml12Loader(yaml.SafeLoader):
    pass

Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda l, n: l.construct_scalar(n))
Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                                   list("tf"))

UNKNOWN = "zz_not_a_key"
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def resolve(schema, node):
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = schema["$defs"][name]
    return node


def object_locations(schema, node, path):
    """Yields (path, properties) for every object with fixed properties; path items are
    property names, or None for an array's item."""
    node = resolve(schema, node)
    types = node.get("type", [])
    types = types if isinstance(types, list) else [types]
    if "properties" in node:
        yield path, set(node["properties"])
        for name, child in node["properties"].items():
            yield from object_locations(schema, child, path + [name])
    elif "array" in types and "items" in node:
        yield from object_locations(schema, node["items"], path + [None])


def document_at(path):
    """A config whose mapping at `path` holds only the unknown key."""
    inner = {UNKNOWN: 1}
    for step in reversed(path):
        inner = [inner] if step is None else {step: inner}
    if path and path[0] != "rules":
        inner["rules"] = []
    return inner


def loader_keys(aftershockd, workdir, path):
    config = os.path.join(workdir, "probe.yaml")
    with open(config, "w") as f:
        yaml.safe_dump(document_at(path), f)
    run = subprocess.run([aftershockd, "check-config", config], capture_output=True, text=True,
                         timeout=60)
    for line in run.stderr.splitlines():
        m = re.search(r"unknown key '" + UNKNOWN + r"' in (.*?) \(expected one of: (.*)\)$", line)
        if m:
            return m.group(1), set(k.strip() for k in m.group(2).split(","))
    return None, run.stderr


def main():
    aftershockd, source = sys.argv[1], sys.argv[2]
    config_dir = os.path.join(source, "deploy", "config")
    with open(os.path.join(config_dir, "aftershock.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    # 1. The shipped configs validate, and the default names the schema for editors.
    for name in ("aftershock.yaml", "demo.yaml"):
        path = os.path.join(config_dir, name)
        with open(path) as f:
            text = f.read()
        doc = yaml.load(text, Loader=Yaml12Loader)
        for e in validator.iter_errors(doc):
            fail(f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        print(f"ok: {name} validates against the schema")
    with open(os.path.join(config_dir, "aftershock.yaml")) as f:
        first = f.readline().strip()
    if first != "# yaml-language-server: $schema=./aftershock.schema.json":
        fail(f"aftershock.yaml's first line does not name the schema: {first!r}")
    exchange = jsonschema.Draft202012Validator(
        {"$defs": schema["$defs"], "$ref": "#/$defs/exchange"})
    calendars = os.path.join(config_dir, "calendars")
    for name in sorted(os.listdir(calendars)):
        with open(os.path.join(calendars, name)) as f:
            doc = yaml.load(f, Loader=Yaml12Loader)
        if set(doc) != {"exchanges"}:
            fail(f"calendars/{name}: top-level keys {sorted(doc)}, expected [exchanges]")
        for i, ex in enumerate(doc.get("exchanges", [])):
            for e in exchange.iter_errors(ex):
                fail(f"calendars/{name}: exchanges[{i}]/{'/'.join(map(str, e.absolute_path))}: "
                     f"{e.message}")
    print(f"ok: {len(os.listdir(calendars))} calendar files validate")

    # 2. Same keys as the loader, mapping by mapping.
    with tempfile.TemporaryDirectory(prefix="aftershock-schema-") as workdir:
        checked = 0
        for path, schema_keys in object_locations(schema, schema, []):
            where, keys = loader_keys(aftershockd, workdir, path)
            shown = ".".join("[]" if p is None else p for p in path) or "(top level)"
            if where is None:
                fail(f"{shown}: the loader did not reject an unknown key there: {keys}")
                continue
            if keys != schema_keys:
                fail(f"{shown} ({where}): only in the schema: {sorted(schema_keys - keys)}; "
                     f"only in the loader: {sorted(keys - schema_keys)}")
            checked += 1
        print(f"ok: {checked} mappings compared with the loader")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
