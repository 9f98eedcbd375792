// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Mapping;

namespace IdempotentWrites.UnitTests.Internal;

public class NameConventionTests
{
    [Theory]
    [InlineData("Id", "id")]
    [InlineData("CreatedAt", "created_at")]
    [InlineData("UserID", "user_id")]
    [InlineData("TenantId", "tenant_id")]
    [InlineData("HTTPStatus", "http_status")]
    [InlineData("IPAddress", "ip_address")]
    [InlineData("already_snake", "already_snake")]
    public void ToSnakeCase_PropertyName_NpgsqlConvention(string name, string expected) => Assert.Equal(expected, NameConvention.ToSnakeCase(name));
}
