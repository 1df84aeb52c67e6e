import type {Scratch} from './scratch.js'
import {quoteIdent} from '../../postgres/identifiers.js'

// A schema as a set of named objects, each with the properties that matter to the code using it, read
// from PostgreSQL's catalog. Not pg_dump text: a column dropped and added again comes back last, so
// text would differ while the schema is the same. Objects are keyed by name, never by position or oid.

export type ObjectKind =
  | 'schema' | 'table' | 'column' | 'primary key' | 'unique constraint' | 'foreign key' | 'check constraint'
  | 'exclusion constraint' | 'index' | 'enum' | 'domain' | 'sequence' | 'view' | 'materialized view'
  | 'function' | 'procedure' | 'trigger' | 'extension'

export interface CatalogObject {
  kind: ObjectKind
  // As it reads in a message: `"User"."bio"`, `"Post_authorId_fkey" on "Post"`.
  name: string
  props: Record<string, string | string[]>
}

// Keyed by `${kind} ${name}`.
export type Snapshot = Record<string, CatalogObject>

// Schemas PostgreSQL owns, and the one where migrate:down keeps the history of reverted migrations.
const MANAGED = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'heroku_migrate_down') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"

// Objects that belong to an extension come and go with it: the extension is the object compared.
const notFromExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '${catalog}'::regclass AND x.objid = ${oid} AND x.deptype = 'e')`


// `"User"` in public, `"billing"."Invoice"` elsewhere: Prisma projects mostly live in public.
export const qualifiedName = (schema: string, name: string) => schema === 'public' ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`

const CONSTRAINT_KINDS: Record<string, ObjectKind> = {p: 'primary key', u: 'unique constraint', f: 'foreign key', c: 'check constraint', x: 'exclusion constraint'}

const RELATION_KINDS: Record<string, ObjectKind> = {r: 'table', p: 'table', f: 'table', v: 'view', m: 'materialized view'}

const QUERIES = {
  schemas: `SELECT n.nspname AS schema FROM pg_namespace n WHERE ${MANAGED} AND n.nspname <> 'public' AND ${notFromExtension('pg_namespace', 'n.oid')}`,
  relations: `
    SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
      CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
      CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND ${MANAGED} AND ${notFromExtension('pg_class', 'c.oid')}`,
  columns: `
    SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
      a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity AS identity, a.attgenerated AS generated,
      CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
    FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND ${MANAGED} AND ${notFromExtension('pg_class', 'c.oid')}`,
  // NOT NULL constraints (contype 'n', PostgreSQL 18) are the columns' nullability, compared there.
  constraints: `
    SELECT n.nspname AS schema, c.relname AS table, k.conname AS name, k.contype AS kind, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND ${MANAGED} AND ${notFromExtension('pg_class', 'c.oid')}`,
  indexes: `
    SELECT n.nspname AS schema, ci.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ci.relnamespace
    WHERE ${MANAGED} AND ${notFromExtension('pg_class', 'i.indrelid')}`,
  // json_agg, not array_agg: both drivers parse json the same way.
  enums: `
    SELECT n.nspname AS schema, t.typname AS name, json_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
    WHERE ${MANAGED} AND ${notFromExtension('pg_type', 't.oid')} GROUP BY n.nspname, t.typname`,
  domains: `
    SELECT n.nspname AS schema, t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS type, t.typnotnull AS not_null, t.typdefault AS default,
      (SELECT json_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') AS checks
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'd' AND ${MANAGED} AND ${notFromExtension('pg_type', 't.oid')}`,
  // Sequences behind identity columns are part of the column; those behind serial columns are named.
  sequences: `
    SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS increment,
      s.seqmin::text AS min, s.seqmax::text AS max, s.seqcycle AS cycle,
      (SELECT quote_ident(t.relname) || '.' || quote_ident(a.attname) FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' LIMIT 1) AS owned_by
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${MANAGED} AND ${notFromExtension('pg_class', 'c.oid')}
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')`,
  functions: `
    SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments, p.prokind AS kind,
      pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND ${MANAGED} AND ${notFromExtension('pg_proc', 'p.oid')}`,
  triggers: `
    SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND ${MANAGED}`,
  extensions: `
    SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'`,
}

const text = (value: unknown) => value === null || value === undefined ? '' : String(value)

const flag = (value: unknown) => value === true || value === 't' ? 'yes' : 'no'

export async function takeSnapshot(db: Scratch): Promise<Snapshot> {
  const snapshot: Snapshot = {}
  const add = (kind: ObjectKind, name: string, props: CatalogObject['props'] = {}) => {
    snapshot[`${kind} ${name}`] = {kind, name, props}
  }
  // One query at a time: a single connection, and PGlite runs one at a time anyway.
  for (const row of await db.query(QUERIES.schemas)) add('schema', quoteIdent(row.schema))
  for (const row of await db.query(QUERIES.relations)) {
    const props: CatalogObject['props'] = {}
    if (row.definition) props.definition = text(row.definition)
    if (row.partition_key) props['partition key'] = text(row.partition_key)
    if (row.kind === 'f') props.foreign = 'yes'
    add(RELATION_KINDS[row.kind], qualifiedName(row.schema, row.name), props)
  }
  for (const row of await db.query(QUERIES.columns)) {
    const props: CatalogObject['props'] = {type: text(row.type), nullable: row.not_null === true || row.not_null === 't' ? 'no' : 'yes', default: text(row.default)}
    if (row.identity) props.identity = row.identity === 'a' ? 'always' : 'by default'
    if (row.generated) props.generated = 'stored'
    if (row.collation) props.collation = text(row.collation)
    add('column', `${qualifiedName(row.schema, row.table)}.${quoteIdent(row.name)}`, props)
  }
  for (const row of await db.query(QUERIES.constraints)) {
    add(CONSTRAINT_KINDS[row.kind], `${quoteIdent(row.name)} on ${qualifiedName(row.schema, row.table)}`, {definition: text(row.definition)})
  }
  for (const row of await db.query(QUERIES.indexes)) add('index', qualifiedName(row.schema, row.name), {definition: text(row.definition)})
  for (const row of await db.query(QUERIES.enums)) {
    const labels = typeof row.labels === 'string' ? JSON.parse(row.labels) : row.labels
    add('enum', qualifiedName(row.schema, row.name), {values: labels as string[]})
  }
  for (const row of await db.query(QUERIES.domains)) {
    const checks = typeof row.checks === 'string' ? JSON.parse(row.checks) : row.checks
    add('domain', qualifiedName(row.schema, row.name), {type: text(row.type), nullable: flag(row.not_null) === 'yes' ? 'no' : 'yes', default: text(row.default), checks: (checks ?? []) as string[]})
  }
  for (const row of await db.query(QUERIES.sequences)) {
    add('sequence', qualifiedName(row.schema, row.name), {
      type: text(row.type), start: text(row.start), increment: text(row.increment), min: text(row.min), max: text(row.max), cycle: flag(row.cycle), 'owned by': text(row.owned_by),
    })
  }
  for (const row of await db.query(QUERIES.functions)) {
    add(row.kind === 'p' ? 'procedure' : 'function', `${qualifiedName(row.schema, row.name)}(${text(row.arguments)})`, {definition: text(row.definition)})
  }
  for (const row of await db.query(QUERIES.triggers)) {
    add('trigger', `${quoteIdent(row.name)} on ${qualifiedName(row.schema, row.table)}`, {definition: text(row.definition), enabled: text(row.enabled)})
  }
  for (const row of await db.query(QUERIES.extensions)) add('extension', quoteIdent(row.name), {schema: text(row.schema)})
  return snapshot
}

export const isEmptySnapshot = (snapshot: Snapshot) => Object.keys(snapshot).length === 0
