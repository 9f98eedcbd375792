// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore;

/// <summary>
/// Options of the mapping from PostgreSQL integrity errors to <c>application/problem+json</c> responses (RFC 9457).
/// </summary>
public sealed class ConflictProblemDetailsOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the conflicting values of a unique violation are included in the response
    /// (a <c>values</c> member). They are known only for writes made through <see cref="IIdempotentWriter"/>, and are
    /// personal data more often than not (an email address, a national id number).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool IncludeValues { get; set; }

    /// <summary>
    /// Gets or sets the base of the problem <c>type</c> URIs: when set, <c>type</c> is this URI with the problem code
    /// appended (for example <c>https://example.com/problems/unique-violation</c>). When <see langword="null"/>, ASP.NET Core's
    /// default type for the status code is used.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Uri? ProblemTypeBaseUri { get; set; }

    /// <summary>
    /// Gets the <c>detail</c> text per constraint name (case-sensitive), for example
    /// <c>["users_email_key"] = "This email is already registered."</c>. Constraints without an entry get no <c>detail</c>.
    /// </summary>
    public IDictionary<string, string> ConstraintMessages { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets the HTTP status code per problem code (see <see cref="IdempotentWritesProblemCodes"/>); change an entry to map a
    /// kind of error to another status. Every value must be a 4xx status.
    /// </summary>
    /// <value>The default value maps <c>unique-violation</c>, <c>retryable-conflict</c>, <c>foreign-key-violation</c> and
    /// <c>exclusion-violation</c> to 409, and <c>not-null-violation</c>, <c>check-violation</c> and <c>cardinality-violation</c> to 422.</value>
    public IDictionary<string, int> StatusCodes { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [IdempotentWritesProblemCodes.UniqueViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict,
        [IdempotentWritesProblemCodes.RetryableConflict] = Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict,
        [IdempotentWritesProblemCodes.ForeignKeyViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict,
        [IdempotentWritesProblemCodes.ExclusionViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status409Conflict,
        [IdempotentWritesProblemCodes.NotNullViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status422UnprocessableEntity,
        [IdempotentWritesProblemCodes.CheckViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status422UnprocessableEntity,
        [IdempotentWritesProblemCodes.CardinalityViolation] = Microsoft.AspNetCore.Http.StatusCodes.Status422UnprocessableEntity,
    };
}
