// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text.Json;
using Npgsql;
using UsersApi;

namespace IdempotentWrites.ConcurrencyTests.Http;

// The samples/Users.Api contract, end to end on Kestrel and PostgreSQL.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class UsersApiTests(PostgresFixture db)
{
    [Fact]
    public async Task PostUsers_NewThenExisting_201WithLocationThen200WithStoredRow()
    {
        var schema = await TestSchema.CreateAsync(db, "users_api");
        await using var app = await StartAsync(schema);

        var created = await Http.SendAsync(app.Client, Http.Post("/users", new { email = "ada@example.com", name = "Ada" }));
        var existing = await Http.SendAsync(app.Client, Http.Post("/users", new { email = "ada@example.com", name = "Someone else" }));

        Assert.Equal(201, created.Status);
        var id = created.Json().GetProperty("id").GetInt64();
        Assert.Equal($"/users/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal($$"""{"id":{{id}},"email":"ada@example.com","name":"Ada"}""", created.Text);
        Assert.Equal(200, existing.Status);
        Assert.Equal(created.Text, existing.Text);
        Assert.Equal(200, (await Http.SendAsync(app.Client, new HttpRequestMessage(HttpMethod.Get, $"/users/{id}"))).Status);
        Assert.Equal(404, (await Http.SendAsync(app.Client, new HttpRequestMessage(HttpMethod.Get, $"/users/{id + 1000}"))).Status);

        // Readiness: the database answers and the users mapping matches it (sequence drift elsewhere is Degraded, still 200).
        Assert.Equal(200, (await Http.SendAsync(app.Client, new HttpRequestMessage(HttpMethod.Get, "/health"))).Status);
    }

    [Fact]
    public async Task RegisterDuplicate_409ProblemDetailsWithExactShape_NoValueLeaked()
    {
        var schema = await TestSchema.CreateAsync(db, "users_api");
        await using var app = await StartAsync(schema);
        Assert.Equal(201, (await Http.SendAsync(app.Client, Http.Post("/users/register", new { email = "grace@example.com", name = "Grace" }))).Status);

        var duplicate = await Http.SendAsync(app.Client, Http.Post("/users/register", new { email = "grace@example.com", name = "Grace" }));

        Assert.Equal(409, duplicate.Status);
        Assert.Equal("application/problem+json", duplicate.ContentHeaders.ContentType?.MediaType);
        var problem = duplicate.Json();
        Assert.Equal(
            ["type", "title", "status", "detail", "code", "traceId", "constraint", "table", "fields"],
            problem.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.10", problem.GetProperty("type").GetString());
        Assert.Equal("A resource with these values already exists.", problem.GetProperty("title").GetString());
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Equal("This email is already registered.", problem.GetProperty("detail").GetString());
        Assert.Equal("unique-violation", problem.GetProperty("code").GetString());
        Assert.Equal("users_email_key", problem.GetProperty("constraint").GetString());
        Assert.Equal("users", problem.GetProperty("table").GetString());
        Assert.Equal(["email"], problem.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToArray());
        // The W3C trace id when an ActivityListener is attached, else Kestrel's request id: either way, the request's.
        Assert.Matches("^(00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]|[0-9A-Z]{13}:[0-9A-F]{8})$", problem.GetProperty("traceId").GetString());
        Assert.DoesNotContain("grace@example.com", duplicate.Text, StringComparison.Ordinal);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "users"));
    }

    [Fact]
    public async Task Payments_50ParallelRequestsWithOneKey_OnePaymentRow_OriginalOrInProgress_ThenIdenticalReplays()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_race");
        await using var app = await StartAsync(schema);
        var payment = new { userId = 7, amountCents = 1250, processingMs = 300 };

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, 50).Select(async _ =>
        {
            await gate.Task;
            return await Http.SendAsync(app.Client, Http.Post("/payments", payment, key: "order-42", apiKey: "caller-a"));
        }).ToArray();
        gate.SetResult();
        var replies = await Task.WhenAll(requests).WaitAsync(Waits.Timeout);

        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "payments"));
        var original = Assert.Single(replies, r => r.Status == 201 && !r.Replayed);
        Assert.All(replies, r => Assert.True(
            (r.Status == 201 && r.Text == original.Text) || (r.Status == 409 && r.Code == "in-progress"),
            $"unexpected {r.Status}: {r.Text}"));
        Assert.All(replies.Where(r => r.Status == 409), r =>
        {
            var retryAfter = int.Parse(r.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
        });

        for (var i = 0; i < 5; i++)
        {
            var retry = await Http.SendAsync(app.Client, Http.Post("/payments", payment, key: "order-42", apiKey: "caller-a"));
            Assert.Equal(201, retry.Status);
            Assert.True(retry.Replayed);
            Assert.Equal(original.Body, retry.Body);
            Assert.Equal(original.Headers.Location, retry.Headers.Location);
        }

        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Fact]
    public async Task Payments_TwoInstancesSharingTheDatabase_50ParallelRequests_OnePaymentRow()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_two");
        await using var first = await StartAsync(schema);
        await using var second = await StartAsync(schema);
        var payment = new { userId = 8, amountCents = 990, processingMs = 300 };

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, 50).Select(async i =>
        {
            await gate.Task;
            var client = i % 2 == 0 ? first.Client : second.Client;
            return await Http.SendAsync(client, Http.Post("/payments", payment, key: "two-instances", apiKey: "caller-a"));
        }).ToArray();
        gate.SetResult();
        var replies = await Task.WhenAll(requests).WaitAsync(Waits.Timeout);

        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "payments"));
        var original = Assert.Single(replies, r => r.Status == 201 && !r.Replayed);
        Assert.All(replies, r => Assert.True((r.Status == 201 && r.Text == original.Text) || (r.Status == 409 && r.Code == "in-progress"), $"unexpected {r.Status}: {r.Text}"));
        var fromFirst = await Http.SendAsync(first.Client, Http.Post("/payments", payment, key: "two-instances", apiKey: "caller-a"));
        var fromSecond = await Http.SendAsync(second.Client, Http.Post("/payments", payment, key: "two-instances", apiKey: "caller-a"));
        Assert.True(fromFirst.Replayed && fromSecond.Replayed);
        Assert.Equal(original.Body, fromFirst.Body);
        Assert.Equal(original.Body, fromSecond.Body);
    }

    [Fact]
    public async Task Payments_SameKeyDifferentBody_422_RecordUntouched_OriginalRetryStillReplays()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_mismatch");
        await using var app = await StartAsync(schema);
        var first = await Http.SendAsync(app.Client, Http.Post("/payments", new { userId = 1, amountCents = 100 }, key: "k-1", apiKey: "caller-a"));

        var mismatch = await Http.SendAsync(app.Client, Http.Post("/payments", new { userId = 1, amountCents = 999 }, key: "k-1", apiKey: "caller-a"));
        var retry = await Http.SendAsync(app.Client, Http.Post("/payments", new { userId = 1, amountCents = 100 }, key: "k-1", apiKey: "caller-a"));

        Assert.Equal(201, first.Status);
        Assert.Equal(422, mismatch.Status);
        Assert.Equal("fingerprint-mismatch", mismatch.Code);
        Assert.False(mismatch.Replayed);
        Assert.Equal(201, retry.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Theory]
    [InlineData(null, "missing-key")]
    [InlineData("", "invalid-key")]
    [InlineData("\"\"", "invalid-key")]
    [InlineData("has space", "invalid-key")]
    [InlineData("\"unterminated", "invalid-key")]
    [InlineData("256", "invalid-key")]
    public async Task Payments_MissingOrInvalidKey_400ProblemDetails_HandlerNotRun(string? key, string code)
    {
        var schema = await TestSchema.CreateAsync(db, "pay_keys");
        await using var app = await StartAsync(schema);
        var request = Http.Post("/payments", new { userId = 1, amountCents = 100 }, key: key == "256" ? new string('k', 256) : key, apiKey: "caller-a");

        var reply = await Http.SendAsync(app.Client, request);

        Assert.Equal(400, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentHeaders.ContentType?.MediaType);
        Assert.Equal(code, reply.Code);
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Fact]
    public async Task Payments_RepeatedKeyHeader_400InvalidKey()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_keys");
        await using var app = await StartAsync(schema);
        var request = Http.Post("/payments", new { userId = 1, amountCents = 100 }, key: "a", apiKey: "caller-a");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "b");

        var reply = await Http.SendAsync(app.Client, request);

        Assert.Equal(400, reply.Status);
        Assert.Equal("invalid-key", reply.Code);
    }

    [Fact]
    public async Task Payments_KeyOfCallerAUsedByCallerB_BGetsItsOwnExecution()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_scope");
        await using var app = await StartAsync(schema);
        var payment = new { userId = 3, amountCents = 500 };

        var a = await Http.SendAsync(app.Client, Http.Post("/payments", payment, key: "shared-key", apiKey: "caller-a"));
        var b = await Http.SendAsync(app.Client, Http.Post("/payments", payment, key: "shared-key", apiKey: "caller-b"));
        var anonymous = await Http.SendAsync(app.Client, Http.Post("/payments", payment, key: "shared-key"));

        Assert.Equal(201, a.Status);
        Assert.Equal(201, b.Status);
        Assert.False(b.Replayed);
        Assert.NotEqual(a.Json().GetProperty("id").GetInt64(), b.Json().GetProperty("id").GetInt64());
        Assert.Equal(401, anonymous.Status);
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "payments"));
        Assert.Equal(2, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys", "idempotency_key = 'shared-key'"));
    }

    [Theory]
    [InlineData("/orders", """{"orderNumber":"A\u0000B","userId":1,"amountCents":5}""", "orderNumber")]
    [InlineData("/orders", """{"userId":1,"amountCents":5}""", "orderNumber")]
    [InlineData("/users", """{"email":"a\u0000@example.com","name":"n"}""", "email")]
    public async Task TextTheDatabaseCannotStore_400ValidationProblem_Not500(string path, string body, string field)
    {
        var schema = await TestSchema.CreateAsync(db, "text_invalid");
        await using var app = await StartAsync(schema);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", "caller-a");
        request.Headers.Add("Idempotency-Key", "k-text");

        var reply = await Http.SendAsync(app.Client, request);
        var tooLong = await Http.SendAsync(
            app.Client,
            Http.Post("/orders", new { orderNumber = new string('x', 3000), userId = 1, amountCents = 5 }, key: "k-long", apiKey: "caller-a"));

        Assert.Equal(400, reply.Status);
        Assert.Equal([field], reply.Json().GetProperty("errors").EnumerateObject().Select(e => e.Name).ToArray());
        Assert.Equal(400, tooLong.Status);
    }

    [Theory]
    [InlineData("""{"amountCents":5}""", "userId")]
    [InlineData("""{"userId":0,"amountCents":5}""", "userId")]
    [InlineData("""{"userId":3}""", "amountCents")]
    [InlineData("""{"userId":3,"amountCents":-1}""", "amountCents")]
    public async Task Payments_MissingOrInvalidField_400ValidationProblem_NoPayment(string body, string field)
    {
        var schema = await TestSchema.CreateAsync(db, "pay_invalid");
        await using var app = await StartAsync(schema);
        var request = new HttpRequestMessage(HttpMethod.Post, "/payments")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", "caller-a");
        request.Headers.Add("Idempotency-Key", "k-invalid");

        var reply = await Http.SendAsync(app.Client, request);

        Assert.Equal(400, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentHeaders.ContentType?.MediaType);
        var errors = reply.Json().GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name).ToArray());
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Fact]
    public async Task Payments_SafeMethodsIgnoreTheKey()
    {
        var schema = await TestSchema.CreateAsync(db, "pay_get");
        await using var app = await StartAsync(schema);
        var created = await Http.SendAsync(app.Client, Http.Post("/payments", new { userId = 4, amountCents = 700 }, key: "k", apiKey: "caller-a"));
        var get = new HttpRequestMessage(HttpMethod.Get, created.Headers.Location);
        get.Headers.Add("X-Api-Key", "caller-a");

        var read = await Http.SendAsync(app.Client, get);

        Assert.Equal(200, read.Status);
        Assert.Equal(created.Text, read.Text);
        Assert.False(read.Replayed);
    }

    [Fact]
    public async Task DatabaseDownAtStart_AppStarts_503Problem_RecoversWhenDatabaseAppears()
    {
        var schema = await TestSchema.CreateAsync(db, "users_boot");
        var port = FreePort();
        var target = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        var connectionString = new NpgsqlConnectionStringBuilder(TestSchema.ConnectionString(db, schema)) { Host = "127.0.0.1", Port = port, Timeout = 3 }.ConnectionString;
        await using var app = await RunningApp.StartAsync(UsersApp.Create([], builder =>
        {
            RunningApp.UseTestServer(builder);
            builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
            builder.Configuration["Idempotency:PurgeExpiredKeys"] = "false";
        }));

        var health = await Http.SendAsync(app.Client, new HttpRequestMessage(HttpMethod.Get, "/health"));
        var down = await Http.SendAsync(app.Client, Http.Post("/users", new { email = "boot@example.com", name = "Boot" }));
        Assert.Equal(503, health.Status);
        Assert.Equal(503, down.Status);
        Assert.Equal("database-unavailable", down.Code);

        // PostgreSQL "starts" on the port the app was pointed at: no restart of the app.
        await using var proxy = new IdempotentWrites.ConcurrencyTests.Faults.FaultProxy(target.Host!, target.Port, port);
        var deadline = Environment.TickCount64 + (long)Waits.Timeout.TotalMilliseconds;
        int status;
        do
        {
            status = (await Http.SendAsync(app.Client, Http.Post("/users", new { email = "boot@example.com", name = "Boot" }))).Status;
        }
        while (status != 201 && Environment.TickCount64 < deadline && await PauseAsync());

        Assert.Equal(201, status);
        Assert.Equal(200, (await Http.SendAsync(app.Client, new HttpRequestMessage(HttpMethod.Get, "/health"))).Status);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<bool> PauseAsync()
    {
        await Task.Delay(200); // polling for recovery, not orchestrating a race
        return true;
    }

    [Fact]
    public async Task Orders_20ParallelRequestsWithOneKey_OneOrderAndOneOutboxRow_ThenIdenticalReplays()
    {
        var schema = await TestSchema.CreateAsync(db, "orders_race");
        await using var app = await StartAsync(schema);
        var order = new { orderNumber = "A-1", userId = 7, amountCents = 4200, processingMs = 300 };

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = Enumerable.Range(0, 20).Select(async _ =>
        {
            await gate.Task;
            return await Http.SendAsync(app.Client, Http.Post("/orders", order, key: "order-1", apiKey: "caller-a"));
        }).ToArray();
        gate.SetResult();
        var replies = await Task.WhenAll(requests).WaitAsync(Waits.Timeout);

        var original = Assert.Single(replies, r => r.Status == 201 && !r.Replayed);
        Assert.All(replies, r => Assert.True(
            (r.Status == 201 && r.Text == original.Text) || (r.Status == 409 && r.Code == "in-progress"),
            $"unexpected {r.Status}: {r.Text}"));
        var replay = await Http.SendAsync(app.Client, Http.Post("/orders", order, key: "order-1", apiKey: "caller-a"));
        Assert.True(replay.Replayed);
        Assert.Equal(original.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "orders"));
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "outbox"));
        var id = JsonDocument.Parse(original.Text).RootElement.GetProperty("id").GetInt64();
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "outbox", $"(payload->>'orderId')::bigint = {id}"));
    }

    [Fact]
    public async Task Orders_InstanceKilledMidHandler_NoPartialRows_RetryCommitsOnce()
    {
        var schema = await TestSchema.CreateAsync(db, "orders_kill");
        var crashed = await StartAsync(schema, applicationName: "orders-crashed");
        await using var survivor = await StartAsync(schema);
        var order = new { orderNumber = "K-1", userId = 9, amountCents = 700, processingMs = 2_000 };
        var pending = Http.SendAsync(crashed.Client, Http.Post("/orders", order, key: "order-k", apiKey: "caller-a"));

        // The handler wrote the order and its outbox row, and waits before its commit: the process dies there. Its
        // connection drops with it, and PostgreSQL rolls its transaction back.
        var backend = await Waits.UntilIdleInTransactionAsync(db.DataSource, "orders-crashed");
        await db.ScalarAsync<bool>("SELECT pg_terminate_backend($1)", backend);
        await crashed.KillAsync();
        Reply? cutOff = null;
        try
        {
            cutOff = await pending;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
        {
            // The connection went down with the process.
        }

        // A stopping (not crashed) host may still answer: never with a committed order.
        Assert.True(cutOff is null || cutOff.Status >= 500, $"the cut-off request answered {cutOff?.Status}: {cutOff?.Text}");
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "orders"));
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "outbox"));

        // The key is in progress until its lease ends (a crash releases nothing), or already released when the dying
        // process still could: either way the retry then runs once.
        var retry = await Http.SendAsync(survivor.Client, Http.Post("/orders", order, key: "order-k", apiKey: "caller-a"));
        if (retry.Status == 409)
        {
            Assert.Equal("in-progress", retry.Code);
            await Sql.EndLeasesAsync(db, schema);
            retry = await Http.SendAsync(survivor.Client, Http.Post("/orders", order, key: "order-k", apiKey: "caller-a"));
        }

        Assert.Equal(201, retry.Status);
        var replay = await Http.SendAsync(survivor.Client, Http.Post("/orders", order, key: "order-k", apiKey: "caller-a"));
        Assert.True(replay.Replayed);
        Assert.Equal(retry.Body, replay.Body);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "orders"));
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "outbox"));
        await crashed.DisposeAsync();
    }

    private async Task<RunningApp> StartAsync(string schema, string? applicationName = null)
        => await RunningApp.StartAsync(UsersApp.Create([], builder =>
        {
            RunningApp.UseTestServer(builder);
            builder.Configuration["ConnectionStrings:Postgres"] = applicationName is null
                ? TestSchema.ConnectionString(db, schema)
                : TestSchema.ConnectionString(db, schema) + ";Application Name=" + applicationName;
            builder.Configuration["Idempotency:PurgeExpiredKeys"] = "false";
        }));
}
