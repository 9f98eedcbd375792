// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// A table mapping does not match the database: a missing table or column, no unique index for the conflict target,
/// a deferrable arbiter, a partial index used without its predicate, an index name given as a constraint name, and so on.
/// <para/>
/// Raised at startup (or on first use when no host runs the startup check), never as a runtime SQL error.
/// </summary>
public sealed class TableMappingException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="TableMappingException"/> class.
    /// </summary>
    /// <param name="table">The mapped table as configured.</param>
    /// <param name="message">The message that describes the problem and its fix.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public TableMappingException(string table, string message, Exception? innerException = null)
        : base($"Table mapping for {table}: {message}", (innerException as Npgsql.PostgresException)?.SqlState, innerException)
    {
        Table = table;
    }

    /// <summary>
    /// Gets the mapped table as configured.
    /// </summary>
    public string Table { get; }
}
