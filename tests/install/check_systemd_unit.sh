#!/usr/bin/env bash
# The unit's two systemd-analyze checks, as CI runs them:
#   verify: prints nothing at all (unknown keys and bad values only warn, with exit code 0, so
#           any output fails), with ExecStart pointed at the built binary (verify insists the
#           binary exists, and /usr/bin/aftershockd does not on a build machine);
#   security --offline=yes: overall exposure 2.0 or lower (--threshold is 10x the shown value).
# A template unit (NAME@.service) is checked as one instance of it (NAME@check.service).
# Usage: check_systemd_unit.sh UNIT AFTERSHOCKD. Exit 77 (skipped) without systemd-analyze.
set -euo pipefail
unit=$1
aftershockd=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not found: skipped"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/aftershock-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
file=$(basename "$unit")
name=$file
sed "s|/usr/bin/aftershockd|$aftershockd|g" "$unit" > "$work/$file"
if [[ $file == *@.service ]]; then
  name=${file%@.service}@check.service
  ln -s "$file" "$work/$name"
fi

verify_output=$(cd "$work" && systemd-analyze verify "$work/$name" 2>&1) || {
  echo "systemd-analyze verify failed:"; echo "$verify_output"; exit 1; }
if [ -n "$verify_output" ]; then
  echo "systemd-analyze verify printed something (warnings count as failures):"
  echo "$verify_output"
  exit 1
fi
echo "ok: systemd-analyze verify prints nothing"

security=$(cd "$work" && systemd-analyze security --offline=yes "$work/$name" 2>&1) || true
overall=$(grep -o "Overall exposure level for $name: [0-9.]*" <<<"$security" | awk '{print $NF}')
if [ -z "$overall" ]; then
  echo "no exposure level in systemd-analyze security's output:"; echo "$security"; exit 1
fi
if ! (cd "$work" && systemd-analyze security --offline=yes --threshold=20 "$work/$name" >/dev/null 2>&1); then
  echo "exposure $overall is above 2.0:"; grep '✗' <<<"$security" || true; exit 1
fi
echo "ok: systemd-analyze security --offline=yes rates the unit $overall (at most 2.0)"
