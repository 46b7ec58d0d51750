#!/usr/bin/env bash
# npm run lab: bootstrap, `pulumi up` of the default emulated stack, then a summary.
# npm run lab:down: destroy it. Another stack: STACK=<name> npm run lab.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STACK=${STACK:-local}
bash scripts/bootstrap.sh
. .tools/env.sh
[ -f "Pulumi.$STACK.yaml" ] || { echo "no Pulumi.$STACK.yaml: see README (adding a stack)" >&2; exit 1; }
pulumi stack select --create "$STACK" >/dev/null
# A CHAP password the stack file asks for and nobody set yet: generate one, as a secret.
for key in $(node --import tsx scripts/secret-keys.ts "$STACK" chap); do
  pulumi config get --stack "$STACK" "$key" >/dev/null 2>&1 \
    || pulumi config set --secret --stack "$STACK" "$key" -- "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
done
# An appliance's SSH key: generated once per lab and kept as a secret in the stack.
for key in $(node --import tsx scripts/secret-keys.ts "$STACK" appliance); do
  if ! pulumi config get --stack "$STACK" "$key" >/dev/null 2>&1; then
    tmp=$(mktemp -d); ssh-keygen -q -t ed25519 -N '' -C "wanlab $STACK" -f "$tmp/id"
    pulumi config set --secret --stack "$STACK" "$key" -- "$(cat "$tmp/id")"
    rm -rf "$tmp"
  fi
done
case "${1:-up}" in
  up)
    pulumi up --yes --skip-preview --stack "$STACK"
    pulumi stack output --json --stack "$STACK" | node --import tsx scripts/summary.ts
    ;;
  down)
    pulumi destroy --yes --skip-preview --stack "$STACK"
    ;;
  *) echo "usage: lab.sh up|down" >&2; exit 2 ;;
esac
