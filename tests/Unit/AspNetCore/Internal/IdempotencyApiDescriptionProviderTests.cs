// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdempotentWrites.UnitTests.AspNetCore.Internal;

public sealed class IdempotencyApiDescriptionProviderTests
{
    [Fact]
    public async Task Describe_EndpointRequiringKey_HeaderAndProblemResponses_OthersUntouched()
    {
        // Started (on a free loopback port) because the endpoints reach ApiExplorer when the request pipeline is built.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1;Port=1").AddHttpIdempotency();
        await using var app = builder.Build();
        app.UseIdempotency();
        app.MapPost("/payments", () => Results.Created("/payments/1", new { id = 1 })).RequireIdempotencyKey();
        app.MapPost("/open", () => Results.Ok()).RequireIdempotencyKey().DisableIdempotency();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var descriptions = app.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>().ApiDescriptionGroups.Items.SelectMany(g => g.Items).ToList();

        var payments = descriptions.Single(d => d.RelativePath == "payments");
        var header = Assert.Single(payments.ParameterDescriptions, p => p.Source == BindingSource.Header);
        Assert.Equal(("Idempotency-Key", true, typeof(string)), (header.Name, header.IsRequired, header.Type));
        foreach (var status in new[] { 400, 409, 422 })
        {
            var response = Assert.Single(payments.SupportedResponseTypes, r => r.StatusCode == status);
            Assert.Equal("application/problem+json", Assert.Single(response.ApiResponseFormats).MediaType);
        }

        var open = descriptions.Single(d => d.RelativePath == "open");
        Assert.DoesNotContain(open.ParameterDescriptions, p => p.Source == BindingSource.Header);
        Assert.DoesNotContain(open.SupportedResponseTypes, r => r.StatusCode == 422);
    }
}
