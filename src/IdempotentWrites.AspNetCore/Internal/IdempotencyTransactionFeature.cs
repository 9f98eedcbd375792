// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

internal sealed class IdempotencyTransactionFeature(NpgsqlConnection connection, NpgsqlTransaction transaction) : IIdempotencyTransactionFeature
{
    public NpgsqlConnection Connection { get; } = connection;

    public NpgsqlTransaction Transaction { get; } = transaction;
}
