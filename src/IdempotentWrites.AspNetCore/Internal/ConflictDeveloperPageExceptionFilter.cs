// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace IdempotentWrites.AspNetCore.Internal;

// In Development, WebApplication adds the developer exception page inside the startup filters' middleware: it catches the
// exception first and would answer 500. This filter is its extension point: integrity errors get their problem details
// there too, so an app answers the same in Development and in Production.
internal sealed class ConflictDeveloperPageExceptionFilter(ConflictProblemMapper mapper) : IDeveloperPageExceptionFilter
{
    public async Task HandleExceptionAsync(ErrorContext errorContext, Func<ErrorContext, Task> next)
    {
        var context = errorContext.HttpContext;
        var problem = context.Response.HasStarted
            ? null
            : await mapper.TryMapAsync(errorContext.Exception, null, context.RequestAborted).ConfigureAwait(false);
        if (problem is null)
        {
            await next(errorContext).ConfigureAwait(false);
            return;
        }

        context.Response.Clear();
        await mapper.WriteAsync(context, problem, errorContext.Exception).ConfigureAwait(false);
    }
}
