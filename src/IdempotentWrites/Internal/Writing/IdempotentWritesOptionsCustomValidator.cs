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

        try
        {
            _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            // Never echo the connection string itself: it may hold a password.
            return ValidateOptionsResult.Fail($"IdempotentWritesOptions.ConnectionString is not a valid Npgsql connection string: {ex.Message}");
        }

        return options.DataSourceServiceKey is null
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                "IdempotentWritesOptions.ConnectionString and IdempotentWritesOptions.DataSourceServiceKey are both set; set one of them.");
    }
}
