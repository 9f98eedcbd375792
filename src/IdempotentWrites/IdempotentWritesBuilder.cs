// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdempotentWrites;

/// <summary>
/// Configures IdempotentWrites after <c>services.AddIdempotentWrites(...)</c>: table mappings and, in other packages, HTTP features.
/// </summary>
public sealed class IdempotentWritesBuilder
{
    internal IdempotentWritesBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>
    /// Gets the service collection being configured.
    /// </summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Maps <typeparamref name="T"/> to a table. <paramref name="table"/> is a table name, or <c>schema.table</c>;
    /// both parts are taken literally (case-sensitive) and quoted. Use <see cref="MapTable{T}(string, string, Action{TableMappingBuilder{T}})"/>
    /// for names that contain a dot.
    /// </summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="table">The table, optionally schema-qualified.</param>
    /// <param name="configure">Configures the conflict target, generated columns and column names.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="table"/> is blank.</exception>
    /// <exception cref="TableMappingException">Thrown when the mapping is incomplete (for example, no conflict target).</exception>
    public IdempotentWritesBuilder MapTable<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>(
        string table,
        Action<TableMappingBuilder<T>> configure)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        var dot = table.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < table.Length - 1 && table.IndexOf('.', dot + 1) < 0
            ? MapTable(table[..dot], table[(dot + 1)..], configure)
            : MapTableCore(null, table, configure);
    }

    /// <summary>
    /// Maps <typeparamref name="T"/> to a table in an explicit schema; both names are taken literally (case-sensitive) and quoted.
    /// </summary>
    /// <typeparam name="T">The row type.</typeparam>
    /// <param name="schema">The schema.</param>
    /// <param name="table">The table.</param>
    /// <param name="configure">Configures the conflict target, generated columns and column names.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="schema"/> or <paramref name="table"/> is blank.</exception>
    public IdempotentWritesBuilder MapTable<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>(
        string schema,
        string table,
        Action<TableMappingBuilder<T>> configure)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        return MapTableCore(schema, table, configure);
    }

    private IdempotentWritesBuilder MapTableCore<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>(
        string? schema,
        string table,
        Action<TableMappingBuilder<T>> configure)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ArgumentNullException.ThrowIfNull(configure);

        // One row type, one table: a second mapping would silently replace the first.
        var display = Sql.DisplayName(schema, table);
        if (Services.Where(d => !d.IsKeyedService && d.ServiceType == typeof(MappedRowType))
            .Select(d => d.ImplementationInstance).OfType<MappedRowType>()
            .FirstOrDefault(m => m.RowType == typeof(T)) is { } earlier)
        {
            throw new InvalidOperationException(
                $"{typeof(T).Name} is already mapped to {earlier.Table}; it cannot also map to {display}. A row " +
                "type maps to exactly one table: give the second table a row type of its own.");
        }

        var builder = new TableMappingBuilder<T>(schema, table);
        configure(builder);

        // Built now, so an incomplete mapping fails at registration with the line that caused it. The writer-wide column
        // naming may still be configured after this call: the mapping is picked when the options are read.
        var build = builder.Freeze();
        Services.AddSingleton(new MappedRowType(typeof(T), display));
        Services.AddOptions<TableMappingRegistry>()
            .Configure<IOptions<IdempotentWritesOptions>>((registry, options) => registry.Mappings[typeof(T)] = build(options.Value.ColumnNaming));
        return this;
    }
}
