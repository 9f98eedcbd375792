// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Names of the resilience pipeline the writer runs its idempotent operations through.
/// </summary>
public static class IdempotentWritesResilience
{
    /// <summary>
    /// The service key of the <c>Polly.ResiliencePipeline</c> the writer resolves from dependency injection.
    /// Register your own keyed <c>ResiliencePipeline</c> under this key to replace the default one
    /// (built from <see cref="IdempotentWritesOptions.Retry"/> and <see cref="IdempotentWritesOptions.Timeout"/>).
    /// </summary>
    public const string PipelineKey = "IdempotentWrites";
}
