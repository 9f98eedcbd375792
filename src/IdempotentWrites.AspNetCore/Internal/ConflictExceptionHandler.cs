// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace IdempotentWrites.AspNetCore.Internal;

// Runs inside app.UseExceptionHandler(): answers integrity errors with problem details, and leaves every other exception
// to the next handler (or the default 500).
internal sealed class ConflictExceptionHandler(ConflictProblemMapper mapper) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = await mapper.TryMapAsync(exception, null, cancellationToken).ConfigureAwait(false);
        if (problem is null)
        {
            return false;
        }

        await mapper.WriteAsync(httpContext, problem, exception).ConfigureAwait(false);
        return true;
    }
}
