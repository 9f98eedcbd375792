// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

// HttpDriver: the latency the Idempotency-Key middleware adds. Hosts samples/Users.Api in-process on Kestrel (loopback)
// and times POST /payments (with the middleware: a first request with a fresh key, and a replay of one key) against
// POST /payments/baseline (the same handler without it), one caller at a time, rounds interleaved.
//
// Usage: HttpDriver "<Npgsql connection string>" [requests per scenario per round] [rounds]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: HttpDriver <Npgsql connection string> [requests per scenario per round] [rounds]");
    return 2;
}

var perRound = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
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
using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
var body = """{"userId":1,"amountCents":100}""";
var sequence = 0;

async Task<double> SendAsync(string path, string? key)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    request.Headers.Add("X-Api-Key", "bench");
    if (key is not null)
    {
        request.Headers.Add("Idempotency-Key", key);
    }

    var started = Stopwatch.GetTimestamp();
    using var response = await client.SendAsync(request);
    _ = await response.Content.ReadAsByteArrayAsync();
    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    if ((int)response.StatusCode != 201)
    {
        throw new InvalidOperationException($"{path}: {(int)response.StatusCode}");
    }

    return elapsed;
}

var scenarios = new (string Name, Func<Task<double>> Run)[]
{
    ("baseline (no middleware)", () => SendAsync("/payments/baseline", null)),
    ("first request (claim + store)", () => SendAsync("/payments", $"first-{Interlocked.Increment(ref sequence)}")),
    ("replay (stored response)", () => SendAsync("/payments", "replayed-key")),
};
var samples = scenarios.ToDictionary(s => s.Name, _ => new List<double>());

// Warm-up: JIT, connection pools, the replayed key's first run.
foreach (var (_, run) in scenarios)
{
    for (var i = 0; i < 200; i++)
    {
        await run();
    }
}

for (var round = 0; round < rounds; round++)
{
    foreach (var (name, run) in scenarios)
    {
        for (var i = 0; i < perRound; i++)
        {
            samples[name].Add(await run());
        }
    }
}

await app.StopAsync();
await app.DisposeAsync();

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
}

var baseline = Percentile(samples[scenarios[0].Name], 0.5);
Console.WriteLine($"HTTP idempotency overhead: 1 caller, {rounds} rounds x {perRound} requests per scenario, Kestrel + PostgreSQL on loopback");
Console.WriteLine($"{"scenario",-32} {"p50 ms",8} {"p95 ms",8} {"mean ms",8} {"p50 vs baseline",16}");
foreach (var (name, _) in scenarios)
{
    var values = samples[name];
    var p50 = Percentile(values, 0.5);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-32} {p50,8:F3} {Percentile(values, 0.95),8:F3} {values.Average(),8:F3} {p50 - baseline,+16:+0.000;-0.000}"));
}

return 0;
