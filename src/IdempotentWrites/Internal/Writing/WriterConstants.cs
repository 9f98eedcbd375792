// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Writing;

internal static class WriterConstants
{
    public const int DefaultMaxReselectAttempts = 2;

    public const int DefaultMaxCoalescedRows = 256;

    public const ColumnNamingConvention DefaultColumnNaming = ColumnNamingConvention.SnakeCase;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
}
