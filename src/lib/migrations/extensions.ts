import type {LocalMigration} from './project.js'
import {parseStatements} from './statements.js'

// The extensions the migrations create, so that PGlite loads the ones it has before the first migration.
export async function extensionsOf(migrations: LocalMigration[]): Promise<string[]> {
  const names: string[] = []
  for (const migration of migrations) {
    if (!/create\s+extension/i.test(migration.sql)) continue
    const statements = await parseStatements(migration.sql, migration.name).catch(() => [])
    for (const s of statements) if (s.kind === 'CreateExtensionStmt') names.push(s.node.extname)
  }
  return names
}
