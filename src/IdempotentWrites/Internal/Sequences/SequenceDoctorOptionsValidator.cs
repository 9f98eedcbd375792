// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.Internal.Sequences;

[OptionsValidator]
internal sealed partial class SequenceDoctorOptionsValidator : IValidateOptions<SequenceDoctorOptions>
{
}
