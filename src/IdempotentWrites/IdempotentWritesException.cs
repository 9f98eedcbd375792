// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The base of every error that IdempotentWrites raises for a database outcome it could not turn into a result.
/// <para/>
/// When the error came from PostgreSQL, the original <c>PostgresException</c> is the <see cref="Exception.InnerException"/>.
/// </summary>
public abstract class IdempotentWritesException : Exception
{
    /// <summary>
    /// Initializes a new instance of the <see cref="IdempotentWritesException"/> class.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE, or <see langword="null"/> when the error did not come from the server.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    protected IdempotentWritesException(string message, string? sqlState, Exception? innerException)
        : base(message, innerException)
    {
        SqlState = sqlState;
    }

    /// <summary>
    /// Gets the PostgreSQL SQLSTATE of the error, or <see langword="null"/> when it did not come from the server.
    /// </summary>
    public string? SqlState { get; }

    /// <summary>
    /// Gets a value indicating whether retrying the same operation (or, inside a transaction, the whole transaction) may succeed.
    /// </summary>
    public virtual bool IsTransient => false;
}
