// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using UsersApi;

namespace IdempotentWrites.ConcurrencyTests.Http;

// No client input produces a 500 (#12): requests Kestrel cannot read (a body over its limit, broken chunked framing) and
// malformed JSON, sent to samples/Users.Api's POST /payments with and without an Idempotency-Key, on real Kestrel.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class BadRequestTests(PostgresFixture db)
{
    private const long MaxRequestBodySize = 1024;

    [Fact]
    public async Task OversizedBody_WithKey_413BadRequestProblem_KeyNotConsumed()
    {
        var schema = await TestSchema.CreateAsync(db, "bad_size");
        await using var app = await StartAsync(schema);
        var oversized = new { userId = 1, amountCents = 100, padding = new string('x', 4096) };

        var rejected = await Http.SendAsync(app.Client, Http.Post("/payments", oversized, key: "k-size", apiKey: "caller-a"));

        Assert.Equal(413, rejected.Status);
        Assert.Equal("application/problem+json", rejected.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("bad-request", rejected.Code);
        Assert.Equal(413, rejected.Json().GetProperty("status").GetInt32());
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));

        // The key is still free: the corrected request runs.
        var corrected = await Http.SendAsync(app.Client, Http.Post("/payments", new { userId = 1, amountCents = 100 }, key: "k-size", apiKey: "caller-a"));
        Assert.Equal(201, corrected.Status);
        Assert.False(corrected.Replayed);
        Assert.Equal(1, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Fact]
    public async Task OversizedBody_WithoutKeyOnBaseline_413()
    {
        var schema = await TestSchema.CreateAsync(db, "bad_size");
        await using var app = await StartAsync(schema);
        var oversized = new { userId = 1, amountCents = 100, padding = new string('x', 4096) };

        var rejected = await Http.SendAsync(app.Client, Http.Post("/payments/baseline", oversized, apiKey: "caller-a"));

        Assert.Equal(413, rejected.Status);
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BadChunkedFraming_WithAndWithoutKey_400NotA500(bool withKey)
    {
        var schema = await TestSchema.CreateAsync(db, "bad_chunk");
        await using var app = await StartAsync(schema);
        var address = new Uri(app.App.Urls.Single());
        var path = withKey ? "/payments" : "/payments/baseline";
        var request = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Api-Key: caller-a\r\n"
            + (withKey ? "Idempotency-Key: k-chunk\r\n" : string.Empty)
            + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";

        var response = await SendRawAsync(address, request);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        if (withKey)
        {
            Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("\"code\":\"bad-request\"", response, StringComparison.Ordinal);
            Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
        }

        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));
    }

    // In Production minimal APIs answer malformed JSON with 400 themselves (a response like any other: stored under the key);
    // in Development they throw BadHttpRequestException, which the middleware answers with 400 and releases the key.
    [Theory]
    [InlineData("Production", true)]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    [InlineData("Development", false)]
    public async Task MalformedJson_WithAndWithoutKey_400NotA500(string environment, bool withKey)
    {
        var schema = await TestSchema.CreateAsync(db, "bad_json");
        await using var app = await StartAsync(schema, environment);
        var request = new HttpRequestMessage(HttpMethod.Post, withKey ? "/payments" : "/payments/baseline")
        {
            Content = new StringContent("""{"userId":1,"amountCents":""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", "caller-a");
        if (withKey)
        {
            request.Headers.Add("Idempotency-Key", "k-json");
        }

        var reply = await Http.SendAsync(app.Client, request);

        Assert.Equal(400, reply.Status);
        Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "payments"));
        if (withKey && environment == "Development")
        {
            Assert.Equal("bad-request", reply.Code);
            Assert.Equal(0, await Sql.CountAsync(db.DataSource, schema, "idempotency_keys"));
        }
    }

    private static async Task<string> SendRawAsync(Uri address, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port).WaitAsync(Waits.Timeout);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask().WaitAsync(Waits.Timeout);

        // Kestrel closes the connection after a request it could not read: read to the end.
        using var response = new MemoryStream();
        await stream.CopyToAsync(response).WaitAsync(Waits.Timeout);
        return Encoding.UTF8.GetString(response.ToArray());
    }

    private async Task<RunningApp> StartAsync(string schema, string environment = "Production")
        => await RunningApp.StartAsync(UsersApp.Create(["--environment", environment], builder =>
        {
            RunningApp.UseTestServer(builder);
            builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = MaxRequestBodySize);
            builder.Configuration["ConnectionStrings:Postgres"] = TestSchema.ConnectionString(db, schema);
            builder.Configuration["Idempotency:PurgeExpiredKeys"] = "false";
            builder.Configuration["Benchmark:MapBaseline"] = "true";
        }));
}
