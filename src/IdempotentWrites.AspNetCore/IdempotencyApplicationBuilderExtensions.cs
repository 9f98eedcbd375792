// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.AspNetCore.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Extension methods to add the <c>Idempotency-Key</c> middleware.
/// </summary>
public static class IdempotencyApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the middleware that makes endpoints with <c>.RequireIdempotencyKey()</c> or <c>[RequireIdempotencyKey]</c> idempotent.
    /// <para/>
    /// Call it after routing, authentication and authorization (so the endpoint and the caller are known), and after
    /// <c>UseExceptionHandler</c>. Requires <c>services.AddIdempotentWrites().AddHttpIdempotency()</c>.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The value of <paramref name="app"/>.</returns>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="app"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Thrown when <c>AddHttpIdempotency()</c> was not called.</exception>
    public static IApplicationBuilder UseIdempotency(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        VerifyServicesAreRegistered(app);

        // Read when the pipeline is built: endpoints that require a key and no middleware to enforce it fail the start.
        if (app.ApplicationServices.GetService<IdempotencyPolicies>() is { } policies)
        {
            policies.MiddlewareAdded = true;
        }

        return app.UseMiddleware<IdempotencyMiddleware>();
    }

    private static void VerifyServicesAreRegistered(IApplicationBuilder app)
    {
        var isService = app.ApplicationServices.GetService<IServiceProviderIsService>();
        if (isService is not null && !isService.IsService(typeof(IdempotencyPolicies)))
        {
            throw new InvalidOperationException(
                "Unable to find the required services. Add them by calling 'services.AddIdempotentWrites().AddHttpIdempotency(...)' "
                + "in the application startup code before calling 'app.UseIdempotency()'.");
        }
    }
}
