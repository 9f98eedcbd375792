// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// The PostgreSQL transaction of a transactional idempotent execution (see <see cref="HttpIdempotencyOptions.Transactional"/>),
/// available while the handler runs: <c>context.GetIdempotencyTransaction()</c> returns it, or says why the request has none.
/// The writer's overloads without a transaction join it (<c>IdempotentWrites.AmbientTransaction</c>), so
/// <c>writer.InsertOrGetAsync(row, ct)</c> commits together with the stored response; use <see cref="Connection"/> and
/// <see cref="Transaction"/> for your own commands. Do not commit or roll it back.
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
