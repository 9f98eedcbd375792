// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;
using System.Reflection;

namespace IdempotentWrites.Internal.Mapping;

// Reads property names out of selector lambdas (u => u.Email, u => new { u.A, u.B }) without compiling them.
internal static class MemberSelector
{
    public static IReadOnlyList<string> Select(LambdaExpression selector)
    {
        var body = StripConvert(selector.Body);
        switch (body)
        {
            case MemberExpression member when IsParameterProperty(member, selector):
                return [member.Member.Name];
            case NewExpression anonymous when anonymous.Arguments.Count > 0:
                return anonymous.Arguments.Select(a => StripConvert(a) is MemberExpression m && IsParameterProperty(m, selector)
                    ? m.Member.Name
                    : throw Invalid(selector)).ToList();
            default:
                throw Invalid(selector);
        }
    }

    private static bool IsParameterProperty(MemberExpression member, LambdaExpression selector)
        => member.Member is PropertyInfo && member.Expression == selector.Parameters[0];

    private static Expression StripConvert(Expression expression)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } unary)
        {
            expression = unary.Operand;
        }

        return expression;
    }

    private static ArgumentException Invalid(LambdaExpression selector)
        => new(
            $"'{selector}' must select a property of the row (x => x.Email) or several as an anonymous type (x => new {{ x.A, x.B }}).",
            nameof(selector));
}
