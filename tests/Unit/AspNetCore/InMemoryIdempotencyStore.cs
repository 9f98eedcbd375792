// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;

namespace IdempotentWrites.UnitTests.AspNetCore;

// The IIdempotencyStore contract in memory, on a TimeProvider (tests only: the real store coordinates through PostgreSQL).
internal sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    private readonly object _lock = new();
    private long _nextToken;

    public Dictionary<(string Scope, string Key), Entry> Entries { get; } = [];

    public Exception? FailClaimsWith { get; set; }

    public bool LoseClaims { get; set; }

    public ValueTask<IdempotencyClaim> ClaimAsync(string scope, string key, ReadOnlyMemory<byte> fingerprint, TimeSpan lease, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (FailClaimsWith is not null)
        {
            throw FailClaimsWith;
        }

        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (Entries.TryGetValue((scope, key), out var entry))
            {
                var expired = entry.ExpiresAt <= now;
                var leaseEnded = entry.Response is null && entry.LockedUntil <= now && entry.Fingerprint.AsSpan().SequenceEqual(fingerprint.Span);
                if (!expired && !leaseEnded)
                {
                    return ValueTask.FromResult(IdempotencyClaim.Exists(new IdempotencyRecord(entry.Fingerprint, entry.Token, entry.Response is null ? entry.LockedUntil - now : TimeSpan.Zero, entry.Response)));
                }
            }

            var token = ++_nextToken;
            Entries[(scope, key)] = new Entry(fingerprint.ToArray(), token, now + lease, now + retention, null);
            return ValueTask.FromResult(IdempotencyClaim.Acquired(token, entry is not null));
        }
    }

    public ValueTask<bool> CompleteAsync(string scope, string key, long fencingToken, IdempotencyResponse response, TimeSpan retention, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (LoseClaims || !Entries.TryGetValue((scope, key), out var entry) || entry.Token != fencingToken || entry.Response is not null)
            {
                return ValueTask.FromResult(false);
            }

            Entries[(scope, key)] = entry with { Response = response, ExpiresAt = time.GetUtcNow() + retention };
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<bool> ReleaseAsync(string scope, string key, long fencingToken, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Entries.TryGetValue((scope, key), out var entry) && entry.Token == fencingToken && entry.Response is null && Entries.Remove((scope, key)));
        }
    }

    public ValueTask<int> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var expired = Entries.Where(e => e.Value.ExpiresAt <= now).Take(batchSize).Select(e => e.Key).ToList();
            expired.ForEach(k => Entries.Remove(k));
            return ValueTask.FromResult(expired.Count);
        }
    }

    public sealed record Entry(byte[] Fingerprint, long Token, DateTimeOffset LockedUntil, DateTimeOffset ExpiresAt, IdempotencyResponse? Response);
}
