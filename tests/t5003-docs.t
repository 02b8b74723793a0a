#!/usr/bin/env bash
# t5003-docs: what src/config_def.h generates matches the files that hold
# it (README table, sendcache(7), sendcache-run(1), sendcache-run's
# options and --help; and the counters in sendcache-stat(1)), a drifted
# file is caught, and every variable's sendcache-run option exports it.
. "$(dirname "$0")/tap/tap.sh"
tap_require_lib
if [[ $tap_preload != "$tap_lib" ]]; then
	skip_all "sendcache-run cannot put TAP_PRELOAD's sanitizer runtime first"
fi
gen=$tap_build/gen-docs
[[ -x $gen && -x $tap_build/sendcache-stat ]] ||
	bail_out "build/gen-docs or build/sendcache-stat missing (run make test)"
# One test per variable, from sendcache-run --help's lines for them.
mapfile -t lines < <("$gen" run-help)
plan $((3 + ${#lines[@]}))
dir=$(tap_tmpdir)

out=$("$tap_top/scripts/gen-docs" --check "$tap_build" 2>&1)
is "$?:$out" "0:" "every generated block matches the lists"

# A copy of the files with one table line changed: --check names it and
# changes nothing.
mkdir -p "$dir/top/scripts" "$dir/top/man"
cp "$tap_top/scripts/gen-docs" "$tap_top/scripts/sendcache-run" "$dir/top/scripts/"
cp "$tap_top/man/"*.[17] "$dir/top/man/"
sed 's/^| `SENDCACHE_STATS` | 1 | .*/| `SENDCACHE_STATS` | 1 | stale words |/' \
	"$tap_top/README.md" >"$dir/top/README.md"
cp "$dir/top/README.md" "$dir/before"
"$dir/top/scripts/gen-docs" --check "$tap_build" >"$dir/out" 2>&1
is "$?:$(<"$dir/out")" \
	"1:gen-docs: README.md differs from the lists (run scripts/gen-docs)" \
	"a changed README table is caught, and only it"
cmp -s "$dir/before" "$dir/top/README.md"
is "$?" 0 "--check leaves the file as it was"

# Every option, given alone to sendcache-run in front of env, exports its
# variable: a flag its 0 or 1, an option with a value that value.
for line in "${lines[@]}"; do
	read -r opt _ <<<"$line"
	var=${line##*(}
	var=${var%)}
	if [[ $var == *=* ]]; then
		args=("$opt") want=$var
	else
		args=("$opt" /t5003/value) want=$var=/t5003/value
	fi
	env=$("$tap_top/scripts/sendcache-run" --no-verify --settle 0 \
		"${args[@]}" -- env 2>/dev/null)
	ok "$opt exports $want" grep -qx -- "$want" <<<"$env"
done
