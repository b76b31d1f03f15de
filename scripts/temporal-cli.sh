#!/usr/bin/env bash
# Prints the path of a Temporal CLI (v1.5.1 or whatever `temporal` is on PATH), building it from
# source with Go into the git-ignored .tools/bin when there is none. Build output goes to stderr.
set -euo pipefail

version=1.5.1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_bin="$root/.tools/bin"

if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -x "$TEMPORAL_CLI_PATH" ]; then
  echo "$TEMPORAL_CLI_PATH"
  exit 0
fi
if [ -x "$tools_bin/temporal" ]; then
  echo "$tools_bin/temporal"
  exit 0
fi
if command -v temporal >/dev/null 2>&1; then
  command -v temporal
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
No Temporal CLI found (looked at \$TEMPORAL_CLI_PATH, $tools_bin/temporal and PATH), and Go is not
installed to build one. Either
  - install Go 1.25+ (https://go.dev/dl/) and run this script again, or
  - install the Temporal CLI (https://docs.temporal.io/cli#install, e.g. 'brew install temporal'),
    or put a 'temporal' binary into $tools_bin, or
  - point TEMPORAL_ADDRESS at a running Temporal server instead of starting a dev server.
MSG
  exit 1
fi

# Tags from v1.6.0 on carry a replace directive in go.mod, which 'go install pkg@version' refuses.
echo "Building the Temporal CLI v$version with Go into $tools_bin (several minutes the first time)..." >&2
mkdir -p "$tools_bin"
started=$(date +%s)
CGO_ENABLED=0 GOBIN="$tools_bin" go install \
  -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$version" \
  "github.com/temporalio/cli/cmd/temporal@v$version" >&2
echo "Built $("$tools_bin/temporal" --version) in $(( $(date +%s) - started ))s." >&2
echo "$tools_bin/temporal"
