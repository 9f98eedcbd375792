// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.ExceptionServices;
using IdempotentWrites.Internal.Mapping;
using IdempotentWrites.Internal.Writing;

namespace IdempotentWrites;

/// <summary>
/// Configures how a row type maps to a PostgreSQL table: column names, generated columns and the conflict target.
/// <para/>
/// Columns are the type's public read/write (or init) properties, named in snake_case by convention
/// (<c>CreatedAt</c> → <c>created_at</c>) or as <see cref="IdempotentWritesOptions.ColumnNaming"/> or <see cref="ColumnNaming"/> say.
/// Table, column and constraint names are taken literally and always quoted, so they are case-sensitive.
/// </summary>
/// <typeparam name="T">The row type.</typeparam>
public sealed class TableMappingBuilder<[DynamicallyAccessedMembers(TableMapping.RowMembers)] T>
    where T : class
{
    private readonly Dictionary<string, string> _columnNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);
    private readonly HashSet<string> _generated = new(StringComparer.Ordinal);
    private readonly List<string> _conflictProperties = [];
    private readonly List<string> _conflictExpressions = [];
    private readonly List<string> _updateProperties = [];
    private string? _constraint;
    private string? _predicate;
    private ColumnNamingConvention? _columnNaming;

    internal TableMappingBuilder(string? schema, string table)
    {
        Schema = schema;
        Table = table;
    }

    /// <summary>
    /// Gets the schema, or <see langword="null"/> when the table is found through <c>search_path</c>.
    /// </summary>
    public string? Schema { get; }

    /// <summary>
    /// Gets the table name.
    /// </summary>
    public string Table { get; }

    /// <summary>
    /// Uses the unique index or constraint on the given column(s) as the conflict arbiter.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <param name="columns">One property (<c>u =&gt; u.Email</c>) or several as an anonymous type (<c>o =&gt; new {
    /// o.TenantId, o.Number }</c>).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="columns"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">Thrown when the expression does not select properties of <typeparamref name="T"/>.</exception>
    public TableMappingBuilder<T> ConflictOn<TKey>(Expression<Func<T, TKey>> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        EnsureNoTarget();
        _conflictProperties.AddRange(MemberSelector.Select(columns));
        return this;
    }

    /// <summary>
    /// Uses a unique expression index as the conflict arbiter, for example <c>ConflictOnExpressions("lower(email)")</c>.
    /// <para/>
    /// The elements are SQL written as in <c>CREATE UNIQUE INDEX</c>; they may reference only mapped, non-generated columns.
    /// </summary>
    /// <param name="indexElements">The index key elements: quoted column names or parenthesised expressions.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Thrown when no element is given or an element is blank.</exception>
    public TableMappingBuilder<T> ConflictOnExpressions(params string[] indexElements)
    {
        ArgumentNullException.ThrowIfNull(indexElements);
        if (indexElements.Length == 0)
        {
            throw new ArgumentException("At least one index element is required.", nameof(indexElements));
        }

        foreach (var element in indexElements)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(element, nameof(indexElements));
        }

        EnsureNoTarget();
        _conflictExpressions.AddRange(indexElements);
        return this;
    }

    /// <summary>
    /// Uses a named unique, primary-key or exclusion constraint as the arbiter (<c>ON CONFLICT ON CONSTRAINT</c>).
    /// A unique index that is not a constraint cannot be named here: use <see cref="ConflictOn{TKey}"/>.
    /// </summary>
    /// <param name="constraintName">The constraint name, case-sensitive.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="constraintName"/> is blank.</exception>
    public TableMappingBuilder<T> ConflictOnConstraint(string constraintName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(constraintName);
        EnsureNoTarget();
        _constraint = constraintName;
        return this;
    }

    /// <summary>
    /// Sets the predicate of a partial unique index used as arbiter, for example <c>Where("deleted_at IS NULL")</c>.
    /// It must imply the index's own <c>WHERE</c> clause.
    /// </summary>
    /// <param name="indexPredicate">The predicate, as SQL.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="indexPredicate"/> is blank.</exception>
    public TableMappingBuilder<T> Where(string indexPredicate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(indexPredicate);
        _predicate = indexPredicate;
        return this;
    }

    /// <summary>
    /// Marks columns that the database fills (identity, serial, defaults, generated columns): they are never sent
    /// on insert and are read back from <c>RETURNING</c>.
    /// </summary>
    /// <param name="columns">The generated properties.</param>
    /// <returns>This builder.</returns>
    public TableMappingBuilder<T> Generated(params Expression<Func<T, object?>>[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var column in columns)
        {
            ArgumentNullException.ThrowIfNull(column, nameof(columns));
            foreach (var name in MemberSelector.Select(column))
            {
                _generated.Add(name);
            }
        }

        return this;
    }

    /// <summary>
    /// Limits which columns an upsert overwrites; by default every mapped column that is neither generated nor part of the conflict key.
    /// </summary>
    /// <param name="columns">The properties to update on conflict.</param>
    /// <returns>This builder.</returns>
    public TableMappingBuilder<T> UpdateOnConflict(params Expression<Func<T, object?>>[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var column in columns)
        {
            ArgumentNullException.ThrowIfNull(column, nameof(columns));
            _updateProperties.AddRange(MemberSelector.Select(column));
        }

        return this;
    }

    /// <summary>
    /// Sets how this table's columns are named, in place of <see cref="IdempotentWritesOptions.ColumnNaming"/>; for example
    /// <c>ColumnNaming(ColumnNamingConvention.AsIs)</c> for a table created by Entity Framework Core (<c>"Id"</c>, <c>"CreatedAt"</c>).
    /// <see cref="HasColumnName{TProperty}"/> still names single columns.
    /// </summary>
    /// <param name="convention">The naming convention.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Thrown when <paramref name="convention"/> is not a defined
    /// <see cref="ColumnNamingConvention"/>.</exception>
    public TableMappingBuilder<T> ColumnNaming(ColumnNamingConvention convention)
    {
        if (!Enum.IsDefined(convention))
        {
            throw new ArgumentOutOfRangeException(nameof(convention), convention, $"{convention} is not a {nameof(ColumnNamingConvention)}.");
        }

        _columnNaming = convention;
        return this;
    }

    /// <summary>
    /// Overrides the column name of a property (taken literally, case-sensitive), whatever the naming convention.
    /// </summary>
    /// <typeparam name="TProperty">The property type.</typeparam>
    /// <param name="property">The property.</param>
    /// <param name="columnName">The column name.</param>
    /// <returns>This builder.</returns>
    public TableMappingBuilder<T> HasColumnName<TProperty>(Expression<Func<T, TProperty>> property, string columnName)
    {
        ArgumentNullException.ThrowIfNull(property);
        ArgumentException.ThrowIfNullOrWhiteSpace(columnName);
        var names = MemberSelector.Select(property);
        if (names.Count != 1)
        {
            throw new ArgumentException("Select exactly one property.", nameof(property));
        }

        _columnNames[names[0]] = columnName;
        return this;
    }

    /// <summary>
    /// Excludes a property from the mapping.
    /// </summary>
    /// <typeparam name="TProperty">The property type.</typeparam>
    /// <param name="property">The property.</param>
    /// <returns>This builder.</returns>
    public TableMappingBuilder<T> Ignore<TProperty>(Expression<Func<T, TProperty>> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        foreach (var name in MemberSelector.Select(property))
        {
            _ignored.Add(name);
        }

        return this;
    }

    // Builds the mapping for each writer-wide convention, so every error that does not depend on it (no conflict target, an
    // unknown property, ...) is thrown here, at MapTable, while a duplicate column name is thrown only if the writer's
    // IdempotentWritesOptions.ColumnNaming, known when the options are read, is the convention that produces it.
    internal Func<ColumnNamingConvention, TableMapping> Freeze()
    {
        if (_columnNaming is not null)
        {
            var own = Build();
            return _ => own;
        }

        var built = new Dictionary<ColumnNamingConvention, (TableMapping? Mapping, ExceptionDispatchInfo? Error)>();
        foreach (var convention in Enum.GetValues<ColumnNamingConvention>())
        {
            try
            {
                built[convention] = (Build(convention), null);
            }
            catch (TableMappingException ex)
            {
                built[convention] = (null, ExceptionDispatchInfo.Capture(ex));
            }
        }

        if (built.Values.All(b => b.Error is not null))
        {
            built[WriterConstants.DefaultColumnNaming].Error!.Throw();
        }

        return convention =>
        {
            var (mapping, error) = built[convention];
            error?.Throw();
            return mapping!;
        };
    }

    internal TableMapping Build() => Build(WriterConstants.DefaultColumnNaming);

    internal TableMapping Build(ColumnNamingConvention writerConvention)
    {
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && !_ignored.Contains(p.Name))
            .ToList();
        var display = Schema is null ? Table : $"{Schema}.{Table}";
        if (properties.Count == 0)
        {
            throw new TableMappingException(display, $"type {typeof(T).Name} has no public read/write properties to map.");
        }

        var byName = properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var name in _conflictProperties.Concat(_generated).Concat(_updateProperties).Concat(_columnNames.Keys))
        {
            if (!byName.ContainsKey(name))
            {
                throw new TableMappingException(display, $"property {typeof(T).Name}.{name} is not a mapped read/write property.");
            }
        }

        if (_conflictProperties.Count == 0 && _conflictExpressions.Count == 0 && _constraint is null)
        {
            throw new TableMappingException(
                display,
                "no conflict target: call ConflictOn(...), ConflictOnExpressions(...) or ConflictOnConstraint(...).");
        }

        if (_predicate is not null && _constraint is not null)
        {
            throw new TableMappingException(
                display,
                "Where(...) applies to a partial unique index and cannot be combined with ConflictOnConstraint(...).");
        }

        foreach (var key in _conflictProperties)
        {
            if (_generated.Contains(key))
            {
                throw new TableMappingException(
                    display,
                    $"conflict key property {key} is marked Generated: an insert-or-get needs the key value before the insert.");
            }
        }

        var convention = _columnNaming ?? writerConvention;
        var columns = properties.Select(p => new ColumnMapping(
            p,
            _columnNames.TryGetValue(p.Name, out var column) ? column : NameConvention.ColumnName(p.Name, convention),
            _generated.Contains(p.Name))).ToList();
        var duplicate = columns.GroupBy(c => c.ColumnName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new TableMappingException(
                display,
                $"properties {string.Join(" and ", duplicate.Select(c => c.Property.Name))} both map to column \"{duplicate.Key}\".");
        }

        var target = new ConflictSpec(
            [.. _conflictProperties.Select(name => columns.First(c => c.Property.Name == name))],
            [.. _conflictExpressions],
            _constraint,
            _predicate);
        var generatedUpdate = _updateProperties.FirstOrDefault(_generated.Contains);
        if (generatedUpdate is not null)
        {
            throw new TableMappingException(
                display,
                $"UpdateOnConflict lists {generatedUpdate}, which is marked Generated; the database fills generated " +
                "columns, an upsert cannot overwrite them.");
        }

        var updates = _updateProperties.Count == 0
            ? null
            : _updateProperties.Select(name => columns.First(c => c.Property.Name == name)).ToList();
        var factory = RowFactory.Create<T>(display, columns);
        return new TableMapping(typeof(T), Schema, Table, columns, target, updates, factory, RowFactory.ParameterlessConstructor<T>());
    }

    private void EnsureNoTarget()
    {
        if (_conflictProperties.Count > 0 || _conflictExpressions.Count > 0 || _constraint is not null)
        {
            throw new InvalidOperationException(
                $"The conflict target of {Table} is already set; call one of ConflictOn, ConflictOnExpressions or ConflictOnConstraint once.");
        }
    }
}
