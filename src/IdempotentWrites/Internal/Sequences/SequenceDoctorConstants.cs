// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.Internal.Sequences;

internal static class SequenceDoctorConstants
{
    public const double DefaultNearExhaustionThreshold = 0.9;

    // Statements per round trip when a check reads sequence states and column extremes.
    public const int ScanBatchSize = 100;

    // A repair that loses a deadlock (a session that called nextval() directly and then inserts) is retried this often.
    public const int RepairAttempts = 3;

    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaxLockTimeout = TimeSpan.FromHours(1);
}
