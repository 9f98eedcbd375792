// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// The authenticated principal's identifier, or the configured anonymous partition; never a silently shared scope.
internal sealed class DefaultIdempotencyScopeResolver(IOptions<HttpIdempotencyOptions> options) : IIdempotencyScopeResolver
{
    public ValueTask<string?> ResolveScopeAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated == true)
        {
            var id = user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.FindFirst("sub")?.Value ?? user.Identity.Name;
            if (!string.IsNullOrEmpty(id))
            {
                return ValueTask.FromResult<string?>("principal:" + id);
            }
        }

        return ValueTask.FromResult(options.Value.AnonymousScope is { } anonymous ? "anonymous:" + anonymous : null);
    }
}
