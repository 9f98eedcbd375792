// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Http;

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Tells which caller a request comes from, so that keys are unique per tenant and principal and one caller can never
/// replay another's response.
/// <para/>
/// The default resolver uses the authenticated principal's <c>NameIdentifier</c> (or <c>sub</c>, or name) claim, and
/// <see cref="HttpIdempotencyOptions.AnonymousScope"/> for anonymous callers. Register your own (for example one that adds
/// a tenant) with <c>services.AddSingleton&lt;IIdempotencyScopeResolver, MyResolver&gt;()</c>.
/// </summary>
public interface IIdempotencyScopeResolver
{
    /// <summary>
    /// Returns the scope of the request's caller.
    /// </summary>
    /// <param name="context">The HTTP context.</param>
    /// <param name="cancellationToken">The token to cancel the operation.</param>
    /// <returns>The scope (at most 1000 characters), or <see langword="null"/> when the caller cannot be identified: the
    /// request then fails with an <see cref="InvalidOperationException"/> rather than share a scope.</returns>
    ValueTask<string?> ResolveScopeAsync(HttpContext context, CancellationToken cancellationToken);
}
