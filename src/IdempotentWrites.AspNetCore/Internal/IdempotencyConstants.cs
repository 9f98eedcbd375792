// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore.Internal;

internal static class IdempotencyConstants
{
    public const string DefaultTableName = "idempotency_keys";

    public const int MaxKeyLength = 255;

    public const int DefaultPurgeBatchSize = 1000;

    public const long DefaultMaxResponseBodySize = 1024 * 1024;

    public const long MaxResponseBodySizeLimit = 64L * 1024 * 1024;

    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(24);

    public static readonly TimeSpan DefaultInProgressPollInterval = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan DefaultStoreTimeout = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultStoreUnavailableRetryAfter = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultPurgeInterval = TimeSpan.FromMinutes(5);

    // Never replayed, whatever the allow-list says: they describe one connection or one moment, or carry credentials.
    public static readonly string[] NeverReplayedHeaders =
    [
        "Set-Cookie", "Date", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer",
        IdempotencyHeaderNames.IdempotentReplayed,
    ];

    public static readonly string[] DefaultReplayedHeaders =
    [
        "Content-Type", "Content-Language", "Content-Location", "Location", "ETag", "Last-Modified", "Cache-Control", "Link",
    ];
}
