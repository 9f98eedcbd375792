#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prove the NuGet packages install, and that docs/getting-started.md and docs/ef-core.md work when followed literally:
#  1. pack the solution (Release) into a temporary feed; check that it holds exactly IdempotentWrites,
#     IdempotentWrites.AspNetCore, IdempotentWrites.EntityFrameworkCore and the iw tool (IdempotentWrites.Cli) with README,
#     CHANGELOG, license, XML docs, .snupkg symbols and SourceLink;
#  2. build the getting-started app outside the repository, from the page itself: every block of docs/getting-started.md
#     marked <!-- pack-check:NAME --> is read from the page (a marker missing, or a block the script cannot follow, fails):
#     the page's `dotnet pack` commands (plus --no-build, into a temporary folder instead of ./nupkg), `dotnet new web`, its
#     nuget.config (package source mapping; the feed path put in), `dotnet add package`, the table's SQL (run with psql in a
#     new database), the whole Program.cs (which must also be docs/snippets/GettingStartedApp/Program.cs's gs-program region,
#     line for line) and `dotnet run` (plus --no-build; on a port chosen at run time, with this run's connection string);
#  3. send the page's curl requests and compare each answer with the response the page shows: the status line, every header
#     shown, and the body (date-times and W3C trace ids compared by form only);
#  4. docs/ef-core.md: its pack command, a console app made with its commands (nuget.config: the getting-started page's),
#     the page's Program.cs built against IdempotentWrites.EntityFrameworkCore and run on a new database; its output must be
#     the page's <!-- ef-check:output --> block, line for line;
#  5. install iw from the feed into a tool path and check `iw --version`.
# The app, the database it made and any PostgreSQL it started are stopped or dropped on every exit.
#
# Usage: eng/pack-check.sh [--no-build]
#   --no-build   pack what an earlier `dotnet build IdempotentWrites.sln -c Release` produced (eng/test.sh passes it);
#                without it, the three src projects are built first (Release)
#
# Environment:
#   IW_TEST_CONNECTION  Npgsql connection string of a PostgreSQL server (eng/test.sh exports it) on which pack-check creates,
#                       and drops afterwards, a database of its own (the role needs CREATEDB); psql must be installed.
#                       When unset, eng/pg-local.sh starts a throwaway cluster on a free port, stopped and removed afterwards.
#   IW_PACK_KEEP=1      keep the temporary directory (feeds, app, logs, tool path) and print where it is
#
# Needs nuget.org (the source the page's nuget.config names) for the app's other dependencies, and curl. Packages restore
# into a private NUGET_PACKAGES folder, so a stale copy of the same version in the global packages folder can never stand
# in for the packages just built; the page's package source mapping sends IdempotentWrites* to the local feed only.

set -euo pipefail

SCRIPT_NAME="${0##*/}"
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"

readonly SOLUTION=IdempotentWrites.sln
readonly CONFIGURATION=Release
readonly TFM=net10.0
readonly LIBRARIES=(IdempotentWrites IdempotentWrites.AspNetCore)
readonly EF_LIBRARY=IdempotentWrites.EntityFrameworkCore   # docs/ef-core.md's app: a console app of its own, below
readonly EF_PAGE=docs/ef-core.md
readonly TOOL=IdempotentWrites.Cli
readonly TOOL_COMMAND=iw

NO_BUILD=()
for arg in "$@"; do
  case "$arg" in
    --no-build) NO_BUILD=(--no-build) ;;
    -h | --help) sed -n '3,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf '%s: error: unknown argument %q (try --help)\n' "$SCRIPT_NAME" "$arg" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
# Leave no MSBuild node behind (the builds below also pass --disable-build-servers: no compiler server either).
export MSBUILDDISABLENODEREUSE=1

readonly PAGE=docs/getting-started.md
readonly PAGE_PROGRAM=docs/snippets/GettingStartedApp/Program.cs   # its gs-program region is the page's Program.cs
readonly PAGE_FEED_PLACEHOLDER=/path/to/IdempotentWrites/nupkg     # in the page's nuget.config

START_NS=$(date +%s%N)
STEP_NS=$START_NS
STEP_NAME=""
elapsed() { printf '%d.%01d s' $((($(date +%s%N) - $1) / 1000000000)) $(((($(date +%s%N) - $1) / 100000000) % 10)); }
step() { # step [name]: closes the running step (printing its time) and starts the next one, if named
  [[ -z "$STEP_NAME" ]] || printf '%s: %s: ok (%s)\n' "$SCRIPT_NAME" "$STEP_NAME" "$(elapsed "$STEP_NS")" >&2
  STEP_NAME="$*"
  STEP_NS=$(date +%s%N)
  [[ -z "$STEP_NAME" ]] || printf '\n==> pack-check: %s\n' "$STEP_NAME" >&2
}
die() {
  printf '%s: FAILED%s: %s\n' "$SCRIPT_NAME" "${STEP_NAME:+ at \"$STEP_NAME\"}" "$*" >&2
  [[ -z "${WORK:-}" || "${IW_PACK_KEEP:-}" == 1 ]] || printf '%s: (set IW_PACK_KEEP=1 to keep the temporary files)\n' "$SCRIPT_NAME" >&2
  exit 1
}

command -v dotnet >/dev/null 2>&1 || die "'dotnet' not found on PATH; install the .NET 10 SDK (see global.json)"
command -v unzip >/dev/null 2>&1 || die "'unzip' not found on PATH (apt-get install unzip)"
command -v setsid >/dev/null 2>&1 || die "'setsid' not found on PATH (apt-get install util-linux)"
if ! command -v curl >/dev/null 2>&1 && [[ "$(id -u)" -eq 0 ]]; then
  apt-get install -y -q --no-install-recommends curl </dev/null >/dev/null 2>&1 \
    || { apt-get update -q </dev/null >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends curl </dev/null >/dev/null 2>&1; } || true
fi
command -v curl >/dev/null 2>&1 || die "'curl' not found on PATH (apt-get install curl): the page's requests use it"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/iw-pack-check.XXXXXX")"
APP_PID=""      # the page's `dotnet run`, in a process group of its own (setsid): the whole group is stopped
PG_OWN_PORT=""  # set when this run started its own PostgreSQL cluster (eng/pg-local.sh), stopped and removed on exit
PG_OWN_DIR=""
DATABASE=""     # set once this run created its database on IW_TEST_CONNECTION's server, dropped on exit
EF_DATABASE=""  # the same for docs/ef-core.md's app
stop_app() {
  [[ -n "$APP_PID" ]] || return 0
  local pid=$APP_PID i
  APP_PID=""
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 -- "-$pid" 2>/dev/null; then
    printf '%s: the app did not stop within 10 s of SIGTERM; killing its process group\n' "$SCRIPT_NAME" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop_app
  if [[ -n "$EF_DATABASE" ]]; then
    run_psql -d "$ADMIN_DATABASE" -c "DROP DATABASE IF EXISTS \"$EF_DATABASE\" WITH (FORCE)" >/dev/null 2>&1 \
      || printf '%s: warning: could not drop the database %s\n' "$SCRIPT_NAME" "$EF_DATABASE" >&2
  fi
  if [[ -n "$DATABASE" ]]; then
    run_psql -d "$ADMIN_DATABASE" -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" >/dev/null 2>&1 \
      || printf '%s: warning: could not drop the database %s\n' "$SCRIPT_NAME" "$DATABASE" >&2
  fi
  if [[ -n "$PG_OWN_PORT" ]]; then
    IW_PG_PORT="$PG_OWN_PORT" IW_PG_DIR="$PG_OWN_DIR" bash "$REPO_ROOT/eng/pg-local.sh" stop </dev/null >/dev/null 2>&1 \
      || printf '%s: warning: could not stop the PostgreSQL cluster in %s\n' "$SCRIPT_NAME" "$PG_OWN_DIR" >&2
    [[ "${IW_PACK_KEEP:-}" == 1 ]] || rm -rf -- "$PG_OWN_DIR" "$PG_OWN_DIR.lock"
  fi
  if [[ "${IW_PACK_KEEP:-}" == 1 ]]; then
    printf '%s: kept %s%s\n' "$SCRIPT_NAME" "$WORK" "${PG_OWN_DIR:+ and $PG_OWN_DIR}" >&2
  else
    rm -rf -- "$WORK"
  fi
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
FEED="$WORK/feed"           # the solution packed: the package checks and the tool install
PAGE_FEED="$WORK/nupkg"     # the page's own `dotnet pack` commands: what its app restores from
DOC="$WORK/page"            # the marked blocks of the page, one file each, numbered in page order
TOOLS="$WORK/tools"
# Private packages folder for the app and the tool install only (exported after the repository is packed: the
# repository's own restore must keep using the normal packages folder, or its obj/ would point into $WORK).
CONSUMER_PACKAGES="$WORK/packages"
mkdir -p "$FEED" "$PAGE_FEED" "$DOC" "$TOOLS" "$CONSUMER_PACKAGES"
# Stop MSBuild's upward search for Directory.Build.* / Directory.Packages.props at $WORK: the app must build like a
# stranger's project, whatever lies in the parent directories.
printf '<Project />\n' >"$WORK/Directory.Build.props"
printf '<Project />\n' >"$WORK/Directory.Build.targets"
printf '<Project />\n' >"$WORK/Directory.Packages.props"

# ---------------------------------------------------------------------------------------------------------------------
step "version (one place: VersionPrefix in Directory.Build.props)"
VERSION=""
versions=""
for project in "${LIBRARIES[@]}" "$EF_LIBRARY" "$TOOL"; do
  v="$(dotnet msbuild "src/$project/$project.csproj" -p:Configuration="$CONFIGURATION" -getProperty:Version </dev/null)" \
    || die "could not evaluate the Version of src/$project"
  v="${v//[$'\r\n ']/}"
  versions+=" $project=$v"
  VERSION="${VERSION:-$v}"
done
(($(tr ' ' '\n' <<<"$versions" | sed -n 's/.*=//p' | sort -u | wc -l) == 1)) \
  || die "the packages have different versions:$versions; set the version in Directory.Build.props (VersionPrefix) only"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "unexpected Version '$VERSION'"
printf '%s: version %s\n' "$SCRIPT_NAME" "$VERSION" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "read the marked blocks of $PAGE"
# Each `<!-- pack-check:NAME -->` line must be followed by a fenced block; its body goes to $DOC/NN-NAME (NN: page order).
awk -v out="$DOC" '
  function fail(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; bad = 1; exit 1 }
  inblock && /^```[[:space:]]*$/ { close(file); inblock = 0; next }
  inblock { print > file; next }
  pending { if ($0 !~ /^```/) fail("<!-- pack-check:" name " --> is not directly followed by a ``` block"); n++
            file = sprintf("%s/%02d-%s", out, n, name); printf "" > file; inblock = 1; pending = 0; next }
  /<!-- *pack-check/ { if ($0 !~ /^<!-- pack-check:[a-z-]+ -->$/) fail("malformed marker: " $0)
                       name = $0; sub(/^<!-- pack-check:/, "", name); sub(/ -->$/, "", name); pending = 1; next }
  END { if (bad) exit 1; if (inblock) { printf "%s: the block of <!-- pack-check:%s --> is never closed\n", FILENAME, name > "/dev/stderr"; exit 1 }
        if (pending) { printf "%s: <!-- pack-check:%s --> ends the file\n", FILENAME, name > "/dev/stderr"; exit 1 } }
' "$PAGE" || die "$PAGE: malformed pack-check markers (above)"
block() { # block NAME: the file of the page's only block marked NAME
  local found
  found=("$DOC"/[0-9][0-9]-"$1")
  [[ -f "${found[0]}" ]] || die "$PAGE has no block marked <!-- pack-check:$1 --> (the page and this script go together)"
  ((${#found[@]} == 1)) || die "$PAGE has ${#found[@]} blocks marked <!-- pack-check:$1 -->, expected one"
  printf '%s' "${found[0]}"
}
for name in pack new-app nuget-config add-package table program run; do block "$name" >/dev/null; done
# Requests and the responses the page shows for them, in page order: request, response, request, response, ...
PAGE_EXCHANGES=()
for file in "$DOC"/[0-9][0-9]-*; do
  case "${file##*/}" in *-request | *-response) PAGE_EXCHANGES+=("${file##*/}") ;; esac
done
PAGE_BLOCKS=("$DOC"/[0-9][0-9]-*)
((${#PAGE_EXCHANGES[@]} >= 2 && ${#PAGE_EXCHANGES[@]} % 2 == 0)) || die "$PAGE: expected pairs of request and response blocks"
for ((i = 0; i < ${#PAGE_EXCHANGES[@]}; i += 2)); do
  [[ "${PAGE_EXCHANGES[i]}" == *-request && "${PAGE_EXCHANGES[i + 1]}" == *-response ]] \
    || die "$PAGE: each <!-- pack-check:request --> block must be followed by its <!-- pack-check:response --> block"
done
grep -qF "(version \`$VERSION\`)" "$PAGE" || die "$PAGE does not say '(version \`$VERSION\`)', the version being packed"
# The page's Program.cs is also compiled with the solution (docs/snippets/GettingStartedApp): the two must be one text.
awk '/^\/\/ <\/snippet:gs-program>$/ { on = 0 } on { print } /^\/\/ <snippet:gs-program>$/ { on = 1 }' "$PAGE_PROGRAM" >"$WORK/gs-program.cs"
[[ -s "$WORK/gs-program.cs" ]] || die "$PAGE_PROGRAM has no // <snippet:gs-program> region"
diff -u "$WORK/gs-program.cs" "$(block program)" >"$WORK/program.diff" \
  || die "the Program.cs on $PAGE differs from the gs-program region of $PAGE_PROGRAM (which builds with the solution):
$(cat "$WORK/program.diff")"
printf '%s: %s: %d marked blocks, %d requests; Program.cs = %s (gs-program)\n' "$SCRIPT_NAME" "$PAGE" \
  "${#PAGE_BLOCKS[@]}" $((${#PAGE_EXCHANGES[@]} / 2)) "$PAGE_PROGRAM" >&2

# ---------------------------------------------------------------------------------------------------------------------
if ((${#NO_BUILD[@]} == 0)); then
  # Build only what ships (the tool references both libraries), not the tests, samples and benchmarks.
  step "dotnet build src/$TOOL -c $CONFIGURATION (builds the three packable projects)"
  dotnet build "src/$TOOL/$TOOL.csproj" -c "$CONFIGURATION" --disable-build-servers </dev/null >"$WORK/build.log" 2>&1 \
    || { grep -E ': (error|warning) ' "$WORK/build.log" | sort -u | tail -n 40 >&2; die "dotnet build failed (errors above)"; }
fi

# Packing the whole solution proves that only the three packages come out of it.
step "dotnet pack $SOLUTION -c $CONFIGURATION --no-build -o <feed>"
dotnet pack "$SOLUTION" -c "$CONFIGURATION" --no-build -o "$FEED" </dev/null >"$WORK/pack.log" 2>&1 \
  || { grep -E ': (error|warning) ' "$WORK/pack.log" | sort -u | tail -n 40 >&2; die "dotnet pack failed (errors above)"; }

expected="$(printf '%s\n' "${LIBRARIES[@]/%/.$VERSION.nupkg}" "${LIBRARIES[@]/%/.$VERSION.snupkg}" \
  "$EF_LIBRARY.$VERSION.nupkg" "$EF_LIBRARY.$VERSION.snupkg" "$TOOL.$VERSION.nupkg" "$TOOL.$VERSION.snupkg" | sort)"
actual="$(cd "$FEED" && ls -1 | sort)"
[[ "$actual" == "$expected" ]] \
  || die "the feed should hold exactly the four packages and their symbols; expected:
$expected
got:
$actual
(a project outside src/ that should not ship needs IsPackable=false)"

# ---------------------------------------------------------------------------------------------------------------------
step "package contents (README, CHANGELOG, license, XML docs, symbols, SourceLink)"
has_entry() { unzip -Z1 "$1" | grep -xF -- "$2" >/dev/null; } # no -q: an early exit would SIGPIPE unzip (pipefail)
check_package() { # id dir-of-assemblies-in-package
  local id=$1 dir=$2 pkg="$FEED/$1.$VERSION.nupkg" snupkg="$FEED/$1.$VERSION.snupkg" nuspec pdb
  nuspec="$(unzip -p "$pkg" "$id.nuspec" | tr -d '\r')" || die "$id: no $id.nuspec in $pkg"
  has_entry "$pkg" README.md || die "$id: README.md missing from the package"
  grep -qF '<readme>README.md</readme>' <<<"$nuspec" || die "$id: the nuspec does not declare <readme>README.md</readme>"
  has_entry "$pkg" CHANGELOG.md || die "$id: CHANGELOG.md missing from the package"
  grep -qF '<license type="expression">MIT</license>' <<<"$nuspec" || has_entry "$pkg" LICENSE \
    || die "$id: neither an MIT license expression nor a LICENSE file"
  grep -qF '<releaseNotes>' <<<"$nuspec" || die "$id: no release notes (PackageReleaseNotes)"
  has_entry "$pkg" "$dir/$id.dll" || die "$id: $dir/$id.dll missing"
  has_entry "$pkg" "$dir/$id.xml" || die "$id: XML documentation $dir/$id.xml missing (GenerateDocumentationFile)"
  grep -qE '<repository type="git" url="https://[^"]+" [^>]*commit="[0-9a-f]{40}"' <<<"$nuspec" \
    || die "$id: the nuspec has no <repository> with url and commit (RepositoryUrl, PublishRepositoryUrl)"
  [[ -f "$snupkg" ]] || die "$id: symbols package $snupkg missing"
  has_entry "$snupkg" "$dir/$id.pdb" || die "$id: $dir/$id.pdb missing from the .snupkg"
  pdb="$(unzip -p "$snupkg" "$dir/$id.pdb" | tr -d '\0')"
  # The SourceLink JSON is stored as plain UTF-8 in the portable PDB.
  grep -aqE '\{"documents":\{"[^"]+":"https://raw\.githubusercontent\.com/[^"]+/[0-9a-f]{40}/\*"' <<<"$pdb" \
    || die "$id: the PDB has no SourceLink map to raw.githubusercontent.com at a commit"
  if [[ "${CI:-}" == true ]]; then
    # ContinuousIntegrationBuild: deterministic source paths (/_/...), no build-machine paths in the PDB.
    ! grep -aqF -- "$REPO_ROOT/" <<<"$pdb" || die "$id: CI build, but the PDB contains the local path $REPO_ROOT/ (ContinuousIntegrationBuild)"
  fi
  printf '%s: %s %s: README, CHANGELOG, MIT, XML docs, snupkg, SourceLink ok\n' "$SCRIPT_NAME" "$id" "$VERSION" >&2
}
for id in "${LIBRARIES[@]}" "$EF_LIBRARY"; do
  check_package "$id" "lib/$TFM"
done
check_package "$TOOL" "tools/$TFM/any"
settings="$(unzip -p "$FEED/$TOOL.$VERSION.nupkg" "tools/$TFM/any/DotnetToolSettings.xml")" \
  || die "$TOOL: DotnetToolSettings.xml missing: not packed as a tool (PackAsTool)"
grep -qF "Name=\"$TOOL_COMMAND\"" <<<"$settings" || die "$TOOL: the tool command is not '$TOOL_COMMAND' (ToolCommandName)"
grep -qF '<packageType name="DotnetTool" />' <<<"$(unzip -p "$FEED/$TOOL.$VERSION.nupkg" "$TOOL.nuspec")" \
  || die "$TOOL: package type is not DotnetTool"
grep -qF "<dependency id=\"IdempotentWrites\" version=\"$VERSION\"" <<<"$(unzip -p "$FEED/IdempotentWrites.AspNetCore.$VERSION.nupkg" IdempotentWrites.AspNetCore.nuspec)" \
  || die "IdempotentWrites.AspNetCore does not depend on IdempotentWrites $VERSION"
grep -qF "<dependency id=\"IdempotentWrites\" version=\"$VERSION\"" <<<"$(unzip -p "$FEED/$EF_LIBRARY.$VERSION.nupkg" "$EF_LIBRARY.nuspec")" \
  || die "$EF_LIBRARY does not depend on IdempotentWrites $VERSION"

# ---------------------------------------------------------------------------------------------------------------------
step "$PAGE step 2: its dotnet pack commands (+ --no-build, -o <temporary nupkg>)"
# Run in the repository, before NUGET_PACKAGES is redirected (as the solution pack above).
pack_lines=()
while IFS= read -r line; do
  case "$line" in
    '' | '#'*) continue ;;
    'dotnet pack '*' -o ./nupkg'*) pack_lines+=("${line/ -o .\/nupkg/ --no-build -o $(printf '%q' "$PAGE_FEED")}") ;;
    *) die "$PAGE, block pack: a line this script cannot follow: $line" ;;
  esac
done <"$(block pack)"
((${#pack_lines[@]} > 0)) || die "$PAGE, block pack: no 'dotnet pack ... -o ./nupkg' command"
for line in "${pack_lines[@]}"; do
  printf '%s: $ %s\n' "$SCRIPT_NAME" "$line" >&2
  bash -c "$line" </dev/null >>"$WORK/page-pack.log" 2>&1 \
    || { tail -n 40 "$WORK/page-pack.log" >&2; die "the page's command failed: $line"; }
done
for id in "${LIBRARIES[@]}"; do
  [[ -f "$PAGE_FEED/$id.$VERSION.nupkg" ]] || die "the page's dotnet pack commands did not make $id.$VERSION.nupkg"
done
# docs/ef-core.md's pack command, into the same folder (its app uses the getting-started nuget.config).
ef_block() { # ef_block NAME: the body of the fenced block right after <!-- ef-check:NAME --> in docs/ef-core.md
  awk -v m="<!-- ef-check:$1 -->" '$0 == m { if ((getline) <= 0 || $0 !~ /^```/) exit 2; f = 1; next } f && /^```/ { exit } f' "$EF_PAGE" \
    || die "$EF_PAGE: <!-- ef-check:$1 --> is not followed by a fenced block"
}
ef_pack="$(ef_block pack)"
[[ "$ef_pack" == "dotnet pack src/$EF_LIBRARY -c Release -o ./nupkg" ]] || die "$EF_PAGE, block pack: unexpected command: $ef_pack"
printf '%s: $ %s\n' "$SCRIPT_NAME" "$ef_pack" >&2
dotnet pack "src/$EF_LIBRARY" -c Release --no-build -o "$PAGE_FEED" </dev/null >>"$WORK/page-pack.log" 2>&1 \
  || { tail -n 40 "$WORK/page-pack.log" >&2; die "$EF_PAGE's command failed: $ef_pack"; }
export NUGET_PACKAGES="$CONSUMER_PACKAGES"

# ---------------------------------------------------------------------------------------------------------------------
step "$PAGE step 2: dotnet new web, its nuget.config, dotnet add package (restore: the page's feed + nuget.org)"
app_name="$(sed -nE 's/^dotnet new web -o ([A-Za-z0-9_.-]+)$/\1/p' "$(block new-app)")"
[[ -n "$app_name" ]] || die "$PAGE, block new-app: no 'dotnet new web -o NAME' line"
APP="$WORK/$app_name"
printf '%s: $ %s\n' "$SCRIPT_NAME" "$(tr '\n' ';' <"$(block new-app)")" >&2
(cd "$WORK" && bash -e "$(block new-app)") </dev/null >"$WORK/new.log" 2>&1 || { cat "$WORK/new.log" >&2; die "the page's dotnet new failed"; }
[[ -f "$APP/$app_name.csproj" ]] || die "no $APP/$app_name.csproj after the page's dotnet new"
(($(grep -cF "$PAGE_FEED_PLACEHOLDER" "$(block nuget-config)") == 1)) \
  || die "$PAGE, block nuget-config: expected the path $PAGE_FEED_PLACEHOLDER once (the reader replaces it)"
nuget_config="$(<"$(block nuget-config)")"
printf '%s\n' "${nuget_config//"$PAGE_FEED_PLACEHOLDER"/$PAGE_FEED}" >"$APP/nuget.config"
printf '%s: %s/nuget.config: the page'"'"'s, with %s -> %s\n' "$SCRIPT_NAME" "$app_name" "$PAGE_FEED_PLACEHOLDER" "$PAGE_FEED" >&2
printf '%s: $ %s\n' "$SCRIPT_NAME" "$(grep -v '^[[:space:]]*$' "$(block add-package)" | tr '\n' ';')" >&2
(cd "$APP" && bash -e "$(block add-package)") </dev/null >>"$WORK/new.log" 2>&1 \
  || { tail -n 40 "$WORK/new.log" >&2; die "the page's dotnet add package failed"; }
for id in "${LIBRARIES[@]}"; do
  lower="${id,,}"
  cached="$NUGET_PACKAGES/$lower/$VERSION/$lower.$VERSION.nupkg"
  [[ -f "$cached" ]] || die "$id $VERSION was not restored into the private packages folder ($cached)"
  cmp -s "$cached" "$PAGE_FEED/$id.$VERSION.nupkg" || die "the restored $id $VERSION is not the package just packed"
done
printf '%s: restored %s %s from the page'"'"'s feed\n' "$SCRIPT_NAME" "${LIBRARIES[*]}" "$VERSION" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "dotnet build $app_name (Program.cs: the page's)"
cp -- "$(block program)" "$APP/Program.cs"
# Debug, as `dotnet run` builds; the page's run block then gets --no-build.
(cd "$APP" && dotnet build --disable-build-servers) </dev/null >"$WORK/app-build.log" 2>&1 \
  || { grep -E ': (error|warning) ' "$WORK/app-build.log" | sort -u | tail -n 40 >&2; die "the page's app does not build against the packages (errors above)"; }

# ---------------------------------------------------------------------------------------------------------------------
step "PostgreSQL: a database of this run; the table of $PAGE step 3"
if [[ -n "${IW_TEST_CONNECTION:-}" ]]; then
  SERVER_CS="$IW_TEST_CONNECTION"
  printf '%s: server: IW_TEST_CONNECTION\n' "$SCRIPT_NAME" >&2
else
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue           # taken
    [[ -e "/tmp/iw-pack-check-pg-$port" ]] && continue
    PG_OWN_PORT=$port
    break
  done
  [[ -n "$PG_OWN_PORT" ]] || die "found no free port for PostgreSQL"
  PG_OWN_DIR="/tmp/iw-pack-check-pg-$PG_OWN_PORT"   # not in $WORK: the postgres OS user must reach it
  SERVER_CS="$(IW_PG_PORT="$PG_OWN_PORT" IW_PG_DIR="$PG_OWN_DIR" bash eng/pg-local.sh start </dev/null 2>"$WORK/pg-local.log")" \
    || { tail -n 30 "$WORK/pg-local.log" >&2; die "eng/pg-local.sh start failed (set IW_TEST_CONNECTION to use a running server)"; }
  printf '%s: server: a cluster of its own, eng/pg-local.sh on 127.0.0.1:%s in %s\n' "$SCRIPT_NAME" "$PG_OWN_PORT" "$PG_OWN_DIR" >&2
fi
# The Npgsql connection string, as KEY=VALUE pairs (DbConnectionStringBuilder quoting): libpq settings for psql, and the
# same string with this run's database for the app.
parse_cs() { # parse_cs CONNECTION-STRING: sets cs_keys and cs_values
  local s="$1" key value q
  cs_keys=() cs_values=()
  while :; do
    s="${s#"${s%%[![:space:];]*}"}" # skip blanks and empty pairs
    [[ -n "$s" ]] || break
    [[ "$s" == *=* ]] || die "cannot read the connection string: no '=' after '$s'"
    key="${s%%=*}"
    key="${key%"${key##*[![:space:]]}"}"
    s="${s#*=}"
    s="${s#"${s%%[![:space:]]*}"}"
    if [[ "$s" == [\"\']* ]]; then # quoted; a doubled quote stands for one
      q="${s:0:1}"
      s="${s:1}"
      value=""
      while :; do
        [[ "$s" == *"$q"* ]] || die "cannot read the connection string: unclosed quote in the value of $key"
        value+="${s%%"$q"*}"
        s="${s#*"$q"}"
        [[ "$s" == "$q"* ]] || break
        value+="$q"
        s="${s:1}"
      done
      s="${s#"${s%%[![:space:]]*}"}"
      [[ -z "$s" || "$s" == ";"* ]] || die "cannot read the connection string: text after the quoted value of $key"
    else
      value="${s%%;*}"
      value="${value%"${value##*[![:space:]]}"}"
    fi
    if [[ "$s" == *";"* ]]; then s="${s#*;}"; else s=""; fi
    cs_keys+=("$key")
    cs_values+=("$value")
  done
}
parse_cs "$SERVER_CS"
pg_env=(PGCONNECT_TIMEOUT=10)
ADMIN_DATABASE=postgres
for i in "${!cs_keys[@]}"; do
  k="${cs_keys[i],,}"
  k="${k// /}"
  case "$k" in
    host | server) pg_env+=("PGHOST=${cs_values[i]}") ;;
    port) pg_env+=("PGPORT=${cs_values[i]}") ;;
    username | userid | user) pg_env+=("PGUSER=${cs_values[i]}") ;;
    password | pwd | psw) pg_env+=("PGPASSWORD=${cs_values[i]}") ;;
    database | db) ADMIN_DATABASE="${cs_values[i]}" ;;
  esac
done
PSQL="$(command -v psql || compgen -G '/usr/lib/postgresql/*/bin/psql' | sort -V | tail -n 1 || true)"
[[ -x "$PSQL" ]] || die "psql not found (apt-get install postgresql-client)"
run_psql() { env "${pg_env[@]}" "$PSQL" -X -q -w -v ON_ERROR_STOP=1 "$@" </dev/null; }
name="iw_pack_check_$$_$RANDOM"
run_psql -d "$ADMIN_DATABASE" -c "CREATE DATABASE \"$name\"" >"$WORK/psql.log" 2>&1 \
  || { cat "$WORK/psql.log" >&2; die "could not create the database $name (the role needs CREATEDB)"; }
DATABASE="$name"
run_psql -d "$DATABASE" -f "$(block table)" >>"$WORK/psql.log" 2>&1 \
  || { cat "$WORK/psql.log" >&2; die "the page's CREATE TABLE failed"; }
APP_CS=""
for i in "${!cs_keys[@]}"; do
  k="${cs_keys[i],,}"
  k="${k// /}"
  [[ "$k" == database || "$k" == db ]] && continue
  v="${cs_values[i]}"
  if [[ "$v" == *[\;=\'\"]* || "$v" =~ ^[[:space:]] || "$v" =~ [[:space:]]$ ]]; then v="\"${v//\"/\"\"}\""; fi
  APP_CS+="${cs_keys[i]}=$v;"
done
APP_CS+="Database=$DATABASE"
printf '%s: database %s; the page'"'"'s table created with psql -f\n' "$SCRIPT_NAME" "$DATABASE" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "run $app_name as $PAGE shows (dotnet run + --no-build, on a port chosen at run time)"
PAGE_URL="$(sed -nE 's/^dotnet run( .*)? --urls (http:\/\/[^ ]+)( .*)?$/\2/p' "$(block run)")"
[[ -n "$PAGE_URL" ]] || die "$PAGE, block run: no 'dotnet run ... --urls http://HOST:PORT' line"
[[ "$PAGE_URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "$PAGE, block run: --urls $PAGE_URL; this script needs http://127.0.0.1:PORT (it binds port 0 instead)"
run_lines=() seen_cs=0 seen_run=0
while IFS= read -r line; do
  case "$line" in
    '' | '#'*) continue ;;
    'export ConnectionStrings__Postgres='*) line="export ConnectionStrings__Postgres=$(printf '%q' "$APP_CS")"; seen_cs=1 ;;
    'dotnet run '*)
      line="dotnet run --no-build ${line#dotnet run }"
      line="${line/"--urls $PAGE_URL"/--urls http://127.0.0.1:0}"
      seen_run=1
      ;;
    *) die "$PAGE, block run: a line this script cannot follow: $line" ;;
  esac
  run_lines+=("$line")
done <"$(block run)"
((seen_cs && seen_run)) || die "$PAGE, block run: expected 'export ConnectionStrings__Postgres=...' and 'dotnet run ...'"
APP_LOG="$WORK/app.log"
# A session and process group of its own, so that stopping it stops `dotnet run` and the app it started.
(cd "$APP" && exec setsid bash -c "$(printf '%s\n' "${run_lines[@]}")") </dev/null >"$APP_LOG" 2>&1 &
APP_PID=$!
URL=""
for _ in $(seq 1 600); do
  URL="$(sed -nE 's/^ *Now listening on: (http:\/\/127\.0\.0\.1:[0-9]+)$/\1/p' "$APP_LOG" | head -n 1)"
  [[ -z "$URL" ]] || break
  kill -0 "$APP_PID" 2>/dev/null || { tail -n 40 "$APP_LOG" >&2; die "the app exited while starting (log above)"; }
  sleep 0.1
done
[[ -n "$URL" ]] || { tail -n 40 "$APP_LOG" >&2; die "the app did not say 'Now listening on' within 60 s"; }
printf '%s: %s listening on %s (the page: %s)\n' "$SCRIPT_NAME" "$app_name" "$URL" "$PAGE_URL" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "$PAGE's requests (curl) and the responses it shows"
normalize_body() { # values that differ on every run are compared by their form only
  sed -E -e 's/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"/"<date-time>"/g' \
    -e 's/"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"/"<trace-id>"/g'
}
for ((i = 0; i < ${#PAGE_EXCHANGES[@]}; i += 2)); do
  request="$DOC/${PAGE_EXCHANGES[i]}"
  expected="$DOC/${PAGE_EXCHANGES[i + 1]}"
  n=$((i / 2 + 1))
  command_line="$(grep -v '^[[:space:]]*$' "$request")"
  [[ "$command_line" != *$'\n'* && "$command_line" == 'curl '* && "$command_line" == *"$PAGE_URL/"* ]] \
    || die "$PAGE, request $n: expected one 'curl ... $PAGE_URL/...' line, got: $command_line"
  command_line="${command_line//"$PAGE_URL/"/$URL/}"
  command_line="curl -sS --max-time 30 ${command_line#curl }"
  (cd "$APP" && bash -c "$command_line") </dev/null >"$WORK/response-$n" 2>"$WORK/response-$n.err" \
    || die "request $n failed: $command_line: $(cat "$WORK/response-$n.err")"
  actual="$(tr -d '\r' <"$WORK/response-$n")"
  status="${actual%%$'\n'*}"
  want_status="$(head -n 1 "$expected")"
  headers="$(awk 'NR > 1 && /^$/ { exit } NR > 1' <<<"$actual")"
  body="$(awk 'f; /^$/ { f = 1 }' <<<"$actual")"
  want_body="$(awk 'f; /^$/ { f = 1 }' "$expected")"
  problems=()
  [[ "$status" == "$want_status" ]] || problems+=("status line '$status', the page shows '$want_status'")
  while IFS= read -r header; do
    [[ -n "$header" ]] || continue
    name="${header%%:*}"
    value="${header#*:}"
    value="${value# }"
    got="$(awk -v n="${name,,}" 'index(tolower($0), n ":") == 1 { sub(/^[^:]*: ?/, ""); print; exit }' <<<"$headers")"
    [[ "$got" == "$value" ]] || problems+=("header $name: '${got:-(none)}', the page shows '$value'")
  done < <(awk 'NR > 1 && /^$/ { exit } NR > 1' "$expected")
  [[ "$(normalize_body <<<"$body")" == "$(normalize_body <<<"$want_body")" ]] \
    || problems+=("body differs (date-times and trace ids aside): got $body")
  if ((${#problems[@]} > 0)); then
    printf '%s: request %d: %s\n' "$SCRIPT_NAME" "$n" "$command_line" >&2
    printf '  %s\n' "${problems[@]}" >&2
    printf '%s: the response was:\n%s\n' "$SCRIPT_NAME" "$actual" >&2
    die "request $n did not get the response $PAGE shows (above); fix the page or the code"
  fi
  printf '%s: request %d: %s -> %s, as the page shows\n' "$SCRIPT_NAME" "$n" "${command_line#curl -sS --max-time 30 }" "$status" >&2
done
stop_app
grep -qF 'Application is shutting down' "$APP_LOG" || printf '%s: warning: the app did not log its shutdown\n' "$SCRIPT_NAME" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "$EF_PAGE: its console app against $EF_LIBRARY $VERSION, run on a new database; the output it shows"
EF_WORK="$WORK/ef"
mkdir -p "$EF_WORK"
# The getting-started nuget.config, in the folder the page's commands start in (NuGet reads it from the parent folders).
printf '%s\n' "${nuget_config//"$PAGE_FEED_PLACEHOLDER"/$PAGE_FEED}" >"$EF_WORK/nuget.config"
ef_new="$(ef_block add-package)"
printf '%s: $ %s\n' "$SCRIPT_NAME" "$(tr '\n' ';' <<<"$ef_new")" >&2
(cd "$EF_WORK" && bash -e -c "$ef_new") </dev/null >"$WORK/ef-new.log" 2>&1 || { tail -n 40 "$WORK/ef-new.log" >&2; die "$EF_PAGE's commands failed"; }
ef_app="$(sed -nE 's/^dotnet new console -o ([A-Za-z0-9_.-]+)$/\1/p' <<<"$ef_new")"
[[ -n "$ef_app" && -d "$EF_WORK/$ef_app" ]] || die "$EF_PAGE, block add-package: no 'dotnet new console -o NAME' line"
cached="$NUGET_PACKAGES/${EF_LIBRARY,,}/$VERSION/${EF_LIBRARY,,}.$VERSION.nupkg"
cmp -s "$cached" "$PAGE_FEED/$EF_LIBRARY.$VERSION.nupkg" || die "the restored $EF_LIBRARY $VERSION is not the package just packed"
# The page's only C# block is the app's Program.cs (DocsSnippetsTests keeps it equal to docs/snippets/EfCoreApp/Program.cs).
awk '/^```csharp$/ { f = 1; next } f && /^```/ { exit } f' "$EF_PAGE" >"$EF_WORK/$ef_app/Program.cs"
[[ -s "$EF_WORK/$ef_app/Program.cs" ]] || die "$EF_PAGE has no csharp block"
(cd "$EF_WORK/$ef_app" && dotnet build --disable-build-servers) </dev/null >"$WORK/ef-build.log" 2>&1 \
  || { grep -E ': (error|warning) ' "$WORK/ef-build.log" | sort -u | tail -n 40 >&2; die "$EF_PAGE's app does not build against the packages"; }
EF_DATABASE="${DATABASE}_ef"
run_psql -d "$ADMIN_DATABASE" -c "CREATE DATABASE \"$EF_DATABASE\"" >>"$WORK/psql.log" 2>&1 \
  || { cat "$WORK/psql.log" >&2; die "could not create the database $EF_DATABASE"; }
ef_run="$(ef_block run)"
[[ "$ef_run" == *'export ConnectionStrings__Postgres='*'dotnet run' ]] || die "$EF_PAGE, block run: unexpected: $ef_run"
(cd "$EF_WORK/$ef_app" && ConnectionStrings__Postgres="${APP_CS%Database=*}Database=$EF_DATABASE" dotnet run --no-build) </dev/null \
  >"$WORK/ef-run.out" 2>"$WORK/ef-run.err" || { cat "$WORK/ef-run.out" "$WORK/ef-run.err" >&2; die "$EF_PAGE's app failed (above)"; }
if ! diff <(ef_block output) "$WORK/ef-run.out" >"$WORK/ef-run.diff"; then
  cat "$WORK/ef-run.diff" >&2
  die "$EF_PAGE's app did not print what the page shows (diff above: < page, > app)"
fi
printf '%s: %s: the app printed what the page shows (%d lines)\n' "$SCRIPT_NAME" "$EF_PAGE" "$(wc -l <"$WORK/ef-run.out")" >&2

# ---------------------------------------------------------------------------------------------------------------------
step "dotnet tool install $TOOL $VERSION from the feed; $TOOL_COMMAND --version"
# The tool bundles its dependencies, so the feed alone is enough: no other source can supply IdempotentWrites.Cli.
cat >"$WORK/tool-nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
  </packageSources>
</configuration>
EOF
dotnet tool install --tool-path "$TOOLS" --configfile "$WORK/tool-nuget.config" --add-source "$FEED" "$TOOL" --version "$VERSION" \
  </dev/null >"$WORK/tool.log" 2>&1 || { cat "$WORK/tool.log" >&2; die "dotnet tool install $TOOL failed"; }
[[ -x "$TOOLS/$TOOL_COMMAND" ]] || die "no '$TOOL_COMMAND' command in $TOOLS after the install"
tool_version="$("$TOOLS/$TOOL_COMMAND" --version </dev/null 2>&1)" || die "'$TOOL_COMMAND --version' failed: $tool_version"
tool_version="${tool_version//$'\r'/}"
# System.CommandLine prints the informational version: the package version, then '+<commit>' (the SDK's source revision).
[[ "$tool_version" == "$VERSION" || "$tool_version" =~ ^"$VERSION"\+[0-9a-f]{40}$ ]] \
  || die "'$TOOL_COMMAND --version' printed '$tool_version', expected $VERSION (optionally +<commit>)"
installed="$TOOLS/.store/${TOOL,,}/$VERSION/${TOOL,,}/$VERSION/tools/$TFM/any/$TOOL.dll"
[[ -f "$installed" ]] || die "the installed tool is not where expected: $installed"
cmp -s "$installed" <(unzip -p "$FEED/$TOOL.$VERSION.nupkg" "tools/$TFM/any/$TOOL.dll") \
  || die "the installed $TOOL.dll is not the one just packed"
printf '%s: %s --version -> %s\n' "$SCRIPT_NAME" "$TOOL_COMMAND" "$tool_version" >&2

# The tool runs on .NET alone (issue #13): its runtimeconfig names Microsoft.NETCore.App and no other shared framework, so
# neither IdempotentWrites.AspNetCore nor Microsoft.AspNetCore.App came in through a reference.
tool_config="${installed%.dll}.runtimeconfig.json"
[[ -f "$tool_config" ]] || die "the installed tool has no runtimeconfig: $tool_config"
tool_frameworks="$(grep -o '"name": *"[^"]*"' "$tool_config" | sed 's/.*"\([^"]*\)"$/\1/' | sort -u | tr '\n' ' ')"
[[ "$tool_frameworks" == "Microsoft.NETCore.App " ]] \
  || die "$TOOL's runtimeconfig names the shared frameworks ${tool_frameworks% }; expected Microsoft.NETCore.App only (does src/$TOOL reference IdempotentWrites.AspNetCore or Microsoft.AspNetCore.App?)"
printf '%s: %s needs only Microsoft.NETCore.App\n' "$SCRIPT_NAME" "$TOOL_COMMAND" >&2

step
printf '%s: PASSED: %s %s (+ .snupkg) pack and install; %s and %s followed literally, their apps answer as shown; total %s\n' \
  "$SCRIPT_NAME" "${LIBRARIES[*]} $EF_LIBRARY $TOOL" "$VERSION" "$PAGE" "$EF_PAGE" "$(elapsed "$START_NS")" >&2
