// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.UnitTests;

public class IdempotentWritesOptionsTests
{
    [Fact]
    public void Ctor_Defaults()
    {
        var options = new IdempotentWritesOptions();

        Assert.Null(options.ConnectionString);
        Assert.Null(options.DataSourceServiceKey);
        Assert.Equal(2, options.MaxReselectAttempts);
        Assert.True(options.ValidateMappingsOnStartup);
        Assert.Equal(ColumnNamingConvention.SnakeCase, options.ColumnNaming);
        Assert.True(options.PrepareStatements);
        Assert.False(options.TransactionPooling);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout);
        Assert.Equal("IdempotentWrites.Retry", options.Retry.Name);
        Assert.Equal(6, options.Retry.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.Retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Retry.MaxDelay);
        Assert.Equal(Polly.DelayBackoffType.Exponential, options.Retry.BackoffType);
        Assert.True(options.Retry.UseJitter);
        Assert.False(options.CoalesceWrites);
        Assert.Equal(256, options.MaxCoalescedRows);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(2 * 24 * 3600)]
    public void Validate_TimeoutOutOfRange_ThrowsNamingOption(int seconds)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.Timeout = TimeSpan.FromSeconds(seconds)));

        Assert.Equal($"IdempotentWritesOptions.Timeout must be positive and at most one day; it is {TimeSpan.FromSeconds(seconds)}.", ex.Message);
    }

    [Theory]
    [InlineData(ColumnNamingConvention.SnakeCase)]
    [InlineData(ColumnNamingConvention.AsIs)]
    public void Validate_ColumnNamingDefined_Valid(ColumnNamingConvention convention)
    {
        var options = Resolve(o => o.ColumnNaming = convention);

        Assert.Equal(convention, options.ColumnNaming);
    }

    [Fact]
    public void Validate_ColumnNamingUndefined_ThrowsNamingOption()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.ColumnNaming = (ColumnNamingConvention)7));

        Assert.Equal("IdempotentWritesOptions.ColumnNaming must be SnakeCase or AsIs; it is 7.", ex.Message);
    }

    [Fact]
    public void Validate_RetryAttemptsZero_ThrowsNamingOption()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.Retry.MaxRetryAttempts = 0));

        Assert.Contains("MaxRetryAttempts", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Valid()
    {
        var options = Resolve(_ => { });

        Assert.Equal(2, options.MaxReselectAttempts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void Validate_MaxReselectAttemptsInRange_Valid(int attempts)
    {
        var options = Resolve(o => o.MaxReselectAttempts = attempts);

        Assert.Equal(attempts, options.MaxReselectAttempts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(101)]
    public void Validate_MaxReselectAttemptsOutOfRange_ThrowsNamingOption(int attempts)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.MaxReselectAttempts = attempts));

        Assert.Equal("MaxReselectAttempts: The field IdempotentWritesOptions.MaxReselectAttempts must be between 1 and 100.", ex.Message);
        Assert.Equal(typeof(IdempotentWritesOptions), ex.OptionsType);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10_001)]
    public void Validate_MaxCoalescedRowsOutOfRange_ThrowsNamingOption(int rows)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.MaxCoalescedRows = rows));

        Assert.Equal("MaxCoalescedRows: The field IdempotentWritesOptions.MaxCoalescedRows must be between 2 and 10000.", ex.Message);
    }

    [Fact]
    public void Validate_ValidConnectionString_Valid()
    {
        var options = Resolve(o => o.ConnectionString = "Host=localhost;Username=app;Password=s3cret;Database=app");

        Assert.Equal("Host=localhost;Username=app;Password=s3cret;Database=app", options.ConnectionString);
    }

    [Fact]
    public void Validate_MalformedConnectionString_Throws()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.ConnectionString = "Host=;;=x"));

        Assert.Equal(
            "IdempotentWritesOptions.ConnectionString is not a valid Npgsql connection string: Format of the initialization string does not conform to specification starting at index 7.",
            ex.Message);
    }

    [Theory]
    [InlineData("Foo=bar")]
    [InlineData("Password=s3cret;Bogus Key=1")]
    [InlineData("Host=localhost;Password=s3cret;Port=s3cret")]
    public void Validate_UnknownOrInvalidKeyword_ThrowsWithoutEchoingPassword(string connectionString)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.ConnectionString = connectionString));

        Assert.StartsWith("IdempotentWritesOptions.ConnectionString is not a valid Npgsql connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", string.Join("\n", ex.Failures), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Validate_BogusKeyword_MessageNamesTheKeyword()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.ConnectionString = "Password=s3cret;Bogus Key=1"));

        Assert.Equal(
            "IdempotentWritesOptions.ConnectionString is not a valid Npgsql connection string: Couldn't set bogus key (Parameter 'bogus key')",
            ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_BlankConnectionString_Throws(string connectionString)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o => o.ConnectionString = connectionString));

        Assert.Equal(
            "IdempotentWritesOptions.ConnectionString is empty; set a connection string or leave it null to use the NpgsqlDataSource registered in DI.",
            ex.Message);
    }

    [Fact]
    public void Validate_ConnectionStringAndDataSourceServiceKey_Throws()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o =>
        {
            o.ConnectionString = "Host=localhost";
            o.DataSourceServiceKey = "billing";
        }));

        Assert.Equal(
            "IdempotentWritesOptions.ConnectionString and IdempotentWritesOptions.DataSourceServiceKey are both set; set one of them.",
            ex.Message);
    }

    [Fact]
    public void Validate_DataSourceServiceKeyAlone_Valid()
    {
        var options = Resolve(o => o.DataSourceServiceKey = "billing");

        Assert.Equal("billing", options.DataSourceServiceKey);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEveryFailure()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(o =>
        {
            o.ConnectionString = " ";
            o.MaxReselectAttempts = 0;
        }));

        Assert.Equal(
            [
                "MaxReselectAttempts: The field IdempotentWritesOptions.MaxReselectAttempts must be between 1 and 100.",
                "IdempotentWritesOptions.ConnectionString is empty; set a connection string or leave it null to use the NpgsqlDataSource registered in DI.",
            ],
            ex.Failures);
    }

    private static IdempotentWritesOptions Resolve(Action<IdempotentWritesOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<IdempotentWritesOptions>>().Value;
    }
}
