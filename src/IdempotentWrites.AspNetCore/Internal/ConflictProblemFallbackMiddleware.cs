// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Http;

namespace IdempotentWrites.AspNetCore.Internal;

// The outermost middleware (added by ConflictProblemStartupFilter): answers an integrity error that no exception handler
// answered, so AddConflictProblemDetails() works without app.UseExceptionHandler(). With UseExceptionHandler, its
// IExceptionHandler (ConflictExceptionHandler) answers first and this never sees the exception; every other exception
// is rethrown untouched (Kestrel's 500, or the app's own handling outside the pipeline).
internal sealed class ConflictProblemFallbackMiddleware(RequestDelegate next, ConflictProblemMapper mapper)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            var problem = await mapper.TryMapAsync(ex, null, context.RequestAborted).ConfigureAwait(false);
            if (problem is null)
            {
                throw;
            }

            context.Response.Clear();
            await mapper.WriteAsync(context, problem, ex).ConfigureAwait(false);
        }
    }
}
