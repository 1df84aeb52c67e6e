import type {ClientBase} from 'pg'
import {pgliteScratch, type Scratch} from '../migrations/check/scratch.js'
import {runnableText} from '../migrations/check/staircase.js'
import {extensionsOf} from '../migrations/extensions.js'
import type {LocalMigration} from '../migrations/project.js'
import {parseStatements, type Statement} from '../migrations/statements.js'
import {quoteIdent} from '../postgres/identifiers.js'
import {type Catalog, type CatalogColumn, readCatalog} from './catalog.js'

// The schema a down leaves, as the schema gate's catalog: today's catalog with what the down changes.
// What it changes is seen on a throwaway PGlite built from the migrations folder: the applied migrations,
// the catalog, the down's statements, the catalog again. Only what differs between those two is carried
// over to today's catalog, so that what the migrations never made (drift, other tools' tables) stays.
// Nothing here touches the app's database.

export interface DownOnScratch {
  local: LocalMigration[]
  // Every applied migration, in Prisma's order.
  applied: string[]
  // The down's statements, in the order they run.
  down: Statement[]
  // The schema the app's migrations run in (`?schema=`).
  schema: string
  cacheDir?: string
}

// readCatalog asks a pg client; the scratch answers the same queries with rows.
const asClient = (db: Scratch) => ({query: async (sql: string, params?: unknown[]) => ({rows: await db.query(sql, params)})}) as unknown as ClientBase

async function run(db: Scratch, statements: Statement[]) {
  for (const statement of statements) {
    const text = runnableText(statement)
    if (text !== undefined) await db.query(text)
  }
}

export async function catalogsAroundDown(input: DownOnScratch, schemas: string[]): Promise<{before: Catalog, after: Catalog}> {
  const migrations = input.applied.map(name => {
    const found = input.local.find(m => m.name === name)
    if (!found) throw new Error(`${name} is applied but not in the local migrations folder`)
    return found
  })
  const db = await pgliteScratch(await extensionsOf(migrations), input.cacheDir)
  try {
    if (input.schema !== 'public') {
      await db.query(`CREATE SCHEMA ${quoteIdent(input.schema)}`)
      await db.query(`SET search_path TO ${quoteIdent(input.schema)}`)
    }
    for (const migration of migrations) await run(db, await parseStatements(migration.sql, migration.name))
    const before = await readCatalog(asClient(db), schemas)
    await run(db, input.down)
    return {before, after: await readCatalog(asClient(db), schemas)}
  } finally {
    await db.close()
  }
}

const sameColumn = (a: CatalogColumn, b: CatalogColumn) =>
  a.udt === b.udt && a.array === b.array && a.enum === b.enum && a.maxLength === b.maxLength && a.nullable === b.nullable && a.hasDefault === b.hasDefault

function changedColumns(live: CatalogColumn[], before: CatalogColumn[], after: CatalogColumn[]): CatalogColumn[] {
  const find = (columns: CatalogColumn[], name: string) => columns.find(c => c.column === name)
  const kept = live.flatMap(column => {
    const [was, is] = [find(before, column.column), find(after, column.column)]
    if (was && !is) return []
    return [was && is && !sameColumn(was, is) ? is : column]
  })
  return [...kept, ...after.filter(c => !find(before, c.column) && !find(live, c.column))]
}

// Pure: today's catalog, changed as the catalog changed from `before` to `after`.
export function withChanges(live: Catalog, before: Catalog, after: Catalog): Catalog {
  const tables = new Map(live.tables)
  for (const key of new Set([...before.tables.keys(), ...after.tables.keys()])) {
    const [was, is] = [before.tables.get(key), after.tables.get(key)]
    if (!is) tables.delete(key)
    else if (!was) tables.set(key, is)
    else if (tables.has(key)) tables.set(key, changedColumns(tables.get(key)!, was, is))
  }
  const enums = new Map(live.enums)
  for (const key of new Set([...before.enums.keys(), ...after.enums.keys()])) {
    const [was, is] = [before.enums.get(key), after.enums.get(key)]
    if (!is) enums.delete(key)
    else if (!was || was.join('\0') !== is.join('\0')) enums.set(key, is)
  }
  return {tables, enums}
}
