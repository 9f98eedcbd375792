// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.CommandLine;
using System.Globalization;
using IdempotentWrites.Internal.Catalog;
using Npgsql;

namespace IdempotentWrites.Cli.Internal;

// The command tree. Each action connects, calls the library (SequenceDoctor does the work) and renders the result;
// every failure becomes one line on standard error and exit code 2.
internal static class CliCommands
{
    // The tool's name in help and usage. A RootCommand takes it from the entry assembly (IdempotentWrites.Cli when run as
    // an installed tool or with dotnet run), so the root is a plain command named iw with --help and --version added.
    public const string ToolName = "iw";

    // How a missing table's error says to name another schema (NameCatalog, TextTarget).
    public const string SchemaHint = "use --schema or schema.table for another schema";

    public static Command Build(CliContext context)
    {
        var connection = new Option<string?>("--connection")
        {
            Description = "Npgsql connection string (Host=…;Port=…;Username=…;Database=…) or libpq URI " +
                "(postgresql://user@host:port/dbname?sslmode=require). Default: the libpq variables PGHOST, " +
                "PGPORT, PGUSER, PGPASSWORD, PGDATABASE (and PGSSLMODE, PGCONNECT_TIMEOUT, PGAPPNAME, PGPASSFILE).",
            Recursive = true,
        };
        var root = new Command(
            ToolName,
            "IdempotentWrites tool for PostgreSQL: find and repair sequence drift, convert serial columns to " +
            "identity, diagnose duplicate-key errors.")
        {
            connection,
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };

        var sequences = new Command("sequences", "Sequences feeding serial, identity and DEFAULT nextval(...) columns.");
        sequences.Subcommands.Add(Check(context, connection));
        sequences.Subcommands.Add(Fix(context, connection));
        sequences.Subcommands.Add(ToIdentity(context, connection));
        root.Subcommands.Add(sequences);
        root.Subcommands.Add(Diagnose(context, connection));
        root.Subcommands.Add(IdempotencyCommands.Build(context, connection));
        root.Subcommands.Add(ImportCommand.Build(context, connection));
        return root;
    }

    private static Command Check(CliContext context, Option<string?> connection)
    {
        var schema = SchemaOption();
        var json = new Option<bool>("--json") { Description = "Write the findings as JSON." };
        var command = new Command(
            "check",
            "Compare every sequence with the data of all columns drawing from it. Exit code 0: no drift, 1: drift, 2: error.") { schema, json };
        command.SetAction((result, cancellationToken) => RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            var schemas = result.GetValue(schema) ?? [];
            await NameCatalog.EnsureSchemasAsync(dataSource, schemas, cancellationToken).ConfigureAwait(false);
            var doctor = new SequenceDoctor(dataSource, Options(schemas));
            var report = await WithProgressAsync(context, progress => doctor.CheckAsync(progress, cancellationToken)).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                SequenceOutput.WriteCheckJson(context.Output, report);
            }
            else
            {
                SequenceOutput.WriteCheck(context.Output, report, schemas, CliConnection.Arguments(result.GetValue(connection)));
            }

            return report.HasDrift ? ExitCodes.Drift : ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Fix(CliContext context, Option<string?> connection)
    {
        var schema = SchemaOption();
        var json = new Option<bool>("--json") { Description = "Write the repairs as JSON." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the exact SQL each repair would run; change nothing." };
        var command = new Command(
            "fix",
            "Move every drifted sequence forward to the next free value, each in its own transaction. Exit code 0: " +
            "nothing left behind, 1: drift remains (skipped or failed; with --dry-run: repairs pending), 2: error.")
        {
            dryRun, schema, json,
        };
        command.SetAction((result, cancellationToken) => RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            var schemas = result.GetValue(schema) ?? [];
            await NameCatalog.EnsureSchemasAsync(dataSource, schemas, cancellationToken).ConfigureAwait(false);
            var doctor = new SequenceDoctor(dataSource, Options(schemas));
            var report = await WithProgressAsync(
                context,
                progress => result.GetValue(dryRun)
                    ? doctor.PlanFixAsync(progress, cancellationToken)
                    : doctor.FixAsync(progress, cancellationToken)).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                SequenceOutput.WriteFixJson(context.Output, report);
            }
            else
            {
                SequenceOutput.WriteFix(context.Output, report, schemas);
            }

            return report.HasUnrepairedDrift || (report.IsDryRun && report.Repairs.Count > 0) ? ExitCodes.Drift : ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ToIdentity(CliContext context, Option<string?> connection)
    {
        var table = new Option<string>("--table") { Description = "The table: name or schema.name (case-sensitive).", Required = true };
        var schema = new Option<string?>("--schema") { Description = "The table's schema, for names that contain a dot (default: the search_path)." };
        var column = new Option<string?>("--column") { Description = "The serial column (default: the table's only serial column)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the SQL; change nothing." };
        var command = new Command(
            "to-identity",
            "Convert a serial column to GENERATED BY DEFAULT AS IDENTITY in one transaction, keeping its next value.")
        {
            table, schema, column, dryRun,
        };
        command.SetAction((result, cancellationToken) => RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            var (schemaName, tableName) = TableName.Parse(result.GetValue(table)!, result.GetValue(schema));
            await NameCatalog.EnsureTableAsync(dataSource, schemaName, tableName, SchemaHint, cancellationToken).ConfigureAwait(false);
            var doctor = new SequenceDoctor(dataSource);
            var conversion = result.GetValue(dryRun)
                ? await doctor.PlanIdentityConversionAsync(schemaName, tableName, result.GetValue(column), cancellationToken).ConfigureAwait(false)
                : await doctor.ConvertToIdentityAsync(schemaName, tableName, result.GetValue(column), cancellationToken).ConfigureAwait(false);
            SequenceOutput.WriteConversion(context.Output, conversion);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Diagnose(CliContext context, Option<string?> connection)
    {
        var text = new Argument<string>("error")
        {
            Description = "The duplicate-key error text as pasted from a log (any language), or the constraint name.",
        };
        var showValues = new Option<bool>("--show-values") { Description = "Print the conflicting key values (they may be personal data)." };
        var command = new Command(
            "diagnose",
            "Say which of the four causes of a duplicate-key error applies: sequence drift, natural-key duplicate, explicit-id conflict, or a race.")
        {
            text, showValues,
        };
        command.SetAction((result, cancellationToken) => RunAsync(context, result.GetValue(connection), async dataSource =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValue(text)))
            {
                await context.Error.WriteLineAsync(
                    "iw: error: the error text is empty; paste the duplicate-key error (in quotes) or give the " +
                    "constraint name.").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            var doctor = new SequenceDoctor(dataSource);
            var diagnosis = await doctor.DiagnoseAsync(result.GetValue(text)!, cancellationToken).ConfigureAwait(false);
            if (diagnosis is null)
            {
                await context.Error.WriteLineAsync(
                    "iw: error: no unique constraint or unique index named in the text exists in this database " +
                    "(names are case-sensitive).").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            SequenceOutput.WriteDiagnosis(
                context.Output,
                diagnosis,
                result.GetValue(showValues),
                CliConnection.Arguments(result.GetValue(connection)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    // An option whose value is a whole number; anything else is refused in the user's words, not as "System.Int32".
    internal static Option<int> WholeNumberOption(string name, string description, int fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return fallback;
            }

            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            result.AddError($"{name} takes a whole number; '{text}' is not one.");
            return fallback;
        },
    };

    private static Option<string[]> SchemaOption() => new("--schema")
    {
        Description = "Only sequences in this schema or feeding tables in it (repeatable). Data is still compared across all schemas.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static SequenceDoctorOptions Options(IEnumerable<string> schemas)
    {
        var options = new SequenceDoctorOptions();
        foreach (var schema in schemas)
        {
            options.Schemas.Add(schema);
        }

        return options;
    }

    private static async Task<T> WithProgressAsync<T>(CliContext context, Func<IProgress<SequenceCheckProgress>?, Task<T>> run)
    {
        var progress = context.ShowProgress ? new TerminalProgress(context.Error) : null;
        try
        {
            return await run(progress).ConfigureAwait(false);
        }
        finally
        {
            progress?.Clear();
        }
    }

    internal static async Task<int> RunAsync(CliContext context, string? connectionString, Func<NpgsqlDataSource, Task<int>> action)
    {
        NpgsqlConnectionStringBuilder? builder = null;
        try
        {
            builder = CliConnection.Build(connectionString, context.Environment);
            if (builder.WriteBufferSize == 8192)
            {
                // Npgsql's default: an import's COPY would take one system call per 8 KB of the file (measured: 64 KB
                // saves about 3% of an `iw import` of a million rows).
                builder.WriteBufferSize = 65536;
            }

            var dataSource = NpgsqlDataSource.Create(builder);
            await using (dataSource.ConfigureAwait(false))
            {
                return await action(dataSource).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: a repair in progress was rolled back with its transaction; those already committed stay.
            await context.Error.WriteLineAsync("iw: error: cancelled").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception ex)
        {
            await context.Error.WriteLineAsync($"iw: error: {CliErrors.Describe(ex, builder)}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }
}
