// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Linq.Expressions;

namespace IdempotentWrites.EntityFrameworkCore.Internal;

// The property names a key selector picks: e => e.Email, or e => new { e.TenantId, e.Email }.
internal static class KeySelector
{
    public static string[] Names(LambdaExpression key, string parameterName)
    {
        var body = key.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : key.Body;
        return body switch
        {
            MemberExpression { Expression: ParameterExpression } member => [member.Member.Name],
            NewExpression { Arguments.Count: > 0 } anonymous
                when anonymous.Arguments.All(a => a is MemberExpression { Expression: ParameterExpression })
                => [.. anonymous.Arguments.Select(a => ((MemberExpression)a).Member.Name)],
            _ => throw new ArgumentException(
                $"'{key}' must select a property (e => e.Email) or several as an anonymous type (e => new {{ e.A, e.B }}).",
                parameterName),
        };
    }
}
