// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.CommandLine;
using System.Globalization;
using IdempotentWrites.Internal.Postgres;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// `iw idempotency migrate|purge`: the Idempotency-Key store table of IdempotentWrites.AspNetCore, for deployments that
// do not let the app create it at startup, and for purging expired keys from a job instead of the app's hosted service.
// IdempotencyStoreSchema is the core's, so the tool runs without the ASP.NET Core runtime.
internal static class IdempotencyCommands
{
    private const string DefaultTable = "idempotency_keys";

    public static Command Build(CliContext context, Option<string?> connection)
    {
        var idempotency = new Command("idempotency", "The Idempotency-Key store table of IdempotentWrites.AspNetCore.");
        idempotency.Subcommands.Add(Migrate(context, connection));
        idempotency.Subcommands.Add(Purge(context, connection));
        return idempotency;
    }

    private static Command Migrate(CliContext context, Option<string?> connection)
    {
        var (schema, table) = TableOptions();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the SQL; change nothing." };
        var command = new Command(
            "migrate",
            "Create the key store table and its index if they do not exist (idempotent, advisory-locked).") { schema, table, dryRun };
        command.SetAction((result, cancellationToken) =>
        {
            if (result.GetValue(dryRun))
            {
                context.Output.WriteLine(IdempotencyStoreSchema.GetCreateScript(result.GetValue(schema), result.GetValue(table)!));
                return Task.FromResult(ExitCodes.Ok);
            }

            return CliCommands.RunAsync(context, result.GetValue(connection), async dataSource =>
            {
                await IdempotencyStoreSchema.MigrateAsync(
                    dataSource,
                    result.GetValue(schema),
                    result.GetValue(table)!,
                    cancellationToken).ConfigureAwait(false);
                await context.Output.WriteLineAsync(
                    $"idempotency key store {Display(result.GetValue(schema), result.GetValue(table)!)} is ready").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command Purge(CliContext context, Option<string?> connection)
    {
        var (schema, table) = TableOptions();
        var batch = CliCommands.WholeNumberOption("--batch-size", "Rows deleted per statement.", 1000);
        var command = new Command("purge", "Delete expired keys in batches (times from the database clock).") { schema, table, batch };
        command.SetAction((result, cancellationToken) => CliCommands.RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            var size = result.GetValue(batch);
            if (size <= 0)
            {
                await context.Error.WriteLineAsync(
                    $"iw: error: --batch-size must be positive; it is {size.ToString(CultureInfo.InvariantCulture)}.").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            long purged;
            try
            {
                purged = await IdempotencyStoreSchema.PurgeExpiredAsync(
                    dataSource,
                    result.GetValue(schema),
                    result.GetValue(table)!,
                    size,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
            {
                var arguments = (result.GetValue(schema) is { } s ? " --schema " + Shell.Quote(s) : string.Empty)
                    + (result.GetValue(table) is { } t && t != DefaultTable ? " --table " + Shell.Quote(t) : string.Empty)
                    + CliConnection.Arguments(result.GetValue(connection));
                await context.Error.WriteLineAsync(
                    "iw: error: the idempotency key store " +
                    $"{Display(result.GetValue(schema), result.GetValue(table)!)} does not exist; create it first " +
                    $"with: iw idempotency migrate{arguments}").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            await context.Output.WriteLineAsync(
                $"purged {Shell.Count(purged, "expired key")} from " +
                $"{Display(result.GetValue(schema), result.GetValue(table)!)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static (Option<string?> Schema, Option<string> Table) TableOptions()
        => (new Option<string?>("--schema") { Description = "The store's schema (default: the search_path)." },
            new Option<string>("--table") { Description = "The store table.", DefaultValueFactory = _ => DefaultTable });

    private static string Display(string? schema, string table) => Sql.DisplayName(schema, table);
}
