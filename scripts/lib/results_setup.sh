# Shared by the results scripts (source it after `set -euo pipefail`): where things are, and the server helpers.
# Sets $root, $build (BUILD, default build), $bin (the sliceguard binary), $model (the bundled base model),
# $data (the bundled medical tasks), $seed (SEED, default 0).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}
bin="$root/$build/src/cli/sliceguard"
model="$root/models/sliceguard-med-tiny"
data="$root/data/medical"
seed=${SEED:-0}
[ -x "$bin" ] || { echo "$bin: not built (make build, or set BUILD)" >&2; exit 1; }
# shellcheck source=server.sh
source "$root/scripts/lib/server.sh"
