// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The base of the errors raised when a write breaks an integrity constraint (SQLSTATE class 23).
/// <para/>
/// Names come from the error's own fields, never from its localized message or <c>DETAIL</c> text.
/// </summary>
public abstract class ConstraintViolationException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="ConstraintViolationException"/> class.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE.</param>
    /// <param name="schemaName">The schema of the table, when known.</param>
    /// <param name="tableName">The table, when known.</param>
    /// <param name="constraintName">The violated constraint (or unique index), when known.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    protected ConstraintViolationException(
        string message,
        string? sqlState,
        string? schemaName,
        string? tableName,
        string? constraintName,
        Exception? innerException)
        : base(message, sqlState, innerException)
    {
        SchemaName = schemaName;
        TableName = tableName;
        ConstraintName = constraintName;
    }

    /// <summary>
    /// Gets the schema of the table, or <see langword="null"/> when the server did not report it.
    /// </summary>
    public string? SchemaName { get; }

    /// <summary>
    /// Gets the table, or <see langword="null"/> when the server did not report it.
    /// </summary>
    public string? TableName { get; }

    /// <summary>
    /// Gets the name of the violated constraint or unique index, or <see langword="null"/> when the server did not report it.
    /// </summary>
    public string? ConstraintName { get; }

    /// <summary>
    /// Gets the names of the application's entity types whose pending writes broke the constraint, when an object-relational
    /// mapper reported them (IdempotentWrites.EntityFrameworkCore sets it for a failed <c>SaveChanges</c>); empty otherwise.
    /// When set, <see cref="Exception.Message"/> ends with them.
    /// </summary>
    public IReadOnlyList<string> EntityTypes { get; init; } = [];

    /// <inheritdoc/>
    public override string Message
        => EntityTypes.Count == 0 ? base.Message : $"{base.Message} Entity types: {string.Join(", ", EntityTypes)}.";
}
