// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Writing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.UnitTests;

public class IdempotentWritesServiceCollectionExtensionsTests
{
    [Fact]
    public void AddIdempotentWrites_NullServices_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => IdempotentWritesServiceCollectionExtensions.AddIdempotentWrites(null!));

        Assert.Equal("services", ex.ParamName);
    }

    [Fact]
    public void AddIdempotentWrites_NullConfigure_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddIdempotentWrites(null!));

        Assert.Equal("configure", ex.ParamName);
    }

    [Fact]
    public void AddIdempotentWrites_ReturnsBuilderOverSameServices()
    {
        var services = new ServiceCollection();

        var builder = services.AddIdempotentWrites();

        Assert.Same(services, builder.Services);
    }

    [Fact]
    public void AddIdempotentWrites_CalledTwice_RegistersOnce()
    {
        var services = new ServiceCollection();

        services.AddIdempotentWrites();
        services.AddIdempotentWrites();

        Assert.Single(services, d => d.ServiceType == typeof(IIdempotentWriter));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(MappingValidationService));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<IdempotentWritesOptions>) && d.ImplementationType == typeof(IdempotentWritesOptionsCustomValidator));
    }

    [Fact]
    public void GetService_NoConnectionStringAndNoDataSource_ThrowsNamingBothFixes()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites();
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<IIdempotentWriter>);

        Assert.Equal(
            "IdempotentWritesOptions.ConnectionString is not set and no NpgsqlDataSource is registered; set the option or call services.AddNpgsqlDataSource(...).",
            ex.Message);
    }

    [Fact]
    public void GetService_KeyWithoutKeyedDataSource_ThrowsNamingKey()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.DataSourceServiceKey = "billing");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<IIdempotentWriter>);

        Assert.Equal(
            "IdempotentWritesOptions.DataSourceServiceKey is 'billing', but no NpgsqlDataSource is registered under that key.",
            ex.Message);
    }

    [Fact]
    public async Task GetService_RegisteredDataSource_IsUsed()
    {
        await using var dataSource = NpgsqlDataSource.Create("Host=localhost;Database=unit");
        var services = new ServiceCollection();
        services.AddSingleton(dataSource);
        services.AddIdempotentWrites();
        await using var provider = services.BuildServiceProvider();

        var writer = provider.GetRequiredService<IIdempotentWriter>();

        Assert.Same(provider.GetRequiredService<IdempotentWriter>(), writer);
        Assert.Same(dataSource, provider.GetRequiredService<IdempotentWritesDataSource>().DataSource);
    }

    [Fact]
    public async Task GetService_KeyedDataSource_IsUsed()
    {
        await using var unkeyed = NpgsqlDataSource.Create("Host=localhost;Database=other");
        await using var keyed = NpgsqlDataSource.Create("Host=localhost;Database=billing");
        var services = new ServiceCollection();
        services.AddSingleton(unkeyed);
        services.AddKeyedSingleton("billing", keyed);
        services.AddIdempotentWrites(o => o.DataSourceServiceKey = "billing");
        await using var provider = services.BuildServiceProvider();

        Assert.Same(keyed, provider.GetRequiredService<IdempotentWritesDataSource>().DataSource);
    }

    [Theory]
    [InlineData("Host=a,b;Database=app", TargetSessionAttributes.Primary)]
    [InlineData("Host=a,b;Database=app;Target Session Attributes=prefer-standby", TargetSessionAttributes.Primary)]
    [InlineData("Host=a,b;Database=app;Target Session Attributes=any", TargetSessionAttributes.Primary)]
    [InlineData("Host=a,b;Database=app;Target Session Attributes=read-write", TargetSessionAttributes.ReadWrite)]
    public async Task GetService_MultiHostDataSourceFromDI_SdkUsesItsPrimaryOnlyView(string connectionString, TargetSessionAttributes used)
    {
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString).BuildMultiHost();
        var services = new ServiceCollection();
        services.AddSingleton<NpgsqlDataSource>(dataSource);
        services.AddIdempotentWrites();
        await using var provider = services.BuildServiceProvider();

        // WithTargetSession hands out one view per target over the same pool.
        Assert.Same(dataSource.WithTargetSession(used), provider.GetRequiredService<IdempotentWritesDataSource>().DataSource);
    }

    [Fact]
    public async Task GetService_PrimaryViewOfMultiHostDataSourceFromDI_IsUsedAsRegistered()
    {
        await using var multiHost = new NpgsqlDataSourceBuilder("Host=a,b;Database=app").BuildMultiHost();
        var primary = multiHost.WithTargetSession(TargetSessionAttributes.Primary);
        var services = new ServiceCollection();
        services.AddKeyedSingleton("primary", primary);
        services.AddIdempotentWrites(o => o.DataSourceServiceKey = "primary");
        await using var provider = services.BuildServiceProvider();

        Assert.Same(primary, provider.GetRequiredService<IdempotentWritesDataSource>().DataSource);
    }

    [Fact]
    public async Task GetService_ConnectionString_OwnDataSourceWithoutConnecting()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = "Host=localhost;Database=owned");
        await using var provider = services.BuildServiceProvider();

        var dataSource = provider.GetRequiredService<IdempotentWritesDataSource>().DataSource;

        Assert.Equal("owned", new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Database);
    }

    [Theory]
    [InlineData("Host=localhost", true)]
    [InlineData("Host=localhost;No Reset On Close=false", false)]
    [InlineData("Host=localhost;noresetonclose=False", false)]
    [InlineData("Host=localhost;No Reset On Close=true", true)]
    public async Task GetService_ConnectionString_NoResetOnCloseUnlessTheStringSaysOtherwise(string connectionString, bool expected)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = connectionString);
        await using var provider = services.BuildServiceProvider();

        var dataSource = provider.GetRequiredService<IdempotentWritesDataSource>().DataSource;

        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=a,b", "primary", 1)]
    [InlineData("Host=a,b;Target Session Attributes=read-write;Host Recheck Seconds=30", "read-write", 30)]
    [InlineData("Host=a", null, 10)]
    public async Task GetService_MultiHostConnectionString_TargetsThePrimaryAndRechecksHostsAfterOneSecond(
        string connectionString,
        string? target,
        int recheck)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = connectionString);
        await using var provider = services.BuildServiceProvider();

        var built = new NpgsqlConnectionStringBuilder(provider.GetRequiredService<IdempotentWritesDataSource>().DataSource.ConnectionString);

        Assert.Equal(target, built.TargetSessionAttributes);
        Assert.Equal(recheck, built.HostRecheckSeconds);
    }

    [Theory]
    [InlineData("prefer-standby")]
    [InlineData("any")]
    [InlineData("prefer-primary")]
    public void GetService_MultiHostConnectionStringThatMayReachAStandby_Refused(string target)
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.ConnectionString = $"Host=a,b;Target Session Attributes={target}");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<IdempotentWritesOptions>>().Value);

        Assert.Contains($"Target Session Attributes={target}", error.Message, StringComparison.Ordinal);
        Assert.Contains("only ever reach the primary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetService_InvalidOptions_ThrowsOptionsValidationException()
    {
        var services = new ServiceCollection();
        services.AddIdempotentWrites(o => o.MaxReselectAttempts = 0);
        using var provider = services.BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(provider.GetRequiredService<IIdempotentWriter>);
    }
}
