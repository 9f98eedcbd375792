// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// A response stored for replay: status, allow-listed headers and body bytes.
/// </summary>
public sealed class IdempotencyResponse
{
    /// <summary>
    /// Initializes a new instance of the <see cref="IdempotencyResponse"/> class.
    /// </summary>
    /// <param name="statusCode">The HTTP status code.</param>
    /// <param name="headers">The allow-listed headers, in order; a header with several values appears once per value.</param>
    /// <param name="body">The body bytes; empty when <paramref name="isBodyOmitted"/>.</param>
    /// <param name="isBodyOmitted">Whether the body was larger than the cap and not stored.</param>
    /// <exception cref="ArgumentNullException">Thrown when <paramref name="headers"/> is <see langword="null"/>.</exception>
    public IdempotencyResponse(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body, bool isBodyOmitted)
    {
        ArgumentNullException.ThrowIfNull(headers);
        StatusCode = statusCode;
        Headers = headers;
        Body = body;
        IsBodyOmitted = isBodyOmitted;
    }

    /// <summary>
    /// Gets the HTTP status code.
    /// </summary>
    public int StatusCode { get; }

    /// <summary>
    /// Gets the allow-listed headers, in order; a header with several values appears once per value.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>
    /// Gets the body bytes; empty when <see cref="IsBodyOmitted"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>
    /// Gets a value indicating whether the body was larger than the cap and not stored; a replay then has an empty body.
    /// </summary>
    public bool IsBodyOmitted { get; }
}
