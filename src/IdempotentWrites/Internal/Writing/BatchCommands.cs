// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// The batches of insert-or-get's round trip of two statements outside a transaction (see KeptCommands): INSERT … ON
// CONFLICT DO NOTHING (every insert column) and the re-select (its subset of them).
internal sealed class BatchCommands : KeptCommands<NpgsqlBatch>
{
    protected override bool TryBind(NpgsqlBatch batch, WritePlan plan, object row, NpgsqlConnection connection)
    {
        var commands = batch.BatchCommands;
        if (!ParameterBinder.TryRebind(plan, commands[0].Parameters, row, null)
            || !ParameterBinder.TryRebind(plan, commands[1].Parameters, row, plan.ReselectParameters))
        {
            return false;
        }

        batch.Connection = connection;
        batch.Timeout = connection.CommandTimeout;
        return true;
    }

    protected override void ClearValues(NpgsqlBatch batch, WritePlan plan)
    {
        var commands = batch.BatchCommands;
        ParameterBinder.ClearValues(plan, commands[0].Parameters, null);
        ParameterBinder.ClearValues(plan, commands[1].Parameters, plan.ReselectParameters);
    }
}
