// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Text;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class RequestFingerprintTests
{
    [Fact]
    public async Task Compute_SameRequest_SameFingerprint_BodyRewoundForTheHandler()
    {
        var first = Request(body: "{\"a\":1}");
        var second = Request(body: "{\"a\":1}");

        var a = await RequestFingerprint.ComputeAsync(first, CancellationToken.None);
        var b = await RequestFingerprint.ComputeAsync(second, CancellationToken.None);

        Assert.Equal(32, a.Length);
        Assert.Equal(a, b);
        Assert.Equal("{\"a\":1}", await new StreamReader(first.Request.Body).ReadToEndAsync());
    }

    [Theory]
    [InlineData("PUT", "/payments/1", "?b=2&a=1", "application/json", "{\"a\":1}", "/payments/{id}")]
    [InlineData("POST", "/payments/2", "?b=2&a=1", "application/json", "{\"a\":1}", "/payments/{id}")]
    [InlineData("POST", "/payments/1", "?b=3&a=1", "application/json", "{\"a\":1}", "/payments/{id}")]
    [InlineData("POST", "/payments/1", "?b=2&a=1", "text/plain", "{\"a\":1}", "/payments/{id}")]
    [InlineData("POST", "/payments/1", "?b=2&a=1", "application/json", "{\"a\":2}", "/payments/{id}")]
    [InlineData("POST", "/payments/1", "?b=2&a=1", "application/json", "{\"a\":1}", "/payments/{other}")]
    [InlineData("POST", "/payments/1", "?b=2&a=1", "application/json", "", "/payments/{id}")]
    public async Task Compute_AnyPartDiffers_DifferentFingerprint(string method, string path, string query, string contentType, string body, string route)
    {
        var baseline = await RequestFingerprint.ComputeAsync(Request(), CancellationToken.None);

        var other = await RequestFingerprint.ComputeAsync(Request(method, path, query, contentType, body, route), CancellationToken.None);

        Assert.NotEqual(baseline, other);
    }

    [Fact]
    public async Task Compute_QueryKeyOrderAndContentTypeSpelling_Canonicalized()
    {
        var baseline = await RequestFingerprint.ComputeAsync(Request(query: "?b=2&a=1", contentType: "application/json; charset=utf-8"), CancellationToken.None);

        var other = await RequestFingerprint.ComputeAsync(Request(query: "?a=1&b=2", contentType: "Application/JSON;charset=UTF-8"), CancellationToken.None);

        Assert.Equal(baseline, other);
    }

    [Fact]
    public void CanonicalQuery_SortsKeys_KeepsValueOrder_Escapes()
    {
        var query = new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues>
        {
            ["z"] = new(["2", "1"]),
            ["a b"] = "x&y",
        });

        Assert.Equal("a%20b=x%26y&z=2&z=1", RequestFingerprint.CanonicalQuery(query));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("APPLICATION/JSON", "application/json")]
    [InlineData("text/plain; charset=\"UTF-8\"; Format=Flowed", "text/plain;charset=utf-8;format=Flowed")]
    public void CanonicalContentType(string? contentType, string expected)
        => Assert.Equal(expected, RequestFingerprint.CanonicalContentType(contentType));

    private static DefaultHttpContext Request(
        string method = "POST",
        string path = "/payments/1",
        string query = "?b=2&a=1",
        string contentType = "application/json",
        string body = "{\"a\":1}",
        string route = "/payments/{id}")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Request.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), 0, EndpointMetadataCollection.Empty, route));
        return context;
    }
}
