// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The writer could not open a connection to PostgreSQL: the server is down or restarting, unreachable, refuses the
/// credentials, or the database does not exist yet. Nothing was written.
/// <para/>
/// Transient: the resilience pipeline retries it, and a later call succeeds as soon as the database is reachable (table
/// mappings not yet checked are checked then, with no restart). Over HTTP it is a 503, not a 500.
/// </summary>
public sealed class DatabaseUnavailableException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="DatabaseUnavailableException"/> class.
    /// </summary>
    /// <param name="message">What failed, without secrets (no password).</param>
    /// <param name="innerException">The connection error.</param>
    public DatabaseUnavailableException(string message, Exception? innerException)
        : base(message, (innerException as Npgsql.PostgresException)?.SqlState, innerException)
    {
    }

    /// <summary>
    /// Gets a value indicating whether retrying may succeed; always <see langword="true"/>.
    /// </summary>
    public override bool IsTransient => true;
}
