// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites.ConcurrencyTests;

// The suite's tests run one class at a time: the races inside each test are the concurrency under test, and two
// heavy classes at once on a 2-core machine would only measure the scheduler.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection
{
    public const string Name = "Postgres";
}
