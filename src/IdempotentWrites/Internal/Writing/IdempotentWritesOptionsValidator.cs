// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.Internal.Writing;

[OptionsValidator]
internal sealed partial class IdempotentWritesOptionsValidator : IValidateOptions<IdempotentWritesOptions>
{
}
