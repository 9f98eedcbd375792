// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace IdempotentWrites.AspNetCore.Internal;

// Writes application/problem+json (RFC 9457) through the app's IProblemDetailsService (so its CustomizeProblemDetails
// applies), or directly when there is none or it declines (an Accept header without JSON): an error is never silent.
internal sealed class ProblemWriter(IProblemDetailsService? problemDetailsService)
{
    public const string ContentType = "application/problem+json";

    public static ProblemDetails Create(HttpContext context, int statusCode, string code, string title, string? detail, Uri? typeBaseUri = null)
    {
        var problem = new ProblemDetails
        {
            Status = statusCode,
            Title = title,
            Detail = detail,
            Type = typeBaseUri is null ? null : new Uri(typeBaseUri, code).ToString(),
        };
        problem.Extensions["code"] = code;
        problem.Extensions["traceId"] = Activity.Current?.Id ?? context.TraceIdentifier;
        return problem;
    }

    public static string RetryAfterSeconds(TimeSpan delay)
        => Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    public async ValueTask WriteAsync(HttpContext context, ProblemDetails problem, Exception? exception = null)
    {
        context.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        if (problemDetailsService is not null
            && await problemDetailsService.TryWriteAsync(
                new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception }).ConfigureAwait(false))
        {
            return;
        }

        context.Response.ContentType = ContentType;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WriteIfNotNull(json, "type", problem.Type);
            WriteIfNotNull(json, "title", problem.Title);
            json.WriteNumber("status", context.Response.StatusCode);
            WriteIfNotNull(json, "detail", problem.Detail);
            WriteIfNotNull(json, "instance", problem.Instance);
            foreach (var (name, value) in problem.Extensions)
            {
                json.WritePropertyName(name);
                WriteValue(json, value);
            }

            json.WriteEndObject();
        }

        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteIfNotNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    // Extensions hold only what this package puts there: strings, numbers, string lists and string maps.
    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case int number:
                json.WriteNumberValue(number);
                break;
            case long number:
                json.WriteNumberValue(number);
                break;
            case IReadOnlyDictionary<string, string?> map:
                json.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    json.WriteString(key, item);
                }

                json.WriteEndObject();
                break;
            case IEnumerable<string> list:
                json.WriteStartArray();
                foreach (var item in list)
                {
                    json.WriteStringValue(item);
                }

                json.WriteEndArray();
                break;
            default:
                json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
