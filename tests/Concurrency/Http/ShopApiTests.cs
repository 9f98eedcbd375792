// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using ShopApi;

namespace IdempotentWrites.ConcurrencyTests.Http;

// samples/Shop.Api, the EF Core sample, end to end on Kestrel and PostgreSQL: its migrations run at startup, POST /customers
// goes through DbSet.InsertOrGetAsync, POST /customers/register through plain SaveChanges, a duplicate answered 409.
[Collection(PostgresCollection.Name)]
[Trait("Category", "Concurrency")]
public sealed class ShopApiTests(PostgresFixture db)
{
    [Fact]
    public async Task MigrationsAtStartup_InsertOrGetOnTheContext_201Then200_SaveChangesDuplicate409Problem()
    {
        var schema = await TestSchema.CreateAsync(db, "shop_api");
        await using var app = await RunningApp.StartAsync(ShopApp.Create([], builder =>
        {
            RunningApp.UseTestServer(builder);
            builder.Configuration["ConnectionStrings:Postgres"] = TestSchema.ConnectionString(db, schema);
        }));

        // The migration ran in this schema, and was recorded there.
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {schema}.\"__EFMigrationsHistory\""));

        var created = await Http.SendAsync(app.Client, Http.Post("/customers", new { email = "ada@example.com", name = "Ada" }));
        var again = await Http.SendAsync(app.Client, Http.Post("/customers", new { email = "ada@example.com", name = "Someone else" }));
        Assert.Equal(201, created.Status);
        var id = created.Json().GetProperty("id").GetInt64();
        Assert.Equal($"/customers/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(200, again.Status);
        Assert.Equal(id, again.Json().GetProperty("id").GetInt64());
        Assert.Equal("Ada", again.Json().GetProperty("name").GetString());

        var registered = await Http.SendAsync(app.Client, Http.Post("/customers/register", new { email = "grace@example.com", name = "Grace" }));
        var duplicate = await Http.SendAsync(app.Client, Http.Post("/customers/register", new { email = "grace@example.com", name = "Grace" }));
        Assert.Equal(201, registered.Status);
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("application/problem+json", duplicate.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("unique-violation", duplicate.Code);
        var problem = duplicate.Json();
        Assert.Equal("IX_customers_Email", problem.GetProperty("constraint").GetString());
        Assert.Equal("customers", problem.GetProperty("table").GetString());
        Assert.Equal("This email is already registered.", problem.GetProperty("detail").GetString());
        Assert.Equal(["Email"], problem.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToArray());
        Assert.DoesNotContain("grace@example.com", duplicate.Text, StringComparison.Ordinal);

        Assert.Equal(400, (await Http.SendAsync(app.Client, Http.Post("/customers", new { email = "" }))).Status);
        Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM {schema}.customers WHERE \"Email\" = 'grace@example.com'"));
    }
}
