// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace IdempotentWrites.AspNetCore.Internal;

// A streaming SHA-256 over the parts of a request that make it "the same request": method, route pattern, path,
// canonical query, canonical content type and body. Each part is length-prefixed so no two different requests can
// concatenate to the same input. The body is buffered (spilling to disk past 30 KB) and rewound for the handler.
internal static class RequestFingerprint
{
    public const int Length = 32;

    private const string Version = "iw-fingerprint-v1";

    public static async ValueTask<byte[]> ComputeAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendField(hash, Version);
        AppendField(hash, request.Method.ToUpperInvariant());
        AppendField(hash, (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? string.Empty);
        AppendField(hash, request.PathBase.Add(request.Path).Value ?? string.Empty);
        AppendField(hash, CanonicalQuery(request.Query));
        AppendField(hash, CanonicalContentType(request.ContentType));
        await AppendBodyAsync(hash, context, cancellationToken).ConfigureAwait(false);
        return hash.GetHashAndReset();
    }

    // Keys sorted (ordinal); the values of one key keep their order, which can carry meaning.
    public static string CanonicalQuery(IQueryCollection query)
    {
        if (query.Count == 0)
        {
            return string.Empty;
        }

        var builder = new StringBuilder();
        foreach (var key in query.Keys.Order(StringComparer.Ordinal))
        {
            foreach (var value in query[key])
            {
                builder.Append(
                    builder.Length == 0
                        ? string.Empty
                        : "&").Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? string.Empty));
            }
        }

        return builder.ToString();
    }

    // "Application/JSON;charset=UTF-8" and "application/json; charset=utf-8" are the same content type.
    public static string CanonicalContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return string.Empty;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return contentType.Trim();
        }

        var builder = new StringBuilder(parsed.MediaType.Value?.ToLowerInvariant());
        foreach (var parameter in parsed.Parameters.OrderBy(p => p.Name.Value, StringComparer.OrdinalIgnoreCase))
        {
            var name = parameter.Name.Value?.ToLowerInvariant();
            var value = HeaderUtilities.RemoveQuotes(parameter.Value).Value ?? string.Empty;
            builder.Append(';').Append(name).Append('=').Append(name == "charset" ? value.ToLowerInvariant() : value);
        }

        return builder.ToString();
    }

    private static void AppendField(IncrementalHash hash, string value)
    {
        Span<byte> length = stackalloc byte[4];
        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }

    private static async ValueTask AppendBodyAsync(IncrementalHash hash, HttpContext context, CancellationToken cancellationToken)
    {
        long total = 0;
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (canHaveBody && context.Request.ContentLength != 0)
        {
            context.Request.EnableBuffering();
            var body = context.Request.Body;
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    total += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            body.Position = 0;
        }

        // The body is the last field: its length goes after it, as it is only known once streamed.
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(length, total);
        hash.AppendData(length);
    }
}
