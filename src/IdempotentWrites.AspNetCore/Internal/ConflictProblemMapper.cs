// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Globalization;
using IdempotentWrites.Internal.Postgres;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.AspNetCore.Internal;

// Maps integrity errors to problem details: the SDK's typed exceptions, or a raw PostgresException, found anywhere in the
// exception chain (EF Core's DbUpdateException, AggregateException). Classified by SQLSTATE and the error's own fields.
internal sealed class ConflictProblemMapper(
    IOptions<ConflictProblemDetailsOptions> options,
    ConstraintCatalog catalog,
    ProblemWriter writer,
    IdempotentWritesHttpMetrics metrics,
    ILogger<ConflictProblemMapper> logger)
{
    private static readonly Dictionary<string, string> Titles = new(StringComparer.Ordinal)
    {
        [IdempotentWritesProblemCodes.UniqueViolation] = "A resource with these values already exists.",
        [IdempotentWritesProblemCodes.RetryableConflict] = "The request conflicted with a concurrent request; retry it.",
        [IdempotentWritesProblemCodes.ForeignKeyViolation] = "A referenced resource does not exist, or the resource is still referenced.",
        [IdempotentWritesProblemCodes.ExclusionViolation] = "The request conflicts with an existing resource.",
        [IdempotentWritesProblemCodes.NotNullViolation] = "A required value is missing.",
        [IdempotentWritesProblemCodes.CheckViolation] = "A value is not allowed.",
        [IdempotentWritesProblemCodes.CardinalityViolation] = "The request affects the same resource more than once.",
        [IdempotentWritesProblemCodes.DatabaseUnavailable] = "The database is unavailable; nothing was written. Retry later.",
    };

    public static ConflictProblem? Classify(Exception? exception, ConflictProblemDetailsOptions options)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Classify(inner, options) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            }

            var problem = current switch
            {
                UniqueViolationException e => CreateFrom(IdempotentWritesProblemCodes.UniqueViolation, e, e.Columns, e.Values),
                TransientConflictException e => Create(IdempotentWritesProblemCodes.RetryableConflict, e.SqlState, null, null, null, []),
                ForeignKeyViolationException e => CreateFrom(IdempotentWritesProblemCodes.ForeignKeyViolation, e, [], null),
                ExclusionViolationException e => CreateFrom(IdempotentWritesProblemCodes.ExclusionViolation, e, [], null),
                CheckViolationException e => CreateFrom(IdempotentWritesProblemCodes.CheckViolation, e, [], null),
                NotNullViolationException e => Create(
                    IdempotentWritesProblemCodes.NotNullViolation,
                    e.SqlState,
                    e.SchemaName,
                    e.TableName,
                    null,
                    e.ColumnName is null ? [] : [e.ColumnName]),
                CardinalityViolationException e => Create(IdempotentWritesProblemCodes.CardinalityViolation, e.SqlState, null, e.TableName, null, []),
                DatabaseUnavailableException e => Create(
                    IdempotentWritesProblemCodes.DatabaseUnavailable,
                    e.SqlState,
                    null,
                    null,
                    null,
                    []) with { StatusCode = StatusCodes.Status503ServiceUnavailable },
                PostgresException e => FromPostgres(e),
                _ => null,
            };
            if (problem is not null)
            {
                return problem with { StatusCode = options.StatusCodes.TryGetValue(problem.Code, out var status) ? status : problem.StatusCode };
            }
        }

        return null;

        static ConflictProblem Create(
            string code,
            string? sqlState,
            string? schema,
            string? table,
            string? constraint,
            IReadOnlyList<string> fields,
            IReadOnlyDictionary<string, object?>? values = null)
            => new(code, StatusCodes.Status409Conflict, schema, table, constraint, fields, values, sqlState ?? code);

        static ConflictProblem CreateFrom(
            string code,
            ConstraintViolationException e,
            IReadOnlyList<string> fields,
            IReadOnlyDictionary<string, object?>? values)
            => Create(code, e.SqlState, e.SchemaName, e.TableName, e.ConstraintName, fields, values);

        // What the code means comes from the SDK's one SQLSTATE table (SqlStates, linked from the core), the fields from the error.
        static ConflictProblem? FromPostgres(PostgresException e) => SqlStates.Classify(e.SqlState) switch
        {
            SqlStateKind.UniqueViolation => Create(
                IdempotentWritesProblemCodes.UniqueViolation,
                e.SqlState,
                e.SchemaName,
                e.TableName,
                e.ConstraintName,
                []),
            SqlStateKind.TransientConflict => Create(IdempotentWritesProblemCodes.RetryableConflict, e.SqlState, null, null, null, []),
            SqlStateKind.ForeignKeyViolation => Create(
                IdempotentWritesProblemCodes.ForeignKeyViolation,
                e.SqlState,
                e.SchemaName,
                e.TableName,
                e.ConstraintName,
                []),
            SqlStateKind.ExclusionViolation => Create(
                IdempotentWritesProblemCodes.ExclusionViolation,
                e.SqlState,
                e.SchemaName,
                e.TableName,
                e.ConstraintName,
                []),
            SqlStateKind.CheckViolation => Create(
                IdempotentWritesProblemCodes.CheckViolation,
                e.SqlState,
                e.SchemaName,
                e.TableName,
                e.ConstraintName,
                []),
            SqlStateKind.NotNullViolation => Create(
                IdempotentWritesProblemCodes.NotNullViolation,
                e.SqlState,
                e.SchemaName,
                e.TableName,
                null,
                e.ColumnName is null ? [] : [e.ColumnName]),
            SqlStateKind.CardinalityViolation => Create(IdempotentWritesProblemCodes.CardinalityViolation, e.SqlState, null, e.TableName, null, []),
            _ => null,
        };
    }

    // Classifies the error and, when it names a constraint but not its columns, reads them from the catalog.
    // connection: see ConstraintCatalog.GetColumnsAsync.
    public async ValueTask<ConflictProblem?> TryMapAsync(Exception exception, NpgsqlConnection? connection, CancellationToken cancellationToken)
    {
        var problem = Classify(exception, options.Value);
        if (problem is null)
        {
            return null;
        }

        if (problem.Fields.Count == 0 && problem.ConstraintName is not null
            && problem.Code is IdempotentWritesProblemCodes.UniqueViolation
                or IdempotentWritesProblemCodes.ForeignKeyViolation
                or IdempotentWritesProblemCodes.ExclusionViolation)
        {
            var fields = await catalog.GetColumnsAsync(
                problem.SchemaName,
                problem.TableName,
                problem.ConstraintName,
                connection,
                cancellationToken).ConfigureAwait(false);
            problem = problem with { Fields = fields };
        }

        return problem;
    }

    public async ValueTask WriteAsync(HttpContext context, ConflictProblem problem, Exception? exception)
    {
        var value = options.Value;
        var details = ProblemWriter.Create(
            context,
            problem.StatusCode,
            problem.Code,
            Titles[problem.Code],
            problem.ConstraintName is not null && value.ConstraintMessages.TryGetValue(problem.ConstraintName, out var message) ? message : null,
            value.ProblemTypeBaseUri);
        if (problem.ConstraintName is not null)
        {
            details.Extensions["constraint"] = problem.ConstraintName;
        }

        if (problem.TableName is not null)
        {
            details.Extensions["table"] = problem.TableName;
        }

        if (problem.Code == IdempotentWritesProblemCodes.DatabaseUnavailable)
        {
            // Transient by definition: say when to come back, as the idempotency store's 503 does.
            context.Response.Headers.RetryAfter = "1";
        }
        else if (problem.Code != IdempotentWritesProblemCodes.RetryableConflict)
        {
            details.Extensions["fields"] = problem.Fields;
        }

        if (value.IncludeValues && problem.Values is { Count: > 0 } values)
        {
            details.Extensions["values"] = values.ToDictionary(
                v => v.Key,
                v => Convert.ToString(v.Value, CultureInfo.InvariantCulture),
                StringComparer.Ordinal);
        }

        logger.ConflictMapped(problem.ErrorType, problem.ConstraintName, problem.StatusCode, problem.Code);
        metrics.Problem(problem.Code, problem.StatusCode);
        await writer.WriteAsync(context, details, exception).ConfigureAwait(false);
    }
}
