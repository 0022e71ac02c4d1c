#!/usr/bin/env bash
# `cmake --install` into a DESTDIR, then the installed daemon replays the installed demo
# capture with the installed demo config, and the installed checker accepts the alerts.
# Also: the default config validates, the unit names the installed binary and config, and
# --version runs. Usage: install_test.sh BUILD_DIR BINDIR CONFIG_DIR UNIT_DIR DATADIR
set -euo pipefail
build=$1 bindir=$2 config_dir=$3 unit_dir=$4 datadir=$5
dest=$(mktemp -d "${TMPDIR:-/tmp}/aftershock-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"
for f in "$bindir/aftershockd" "$bindir/aftershock-feedsim" "$config_dir/aftershock.yaml" \
         "$config_dir/aftershock.schema.json" "$config_dir/calendars/xnys.yaml" \
         "$unit_dir/aftershock.service" "$unit_dir/aftershock@.service" \
         "$datadir/aftershock/demo/demo.yaml" \
         "$datadir/aftershock/demo/deepseek-2025-01-27/capture.ndjson"; do
  [ -e "$dest$f" ] || { echo "not installed: $f"; find "$dest" -maxdepth 4 | sort; exit 1; }
done
echo "ok: installed layout"
grep -q "^ExecStart=$bindir/aftershockd run --config $config_dir/aftershock.yaml" \
  "$dest$unit_dir/aftershock.service" || { echo "the unit does not name the installed paths"; \
  grep ^Exec "$dest$unit_dir/aftershock.service"; exit 1; }
echo "ok: the unit runs $bindir/aftershockd with $config_dir/aftershock.yaml"

daemon="$dest$bindir/aftershockd"
"$daemon" --version | grep -q "^commit:" || { echo "--version lacks the commit"; exit 1; }
"$daemon" check-config "$dest$config_dir/aftershock.yaml"
demo="$dest$datadir/aftershock/demo"
"$daemon" replay --config "$demo/demo.yaml" --alerts-out "$dest/alerts.jsonl" \
  "$demo/deepseek-2025-01-27/capture.ndjson" 2>"$dest/replay.err" || { cat "$dest/replay.err"; exit 1; }
python3 "$demo/deepseek-2025-01-27/check_alerts.py" "$demo/deepseek-2025-01-27/expected.json" \
  "$dest/alerts.jsonl"
echo "ok: the installed daemon replays the installed demo capture: $(wc -l <"$dest/alerts.jsonl") alerts"
