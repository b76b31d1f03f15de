#!/usr/bin/env bash
# `npm start`: the whole service from a fresh clone with nothing configured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x node_modules/.bin/tsx ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing dependencies (npm ci)..."
  npm ci --no-audit --no-fund
fi
if [ ! -f dist/ui/index.html ]; then
  echo "Building the dashboard (npm run build:ui)..."
  npm run --silent build:ui
fi
if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  TEMPORAL_CLI_PATH=$(bash scripts/temporal-cli.sh)
  export TEMPORAL_CLI_PATH
fi
exec node_modules/.bin/tsx scripts/dev-stack.ts "$@"
