// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace IdempotentWrites.EntityFrameworkCore.Internal;

// The core mapping of one entity type, read from the EF model: table, schema and column names as the model maps them
// (whatever naming convention built it), server-generated columns, the conflict key (HasIdempotentKey, else the one unique
// index or alternate key, else a primary key the client sets) and a filtered index's predicate. What does not map cleanly
// to one row of one table is refused with the entity's name and the reason.
//
// Columns the database fills on insert (identity, serial, a default) are written as EF writes them: left to the database
// when the entity's value is the property's sentinel (its CLR default, unless configured), sent otherwise. The core writer
// sends a fixed column list, so each combination of such columns left to the database is a mapping of its own (a bit of
// the mask, Mask()); computed columns are never sent.
internal sealed class EntityTableMapping
{
    public const string KeyAnnotation = "IdempotentWrites:Key";

    private EntityTableMapping(IEntityType entityType, string? schema, string table)
    {
        EntityType = entityType;
        Schema = schema;
        Table = table;
    }

    public IEntityType EntityType { get; }

    public string? Schema { get; }

    public string Table { get; }

    public string Display => Schema is null ? Table : $"{Schema}.{Table}";

    public List<(PropertyInfo Property, string Column, bool Generated)> Columns { get; } = [];

    // Columns filled by the database when the entity leaves them at their sentinel: (position in Columns, sentinel).
    public List<(int Column, object? Sentinel)> Defaulted { get; } = [];

    public List<PropertyInfo> Key { get; } = [];

    public string? KeyFilter { get; private set; }

    // Client-generated Guid properties (EF's default for a Guid key): a CLR default gets a new version 7 Guid before the write.
    public List<PropertyInfo> ClientGuids { get; } = [];

    public List<PropertyInfo> Ignored { get; } = [];

    // keyOverride: the properties a call names as its conflict key, instead of the model's choice.
    public static EntityTableMapping Create(IEntityType entityType, string[]? keyOverride = null)
    {
        var name = entityType.DisplayName();
        var table = entityType.GetTableName()
            ?? throw Refuse(name, name, "it is not mapped to a table (a view, a SQL query or a keyless type)");
        var schema = entityType.GetSchema();
        var mapping = new EntityTableMapping(entityType, schema, table);
        var display = mapping.Display;
        if (entityType.IsOwned())
        {
            throw Refuse(name, display, "it is an owned type; write its owner");
        }

        if (entityType.BaseType is not null || entityType.GetDirectlyDerivedTypes().Any())
        {
            throw Refuse(name, display, "it is part of an inheritance hierarchy (TPH, TPT or TPC), which one row of one table cannot hold");
        }

        if (entityType.GetMappingFragments().Any() || entityType.GetComplexProperties().Any()
            || entityType.GetNavigations().Any(n => n.TargetEntityType.IsOwned()))
        {
            throw Refuse(name, display, "it is split across tables or holds owned or complex types");
        }

        if (entityType.FindPrimaryKey() is null)
        {
            throw Refuse(name, display, "it has no primary key");
        }

        if (schema is null && table.Contains('.', StringComparison.Ordinal))
        {
            throw Refuse(name, display, "its table name contains a dot and no schema is set; set the schema (ToTable(name, schema))");
        }

        var store = StoreObjectIdentifier.Table(table, schema);
        foreach (var property in entityType.GetProperties())
        {
            if (property.IsShadowProperty() || property.PropertyInfo is not { } info || !info.CanRead || !info.CanWrite)
            {
                throw Refuse(
                    name,
                    display,
                    $"property {property.Name} has no public read/write CLR property (a shadow foreign key or a field-only property); " +
                    "declare it on the class");
            }

            if (property.GetValueConverter() is not null || property.GetTypeMapping().Converter is not null)
            {
                throw Refuse(
                    name,
                    display,
                    $"property {property.Name} has a value converter, which the SDK does not apply; map it to a column type Npgsql " +
                    "reads and writes directly");
            }

            var column = property.GetColumnName(store)
                ?? throw Refuse(name, display, $"property {property.Name} has no column in {display}");
            var generated = IsServerGenerated(property);
            if (!generated && property.ValueGenerated != ValueGenerated.Never && info.PropertyType == typeof(Guid))
            {
                mapping.ClientGuids.Add(info);
            }

            if (generated && property.ValueGenerated == ValueGenerated.OnAdd)
            {
                mapping.Defaulted.Add((mapping.Columns.Count, property.Sentinel));
                generated = false;
            }

            mapping.Columns.Add((info, column, generated));
        }

        foreach (var clr in entityType.ClrType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (clr.CanRead && clr.CanWrite && clr.GetIndexParameters().Length == 0 && mapping.Columns.All(c => c.Property.Name != clr.Name))
            {
                // Navigations and [NotMapped] properties: not columns of this table.
                mapping.Ignored.Add(clr);
            }
        }

        if (mapping.Defaulted.Count > 16)
        {
            throw Refuse(name, display, $"it has {mapping.Defaulted.Count} columns with database defaults; at most 16 are supported");
        }

        mapping.ChooseKey(name, keyOverride);
        return mapping;
    }

    // Whether the model names the entity's idempotent key (HasIdempotentKey or [IdempotentKey]): an entity meant for the SDK.
    public static bool NamesKey(IEntityType entityType)
        => entityType.FindAnnotation(KeyAnnotation) is not null
            || entityType.GetProperties().Any(p => p.PropertyInfo?.IsDefined(typeof(IdempotentKeyAttribute), inherit: true) == true);

    // The mask that leaves every database-filled column to the database.
    public int AllDefaulted => (1 << Defaulted.Count) - 1;

    // Which database-filled columns the entity leaves to the database: bit i for Defaulted[i], set when its value is the sentinel.
    public int Mask(object entity)
    {
        var mask = 0;
        for (var i = 0; i < Defaulted.Count; i++)
        {
            var (column, sentinel) = Defaulted[i];
            if (Equals(Columns[column].Property.GetValue(entity), sentinel))
            {
                mask |= 1 << i;
            }
        }

        return mask;
    }

    // The property names of the database-filled columns on which two masks differ.
    public string DescribeDifference(int mask, int other)
        => string.Join(", ", Defaulted.Where((_, i) => ((mask ^ other) & (1 << i)) != 0).Select(d => Columns[d.Column].Property.Name));

    // Builds the core mapping: every column named as the model names it; generated, the computed columns and the
    // database-filled ones the mask leaves to the database.
    public void Configure<T>(TableMappingBuilder<T> builder, int mask)
        where T : class
    {
        var row = Expression.Parameter(typeof(T), "row");
        for (var i = 0; i < Columns.Count; i++)
        {
            var (property, column, generated) = Columns[i];
            var selector = Expression.Lambda<Func<T, object?>>(Expression.Convert(Expression.Property(row, property), typeof(object)), row);
            builder.HasColumnName(selector, column);
            var defaulted = Defaulted.FindIndex(d => d.Column == i);
            if (generated || (defaulted >= 0 && (mask & (1 << defaulted)) != 0))
            {
                builder.Generated(selector);
            }
        }

        foreach (var ignored in Ignored)
        {
            builder.Ignore(Expression.Lambda<Func<T, object?>>(Expression.Convert(Expression.Property(row, ignored), typeof(object)), row));
        }

        builder.ConflictOn(KeySelector<T>(row));
        if (KeyFilter is not null)
        {
            builder.Where(KeyFilter);
        }
    }

    private Expression<Func<T, object?>> KeySelector<T>(ParameterExpression row)
    {
        var members = Key.Select(k => (Expression)Expression.Property(row, k)).ToArray();
        if (members.Length == 1)
        {
            return Expression.Lambda<Func<T, object?>>(Expression.Convert(members[0], typeof(object)), row);
        }

        // Several properties: any constructor call over them reads as a column list (as x => new { x.A, x.B } does).
        var tuple = Type.GetType($"System.Tuple`{members.Length}")!.MakeGenericType([.. members.Select(m => m.Type)]);
        return Expression.Lambda<Func<T, object?>>(Expression.New(tuple.GetConstructors()[0], members), row);
    }

    private static bool IsServerGenerated(IProperty property)
    {
        if (property.ValueGenerated == ValueGenerated.Never)
        {
            return false;
        }

        if (property.ValueGenerated != ValueGenerated.OnAdd)
        {
            // Computed on add and update, or on update: the server's.
            return true;
        }

        return property.GetValueGenerationStrategy() is not NpgsqlValueGenerationStrategy.None
            || property.GetDefaultValueSql() is not null
            || property.GetComputedColumnSql() is not null
            || property.TryGetDefaultValue(out _);
    }

    private static TableMappingException Refuse(string entity, string table, string reason)
        => new(table, $"entity type {entity} cannot be written by IdempotentWrites: {reason}.");

    private void ChooseKey(string name, string[]? keyOverride)
    {
        var primary = EntityType.FindPrimaryKey()!;
        var attributed = EntityType.GetProperties()
            .Where(p => p.PropertyInfo?.IsDefined(typeof(IdempotentKeyAttribute), inherit: true) == true)
            .Select(p => p.Name)
            .ToArray();
        IReadOnlyList<IProperty> key;
        if ((keyOverride ?? EntityType.FindAnnotation(KeyAnnotation)?.Value as string[] ?? (attributed.Length > 0 ? attributed : null))
            is { } named)
        {
            key = [.. named.Select(n => EntityType.FindProperty(n)
                ?? throw Refuse(name, Display, $"its idempotent key names {n}, which is not a mapped property"))];
        }
        else
        {
            var unique = EntityType.GetIndexes().Where(i => i.IsUnique).Select(i => i.Properties)
                .Concat(EntityType.GetKeys().Where(k => !k.IsPrimaryKey()).Select(k => k.Properties))
                .ToList();
            if (unique.Count == 1)
            {
                key = unique[0];
            }
            else if (unique.Count == 0 && primary.Properties.All(p => !IsServerGenerated(p)))
            {
                key = primary.Properties;
            }
            else
            {
                throw Refuse(
                    name,
                    Display,
                    unique.Count == 0
                        ? "it has no unique index and its primary key is generated by the database, so nothing identifies a " +
                            "duplicate; add a unique index and name it with HasIdempotentKey"
                        : $"it has {unique.Count} unique indexes or alternate keys; name the one that identifies a duplicate with " +
                            $"modelBuilder.Entity<{EntityType.ClrType.Name}>().HasIdempotentKey(e => ...)");
            }
        }

        foreach (var property in key)
        {
            Key.Add(Columns.FirstOrDefault(c => c.Property.Name == property.Name).Property
                ?? throw Refuse(name, Display, $"its key property {property.Name} is not a mapped column"));
        }

        if (key.Count > 7)
        {
            throw Refuse(name, Display, "its idempotent key has more than 7 properties");
        }

        // A filtered unique index over exactly these properties: ON CONFLICT needs its predicate to infer it.
        KeyFilter = EntityType.GetIndexes()
            .FirstOrDefault(i => i.IsUnique && i.Properties.Count == key.Count && i.Properties.All(key.Contains))
            ?.GetFilter();
    }
}
