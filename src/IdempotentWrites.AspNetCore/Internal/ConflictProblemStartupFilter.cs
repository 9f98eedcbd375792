// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace IdempotentWrites.AspNetCore.Internal;

// Puts ConflictProblemFallbackMiddleware around the whole app pipeline (as ForwardedHeaders and HostFiltering do), so the
// documented registration alone turns integrity errors into problem details, whatever the app's middleware.
internal sealed class ConflictProblemStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        => app =>
        {
            app.UseMiddleware<ConflictProblemFallbackMiddleware>();
            next(app);
        };
}
