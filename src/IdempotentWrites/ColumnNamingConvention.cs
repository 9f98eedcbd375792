// Licensed under the MIT License. See LICENSE in the repository root.
// SPDX-License-Identifier: MIT

namespace IdempotentWrites;

/// <summary>
/// How a mapped property's column is named when <see cref="TableMappingBuilder{T}.HasColumnName{TProperty}"/> does not name it.
/// Set it for every table with <see cref="IdempotentWritesOptions.ColumnNaming"/>, or for one table with
/// <see cref="TableMappingBuilder{T}.ColumnNaming"/>.
/// <para/>
/// Either way the column name is taken literally and quoted, so it is case-sensitive.
/// </summary>
public enum ColumnNamingConvention
{
    /// <summary>
    /// The property name in snake_case, as Npgsql's <c>NpgsqlSnakeCaseNameTranslator</c> writes it (<c>CreatedAt</c> → <c>created_at</c>,
    /// <c>UserID</c> → <c>user_id</c>): the usual naming of a schema written for PostgreSQL.
    /// </summary>
    SnakeCase = 0,

    /// <summary>
    /// The property name verbatim (<c>CreatedAt</c> → <c>"CreatedAt"</c>): the naming of tables created by Entity Framework Core
    /// migrations with their default settings.
    /// </summary>
    AsIs = 1,
}
