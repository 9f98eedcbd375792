// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// The default and named policies with every inherited setting filled in, built once.
internal sealed class IdempotencyPolicies
{
    private readonly Dictionary<string, EffectivePolicy> _named;

    public IdempotencyPolicies(IOptions<HttpIdempotencyOptions> options)
    {
        var value = options.Value;
        Default = new EffectivePolicy(value.Lease, value.Retention, value.MaxResponseBodySize, value.InProgressWaitTimeout, value.Transactional);
        _named = value.Policies.ToDictionary(
            p => p.Key,
            p => new EffectivePolicy(
                p.Value.Lease ?? Default.Lease,
                p.Value.Retention ?? Default.Retention,
                p.Value.MaxResponseBodySize ?? Default.MaxResponseBodySize,
                p.Value.InProgressWaitTimeout ?? Default.InProgressWaitTimeout,
                p.Value.Transactional ?? Default.Transactional),
            StringComparer.Ordinal);
        AnyTransactional = Default.Transactional || _named.Values.Any(p => p.Transactional);
    }

    public EffectivePolicy Default { get; }

    public bool AnyTransactional { get; }

    public IReadOnlyCollection<string> Names => _named.Keys;

    // Whether app.UseIdempotency() was called (read by IdempotencyPolicyStartupFilter once the pipeline is built).
    public bool MiddlewareAdded { get; set; }

    public bool Has(string name) => _named.ContainsKey(name);

    public EffectivePolicy Get(string? name)
    {
        if (name is null)
        {
            return Default;
        }

        return _named.TryGetValue(name, out var policy)
            ? policy
            : throw new InvalidOperationException(
                $"The endpoint requires the idempotency policy '{name}', but no policy has that name; add it with " +
                $"options.AddPolicy(\"{name}\", ...) in AddHttpIdempotency.");
    }
}
