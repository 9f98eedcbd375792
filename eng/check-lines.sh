#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Line length check (issue #13): prints every line of src/**/*.cs longer than 150 columns as
# `path:line: N columns` and exits 1 if there is any. The guideline (.editorconfig) is to wrap at about 120.
# Columns are characters (UTF-8), not counting a byte order mark or a trailing CR.
#
# Usage: eng/check-lines.sh

set -euo pipefail

readonly MAX_COLUMNS=150
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"
export LC_ALL=C.UTF-8

status=0
while IFS= read -r -d '' file; do
  while IFS= read -r hit; do
    number="${hit%%:*}"
    text="${hit#*:}"
    text="${text%$'\r'}"
    text="${text#$'\xef\xbb\xbf'}"
    if ((${#text} > MAX_COLUMNS)); then
      printf '%s:%s: %d columns\n' "$file" "$number" "${#text}"
      status=1
    fi
  done < <(grep -nE "^.{$((MAX_COLUMNS + 1)),}" -- "$file" || true)
done < <(find src -type f -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z)

if ((status != 0)); then
  printf '%s: error: lines over %d columns in src/ (wrap at about 120)\n' "${0##*/}" "$MAX_COLUMNS" >&2
fi
exit "$status"
