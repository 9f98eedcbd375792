// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.ComponentModel.DataAnnotations;
using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites;

/// <summary>
/// Options of the <see cref="SequenceDoctor"/>.
/// </summary>
public sealed class SequenceDoctorOptions
{
    /// <summary>
    /// Gets the schemas to check and repair. A sequence is included when it, or a table that draws from it, lives in one of them;
    /// its data is still compared across every table in every schema. Empty means every schema
    /// (except <c>pg_catalog</c>, <c>information_schema</c> and the <c>pg_toast</c> / temporary schemas).
    /// </summary>
    /// <value>The default value is an empty list (every schema).</value>
    public IList<string> Schemas { get; } = [];

    /// <summary>
    /// Gets or sets the part of a sequence's usable range (0 to 1) from which it is reported as nearly exhausted.
    /// </summary>
    /// <value>The default value is 0.9 (90% used).</value>
    [Range(0.01, 1.0)]
    public double NearExhaustionThreshold { get; set; } = SequenceDoctorConstants.DefaultNearExhaustionThreshold;

    /// <summary>
    /// Gets or sets how long a check or repair waits for a table lock (PostgreSQL's <c>lock_timeout</c>) before it skips that sequence.
    /// </summary>
    /// <value>The default value is 10 seconds. It must be positive and at most one hour.</value>
    public TimeSpan LockTimeout { get; set; } = SequenceDoctorConstants.DefaultLockTimeout;
}
