// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.UnitTests.AspNetCore;

public sealed class HttpIdempotencyOptionsTests
{
    [Fact]
    public void Defaults()
    {
        var options = new HttpIdempotencyOptions();

        Assert.Equal("Idempotency-Key", options.HeaderName);
        Assert.True(options.LenientKeyParsing);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Lease);
        Assert.Equal(TimeSpan.FromHours(24), options.Retention);
        Assert.Equal(1024 * 1024, options.MaxResponseBodySize);
        Assert.Equal(TimeSpan.Zero, options.InProgressWaitTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.InProgressPollInterval);
        Assert.False(options.Transactional);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StoreTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StoreUnavailableRetryAfter);
        Assert.Null(options.SchemaName);
        Assert.Equal("idempotency_keys", options.TableName);
        Assert.False(options.CreateStoreTable);
        Assert.True(options.PurgeExpiredKeys);
        Assert.Equal(TimeSpan.FromMinutes(5), options.PurgeInterval);
        Assert.Equal(1000, options.PurgeBatchSize);
        Assert.Null(options.AnonymousScope);
        Assert.Equal(
            ["Cache-Control", "Content-Language", "Content-Location", "Content-Type", "ETag", "Last-Modified", "Link", "Location"],
            options.ReplayedHeaders.Order(StringComparer.Ordinal).ToArray());
        Assert.Empty(options.Policies);
    }

    [Fact]
    public void Validate_InvalidValues_ExactMessages()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(o =>
        {
            o.Lease = TimeSpan.FromHours(2);
            o.Retention = TimeSpan.FromHours(1);
            o.ReplayedHeaders.Add("Set-Cookie");
            o.PurgeBatchSize = 0;
            o.AddPolicy("p", p => p.InProgressWaitTimeout = TimeSpan.FromHours(1));
        }));

        Assert.Equal(
            [
                "PurgeBatchSize: The field HttpIdempotencyOptions.PurgeBatchSize must be between 1 and 100000.",
                "HttpIdempotencyOptions.Retention (01:00:00) is shorter than HttpIdempotencyOptions.Lease (02:00:00); a key must outlive its lease.",
                "HttpIdempotencyOptions.ReplayedHeaders contains 'Set-Cookie', which is never replayed.",
                "Idempotency policy 'p': Retention (01:00:00) is shorter than Lease (02:00:00); a key must outlive its lease.",
                "Idempotency policy 'p': InProgressWaitTimeout is 01:00:00; it must be between 00:00:00 and 00:10:00.",
            ],
            error.Failures.ToArray());
    }

    [Fact]
    public void AddPolicy_DuplicateName_Throws()
    {
        var options = new HttpIdempotencyOptions().AddPolicy("p", _ => { });

        var error = Assert.Throws<InvalidOperationException>(() => options.AddPolicy("p", _ => { }));

        Assert.Equal("An idempotency policy named 'p' was already added.", error.Message);
    }

    [Fact]
    public void Policies_InheritUnsetValues()
    {
        var policies = new IdempotencyPolicies(Options.Create(new HttpIdempotencyOptions { Lease = TimeSpan.FromSeconds(30) }.AddPolicy("p", p => p.Retention = TimeSpan.FromHours(2))));

        Assert.Equal(new EffectivePolicy(TimeSpan.FromSeconds(30), TimeSpan.FromHours(2), 1024 * 1024, TimeSpan.Zero, false), policies.Get("p"));
        Assert.Equal(TimeSpan.FromHours(24), policies.Get(null).Retention);
    }

    [Fact]
    public void ConflictOptions_Defaults_AndValidation()
    {
        var options = new ConflictProblemDetailsOptions();
        Assert.False(options.IncludeValues);
        Assert.Null(options.ProblemTypeBaseUri);
        Assert.Empty(options.ConstraintMessages);
        Assert.Equal(409, options.StatusCodes["unique-violation"]);
        Assert.Equal(422, options.StatusCodes["check-violation"]);

        options.StatusCodes["check-violation"] = 500;
        options.ProblemTypeBaseUri = new Uri("/problems/", UriKind.Relative);
        var result = new ConflictProblemDetailsOptionsValidator().Validate(null, options);

        Assert.Equal(
            ["ConflictProblemDetailsOptions.StatusCodes[\"check-violation\"] is 500; it must be a 4xx status code.", "ConflictProblemDetailsOptions.ProblemTypeBaseUri is '/problems/'; it must be an absolute URI."],
            result.Failures!.ToArray());
    }

    private static HttpIdempotencyOptions Resolve(Action<HttpIdempotencyOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = "Host=127.0.0.1").AddHttpIdempotency(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<HttpIdempotencyOptions>>().Value;
    }
}
