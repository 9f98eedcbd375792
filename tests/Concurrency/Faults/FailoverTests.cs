// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using IdempotentWrites.ConcurrencyTests.Http;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Faults;

// samples/Users.Api on a multi-host connection string while the primary is killed (pg_ctl stop -m immediate) and the
// standby promoted (eng/pg-failover.sh): 8 clients post payments (transactional Idempotency-Key), retrying every answer but
// 201 with the same key, as the docs tell them to; 8 more post users (InsertOrGetAsync on email), retrying until 200/201.
// Each mode runs five times on a fresh pair of servers.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class FailoverTests(PostgresFixture db, ITestOutputHelper output)
{
    private const int Runs = 5;
    private const int Clients = 8;
    private const int UserClients = 8;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    // Derived from the run's own server, like the other private servers (LocalServer.Port), in blocks of their own.
    private readonly int _serverPort = new NpgsqlConnectionStringBuilder(db.ConnectionString).Port;

    // Client retries (answers other than 201/200, and transport errors) in the current run.
    private int _retries;

    // virtualHost: the app names one host, a proxy that moves from the old primary to the promoted standby (as a DNS name or
    // a cloud endpoint does), instead of the multi-host connection string.
    [Theory]
    [InlineData("sync", false)]
    [InlineData("async", false)]
    [InlineData("sync", true)]
    public async Task SamplePayments_PrimaryKilledStandbyPromoted_AcknowledgedKeysPaidOnce_ClientsRecoverWithinTheLease(string mode, bool virtualHost)
    {
        var outages = new List<long>();
        var lost = 0;
        var checkedRows = 0;
        var retries = 0;
        for (var run = 1; run <= Runs; run++)
        {
            _retries = 0;
            var result = await RunOnceAsync(mode, run, virtualHost);
            outages.Add(result.OutageMs);
            lost += result.Lost;
            checkedRows += result.Checked;
            retries += _retries;
        }

        Figures.Record(
            output,
            $"failover {mode}{(virtualHost ? " through a virtual host that moves" : string.Empty)} ({Runs} runs, {Clients} clients on POST /payments transactional, {UserClients} on POST /users " +
            $"InsertOrGet): outage after promotion {string.Join(" / ", outages)} ms (median " +
            $"{outages.Order().ElementAt(outages.Count / 2)} ms); {Runs} kills and promotions, {checkedRows} acknowledged " +
            $"writes checked, {retries} client retries, acknowledged writes lost: {lost}, duplicated: 0");
        if (mode == "sync")
        {
            // A commit waits for the standby: nothing acknowledged can be lost.
            Assert.Equal(0, lost);
        }
    }

    private async Task<(long OutageMs, int Lost, int Checked)> RunOnceAsync(string mode, int run, bool virtualHost)
    {
        var primaryPort = LocalServer.Port(20_000, _serverPort + 5_000);
        var standbyPort = LocalServer.Port(10_000, _serverPort + 5_000);
        var environment = new Dictionary<string, string>
        {
            // Debian's PostgreSQL 15 whatever the suite runs on: the npm builds of the other majors have no pg_basebackup.
            ["IW_PG_VERSION"] = "15",
            ["IW_FO_MODE"] = mode,
            ["IW_FO_PORT"] = primaryPort.ToString(CultureInfo.InvariantCulture),
            ["IW_FO_STANDBY_PORT"] = standbyPort.ToString(CultureInfo.InvariantCulture),
            ["IW_FO_DIR"] = Path.Combine(Path.GetTempPath(), $"idempotentwrites-failover-{primaryPort}"),
        };
        try
        {
            var connectionString = (await LocalServer.RunScriptAsync("pg-failover.sh", "start", environment, TimeSpan.FromMinutes(3))).Trim();
            await using var proxy = new FaultProxy("127.0.0.1", primaryPort);
            var appConnectionString = virtualHost
                ? new NpgsqlConnectionStringBuilder(connectionString)
                {
                    Host = "127.0.0.1",
                    Port = proxy.Port,
                    SslMode = SslMode.Disable,
                    TargetSessionAttributes = null,
                }.ConnectionString
                : connectionString;
            await using var app = await RunningApp.StartAsync(UsersApi.UsersApp.Create([], builder =>
            {
                RunningApp.UseTestServer(builder);
                builder.Configuration["ConnectionStrings:Postgres"] = appConnectionString;
                builder.Configuration["Idempotency:PurgeExpiredKeys"] = "false";
                builder.Configuration["Idempotency:Lease"] = Lease.ToString("c", CultureInfo.InvariantCulture);
            }));

            var acknowledged = new ConcurrentDictionary<long, (long CompletedAt, TimeSpan Took)>();
            var users = new ConcurrentDictionary<string, long>();
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients)
                .Select(client => Task.Run(() => ClientAsync(app.Client, client, acknowledged, () => Interlocked.Increment(ref _retries), stop.Token)))
                .Concat(Enumerable.Range(0, UserClients).Select(
                    client => Task.Run(() => UserClientAsync(app.Client, client, users, () => Interlocked.Increment(ref _retries), stop.Token))))
                .ToArray();

            await Task.Delay(1_000);
            await LocalServer.RunScriptAsync("pg-failover.sh", "kill-primary", environment, TimeSpan.FromMinutes(1));
            await Task.Delay(300);
            await LocalServer.RunScriptAsync("pg-failover.sh", "promote", environment, TimeSpan.FromMinutes(1));
            if (virtualHost)
            {
                proxy.Retarget("127.0.0.1", standbyPort);
            }

            var promotedAt = Stopwatch.GetTimestamp();

            // Load goes on until some payments were acknowledged on the promoted server, then every client finishes the
            // key it is on (retrying until 201).
            var deadline = promotedAt + (long)(Waits.Timeout.TotalSeconds * Stopwatch.Frequency);
            while (acknowledged.Values.Count(a => a.CompletedAt > promotedAt) < Clients * 5 && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(50);
            }

            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(Waits.Timeout);

            var firstAfter = acknowledged.Values.Where(a => a.CompletedAt > promotedAt).Min(a => a.CompletedAt);
            var outage = (long)Stopwatch.GetElapsedTime(promotedAt, firstAfter).TotalMilliseconds;
            await using var promoted = NpgsqlDataSource.Create(connectionString);
            var lost = 0;
            foreach (var (userId, ack) in acknowledged)
            {
                await using var count = promoted.CreateCommand("SELECT count(*) FROM payments WHERE user_id = $1");
                count.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
                var rows = (long)(await count.ExecuteScalarAsync())!;
                Assert.True(rows <= 1, $"run {run}: user {userId} was charged {rows} times for one Idempotency-Key");
                lost += rows == 0 ? 1 : 0;
                Assert.True(ack.Took < Lease + TimeSpan.FromSeconds(10), $"run {run}: user {userId}'s payment took {ack.Took} to acknowledge");
            }

            // Every acknowledged user is stored once, under the id its caller got; asking again answers that row (200).
            foreach (var (email, id) in users)
            {
                await using var stored = promoted.CreateCommand("SELECT id FROM users WHERE email = $1");
                stored.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
                var storedId = await stored.ExecuteScalarAsync();
                if (storedId is null)
                {
                    lost++;
                    continue;
                }

                Assert.Equal(id, (long)storedId);
            }

            foreach (var (email, id) in users.Take(20))
            {
                var again = await Http.Http.SendAsync(app.Client, Http.Http.Post("/users", new { email, name = "again" }));
                Assert.Equal(200, again.Status);
                Assert.Equal(id, again.Json().GetProperty("id").GetInt64());
            }

            output.WriteLine(
                $"{mode} run {run}: {acknowledged.Count} payments and {users.Count} users acknowledged, outage after promotion {outage} ms, " +
                $"lost {lost}");
            return (outage, lost, acknowledged.Count + users.Count);
        }
        finally
        {
            await LocalServer.RunScriptAsync("pg-failover.sh", "stop", environment, TimeSpan.FromMinutes(1));
        }
    }

    // One user client: POST /users (InsertOrGetAsync, no Idempotency-Key: the email is the key) with fresh emails, each
    // sent until it is answered 201 or 200, whatever came before.
    private static async Task UserClientAsync(
        HttpClient http,
        int client,
        ConcurrentDictionary<string, long> acknowledged,
        Func<int> retried,
        CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var email = $"u{client}-{n}@example.com";
            while (true)
            {
                try
                {
                    var reply = await Http.Http.SendAsync(http, Http.Http.Post("/users", new { email, name = "n" }));
                    if (reply.Status is 200 or 201)
                    {
                        acknowledged[email] = reply.Json().GetProperty("id").GetInt64();
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
                {
                    // Retried, like any other answer but 200/201.
                }

                retried();
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    // One client: payments with fresh keys (one user id per key, so a double charge shows as two rows), each sent until
    // it is answered 201, whatever the answers and errors before; the next one only after that.
    private static async Task ClientAsync(
        HttpClient http,
        int client,
        ConcurrentDictionary<long, (long CompletedAt, TimeSpan Took)> acknowledged,
        Func<int> retried,
        CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var userId = (client * 1_000_000L) + n + 1;
            var started = Stopwatch.GetTimestamp();
            while (true)
            {
                try
                {
                    var reply = await Http.Http.SendAsync(
                        http,
                        Http.Http.Post("/payments", new { userId, amountCents = 100 }, key: $"pay-{userId}", apiKey: "client"));
                    if (reply.Status == 201)
                    {
                        acknowledged[userId] = (Stopwatch.GetTimestamp(), Stopwatch.GetElapsedTime(started));
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
                {
                    // Retried with the same key, like any other answer but 201.
                }

                retried();
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }
}
