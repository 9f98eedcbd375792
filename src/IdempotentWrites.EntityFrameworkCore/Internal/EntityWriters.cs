// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.EntityFrameworkCore.Internal;

// One core writer per (EF model, entity type, data source), built on first use and kept for the process: the mapping comes
// from the model, which exists only once a context does. Each lives in a small service provider of its own, over the
// application's data source and IdempotentWritesOptions when the application registered them (services.AddIdempotentWrites),
// else over a data source built from the context's connection string.
internal static class EntityWriters
{
    private static readonly ConcurrentDictionary<(IModel Model, Type Entity, string Key), Lazy<EntityTableMapping>> Mappings = new();
    private static readonly ConcurrentDictionary<(IModel Model, Type Entity, object Source, int Mask, string Key), Lazy<Entry>> Writers = new();
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> OwnedSources = new(StringComparer.Ordinal);

    // The entity type's mapping, read from the model once per conflict key (keyOverride: a call's own; null: the model's).
    public static EntityTableMapping MappingFor<T>(DbContext context, string[]? keyOverride = null)
        where T : class
        => Mappings.GetOrAdd(
            (context.Model, typeof(T), KeyId(keyOverride)),
            static (_, state) => new Lazy<EntityTableMapping>(() => EntityTableMapping.Create(
                state.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException(
                    $"{typeof(T).Name} is not an entity type of the context's model."),
                state.Key)),
            (context.Model, Key: keyOverride)).Value;

    // The writer for the entity type and the columns it leaves to the database (EntityTableMapping.Mask).
    public static Entry For<T>(DbContext context, int mask, string[]? keyOverride = null)
        where T : class
    {
        var app = context.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider;
        var dataSource = app?.GetService<IdempotentWritesDataSource>()?.DataSource
            ?? app?.GetService<NpgsqlDataSource>()
            ?? OwnedSources.GetOrAdd(
                context.Database.GetConnectionString() ?? throw new InvalidOperationException(
                    $"{context.GetType().Name} has no connection string and the application registers no NpgsqlDataSource; " +
                    "call services.AddIdempotentWrites(...) or services.AddNpgsqlDataSource(...)."),
                static connectionString => NpgsqlDataSource.Create(connectionString));
        var key = (context.Model, typeof(T), (object)dataSource, mask, KeyId(keyOverride));
        return Writers.GetOrAdd(
            key,
            static (key, state) => new Lazy<Entry>(() => Build<T>(state.Context, state.DataSource, state.App, key.Mask, state.KeyOverride)),
            (Context: context, DataSource: dataSource, App: app, KeyOverride: keyOverride)).Value;
    }

    private static string KeyId(string[]? keyOverride) => keyOverride is null ? string.Empty : string.Join('\n', keyOverride);

    private static Entry Build<T>(DbContext context, NpgsqlDataSource dataSource, IServiceProvider? app, int mask, string[]? keyOverride)
        where T : class
    {
        var mapping = MappingFor<T>(context, keyOverride);
        var services = new ServiceCollection();
        if (app?.GetService<ILoggerFactory>() is { } loggers)
        {
            services.AddSingleton(loggers);
        }

        services.AddLogging();
        var key = new object();
        services.AddKeyedSingleton(key, dataSource);
        var options = app?.GetService<IOptions<IdempotentWritesOptions>>()?.Value;
        var builder = services.AddIdempotentWrites(o =>
        {
            if (options is not null)
            {
                o.MaxReselectAttempts = options.MaxReselectAttempts;
                o.CoalesceWrites = options.CoalesceWrites;
                o.MaxCoalescedRows = options.MaxCoalescedRows;
                o.Retry = options.Retry;
                o.Timeout = options.Timeout;
                o.PrepareStatements = options.PrepareStatements;
                o.HealSequences = options.HealSequences;
                o.TransactionPooling = options.TransactionPooling;
                o.JsonSerializerOptions = options.JsonSerializerOptions;
            }

            o.DataSourceServiceKey = key;
        });
        if (mapping.Schema is null)
        {
            builder.MapTable<T>(mapping.Table, b => mapping.Configure(b, mask));
        }
        else
        {
            builder.MapTable<T>(mapping.Schema, mapping.Table, b => mapping.Configure(b, mask));
        }

        var provider = services.BuildServiceProvider();
        return new Entry(provider.GetRequiredService<IIdempotentWriter>(), mapping, provider);
    }

    // Services: the writer's own provider (its hosted mapping validation, started by EntityMappingValidation).
    internal sealed record Entry(IIdempotentWriter Writer, EntityTableMapping Mapping, IServiceProvider Services);
}
