// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// Describes what a write did to the database.
/// </summary>
public enum WriteOutcome
{
    /// <summary>
    /// The row did not exist and was inserted by this call.
    /// </summary>
    Inserted = 0,

    /// <summary>
    /// A row with the same conflict key already existed; it was returned as stored and left unchanged.
    /// </summary>
    Existing = 1,

    /// <summary>
    /// A row with the same conflict key existed and its updatable columns were changed by this call.
    /// </summary>
    Updated = 2,

    /// <summary>
    /// A row with the same conflict key existed and already held the values of this call, so nothing was written.
    /// </summary>
    Unchanged = 3,
}
