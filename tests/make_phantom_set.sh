#!/bin/sh
# A phantom set for the tests, generated once per generator version and options into a cache that
# every build tree of this checkout shares (../.cache/test-data by default), so relinking the
# generator without changing what it writes (any change to the core library relinks it) costs
# nothing, and two build trees never generate the same set at the same time (flock).
#   make_phantom_set.sh SET_DIR GENERATOR ARGS...   (ARGS without --out; the set is SET_DIR)
set -eu
set_dir=$1 generator=$2
shift 2
stamp="$("$generator" --version) $*"
mkdir -p "$(dirname "$set_dir")"
exec 9>"$set_dir.lock"
flock 9
if [ -f "$set_dir/manifest.json" ] && [ "$(cat "$set_dir.stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi
rm -rf "$set_dir" "$set_dir.stamp"
"$generator" "$@" --out "$set_dir"
printf '%s\n' "$stamp" >"$set_dir.stamp"
