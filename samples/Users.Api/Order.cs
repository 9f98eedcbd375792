// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace UsersApi;

public sealed class Order
{
    public long Id { get; set; }

    public string OrderNumber { get; set; } = string.Empty;

    public long UserId { get; set; }

    public long AmountCents { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
