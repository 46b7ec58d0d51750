#!/usr/bin/env bash
# npm run lab: bootstrap, `pulumi up` of the default emulated stack, then a summary.
# npm run lab:down: destroy it, then sweep what killed tests left behind (runner/sweep.ts).
# Another stack: STACK=<name> npm run lab.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STACK=${STACK:-local}
bash scripts/bootstrap.sh
# shellcheck source=/dev/null # written by the bootstrap
. .tools/env.sh
[ -f "Pulumi.$STACK.yaml" ] || { echo "no Pulumi.$STACK.yaml: see README (adding a stack)" >&2; exit 1; }
pulumi stack select --create "$STACK" >/dev/null
# Secrets the stack file asks for and nobody set yet (a CHAP password, an appliance's
# key): generated once per lab and kept as secrets in the stack.
node --import tsx scripts/secrets.ts "$STACK"
case "${1:-up}" in
  up)
    pulumi up --yes --skip-preview --stack "$STACK"
    pulumi stack output --json --stack "$STACK" | node --import tsx scripts/summary.ts
    ;;
  down)
    pulumi destroy --yes --skip-preview --stack "$STACK"
    # And what killed tests left behind (never a stack of the user's or of a running test).
    node --import tsx runner/sweep.ts || echo "lab.sh: the sweep failed (see above)" >&2
    ;;
  *) echo "usage: lab.sh up|down" >&2; exit 2 ;;
esac
