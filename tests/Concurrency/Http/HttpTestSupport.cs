// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdempotentWrites.ConcurrencyTests.Http;

// A WebApplication on real Kestrel (127.0.0.1, a free port) with an HttpClient pointed at it.
public sealed class RunningApp : IAsyncDisposable
{
    private bool _stopped;

    private RunningApp(WebApplication app, Uri address)
    {
        App = app;
        Client = new HttpClient { BaseAddress = address, Timeout = Waits.Timeout };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<RunningApp> StartAsync(WebApplication app)
    {
        await app.StartAsync().WaitAsync(Waits.Timeout);
        return new RunningApp(app, new Uri(app.Urls.Single()));
    }

    public static void UseTestServer(WebApplicationBuilder builder)
    {
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter(static _ => false);
    }

    // Stops the server the way a crash would look to clients: in-flight requests are abandoned after a short grace.
    public async Task KillAsync()
    {
        _stopped = true;
        using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            await App.StopAsync(grace.Token).WaitAsync(Waits.Timeout);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_stopped)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await App.StopAsync(grace.Token).WaitAsync(Waits.Timeout);
        }

        await App.DisposeAsync();
    }
}

// A schema per test: the apps run with Search Path set to it, so their tables never meet another test's.
public static class TestSchema
{
    public static async Task<string> CreateAsync(PostgresFixture db, string prefix)
    {
        var schema = Names.Table(prefix);
        await db.ExecuteAsync($"CREATE SCHEMA {schema}");
        return schema;
    }

    public static string ConnectionString(PostgresFixture db, string schema)
        => db.ConnectionStringWith(b => b.SearchPath = schema);
}

public static class Http
{
    public static HttpRequestMessage Post(string path, object body, string? key = null, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        if (apiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", apiKey);
        }

        return request;
    }

    public static async Task<Reply> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await client.SendAsync(request).WaitAsync(Waits.Timeout);
            var body = await response.Content.ReadAsByteArrayAsync().WaitAsync(Waits.Timeout);
            return new Reply(response, body);
        }
    }
}

public sealed class Reply(HttpResponseMessage response, byte[] body)
{
    public int Status { get; } = (int)response.StatusCode;

    public byte[] Body { get; } = body;

    public string Text => Encoding.UTF8.GetString(Body);

    public HttpResponseHeaders Headers { get; } = response.Headers;

    public HttpContentHeaders ContentHeaders { get; } = response.Content.Headers;

    public bool Replayed => Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";

    public string? Header(string name)
        => Headers.TryGetValues(name, out var values) ? string.Join(",", values)
            : ContentHeaders.TryGetValues(name, out var content) ? string.Join(",", content) : null;

    public JsonElement Json() => JsonDocument.Parse(Body).RootElement.Clone();

    public string? Code => ContentHeaders.ContentType?.MediaType == "application/problem+json" ? Json().GetProperty("code").GetString() : null;
}

public static class Sql
{
    public static async Task<long> CountAsync(NpgsqlDataSource dataSource, string schema, string table, string where = "true")
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {schema}.{table} WHERE {where}");
        return (long)(await command.ExecuteScalarAsync().WaitAsync(Waits.Timeout))!;
    }

    // Ends every lease in the schema's key store, as the passing of time would (the store compares with the database clock).
    public static Task EndLeasesAsync(PostgresFixture db, string schema)
        => db.ExecuteAsync($"UPDATE {schema}.idempotency_keys SET locked_until = now() - interval '1 second' WHERE completed_at IS NULL");
}
