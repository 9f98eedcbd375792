// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using Microsoft.Extensions.Options;

namespace IdempotentWrites.AspNetCore.Internal;

[OptionsValidator]
internal sealed partial class HttpIdempotencyOptionsValidator : IValidateOptions<HttpIdempotencyOptions>
{
}
