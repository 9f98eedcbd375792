// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using System.Text.Json;
using IdempotentWrites.AspNetCore;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class IdempotencyMiddlewareTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemoryIdempotencyStore _store;
    private ServiceProvider? _services;
    private int _runs;

    public IdempotencyMiddlewareTests()
    {
        _store = new InMemoryIdempotencyStore(_time);
    }

    public void Dispose() => _services?.Dispose();

    [Fact]
    public async Task Invoke_EndpointWithoutMetadata_CallsNext()
    {
        var middleware = Create(Created);

        var context = await SendAsync(middleware, key: null, metadata: []);

        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal(1, _runs);
        Assert.Empty(_store.Entries);
    }

    [Fact]
    public async Task Invoke_DisableOverridesRequire_CallsNext()
    {
        var middleware = Create(Created);

        await SendAsync(middleware, key: null, metadata: [new RequireIdempotencyKeyAttribute(), DisableIdempotencyAttribute.Instance]);

        Assert.Equal(1, _runs);
        Assert.Empty(_store.Entries);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task Invoke_SafeMethod_KeyIgnored(string method)
    {
        var middleware = Create(Created);

        await SendAsync(middleware, key: null, method: method);

        Assert.Equal(1, _runs);
        Assert.Empty(_store.Entries);
    }

    [Fact]
    public async Task Invoke_MissingKey_400MissingKey_HandlerNotRun()
    {
        var middleware = Create(Created);

        var context = await SendAsync(middleware, key: null);

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal("missing-key", Problem(context).GetProperty("code").GetString());
        Assert.Equal("An Idempotency-Key header is required.", Problem(context).GetProperty("title").GetString());
        Assert.Equal(0, _runs);
    }

    [Fact]
    public async Task Invoke_InvalidKey_400InvalidKeyWithReason()
    {
        var middleware = Create(Created);

        var context = await SendAsync(middleware, key: new string('k', 256));

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("invalid-key", Problem(context).GetProperty("code").GetString());
        Assert.Equal("The key is 256 characters long; at most 255 are allowed.", Problem(context).GetProperty("detail").GetString());
        Assert.Equal(0, _runs);
    }

    [Fact]
    public async Task Invoke_FirstRunThenRetry_StoredThenReplayedByteIdentical_AllowListedHeaders()
    {
        var middleware = Create(Created);

        var first = await SendAsync(middleware, key: "k");
        var replay = await SendAsync(middleware, key: "k");

        Assert.Equal(1, _runs);
        Assert.Equal(201, replay.Response.StatusCode);
        Assert.Equal(Body(first), Body(replay));
        Assert.Equal("true", replay.Response.Headers[IdempotencyHeaderNames.IdempotentReplayed]);
        Assert.False(first.Response.Headers.ContainsKey(IdempotencyHeaderNames.IdempotentReplayed));
        Assert.Equal("/things/1", replay.Response.Headers.Location);
        Assert.Equal("application/json; charset=utf-8", replay.Response.ContentType);
        Assert.False(replay.Response.Headers.ContainsKey("Set-Cookie"));
        Assert.Equal(Body(first).Length, replay.Response.ContentLength);
        var stored = Assert.Single(_store.Entries).Value.Response!;
        Assert.Equal(["Content-Type", "Location"], stored.Headers.Select(h => h.Key).ToArray());
    }

    [Fact]
    public async Task Invoke_SameKeyDifferentBody_422_StoredRecordUntouched()
    {
        var middleware = Create(Created);
        await SendAsync(middleware, key: "k", body: "{\"amount\":1}");
        var before = Assert.Single(_store.Entries).Value;

        var mismatch = await SendAsync(middleware, key: "k", body: "{\"amount\":2}");

        Assert.Equal(422, mismatch.Response.StatusCode);
        Assert.Equal("fingerprint-mismatch", Problem(mismatch).GetProperty("code").GetString());
        Assert.Same(before, Assert.Single(_store.Entries).Value);
        Assert.Equal(1, _runs);
    }

    [Fact]
    public async Task Invoke_KeyInProgress_409WithRetryAfterFromRemainingLease()
    {
        var middleware = Create(Created);
        await _store.ClaimAsync("anonymous:tests", "k", await FingerprintOfAsync("{}"), TimeSpan.FromSeconds(60), TimeSpan.FromHours(24), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(20.5));

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(409, context.Response.StatusCode);
        Assert.Equal("in-progress", Problem(context).GetProperty("code").GetString());
        Assert.Equal("40", context.Response.Headers.RetryAfter);
        Assert.Equal(0, _runs);
    }

    [Fact]
    public async Task Invoke_LeaseEnded_TakenOver_HandlerRuns()
    {
        var middleware = Create(Created);
        using var claims = Collector(IdempotentWritesAspNetCoreTelemetry.ClaimsCounter);
        await _store.ClaimAsync("anonymous:tests", "k", await FingerprintOfAsync("{}"), TimeSpan.FromSeconds(60), TimeSpan.FromHours(24), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(61));

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal(1, _runs);
        Assert.Equal("takeover", Assert.Single(claims.GetMeasurementSnapshot()).Tags["idempotent_writes.http.claim"]);
    }

    [Fact]
    public async Task Invoke_InProgressWithWaitTimeout_WaitsForTheFirstExecution_ThenReplays()
    {
        var middleware = Create(Created, o => o.InProgressWaitTimeout = TimeSpan.FromSeconds(1));
        var claim = await _store.ClaimAsync("anonymous:tests", "k", await FingerprintOfAsync("{}"), TimeSpan.FromSeconds(60), TimeSpan.FromHours(24), CancellationToken.None);

        var waiting = SendAsync(middleware, key: "k");
        Assert.False(waiting.IsCompleted);
        var stored = new IdempotencyResponse(201, [new("Location", "/things/9")], "{\"id\":9}"u8.ToArray(), false);
        await _store.CompleteAsync("anonymous:tests", "k", claim.FencingToken, stored, TimeSpan.FromHours(1), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var context = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(201, context.Response.StatusCode);
        Assert.Equal("true", context.Response.Headers[IdempotencyHeaderNames.IdempotentReplayed]);
        Assert.Equal("{\"id\":9}", Encoding.UTF8.GetString(Body(context)));
        Assert.Equal(0, _runs);
    }

    [Fact]
    public async Task Invoke_InProgressWithWaitTimeout_StillRunningAtTheDeadline_409()
    {
        var middleware = Create(Created, o => o.InProgressWaitTimeout = TimeSpan.FromMilliseconds(250));
        await _store.ClaimAsync("anonymous:tests", "k", await FingerprintOfAsync("{}"), TimeSpan.FromSeconds(60), TimeSpan.FromHours(24), CancellationToken.None);

        var waiting = SendAsync(middleware, key: "k");
        for (var i = 0; i < 3 && !waiting.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var context = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(409, context.Response.StatusCode);
        Assert.Equal("in-progress", Problem(context).GetProperty("code").GetString());
        Assert.Equal(0, _runs);
    }

    [Theory]
    [InlineData(500, false)]
    [InlineData(503, false)]
    [InlineData(408, false)]
    [InlineData(425, false)]
    [InlineData(429, false)]
    [InlineData(200, true)]
    [InlineData(204, true)]
    [InlineData(302, true)]
    [InlineData(400, true)]
    [InlineData(404, true)]
    [InlineData(409, true)]
    [InlineData(422, true)]
    public async Task Invoke_Status_StoredOrReleased(int status, bool stored)
    {
        var middleware = Create(context =>
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        });

        await SendAsync(middleware, key: "k");

        Assert.Equal(stored, _store.Entries.Count == 1);
        Assert.Equal(stored, IdempotencyMiddleware.IsStored(status));
    }

    [Fact]
    public async Task Invoke_HandlerThrows_KeyReleased_ExceptionRethrown()
    {
        var middleware = Create(_ => throw new InvalidOperationException("boom"));
        using var requests = Collector(IdempotentWritesAspNetCoreTelemetry.RequestsCounter);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SendAsync(middleware, key: "k"));

        Assert.Equal("boom", error.Message);
        Assert.Empty(_store.Entries);
        Assert.Equal("exception", Assert.Single(requests.GetMeasurementSnapshot()).Tags["idempotent_writes.http.result"]);
    }

    [Theory]
    [InlineData(413)]
    [InlineData(400)]
    [InlineData(408)]
    public async Task Invoke_BodyUnreadable_ItsStatusAsBadRequestProblem_NothingClaimed_HandlerNotRun(int status)
    {
        var middleware = Create(Created);
        using var requests = Collector(IdempotentWritesAspNetCoreTelemetry.RequestsCounter);

        var context = await SendAsync(middleware, key: "k", requestBody: new ThrowingStream(new BadHttpRequestException("Unreadable.", status)));

        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal("bad-request", Problem(context).GetProperty("code").GetString());
        Assert.Equal(status, Problem(context).GetProperty("status").GetInt32());
        Assert.Equal(0, _runs);
        Assert.Empty(_store.Entries);
        Assert.Equal("bad_request", Assert.Single(requests.GetMeasurementSnapshot()).Tags["idempotent_writes.http.result"]);
    }

    [Fact]
    public async Task Invoke_HandlerThrowsBadHttpRequest_ItsStatusAsBadRequestProblem_KeyReleased()
    {
        var middleware = Create(_ => throw new BadHttpRequestException("Failed to read parameter \"PaymentInput input\" from the request body as JSON.", 400));

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("bad-request", Problem(context).GetProperty("code").GetString());
        Assert.Empty(_store.Entries);
        Assert.Equal(201, (await SendAsync(Create(Created), key: "k")).Response.StatusCode);
    }

    [Fact]
    public async Task Invoke_HandlerThrowsUniqueViolation_409ProblemStoredAndReplayed()
    {
        var middleware = Create(_ => throw new UniqueViolationException("public", "users", "users_email_key", ["email"], [], false, new Dictionary<string, object?> { ["email"] = "a@example.com" }, null));

        var first = await SendAsync(middleware, key: "k");
        var replay = await SendAsync(middleware, key: "k");

        Assert.Equal(409, first.Response.StatusCode);
        Assert.Equal("unique-violation", Problem(first).GetProperty("code").GetString());
        Assert.DoesNotContain("a@example.com", Encoding.UTF8.GetString(Body(first)), StringComparison.Ordinal);
        Assert.Equal(409, replay.Response.StatusCode);
        Assert.Equal(Body(first), Body(replay));
        Assert.Equal("true", replay.Response.Headers[IdempotencyHeaderNames.IdempotentReplayed]);
    }

    [Fact]
    public async Task Invoke_HandlerThrowsSerializationFailure_409RetryableConflict_KeyReleased()
    {
        var middleware = Create(_ => throw new TransientConflictException("serialization failure", "40001", null));

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(409, context.Response.StatusCode);
        Assert.Equal("retryable-conflict", Problem(context).GetProperty("code").GetString());
        Assert.Empty(_store.Entries);
    }

    [Fact]
    public async Task Invoke_StoreUnavailable_503WithRetryAfter_HandlerNotRun()
    {
        _store.FailClaimsWith = new NpgsqlException("connection refused");
        var middleware = Create(Created);
        using var requests = Collector(IdempotentWritesAspNetCoreTelemetry.RequestsCounter);

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("store-unavailable", Problem(context).GetProperty("code").GetString());
        Assert.Equal("5", context.Response.Headers.RetryAfter);
        Assert.Equal(0, _runs);
        Assert.Equal("store_unavailable", Assert.Single(requests.GetMeasurementSnapshot()).Tags["idempotent_writes.http.result"]);
    }

    [Fact]
    public async Task Invoke_ResponseOverCap_StatusAndHeadersStored_BodyOmitted_ReplayEmpty()
    {
        var middleware = Create(
            async context =>
            {
                _runs++;
                context.Response.StatusCode = 201;
                context.Response.Headers.Location = "/big";
                await context.Response.Body.WriteAsync(new byte[100]);
            },
            o => o.MaxResponseBodySize = 64);

        var first = await SendAsync(middleware, key: "k");
        var replay = await SendAsync(middleware, key: "k");

        Assert.Equal(100, Body(first).Length);
        Assert.True(Assert.Single(_store.Entries).Value.Response!.IsBodyOmitted);
        Assert.Equal(201, replay.Response.StatusCode);
        Assert.Equal("/big", replay.Response.Headers.Location);
        Assert.Empty(Body(replay));
        Assert.Equal(1, _runs);
    }

    [Fact]
    public async Task Invoke_ClaimLostBeforeCompletion_ResponseNotStored_Counted()
    {
        _store.LoseClaims = true;
        var middleware = Create(Created);
        using var requests = Collector(IdempotentWritesAspNetCoreTelemetry.RequestsCounter);

        var context = await SendAsync(middleware, key: "k");

        Assert.Equal(201, context.Response.StatusCode);
        Assert.Null(Assert.Single(_store.Entries).Value.Response);
        Assert.Equal("claim_lost", Assert.Single(requests.GetMeasurementSnapshot()).Tags["idempotent_writes.http.result"]);
    }

    [Fact]
    public async Task Invoke_ScopesSeparateCallers()
    {
        var middleware = Create(Created, o => o.AnonymousScope = null);

        var a = await SendAsync(middleware, key: "k", user: "alice");
        var b = await SendAsync(middleware, key: "k", user: "bob");

        Assert.Equal(2, _runs);
        Assert.Equal(["principal:alice", "principal:bob"], _store.Entries.Keys.Select(k => k.Scope).Order().ToArray());
        Assert.False(b.Response.Headers.ContainsKey(IdempotencyHeaderNames.IdempotentReplayed));
        Assert.Equal(201, a.Response.StatusCode);
    }

    [Fact]
    public async Task Invoke_AnonymousWithoutPartition_Throws()
    {
        var middleware = Create(Created, o => o.AnonymousScope = null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SendAsync(middleware, key: "k"));

        Assert.Equal(
            "The request has no idempotency scope: the caller is anonymous and HttpIdempotencyOptions.AnonymousScope is not set. Authenticate the endpoint, set AnonymousScope, or register an IIdempotencyScopeResolver.",
            error.Message);
    }

    [Fact]
    public async Task Invoke_UnknownPolicy_Throws()
    {
        var middleware = Create(Created);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SendAsync(middleware, key: "k", metadata: [new RequireIdempotencyKeyAttribute("nope")]));

        Assert.Equal("The endpoint requires the idempotency policy 'nope', but no policy has that name; add it with options.AddPolicy(\"nope\", ...) in AddHttpIdempotency.", error.Message);
    }

    [Fact]
    public async Task Invoke_NamedPolicy_LeaseFromPolicy()
    {
        var middleware = Create(Created, o => o.AddPolicy("short", p => p.Lease = TimeSpan.FromSeconds(5)));
        await _store.ClaimAsync("anonymous:tests", "k", await FingerprintOfAsync("{}"), TimeSpan.FromSeconds(5), TimeSpan.FromHours(1), CancellationToken.None);

        var context = await SendAsync(middleware, key: "k", metadata: [new RequireIdempotencyKeyAttribute("short")]);

        Assert.Equal("5", context.Response.Headers.RetryAfter);
    }

    [Fact]
    public void Create_TransactionalWithCustomStore_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Create(Created, o => o.Transactional = true));

        Assert.StartsWith(
            "Transactional idempotency needs a key store that implements IIdempotencyTransactionalStore (the PostgreSQL key store does), but IIdempotencyStore is IdempotentWrites.UnitTests.AspNetCore.InMemoryIdempotencyStore, which does not;",
            error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TransactionalWithCustomTransactionalStore_Accepted()
    {
        // The middleware asks for the capability, not for the PostgreSQL store class.
        var middleware = Create(Created, o => o.Transactional = true, new TransactionalStore(_store));

        Assert.NotNull(middleware);
    }

    [Fact]
    public void UseIdempotency_WithoutAddHttpIdempotency_ThrowsNamingTheAddCall()
    {
        var app = new ApplicationBuilder(new ServiceCollection().BuildServiceProvider());

        var error = Assert.Throws<InvalidOperationException>(() => app.UseIdempotency());

        Assert.Equal(
            "Unable to find the required services. Add them by calling 'services.AddIdempotentWrites().AddHttpIdempotency(...)' in the application startup code before calling 'app.UseIdempotency()'.",
            error.Message);
    }

    private static JsonElement Problem(HttpContext context) => JsonDocument.Parse(Body(context)).RootElement;

    private static byte[] Body(HttpContext context) => ((MemoryStream)context.Response.Body).ToArray();

    private static async Task<byte[]> FingerprintOfAsync(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/things";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return await RequestFingerprint.ComputeAsync(context, CancellationToken.None);
    }

    private Task Created(HttpContext context)
    {
        _runs++;
        context.Response.StatusCode = 201;
        context.Response.Headers.Location = "/things/1";
        context.Response.Headers.SetCookie = "session=secret";
        return context.Response.WriteAsJsonAsync(new { id = 1, run = _runs });
    }

    private IdempotencyMiddleware Create(RequestDelegate next, Action<HttpIdempotencyOptions>? configure = null, IIdempotencyStore? store = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton<IIdempotencyStore>(store ?? _store);
        services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1;Port=1")
            .AddConflictProblemDetails()
            .AddHttpIdempotency(o =>
            {
                o.AnonymousScope = "tests";
                configure?.Invoke(o);
            });
        _services = services.BuildServiceProvider();
        return ActivatorUtilities.CreateInstance<IdempotencyMiddleware>(_services, next);
    }

    // Call after Create: the collector listens to that service provider's meter factory.
    private MetricCollector<long> Collector(string instrument)
        => new(_services!.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), IdempotentWritesAspNetCoreTelemetry.MeterName, instrument);

    private async Task<DefaultHttpContext> SendAsync(IdempotencyMiddleware middleware, string? key, string body = "{}", object[]? metadata = null, string method = "POST", string? user = null, Stream? requestBody = null)
    {
        var context = new DefaultHttpContext { RequestServices = _services! };
        context.Request.Method = method;
        context.Request.Path = "/things";
        context.Request.ContentType = "application/json";
        context.Request.Body = requestBody ?? new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Response.Body = new MemoryStream();
        if (key is not null)
        {
            context.Request.Headers["Idempotency-Key"] = key;
        }

        if (user is not null)
        {
            context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, user)], "test"));
        }

        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(metadata ?? [new RequireIdempotencyKeyAttribute()]), "things"));
        await middleware.Invoke(context);
        return context;
    }

    // A request body Kestrel cannot read: every read throws what Kestrel throws.
    private sealed class ThrowingStream(Exception exception) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw exception;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(exception);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // A custom store with the transactional capability (its transactional members are not called here).
    private sealed class TransactionalStore(InMemoryIdempotencyStore inner) : IIdempotencyTransactionalStore
    {
        public ValueTask<IdempotencyClaim> ClaimAsync(string scope, string key, ReadOnlyMemory<byte> fingerprint, TimeSpan lease, TimeSpan retention, CancellationToken cancellationToken)
            => inner.ClaimAsync(scope, key, fingerprint, lease, retention, cancellationToken);

        public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, IdempotencyResponse response, TimeSpan retention, CancellationToken cancellationToken)
            => inner.CompleteAsync(scope, key, fencingToken, response, retention, cancellationToken);

        public ValueTask<bool> ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
            => inner.ReleaseAsync(scope, key, fencingToken, cancellationToken);

        public ValueTask<int> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken) => inner.PurgeExpiredAsync(batchSize, cancellationToken);

        public ValueTask<NpgsqlTransaction> BeginTransactionAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> CompleteAsync(NpgsqlTransaction transaction, string scope, string key, long fencingToken, IdempotencyResponse response, TimeSpan retention, CancellationToken cancellationToken)
            => throw new NotSupportedException();

        public ValueTask<bool> ReleaseAsync(NpgsqlConnection connection, string scope, string key, long fencingToken, CancellationToken cancellationToken)
            => throw new NotSupportedException();

        public ValueTask<IdempotencyRecord?> GetAsync(NpgsqlConnection connection, string scope, string key, CancellationToken cancellationToken)
            => throw new NotSupportedException();
    }
}
