// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.AspNetCore.Internal;

internal sealed record EffectivePolicy(
    TimeSpan Lease,
    TimeSpan Retention,
    long MaxResponseBodySize,
    TimeSpan InProgressWaitTimeout,
    bool Transactional);
