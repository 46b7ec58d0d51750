#!/usr/bin/env bash
# npm test: install what is missing (Debian packages, npm packages, the Pulumi engine),
# then run every test for real in one node --test run: unit and spec tests, the
# real-engine lab tests and the ssh transport test.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh
# What earlier tests left when they were killed (Ctrl-C, SIGKILL): their labs, backends and
# stack files. A parallel run's are left alone.
node --import tsx runner/sweep.ts || echo "test.sh: the sweep failed (see above); the tests run anyway" >&2
# Lab tests share this machine's namespaces: run test files one at a time.
exec node --import tsx --test --test-concurrency=1 \
  test/unit/*.test.ts test/spec/*.test.ts modules/*/*.test.ts test/lab/*.test.ts
