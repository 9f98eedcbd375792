// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// HttpDriver: what the Idempotency-Key middleware costs and what a replay saves, measured by a real HTTP load generator
// (wrk) on loopback. Hosts samples/Users.Api in-process on Kestrel and drives, interleaved run by run:
//   baseline       POST /payments/baseline  — the same handler without the middleware (one INSERT per request)
//   first-request  POST /payments           — a fresh Idempotency-Key per request: claim + handler + stored response
//   replay         POST /payments           — one key over and over: the stored response, the handler never runs
// Ends with the target lines `target replay-vs-handler:c<connections> <replay / baseline> 1.00` (the handler: baseline, the
// endpoint doing its one INSERT) and `target replay-vs-first-request:c<connections> <replay / first-request> 1.00`; run.sh
// leaves them out of its log and prints them, with the others, from the report.
//
// Usage: HttpDriver "<Npgsql connection string>" <results.tsv> [seconds per run (3)] [runs (3)] [connections (1,16)]
// Environment: BENCH_WRK (path to wrk, default "wrk").
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: HttpDriver <Npgsql connection string> <results.tsv> [seconds] [runs] [connections]");
    return 2;
}

var seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var runs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
var connectionCounts = (args.Length > 4 ? args[4] : "1,16").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var wrk = Environment.GetEnvironmentVariable("BENCH_WRK") is { Length: > 0 } w ? w : "wrk";

const string Schema = "bench_http";
await using (var admin = NpgsqlDataSource.Create(args[0]))
{
    await using var reset = admin.CreateCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE; CREATE SCHEMA {Schema}");
    await reset.ExecuteNonQueryAsync();
}

var connectionString = new NpgsqlConnectionStringBuilder(args[0]) { SearchPath = Schema }.ConnectionString;
var app = UsersApi.UsersApp.Create([], builder =>
{
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
    builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
    builder.Configuration["Benchmark:MapBaseline"] = "true";
    builder.Configuration["Idempotency:PurgeExpiredKeys"] = "false";
});
await app.StartAsync();
var url = app.Urls.Single();
const string Body = """{"userId":1,"amountCents":100}""";

// The replayed key's first run, so every timed replay finds a stored response.
using (var client = new HttpClient { BaseAddress = new Uri(url) })
{
    // Content-Type exactly as wrk sends it (no charset): it is part of the request fingerprint.
    using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
    using var request = new HttpRequestMessage(HttpMethod.Post, "/payments") { Content = content };
    request.Headers.Add("X-Api-Key", "bench");
    request.Headers.Add("Idempotency-Key", "replayed-key");
    using var response = await client.SendAsync(request);
    if ((int)response.StatusCode != 201)
    {
        throw new InvalidOperationException($"seeding the replayed key: {(int)response.StatusCode}");
    }
}

var directory = Directory.CreateTempSubdirectory("iw-wrk-").FullName;
var lua = Path.Combine(directory, "payments.lua");
await File.WriteAllTextAsync(lua, $$"""
    -- mode (wrk argument): baseline | first | replay; prefix keeps first-request keys unique across runs
    local threads = 0
    function setup(thread)
      threads = threads + 1
      thread:set("tid", threads)
    end
    function init(args)
      mode = args[1]
      prefix = args[2] .. "-" .. tid
      counter = 0
    end
    local body = '{{Body}}'
    request = function()
      local headers = { ["Content-Type"] = "application/json", ["X-Api-Key"] = "bench" }
      if mode == "baseline" then
        return wrk.format("POST", "/payments/baseline", headers, body)
      end
      if mode == "first" then
        counter = counter + 1
        headers["Idempotency-Key"] = prefix .. "-" .. counter
      else
        headers["Idempotency-Key"] = "replayed-key"
      end
      return wrk.format("POST", "/payments", headers, body)
    end
    """);

var scenarios = new (string Name, string Mode)[] { ("baseline", "baseline"), ("first-request", "first"), ("replay", "replay") };
var results = new Dictionary<(string, int), List<double>>();
var sequence = 0;

// Warm-up: JIT, pools, prepared statements.
foreach (var (_, mode) in scenarios)
{
    await WrkAsync(mode, 4, 1);
}

for (var run = 0; run < runs; run++)
{
    foreach (var connections in connectionCounts)
    {
        // Each round starts one scenario later than the previous one, so none always runs first.
        foreach (var (name, mode) in scenarios.Skip(run % scenarios.Length).Concat(scenarios.Take(run % scenarios.Length)))
        {
            var rps = await WrkAsync(mode, connections, seconds);
            (results.TryGetValue((name, connections), out var list) ? list : results[(name, connections)] = []).Add(rps);
        }
    }
}

await app.StopAsync();
await app.DisposeAsync();

await using (var output = new StreamWriter(args[1], append: true))
{
    foreach (var connections in connectionCounts)
    {
        foreach (var (name, _) in scenarios)
        {
            var values = results[(name, connections)];
            var sorted = values.Order().ToList();
            await output.WriteLineAsync(string.Join('\t', "http", "payments", connections.ToString(CultureInfo.InvariantCulture), name, string.Join(',', values.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"http  POST /payments  connections={connections,-3} {name,-14} median {Median(values),9:F0} req/s  (min {sorted[0]:F0}, max {sorted[^1]:F0})"));
        }
    }
}

foreach (var connections in connectionCounts)
{
    // As the report computes them: the median of the per-round ratios.
    var replay = results[("replay", connections)];
    double Paired(string reference) => Median([.. replay.Zip(results[(reference, connections)], (a, b) => a / b)]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"target replay-vs-handler:c{connections} {Paired("baseline"):F2} 1.00"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"target replay-vs-first-request:c{connections} {Paired("first-request"):F2} 1.00"));
}

return 0;

// As the report computes it: the middle run, or the mean of the two middle ones.
static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

async Task<double> WrkAsync(string mode, int connections, int duration)
{
    var start = new ProcessStartInfo(wrk)
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        ArgumentList =
        {
            "-t", Math.Min(connections, 2).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", duration.ToString(CultureInfo.InvariantCulture) + "s", "-s", lua, url, "--", mode,
            "r" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Interlocked.Increment(ref sequence).ToString(CultureInfo.InvariantCulture),
        },
    };
    using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {wrk}");
    var stdout = await process.StandardOutput.ReadToEndAsync();
    var stderr = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    var match = Regex.Match(stdout, @"Requests/sec:\s+([0-9.]+)");
    if (process.ExitCode != 0 || !match.Success || stdout.Contains("Non-2xx", StringComparison.Ordinal) || stdout.Contains("Socket errors", StringComparison.Ordinal))
    {
        throw new InvalidOperationException($"wrk {mode} x{connections} failed ({process.ExitCode}): {stdout} {stderr}");
    }

    return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
}
