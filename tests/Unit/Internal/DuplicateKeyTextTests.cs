// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using IdempotentWrites.Internal;
using IdempotentWrites.Internal.Sequences;

namespace IdempotentWrites.UnitTests.Internal;

public class DuplicateKeyTextTests
{
    [Fact]
    public void Parse_EnglishServerLog_ConstraintAndKeyDetail()
    {
        var text = DuplicateKeyText.Parse("ERROR:  duplicate key value violates unique constraint \"users_pkey\"\nDETAIL:  Key (id)=(42) already exists.");

        Assert.Equal((null, "users_pkey"), text.Candidates[0]);
        Assert.Equal(("id", "42"), (text.KeyColumns, text.KeyValues));
    }

    [Fact]
    public void Parse_NpgsqlExceptionMessage()
    {
        var text = DuplicateKeyText.Parse("23505: duplicate key value violates unique constraint \"Users_Email_key\"\n\nDETAIL: Detail redacted as it may contain sensitive data. Specify 'Include Error Detail' in the connection string to include this information.");

        Assert.Equal((null, "Users_Email_key"), text.Candidates[0]);
        Assert.Null(text.KeyColumns);
    }

    [Fact]
    public void Parse_GermanGuillemets()
    {
        var text = DuplicateKeyText.Parse("FEHLER:  doppelter Schlüsselwert verletzt Unique-Constraint »kunden_pkey«\nDETAIL:  Schlüssel »(id)=(1)« existiert bereits.");

        Assert.Equal([(null, "kunden_pkey")], text.Candidates);
        Assert.Equal(("id", "1"), (text.KeyColumns, text.KeyValues));
    }

    [Fact]
    public void Parse_FrenchGuillemetsWithSpaces()
        => Assert.Equal((null, "clients_pkey"), DuplicateKeyText.Parse("ERREUR:  la valeur d'une clé dupliquée rompt la contrainte unique « clients_pkey »").Candidates[0]);

    [Theory]
    [InlineData("users_pkey", null, "users_pkey")]
    [InlineData("  users_pkey \n", null, "users_pkey")]
    [InlineData("billing.invoices_pkey", "billing", "invoices_pkey")]
    [InlineData("\"Billing\".\"Invoices.pkey\"", "Billing", "Invoices.pkey")]
    [InlineData("\"My \"\"Key\"\"\"", null, "My \"Key\"")]
    public void Parse_BareName(string input, string? schema, string name) => Assert.Equal((schema, name), DuplicateKeyText.Parse(input).Candidates[0]);

    [Fact]
    public void Parse_UnquotedSentence_WordsAsCandidates()
        => Assert.Contains((null, "orders_pkey"), DuplicateKeyText.Parse("violates unique constraint orders_pkey").Candidates);

    [Fact]
    public void Parse_ExpressionKeyAndValuesWithParentheses()
    {
        var text = DuplicateKeyText.Parse("DETAIL:  Key (lower(email))=(a(b)@example.com) already exists.");

        Assert.Equal(("lower(email)", "a(b)@example.com"), (text.KeyColumns, text.KeyValues));
    }

    [Fact]
    public void ValuesFor_SingleColumn_WholeValueEvenWithCommas()
        => Assert.Equal("Smith, Ann", DuplicateKeyText.Parse("Key (name)=(Smith, Ann) already exists.").ValuesFor(["name"])!["name"]);

    [Fact]
    public void ValuesFor_CompositeKey_SplitWhenUnambiguous()
    {
        var values = DuplicateKeyText.Parse("Key (tenant_id, number)=(7, INV-1) already exists.").ValuesFor(["tenant_id", "number"]);

        Assert.Equal([new KeyValuePair<string, string?>("tenant_id", "7"), new("number", "INV-1")], values!);
    }

    [Fact]
    public void ValuesFor_AmbiguousOrOtherColumns_Null()
    {
        Assert.Null(DuplicateKeyText.Parse("Key (a, b)=(x, y, z) already exists.").ValuesFor(["a", "b"]));
        Assert.Null(DuplicateKeyText.Parse("Key (email)=(x) already exists.").ValuesFor(["id"]));
        Assert.Null(DuplicateKeyText.Parse("users_pkey").ValuesFor(["id"]));
    }
}
