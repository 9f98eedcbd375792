// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Mapping;

namespace IdempotentWrites.UnitTests.Internal;

public class MemberSelectorTests
{
    [Fact]
    public void Select_SingleProperty_ReturnsName() => Assert.Equal(["Email"], MemberSelector.Select(Selector(r => r.Email)));

    [Fact]
    public void Select_BoxedValueTypeProperty_ConvertIsStripped()
    {
        Expression<Func<Row, object?>> selector = r => r.Id;

        Assert.Equal(["Id"], MemberSelector.Select(selector));
    }

    [Fact]
    public void Select_AnonymousType_ReturnsNamesInOrder() => Assert.Equal(["Email", "Id"], MemberSelector.Select(Selector(r => new { r.Email, r.Id })));

    [Fact]
    public void Select_AnonymousTypeWithRenamedMember_ReturnsPropertyName() => Assert.Equal(["Email"], MemberSelector.Select(Selector(r => new { Key = r.Email })));

    [Fact]
    public void Select_PropertyOfProperty_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => r.Email.Length)));

        Assert.Equal("selector", ex.ParamName);
        Assert.Equal(
            "'r => r.Email.Length' must select a property of the row (x => x.Email) or several as an anonymous type (x => new { x.A, x.B }). (Parameter 'selector')",
            ex.Message);
    }

    [Fact]
    public void Select_MethodCall_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => r.Email.Trim())));

        Assert.Equal("selector", ex.ParamName);
    }

    [Fact]
    public void Select_MethodCallOnRow_ThrowsArgumentException() => Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => r.GetHashCode())));

    [Fact]
    public void Select_Field_ThrowsArgumentException() => Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => r.Field)));

    [Fact]
    public void Select_ParameterItself_ThrowsArgumentException() => Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => r)));

    [Fact]
    public void Select_PropertyOfAnotherObject_ThrowsArgumentException()
    {
        var other = new Row();

        Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => other.Email)));
    }

    [Fact]
    public void Select_AnonymousTypeWithComputedMember_ThrowsArgumentException() => Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => new { r.Id, r.Email.Length })));

    [Fact]
    public void Select_EmptyAnonymousType_ThrowsArgumentException() => Assert.Throws<ArgumentException>(() => MemberSelector.Select(Selector(r => new { })));

    private static Expression<Func<Row, TKey>> Selector<TKey>(Expression<Func<Row, TKey>> selector) => selector;

    private sealed class Row
    {
#pragma warning disable CA1051 // A public field, to prove fields are rejected.
        public string Field = string.Empty;
#pragma warning restore CA1051

        public long Id { get; set; }

        public string Email { get; set; } = string.Empty;
    }
}
