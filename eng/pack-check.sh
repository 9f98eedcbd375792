#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prove the NuGet packages install: pack the solution (Release) into a temporary local feed, check that it holds exactly
# IdempotentWrites, IdempotentWrites.AspNetCore and the iw tool (IdempotentWrites.Cli) with their README, CHANGELOG,
# license, XML docs, .snupkg symbols and SourceLink; build a fresh `dotnet new web` app outside the repository that uses
# both libraries from the feed; install iw from the feed into a tool path and check `iw --version`.
#
# Usage: eng/pack-check.sh [--no-build]
#   --no-build   pack what an earlier `dotnet build IdempotentWrites.slnx -c Release` produced (eng/test.sh passes it);
#                without it, the three src projects are built first (Release)
#
# Environment:
#   IW_PACK_KEEP=1   keep the temporary directory (feed, consumer app, tool path) and print where it is
#
# Needs network access to the NuGet sources of the user's NuGet config (nuget.org) for the consumer's dependencies.
# Packages restore into a private NUGET_PACKAGES folder, so a stale copy of the same version in the global packages
# folder can never stand in for the packages just built; package source mapping sends IdempotentWrites* to the local
# feed only.

set -euo pipefail

SCRIPT_NAME="${0##*/}"
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"

readonly SOLUTION=IdempotentWrites.slnx
readonly CONFIGURATION=Release
readonly TFM=net10.0
readonly LIBRARIES=(IdempotentWrites IdempotentWrites.AspNetCore)
readonly TOOL=IdempotentWrites.Cli
readonly TOOL_COMMAND=iw

NO_BUILD=()
for arg in "$@"; do
  case "$arg" in
    --no-build) NO_BUILD=(--no-build) ;;
    -h | --help) sed -n '3,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf '%s: error: unknown argument %q (try --help)\n' "$SCRIPT_NAME" "$arg" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false

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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/iw-pack-check.XXXXXX")"
cleanup() {
  if [[ "${IW_PACK_KEEP:-}" == 1 ]]; then
    printf '%s: kept %s\n' "$SCRIPT_NAME" "$WORK" >&2
  else
    rm -rf -- "$WORK"
  fi
}
trap cleanup EXIT
FEED="$WORK/feed"
APP="$WORK/IwConsumer"
TOOLS="$WORK/tools"
# Private packages folder for the consumer app and the tool install only (exported after the repository is packed: the
# repository's own restore must keep using the normal packages folder, or its obj/ would point into $WORK).
CONSUMER_PACKAGES="$WORK/packages"
mkdir -p "$FEED" "$TOOLS" "$CONSUMER_PACKAGES"
# Stop MSBuild's upward search for Directory.Build.* / Directory.Packages.props at $WORK: the consumer must build like a
# stranger's project, whatever lies in the parent directories.
printf '<Project />\n' >"$WORK/Directory.Build.props"
printf '<Project />\n' >"$WORK/Directory.Build.targets"
printf '<Project />\n' >"$WORK/Directory.Packages.props"

# ---------------------------------------------------------------------------------------------------------------------
step "version (one place: VersionPrefix in Directory.Build.props)"
VERSION=""
versions=""
for project in "${LIBRARIES[@]}" "$TOOL"; do
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
if ((${#NO_BUILD[@]} == 0)); then
  # Build only what ships (the tool references both libraries), not the tests, samples and benchmarks.
  step "dotnet build src/$TOOL -c $CONFIGURATION (builds the three packable projects)"
  dotnet build "src/$TOOL/$TOOL.csproj" -c "$CONFIGURATION" </dev/null >"$WORK/build.log" 2>&1 \
    || { grep -E ': (error|warning) ' "$WORK/build.log" | sort -u | tail -n 40 >&2; die "dotnet build failed (errors above)"; }
fi

# Packing the whole solution proves that only the three packages come out of it.
step "dotnet pack $SOLUTION -c $CONFIGURATION --no-build -o <feed>"
dotnet pack "$SOLUTION" -c "$CONFIGURATION" --no-build -o "$FEED" </dev/null >"$WORK/pack.log" 2>&1 \
  || { grep -E ': (error|warning) ' "$WORK/pack.log" | sort -u | tail -n 40 >&2; die "dotnet pack failed (errors above)"; }
export NUGET_PACKAGES="$CONSUMER_PACKAGES"

expected="$(printf '%s\n' "${LIBRARIES[@]/%/.$VERSION.nupkg}" "${LIBRARIES[@]/%/.$VERSION.snupkg}" \
  "$TOOL.$VERSION.nupkg" "$TOOL.$VERSION.snupkg" | sort)"
actual="$(cd "$FEED" && ls -1 | sort)"
[[ "$actual" == "$expected" ]] \
  || die "the feed should hold exactly the three packages and their symbols; expected:
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
for id in "${LIBRARIES[@]}"; do
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

# ---------------------------------------------------------------------------------------------------------------------
step "fresh web app outside the repository, referencing the packages from the feed"
# In $WORK, so `dotnet new`, `dotnet add package` and the restore of the consumer all find it.
cat >"$WORK/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local-feed" value="$FEED" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local-feed">
      <package pattern="IdempotentWrites" />
      <package pattern="IdempotentWrites.*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
EOF
(cd "$WORK" && dotnet new web --name IwConsumer --output "$APP" --framework "$TFM" --no-restore </dev/null >"$WORK/new.log" 2>&1) \
  || { cat "$WORK/new.log" >&2; die "dotnet new web failed"; }
for id in "${LIBRARIES[@]}"; do
  dotnet add "$APP/IwConsumer.csproj" package "$id" --version "$VERSION" --no-restore </dev/null >>"$WORK/new.log" 2>&1 \
    || { cat "$WORK/new.log" >&2; die "dotnet add package $id failed"; }
done
cat >"$APP/Program.cs" <<'EOF'
using IdempotentWrites;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1;Database=app;Username=app")
    .MapTable<User>("users", t => t.ConflictOn(u => u.Email).Generated(u => u.Id, u => u.CreatedAt))
    .AddConflictProblemDetails(o => o.ConstraintMessages["users_email_key"] = "This email is already registered.")
    .AddHttpIdempotency(o => o.CreateStoreTable = true);

var app = builder.Build();
app.UseExceptionHandler();
app.UseIdempotency();

app.MapPost("/users", async (User user, IIdempotentWriter writer, CancellationToken ct) =>
{
    WriteResult<User> r = await writer.InsertOrGetAsync(user, ct);
    return r.Outcome == WriteOutcome.Inserted ? Results.Created($"/users/{r.Row.Id}", r.Row) : Results.Ok(r.Row);
}).RequireIdempotencyKey();

if (args is ["--smoke"])
{
    // Resolve the writer from the packaged registrations without starting the host (no database needed).
    Console.WriteLine(app.Services.GetRequiredService<IIdempotentWriter>() is not null ? "consumer: ok" : "consumer: no writer");
    return;
}

app.Run();

public sealed class User
{
    public long Id { get; set; }
    public string Email { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
EOF

step "dotnet build the consumer (restore from the feed + nuget.org into a private packages folder)"
dotnet build "$APP/IwConsumer.csproj" -c "$CONFIGURATION" </dev/null >"$WORK/consumer-build.log" 2>&1 \
  || { grep -E 'error|warn' "$WORK/consumer-build.log" | sort -u | tail -n 40 >&2; die "the consumer app does not build against the packages (log above)"; }
for id in "${LIBRARIES[@]}"; do
  lower="${id,,}"
  cached="$NUGET_PACKAGES/$lower/$VERSION/$lower.$VERSION.nupkg"
  [[ -f "$cached" ]] || die "$id $VERSION was not restored into the private packages folder ($cached)"
  cmp -s "$cached" "$FEED/$id.$VERSION.nupkg" || die "the restored $id $VERSION is not the package just packed"
done
consumer_out="$(dotnet "$APP/bin/$CONFIGURATION/$TFM/IwConsumer.dll" --smoke </dev/null 2>&1)" \
  || die "the consumer app failed at run time: $consumer_out"
[[ "$consumer_out" == *"consumer: ok"* ]] || die "the consumer app did not resolve IIdempotentWriter: $consumer_out"
printf '%s: %s\n' "$SCRIPT_NAME" "$consumer_out" >&2

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

step
printf '%s: PASSED: %s %s (+ .snupkg) pack, install and run; total %s\n' \
  "$SCRIPT_NAME" "${LIBRARIES[*]} $TOOL" "$VERSION" "$(elapsed "$START_NS")" >&2
