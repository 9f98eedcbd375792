// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The PostgreSQL transaction of a transactional idempotent execution (see <see cref="HttpIdempotencyOptions.Transactional"/>),
/// available from <c>HttpContext.Features</c> while the handler runs. Write through it (for example
/// <c>writer.InsertOrGetAsync(row, feature.Transaction, ct)</c>) so the writes commit together with the stored response.
/// Do not commit or roll it back.
/// </summary>
public interface IIdempotencyTransactionFeature
{
    /// <summary>
    /// Gets the open connection of the transaction.
    /// </summary>
    NpgsqlConnection Connection { get; }

    /// <summary>
    /// Gets the transaction.
    /// </summary>
    NpgsqlTransaction Transaction { get; }
}
