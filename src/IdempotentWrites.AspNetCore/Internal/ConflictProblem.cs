// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore.Internal;

// A database error classified for an HTTP answer. Values are set only for unique violations raised by the writer.
internal sealed record ConflictProblem(
    string Code,
    int StatusCode,
    string? SchemaName,
    string? TableName,
    string? ConstraintName,
    IReadOnlyList<string> Fields,
    IReadOnlyDictionary<string, object?>? Values,
    string ErrorType)
{
    public bool IsRetryable => Code == IdempotentWritesProblemCodes.RetryableConflict;
}
