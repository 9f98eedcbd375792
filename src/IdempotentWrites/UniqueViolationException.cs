// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A write conflicted on a unique constraint or unique index (SQLSTATE 23505) that the operation did not treat as its arbiter.
/// <para/>
/// <see cref="Columns"/> and <see cref="Expressions"/> come from the catalog; for a unique index over expressions such as
/// <c>lower(email)</c>, <see cref="Columns"/> lists the columns the expressions read (<c>email</c>), so a client can be
/// told which fields to change. <see cref="Values"/> come only from the
/// SDK's own parameters. Values are personal data more often than not: they are never logged or put in the message.
/// </summary>
public sealed class UniqueViolationException : ConstraintViolationException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="UniqueViolationException"/> class.
    /// </summary>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="constraintName">The violated constraint or unique index, when known.</param>
    /// <param name="columns">The columns of the constraint's key: its plain key columns in key order, then the other columns its
    /// expression key elements read; empty when unknown.</param>
    /// <param name="expressions">The expression key elements of the constraint (for example <c>lower(email)</c>); empty when none or unknown.</param>
    /// <param name="isPrimaryKey">Whether the constraint is the table's primary key.</param>
    /// <param name="values">The conflicting key values from the SDK's own parameters, keyed by column; <see langword="null"/> when unknown.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    /// <param name="isGeneratedKey">Whether every key column of the constraint was filled by the database (identity,
    /// serial), not by the caller.</param>
    public UniqueViolationException(
        string? schemaName,
        string? tableName,
        string? constraintName,
        IReadOnlyList<string> columns,
        IReadOnlyList<string> expressions,
        bool isPrimaryKey,
        IReadOnlyDictionary<string, object?>? values,
        Exception? innerException,
        bool isGeneratedKey = false)
        : base(
            BuildMessage(schemaName, tableName, constraintName, columns, expressions, isGeneratedKey),
            "23505",
            schemaName,
            tableName,
            constraintName,
            innerException)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(expressions);
        Columns = columns;
        Expressions = expressions;
        IsPrimaryKey = isPrimaryKey;
        Values = values;
        IsGeneratedKey = isGeneratedKey;
    }

    /// <summary>
    /// Gets the columns of the violated constraint's key: its plain key columns in key order, then the other columns its
    /// expression key elements read (for <c>lower(email)</c>, <c>email</c>). Columns used only in a partial index's
    /// <c>WHERE</c> predicate or in <c>INCLUDE</c> are not listed. Empty when they could not be resolved.
    /// </summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>
    /// Gets the expression key elements of the violated unique index (for example <c>lower(email)</c>), in key order.
    /// </summary>
    public IReadOnlyList<string> Expressions { get; }

    /// <summary>
    /// Gets a value indicating whether the violated constraint is the table's primary key.
    /// </summary>
    public bool IsPrimaryKey { get; }

    /// <summary>
    /// Gets a value indicating whether every key column of the violated constraint was filled by the database
    /// (an identity or serial default), not by the caller. Such a conflict means the column's sequence is behind the
    /// table's data — sequence drift, typically after a restore or an import with explicit ids — not a duplicate request.
    /// </summary>
    public bool IsGeneratedKey { get; }

    /// <summary>
    /// Gets the conflicting values keyed by column, taken from the SDK's own parameters; <see langword="null"/> when unknown.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Values { get; }

    private static string BuildMessage(
        string? schema,
        string? table,
        string? constraint,
        IReadOnlyList<string>? columns,
        IReadOnlyList<string>? expressions,
        bool isGeneratedKey)
    {
        if (isGeneratedKey)
        {
            return $"Duplicate generated key: unique constraint \"{constraint ?? "(unknown)"}\" on " +
                $"({string.Join(", ", columns ?? [])}) in table " +
                $"{(schema is null ? string.Empty : schema + ".")}{table} " +
                "was violated by a value the database generated, so the column's sequence is behind the table's data (sequence drift). " +
                "Repair it with `iw sequences fix`, or enable IdempotentWritesOptions.HealSequences.";
        }

        // With expressions, Columns are the columns the key reads, so the message names both rather than one mixed list.
        IReadOnlyList<string> keyColumns = columns ?? [];
        IReadOnlyList<string> keyExpressions = expressions ?? [];
        var on = keyExpressions.Count == 0
            ? keyColumns.Count == 0 ? string.Empty : $" on ({string.Join(", ", keyColumns)})"
            : " on " +
                $"({string.Join(", ", keyExpressions)}){(keyColumns.Count == 0 ? string.Empty : $" over columns ({string.Join(", ", keyColumns)})")}";
        var where = table is null ? string.Empty : $" in table {(schema is null ? string.Empty : schema + ".")}{table}";
        return $"Duplicate key: unique constraint \"{constraint ?? "(unknown)"}\"{on}{where} already holds a row with these values.";
    }
}
