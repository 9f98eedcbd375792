// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Data;
using IdempotentWrites;
using Npgsql;
using Snippets.GettingStarted;

namespace Snippets.DuplicateKeyErrors;

// docs/duplicate-key-errors.md

public sealed class Customer
{
    public long Id { get; set; }

    public string Email { get; set; } = "";
}

public sealed class Order
{
    public long Id { get; set; }

    public long CustomerId { get; set; }

    public string Number { get; set; } = "";
}

public static partial class DuplicateKeyErrorExamples
{
    public static async Task<IResult> TellApartAsync(IIdempotentWriter writer, User user, ILogger logger, CancellationToken ct)
    {
        // <snippet:dk-tell-apart>
        try
        {
            return Results.Ok(await writer.InsertAsync(user, ct));
        }
        catch (UniqueViolationException e) when (e.IsGeneratedKey)
        {
            // Cause 1, sequence drift: the database generated a key that is already taken. Not the caller's fault:
            // repair the sequence (iw sequences fix) or let the writer heal it (HealSequences = true).
            LogSequenceDrift(logger, e.ConstraintName, e.TableName);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (UniqueViolationException e)
        {
            // Causes 2 and 3: a value the caller supplied (an email, an explicit id) is already taken.
            return Results.Conflict(new { constraint = e.ConstraintName, fields = e.Columns });
        }
        // </snippet:dk-tell-apart>
    }

    public static async Task RawNpgsqlAsync(NpgsqlDataSource dataSource, string email, string name, ILogger logger, CancellationToken ct)
    {
        // <snippet:dk-try-from>
        try
        {
            await using var command = dataSource.CreateCommand("INSERT INTO users (email, name) VALUES ($1, $2)");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (Exception ex) when (UniqueViolation.TryFrom(ex, out var violation))   // raw, wrapped (EF Core) or aggregated
        {
            // From the error's own fields: SchemaName, TableName, ConstraintName. Columns are empty here (no catalog read).
            LogDuplicate(logger, violation.ConstraintName, violation.TableName);
            throw;
        }
        // </snippet:dk-try-from>
    }

    public static async Task DiagnoseAsync(NpgsqlDataSource dataSource, UniqueViolationException violation, CancellationToken ct)
    {
        // <snippet:dk-diagnose>
        var doctor = new SequenceDoctor(dataSource);
        DuplicateKeyDiagnosis? diagnosis = await doctor.DiagnoseAsync(violation.ConstraintName ?? "", ct);   // or the pasted error text
        if (diagnosis is not null)
        {
            // Cause: SequenceDrift | NaturalKeyDuplicate | ExplicitIdConflict | Race; Explanation says what to do.
            Console.WriteLine($"{diagnosis.Cause}: {diagnosis.Explanation}");
        }
        // </snippet:dk-diagnose>
    }

    public static async Task<WriteResult<Order>> RaceInTransactionAsync(IIdempotentWriter writer, string email, string number, CancellationToken ct)
    {
        // <snippet:dk-transaction>
        // Both writes in one transaction, retried as a whole on deadlock, serialization failure or a lost connection.
        var order = await writer.ExecuteInTransactionAsync(async (tx, ct) =>
        {
            var customer = await writer.InsertOrGetAsync(new Customer { Email = email }, tx, ct);
            return await writer.UpsertAsync(new Order { CustomerId = customer.Row.Id, Number = number }, tx, ct);
        }, IsolationLevel.ReadCommitted, ct);
        // </snippet:dk-transaction>
        return order;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Sequence drift: generated key conflicts on {Constraint} in {Table}")]
    private static partial void LogSequenceDrift(ILogger logger, string? constraint, string? table);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Duplicate key on {Constraint} in {Table}")]
    private static partial void LogDuplicate(ILogger logger, string? constraint, string? table);
}
