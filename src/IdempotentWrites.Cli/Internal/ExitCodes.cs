// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Cli.Internal;

internal static class ExitCodes
{
    public const int Ok = 0;

    // Drift exists (check), drift remains or would be repaired (fix, fix --dry-run).
    public const int Drift = 1;

    // Bad arguments, unreachable server, bad credentials, missing database, any other failure.
    public const int Error = 2;
}
