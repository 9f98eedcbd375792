// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

// Adds the Idempotency-Key header and the 400/409/422 problem responses to the API descriptions of endpoints that require
// a key, minimal APIs and MVC alike; OpenAPI generators (Microsoft.AspNetCore.OpenApi, Swashbuckle) read them from there.
internal sealed class IdempotencyApiDescriptionProvider(IOptions<HttpIdempotencyOptions> options) : IApiDescriptionProvider
{
    private static readonly EmptyModelMetadataProvider Metadata = new();

    // After the framework's providers (-1100 and -1000) have created the descriptions.
    public int Order => 0;

    public void OnProvidersExecuting(ApiDescriptionProviderContext context)
    {
        foreach (var description in context.Results)
        {
            var metadata = description.ActionDescriptor.EndpointMetadata;
            if (!metadata.OfType<RequireIdempotencyKeyAttribute>().Any() || metadata.OfType<DisableIdempotencyAttribute>().Any()
                || description.HttpMethod is null || IdempotencyMiddleware.IsSafe(description.HttpMethod))
            {
                continue;
            }

            var header = options.Value.HeaderName;
            if (!description.ParameterDescriptions.Any(p =>
                string.Equals(p.Name, header, StringComparison.OrdinalIgnoreCase) && p.Source == BindingSource.Header))
            {
                description.ParameterDescriptions.Add(new ApiParameterDescription
                {
                    Name = header,
                    Source = BindingSource.Header,
                    Type = typeof(string),
                    IsRequired = true,
                    ModelMetadata = Metadata.GetMetadataForType(typeof(string)),
                });
            }

            foreach (var status in (ReadOnlySpan<int>)[
                StatusCodes.Status400BadRequest,
                StatusCodes.Status409Conflict,
                StatusCodes.Status422UnprocessableEntity])
            {
                if (description.SupportedResponseTypes.Any(r => r.StatusCode == status))
                {
                    continue;
                }

                description.SupportedResponseTypes.Add(new ApiResponseType
                {
                    StatusCode = status,
                    Type = typeof(ProblemDetails),
                    ModelMetadata = Metadata.GetMetadataForType(typeof(ProblemDetails)),
                    ApiResponseFormats = { new ApiResponseFormat { MediaType = ProblemWriter.ContentType } },
                });
            }
        }
    }

    public void OnProvidersExecuted(ApiDescriptionProviderContext context)
    {
    }
}
