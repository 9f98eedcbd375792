// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IdempotentWrites.AspNetCore.Internal;

// A policy name is matched by string: a typo would otherwise be a 500 on every request to the endpoint. Once the pipeline
// is built (every endpoint mapped, before the server listens), every endpoint that requires a key under a named policy is
// checked against the policies, and the host fails to start naming each endpoint and policy that do not match.
// The same check finds endpoints that require a key in an app that never calls app.UseIdempotency(): they would run
// unprotected (and a transactional handler's writes would commit on their own), so the start fails instead.
internal sealed class IdempotencyPolicyStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        => app =>
        {
            next(app);
            Validate(app.ApplicationServices);
        };

    public static void Validate(IServiceProvider services)
    {
        var policies = services.GetService<IdempotencyPolicies>();
        var endpoints = services.GetService<EndpointDataSource>();
        if (policies is null || endpoints is null)
        {
            return;
        }

        // Set by UseIdempotency() on the app's services, so a call inside a branch (Map, UseWhen) counts too.
        var middlewareAdded = policies.MiddlewareAdded;

        var unknown = new List<string>();
        var requiring = new List<string>();
        foreach (var endpoint in endpoints.Endpoints)
        {
            if (endpoint.Metadata.GetMetadata<DisableIdempotencyAttribute>() is not null
                || endpoint.Metadata.GetMetadata<RequireIdempotencyKeyAttribute>() is not { } requirement)
            {
                continue;
            }

            var display = endpoint.DisplayName ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText;
            requiring.Add($"'{display}'");
            if (requirement.PolicyName is { } name && !policies.Has(name))
            {
                unknown.Add($"'{display}' requires the idempotency policy '{name}'");
            }
        }

        if (requiring.Count > 0 && !middlewareAdded)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", requiring.Take(5))}{(requiring.Count > 5 ? $" and {requiring.Count - 5} more" : string.Empty)} " +
                "require an Idempotency-Key, but app.UseIdempotency() was not called, so nothing would enforce it (and a " +
                "transactional handler's writes would commit on their own). Call app.UseIdempotency() after routing, " +
                "authentication and authorization.");
        }

        if (unknown.Count > 0)
        {
            var known = policies.Names.Count == 0 ? "none" : string.Join(", ", policies.Names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
            throw new InvalidOperationException(
                $"{string.Join("; ", unknown)}, but no policy has that name (policies: {known}; names are case-sensitive). " +
                "Add it with options.AddPolicy(name, ...) in AddHttpIdempotency, or fix the name on the endpoint.");
        }
    }
}
