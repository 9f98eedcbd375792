// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace IdempotentWrites.EntityFrameworkCore.Internal;

// At startup: every entity type of TContext's model that names its idempotent key is mapped (TableMappingException for one
// that cannot be, naming it and the reason) and its mapping checked against the database by the core writer's own startup
// validation (columns, types, the unique index ON CONFLICT needs; while the database is down, in the background, as the core
// does). Runs after the hosted services registered before it, migrations included.
internal sealed class EntityMappingValidation<TContext>(IServiceScopeFactory scopes) : IHostedService
    where TContext : DbContext
{
    private static readonly MethodInfo WriterFor = typeof(EntityMappingValidation<TContext>)
        .GetMethod(nameof(Entry), BindingFlags.NonPublic | BindingFlags.Static)!;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scope = scopes.CreateAsyncScope();
        await using var disposeScope = scope.ConfigureAwait(false);
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        foreach (var entityType in context.Model.GetEntityTypes().Where(EntityTableMapping.NamesKey))
        {
            EntityWriters.Entry entry;
            try
            {
                entry = (EntityWriters.Entry)WriterFor.MakeGenericMethod(entityType.ClrType).Invoke(null, [context])!;
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }

            foreach (var service in entry.Services.GetServices<IHostedService>())
            {
                await service.StartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static EntityWriters.Entry Entry<T>(DbContext context)
        where T : class
        => EntityWriters.For<T>(context, EntityWriters.MappingFor<T>(context).AllDefaulted);
}
