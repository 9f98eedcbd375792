// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics.CodeAnalysis;
using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// Recognises unique violations in exceptions from any data access code: the SDK's own
/// <see cref="UniqueViolationException"/>, a raw <c>PostgresException</c> with SQLSTATE 23505, or either wrapped
/// by another exception (for example EF Core's <c>DbUpdateException</c>).
/// </summary>
public static class UniqueViolation
{
    /// <summary>
    /// Finds a unique violation in <paramref name="exception"/> or its inner exceptions.
    /// <para/>
    /// For a raw <c>PostgresException</c>, the result names the schema, table and constraint from the error's fields;
    /// its <see cref="UniqueViolationException.Columns"/> are empty because no catalog is read here.
    /// </summary>
    /// <param name="exception">The exception to inspect.</param>
    /// <param name="violation">The unique violation, when found.</param>
    /// <returns><see langword="true"/> when a unique violation was found.</returns>
    public static bool TryFrom(Exception? exception, [NotNullWhen(true)] out UniqueViolationException? violation)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case UniqueViolationException unique:
                    violation = unique;
                    return true;
                case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } postgres:
                    violation = (UniqueViolationException)ErrorTranslator.TranslateWithoutCatalog(postgres)!;
                    return true;
                case AggregateException aggregate:
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        if (TryFrom(inner, out violation))
                        {
                            return true;
                        }
                    }

                    break;
            }
        }

        violation = null;
        return false;
    }
}
