// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

internal sealed class ConflictProblemDetailsOptionsValidator : IValidateOptions<ConflictProblemDetailsOptions>
{
    public ValidateOptionsResult Validate(string? name, ConflictProblemDetailsOptions options)
    {
        var failures = new List<string>();
        foreach (var (code, status) in options.StatusCodes)
        {
            if (status is < 400 or > 499)
            {
                failures.Add($"ConflictProblemDetailsOptions.StatusCodes[\"{code}\"] is {status}; it must be a 4xx status code.");
            }
        }

        if (options.ProblemTypeBaseUri is { IsAbsoluteUri: false } relative)
        {
            failures.Add($"ConflictProblemDetailsOptions.ProblemTypeBaseUri is '{relative}'; it must be an absolute URI.");
        }

        foreach (var (constraint, message) in options.ConstraintMessages)
        {
            if (string.IsNullOrWhiteSpace(message))
            {
                failures.Add($"ConflictProblemDetailsOptions.ConstraintMessages[\"{constraint}\"] is empty; remove the entry or give a message.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
