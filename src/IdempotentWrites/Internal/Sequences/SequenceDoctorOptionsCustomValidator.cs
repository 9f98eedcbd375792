// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.Internal.Sequences;

internal sealed class SequenceDoctorOptionsCustomValidator : IValidateOptions<SequenceDoctorOptions>
{
    public ValidateOptionsResult Validate(string? name, SequenceDoctorOptions options)
    {
        if (options.LockTimeout <= TimeSpan.Zero || options.LockTimeout > SequenceDoctorConstants.MaxLockTimeout)
        {
            return ValidateOptionsResult.Fail(
                $"SequenceDoctorOptions.LockTimeout must be positive and at most one hour; it is {options.LockTimeout}.");
        }

        return options.Schemas.Any(string.IsNullOrWhiteSpace)
            ? ValidateOptionsResult.Fail(
                $"SequenceDoctorOptions.Schemas contains a blank name (schemas: {string.Join(", ", options.Schemas.Select(s => $"'{s}'"))}).")
            : ValidateOptionsResult.Success;
    }

    // SequenceDoctor is built directly (not through IOptions), so it runs both validators itself.
    public static void ThrowIfInvalid(SequenceDoctorOptions options, string parameterName)
    {
        var generated = new SequenceDoctorOptionsValidator().Validate(null, options);
        var custom = new SequenceDoctorOptionsCustomValidator().Validate(null, options);
        var failures = (generated.Failed ? generated.Failures : []).Concat(custom.Failed ? custom.Failures : []).ToList();
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), parameterName);
        }
    }
}
