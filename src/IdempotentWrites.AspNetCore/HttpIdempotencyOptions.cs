// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.ComponentModel.DataAnnotations;
using IdempotentWrites.AspNetCore.Internal;

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Options of the <c>Idempotency-Key</c> middleware and its PostgreSQL key store.
/// <para/>
/// The values here are the default policy; <see cref="AddPolicy(string, Action{IdempotencyPolicy})"/> adds named policies that
/// override some of them for the endpoints that name the policy.
/// </summary>
public sealed class HttpIdempotencyOptions
{
    private readonly Dictionary<string, IdempotencyPolicy> _policies = new(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the request header that carries the key.
    /// </summary>
    /// <value>The default value is <c>Idempotency-Key</c>.</value>
    [Required]
    public string HeaderName { get; set; } = IdempotencyHeaderNames.IdempotencyKey;

    /// <summary>
    /// Gets or sets a value indicating whether a bare key (<c>Idempotency-Key: 8e03978e-40d5</c>) is accepted besides the
    /// RFC 9651 structured-field string the draft specifies (<c>Idempotency-Key: "8e03978e-40d5"</c>).
    /// <para/>
    /// Either way a key is 1 to 255 printable ASCII characters; a bare key cannot contain spaces, quotes, backslashes or commas.
    /// </summary>
    /// <value>The default value is <see langword="true"/> (most clients send bare keys).</value>
    public bool LenientKeyParsing { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a claimed key stays locked for its first execution. Concurrent requests with the key get
    /// <c>409 in-progress</c> with a <c>Retry-After</c> until then; after it, the key is taken over (the owner is presumed
    /// crashed) and a late finisher's result is discarded by the fencing token. Set it above your slowest handler.
    /// </summary>
    /// <value>The default value is 60 seconds.</value>
    public TimeSpan Lease { get; set; } = IdempotencyConstants.DefaultLease;

    /// <summary>
    /// Gets or sets how long a stored response is replayed after it was stored; after that the key reads as absent
    /// and is purged.
    /// </summary>
    /// <value>The default value is 24 hours.</value>
    public TimeSpan Retention { get; set; } = IdempotencyConstants.DefaultRetention;

    /// <summary>
    /// Gets or sets the largest response body (in bytes) that is stored for replay. A larger response is still sent in
    /// full and its status and headers are stored (the handler never runs again for the key), but a replay has an empty body.
    /// </summary>
    /// <value>The default value is 1 MiB.</value>
    [Range(0, IdempotencyConstants.MaxResponseBodySizeLimit)]
    public long MaxResponseBodySize { get; set; } = IdempotencyConstants.DefaultMaxResponseBodySize;

    /// <summary>
    /// Gets or sets how long a request whose key is in progress waits for the first execution to finish (and then replays
    /// its response) before it is answered with <c>409 in-progress</c>.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/>: answer at once.</value>
    public TimeSpan InProgressWaitTimeout { get; set; }

    /// <summary>
    /// Gets or sets how often a waiting request (see <see cref="InProgressWaitTimeout"/>) checks the store.
    /// </summary>
    /// <value>The default value is 100 milliseconds.</value>
    public TimeSpan InProgressPollInterval { get; set; } = IdempotencyConstants.DefaultInProgressPollInterval;

    /// <summary>
    /// Gets or sets a value indicating whether the handler runs inside a PostgreSQL transaction that also stores its
    /// response, so the handler's writes and the stored response commit together or not at all.
    /// <para/>
    /// The handler gets the transaction from <see cref="IIdempotencyTransactionFeature"/>. The response is buffered and sent
    /// after the commit; a response that is not stored (an exception, 5xx, 408, 425, 429) rolls the transaction back.
    /// Requires the PostgreSQL store.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Transactional { get; set; }

    /// <summary>
    /// Gets or sets the time limit of each store operation (claim, completion, release). A claim that does not finish in
    /// time is answered with <c>503 store-unavailable</c>.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan StoreTimeout { get; set; } = IdempotencyConstants.DefaultStoreTimeout;

    /// <summary>
    /// Gets or sets the <c>Retry-After</c> of a <c>503 store-unavailable</c> response.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan StoreUnavailableRetryAfter { get; set; } = IdempotencyConstants.DefaultStoreUnavailableRetryAfter;

    /// <summary>
    /// Gets or sets the schema of the key store table; <see langword="null"/> uses the connection's <c>search_path</c>
    /// (normally <c>public</c>). The name is taken literally and quoted.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? SchemaName { get; set; }

    /// <summary>
    /// Gets or sets the name of the key store table, taken literally and quoted.
    /// </summary>
    /// <value>The default value is <c>idempotency_keys</c>.</value>
    [Required]
    public string TableName { get; set; } = IdempotencyConstants.DefaultTableName;

    /// <summary>
    /// Gets or sets a value indicating whether the key store table is created (if missing) when the host starts.
    /// When <see langword="false"/>, create it with <see cref="IdempotencyStoreSchema.MigrateAsync"/> or the script of
    /// <see cref="IdempotencyStoreSchema.GetCreateScript"/> (what <c>iw idempotency migrate</c> runs).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool CreateStoreTable { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a hosted service deletes expired keys in batches. Expired keys read as
    /// absent whether or not they are purged.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PurgeExpiredKeys { get; set; } = true;

    /// <summary>
    /// Gets or sets how often the purge runs.
    /// </summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan PurgeInterval { get; set; } = IdempotencyConstants.DefaultPurgeInterval;

    /// <summary>
    /// Gets or sets how many expired keys one purge statement deletes; a purge repeats statements until fewer remain.
    /// </summary>
    /// <value>The default value is 1000.</value>
    [Range(1, 100_000)]
    public int PurgeBatchSize { get; set; } = IdempotencyConstants.DefaultPurgeBatchSize;

    /// <summary>
    /// Gets or sets the scope of anonymous callers (no authenticated principal) under the default
    /// <see cref="IIdempotencyScopeResolver"/>. When <see langword="null"/>, a request from an anonymous caller to an
    /// endpoint that requires a key fails with an <see cref="InvalidOperationException"/>: sharing one scope between
    /// anonymous callers would let one replay another's response, so it has to be chosen explicitly.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? AnonymousScope { get; set; }

    /// <summary>
    /// Gets the response headers that are stored and replayed (case-insensitive). <c>Set-Cookie</c>, <c>Date</c>,
    /// <c>Content-Length</c>, <c>Transfer-Encoding</c> and hop-by-hop headers are never replayed and may not be added.
    /// </summary>
    /// <value>The default value is <c>Content-Type</c>, <c>Content-Language</c>, <c>Content-Location</c>, <c>Location</c>,
    /// <c>ETag</c>, <c>Last-Modified</c>, <c>Cache-Control</c> and <c>Link</c>.</value>
    public ISet<string> ReplayedHeaders { get; } = new HashSet<string>(IdempotencyConstants.DefaultReplayedHeaders, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the named policies added by <see cref="AddPolicy(string, Action{IdempotencyPolicy})"/>.
    /// </summary>
    public IReadOnlyDictionary<string, IdempotencyPolicy> Policies => _policies;

    /// <summary>
    /// Adds a named policy, used by endpoints with <c>.RequireIdempotencyKey(name)</c> or <c>[RequireIdempotencyKey(name)]</c>.
    /// Settings the policy leaves <see langword="null"/> come from these options.
    /// </summary>
    /// <param name="name">The policy name (case-sensitive).</param>
    /// <param name="configure">Configures the policy.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">Thrown when <paramref name="name"/> is blank.</exception>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when a policy with the name already exists.</exception>
    public HttpIdempotencyOptions AddPolicy(string name, Action<IdempotencyPolicy> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        if (_policies.ContainsKey(name))
        {
            throw new InvalidOperationException($"An idempotency policy named '{name}' was already added.");
        }

        var policy = new IdempotencyPolicy();
        configure(policy);
        _policies[name] = policy;
        return this;
    }
}
