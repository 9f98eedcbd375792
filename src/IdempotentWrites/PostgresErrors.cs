// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IdempotentWrites;

/// <summary>
/// Turns PostgreSQL errors raised by any data access code (EF Core, Dapper, hand-written Npgsql) into the SDK's typed
/// exceptions, with the columns of a violated unique constraint read from the catalog.
/// </summary>
public static class PostgresErrors
{
    private static readonly ErrorTranslator Translator = new(NullLogger.Instance);

    /// <summary>
    /// Finds a <see cref="PostgresException"/> in <paramref name="exception"/> or its inner exceptions and returns the typed
    /// exception the writer would have raised for it: <see cref="UniqueViolationException"/> (with the constraint's columns
    /// and expressions, read on <paramref name="catalogConnection"/>), <see cref="ForeignKeyViolationException"/>,
    /// <see cref="NotNullViolationException"/>, <see cref="CheckViolationException"/>, <see cref="ExclusionViolationException"/>
    /// and the other error classes the writer knows.
    /// <para/>
    /// Names come from the error's fields and the catalog, never from its localized message or <c>DETAIL</c> text, and no
    /// values are reported: the caller knows them (an ORM knows the entity that failed). A catalog read that fails leaves
    /// the columns empty and logs nothing; it never hides the original error.
    /// </summary>
    /// <param name="exception">The exception to inspect, for example EF Core's <c>DbUpdateException</c>.</param>
    /// <param name="catalogConnection">
    /// An open connection to read the catalog on, outside any failed transaction (a transaction aborted by the error would
    /// refuse the read), or <see langword="null"/> to skip the catalog.
    /// </param>
    /// <param name="cancellationToken">Cancels the catalog read.</param>
    /// <returns>The typed exception, or <see langword="null"/> when no PostgreSQL error the SDK translates was found.</returns>
    public static async Task<IdempotentWritesException?> TranslateAsync(
        Exception exception,
        NpgsqlConnection? catalogConnection,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var postgres = Find(exception);
        if (postgres is null)
        {
            return null;
        }

        var translated = await Translator.TranslateAsync(postgres, catalogConnection, null, null, cancellationToken).ConfigureAwait(false);
        return translated as IdempotentWritesException;
    }

    private static PostgresException? Find(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PostgresException postgres)
            {
                return postgres;
            }
        }

        return null;
    }
}
