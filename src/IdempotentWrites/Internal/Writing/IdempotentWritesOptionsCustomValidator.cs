// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;
using Npgsql;

namespace IdempotentWrites.Internal.Writing;

internal sealed class IdempotentWritesOptionsCustomValidator : IValidateOptions<IdempotentWritesOptions>
{
    public ValidateOptionsResult Validate(string? name, IdempotentWritesOptions options)
    {
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromDays(1))
        {
            return ValidateOptionsResult.Fail($"IdempotentWritesOptions.Timeout must be positive and at most one day; it is {options.Timeout}.");
        }

        if (!Enum.IsDefined(options.ColumnNaming))
        {
            return ValidateOptionsResult.Fail(
                "IdempotentWritesOptions.ColumnNaming must be " +
                $"{string.Join(" or ", Enum.GetNames<ColumnNamingConvention>())}; it is {options.ColumnNaming}.");
        }

        if (options.Retry is null)
        {
            return ValidateOptionsResult.Fail("IdempotentWritesOptions.Retry is null; leave the default PostgresRetryStrategyOptions or set one.");
        }

        if (options.ConnectionString is null)
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail(
                "IdempotentWritesOptions.ConnectionString is empty; set a connection string or leave it null to " +
                "use the NpgsqlDataSource registered in DI.");
        }

        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            // Never echo the connection string itself: it may hold a password.
            return ValidateOptionsResult.Fail($"IdempotentWritesOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}");
        }

        // Several hosts: every statement the SDK sends must reach the primary. A write on a standby fails (25006), and worse,
        // a select-first read or a replayed key read there can answer from a stale copy: a row deleted on the primary, a
        // key not yet stored. Unset, the data source targets the primary (IdempotentWritesDataSource).
        if (parsed.Host?.Contains(',', StringComparison.Ordinal) == true
            && parsed.TargetSessionAttributes is { } target
            && !target.Equals("primary", StringComparison.OrdinalIgnoreCase)
            && !target.Equals("read-write", StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail(
                $"IdempotentWritesOptions.ConnectionString names several hosts with Target Session Attributes={target}; the writer and " +
                "the key store must only ever reach the primary (a standby can answer a read from a stale copy). Use primary " +
                "or read-write, or leave it unset (then primary); route your own replica reads through another data source.");
        }

        return options.DataSourceServiceKey is null
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                "IdempotentWritesOptions.ConnectionString and IdempotentWritesOptions.DataSourceServiceKey are both set; set one of them.");
    }
}
