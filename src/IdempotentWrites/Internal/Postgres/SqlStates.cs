// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Postgres;

// SQLSTATEs that Npgsql's PostgresErrorCodes does not name.
internal static class SqlStates
{
    public const string GeneratedAlways = "428C9";
}
