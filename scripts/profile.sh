#!/usr/bin/env bash
# Counts where a `tocsin run` spends its instructions (and, on request, its mispredicted
# branches and cache misses) with callgrind, per function and per source line.
#
#   scripts/profile.sh [options] -- <tocsin run arguments>
#   scripts/profile.sh --events 300000 --branches --lines releaseBuffered -- rules -i w1-300k.ndjson
#
# Options:
#   --binary PATH    the tocsin binary (default .build/release/tocsin: `swift build -c release`)
#   --events N       divide every count by N, for figures per event (default 1)
#   --branches       callgrind's branch model too (Bc Bcm Bi Bim: conditional and indirect
#                    branches, and how many it mispredicts)
#   --cache          callgrind's cache model too, with a 48 KiB L1 and a 2 MiB last level (D1mr
#                    DLmr …; it ignores prefetch instructions, so it shows the lines a prefetch is
#                    there for)
#   --top N          functions to list (default 25)
#   --sort EVENT     the count the function list is sorted by (default Ir; e.g. Bcm, Bim, DLmr)
#   --lines REGEX    also each source line's self count inside the functions whose mangled name
#                    matches REGEX (an extended regular expression), for the count --sort names
#   --files          also the counts per source file, over every function: code inlined into
#                    another function counts for the file it was written in (the reorder
#                    buffer's, inlined into the release loop, is not under its own functions)
#   --out FILE       keep callgrind's output here (default: a temporary file, removed)
#
# Why the steps: valgrind 3.19 (Debian 12) cannot read Swift's DWARF 5, so callgrind runs on a
# copy without debug information (`strip -g` keeps the code and symbols where they were) and
# addresses are mapped to source lines afterwards with `addr2line` on the original binary.
# `TOCSIN_HEAP_HUGE_PAGES=0` keeps `tocsin run` from re-executing itself to put malloc's heap
# on huge pages should the caller's environment opt in (docs/operations.md): the new process
# would run outside valgrind. Counts are deterministic: compare two builds on the same input
# with them when wall-clock time cannot resolve a difference (docs/performance.md).
set -euo pipefail

binary=.build/release/tocsin
events=1
top=25
sort_event=Ir
lines_regex=""
by_files=""
keep=""
sims=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --branches) sims+=(--branch-sim=yes); shift ;;
    --cache) sims+=(--cache-sim=yes --D1=49152,12,64 --LL=2097152,16,64); shift ;;
    --top) top=$2; shift 2 ;;
    --sort) sort_event=$2; shift 2 ;;
    --lines) lines_regex=$2; shift 2 ;;
    --files) by_files=1; shift ;;
    --out) keep=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "profile.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "profile.sh: give the tocsin run arguments after '--' (see --help)" >&2; exit 2; }
[[ -x "$binary" ]] || { echo "profile.sh: no binary at $binary (build it: swift build -c release --product tocsin)" >&2; exit 2; }
for tool in valgrind callgrind_annotate strip addr2line; do
  command -v "$tool" > /dev/null || { echo "profile.sh: needs $tool (apt-get install -y valgrind binutils)" >&2; exit 2; }
done
[[ "$events" =~ ^[1-9][0-9]*$ ]] || { echo "profile.sh: --events takes a positive count" >&2; exit 2; }
# A count the requested models do not record is refused before the run, not after it.
case "$sort_event" in
  Ir) ;;
  Bc | Bcm | Bi | Bim) [[ " ${sims[*]} " == *" --branch-sim=yes "* ]] || { echo "profile.sh: --sort $sort_event needs --branches" >&2; exit 2; } ;;
  Dr | Dw | I1mr | D1mr | D1mw | ILmr | DLmr | DLmw) [[ " ${sims[*]} " == *" --cache-sim=yes "* ]] || { echo "profile.sh: --sort $sort_event needs --cache" >&2; exit 2; } ;;
  *) echo "profile.sh: --sort takes Ir, a branch count (Bc Bcm Bi Bim) or a cache count (Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw)" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${keep:-$work/callgrind.out}
strip -g -o "$work/tocsin" "$binary"

TOCSIN_HEAP_HUGE_PAGES=0 valgrind --tool=callgrind --dump-instr=yes --compress-strings=no --compress-pos=no \
  "${sims[@]}" --callgrind-out-file="$out" "$work/tocsin" run "$@" > /dev/null 2> "$work/valgrind.err" || {
  echo "profile.sh: the run failed; valgrind's and tocsin's messages:" >&2
  tail -20 "$work/valgrind.err" >&2
  exit 1
}
grep -E '^==[0-9]+== (I   refs|D1  misses|LLd misses|Branches|Mispredicts)' "$work/valgrind.err" | sed 's/^==[0-9]*== /total: /'

# The counts callgrind recorded, in the order its cost lines list them.
read -r -a names < <(grep -m1 '^events:' "$out" | cut -d' ' -f2-)
column=-1
for i in "${!names[@]}"; do [[ "${names[$i]}" == "$sort_event" ]] && column=$i; done
[[ $column -ge 0 ]] || { echo "profile.sh: no count '$sort_event' in this profile (it has: ${names[*]})" >&2; exit 2; }

demangle() { if command -v swift > /dev/null; then swift demangle --simplified --compact; else cat; fi; }

echo
echo "functions by $sort_event (self; per event over $events events):"
# Self counts per function: every cost line but the one after each `calls=` line (that one is
# the call's inclusive cost, charged to the callee).
awk -v col="$column" -v n="${#names[@]}" '
  /^fn=/ { fn = substr($0, 4); skip = 0; next }
  /^calls=/ { skip = 1; next }
  /^0x/ {
    if (skip) { skip = 0; next }
    for (i = 0; i < n; i++) total[fn, i] += $(i + 3)
    seen[fn] = 1
  }
  END { for (f in seen) { printf "%s", f; for (i = 0; i < n; i++) printf "\t%d", total[f, i]; printf "\n" } }
' "$out" | sort -t$'\t' -k$((column + 2)),$((column + 2))nr > "$work/all.tsv"
# Not `sort | head`: under `pipefail`, `head` closing the pipe early fails the script.
head -n "$top" "$work/all.tsv" > "$work/functions.tsv"
printf '%10s' "${names[@]}"; printf '  %s\n' "function"
cut -f1 "$work/functions.tsv" | demangle | paste - <(cut -f2- "$work/functions.tsv") |
  awk -F'\t' -v ev="$events" '{ for (i = 2; i <= NF; i++) printf "%10.1f", $i / ev; printf "  %s\n", substr($1, 1, 100) }'

if [[ -n "$by_files" ]]; then
  echo
  echo "source files by $sort_event (self, inlined code under its own file; per event; shared libraries as \"(library)name\"):"
  # Addresses in tocsin itself are mapped to files; those in a shared library count for the
  # library (its addresses mean nothing to addr2line on tocsin).
  awk -v col="$column" -v self="$work/tocsin" -v libraries="$work/libraries" '
    /^ob=/ { ob = substr($0, 4); next }
    /^fn=/ { skip = 0; next }
    /^calls=/ { skip = 1; next }
    /^0x/ {
      if (skip) { skip = 0; next }
      if (ob == self) { cost[$1] += $(col + 3) } else { n = split(ob, part, "/"); lib[part[n]] += $(col + 3) }
    }
    END {
      for (a in cost) if (cost[a] > 0) print a, cost[a]
      for (l in lib) if (lib[l] > 0) print l, lib[l] > libraries
    }
  ' "$out" > "$work/all-addresses"
  { cut -d' ' -f1 "$work/all-addresses" | addr2line -e "$binary" |
      sed -E 's| \(discriminator [0-9]+\)$||; s|:[0-9?]+$||; s|.*/Sources/||' |
      paste -d' ' - <(cut -d' ' -f2 "$work/all-addresses")
    [[ -f "$work/libraries" ]] && sed 's/^/(library) /; s/^(library) \([^ ]*\) /(library)\1 /' "$work/libraries"
  } | awk -v ev="$events" '{ c[$1] += $2 } END { for (f in c) printf "%12.1f  %s\n", c[f] / ev, f }' |
    sort -nr > "$work/files"
  head -n "$top" "$work/files"
fi

[[ -n "$lines_regex" ]] || exit 0
echo
echo "source lines of functions matching /$lines_regex/ by $sort_event (self; per event):"
awk -v col="$column" -v re="$lines_regex" '
  /^fn=/ { inside = (substr($0, 4) ~ re); skip = 0; next }
  !inside { next }
  /^calls=/ { skip = 1; next }
  /^0x/ { if (skip) { skip = 0; next } cost[$1] += $(col + 3) }
  END { for (a in cost) if (cost[a] > 0) print a, cost[a] }
' "$out" > "$work/addresses"
[[ -s "$work/addresses" ]] || { echo "  (no function matches, or none has a $sort_event count)"; exit 0; }
cut -d' ' -f1 "$work/addresses" | addr2line -e "$binary" | sed -E 's|.*/Sources/||' |
  paste -d' ' - <(cut -d' ' -f2 "$work/addresses") |
  awk -v ev="$events" '{ c[$1] += $2 } END { for (l in c) printf "%12.2f  %s\n", c[l] / ev, l }' |
  sort -nr > "$work/lines"
head -n "$top" "$work/lines"
