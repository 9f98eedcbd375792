// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// The write lost a race that PostgreSQL resolves by aborting: a serialization failure (40001), a deadlock (40P01)
/// or a lock that was not available (55P03). Retrying is safe because the write is idempotent; inside a
/// REPEATABLE READ or SERIALIZABLE transaction, retry the whole transaction.
/// </summary>
public sealed class TransientConflictException : IdempotentWritesException
{
    /// <summary>
    /// Initializes a new instance of the <see cref="TransientConflictException"/> class.
    /// </summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE (40001, 40P01 or 55P03).</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public TransientConflictException(string message, string sqlState, Exception? innerException)
        : base(message, sqlState, innerException)
    {
    }

    /// <summary>
    /// Gets a value indicating whether retrying may succeed; always <see langword="true"/>.
    /// </summary>
    public override bool IsTransient => true;
}
