#!/usr/bin/env python3
"""check-schema.py SOURCE_DIR — docs/profile.schema.json describes the profiles Latchkey reads.

Checks, against the schema (JSON Schema draft 2020-12, Python's jsonschema):
  1. the schema itself is a valid draft 2020-12 schema;
  2. every built-in profile, sdk/profiles/*.json, validates;
  3. every profile shown in the docs validates. The rule for "a profile shown in the docs": a
     fenced block opened with ```json in docs/*.md whose content is, on its own, a JSON object
     with a top-level "name". Other json blocks are fragments ("refresh": {…}, a list of rules)
     and are skipped. Placeholders in angle brackets inside strings ("<client id>") stand for
     the reader's own values: each is replaced by "placeholder" first;
  4. a few invalid profiles, each one the parser refuses, are refused by the schema too.
Exits 1 naming every file, block and key that fails.
"""
import glob
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check-schema: Python's jsonschema is missing (Debian: python3-jsonschema; "
             "scripts/deps.sh installs it)")

FENCE = re.compile(r"^```json[ \t]*\n(.*?)^```", re.M | re.S)
PLACEHOLDER = re.compile(r"<[^<>\"\n]*>")


def doc_profiles(docs_dir):
    """(where, profile) for every json block of docs/*.md that is a profile."""
    for path in sorted(glob.glob(os.path.join(docs_dir, "*.md"))):
        text = open(path, encoding="utf-8").read()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            try:
                value = json.loads(PLACEHOLDER.sub("placeholder", match.group(1)))
            except json.JSONDecodeError:
                continue  # a fragment, not a document of its own
            if isinstance(value, dict) and "name" in value:
                yield f"{os.path.relpath(path, os.path.dirname(docs_dir))}:{line}", value


# Each is refused by ServerProfile::fromJson (tests/auto/profile) and must be by the schema.
LOGIN = {"path": "/login"}
TOKENS = {"access": "/a", "refresh": {"in": "body", "pointer": "/r"}}
REFRESH = {"path": "/r", "send": {"in": "body", "name": "r"}}
INVALID = {
    "no name": {"login": LOGIN, "tokens": TOKENS},
    "no login": {"name": "x", "tokens": TOKENS},
    "no tokens": {"name": "x", "login": LOGIN},
    "unknown top-level key": {"name": "x", "logn": LOGIN, "login": LOGIN, "tokens": TOKENS},
    "unknown endpoint key": {"name": "x", "login": {"path": "/l", "verb": "PUT"}, "tokens": TOKENS},
    "send on login": {"name": "x", "login": {"path": "/l", "send": {"in": "bearer"}},
                      "tokens": TOKENS},
    "rejectedWhen on logout": {"name": "x", "login": LOGIN, "tokens": TOKENS,
                               "logout": {"path": "/o", "rejectedWhen": [{"status": 401}]}},
    "version 2": {"name": "x", "version": 2, "login": LOGIN, "tokens": TOKENS},
    "method GET": {"name": "x", "login": {"path": "/l", "method": "GET"}, "tokens": TOKENS},
    "encoding xml": {"name": "x", "login": {"path": "/l", "encoding": "xml"}, "tokens": TOKENS},
    "path without slash": {"name": "x", "login": {"path": "api/login"}, "tokens": TOKENS},
    "access not a pointer": {"name": "x", "login": LOGIN, "tokens": {"access": "access_token"}},
    "refresh without tokens.refresh": {"name": "x", "login": LOGIN, "refresh": REFRESH,
                                       "tokens": {"access": "/a"}},
    "refresh without send": {"name": "x", "login": LOGIN, "refresh": {"path": "/r"},
                             "tokens": TOKENS},
    "send.in pigeon": {"name": "x", "login": LOGIN, "tokens": TOKENS,
                       "refresh": {"path": "/r", "send": {"in": "pigeon"}}},
    "tokens.refresh in bearer": {"name": "x", "login": LOGIN,
                                 "tokens": {"access": "/a", "refresh": {"in": "bearer"}}},
    "rejectedWhen status 500": {"name": "x", "login": LOGIN, "tokens": TOKENS,
                                "refresh": dict(REFRESH, rejectedWhen=[{"status": 500}])},
    "rejectedWhen values without pointer": {
        "name": "x", "login": LOGIN, "tokens": TOKENS,
        "refresh": dict(REFRESH, rejectedWhen=[{"status": 400, "values": ["invalid_grant"]}])},
    "unknown oidc key": {"name": "x", "oidc": {"clientID": "a"}},
    "oidc clientAuth jwt": {"name": "x", "oidc": {"clientAuth": "private_key_jwt"}},
    "unknown oidc endpoint": {"name": "x", "oidc": {"endpoints": {"jwks": "https://h/jwks"}}},
    "oidc issuer relative": {"name": "x", "oidc": {"issuer": "/realms/shop"}},
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-schema.py SOURCE_DIR")
    source = sys.argv[1]
    schema = json.load(open(os.path.join(source, "docs", "profile.schema.json"), encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    def check(where, profile):
        for error in validator.iter_errors(profile):
            key = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            failures.append(f"{where}: {key}: {error.message}")

    builtins = sorted(glob.glob(os.path.join(source, "sdk", "profiles", "*.json")))
    for path in builtins:
        check(os.path.relpath(path, source), json.load(open(path, encoding="utf-8")))
    examples = list(doc_profiles(os.path.join(source, "docs")))
    for where, profile in examples:
        check(where, profile)
    for what, profile in INVALID.items():
        if validator.is_valid(profile):
            failures.append(f"invalid profile \"{what}\" passes the schema")
    if not builtins or not examples:
        failures.append(f"found {len(builtins)} built-in profiles and {len(examples)} in the "
                        "docs: expected some of each")
    for failure in failures:
        print("check-schema:", failure, file=sys.stderr)
    if failures:
        return 1
    print(f"check-schema: {len(builtins)} built-in profiles and {len(examples)} profiles in the "
          f"docs validate; {len(INVALID)} invalid profiles are refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
