// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Collections.Concurrent;

namespace IdempotentWrites.Internal.Writing;

// Adaptive insert-or-get: per table, send the re-select first when most keys already exist (see InsertOrGetStrategy).
// The SELECT alone answers Existing; on a miss the insert-first batch follows exactly as without this step, so a miss
// stays race-safe (a concurrent insert is met by ON CONFLICT and the batch's own re-select).
internal sealed partial class IdempotentWriter
{
    private readonly ConcurrentDictionary<WritePlan, InsertOrGetStrategy> _strategies = new();

    internal InsertOrGetStrategy StrategyOf(WritePlan plan)
        => _strategies.TryGetValue(plan, out var strategy) ? strategy : _strategies.GetOrAdd(plan, static _ => new InsertOrGetStrategy());
}
