// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Npgsql;

namespace IdempotentWrites.Internal.Writing;

// The commands of one statement a call sends alone (see KeptCommands): every insert column as parameters, or (reselect)
// the re-select's subset of them.
internal sealed class StatementCommands(bool reselect = false) : KeptCommands<NpgsqlCommand>
{
    protected override bool TryBind(NpgsqlCommand command, WritePlan plan, object row, NpgsqlConnection connection)
    {
        if (!ParameterBinder.TryRebind(plan, command.Parameters, row, reselect ? plan.ReselectParameters : null))
        {
            return false;
        }

        command.Connection = connection;
        command.CommandTimeout = connection.CommandTimeout;
        return true;
    }

    protected override void ClearValues(NpgsqlCommand command, WritePlan plan)
        => ParameterBinder.ClearValues(plan, command.Parameters, reselect ? plan.ReselectParameters : null);
}
