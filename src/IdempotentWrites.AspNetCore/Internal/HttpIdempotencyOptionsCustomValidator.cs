// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// Cross-field and TimeSpan rules, with the offending values in the messages.
internal sealed class HttpIdempotencyOptionsCustomValidator : IValidateOptions<HttpIdempotencyOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpIdempotencyOptions options)
    {
        var failures = new List<string>();
        CheckRange(failures, "HttpIdempotencyOptions.Lease", options.Lease, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1));
        CheckRange(failures, "HttpIdempotencyOptions.Retention", options.Retention, TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
        CheckRange(failures, "HttpIdempotencyOptions.InProgressWaitTimeout", options.InProgressWaitTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        CheckRange(
            failures,
            "HttpIdempotencyOptions.InProgressPollInterval",
            options.InProgressPollInterval,
            TimeSpan.FromMilliseconds(10),
            TimeSpan.FromMinutes(1));
        CheckRange(failures, "HttpIdempotencyOptions.StoreTimeout", options.StoreTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        CheckRange(
            failures,
            "HttpIdempotencyOptions.StoreUnavailableRetryAfter",
            options.StoreUnavailableRetryAfter,
            TimeSpan.FromSeconds(1),
            TimeSpan.FromHours(1));
        CheckRange(failures, "HttpIdempotencyOptions.PurgeInterval", options.PurgeInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        if (options.Retention < options.Lease)
        {
            failures.Add(
                $"HttpIdempotencyOptions.Retention ({options.Retention}) is shorter than " +
                $"HttpIdempotencyOptions.Lease ({options.Lease}); a key must outlive its lease.");
        }

        if (options.HeaderName is { } header && (header.Length == 0 || header.Any(c => c is <= ' ' or > '~' or ':')))
        {
            failures.Add($"HttpIdempotencyOptions.HeaderName '{header}' is not a valid header name.");
        }

        if (options.SchemaName is { } schema && string.IsNullOrWhiteSpace(schema))
        {
            failures.Add("HttpIdempotencyOptions.SchemaName is blank; set a schema or leave it null for the search_path.");
        }

        if (options.AnonymousScope is { } anonymous && string.IsNullOrWhiteSpace(anonymous))
        {
            failures.Add("HttpIdempotencyOptions.AnonymousScope is blank; set a partition name or leave it null to refuse anonymous callers.");
        }

        foreach (var header2 in options.ReplayedHeaders)
        {
            if (IdempotencyConstants.NeverReplayedHeaders.Contains(header2, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"HttpIdempotencyOptions.ReplayedHeaders contains '{header2}', which is never replayed.");
            }
        }

        foreach (var (policyName, policy) in options.Policies)
        {
            var prefix = $"Idempotency policy '{policyName}': ";
            if (policy.Lease is { } lease)
            {
                CheckRange(failures, prefix + "Lease", lease, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1));
            }

            if (policy.Retention is { } retention)
            {
                CheckRange(failures, prefix + "Retention", retention, TimeSpan.FromSeconds(1), TimeSpan.FromDays(365));
            }

            if ((policy.Retention ?? options.Retention) < (policy.Lease ?? options.Lease))
            {
                failures.Add(
                    $"{prefix}Retention ({policy.Retention ?? options.Retention}) is shorter than Lease " +
                    $"({policy.Lease ?? options.Lease}); a key must outlive its lease.");
            }

            if (policy.InProgressWaitTimeout is { } wait)
            {
                CheckRange(failures, prefix + "InProgressWaitTimeout", wait, TimeSpan.Zero, TimeSpan.FromMinutes(10));
            }

            if (policy.MaxResponseBodySize is { } size && (size < 0 || size > IdempotencyConstants.MaxResponseBodySizeLimit))
            {
                failures.Add($"{prefix}MaxResponseBodySize is {size}; it must be between 0 and {IdempotencyConstants.MaxResponseBodySizeLimit}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRange(List<string> failures, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{name} is {value}; it must be between {min} and {max}.");
        }
    }
}
