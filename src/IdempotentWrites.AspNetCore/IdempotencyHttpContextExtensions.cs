// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore;
using IdempotentWrites.AspNetCore.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Http;

/// <summary>
/// Idempotency extension methods for <see cref="HttpContext"/>.
/// </summary>
public static class IdempotencyHttpContextExtensions
{
    /// <summary>
    /// Gets the transaction of the transactional idempotent execution running this request's handler (see
    /// <see cref="HttpIdempotencyOptions.Transactional"/>). The writer's overloads without a transaction join it already
    /// (<c>IdempotentWrites.AmbientTransaction</c>); use it for your own <c>NpgsqlCommand</c>s.
    /// </summary>
    /// <param name="context">The request's context, while its handler runs.</param>
    /// <returns>The feature with the open connection and transaction. Do not commit or roll it back.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="context"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when the request runs in no transaction, with the reason: the
    /// endpoint requires no key or its policy is not transactional, the method is safe, idempotency is disabled on the
    /// endpoint, or the middleware did not run.</exception>
    public static IIdempotencyTransactionFeature GetIdempotencyTransaction(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IIdempotencyTransactionFeature>() ?? throw new InvalidOperationException(WhyNoTransaction(context));
    }

    private static string WhyNoTransaction(HttpContext context)
    {
        const string Prefix = "This request runs in no idempotency transaction: ";
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return Prefix + "it has no endpoint. Call GetIdempotencyTransaction() from an endpoint's handler.";
        }

        var name = endpoint.DisplayName ?? "the endpoint";
        if (endpoint.Metadata.GetMetadata<DisableIdempotencyAttribute>() is not null)
        {
            return Prefix + $"idempotency is disabled on '{name}' (DisableIdempotency).";
        }

        if (endpoint.Metadata.GetMetadata<RequireIdempotencyKeyAttribute>() is not { } requirement)
        {
            return Prefix + $"'{name}' does not require an Idempotency-Key. Add .RequireIdempotencyKey(\"<policy>\") (or " +
                "[RequireIdempotencyKey(\"<policy>\")]) with a policy whose Transactional is true.";
        }

        if (IdempotencyMiddleware.IsSafe(context.Request.Method))
        {
            return Prefix + $"{context.Request.Method} is a safe method, which the Idempotency-Key middleware never executes idempotently.";
        }

        var policies = context.RequestServices.GetService<IdempotencyPolicies>();
        if (policies is null)
        {
            return Prefix + "the idempotency services are not registered. Call services.AddIdempotentWrites().AddHttpIdempotency(...).";
        }

        var policyName = requirement.PolicyName is null ? "the default policy" : $"the policy '{requirement.PolicyName}'";
        if (requirement.PolicyName is not null && !policies.Has(requirement.PolicyName))
        {
            return Prefix + $"'{name}' requires {policyName}, which does not exist.";
        }

        if (!policies.Get(requirement.PolicyName).Transactional)
        {
            return Prefix + $"'{name}' uses {policyName}, which is not transactional. " + (requirement.PolicyName is null
                ? "Set Transactional = true in AddHttpIdempotency(o => ...), or require a transactional named policy."
                : "Set Transactional = true on it (options.AddPolicy(name, p => p.Transactional = true)).");
        }

        return Prefix + "the Idempotency-Key middleware did not run the handler. Call app.UseIdempotency() after routing, " +
            "authentication and authorization, and call GetIdempotencyTransaction() only while the handler runs.";
    }
}
